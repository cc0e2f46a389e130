//! The customer portal: a public "new request" form, and a private link per request —
//! signed with a key derived from the server's secret key (never stored, so a copy of
//! the database cannot forge one), unguessable, revocable by an agent — to follow the
//! conversation and answer it; customers may also sign in by emailed link to list their
//! requests and see their orders, returns, points and vouchers. Forms carry a double-submit CSRF token (one per browser, kept while its
//! cookie lasts); submissions are rate-limited per address.

pub mod account;
pub mod deflection;
pub mod requests;
pub mod revoke;
pub mod signin;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use rapport_domain::TicketStatus;
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::{StoreError, portal, secrets};

use crate::page::error_page;
use crate::sessions::{cookie, same_secret, set_cookie};

const PORTAL_CSRF: &str = "rapport_portal_csrf";
/// The signature of a request's private links of generation `generation`.
pub(crate) fn sign(st: &AppState, ticket_id: i64, generation: i64) -> String {
    portal::link_signature(&st.sealer, ticket_id, generation)
}

/// The private link of a request, path and query, of its current generation.
pub async fn private_link(st: &AppState, ticket_id: i64) -> Result<String, StoreError> {
    let generation = st
        .db
        .read(op!(c => portal::link_generation(c, ticket_id).await))
        .await?;
    Ok(link_of(st, ticket_id, generation))
}

/// The private link of a request of a known generation.
pub(crate) fn link_of(st: &AppState, ticket_id: i64, generation: i64) -> String {
    portal::link_path(&st.sealer, ticket_id, generation)
}

/// The CSRF token for a public page's forms: the browser's current one (its cookie, when
/// well-formed), else a new one. Keeping it means a page opened in another tab — the help
/// article a suggestion of the new-request form links to — does not expire the forms
/// still open in this one.
pub(crate) fn csrf_token(st: &AppState, headers: &HeaderMap) -> String {
    cookie(headers, PORTAL_CSRF, st.https)
        .filter(|c| c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(|| secrets::random_hex(16), str::to_owned)
}

/// Sets the CSRF cookie of a public page whose forms carry `token` ([`csrf_token`]).
pub(crate) fn with_csrf(st: &AppState, mut r: Response, token: &str) -> Response {
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PORTAL_CSRF, token, 86_400, "Strict", st.https),
    );
    r
}

pub(crate) fn csrf_ok(st: &AppState, headers: &HeaderMap, token: &str) -> bool {
    cookie(headers, PORTAL_CSRF, st.https).is_some_and(|c| !c.is_empty() && same_secret(c, token))
}

/// The refusal of a public form post, if any: a stale form (CSRF), or too many posts
/// from the address.
pub(crate) fn refuse_post(
    st: &AppState,
    headers: &HeaderMap,
    csrf: &str,
    ip: std::net::IpAddr,
) -> Option<Response> {
    if !csrf_ok(st, headers, csrf) {
        return Some(error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "Reload the page and try again.",
        ));
    }
    if st.portal_posts.is_blocked(ip) {
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
