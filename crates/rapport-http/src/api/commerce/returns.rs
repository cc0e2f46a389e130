//! Returns and exchanges (RMA): `POST /api/v1/orders/{id}/returns` asks to send items
//! back; `POST /api/v1/returns/{id}/moves` moves it a step (approve, reject with a
//! reason, send instructions, receive, refund, exchange, cancel) — an impossible step is
//! a 409; `GET /api/v1/returns/{id}` and `GET /api/v1/customers/{id}/returns` read them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::commerce::returns::return_text;
use rapport_domain::commerce::{ReturnMove, format_minor};
use rapport_domain::{FieldError, Permission, Timestamp};
use rapport_store::commerce::returns::{self, By, Return};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Amount;
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// One item sent back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReturnLine)]
pub struct LineView {
    /// The SKU, as on the order.
    pub sku: String,
    /// How many.
    pub quantity: i64,
}

/// One step of a return.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ReturnStep)]
pub struct StepView {
    /// `request`, `approve`, `reject`, `send-instructions`, `receive`, `refund`,
    /// `exchange` or `cancel`.
    pub action: String,
    /// The state it led to.
    pub state: &'static str,
    /// The note given.
    pub note: Option<String>,
    /// The agent who made it.
    pub user_id: Option<i64>,
    /// The customer who made it.
    pub customer_id: Option<i64>,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// A return.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Return)]
pub struct ReturnView {
    /// Its id.
    pub id: i64,
    /// The order.
    pub order_id: i64,
    /// Whose.
    pub customer_id: i64,
    /// The ticket it was asked on.
    pub ticket_id: Option<i64>,
    /// `requested`, `approved`, `rejected`, `instructions-sent`, `received`, `refunded`,
    /// `exchanged` or `cancelled`.
    pub state: &'static str,
    /// The steps that can be taken now.
    pub next: Vec<&'static str>,
    /// Why it is sent back.
    pub reason: String,
    /// The order's currency.
    pub currency: String,
    /// What was paid back, once refunded.
    pub refund_amount: Option<String>,
    /// The items.
    pub lines: Vec<LineView>,
    /// Every step, oldest first.
    pub steps: Vec<StepView>,
    /// Asked when.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last step when.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Return> for ReturnView {
    fn from(r: Return) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            customer_id: r.customer_id,
            ticket_id: r.ticket_id,
            state: r.state.as_str(),
            next: r
                .state
                .moves()
                .into_iter()
                .map(ReturnMove::as_str)
                .collect(),
            reason: r.reason,
            refund_amount: r.refund_amount.map(|a| format_minor(a, &r.currency)),
            currency: r.currency,
            lines: r
                .lines
                .into_iter()
                .map(|(sku, quantity)| LineView { sku, quantity })
                .collect(),
            steps: r
                .steps
                .into_iter()
                .map(|s| StepView {
                    action: s.action,
                    state: s.state.as_str(),
                    note: s.note,
                    user_id: s.user_id,
                    customer_id: s.customer_id,
                    at: s.at,
                })
                .collect(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// `POST /api/v1/orders/{id}/returns`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestReturnRequest {
    /// The items to send back (SKU and quantity, within what was bought).
    pub lines: Vec<LineView>,
    /// Why.
    pub reason: String,
    /// The ticket it is asked on (of the order's customer).
    pub ticket_id: Option<i64>,
}

/// Asks to send items of an order back (on the customer's behalf).
#[utoipa::path(post, path = "/api/v1/orders/{id}/returns", tag = "orders",
    params(("id" = i64, Path, description = "Order id")),
    request_body = RequestReturnRequest,
    responses((status = 201, body = ReturnView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn request_return(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<RequestReturnRequest>,
) -> ApiResult<(StatusCode, Json<ReturnView>)> {
    require(&viewer, Permission::WorkTickets)?;
    let reason = return_text("reason", &req.reason)?;
    let lines: Vec<(String, i64)> = req
        .lines
        .iter()
        .map(|l| (l.sku.trim().to_owned(), l.quantity))
        .collect();
    let now = st.now();
    let by = By::Agent(viewer);
    let ticket = req.ticket_id;
    let r = st
        .db
        .write(op!(c => returns::request(c, &by, id, &lines, &reason, ticket, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// `POST /api/v1/returns/{id}/moves`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveReturnRequest {
    /// `approve`, `reject` (with a `note`), `send-instructions`, `receive`, `refund`,
    /// `exchange` or `cancel`.
    pub action: String,
    /// A note for the customer (the reason of a rejection, the instructions).
    pub note: Option<String>,
    /// For `refund`: what is paid back (default: the value of the items sent back).
    #[schema(value_type = Option<String>)]
    pub refund_amount: Option<Amount>,
}

/// Moves a return one step; a step the state machine does not allow is a 409.
#[utoipa::path(post, path = "/api/v1/returns/{id}/moves", tag = "orders",
    params(("id" = i64, Path, description = "Return id")),
    request_body = MoveReturnRequest,
    responses((status = 200, body = ReturnView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not a step this return can take now"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn move_return(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<MoveReturnRequest>,
) -> ApiResult<Json<ReturnView>> {
    require(&viewer, Permission::WorkTickets)?;
    let m = ReturnMove::parse(&req.action)?;
    let note = req
        .note
        .as_deref()
        .map(|n| return_text("note", n))
        .transpose()?;
    let now = st.now();
    let by = By::Agent(viewer);
    let amount_text = req.refund_amount.map(|a| a.0);
    let r = st
        .db
        .write(op!(c => {
            // The amount is read in the return's own currency.
            let amount = match amount_text.as_deref() {
                Some(t) => {
                    let r = returns::get(c, id, None).await?;
                    let cur = rapport_domain::commerce::Currency::parse("currency", &r.currency)?;
                    Some(cur.amount("refund_amount", t)?)
                }
                None => None,
            };
            if amount.is_some() && m != ReturnMove::Refund {
                return Err(FieldError::new("refund_amount", "only with a refund").into());
            }
            returns::advance(c, &by, id, m, note.as_deref(), amount, now).await
        }))
        .await?;
    Ok(Json(r.into()))
}

/// One return with every step.
#[utoipa::path(get, path = "/api/v1/returns/{id}", tag = "orders",
    params(("id" = i64, Path, description = "Return id")),
    responses((status = 200, body = ReturnView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_return(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ReturnView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let r = st
        .db
        .read(op!(c => returns::get(c, id, None).await))
        .await?;
    Ok(Json(r.into()))
}

/// A customer's returns, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/returns", tag = "orders",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = Vec<ReturnView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn customer_returns(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<ReturnView>>> {
    require(&viewer, Permission::ReadCustomers)?;
    let list = st
        .db
        .read(op!(c => {
            rapport_store::customers::get(c, id).await?;
            returns::for_customer(c, id).await
        }))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}
