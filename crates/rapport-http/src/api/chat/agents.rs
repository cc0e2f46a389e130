//! The agent side of live chat: an agent's status (online / away / offline — only online
//! agents are assigned chats) and their limit of concurrent chats
//! (`GET`/`PUT /api/v1/chat/agents/{id}`: agents set their own status; an agent or an
//! admin sets a limit), and moving a chat to another agent or team with a required note
//! (`POST /api/v1/chat/conversations/{id}/transfer`).

use axum::Json;
use axum::extract::{Path, State};
use rapport_domain::Permission;
use rapport_domain::chat::{AgentStatus, chat_limit, transfer_note};
use rapport_store::chat::handoff::{self, Availability, TransferTo};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// An agent's chat availability.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatAvailability)]
pub struct AvailabilityView {
    /// `online`, `away` or `offline`.
    pub status: String,
    /// The most chats assigned to them at once.
    pub chat_limit: i64,
    /// The chats they have open now.
    pub open_chats: i64,
}

impl From<Availability> for AvailabilityView {
    fn from(a: Availability) -> Self {
        Self {
            status: a.status.as_str().to_owned(),
            chat_limit: a.chat_limit,
            open_chats: a.open_chats,
        }
    }
}

/// A change to an agent's availability; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChatAvailabilityRequest)]
pub struct AvailabilityRequest {
    /// `online`, `away` or `offline` (only for yourself).
    #[serde(default)]
    pub status: Option<String>,
    /// 0–50.
    #[serde(default)]
    pub chat_limit: Option<i64>,
}

/// An agent's chat availability (yourself, or anyone for an admin).
#[utoipa::path(get, path = "/api/v1/chat/agents/{id}", tag = "chat",
    params(("id" = i64, Path, description = "the agent's user id")),
    responses((status = 200, body = AvailabilityView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_availability(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<AvailabilityView>> {
    require(&viewer, Permission::WorkTickets)?;
    if id != viewer.user_id {
        require(&viewer, Permission::ManageUsers)?;
    }
    let a = st
        .db
        .read(op!(c => handoff::availability(c, id).await))
        .await?;
    Ok(Json(a.into()))
}

/// Sets an agent's status (your own) or chat limit (your own, or anyone's for an
/// admin); waiting chats are assigned at once if someone became free.
#[utoipa::path(put, path = "/api/v1/chat/agents/{id}", tag = "chat",
    params(("id" = i64, Path, description = "the agent's user id")),
    request_body = AvailabilityRequest,
    responses((status = 200, body = AvailabilityView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_availability(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<AvailabilityRequest>,
) -> ApiResult<Json<AvailabilityView>> {
    require(&viewer, Permission::WorkTickets)?;
    let status = req.status.as_deref().map(AgentStatus::parse).transpose()?;
    let limit = req.chat_limit.map(chat_limit).transpose()?;
    let now = st.now();
    let a = st
        .db
        .write(op!(c => handoff::set_availability(c, &viewer, id, status, limit, now).await))
        .await?;
    Ok(Json(a.into()))
}

/// Moves a chat to an agent or a team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChatTransferRequest)]
pub struct TransferRequest {
    /// Why, for the person who takes it (required, 1–500 characters).
    #[serde(default)]
    pub note: String,
    /// The agent to give it to…
    #[serde(default)]
    pub assignee_id: Option<i64>,
    /// …or the team (its freest online agent, or its queue).
    #[serde(default)]
    pub team_id: Option<i64>,
}

/// Where the chat went.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatPlaced)]
pub struct PlacedView {
    /// The team now.
    pub team_id: Option<i64>,
    /// The agent now (`null`: waiting in the team's queue).
    pub assignee_id: Option<i64>,
}

/// Transfers a chat to another agent or team with a note shown at the top of the ticket.
#[utoipa::path(post, path = "/api/v1/chat/conversations/{id}/transfer", tag = "chat",
    params(("id" = i64, Path, description = "the conversation (its ticket's id)")),
    request_body = TransferRequest,
    responses((status = 200, body = PlacedView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn transfer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<TransferRequest>,
) -> ApiResult<Json<PlacedView>> {
    require(&viewer, Permission::WorkTickets)?;
    let note = transfer_note(&req.note)?;
    let to = match (req.assignee_id, req.team_id) {
        (Some(a), None) => TransferTo::Agent(a),
        (None, Some(t)) => TransferTo::Team(t),
        _ => {
            return Err(ApiError::field(
                "assignee_id",
                "give exactly one of assignee_id and team_id",
            ));
        }
    };
    let now = st.now();
    let p = st
        .db
        .write(op!(c => handoff::transfer(c, &viewer, id, to, &note, now).await))
        .await?;
    Ok(Json(PlacedView {
        team_id: p.team_id,
        assignee_id: p.assignee_id,
    }))
}
