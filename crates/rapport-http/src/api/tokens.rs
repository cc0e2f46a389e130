//! API tokens: list, create (optionally expiring) and revoke. Everyone manages their own;
//! admins may see and revoke anyone's, and make tokens for others. The token itself is
//! shown once, in the answer that creates it; afterwards only its public prefix.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::{Permission, Timestamp};
use rapport_store::op;
use rapport_store::secrets;
use rapport_store::tokens::{self, NewToken};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, TokenAuth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// An API token, without the token.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenView {
    /// Database id.
    pub id: i64,
    /// Whose it is.
    pub user_id: i64,
    /// A label.
    pub name: String,
    /// `rpt_` and the token's first characters, to tell tokens apart (absent for tokens
    /// made before prefixes were kept).
    pub prefix: Option<String>,
    /// When it was made.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    /// Whether it works now (neither revoked nor expired).
    pub active: bool,
}

impl TokenView {
    fn of(t: tokens::Token, now: Timestamp) -> Self {
        Self {
            active: t.is_live(now),
            id: t.id,
            user_id: t.user_id,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// A token just made: the only time the token itself is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = NewToken)]
pub struct NewTokenView {
    /// The token, to send as `Authorization: Bearer <token>`. Keep it: it is not shown
    /// again.
    pub token: String,
    /// What the token list shows of it.
    #[serde(flatten)]
    pub info: TokenView,
}

/// `GET /api/v1/tokens` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TokenFilter {
    /// Admins: one agent's tokens.
    pub user_id: Option<i64>,
    /// Admins: every agent's tokens.
    pub all: Option<bool>,
}

/// The caller's tokens (admins: `user_id` for an agent's, `all=true` for everyone's).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    params(TokenFilter),
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tokens(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(f): ApiQuery<TokenFilter>,
) -> ApiResult<Json<Vec<TokenView>>> {
    let whose = match (f.all.unwrap_or(false), f.user_id) {
        (true, Some(_)) => {
            return Err(ApiError::field("all", "give either all or user_id"));
        }
        (true, None) => None,
        (false, Some(u)) if u != viewer.user_id => Some(u),
        (false, _) => Some(viewer.user_id),
    };
    if whose != Some(viewer.user_id) {
        require(&viewer, Permission::ManageUsers)?;
    }
    let now = st.now();
    let list = st.db.read(op!(c => tokens::list(c, whose).await)).await?;
    Ok(Json(
        list.into_iter().map(|t| TokenView::of(t, now)).collect(),
    ))
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// A label (default `api`).
    pub name: Option<String>,
    /// Days until it expires (1 to 3650).
    pub expires_in_days: Option<i64>,
    /// When it expires (RFC 3339), instead of `expires_in_days`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    /// Admins: make the token for this agent instead of themselves.
    pub user_id: Option<i64>,
}

/// Makes a token for the caller (admins: for `user_id`), optionally expiring. A token
/// that expires makes only tokens that expire no later than itself (by default, at the
/// same time); a later expiry is refused (422).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens",
    request_body = CreateTokenRequest,
    responses((status = 201, body = NewTokenView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_token(
    State(st): State<AppState>,
    TokenAuth(caller): TokenAuth,
    JsonBody(req): JsonBody<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<NewTokenView>)> {
    let viewer = caller.viewer;
    let user_id = req.user_id.unwrap_or(viewer.user_id);
    if user_id != viewer.user_id {
        require(&viewer, Permission::ManageUsers)?;
    }
    let now = st.now();
    let expires_at = match (req.expires_in_days, req.expires_at) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "expires_at",
                "give either expires_at or expires_in_days",
            ));
        }
        (Some(days), None) => Some(tokens::expiry_in_days(now, days, "expires_in_days")?),
        (None, at) => at,
    };
    // A token cannot outlive the token that made it: a one-day token cannot buy a
    // permanent one.
    let expires_at = match (caller.expires_at, expires_at) {
        (Some(limit), None) => Some(limit),
        (Some(limit), Some(at)) if at > limit => {
            let field = if req.expires_in_days.is_some() {
                "expires_in_days"
            } else {
                "expires_at"
            };
            return Err(ApiError::field(
                field,
                "cannot be later than the expiry of the token making it",
            ));
        }
        (_, at) => at,
    };
    let token = secrets::new_token();
    let name = req.name.unwrap_or_else(|| "api".into());
    let new = NewToken {
        user_id,
        token: token.clone(),
        name,
        expires_at,
    };
    let made = st
        .db
        .write(op!(c => tokens::create(c, new, now).await))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenView {
            token,
            info: TokenView::of(made, now),
        }),
    ))
}

/// Revokes a token: the caller's own, or anyone's for an admin. It answers 401 from then
/// on; revoking it again changes nothing.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 200, body = TokenView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TokenView>> {
    let now = st.now();
    let admin = viewer.can(Permission::ManageUsers);
    let me = viewer.user_id;
    let t = st
        .db
        .write(op!(c => {
            let t = tokens::get(c, id).await?;
            // Another agent's token is "not found" to a non-admin: its id tells nothing.
            if t.user_id != me && !admin {
                return Err(rapport_store::StoreError::NotFound("token"));
            }
            tokens::revoke(c, id, now).await
        }))
        .await?;
    Ok(Json(TokenView::of(t, now)))
}
