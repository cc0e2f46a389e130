//! Billing: invoices and payments the shop pushes (`POST /api/v1/invoices`,
//! `POST /api/v1/payments`: 201 the first time, 200 after), a customer's billing
//! (`GET /api/v1/customers/{id}/billing`), and refunds — recorded by an agent within
//! their goodwill limit (201) or as an approval request above it (202)
//! (`POST /api/v1/refunds`), listed for the shop (`GET /api/v1/refunds`) and marked paid
//! back once (`POST /api/v1/refunds/{id}/done`: 200, then 409). Rapport moves no money.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use rapport_domain::commerce::billing::{NewRecord, RawRecord, RefundState};
use rapport_domain::commerce::order::shipment_text;
use rapport_domain::{FieldError, Permission, Timestamp, loyalty};
use rapport_store::commerce::billing::{self, Kind, Record, Refund};
use rapport_store::events::Actor;
use rapport_store::loyalty::gifts::{self, Gift};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Amount, OrderCustomer, money_text};
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody, OptionalJsonBody};
use crate::state::AppState;

/// `POST /api/v1/invoices`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushInvoice {
    /// The shop's id for it: pushing it again updates it.
    pub external_id: String,
    /// Whose (found by address, or created).
    pub customer: OrderCustomer,
    /// Its number as printed.
    pub number: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Decimal text (`"49.90"`) or a number.
    #[schema(value_type = String, example = "49.90")]
    pub amount: Amount,
    /// `open` (default), `paid` or `void`.
    pub status: Option<String>,
    /// The order it bills (the shop's order id).
    pub order_external_id: Option<String>,
    /// When it was issued (default: now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub issued_at: Option<Timestamp>,
    /// When it is due.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
}

/// `POST /api/v1/payments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushPayment {
    /// The shop's id for it: pushing it again updates it.
    pub external_id: String,
    /// Whose (found by address, or created).
    pub customer: OrderCustomer,
    /// How it was paid (`card`, `paypal`, …).
    pub method: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Decimal text or a number.
    #[schema(value_type = String, example = "49.90")]
    pub amount: Amount,
    /// The order it pays (the shop's order id).
    pub order_external_id: Option<String>,
    /// The invoice it pays (the shop's invoice id).
    pub invoice_external_id: Option<String>,
    /// When it was paid (default: now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub paid_at: Option<Timestamp>,
}

/// An invoice or a payment.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BillingRecord)]
pub struct RecordView {
    /// Its id here.
    pub id: i64,
    /// The shop's id.
    pub external_id: String,
    /// Whose.
    pub customer_id: i64,
    /// The order it is for.
    pub order_id: Option<i64>,
    /// A payment's invoice.
    pub invoice_id: Option<i64>,
    /// An invoice's number; a payment's method.
    pub label: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Decimal text.
    pub amount: String,
    /// An invoice's status (`paid` for a payment).
    pub status: String,
    /// Issued or paid when.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// An invoice's due date.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
}

impl From<Record> for RecordView {
    fn from(r: Record) -> Self {
        Self {
            amount: money_text(r.amount, &r.currency),
            id: r.id,
            external_id: r.external_id,
            customer_id: r.customer_id,
            order_id: r.order_id,
            invoice_id: r.invoice_id,
            label: r.label,
            currency: r.currency,
            status: r.status,
            at: r.at,
            due_at: r.due_at,
        }
    }
}

/// A refund: a record for the shop to pay back.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Refund)]
pub struct RefundView {
    /// Its id.
    pub id: i64,
    /// Whose.
    pub customer_id: i64,
    /// The order paid back.
    pub order_id: i64,
    /// ISO 4217 code (the order's).
    pub currency: String,
    /// Decimal text.
    pub amount: String,
    /// Why.
    pub reason: String,
    /// The ticket it was given on.
    pub ticket_id: Option<i64>,
    /// Who gave it.
    pub issued_by: Option<i64>,
    /// The approval it waited for.
    pub approval_id: Option<i64>,
    /// `open` until the shop marks it `done`.
    pub state: &'static str,
    /// The shop's reference for the payment back.
    pub reference: Option<String>,
    /// When the shop marked it done.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<Timestamp>,
    /// When it was recorded.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Refund> for RefundView {
    fn from(r: Refund) -> Self {
        Self {
            amount: money_text(r.amount, &r.currency),
            id: r.id,
            customer_id: r.customer_id,
            order_id: r.order_id,
            currency: r.currency,
            reason: r.reason,
            ticket_id: r.ticket_id,
            issued_by: r.issued_by,
            approval_id: r.approval_id,
            state: r.state.as_str(),
            reference: r.reference,
            done_at: r.done_at,
            created_at: r.created_at,
        }
    }
}

fn pushed(r: Record, created: bool) -> (StatusCode, Json<RecordView>) {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(r.into()))
}

/// The shop pushes an invoice: 201 the first time its `external_id` is seen, 200 with
/// it updated after.
#[utoipa::path(post, path = "/api/v1/invoices", tag = "commerce",
    request_body = PushInvoice,
    responses((status = 201, body = RecordView), (status = 200, body = RecordView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn push_invoice(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<PushInvoice>,
) -> ApiResult<(StatusCode, Json<RecordView>)> {
    require(&viewer, Permission::ManageOrders)?;
    let now = st.now();
    let rec = NewRecord::parse(
        &RawRecord {
            external_id: &req.external_id,
            email: &req.customer.email,
            name: req.customer.name.as_deref(),
            currency: &req.currency,
            amount: &req.amount.0,
            order_external_id: req.order_external_id.as_deref(),
            label: req.number.as_deref(),
            status: req.status.as_deref(),
            at: req.issued_at,
            due_at: req.due_at,
            invoice_external_id: None,
        },
        "number",
        now,
    )?;
    let (r, created) = st
        .db
        .write(op!(c => billing::push(c, Kind::Invoice, &rec, now).await))
        .await?;
    Ok(pushed(r, created))
}

/// The shop pushes a payment: 201 the first time its `external_id` is seen, 200 after.
#[utoipa::path(post, path = "/api/v1/payments", tag = "commerce",
    request_body = PushPayment,
    responses((status = 201, body = RecordView), (status = 200, body = RecordView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn push_payment(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<PushPayment>,
) -> ApiResult<(StatusCode, Json<RecordView>)> {
    require(&viewer, Permission::ManageOrders)?;
    let now = st.now();
    let rec = NewRecord::parse(
        &RawRecord {
            external_id: &req.external_id,
            email: &req.customer.email,
            name: req.customer.name.as_deref(),
            currency: &req.currency,
            amount: &req.amount.0,
            order_external_id: req.order_external_id.as_deref(),
            label: req.method.as_deref(),
            status: Some("paid"),
            at: req.paid_at,
            due_at: None,
            invoice_external_id: req.invoice_external_id.as_deref(),
        },
        "method",
        now,
    )
    .map_err(|mut e| {
        if e.field == "issued_at" {
            e.field = "paid_at".into();
        }
        e
    })?;
    let (r, created) = st
        .db
        .write(op!(c => billing::push(c, Kind::Payment, &rec, now).await))
        .await?;
    Ok(pushed(r, created))
}

/// A customer's billing.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CustomerBilling)]
pub struct BillingView {
    /// Invoices, newest first.
    pub invoices: Vec<RecordView>,
    /// Payments, newest first.
    pub payments: Vec<RecordView>,
    /// Refunds, oldest first (those given on other teams' tickets left out for agents).
    pub refunds: Vec<RefundView>,
}

/// A customer's invoices, payments and refunds.
#[utoipa::path(get, path = "/api/v1/customers/{id}/billing", tag = "commerce",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = BillingView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn customer_billing(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<BillingView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let (invoices, payments, refunds) = st
        .db
        .read(op!(c => {
            rapport_store::customers::get(c, id).await?;
            let (i, p) = billing::for_customer(c, id).await?;
            let r = billing::refunds_seen(c, &viewer, id).await?;
            Ok((i, p, r))
        }))
        .await?;
    Ok(Json(BillingView {
        invoices: invoices.into_iter().map(Into::into).collect(),
        payments: payments.into_iter().map(Into::into).collect(),
        refunds: refunds.into_iter().map(Into::into).collect(),
    }))
}

/// `POST /api/v1/refunds`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRefund {
    /// The order paid back (its id here).
    pub order_id: i64,
    /// Decimal text in the order's currency; at most what is left to refund.
    #[schema(value_type = String, example = "15.00")]
    pub amount: Amount,
    /// Why (default "Goodwill").
    pub reason: Option<String>,
    /// The ticket it is given on (of the order's customer).
    pub ticket_id: Option<i64>,
}

/// Records a refund for the shop to pay back: 201 within the caller's refund limit, 202
/// with the pending approval request above it.
#[utoipa::path(post, path = "/api/v1/refunds", tag = "commerce",
    request_body = IssueRefund,
    responses((status = 201, body = RefundView),
        (status = 202, body = crate::api::loyalty::ApprovalView,
            description = "Above the caller's limit: waits for a supervisor"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue_refund(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<IssueRefund>,
) -> ApiResult<Response> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    let reason = loyalty::reason("reason", req.reason.as_deref().unwrap_or("Goodwill"))?;
    let order = st
        .db
        .read(op!(c => rapport_store::commerce::orders::get(c, req.order_id).await))
        .await?;
    let currency = rapport_domain::commerce::Currency::parse("currency", &order.currency)?;
    let amount = currency.amount("amount", &req.amount.0)?;
    if amount <= 0 {
        return Err(FieldError::new("amount", "must be more than zero").into());
    }
    let gift = Gift::Refund {
        customer_id: order.customer_id,
        order_id: order.id,
        amount,
        currency: order.currency,
        reason,
        ticket_id: req.ticket_id,
    };
    let g = st
        .db
        .write(op!(c => gifts::give(c, &viewer, &gift, now).await))
        .await?;
    Ok(crate::api::loyalty::given(g, now))
}

/// Which refunds.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RefundsParams {
    /// `open` (to pay back) or `done`; default every one.
    pub state: Option<String>,
}

/// Refunds for the shop, oldest first (at most 500).
#[utoipa::path(get, path = "/api/v1/refunds", tag = "commerce",
    params(RefundsParams),
    responses((status = 200, body = Vec<RefundView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_refunds(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<RefundsParams>,
) -> ApiResult<Json<Vec<RefundView>>> {
    require(&viewer, Permission::ManageOrders)?;
    let state = q.state.as_deref().map(RefundState::parse).transpose()?;
    let list = st
        .db
        .read(op!(c => billing::refunds(c, None, state, 500).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// `POST /api/v1/refunds/{id}/done` (the body may be left out).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundDone {
    /// The shop's reference for the payment back.
    pub reference: Option<String>,
}

/// The shop marks a refund paid back: 200 the first time, 409 after.
#[utoipa::path(post, path = "/api/v1/refunds/{id}/done", tag = "commerce",
    params(("id" = i64, Path, description = "Refund id")),
    request_body(content = Option<RefundDone>),
    responses((status = 200, body = RefundView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn refund_done(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    OptionalJsonBody(req): OptionalJsonBody<RefundDone>,
) -> ApiResult<Json<RefundView>> {
    require(&viewer, Permission::ManageOrders)?;
    let reference = req
        .reference
        .as_deref()
        .map(|r| shipment_text("reference", r))
        .transpose()?;
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    let r = st
        .db
        .write(op!(c => billing::mark_done(c, actor, id, reference.as_deref(), now).await))
        .await?;
    Ok(Json(r.into()))
}
