//! Who is asking and what they may do: the bearer token behind an API request, and the
//! one permission check ([`require`]) every handler — API and pages alike — goes through.
//! The role matrix itself is `Permission::least_role` in rapport-domain. The API acts only
//! for agents: a handler passes the agent to the store as `Principal::Agent(viewer)` where
//! an operation takes a [`Principal`](rapport_domain::Principal) (the ones customers can
//! also reach: a ticket, its thread, its files), and the store checks what it may see.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rapport_domain::{Permission, Viewer};
use rapport_store::op;
use rapport_store::{people, secrets};

use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Refuses unless the role grants `p`.
pub fn require(v: &Viewer, p: Permission) -> ApiResult<()> {
    if v.can(p) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "your role ({}) does not allow this",
            v.role.as_str()
        )))
    }
}

/// The authenticated agent behind the request's bearer token: a token that is unknown,
/// revoked or expired, or whose agent is deactivated, answers 401. Failures are counted per
/// client address in the API's own limiter (`AppState::auth_failures`), apart from the
/// sign-in page's.
pub struct Auth(pub Viewer);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let t = TokenAuth::from_request_parts(parts, state).await?;
        Ok(Auth(t.0.viewer))
    }
}

/// [`Auth`] and also when the token used expires: for the handlers that must not let a
/// token outlive itself (making a token).
pub struct TokenAuth(pub people::TokenViewer);

impl FromRequestParts<AppState> for TokenAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        if state.auth_failures.is_blocked(ip) {
            return Err(ApiError::too_many());
        }
        let hash = secrets::token_hash(token);
        let now = state.now();
        let viewer = state
            .db
            .read(op!(c => people::viewer_for_token(c, &hash, now).await))
            .await?;
        match viewer {
            Some(v) => Ok(TokenAuth(v)),
            None => {
                state.auth_failures.fail(ip);
                Err(ApiError::unauthorized())
            }
        }
    }
}
