//! A customer's profile with every conversation.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::{Permission, Zone};
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::{automations, customers, people};
use serde::Deserialize;

use crate::page::{MeView, page, require, store_error, write_then};
use crate::render::when;
use crate::sessions::{CsrfForm, Me};
use crate::tickets::HistoryRow;

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    me: MeView,
    name: String,
    email: String,
    phone: Option<String>,
    since: String,
    history: Vec<HistoryRow>,
    id: i64,
    check_ins: bool,
    can_change: bool,
    mood: Option<crate::sentiment::MoodSection>,
    card: crate::crm::Card,
}

/// A customer's profile with every conversation.
pub async fn customer(State(st): State<AppState>, me: Me, Path(id): Path<i64>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ReadCustomers) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let who = rapport_domain::Principal::Agent(viewer.clone());
    let now = st.now();
    let (c, zone, card): (_, Zone, _) = match st
        .db
        .read(op!(c => {
            let zone = people::time_zone(c, viewer.user_id).await?;
            Ok((
                (
                    customers::get_with_tickets(c, &viewer, id).await?,
                    automations::check_ins(c, id).await?,
                    rapport_store::sentiment::of_customer(c, &who, id).await?,
                ),
                zone.clone(),
                crate::crm::load(c, &viewer, id, None, now, &zone).await?,
            ))
        }))
        .await
    {
        Ok(r) => r,
        Err(e) => return store_error(e),
    };
    let (c, check_ins, moods) = c;
    page(&CustomerPage {
        me: MeView::of(&me, ""),
        name: if c.customer.name.is_empty() {
            c.customer.email.clone()
        } else {
            c.customer.name.clone()
        },
        email: c.customer.email.clone(),
        phone: c.customer.phone.clone(),
        since: when(c.customer.created_at, &zone).0,
        history: c.tickets.iter().map(|t| HistoryRow::of(t, &zone)).collect(),
        id,
        check_ins,
        can_change: me.session.viewer.can(Permission::WorkTickets),
        mood: crate::sentiment::section(&moods, &zone),
        card,
    })
}

/// The check-in form: on or off.
#[derive(Deserialize)]
pub struct CheckInsForm {
    check_ins: String,
}

/// Turns a customer's check-in messages off (on their request) or on again.
pub async fn set_check_ins(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<CheckInsForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let on = f.check_ins == "on";
    write_then(
        &st,
        op!(c => automations::set_check_ins(c, id, on).await),
        |()| Redirect::to(&format!("/customers/{id}")).into_response(),
    )
    .await
}
