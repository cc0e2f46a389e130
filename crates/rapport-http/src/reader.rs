//! Who reads self-service content (knowledge-base search, the help center's API): nobody
//! (the public), a signed-in portal customer (the portal's session cookie), or an agent
//! (a bearer token, or the workspace's session cookie). Each sees what
//! `Visibility::readable_by` allows. A bearer token that does not authenticate is a 401,
//! as everywhere in the API; a stale cookie just reads as the public.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use rapport_domain::Principal;
use rapport_store::op;
use rapport_store::secrets::token_hash;
use rapport_store::{portal, sessions};

use crate::auth::Auth;
use crate::cookies;
use crate::error::ApiError;
use crate::state::AppState;

/// The agent session cookie (rapport-web's `sessions::SESSION_COOKIE`).
pub const AGENT_SESSION_COOKIE: &str = "rapport_session";
/// The portal session cookie (rapport-web's portal `PORTAL_SESSION`).
pub const PORTAL_SESSION_COOKIE: &str = "rapport_portal";

/// The reader behind a request: `None` for the public.
#[derive(Debug, Clone)]
pub struct Reader(pub Option<Principal>);

impl Reader {
    /// The signed-in customer, if the reader is one.
    pub fn customer_id(&self) -> Option<i64> {
        self.0.as_ref().and_then(Principal::customer)
    }
}

/// Finds the reader of a request's parts (without sliding any session).
pub async fn reader_of(parts: &mut Parts, st: &AppState) -> Result<Reader, ApiError> {
    if parts.headers.contains_key(header::AUTHORIZATION) {
        let Auth(viewer) = Auth::from_request_parts(parts, st).await?;
        return Ok(Reader(Some(Principal::Agent(viewer))));
    }
    let now = st.now();
    if let Some(t) = cookies::read(&parts.headers, AGENT_SESSION_COOKIE, st.https) {
        let hash = token_hash(t);
        let idle = st.sessions.idle_secs;
        if let Ok(Some(s)) = st
            .db
            .read(op!(c => sessions::lookup(c, &hash, now, idle).await))
            .await
        {
            return Ok(Reader(Some(Principal::Agent(s.viewer))));
        }
    }
    if let Some(t) = cookies::read(&parts.headers, PORTAL_SESSION_COOKIE, st.https) {
        let hash = token_hash(t);
        if let Ok(Some(customer)) = st
            .db
            .read(op!(c => portal::session_customer(c, &hash, now).await))
            .await
        {
            return Ok(Reader(Some(Principal::Customer(customer))));
        }
    }
    Ok(Reader(None))
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        reader_of(parts, st).await
    }
}
