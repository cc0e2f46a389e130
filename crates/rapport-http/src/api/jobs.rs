//! The durable job queue, as supervisors see it.

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_domain::Timestamp;
use rapport_domain::job::JobState;
use rapport_store::jobs;
use rapport_store::op;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

/// A job as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Job)]
pub struct JobView {
    /// Database id.
    pub id: i64,
    /// Which handler runs it.
    pub kind: String,
    /// Handler input, JSON.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `queued`, `running`, `done` or `dead`.
    #[schema(value_type = String)]
    pub state: JobState,
    /// Earliest time to run.
    #[schema(value_type = String, format = DateTime)]
    pub run_at: Timestamp,
    /// Claims so far.
    pub attempts: i64,
    /// Claims allowed before it is dead.
    pub max_attempts: i64,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// Deduplicates enqueues.
    pub idempotency_key: Option<String>,
}

impl From<jobs::Job> for JobView {
    fn from(j: jobs::Job) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            payload: j.payload,
            state: j.state,
            run_at: j.run_at,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
            idempotency_key: j.idempotency_key,
        }
    }
}

/// The newest background jobs (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/jobs", tag = "ops",
    responses((status = 200, body = Vec<JobView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_jobs(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<JobView>>> {
    require(&viewer, Permission::ViewJobs)?;
    Ok(Json(
        st.db
            .read(op!(c => jobs::recent(c, 100).await))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}
