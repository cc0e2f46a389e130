//! Daily statistics rolled up by the nightly job.

use axum::Json;
use axum::extract::State;
use rapport_domain::{Permission, Timestamp};
use rapport_store::op;
use rapport_store::stats;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// One rolled-up figure.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = DailyStat)]
pub struct DailyStatView {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// `tickets_created`, `messages`, `tickets_solved`.
    pub metric: String,
    /// A breakdown key (a channel), or empty for the total.
    pub dimension: String,
    /// The count.
    pub value: i64,
}

impl From<stats::DailyStat> for DailyStatView {
    fn from(s: stats::DailyStat) -> Self {
        Self {
            day: s.day,
            metric: s.metric,
            dimension: s.dimension,
            value: s.value,
        }
    }
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
    responses((status = 200, body = Vec<DailyStatView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn daily_stats(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> ApiResult<Json<Vec<DailyStatView>>> {
    require(&viewer, Permission::ViewJobs)?;
    let days = p.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::field("days", "must be between 1 and 366"));
    }
    let to = st.now();
    let from = Timestamp(to.micros() - days * 86_400_000_000);
    Ok(Json(
        st.db
            .read(op!(c => stats::between(c, from, to).await))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}
