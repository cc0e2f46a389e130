//! Promises on the ticket page: what the agent promised the customer and by when, with a
//! "Done" button; a form to record one (the due time in the agent's own time zone).

use axum::extract::{Path, State};
use axum::response::Response;
use rapport_domain::Permission;
use rapport_domain::promise::PromiseText;
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::{people, promises};
use serde::Deserialize;

use crate::page::{require, store_error, write_then};
use crate::sessions::{CsrfForm, Me, NoFields};
use crate::tickets::to_ticket;

/// A promise as the ticket page lists it.
pub struct PromiseRow {
    pub(crate) id: i64,
    pub(crate) text: String,
    pub(crate) due: String,
    pub(crate) state: &'static str,
    pub(crate) open: bool,
}

impl PromiseRow {
    pub(crate) fn of(p: &promises::Promise, zone: &rapport_domain::Zone) -> Self {
        Self {
            id: p.id,
            text: p.text.clone(),
            due: zone.local(p.due_at),
            state: p.state.as_str(),
            open: p.done_at.is_none() && p.state == rapport_domain::promise::PromiseState::Open,
        }
    }
}

/// The promise form.
#[derive(Deserialize)]
pub struct PromiseForm {
    text: String,
    due: String,
}

/// Records a promise on the ticket.
pub async fn make(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PromiseForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let text = match PromiseText::parse(&f.text) {
        Ok(t) => t,
        Err(e) => return store_error(e.into()),
    };
    let viewer = me.session.viewer.clone();
    let now = st.now();
    let due = f.due;
    write_then(
        &st,
        op!(c => {
            let zone = people::time_zone(c, viewer.user_id).await?;
            let due_at = zone.parse_local(&due).ok_or_else(|| {
                rapport_domain::FieldError::new("due", "give a date and time such as 2026-11-28 15:00")
            })?;
            promises::make(c, &viewer, id, &text, due_at, now).await.map(|_| ())
        }),
        |()| to_ticket(id),
    )
    .await
}

/// Marks a promise done and goes back to its ticket.
pub async fn done(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        op!(c => promises::done(c, &viewer, id, now).await),
        |p| to_ticket(p.ticket_id),
    )
    .await
}
