//! People: agents (users), teams and their members.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::{EmailAddress, Permission, Role, Timestamp};
use rapport_store::op;
use rapport_store::people::{self, NewUser};
use rapport_store::secrets;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// An agent, supervisor or admin.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    /// Database id.
    pub id: i64,
    /// Sign-in address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `admin`, `supervisor` or `agent`.
    #[schema(value_type = String, example = "agent")]
    pub role: Role,
    /// False once deactivated.
    pub active: bool,
    /// The teams they belong to.
    pub team_ids: Vec<i64>,
    /// When the account was made.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<people::User> for UserView {
    fn from(u: people::User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            active: u.active,
            team_ids: u.team_ids,
            created_at: u.created_at,
        }
    }
}

/// A group of agents that owns tickets.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Team)]
pub struct TeamView {
    /// Database id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Members' user ids.
    pub member_ids: Vec<i64>,
    /// When it was made.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<people::Team> for TeamView {
    fn from(t: people::Team) -> Self {
        Self {
            id: t.id,
            name: t.name,
            member_ids: t.member_ids,
            created_at: t.created_at,
        }
    }
}

/// The agent behind the token.
#[utoipa::path(get, path = "/api/v1/me", tag = "people",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(State(st): State<AppState>, Auth(viewer): Auth) -> ApiResult<Json<UserView>> {
    let id = viewer.user_id;
    Ok(Json(
        st.db
            .read(op!(c => people::get_user(c, id).await))
            .await?
            .into(),
    ))
}

/// Every agent (for assignment pickers).
#[utoipa::path(get, path = "/api/v1/users", tag = "people",
    responses((status = 200, body = Vec<UserView>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<UserView>>> {
    require(&viewer, Permission::WorkTickets)?;
    Ok(Json(
        st.db
            .read(op!(c => people::list_users(c).await))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// `POST /api/v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Sign-in address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `admin`, `supervisor` or `agent`.
    pub role: String,
    /// A password of at least 10 characters; omit for a token-only account.
    pub password: Option<String>,
}

/// The least password length accepted.
pub const MIN_PASSWORD: usize = 10;

/// Creates an agent (admins only).
#[utoipa::path(post, path = "/api/v1/users", tag = "people",
    request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_user(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    require(&viewer, Permission::ManageUsers)?;
    let email = EmailAddress::parse(&req.email)?;
    let role = Role::parse(&req.role)?;
    let password_hash = match req.password {
        Some(p) if p.chars().count() < MIN_PASSWORD => {
            return Err(ApiError::field(
                "password",
                format!("must be at least {MIN_PASSWORD} characters"),
            ));
        }
        Some(p) => Some(
            tokio::task::spawn_blocking(move || secrets::hash_password(&p))
                .await
                .map_err(|_| ApiError::bad_request("hashing failed"))?
                .map_err(ApiError::bad_request)?,
        ),
        None => None,
    };
    let new = NewUser {
        email,
        name: req.name,
        role,
        password_hash,
    };
    let now = st.now();
    let u = st
        .db
        .write(op!(c => people::create_user(c, new, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(u.into())))
}

/// Every team.
#[utoipa::path(get, path = "/api/v1/teams", tag = "people",
    responses((status = 200, body = Vec<TeamView>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_teams(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<TeamView>>> {
    require(&viewer, Permission::WorkTickets)?;
    Ok(Json(
        st.db
            .read(op!(c => people::list_teams(c).await))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// `POST /api/v1/teams`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamRequest {
    /// Unique name.
    pub name: String,
}

/// Creates a team (supervisors and admins).
#[utoipa::path(post, path = "/api/v1/teams", tag = "people",
    request_body = CreateTeamRequest,
    responses((status = 201, body = TeamView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_team(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateTeamRequest>,
) -> ApiResult<(StatusCode, Json<TeamView>)> {
    require(&viewer, Permission::ManageTeams)?;
    let now = st.now();
    let t = st
        .db
        .write(op!(c => people::create_team(c, &req.name, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// `POST /api/v1/teams/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The agent to add.
    pub user_id: i64,
}

/// Adds an agent to a team (supervisors and admins).
#[utoipa::path(post, path = "/api/v1/teams/{id}/members", tag = "people",
    params(("id" = i64, Path, description = "Team id")),
    request_body = AddMemberRequest,
    responses((status = 200, body = TeamView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_member(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<AddMemberRequest>,
) -> ApiResult<Json<TeamView>> {
    require(&viewer, Permission::ManageTeams)?;
    let t = st
        .db
        .write(op!(c => people::add_member(c, id, req.user_id).await))
        .await?;
    Ok(Json(t.into()))
}
