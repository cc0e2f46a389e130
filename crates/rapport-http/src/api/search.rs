//! Full-text search over tickets, messages and customers.

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_store::op;
use rapport_store::search;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

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

/// One search result.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Hit)]
pub struct HitView {
    /// `ticket` (its subject matched), `message` or `customer`.
    pub kind: String,
    /// The ticket it leads to (none for a customer).
    pub ticket_id: Option<i64>,
    /// That ticket's number.
    pub ticket_number: Option<i64>,
    /// The customer it leads to.
    pub customer_id: Option<i64>,
    /// The ticket subject or customer name.
    pub title: String,
    /// HTML-escaped excerpt with hits in `<mark>`.
    pub snippet: String,
    /// Relevance; higher is better.
    pub score: f64,
}

impl From<search::Hit> for HitView {
    fn from(h: search::Hit) -> Self {
        Self {
            kind: h.kind,
            ticket_id: h.ticket_id,
            ticket_number: h.ticket_number,
            customer_id: h.customer_id,
            title: h.title,
            snippet: h.snippet,
            score: h.score,
        }
    }
}

/// Search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    /// The query as received.
    pub query: String,
    /// Best first.
    pub hits: Vec<HitView>,
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
        .read(op!(c => search::search(c, &viewer, &q, limit).await))
        .await?;
    Ok(Json(SearchResults {
        query: p.q,
        hits: hits.into_iter().map(Into::into).collect(),
    }))
}
