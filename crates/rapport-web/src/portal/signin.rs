//! Signing in to the portal by emailed link, "my requests", and signing out.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::{EmailAddress, FieldError, Principal};
use rapport_http::AppState;
use rapport_http::client::ClientIp;
use rapport_store::secrets::token_hash;
use rapport_store::{customers, op, portal, secrets, tickets};
use serde::Deserialize;

use super::{csrf_ok, csrf_token, link_of, refuse_post, status_words, with_csrf};
use crate::page::{error_page, page, store_error};
use crate::sessions::{cookie, set_cookie};

/// The portal session cookie: a random token; the store keeps its hash and the customer,
/// so signing out ends the session for every copy of the cookie.
pub(crate) const PORTAL_SESSION: &str = "rapport_portal";
/// How long a portal session lasts.
const SESSION_SECS: i64 = 7 * 86_400;

/// The signed-in customer, if the portal cookie names a live session (the portal and
/// the community read it the same way).
pub(crate) async fn portal_customer(st: &AppState, headers: &HeaderMap) -> Option<i64> {
    let hash = token_hash(cookie(headers, PORTAL_SESSION, st.https)?);
    let now = st.now();
    st.db
        .read(op!(c => portal::session_customer(c, &hash, now).await))
        .await
        .ok()
        .flatten()
}

#[derive(Template, Default)]
#[template(path = "portal_signin.html")]
struct SignInPage {
    csrf: String,
    /// "ask" (the address form), "sent", "confirm" (the button that uses the link) or
    /// "invalid".
    step: String,
    token: String,
    /// The page of this site to land on after signing in (empty: "my requests").
    next: String,
}

fn signin_page(
    st: &AppState,
    headers: &HeaderMap,
    step: &str,
    token: &str,
    next: Option<String>,
    status: StatusCode,
) -> Response {
    let csrf = csrf_token(st, headers);
    let mut r = page(&SignInPage {
        csrf: csrf.clone(),
        step: step.to_owned(),
        token: token.to_owned(),
        next: next.unwrap_or_default(),
    });
    *r.status_mut() = status;
    with_csrf(st, r, &csrf)
}

/// Where to land after signing in: `?next=` when it is a page of this site.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The "email me a sign-in link" form; `?next=` (a page of this site, else ignored) is
/// carried through the emailed link.
pub async fn signin_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = crate::next::local(q.next.as_deref());
    signin_page(&st, &headers, "ask", "", next, StatusCode::OK)
}

/// The sign-in request form.
#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    email: String,
    /// Where to land after signing in (kept only when it is a page of this site).
    #[serde(default)]
    next: String,
}

/// Emails a sign-in link when the address belongs to a customer. The answer is the same
/// whether it does or not, so the form cannot be used to find out who is a customer.
/// Links count toward the overall hourly cap on automatic mail and may use at most half
/// of it (`notify::signin_link_within_cap`), besides the per-address allowance.
pub async fn signin_request(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    if let Some(r) = refuse_post(&st, &headers, &f.csrf, ip) {
        return r;
    }
    st.portal_posts.fail(ip);
    let Ok(email) = EmailAddress::parse(&f.email) else {
        return store_error(FieldError::new("email", "is not an email address").into());
    };
    let next = crate::next::local(Some(&f.next));
    let token = secrets::random_hex(32);
    let hash = rapport_store::secrets::token_hash(&token);
    let sealed_token = st.sealer.seal(&token);
    let now = st.now();
    let cap = st.auto_mail_per_hour;
    let r = st
        .db
        .write(op!(c => {
            use rapport_store::notify;
            let Some(customer_id) =
                rapport_store::portal::create_token(c, &email, &hash, now).await?
            else {
                return Ok(());
            };
            if notify::signin_link_within_cap(c, cap, now).await? {
                let notice = notify::Notice::PortalLink {
                    customer_id,
                    sealed_token,
                    next,
                };
                notify::queue_automatic(c, &notice, email.as_str(), "signin", now).await?;
            }
            Ok(())
        }))
        .await;
    match r {
        Ok(()) => signin_page(&st, &headers, "sent", "", None, StatusCode::OK),
        Err(e) => store_error(e),
    }
}

/// The page an emailed link opens: a button that signs in. Using the link takes a
/// deliberate POST, so mail scanners that follow links do not use it up. The link's
/// `?next=` rides along in the form when it is a page of this site.
pub async fn signin_link(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(q): Query<NextQuery>,
) -> Response {
    let hash = rapport_store::secrets::token_hash(&token);
    let now = st.now();
    let valid = st
        .db
        .read(op!(c => rapport_store::portal::token_valid(c, &hash, now).await))
        .await;
    match valid {
        Ok(true) => signin_page(
            &st,
            &headers,
            "confirm",
            &token,
            crate::next::local(q.next.as_deref()),
            StatusCode::OK,
        ),
        Ok(false) => signin_page(&st, &headers, "invalid", "", None, StatusCode::NOT_FOUND),
        Err(e) => store_error(e),
    }
}

/// A form with only its CSRF token (signing out).
#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
}

/// The confirm button's form.
#[derive(Deserialize)]
pub struct SignInConfirmForm {
    csrf: String,
    /// Where to land (kept only when it is a page of this site).
    #[serde(default)]
    next: String,
}

/// Uses the link up and signs the customer in: to the page `next` names when it is one
/// of this site (the community page they came from), else to "my requests".
pub async fn signin_confirm(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<SignInConfirmForm>,
) -> Response {
    if !csrf_ok(&st, &headers, &f.csrf) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "Open the link from your email again.",
        );
    }
    let hash = token_hash(&token);
    let now = st.now();
    let session = secrets::random_hex(32);
    let session_hash = token_hash(&session);
    let used = st
        .db
        .write(op!(c => {
            let Some(customer) = portal::consume_token(c, &hash, now).await? else {
                return Ok(false);
            };
            portal::create_session(c, customer, &session_hash, now, SESSION_SECS).await?;
            Ok(true)
        }))
        .await;
    match used {
        Ok(true) => {}
        Ok(false) => {
            return signin_page(&st, &headers, "invalid", "", None, StatusCode::NOT_FOUND);
        }
        Err(e) => return store_error(e),
    }
    let to = crate::next::local(Some(&f.next)).unwrap_or_else(|| "/portal/requests".to_owned());
    let mut r = Redirect::to(&to).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PORTAL_SESSION, &session, SESSION_SECS, "Lax", st.https),
    );
    r
}

#[derive(Template)]
#[template(path = "portal_requests.html")]
struct MyRequestsPage {
    email: String,
    requests: Vec<(String, i64, String, String)>,
    csrf: String,
}

/// "My requests": every request of the signed-in customer, each with its private link.
pub async fn my_requests(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let Some(customer) = portal_customer(&st, &headers).await else {
        return Redirect::to("/portal/signin").into_response();
    };
    let who = Principal::Customer(customer);
    let loaded = st
        .db
        .read(op!(c => {
            let email = customers::get(c, customer).await?.email;
            let generations = portal::link_generations(c, customer).await?;
            let list = tickets::for_customer(c, &who, customer)
                .await?
                .into_iter()
                .map(|t| {
                    let generation = generations.get(&t.id).copied().unwrap_or(0);
                    (t, generation)
                })
                .collect::<Vec<_>>();
            Ok((email, list))
        }))
        .await;
    let (email, list) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let requests = list
        .iter()
        .map(|(t, generation)| {
            (
                link_of(&st, t.id, *generation),
                t.number,
                t.subject.clone(),
                status_words(t.status).to_owned(),
            )
        })
        .collect();
    let csrf = csrf_token(&st, &headers);
    let r = page(&MyRequestsPage {
        email,
        requests,
        csrf: csrf.clone(),
    });
    with_csrf(&st, r, &csrf)
}

/// Signs the customer out of the portal: the session ends on the server, so a copy of
/// the cookie no longer works either.
pub async fn signout(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<ConfirmForm>,
) -> Response {
    if !csrf_ok(&st, &headers, &f.csrf) {
        return error_page(StatusCode::FORBIDDEN, "Form expired", "Reload the page.");
    }
    if let Some(token) = cookie(&headers, PORTAL_SESSION, st.https) {
        let hash = token_hash(token);
        if let Err(e) = st
            .db
            .write(op!(c => portal::end_session(c, &hash).await))
            .await
        {
            return store_error(e);
        }
    }
    let mut r = Redirect::to("/portal/signin").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PORTAL_SESSION, "", 0, "Lax", st.https),
    );
    r
}
