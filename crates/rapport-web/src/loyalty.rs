//! Goodwill on the ticket page — the customer's points and vouchers, and forms to give a
//! voucher or points (at once within the agent's limit, else as a request) — and the
//! supervisors' approvals page, where each request is approved or declined in one click.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::commerce::format_minor as money_text;
use rapport_domain::commerce::{Currency, Money};
use rapport_domain::loyalty::{self, VoucherValue};
use rapport_domain::{FieldError, Permission};
use rapport_http::AppState;
use rapport_store::loyalty::approvals::{self, Approval};
use rapport_store::loyalty::gifts::{self, Gift};
use rapport_store::loyalty::vouchers::Voucher;
use rapport_store::{op, people};
use serde::Deserialize;

use crate::page::{MeView, page, require, store_error, write_then};
use crate::sessions::{CsrfForm, Me, NoFields};
use crate::tickets::to_ticket;

/// A voucher as the ticket page lists it: "RAP-…: 10.00 EUR, active" — the code whole
/// only for `viewer` who issued it or may approve goodwill.
pub(crate) fn voucher_line(
    v: &Voucher,
    now: rapport_domain::Timestamp,
    viewer: &rapport_domain::Viewer,
) -> String {
    let worth = match (v.percent, v.amount, v.currency.as_deref()) {
        (Some(p), _, _) => format!("{p}% off"),
        (None, Some(a), Some(c)) => format!("{} {c}", money_text(a, c)),
        _ => "?".to_owned(),
    };
    let state = if v.redeemed_at.is_some() {
        "redeemed"
    } else if v.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    };
    let code = if viewer.can(Permission::ApproveGoodwill) || v.issued_by == Some(viewer.user_id) {
        v.code.clone()
    } else {
        loyalty::voucher::masked(&v.code)
    };
    format!("{code}: {worth}, {state}")
}

/// The voucher form: an amount and currency, or a percent.
#[derive(Deserialize)]
pub struct VoucherForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    percent: String,
    #[serde(default)]
    reason: String,
}

fn voucher_value(f: &VoucherForm) -> Result<VoucherValue, FieldError> {
    match (f.amount.trim(), f.percent.trim()) {
        ("", "") => Err(FieldError::new("amount", "give an amount or a percentage")),
        (a, "") => {
            let cur = Currency::parse("currency", &f.currency)?;
            VoucherValue::amount(Money::new(cur.amount("amount", a)?, cur))
        }
        ("", p) => VoucherValue::percent(
            p.parse()
                .map_err(|_| FieldError::new("percent", "must be a whole number"))?,
        ),
        _ => Err(FieldError::new(
            "percent",
            "give an amount or a percentage, not both",
        )),
    }
}

fn reason(raw: &str) -> Result<String, FieldError> {
    loyalty::reason(
        "reason",
        if raw.trim().is_empty() {
            "Goodwill"
        } else {
            raw
        },
    )
}

/// Gives the ticket's customer a voucher and goes back to the ticket (its history says
/// whether it was given or waits for approval).
pub async fn give_voucher(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<VoucherForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let (value, reason) = match (voucher_value(&f), reason(&f.reason)) {
        (Ok(v), Ok(r)) => (v, r),
        (Err(e), _) | (_, Err(e)) => return store_error(e.into()),
    };
    give(&st, &me, id, move |customer_id| Gift::Voucher {
        customer_id,
        value,
        expires_at: None,
        reason,
        ticket_id: Some(id),
    })
    .await
}

/// The points form.
#[derive(Deserialize)]
pub struct PointsForm {
    points: String,
    #[serde(default)]
    reason: String,
}

/// Gives the ticket's customer reward points and goes back to the ticket.
pub async fn give_points(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PointsForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let n = f
        .points
        .trim()
        .parse::<i64>()
        .map_err(|_| FieldError::new("points", "must be a whole number"))
        .and_then(|n| loyalty::points("points", n));
    let (points, reason) = match (n, reason(&f.reason)) {
        (Ok(n), Ok(r)) => (n, r),
        (Err(e), _) | (_, Err(e)) => return store_error(e.into()),
    };
    give(&st, &me, id, move |customer_id| Gift::Points {
        customer_id,
        points,
        reason,
        ticket_id: Some(id),
    })
    .await
}

async fn give(
    st: &AppState,
    me: &Me,
    ticket_id: i64,
    gift: impl FnOnce(i64) -> Gift + Send + 'static,
) -> Response {
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        st,
        op!(c => {
            let t = rapport_store::tickets::get(c, &rapport_domain::Principal::Agent(viewer.clone()), ticket_id).await?;
            gifts::give(c, &viewer, &gift(t.customer.id), now).await.map(|_| ())
        }),
        |()| to_ticket(ticket_id),
    )
    .await
}

/// One request on the approvals page.
struct RequestRow {
    id: i64,
    what: String,
    customer_id: i64,
    ticket_id: Option<i64>,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    me: MeView,
    rows: Vec<RequestRow>,
}

fn describe(a: &Approval) -> String {
    let r = &a.request;
    let why = r["reason"].as_str().unwrap_or("");
    match a.kind.as_str() {
        "voucher" => match (
            r["percent"].as_i64(),
            r["amount_minor"].as_i64(),
            r["currency"].as_str(),
        ) {
            (Some(p), _, _) => format!("A voucher for {p}% off — {why}"),
            (None, Some(m), Some(c)) => format!("A voucher worth {} {c} — {why}", money_text(m, c)),
            _ => format!("A voucher — {why}"),
        },
        "points" => format!("{} reward points — {why}", r["points"]),
        "refund" => match (r["amount_minor"].as_i64(), r["currency"].as_str()) {
            (Some(m), Some(c)) => format!(
                "A refund of {} {c} on order {} — {why}",
                money_text(m, c),
                r["order_id"]
            ),
            _ => format!("A refund — {why}"),
        },
        k => format!("{k} — {why}"),
    }
}

/// The pending gift requests, oldest first, each with Approve and Decline.
pub async fn approvals_page(State(st): State<AppState>, me: Me) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ApproveGoodwill) {
        return r;
    }
    let user_id = me.session.viewer.user_id;
    let loaded = st
        .db
        .read(op!(c => Ok((
            approvals::list(c, Some(approvals::PENDING)).await?,
            people::list_users(c).await?,
            people::time_zone(c, user_id).await?,
        ))))
        .await;
    let (list, users, zone) = match loaded {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let name = |id: i64| {
        users
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("agent {id}"), |u| u.name.clone())
    };
    page(&ApprovalsPage {
        me: MeView::of(&me, ""),
        rows: list
            .iter()
            .map(|a| RequestRow {
                id: a.id,
                what: describe(a),
                customer_id: a.customer_id,
                ticket_id: a.ticket_id,
                by: name(a.requested_by),
                at: zone.local(a.created_at),
            })
            .collect(),
    })
}

async fn decide(st: &AppState, me: &Me, id: i64, approve: bool) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ApproveGoodwill) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        st,
        op!(c => approvals::decide(c, &viewer, id, approve, None, now).await.map(|_| ())),
        |()| Redirect::to("/approvals").into_response(),
    )
    .await
}

/// Approves a request in one click.
pub async fn approve(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    decide(&st, &me, id, true).await
}

/// Declines a request in one click.
pub async fn decline(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    decide(&st, &me, id, false).await
}
