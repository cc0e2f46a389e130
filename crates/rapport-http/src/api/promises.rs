//! Promises to customers: `POST`/`GET /api/v1/tickets/{id}/promises`, `POST
//! /api/v1/promises/{id}/done`, and the kept-versus-broken report
//! `GET /api/v1/reports/promises` (supervisors).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::promise::PromiseText;
use rapport_domain::{Permission, Timestamp};
use rapport_store::op;
use rapport_store::promises::{self, Promise, Tally};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// A promise made to a customer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Promise)]
pub struct PromiseView {
    /// Its id.
    pub id: i64,
    /// The ticket.
    pub ticket_id: i64,
    /// The agent who made it.
    pub user_id: i64,
    /// What was promised.
    pub text: String,
    /// By when.
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    /// `open`, `kept` or `broken`.
    pub state: &'static str,
    /// When it was marked done.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<Timestamp>,
    /// When it was made.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Promise> for PromiseView {
    fn from(p: Promise) -> Self {
        Self {
            id: p.id,
            ticket_id: p.ticket_id,
            user_id: p.user_id,
            text: p.text,
            due_at: p.due_at,
            state: p.state.as_str(),
            done_at: p.done_at,
            created_at: p.created_at,
        }
    }
}

/// `POST /api/v1/tickets/{id}/promises`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MakePromiseRequest {
    /// What is promised ("Call back with the refund status").
    pub text: String,
    /// By when (in the future, within a year).
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
}

/// Records a promise on a ticket; its maker is reminded before it is due.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/promises", tag = "promises",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = MakePromiseRequest,
    responses((status = 201, body = PromiseView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn make_promise(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<MakePromiseRequest>,
) -> ApiResult<(StatusCode, Json<PromiseView>)> {
    require(&viewer, Permission::WorkTickets)?;
    let text = PromiseText::parse(&req.text)?;
    let now = st.now();
    let due = req.due_at;
    let p = st
        .db
        .write(op!(c => promises::make(c, &viewer, id, &text, due, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// A ticket's promises.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/promises", tag = "promises",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = Vec<PromiseView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_promises(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<PromiseView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let list = st
        .db
        .read(op!(c => promises::for_ticket(c, &viewer, id).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Marks a promise done: kept when by its due time, broken after it.
#[utoipa::path(post, path = "/api/v1/promises/{id}/done", tag = "promises",
    params(("id" = i64, Path, description = "Promise id")),
    responses((status = 200, body = PromiseView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn promise_done(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PromiseView>> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    let p = st
        .db
        .write(op!(c => promises::done(c, &viewer, id, now).await))
        .await?;
    Ok(Json(p.into()))
}

/// The period of the report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// From (default: 30 days ago).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    /// Until (default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
}

/// Kept, broken and open promises of one agent or team.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PromiseTally)]
pub struct TallyView {
    /// The agent (in `agents`) or team (in `teams`; absent: tickets with no team).
    pub id: Option<i64>,
    /// Done by their due time.
    pub kept: i64,
    /// Due time passed first.
    pub broken: i64,
    /// Neither yet.
    pub open: i64,
}

fn tally(id: Option<i64>, t: Tally) -> TallyView {
    TallyView {
        id,
        kept: t.kept,
        broken: t.broken,
        open: t.open,
    }
}

/// Promises kept and broken, per agent and per team.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PromiseReport)]
pub struct PromiseReportView {
    /// Per agent.
    pub agents: Vec<TallyView>,
    /// Per team.
    pub teams: Vec<TallyView>,
}

/// Promises made in a period, kept versus broken, per agent and team (supervisors).
#[utoipa::path(get, path = "/api/v1/reports/promises", tag = "promises",
    params(ReportParams),
    responses((status = 200, body = PromiseReportView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn promise_report(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> ApiResult<Json<PromiseReportView>> {
    require(&viewer, Permission::SeeAllTeams)?;
    let now = st.now();
    let until = q.until.unwrap_or(now.plus_secs(1));
    let since = q.since.unwrap_or(now.plus_secs(-30 * 86_400));
    let (agents, teams) = st
        .db
        .read(op!(c => promises::report(c, since, until).await))
        .await?;
    Ok(Json(PromiseReportView {
        agents: agents.into_iter().map(|(k, t)| tally(Some(k), t)).collect(),
        teams: teams.into_iter().map(|(k, t)| tally(k, t)).collect(),
    }))
}
