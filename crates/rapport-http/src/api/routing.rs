//! Routing: a team's method (`GET`/`PUT /api/v1/teams/{id}/routing`), an agent's capacity
//! and skills (`GET`/`PATCH /api/v1/agents/{id}/routing`), and transfers with a handoff
//! note (`POST /api/v1/tickets/{id}/transfer`, `GET /api/v1/tickets/{id}/transfer`).

use axum::Json;
use axum::extract::State;
use rapport_domain::routing::{RoutingMethod, Skills, ticket_limit};
use rapport_domain::{Permission, Timestamp};
use rapport_store::op;
use rapport_store::routing::{self, AgentRouting, Transfer, TransferTo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// How a team hands out new tickets.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TeamRouting)]
pub struct TeamRoutingView {
    /// The team.
    pub team_id: i64,
    /// `manual` (agents take tickets from the queue), `round_robin` or `least_loaded`.
    pub routing: &'static str,
}

/// `PUT /api/v1/teams/{id}/routing`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamRoutingRequest {
    /// `manual`, `round_robin` or `least_loaded`.
    pub routing: String,
}

/// A team's routing method.
#[utoipa::path(get, path = "/api/v1/teams/{id}/routing", tag = "routing",
    params(("id" = i64, Path, description = "Team id")),
    responses((status = 200, body = TeamRoutingView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_team_routing(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TeamRoutingView>> {
    require(&viewer, Permission::WorkTickets)?;
    let m = st
        .db
        .read(op!(c => routing::team_method(c, id).await))
        .await?;
    Ok(Json(TeamRoutingView {
        team_id: id,
        routing: m.as_str(),
    }))
}

/// Sets a team's routing method (supervisors). Tickets already waiting in its queue are
/// handed out within a minute.
#[utoipa::path(put, path = "/api/v1/teams/{id}/routing", tag = "routing",
    params(("id" = i64, Path, description = "Team id")),
    request_body = TeamRoutingRequest,
    responses((status = 200, body = TeamRoutingView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_team_routing(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<TeamRoutingRequest>,
) -> ApiResult<Json<TeamRoutingView>> {
    require(&viewer, Permission::ManageTeams)?;
    let m = RoutingMethod::parse(&req.routing)?;
    st.db
        .write(op!(c => routing::set_team_method(c, id, m).await))
        .await?;
    Ok(Json(TeamRoutingView {
        team_id: id,
        routing: m.as_str(),
    }))
}

/// What an agent is good at.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillsView {
    /// Category slugs they take (empty: any).
    pub categories: Vec<String>,
    /// Two-letter language codes they take (empty: any). English asks for no language:
    /// only tickets clearly in German, French or Spanish are held to this list.
    pub languages: Vec<String>,
}

/// An agent's routing settings and load.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AgentRouting)]
pub struct AgentRoutingView {
    /// The agent.
    pub user_id: i64,
    /// Routing never gives them more open tickets than this.
    pub ticket_limit: i64,
    /// Their skills.
    pub skills: SkillsView,
    /// `online`, `away` or `offline` (set with `PUT /api/v1/chat/agents/{id}`); only
    /// `online` agents are routed tickets.
    pub status: &'static str,
    /// Open tickets they own now.
    pub open_tickets: i64,
}

impl From<AgentRouting> for AgentRoutingView {
    fn from(a: AgentRouting) -> Self {
        Self {
            user_id: a.user_id,
            ticket_limit: a.ticket_limit,
            skills: SkillsView {
                categories: a.skills.categories,
                languages: a.skills.languages,
            },
            status: a.status.as_str(),
            open_tickets: a.open_tickets,
        }
    }
}

/// `PATCH /api/v1/agents/{id}/routing`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRoutingRequest {
    /// Capacity of open tickets (0–1,000).
    pub ticket_limit: Option<i64>,
    /// Skills (replaces both lists).
    pub skills: Option<SkillsView>,
}

/// An agent's routing settings (theirs, or anyone's for supervisors).
#[utoipa::path(get, path = "/api/v1/agents/{id}/routing", tag = "routing",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = AgentRoutingView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_agent_routing(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AgentRoutingView>> {
    if id != viewer.user_id {
        require(&viewer, Permission::ManageTeams)?;
    }
    let a = st.db.read(op!(c => routing::agent(c, id).await)).await?;
    Ok(Json(a.into()))
}

/// Sets an agent's capacity and skills (supervisors).
#[utoipa::path(patch, path = "/api/v1/agents/{id}/routing", tag = "routing",
    params(("id" = i64, Path, description = "User id")),
    request_body = AgentRoutingRequest,
    responses((status = 200, body = AgentRoutingView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_agent_routing(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<AgentRoutingRequest>,
) -> ApiResult<Json<AgentRoutingView>> {
    require(&viewer, Permission::ManageTeams)?;
    let limit = req.ticket_limit.map(ticket_limit).transpose()?;
    let skills = req
        .skills
        .map(|s| Skills::parse(&s.categories, &s.languages))
        .transpose()?;
    let a = st
        .db
        .write(op!(c => routing::set_agent(c, id, limit, skills.as_ref()).await))
        .await?;
    Ok(Json(a.into()))
}

/// `POST /api/v1/tickets/{id}/transfer`: an agent, a team, or both, and the note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The new owner (a member of the team, if the ticket has one).
    pub assignee_id: Option<i64>,
    /// The new team (alone: the team's routing or queue picks the owner).
    pub team_id: Option<i64>,
    /// What the new owner needs to know (required, 1–500 characters).
    #[serde(default)]
    pub note: String,
}

/// A transfer and its handoff note.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Transfer)]
pub struct TransferView {
    /// Who handed it over.
    pub by_user_id: i64,
    /// The team before.
    pub from_team_id: Option<i64>,
    /// The team after.
    pub to_team_id: Option<i64>,
    /// The owner before.
    pub from_assignee_id: Option<i64>,
    /// The owner after (`null`: the team's queue or routing).
    pub to_assignee_id: Option<i64>,
    /// The note to the new owner.
    pub note: String,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Transfer> for TransferView {
    fn from(t: Transfer) -> Self {
        Self {
            by_user_id: t.by_user_id,
            from_team_id: t.from_team_id,
            to_team_id: t.to_team_id,
            from_assignee_id: t.from_assignee_id,
            to_assignee_id: t.to_assignee_id,
            note: t.note,
            created_at: t.created_at,
        }
    }
}

/// Moves a ticket to another agent or team with a handoff note, shown at the top of the
/// ticket to its new owner.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/transfer", tag = "routing",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = TransferRequest,
    responses((status = 200, body = TransferView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn transfer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<TransferRequest>,
) -> ApiResult<Json<TransferView>> {
    require(&viewer, Permission::WorkTickets)?;
    let to = TransferTo {
        assignee_id: req.assignee_id,
        team_id: req.team_id,
    };
    let now = st.now();
    let note = req.note;
    let t = st
        .db
        .write(op!(c => routing::transfer(c, &viewer, id, to, &note, now).await))
        .await?;
    Ok(Json(t.into()))
}

/// A ticket's latest transfer (404 when it never had one).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/transfer", tag = "routing",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TransferView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn last_transfer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TransferView>> {
    require(&viewer, Permission::WorkTickets)?;
    let t = st
        .db
        .read(op!(c => routing::last_transfer_for(c, &viewer, id).await))
        .await?
        .ok_or_else(|| ApiError::not_found("transfer"))?;
    Ok(Json(t.into()))
}
