//! Loyalty and goodwill: vouchers (`POST /api/v1/vouchers`, redeemed by the shop with
//! `POST /api/v1/vouchers/{code}/redeem`), reward points (`/api/v1/customers/{id}/points`),
//! approval requests for gifts above the giver's limit (`/api/v1/approvals`), the limits
//! themselves (`/api/v1/goodwill/limits`) and what was given (`/api/v1/reports/goodwill`).
//! A gift within the caller's limit answers 201; above it, 202 with the pending request.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rapport_domain::commerce::{Currency, Money};
use rapport_domain::loyalty::{self, GoodwillKind, VoucherCode, VoucherValue};
use rapport_domain::{FieldError, Permission, Role, Timestamp};
use rapport_store::events::Actor;
use rapport_store::loyalty::approvals::{self, Approval};
use rapport_store::loyalty::gifts::{self, Gift, Given};
use rapport_store::loyalty::limits::{self, Limit};
use rapport_store::loyalty::points::{self, About, Entry};
use rapport_store::loyalty::vouchers::{self, Voucher};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::commerce::{Amount, money_text};
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody, OptionalJsonBody};
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

/// A customer's points: the balance and the latest entries.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Points)]
pub struct PointsView {
    /// Points to spend.
    pub balance: i64,
    /// The latest 100 entries, newest first.
    pub entries: Vec<EntryView>,
}

/// A customer's reward points.
#[utoipa::path(get, path = "/api/v1/customers/{id}/points", tag = "loyalty",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = PointsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn customer_points(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PointsView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let (balance, entries) = st
        .db
        .read(op!(c => {
            rapport_store::customers::get(c, id).await?;
            Ok((points::balance(c, id).await?, points::ledger(c, id, 100).await?))
        }))
        .await?;
    Ok(Json(PointsView {
        balance,
        entries: entries.into_iter().map(Into::into).collect(),
    }))
}

/// `POST /api/v1/customers/{id}/points`: a goodwill credit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GivePointsRequest {
    /// How many, 1 to ten million.
    pub points: i64,
    /// Why (default "Goodwill").
    pub reason: Option<String>,
    /// The ticket it is given on (of the same customer).
    pub ticket_id: Option<i64>,
}

/// Gives a customer reward points: 201 with the entry within the caller's limit, 202 with
/// the pending approval request above it.
#[utoipa::path(post, path = "/api/v1/customers/{id}/points", tag = "loyalty",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = GivePointsRequest,
    responses((status = 201, body = EntryView), (status = 202, body = ApprovalView,
        description = "Above the caller's limit: waits for a supervisor"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn give_points(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<GivePointsRequest>,
) -> ApiResult<Response> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    let gift = Gift::Points {
        customer_id: id,
        points: loyalty::points("points", req.points)?,
        reason: loyalty::reason("reason", req.reason.as_deref().unwrap_or(DEFAULT_REASON))?,
        ticket_id: req.ticket_id,
    };
    let g = st
        .db
        .write(op!(c => gifts::give(c, &viewer, &gift, now).await))
        .await?;
    Ok(given(g, now))
}

/// `POST /api/v1/customers/{id}/points/redeem`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemPointsRequest {
    /// How many, 1 to ten million.
    pub points: i64,
    /// The shop's reference (the order they paid).
    pub reference: Option<String>,
}

/// The shop spends a customer's points: 200 with the entry, 409 when the balance is short
/// (nothing is taken then).
#[utoipa::path(post, path = "/api/v1/customers/{id}/points/redeem", tag = "loyalty",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = RedeemPointsRequest,
    responses((status = 200, body = EntryView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not enough points"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn redeem_points(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<RedeemPointsRequest>,
) -> ApiResult<Json<EntryView>> {
    require(&viewer, Permission::ManageOrders)?;
    let n = loyalty::points("points", req.points)?;
    let reason = match req.reference.as_deref() {
        Some(r) => format!(
            "Redeemed at the shop ({})",
            rapport_domain::commerce::order::shipment_text("reference", r)?
        ),
        None => "Redeemed at the shop".to_owned(),
    };
    let now = st.now();
    let user = viewer.user_id;
    let e = st
        .db
        .write(op!(c => {
            rapport_store::customers::get(c, id).await?;
            let about = About { user_id: Some(user), ..About::default() };
            points::apply(c, id, -n, points::REDEEM, &reason, about, now).await
        }))
        .await?;
    Ok(Json(e.into()))
}

/// Which requests to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApprovalParams {
    /// `pending`, `approved` or `declined` (default: all).
    pub state: Option<String>,
}

/// Gift requests (supervisors): pending ones oldest first.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "loyalty",
    params(ApprovalParams),
    responses((status = 200, body = Vec<ApprovalView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_approvals(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ApprovalParams>,
) -> ApiResult<Json<Vec<ApprovalView>>> {
    require(&viewer, Permission::ApproveGoodwill)?;
    let state = match q.state.as_deref() {
        None => None,
        Some(s @ (approvals::PENDING | approvals::APPROVED | approvals::DECLINED)) => Some(s),
        Some(_) => {
            return Err(
                FieldError::new("state", "must be one of: pending, approved, declined").into(),
            );
        }
    };
    let state = state.map(str::to_owned);
    let list = st
        .db
        .read(op!(c => approvals::list(c, state.as_deref()).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// A decision's note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Why (shown to the requester).
    pub note: Option<String>,
}

async fn decide(
    st: &AppState,
    viewer: rapport_domain::Viewer,
    id: i64,
    approve: bool,
    req: DecisionRequest,
) -> ApiResult<Json<ApprovalView>> {
    require(&viewer, Permission::ApproveGoodwill)?;
    let note = match req.note.as_deref() {
        Some(n) => Some(loyalty::reason("note", n)?),
        None => None,
    };
    let now = st.now();
    let a = st
        .db
        .write(op!(c => approvals::decide(c, &viewer, id, approve, note.as_deref(), now).await))
        .await?;
    Ok(Json(a.into()))
}

/// Approves a pending request: the gift is given, counted as the requester's (409 once
/// decided).
#[utoipa::path(post, path = "/api/v1/approvals/{id}/approve", tag = "loyalty",
    params(("id" = i64, Path, description = "Approval id")),
    request_body(content = Option<DecisionRequest>),
    responses((status = 200, body = ApprovalView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    OptionalJsonBody(req): OptionalJsonBody<DecisionRequest>,
) -> ApiResult<Json<ApprovalView>> {
    decide(&st, viewer, id, true, req).await
}

/// Declines a pending request: nothing is given (409 once decided).
#[utoipa::path(post, path = "/api/v1/approvals/{id}/decline", tag = "loyalty",
    params(("id" = i64, Path, description = "Approval id")),
    request_body(content = Option<DecisionRequest>),
    responses((status = 200, body = ApprovalView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decline(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    OptionalJsonBody(req): OptionalJsonBody<DecisionRequest>,
) -> ApiResult<Json<ApprovalView>> {
    decide(&st, viewer, id, false, req).await
}

/// One goodwill limit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = GoodwillLimit)]
pub struct LimitView {
    /// A role (`agent`, `supervisor`, `admin`) — or set `user_id` instead.
    pub role: Option<String>,
    /// One agent (their own limit wins over their role's).
    pub user_id: Option<i64>,
    /// `voucher`, `voucher-percent`, `points` or `refund`.
    pub kind: String,
    /// For `voucher` and `refund`: the currency.
    pub currency: Option<String>,
    /// The most per customer per calendar month, as decimal text for amounts; for
    /// `voucher-percent` the largest percentage.
    #[schema(value_type = String)]
    pub max_per_month: serde_json::Value,
}

/// All the goodwill limits (replaced whole by `PUT`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = GoodwillLimits)]
pub struct LimitsView {
    /// Each limit. Without one, agents ask for approval and supervisors and
    /// administrators give freely.
    pub limits: Vec<LimitView>,
}

fn limit_view(l: Limit) -> LimitView {
    let (role, user_id) = match l.scope.split_once(':') {
        Some(("user", id)) => (None, id.parse().ok()),
        Some((_, role)) => (Some(role.to_owned()), None),
        None => (None, None),
    };
    LimitView {
        role,
        user_id,
        kind: l.kind.as_str().to_owned(),
        max_per_month: if l.currency.is_empty() {
            serde_json::json!(l.max_per_month)
        } else {
            serde_json::json!(money_text(l.max_per_month, &l.currency))
        },
        currency: Some(l.currency).filter(|c| !c.is_empty()),
    }
}

fn limit_of(i: usize, v: &LimitView) -> Result<Limit, FieldError> {
    let f = |name: &str| format!("limits[{i}].{name}");
    let scope = match (&v.role, v.user_id) {
        (Some(r), None) => {
            limits::role_scope(Role::parse(r).map_err(|e| e.within(&format!("limits[{i}]")))?)
        }
        (None, Some(u)) if u > 0 => format!("user:{u}"),
        _ => return Err(FieldError::new(f("role"), "give a role or a user_id")),
    };
    let kind = GoodwillKind::parse(&v.kind).map_err(|e| e.within(&format!("limits[{i}]")))?;
    let text = match &v.max_per_month {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(FieldError::new(f("max_per_month"), "must be a number")),
    };
    let (currency, max) = match kind {
        GoodwillKind::Voucher | GoodwillKind::Refund => {
            let code = v
                .currency
                .as_deref()
                .ok_or_else(|| FieldError::new(f("currency"), "is required for amounts"))?;
            let cur = Currency::parse(&f("currency"), code)?;
            (
                cur.code().to_owned(),
                cur.amount(&f("max_per_month"), &text)?,
            )
        }
        GoodwillKind::Points | GoodwillKind::VoucherPercent => {
            let n = text
                .trim()
                .parse::<i64>()
                .map_err(|_| FieldError::new(f("max_per_month"), "must be a whole number"))?;
            (String::new(), n)
        }
    };
    if max < 0 {
        return Err(FieldError::new(f("max_per_month"), "must not be negative"));
    }
    Ok(Limit {
        scope,
        kind,
        currency,
        max_per_month: max,
    })
}

/// The goodwill limits.
#[utoipa::path(get, path = "/api/v1/goodwill/limits", tag = "loyalty",
    responses((status = 200, body = LimitsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_limits(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<LimitsView>> {
    require(&viewer, Permission::ApproveGoodwill)?;
    let list = st.db.read(op!(c => limits::list(c).await)).await?;
    Ok(Json(LimitsView {
        limits: list.into_iter().map(limit_view).collect(),
    }))
}

/// Replaces the goodwill limits (administrators).
#[utoipa::path(put, path = "/api/v1/goodwill/limits", tag = "loyalty",
    request_body = LimitsView,
    responses((status = 200, body = LimitsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_limits(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<LimitsView>,
) -> ApiResult<Json<LimitsView>> {
    require(&viewer, Permission::ManageGoodwillLimits)?;
    if req.limits.len() > 500 {
        return Err(FieldError::new("limits", "at most 500 limits").into());
    }
    let parsed = req
        .limits
        .iter()
        .enumerate()
        .map(|(i, l)| limit_of(i, l))
        .collect::<Result<Vec<_>, _>>()?;
    let list = st
        .db
        .write(op!(c => {
            limits::replace(c, &parsed).await?;
            limits::list(c).await
        }))
        .await?;
    Ok(Json(LimitsView {
        limits: list.into_iter().map(limit_view).collect(),
    }))
}

/// The period of the goodwill report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GoodwillParams {
    /// From (default: the start of this month, UTC).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    /// Until (default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
}

/// Goodwill one agent gave of one kind (and currency).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = GoodwillRow)]
pub struct GoodwillRowView {
    /// The giver (approved gifts count as the requester's).
    pub user_id: i64,
    /// `voucher`, `voucher-percent` or `points`.
    pub kind: &'static str,
    /// For amounts, the currency.
    pub currency: Option<String>,
    /// How many gifts.
    pub count: i64,
    /// Their sum: decimal text for amounts, points, or summed percentages.
    pub total: String,
}

/// Goodwill given in a period, by agent (supervisors).
#[utoipa::path(get, path = "/api/v1/reports/goodwill", tag = "loyalty",
    params(GoodwillParams),
    responses((status = 200, body = Vec<GoodwillRowView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn goodwill_report(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<GoodwillParams>,
) -> ApiResult<Json<Vec<GoodwillRowView>>> {
    require(&viewer, Permission::ViewReports)?;
    let now = st.now();
    let since = q.since.unwrap_or_else(|| loyalty::month_start(now));
    let until = q.until.unwrap_or(now.plus_secs(1));
    let rows = st
        .db
        .read(op!(c => limits::report(c, since, until).await))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(user_id, kind, currency, count, total)| GoodwillRowView {
                user_id,
                kind: kind.as_str(),
                total: if currency.is_empty() {
                    total.to_string()
                } else {
                    money_text(total, &currency)
                },
                currency: Some(currency).filter(|c| !c.is_empty()),
                count,
            })
            .collect(),
    ))
}

/// The loyalty programme's rules.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LoyaltySettings)]
pub struct SettingsView {
    /// Points an order earns per whole unit of its total once paid (0: none).
    pub earn_per_unit: i64,
    /// Days after which credited points expire unless spent (null: never).
    pub expiry_days: Option<i64>,
}

/// The loyalty programme's rules.
#[utoipa::path(get, path = "/api/v1/loyalty/settings", tag = "loyalty",
    responses((status = 200, body = SettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<SettingsView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let s = st
        .db
        .read(op!(c => rapport_store::loyalty::rules::settings(c).await))
        .await?;
    Ok(Json(SettingsView {
        earn_per_unit: s.earn_per_unit,
        expiry_days: s.expiry_days,
    }))
}

/// Sets the rules: what orders earn from now on, and when new credits expire.
#[utoipa::path(put, path = "/api/v1/loyalty/settings", tag = "loyalty",
    request_body = SettingsView,
    responses((status = 200, body = SettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<SettingsView>,
) -> ApiResult<Json<SettingsView>> {
    require(&viewer, Permission::ManageGoodwillLimits)?;
    let s = rapport_store::loyalty::rules::Settings::new(req.earn_per_unit, req.expiry_days)?;
    let now = st.now();
    st.db
        .write(op!(c => rapport_store::loyalty::rules::set_settings(c, s, now).await))
        .await?;
    Ok(Json(req))
}
