//! People: agents (users), teams and their members.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::{EmailAddress, NewPassword, Permission, Role, Timestamp};
use rapport_store::op;
use rapport_store::people::{self, NewUser, UserChange};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::password_check::{Verdict, check_own, hash, hash_new_password};
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
        Some(p) => Some(hash_new_password("password", p).await?),
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

/// `PATCH /api/v1/users/{id}`: only what is given changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUserRequest {
    /// `false` deactivates the agent: their API tokens are revoked (they answer 401, and
    /// stay revoked if the agent is reactivated) and their browser sessions end at once.
    /// `true` reactivates them; they need new tokens.
    pub active: Option<bool>,
    /// `admin`, `supervisor` or `agent`.
    pub role: Option<String>,
    /// A new password (an admin's reset): every browser session of the agent ends.
    pub password: Option<String>,
}

/// Deactivates or reactivates an agent, changes their role or resets their password
/// (admins only). The last active admin can be neither deactivated nor demoted (422).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "people",
    params(("id" = i64, Path, description = "User id")),
    request_body = PatchUserRequest,
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_user(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<PatchUserRequest>,
) -> ApiResult<Json<UserView>> {
    require(&viewer, Permission::ManageUsers)?;
    let change = UserChange {
        active: req.active,
        role: req.role.as_deref().map(Role::parse).transpose()?,
    };
    let password_hash = match req.password {
        Some(p) => Some(hash_new_password("password", p).await?),
        None => None,
    };
    let now = st.now();
    let u = st
        .db
        .write(op!(c => {
            let u = people::update_user(c, id, change, now).await?;
            if let Some(hash) = &password_hash {
                people::set_password(c, id, hash, None).await?;
            }
            Ok(u)
        }))
        .await?;
    Ok(Json(u.into()))
}

/// `POST /api/v1/me/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password now.
    pub current_password: String,
    /// The new one, 10 to 1,024 characters.
    pub new_password: String,
}

/// Changes the caller's own password, given the current one; every browser session of
/// theirs ends (an API token is not a session and keeps working). Wrong current passwords
/// count against the account like failed sign-ins (`crate::password_check`): past the
/// free ones, 429 with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "people",
    request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_password(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    let id = viewer.user_id;
    let new = NewPassword::parse("new_password", req.new_password)?;
    match check_own(&st, id, ip, req.current_password).await? {
        Verdict::Right => {}
        Verdict::Wait(wait) => return Err(ApiError::slow_down(wait)),
        Verdict::Wrong => {
            return Err(ApiError::field(
                "current_password",
                "is not your current password",
            ));
        }
    }
    let hash = hash(new).await?;
    st.db
        .write(op!(c => people::set_password(c, id, &hash, None).await))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
