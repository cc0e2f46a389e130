//! The customer portal: a public "new request" form, and a private link per request —
//! signed with a server key, unguessable — to follow the conversation and answer it;
//! customers may also sign in by emailed link to list their requests. Forms carry a
//! double-submit CSRF token; submissions are rate-limited per address.

pub mod requests;
pub mod signin;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use hmac::{Hmac, Mac};
use rapport_domain::TicketStatus;
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::{StoreError, settings};
use sha2::Sha256;

use crate::page::error_page;
use crate::sessions::{cookie, same_secret, set_cookie};

const PORTAL_CSRF: &str = "rapport_portal_csrf";
const KEY_NAME: &str = "portal_link_key";

pub(crate) async fn link_key(st: &AppState) -> Result<String, StoreError> {
    st.db
        .write(op!(c => settings::secret(c, KEY_NAME).await))
        .await
}

pub(crate) fn sign(key: &str, ticket_id: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("portal-request:{ticket_id}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The private link of a request.
pub async fn private_link(st: &AppState, ticket_id: i64) -> Result<String, StoreError> {
    let key = link_key(st).await?;
    Ok(format!(
        "/portal/requests/{ticket_id}?key={}",
        sign(&key, ticket_id)
    ))
}

pub(crate) fn with_csrf(st: &AppState, mut r: Response, token: &str) -> Response {
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PORTAL_CSRF, token, 86_400, "Strict", st.https),
    );
    r
}

pub(crate) fn csrf_ok(headers: &HeaderMap, token: &str) -> bool {
    cookie(headers, PORTAL_CSRF).is_some_and(|c| !c.is_empty() && same_secret(c, token))
}

/// The refusal of a public form post, if any: a stale form (CSRF), or too many posts
/// from the address.
pub(crate) fn refuse_post(
    st: &AppState,
    headers: &HeaderMap,
    csrf: &str,
    addr: std::net::SocketAddr,
) -> Option<Response> {
    if !csrf_ok(headers, csrf) {
        return Some(error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "Reload the page and try again.",
        ));
    }
    if st.portal_posts.is_blocked(addr.ip()) {
        return Some(error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Slow down",
            "Too many requests from your address. Please wait a few minutes.",
        ));
    }
    None
}

/// How a request's status reads to its customer.
pub(crate) fn status_words(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::New | TicketStatus::Open | TicketStatus::OnHold => "waiting for us",
        TicketStatus::Pending => "waiting for your reply",
        TicketStatus::Solved | TicketStatus::Closed => "solved",
    }
}
