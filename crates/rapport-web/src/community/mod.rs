//! The community forum's pages: `/community` (topics: newest, unanswered, most voted,
//! search, and the "ask a question" form with suggestions while typing), a topic's page
//! (the question, answers with the accepted one first, votes, answering), and the
//! agents' moderation (hide, lock, spam, the queue, topic → ticket).
//!
//! Who is reading: an agent (the workspace session, [`Me`]) or a customer signed in
//! through the portal's emailed link (the portal session) — anyone else reads what is
//! shown and is offered the portal sign-in. Forms carry a CSRF token: the agent
//! session's, or the portal's double-submit cookie for customers, whose posts also count
//! against the portal's limit per client address.

pub mod moderation;
pub mod posts;
pub mod topics;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use rapport_domain::{Principal, Timestamp, Zone};
use rapport_http::AppState;

use crate::page::error_page;
use crate::portal::{csrf_ok, with_csrf};
use crate::sessions::Me;

/// The community's pages and forms.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/community", get(topics::list))
        .route("/community/topics", post(topics::ask))
        .route("/community/topics/{id}", get(topics::topic))
        .route("/community/topics/{id}/answers", post(posts::answer))
        .route("/community/topics/{id}/accept", post(posts::accept))
        .route("/community/posts/{id}/vote", post(posts::vote))
        .route("/community/posts/{id}/moderate", post(moderation::moderate))
        .route("/community/topics/{id}/lock", post(moderation::lock))
        .route("/community/topics/{id}/ticket", post(moderation::to_ticket))
        .route(
            "/community/topics/{id}/article",
            post(moderation::to_article),
        )
        .route("/community/moderation", get(moderation::queue))
        .route("/assets/community.js", get(script))
        .route("/assets/community.css", get(style))
}

async fn script() -> Response {
    crate::asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/community.js"),
    )
}

async fn style() -> Response {
    crate::asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/community.css"),
    )
}

/// Who is reading a community page.
pub(crate) enum Reader {
    /// An agent, by their workspace session.
    Agent(Me),
    /// A customer signed in to the portal.
    Customer(i64),
    /// Anyone else.
    Anonymous,
}

impl Reader {
    /// Finds the reader: an agent session first, then a portal session.
    pub(crate) async fn of(st: &AppState, headers: &HeaderMap, me: Option<Me>) -> Self {
        if let Some(me) = me {
            return Reader::Agent(me);
        }
        match crate::portal::signin::portal_customer(st, headers).await {
            Some(id) => Reader::Customer(id),
            None => Reader::Anonymous,
        }
    }

    /// The reader as the store's principal.
    pub(crate) fn principal(&self) -> Option<Principal> {
        match self {
            Reader::Agent(me) => Some(me.principal()),
            Reader::Customer(id) => Some(Principal::Customer(*id)),
            Reader::Anonymous => None,
        }
    }

    pub(crate) fn is_agent(&self) -> bool {
        matches!(self, Reader::Agent(_))
    }

    pub(crate) fn customer(&self) -> Option<i64> {
        match self {
            Reader::Customer(id) => Some(*id),
            _ => None,
        }
    }

    /// The CSRF token a page's forms carry: the agent session's, or the browser's portal
    /// one ([`crate::portal::csrf_token`]: kept while valid, so a forum page opened in
    /// another tab does not expire a form open in this one; set as a cookie by
    /// [`Reader::finish`]).
    pub(crate) fn csrf(&self, st: &AppState, headers: &HeaderMap) -> String {
        match self {
            Reader::Agent(me) => me.session.csrf.clone(),
            _ => crate::portal::csrf_token(st, headers),
        }
    }

    /// Sets the portal's CSRF cookie on a page for a non-agent reader.
    pub(crate) fn finish(&self, st: &AppState, r: Response, csrf: &str) -> Response {
        match self {
            Reader::Agent(_) => r,
            _ => with_csrf(st, r, csrf),
        }
    }

    /// The refusal of a form post, if any: no one signed in (403), a stale form (403),
    /// or — for customers — too many posts from the client address (429). A customer's
    /// post counts against that address.
    pub(crate) fn refuse_post(
        &self,
        st: &AppState,
        headers: &HeaderMap,
        csrf: &str,
        ip: std::net::IpAddr,
    ) -> Option<Response> {
        let refused = self.refuse_form(st, headers, csrf, ip);
        if refused.is_none() && self.customer().is_some() {
            st.portal_posts.fail(ip);
        }
        refused
    }

    /// [`Reader::refuse_post`] for a form that writes no text (a vote): it does not
    /// count against the client address.
    pub(crate) fn refuse_form(
        &self,
        st: &AppState,
        headers: &HeaderMap,
        csrf: &str,
        ip: std::net::IpAddr,
    ) -> Option<Response> {
        match self {
            Reader::Agent(me) => me.reject_csrf(csrf),
            Reader::Customer(_) => crate::portal::refuse_post(st, headers, csrf, ip),
            Reader::Anonymous => Some(if csrf_ok(st, headers, csrf) {
                sign_in_first()
            } else {
                error_page(
                    StatusCode::FORBIDDEN,
                    "Form expired",
                    "Reload the page and try again.",
                )
            }),
        }
    }
}

/// The portal's sign-in page, bringing the customer back to `path` (a page of this
/// site) once they used the emailed link.
pub(crate) fn signin_link(path: &str) -> String {
    let next: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    format!("/portal/signin?next={next}")
}

pub(crate) fn sign_in_first() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Please sign in",
        "Sign in through the help center (we email you a link) to ask, answer or vote.",
    )
}

/// The answer when a customer used up their hourly allowance.
pub(crate) fn too_many_posts(per_hour: i64) -> Response {
    error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Slow down",
        &format!("You can post {per_hour} times an hour for now. Please come back a little later."),
    )
}

/// A post's markdown as safe HTML: rendered by pulldown-cmark and cleaned by ammonia —
/// no raw HTML that runs, no `javascript:` or `data:` links, no images (no tracking
/// pixels from strangers); links are `nofollow ugc`.
pub fn post_html(markdown: &str) -> String {
    let parser =
        pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default()
        .rm_tags(["img"])
        .link_rel(Some("nofollow ugc noopener noreferrer"))
        .clean(&html)
        .to_string()
}

/// A time as the pages show it (UTC), and its ISO form.
pub(crate) fn shown_time(t: Timestamp) -> (String, String) {
    crate::render::when(t, &Zone::utc())
}

#[cfg(test)]
mod tests {
    use super::post_html;

    #[test]
    fn posts_are_sanitised() {
        let html = post_html(
            "**hi** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=y> \
             <a href=\"data:text/html,x\" onclick=\"z\">d</a> [ok](https://example.com)",
        );
        assert!(html.contains("<strong>hi</strong>"));
        for bad in [
            "<script",
            "javascript:",
            "onerror",
            "onclick",
            "data:",
            "<img",
        ] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("href=\"https://example.com\""));
        assert!(html.contains("nofollow ugc"));
    }
}
