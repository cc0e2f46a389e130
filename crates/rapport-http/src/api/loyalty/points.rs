//! Reward points: a customer's balance and entries (`/api/v1/customers/{id}/points`),
//! points given by an agent and points redeemed.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use rapport_domain::Permission;
use rapport_domain::loyalty;
use rapport_store::loyalty::gifts::{self, Gift};
use rapport_store::loyalty::points::{self, About};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

use super::{ApprovalView, DEFAULT_REASON, EntryView, given};

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
