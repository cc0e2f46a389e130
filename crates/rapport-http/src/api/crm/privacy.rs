//! GDPR: `GET /api/v1/customers/{id}/export` (everything about a customer, one JSON
//! document) and `POST /api/v1/customers/{id}/erase`. Both are admins' and audited.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rapport_domain::Permission;
use rapport_store::crm::privacy;
use rapport_store::events::Actor;
use rapport_store::op;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// Everything about a customer as one machine-readable JSON document (format
/// `rapport.customer-export.v1`): their details, organisation, tickets, messages,
/// attachments (listed), chats, surveys, orders with lines and shipments, returns,
/// vouchers, points, goodwill, community posts and votes, article feedback and help
/// searches. Sent as a download; the export is recorded.
#[utoipa::path(get, path = "/api/v1/customers/{id}/export", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, description = "The archive", content_type = "application/json",
        body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export_customer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    require(&viewer, Permission::ManagePrivacy)?;
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    let archive = st
        .db
        .write(op!(c => privacy::export(c, actor, id, now).await))
        .await?;
    let disposition = format!("attachment; filename=\"customer-{id}.json\"");
    Ok((
        [
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Json(archive),
    )
        .into_response())
}

/// What an erasure changed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CustomerErasure)]
pub struct ErasedView {
    /// The customer (kept, anonymised, so the numbers reports count stay).
    pub customer_id: i64,
    /// Tickets whose subject and messages were erased.
    pub tickets: u64,
    /// Messages whose text was erased.
    pub messages: u64,
    /// Attachments deleted.
    pub attachments: u64,
    /// Survey comments erased (the ratings stay).
    pub survey_comments: u64,
    /// Community posts erased.
    pub community_posts: u64,
}

/// Erases a customer: their name, addresses, phone, birthday and attributes, the text
/// and attachments of their conversations, survey comments and posts, the mail they sent
/// as received, their sessions. Ticket counts, times, ratings and order totals stay for
/// the reports; search finds nothing of them. 409 when already erased.
#[utoipa::path(post, path = "/api/v1/customers/{id}/erase", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = ErasedView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn erase_customer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ErasedView>> {
    require(&viewer, Permission::ManagePrivacy)?;
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    let e = st
        .db
        .write(op!(c => privacy::erase(c, actor, id, now).await))
        .await?;
    Ok(Json(ErasedView {
        customer_id: id,
        tickets: e.tickets,
        messages: e.messages,
        attachments: e.attachments,
        survey_comments: e.survey_comments,
        community_posts: e.community_posts,
    }))
}
