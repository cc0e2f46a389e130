//! Merging a duplicate customer into another: `POST /api/v1/customers/{id}/merge`.

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_store::crm::merge;
use rapport_store::events::Actor;
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::customers::CustomerView;
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// `POST /api/v1/customers/{id}/merge`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CustomerMergeRequest)]
pub struct MergeRequest {
    /// The duplicate: merged into the customer of the path, then gone.
    pub duplicate_id: i64,
}

/// What a merge moved.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CustomerMerge)]
pub struct MergeView {
    /// The customer as they now stand (the duplicate's address among `other_emails`).
    pub customer: CustomerView,
    /// Tickets moved over.
    pub tickets: u64,
    /// Orders moved over.
    pub orders: u64,
    /// Reward points moved over.
    pub points: i64,
}

/// Merges a duplicate customer (the same person under another address) into this one:
/// tickets, chats, orders, returns, vouchers, points, surveys and posts move over, both
/// addresses keep finding them, blanks in their details are filled from the duplicate.
#[utoipa::path(post, path = "/api/v1/customers/{id}/merge", tag = "customers",
    params(("id" = i64, Path, description = "The customer to keep")),
    request_body = MergeRequest,
    responses((status = 200, body = MergeView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "One of them was erased"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn merge_customer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<MergeRequest>,
) -> ApiResult<Json<MergeView>> {
    require(&viewer, Permission::ManageCustomers)?;
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    let m = st
        .db
        .write(op!(c => merge::merge(c, actor, id, req.duplicate_id, now).await))
        .await?;
    Ok(Json(MergeView {
        customer: m.customer.into(),
        tickets: m.tickets,
        orders: m.orders,
        points: m.points,
    }))
}
