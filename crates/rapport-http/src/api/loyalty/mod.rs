//! Loyalty and goodwill: vouchers (`POST /api/v1/vouchers`, redeemed by the shop with
//! `POST /api/v1/vouchers/{code}/redeem`), reward points (`/api/v1/customers/{id}/points`),
//! approval requests for gifts above the giver's limit (`/api/v1/approvals`), the limits
//! themselves (`/api/v1/goodwill/limits`) and what was given (`/api/v1/reports/goodwill`).
//! A gift within the caller's limit answers 201; above it, 202 with the pending request.
//! Points are in [`points`], approval requests in [`approvals`], limits, the goodwill
//! report and settings in [`limits`].

pub mod approvals;
pub mod limits;
pub mod points;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rapport_domain::commerce::{Currency, Money};
use rapport_domain::loyalty::{self, VoucherCode, VoucherValue};
use rapport_domain::{FieldError, Permission, Timestamp};
use rapport_store::events::Actor;
use rapport_store::loyalty::approvals::Approval;
use rapport_store::loyalty::gifts::{self, Gift, Given};
use rapport_store::loyalty::points::Entry;
use rapport_store::loyalty::vouchers::{self, Voucher};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::commerce::{Amount, money_text};
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody, OptionalJsonBody};
use crate::state::AppState;

/// A voucher.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Voucher)]
pub struct VoucherView {
    /// Its id.
    pub id: i64,
    /// The code the customer gives the shop — whole for the agent who issued it,
    /// supervisors and the shop; otherwise only its last group (`RAP-••••-••••-ABCD`).
    pub code: String,
    /// Whose.
    pub customer_id: i64,
    /// For an amount: how much, as decimal text.
    pub amount: Option<String>,
    /// For an amount: the currency.
    pub currency: Option<String>,
    /// For a percentage: how many percent.
    pub percent: Option<i64>,
    /// Why it was given.
    pub reason: String,
    /// `active`, `redeemed` or `expired`.
    pub state: &'static str,
    /// Until when it may be used.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// The ticket it was given on.
    pub ticket_id: Option<i64>,
    /// Who gave it.
    pub issued_by: Option<i64>,
    /// The approval it waited for.
    pub approval_id: Option<i64>,
    /// When the shop redeemed it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub redeemed_at: Option<Timestamp>,
    /// The shop's reference for that.
    pub redeemed_ref: Option<String>,
    /// When it was issued.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl VoucherView {
    /// The view of `v`, its code masked unless `whole`.
    fn shown(v: Voucher, now: Timestamp, whole: bool) -> Self {
        let mut view = Self::of(v, now);
        if !whole {
            view.code = loyalty::voucher::masked(&view.code);
        }
        view
    }

    fn of(v: Voucher, now: Timestamp) -> Self {
        let state = if v.redeemed_at.is_some() {
            "redeemed"
        } else if v.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        Self {
            id: v.id,
            amount: match (v.amount, v.currency.as_deref()) {
                (Some(a), Some(c)) => Some(money_text(a, c)),
                _ => None,
            },
            code: v.code,
            customer_id: v.customer_id,
            currency: v.currency,
            percent: v.percent,
            reason: v.reason,
            state,
            expires_at: v.expires_at,
            ticket_id: v.ticket_id,
            issued_by: v.issued_by,
            approval_id: v.approval_id,
            redeemed_at: v.redeemed_at,
            redeemed_ref: v.redeemed_ref,
            created_at: v.created_at,
        }
    }
}

/// A gift waiting for (or given after) a supervisor's decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Approval)]
pub struct ApprovalView {
    /// Its id.
    pub id: i64,
    /// `voucher`, `points` or `refund`.
    pub kind: String,
    /// For whom.
    pub customer_id: i64,
    /// On which ticket.
    pub ticket_id: Option<i64>,
    /// Who asked.
    pub requested_by: i64,
    /// What was asked (amounts in minor units).
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// `pending`, `approved` or `declined`.
    pub state: String,
    /// Who decided.
    pub decided_by: Option<i64>,
    /// When.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
    /// The decider's note.
    pub note: Option<String>,
    /// What approving made (the voucher's id and code, or the points entry and balance).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// When it was asked.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Approval> for ApprovalView {
    fn from(a: Approval) -> Self {
        Self {
            id: a.id,
            kind: a.kind,
            customer_id: a.customer_id,
            ticket_id: a.ticket_id,
            requested_by: a.requested_by,
            request: a.request,
            state: a.state,
            decided_by: a.decided_by,
            decided_at: a.decided_at,
            note: a.note,
            result: a.result,
            created_at: a.created_at,
        }
    }
}

/// One entry of a customer's points ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PointsEntry)]
pub struct EntryView {
    /// Its id.
    pub id: i64,
    /// Points added (positive) or taken (negative).
    pub delta: i64,
    /// The balance after it.
    pub balance_after: i64,
    /// `earn`, `unearn` (a cancelled order's points taken back), `goodwill`, `redeem` or
    /// `expire`.
    pub kind: String,
    /// Why.
    pub reason: String,
    /// The order it is for.
    pub order_id: Option<i64>,
    /// The ticket it was given on.
    pub ticket_id: Option<i64>,
    /// Who gave it.
    pub user_id: Option<i64>,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When a credit expires unless spent (none: never).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> Self {
        Self {
            id: e.id,
            delta: e.delta,
            balance_after: e.balance_after,
            kind: e.kind,
            reason: e.reason,
            order_id: e.order_id,
            ticket_id: e.ticket_id,
            user_id: e.user_id,
            created_at: e.created_at,
            expires_at: e.expires_at,
        }
    }
}

pub(crate) fn given(g: Given, now: Timestamp) -> Response {
    match g {
        Given::Voucher(v) => (StatusCode::CREATED, Json(VoucherView::of(v, now))).into_response(),
        Given::Points(e) => (StatusCode::CREATED, Json(EntryView::from(e))).into_response(),
        Given::Refund(r) => (
            StatusCode::CREATED,
            Json(super::commerce::billing::RefundView::from(r)),
        )
            .into_response(),
        Given::Pending(a) => (StatusCode::ACCEPTED, Json(ApprovalView::from(a))).into_response(),
    }
}

const DEFAULT_REASON: &str = "Goodwill";

/// `POST /api/v1/vouchers`: an amount (`amount` and `currency`) or a `percent`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueVoucherRequest {
    /// For whom.
    pub customer_id: i64,
    /// An amount off, as decimal text or a number (with `currency`).
    #[schema(value_type = Option<String>, example = "10.00")]
    pub amount: Option<Amount>,
    /// The amount's ISO 4217 currency.
    pub currency: Option<String>,
    /// A percentage off, 1 to 100 (instead of an amount).
    pub percent: Option<i64>,
    /// Until when it may be used (default: never expires).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Why (default "Goodwill").
    pub reason: Option<String>,
    /// The ticket it is given on (of the same customer).
    pub ticket_id: Option<i64>,
}

fn voucher_value(req: &IssueVoucherRequest) -> Result<VoucherValue, FieldError> {
    match (&req.amount, &req.currency, req.percent) {
        (Some(a), Some(c), None) => {
            let cur = Currency::parse("currency", c)?;
            VoucherValue::amount(Money::new(cur.amount("amount", &a.0)?, cur))
        }
        (Some(_), None, None) => Err(FieldError::new("currency", "is required with an amount")),
        (None, _, Some(p)) => VoucherValue::percent(p),
        (Some(_), _, Some(_)) => Err(FieldError::new(
            "percent",
            "give an amount or a percentage, not both",
        )),
        (None, _, None) => Err(FieldError::new(
            "amount",
            "give an amount (with its currency) or a percent",
        )),
    }
}

/// Issues a voucher: 201 with its code within the caller's goodwill limit, 202 with the
/// pending approval request above it.
#[utoipa::path(post, path = "/api/v1/vouchers", tag = "loyalty",
    request_body = IssueVoucherRequest,
    responses((status = 201, body = VoucherView), (status = 202, body = ApprovalView,
        description = "Above the caller's limit: waits for a supervisor"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue_voucher(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<IssueVoucherRequest>,
) -> ApiResult<Response> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    let value = voucher_value(&req)?;
    if req.expires_at.is_some_and(|e| e <= now) {
        return Err(FieldError::new("expires_at", "must be in the future").into());
    }
    let gift = Gift::Voucher {
        customer_id: req.customer_id,
        value,
        expires_at: req.expires_at,
        reason: loyalty::reason("reason", req.reason.as_deref().unwrap_or(DEFAULT_REASON))?,
        ticket_id: req.ticket_id,
    };
    let g = st
        .db
        .write(op!(c => gifts::give(c, &viewer, &gift, now).await))
        .await?;
    Ok(given(g, now))
}

/// `POST /api/v1/vouchers/{code}/redeem` (the body may be left out).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemVoucherRequest {
    /// The shop's reference (the order it was used on).
    pub reference: Option<String>,
}

/// The shop redeems a voucher: 200 the first time, 409 after that or once it expired.
#[utoipa::path(post, path = "/api/v1/vouchers/{code}/redeem", tag = "loyalty",
    params(("code" = String, Path, description = "The voucher's code")),
    request_body(content = Option<RedeemVoucherRequest>),
    responses((status = 200, body = VoucherView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Already redeemed, or expired"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn redeem_voucher(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(code): ApiPath<String>,
    OptionalJsonBody(req): OptionalJsonBody<RedeemVoucherRequest>,
) -> ApiResult<Json<VoucherView>> {
    require(&viewer, Permission::ManageOrders)?;
    let code = VoucherCode::parse(&code)?;
    let reference = match req.reference.as_deref() {
        Some(r) => Some(rapport_domain::commerce::order::shipment_text(
            "reference",
            r,
        )?),
        None => None,
    };
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    let v = st
        .db
        .write(op!(c => vouchers::redeem(c, actor, &code, reference.as_deref(), now).await))
        .await?;
    Ok(Json(VoucherView::of(v, now)))
}

/// A customer's vouchers, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/vouchers", tag = "loyalty",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = Vec<VoucherView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn customer_vouchers(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<VoucherView>>> {
    require(&viewer, Permission::ReadCustomers)?;
    let now = st.now();
    let all = viewer.can(Permission::ApproveGoodwill);
    let list = st
        .db
        .read(op!(c => {
            rapport_store::customers::get(c, id).await?;
            vouchers::for_customer(c, id).await
        }))
        .await?;
    Ok(Json(
        list.into_iter()
            .map(|v| {
                let whole = all || v.issued_by == Some(viewer.user_id);
                VoucherView::shown(v, now, whole)
            })
            .collect(),
    ))
}
