//! Customers, search and attachments: what an agent looks up.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rapport_domain::Permission;
use rapport_store::customers::{self, CustomerWithTickets};
use rapport_store::messages;
use rapport_store::search::{self, Hit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::tickets::require;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, Auth};
use crate::state::AppState;

/// A customer with every ticket they opened, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CustomerWithTickets), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_customer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CustomerWithTickets>> {
    require(&viewer, Permission::ReadCustomers)?;
    let c = st
        .db
        .read(move |c| Box::pin(async move { customers::get_with_tickets(c, &viewer, id).await }))
        .await?;
    Ok(Json(c))
}

/// Search parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to find; the last one also matches as a prefix.
    pub q: String,
    /// At most this many hits (1–100, default 20).
    pub limit: Option<usize>,
}

/// Search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    /// The query as received.
    pub query: String,
    /// Best first.
    pub hits: Vec<Hit>,
}

/// Full-text search over tickets, messages and customers.
#[utoipa::path(get, path = "/api/v1/search", tag = "customers",
    params(SearchParams),
    responses((status = 200, body = SearchResults), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn search(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> ApiResult<Json<SearchResults>> {
    require(&viewer, Permission::WorkTickets)?;
    if p.q.trim().is_empty() {
        return Err(ApiError::field("q", "is required"));
    }
    if p.q.len() > 500 {
        return Err(ApiError::field("q", "is longer than 500 characters"));
    }
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 100"));
    }
    let q = p.q.clone();
    let hits = st
        .db
        .read(move |c| Box::pin(async move { search::search(c, &viewer, &q, limit).await }))
        .await?;
    Ok(Json(SearchResults { query: p.q, hits }))
}

/// Downloads an attachment. Served as a download, never rendered inline, so an uploaded
/// HTML file cannot run in the help desk's origin.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Attachment id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_attachment(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    require(&viewer, Permission::WorkTickets)?;
    let file = st
        .db
        .read(move |c| Box::pin(async move { messages::visible_attachment(c, &viewer, id).await }))
        .await?;
    Ok(download(file))
}

/// An attachment as a download, never rendered inline (an uploaded HTML file must not run
/// in the help desk's origin), with a file name that cannot break the header.
pub(crate) fn download(file: messages::AttachmentFile) -> Response {
    let name: String = file
        .meta
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        file.data,
    )
        .into_response()
}
