//! Health, the job queue and statistics.

use axum::Json;
use axum::extract::State;
use rapport_domain::{Permission, Timestamp};
use rapport_store::jobs::{self, Job};
use rapport_store::stats::{self, DailyStat};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::tickets::require;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiQuery, Auth};
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
    st.db
        .read(|c| Box::pin(async move { c.one("SELECT 1", &[]).await.map(|_| ()) }))
        .await
        .map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is not reachable",
            )
        })?;
    Ok(Json(Health {
        status: "ok",
        database: match st.db.backend() {
            rapport_store::Backend::Sqlite => "sqlite",
            rapport_store::Backend::Postgres => "postgres",
        },
    }))
}

/// The newest background jobs (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/jobs", tag = "ops",
    responses((status = 200, body = Vec<Job>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_jobs(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<Job>>> {
    require(&viewer, Permission::ViewJobs)?;
    Ok(Json(
        st.db
            .read(|c| Box::pin(async move { jobs::recent(c, 100).await }))
            .await?,
    ))
}

/// Range of the daily statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// How many days back from today (1–366, default 30).
    pub days: Option<i64>,
}

/// Daily counts rolled up by the nightly job (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/stats/daily", tag = "ops",
    params(StatsParams),
    responses((status = 200, body = Vec<DailyStat>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn daily_stats(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> ApiResult<Json<Vec<DailyStat>>> {
    require(&viewer, Permission::ViewJobs)?;
    let days = p.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::field("days", "must be between 1 and 366"));
    }
    let to = st.now();
    let from = Timestamp(to.micros() - days * 86_400_000_000);
    Ok(Json(
        st.db
            .read(move |c| Box::pin(async move { stats::between(c, from, to).await }))
            .await?,
    ))
}

/// `POST /api/v1/mailboxes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMailboxRequest {
    /// The address to receive for.
    pub address: String,
    /// Its display name.
    pub name: String,
}

/// Adds a mailbox the SMTP listener accepts mail for (admins).
#[utoipa::path(post, path = "/api/v1/mailboxes", tag = "ops",
    request_body = CreateMailboxRequest,
    responses((status = 201, body = rapport_store::mail::Mailbox), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_mailbox(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    crate::extract::JsonBody(req): crate::extract::JsonBody<CreateMailboxRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<rapport_store::mail::Mailbox>)> {
    require(&viewer, rapport_domain::Permission::ManageUsers)?;
    let address = rapport_domain::EmailAddress::parse(&req.address)
        .map_err(|e| ApiError::field("address", e.message))?;
    let now = st.now();
    let m = st
        .db
        .write(move |c| {
            Box::pin(async move {
                rapport_store::mail::create_mailbox(c, &address, &req.name, now).await
            })
        })
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(m)))
}

/// The mailboxes (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/mailboxes", tag = "ops",
    responses((status = 200, body = Vec<rapport_store::mail::Mailbox>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_mailboxes(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<rapport_store::mail::Mailbox>>> {
    require(&viewer, Permission::ViewJobs)?;
    Ok(Json(
        st.db
            .read(|c| Box::pin(async move { rapport_store::mail::mailboxes(c).await }))
            .await?,
    ))
}
