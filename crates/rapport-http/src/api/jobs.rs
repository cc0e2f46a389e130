//! The durable job queue, as supervisors see it.

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_store::jobs::{self, Job};

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

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
