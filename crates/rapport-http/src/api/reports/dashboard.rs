//! `GET /api/v1/reports/dashboard`: the breakdowns of a period the workspace's dashboard
//! draws — volume by day, channel and category, next response time, the backlog and its
//! age, the reopen rate, promises kept, deflection, and per-agent and per-team tables
//! with quality beside speed.

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_domain::survey::csat_score;
use rapport_store::op;
use rapport_store::reports::dashboard::{self, AGE_GROUPS, Dashboard, Row};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Figure, ReportParams, TimeFigure, percent};
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// One day's volume.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayVolume {
    /// The day, `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Tickets created on it.
    pub created: i64,
    /// Tickets solved on it.
    pub solved: i64,
}

/// A count under a name (a channel, a category, an age group).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Share {
    /// The channel, the category's slug (null: no category) or the age group.
    pub key: Option<String>,
    /// How many.
    pub count: i64,
}

/// The unsolved tickets now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Backlog {
    /// New, open, pending and on-hold tickets.
    pub total: i64,
    /// By age since creation: under a day, 1–3 days, 3–7, 7–30, older.
    pub ages: Vec<Share>,
}

/// One agent's or team's figures: quality beside speed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonFigures {
    /// The agent's or team's id (null: unassigned tickets, or those of no team).
    pub id: Option<i64>,
    /// The name.
    pub name: String,
    /// Tickets solved in the period.
    pub solved: i64,
    /// First response time of the tickets created in the period.
    pub first_response_time: TimeFigure,
    /// Resolution time of the tickets solved.
    pub resolution_time: TimeFigure,
    /// The percentage of CSAT ratings of 4 or 5 about their tickets.
    pub csat: Figure,
    /// The percentage of the tickets solved that had been reopened.
    pub reopen_rate: Figure,
    /// The percentage of promises due in the period that were kept.
    pub promises_kept: Figure,
}

/// The dashboard's breakdowns of a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportDashboard {
    /// The first day.
    pub from: String,
    /// The last day.
    pub to: String,
    /// Every day of the period.
    pub days: Vec<DayVolume>,
    /// Tickets created by channel, most first.
    pub channels: Vec<Share>,
    /// Tickets created by category, most first.
    pub categories: Vec<Share>,
    /// From a customer's message after an agent's reply to the next agent reply.
    pub next_response_time: TimeFigure,
    /// Unsolved tickets now (filtered, not limited to the period).
    pub backlog: Backlog,
    /// The percentage of the tickets solved in the period that had been reopened.
    pub reopen_rate: Figure,
    /// The percentage of promises due in the period that were kept.
    pub promises_kept: Figure,
    /// The percentage of self-service visits shown suggestions that ended without a
    /// request, of those and the ones that sent one (all teams and channels).
    pub deflection_rate: Figure,
    /// One row per agent, the unassigned last.
    pub agents: Vec<PersonFigures>,
    /// One row per team, the team-less last.
    pub teams: Vec<PersonFigures>,
}

fn figure(part: i64, whole: i64) -> Figure {
    Figure {
        value: percent(part, whole),
        count: whole,
    }
}

impl From<&Row> for PersonFigures {
    fn from(r: &Row) -> Self {
        Self {
            id: r.id,
            name: r.name.clone(),
            solved: r.solved,
            first_response_time: r.first_response.into(),
            resolution_time: r.resolution.into(),
            csat: Figure {
                value: csat_score(&r.csat),
                count: r.csat.len() as i64,
            },
            reopen_rate: figure(r.reopened, r.solved),
            promises_kept: figure(r.promises_kept, r.promises_due),
        }
    }
}

/// The dashboard as the API shows it.
pub fn view(d: &Dashboard, from: String, to: String) -> ReportDashboard {
    ReportDashboard {
        from,
        to,
        days: d
            .days
            .iter()
            .map(|x| DayVolume {
                day: x.day.to_string(),
                created: x.created,
                solved: x.solved,
            })
            .collect(),
        channels: d
            .channels
            .iter()
            .map(|(k, n)| Share {
                key: Some(k.clone()),
                count: *n,
            })
            .collect(),
        categories: d
            .categories
            .iter()
            .map(|(k, n)| Share {
                key: k.clone(),
                count: *n,
            })
            .collect(),
        next_response_time: d.next_response.into(),
        backlog: Backlog {
            total: d.backlog.iter().sum(),
            ages: AGE_GROUPS
                .iter()
                .zip(d.backlog)
                .map(|(k, n)| Share {
                    key: Some((*k).to_owned()),
                    count: n,
                })
                .collect(),
        },
        reopen_rate: figure(d.reopened.0, d.reopened.1),
        promises_kept: figure(d.promises.0, d.promises.1),
        deflection_rate: figure(d.deflection.0, d.deflection.1),
        agents: d.agents.iter().map(PersonFigures::from).collect(),
        teams: d.teams.iter().map(PersonFigures::from).collect(),
    }
}

/// The breakdowns of a period: volume by day, channel and category, next response time,
/// the backlog by age, the reopen rate, promises kept, deflection, and the per-agent and
/// per-team tables — filtered like the summary.
#[utoipa::path(get, path = "/api/v1/reports/dashboard", tag = "reports",
    params(ReportParams),
    responses((status = 200, body = ReportDashboard), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> ApiResult<Json<ReportDashboard>> {
    require(&viewer, Permission::ViewReports)?;
    let (period, filter) = q.parse()?;
    let now = st.now();
    rapport_store::reports::rollup::catch_up(&st.db).await?;
    let d = st
        .db
        .read(op!(c => dashboard::dashboard(c, &period, &filter, now).await))
        .await?;
    Ok(Json(view(
        &d,
        period.from.to_string(),
        period.to.to_string(),
    )))
}
