//! Health: whether this node can reach its database.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// Health report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

/// 200 when the server can reach its database.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(st): State<AppState>) -> ApiResult<Json<Health>> {
    st.db.ping().await.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is not reachable",
        )
    })?;
    Ok(Json(Health {
        status: "ok",
        database: st.db.backend().as_str(),
    }))
}
