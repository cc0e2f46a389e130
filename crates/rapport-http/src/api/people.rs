//! People: agents (users), teams and their members.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::{EmailAddress, Permission, Role};
use rapport_store::people::{self, NewUser, Team, User};
use rapport_store::secrets;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// The agent behind the token.
#[utoipa::path(get, path = "/api/v1/me", tag = "people",
    responses((status = 200, body = User), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(State(st): State<AppState>, Auth(viewer): Auth) -> ApiResult<Json<User>> {
    let id = viewer.user_id;
    Ok(Json(
        st.db
            .read(move |c| Box::pin(async move { people::get_user(c, id).await }))
            .await?,
    ))
}

/// Every agent (for assignment pickers).
#[utoipa::path(get, path = "/api/v1/users", tag = "people",
    responses((status = 200, body = Vec<User>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_users(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<User>>> {
    require(&viewer, Permission::WorkTickets)?;
    Ok(Json(
        st.db
            .read(|c| Box::pin(async move { people::list_users(c).await }))
            .await?,
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
    responses((status = 201, body = User), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_user(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
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
        .write(move |c| Box::pin(async move { people::create_user(c, new, now).await }))
        .await?;
    Ok((StatusCode::CREATED, Json(u)))
}

/// Every team.
#[utoipa::path(get, path = "/api/v1/teams", tag = "people",
    responses((status = 200, body = Vec<Team>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_teams(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<Team>>> {
    require(&viewer, Permission::WorkTickets)?;
    Ok(Json(
        st.db
            .read(|c| Box::pin(async move { people::list_teams(c).await }))
            .await?,
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
    responses((status = 201, body = Team), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_team(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateTeamRequest>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    require(&viewer, Permission::ManageTeams)?;
    let now = st.now();
    let t = st
        .db
        .write(move |c| Box::pin(async move { people::create_team(c, &req.name, now).await }))
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
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
    responses((status = 200, body = Team), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_member(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<AddMemberRequest>,
) -> ApiResult<Json<Team>> {
    require(&viewer, Permission::ManageTeams)?;
    let t = st
        .db
        .write(move |c| Box::pin(async move { people::add_member(c, id, req.user_id).await }))
        .await?;
    Ok(Json(t))
}
