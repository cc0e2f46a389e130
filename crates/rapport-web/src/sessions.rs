//! The signed-in agent of a page ([`Me`], from the session cookie), cookies, and
//! [`CsrfForm`]: every agent form's body, checked against the session's CSRF token.

use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Principal;
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::secrets::token_hash;
use rapport_store::sessions::{self, SessionInfo};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::page::error_page;

/// The session cookie's name (over TLS: with the `__Host-` prefix, see [`cookie_name`]).
pub const SESSION_COOKIE: &str = "rapport_session";

/// A cookie's name as sent: over TLS with the `__Host-` prefix, which browsers accept only
/// on a `Secure`, `Path=/` cookie without `Domain` — so a sibling subdomain or a plain-HTTP
/// page cannot plant or shadow it. Plain names over HTTP (local use), where browsers
/// would refuse the prefix.
pub fn cookie_name(name: &str, https: bool) -> String {
    if https {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// Reads one cookie, by its name as [`set_cookie`] sent it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str, https: bool) -> Option<&'a str> {
    let name = cookie_name(name, https);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite, `Path=/`, no `Domain`; over TLS `Secure` and
/// a `__Host-` name ([`cookie_name`]).
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    same_site: &str,
    https: bool,
) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    let name = cookie_name(name, https);
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares secrets in constant time (`subtle`), without leaking where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The signed-in agent of a page, with the session's CSRF token.
pub struct Me {
    /// Who, role, teams, name, CSRF token.
    pub session: SessionInfo,
}

impl Me {
    /// The signed-in agent as the store's [`Principal`].
    pub fn principal(&self) -> Principal {
        Principal::Agent(self.session.viewer.clone())
    }

    /// The refusal of a form that does not carry this session's CSRF token. [`CsrfForm`] does
    /// this for every urlencoded form; a multipart form calls it with its `csrf` field.
    pub fn reject_csrf(&self, token: &str) -> Option<Response> {
        (!same_secret(token, &self.session.csrf)).then(|| {
            error_page(
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form is out of date. Reload the page and try again.",
            )
        })
    }
}

/// Whether a request is one a page makes by itself rather than the agent: the ticket
/// page's presence ping, the `/live` stream, and the `?partial=` re-fetches a live event
/// triggers. These do not slide the idle deadline, so a page left open in an unattended
/// browser still times out.
fn is_background(parts: &Parts) -> bool {
    let path = parts.uri.path();
    path == "/live"
        || (path.starts_with("/tickets/") && path.ends_with("/presence"))
        || parts
            .uri
            .query()
            .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "partial"))
}

/// Whether the session whose token hashes to `hash` is still live (not ended, expired or
/// idle, its agent active), without sliding it: how a long-lived `/live` stream checks
/// that it may go on.
pub async fn still_live(state: &AppState, hash: &str) -> bool {
    let now = state.now();
    let idle = state.sessions.idle_secs;
    let hash = hash.to_owned();
    state
        .db
        .read(op!(c => sessions::lookup(c, &hash, now, idle).await))
        .await
        .is_ok_and(|s| s.is_some())
}

/// The live session of a request, if any. A use slides the session's idle deadline,
/// recorded at most once a minute ([`sessions::TOUCH_EVERY_SECS`]), unless the request is
/// a background one ([`is_background`]).
async fn session_of(parts: &Parts, state: &AppState) -> Option<Me> {
    let token = cookie(&parts.headers, SESSION_COOKIE, state.https)?;
    let hash = token_hash(token);
    let now = state.now();
    let idle = state.sessions.idle_secs;
    let session = state
        .db
        .read(op!(c => sessions::lookup(c, &hash, now, idle).await))
        .await
        .ok()
        .flatten()?;
    if session.due_for_touch(now) && !is_background(parts) {
        let hash = session.token_hash.clone();
        if let Err(e) = state
            .db
            .write(op!(c => sessions::touch(c, &hash, now).await))
            .await
        {
            tracing::warn!(error = %e, "could not record a session's use");
        }
    }
    Some(Me { session })
}

impl FromRequestParts<AppState> for Me {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Found once per request: a `CsrfForm` after `me: Me` reuses it.
        if let Some(session) = parts.extensions.get::<SessionInfo>() {
            return Ok(Me {
                session: session.clone(),
            });
        }
        match session_of(parts, state).await {
            Some(me) => {
                parts.extensions.insert(me.session.clone());
                Ok(me)
            }
            None => {
                let next = parts.uri.path_and_query().map_or("/inbox", |p| p.as_str());
                let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
        }
    }
}

impl OptionalFromRequestParts<AppState> for Me {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(session_of(parts, state).await)
    }
}

/// The `csrf` field every agent form carries.
#[derive(Deserialize)]
struct CsrfField {
    csrf: String,
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

/// An agent's urlencoded form, as `T`, once its `csrf` field matched the session's
/// token. It comes after `me: Me` in a handler's arguments (it reuses the session `Me`
/// found, or looks it up itself), so the checks run in the order the hand-written ones
/// did: no session redirects to the sign-in page; a body that is not a form, or lacks a
/// field (`csrf` first), is axum's `Form` rejection; a stale token is the "Form expired"
/// page (403). `T` need not declare `csrf`.
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let me = <Me as FromRequestParts<AppState>>::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let again = |b: Bytes| Request::from_parts(parts.clone(), Body::from(b));
        let Form(token) = Form::<CsrfField>::from_request(again(bytes.clone()), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Form(fields) = Form::<T>::from_request(again(bytes), state)
            .await
            .map_err(IntoResponse::into_response)?;
        match me.reject_csrf(&token.csrf) {
            Some(refusal) => Err(refusal),
            None => Ok(CsrfForm(fields)),
        }
    }
}
