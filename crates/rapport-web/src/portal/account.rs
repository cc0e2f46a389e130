//! "My orders and rewards" in the portal: a signed-in customer's orders with where each
//! parcel is, their returns with every step and its time, their reward points and their
//! vouchers (whole codes: they are theirs to use) — and a form to send items back.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::commerce::format_minor as money_text;
use rapport_domain::commerce::returns::ReturnState;
use rapport_http::AppState;
use rapport_http::client::ClientIp;
use rapport_store::commerce::orders::{self, Order};
use rapport_store::commerce::returns::{self, By, Return};
use rapport_store::loyalty::{points, vouchers};
use rapport_store::{StoreError, customers, op};

use super::refuse_post;
use super::signin::portal_customer;
use super::{csrf_token, with_csrf};
use crate::page::{error_page, page, store_error};

/// An order as the customer sees it.
pub struct OrderLine {
    id: i64,
    external_id: String,
    placed: String,
    status: &'static str,
    total: String,
    /// (sku, "2 × Mug", quantity bought).
    items: Vec<(String, String, i64)>,
    shipments: Vec<String>,
    /// Whether items can be sent back (delivered, and not every item already is).
    returnable: bool,
}

/// A return as the customer sees it.
pub struct ReturnLine {
    order: String,
    state: &'static str,
    items: String,
    /// (when, what happened, note).
    steps: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "portal_account.html")]
struct AccountPage {
    email: String,
    orders: Vec<OrderLine>,
    returns: Vec<ReturnLine>,
    points: i64,
    /// (when, "+50", why).
    ledger: Vec<(String, String, String)>,
    /// (code, worth, state, expiry).
    vouchers: Vec<(String, String, &'static str, String)>,
    csrf: String,
}

fn utc(t: rapport_domain::Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

fn state_words(s: ReturnState) -> &'static str {
    s.for_customer()
}

fn order_line(o: &Order, returned: &[(String, i64)]) -> OrderLine {
    let left = o.lines.iter().any(|l| {
        let back: i64 = returned
            .iter()
            .filter(|(s, _)| *s == l.sku)
            .map(|(_, q)| q)
            .sum();
        back < l.quantity
    });
    OrderLine {
        id: o.id,
        external_id: o.external_id.clone(),
        placed: utc(o.placed_at),
        status: o.status.as_str(),
        total: format!("{} {}", money_text(o.total, &o.currency), o.currency),
        items: o
            .lines
            .iter()
            .map(|l| {
                (
                    l.sku.clone(),
                    format!("{} × {}", l.quantity, l.name),
                    l.quantity,
                )
            })
            .collect(),
        shipments: o
            .shipments
            .iter()
            .map(|s| {
                format!(
                    "{} {}: {}{}",
                    s.carrier,
                    s.tracking_number,
                    s.status.as_str(),
                    s.expected_at
                        .map(|e| format!(", expected {}", utc(e)))
                        .unwrap_or_default()
                )
            })
            .collect(),
        returnable: o.status.as_str() == "delivered" && left,
    }
}

fn return_line(r: &Return, orders: &[Order]) -> ReturnLine {
    ReturnLine {
        order: orders
            .iter()
            .find(|o| o.id == r.order_id)
            .map_or_else(|| r.order_id.to_string(), |o| o.external_id.clone()),
        state: state_words(r.state),
        items: r
            .lines
            .iter()
            .map(|(sku, q)| format!("{q} × {sku}"))
            .collect::<Vec<_>>()
            .join(", "),
        steps: r
            .steps
            .iter()
            .map(|s| {
                (
                    utc(s.at),
                    state_words(s.state).to_owned(),
                    s.note.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// The page.
pub async fn account(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let Some(customer) = portal_customer(&st, &headers).await else {
        return Redirect::to("/portal/signin").into_response();
    };
    let now = st.now();
    let loaded = st
        .db
        .read(op!(c => {
            let email = customers::get(c, customer).await?.email;
            let list = orders::for_customer(c, customer, 50).await?;
            let rets = returns::for_customer(c, customer).await?;
            let balance = points::balance(c, customer).await?;
            let ledger = points::ledger(c, customer, 20).await?;
            let vs = vouchers::for_customer(c, customer).await?;
            Ok((email, list, rets, balance, ledger, vs))
        }))
        .await;
    let (email, list, rets, balance, ledger, vs) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let returned = |order: i64| -> Vec<(String, i64)> {
        rets.iter()
            .filter(|r| {
                r.order_id == order
                    && !matches!(r.state, ReturnState::Rejected | ReturnState::Cancelled)
            })
            .flat_map(|r| r.lines.clone())
            .collect()
    };
    let csrf = csrf_token(&st, &headers);
    let r = page(&AccountPage {
        email,
        orders: list
            .iter()
            .map(|o| order_line(o, &returned(o.id)))
            .collect(),
        returns: rets.iter().map(|r| return_line(r, &list)).collect(),
        points: balance,
        ledger: ledger
            .iter()
            .map(|e| {
                (
                    utc(e.created_at),
                    format!("{:+}", e.delta),
                    e.reason.clone(),
                )
            })
            .collect(),
        vouchers: vs
            .iter()
            .map(|v| {
                let worth = match (v.percent, v.amount, v.currency.as_deref()) {
                    (Some(p), _, _) => format!("{p}% off"),
                    (None, Some(a), Some(c)) => format!("{} {c}", money_text(a, c)),
                    _ => String::new(),
                };
                let state = if v.redeemed_at.is_some() {
                    "used"
                } else if v.expires_at.is_some_and(|e| e <= now) {
                    "expired"
                } else {
                    "ready to use"
                };
                let until = v
                    .expires_at
                    .map(|e| format!("until {}", utc(e)))
                    .unwrap_or_default();
                (v.code.clone(), worth, state, until)
            })
            .collect(),
        csrf: csrf.clone(),
    });
    with_csrf(&st, r, &csrf)
}

/// Sends items of an order back: `csrf`, `reason`, and `qty:<sku>` for each item (0 or
/// blank leaves it).
pub async fn request_return(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(order_id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    if let Some(r) = refuse_post(&st, &headers, field("csrf"), ip) {
        return r;
    }
    let Some(customer) = portal_customer(&st, &headers).await else {
        return Redirect::to("/portal/signin").into_response();
    };
    let mut lines = Vec::new();
    for (k, v) in &fields {
        let Some(sku) = k.strip_prefix("qty:") else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() || v == "0" {
            continue;
        }
        match v.parse::<i64>() {
            Ok(q) if q > 0 => lines.push((sku.to_owned(), q)),
            _ => {
                return error_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Return not sent",
                    "Give how many of each item you send back as a whole number.",
                );
            }
        }
    }
    // Every post counts toward the address's allowance.
    st.portal_posts.fail(ip);
    let reason = match rapport_domain::commerce::returns::return_text("reason", field("reason")) {
        Ok(r) => r,
        Err(e) => {
            return error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Return not sent",
                &format!("{}: {}", e.field, e.message),
            );
        }
    };
    let now = st.now();
    let by = By::Customer(customer);
    match st
        .db
        .write(op!(c => returns::request(c, &by, order_id, &lines, &reason, None, now).await))
        .await
    {
        Ok(_) => Redirect::to("/portal/account#returns").into_response(),
        Err(StoreError::Invalid(e)) => error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Return not sent",
            &format!("{}: {}", e.field, e.message),
        ),
        Err(StoreError::Conflict(m)) => error_page(StatusCode::CONFLICT, "Return not sent", &m),
        Err(e) => store_error(e),
    }
}
