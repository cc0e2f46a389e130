//! The customer portal: a public "new request" form, and a private link per request —
//! signed with a server key, unguessable — to follow the conversation and answer it.
//! Forms carry a double-submit CSRF token; submissions are rate-limited per address.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, Mac};
use rapport_domain::{Body, Channel, EmailAddress, FieldError, Priority, Subject, TicketStatus};
use rapport_store::messages::{self, NewAttachment};
use rapport_store::tickets::{self, NewTicket};
use rapport_store::{StoreError, sessions};
use serde::Deserialize;
use sha2::Sha256;

use super::render::{MessageView, message_view};
use super::{cookie, error_page, page, same_secret, set_cookie, store_error};
use crate::state::AppState;

const PORTAL_CSRF: &str = "rapport_portal_csrf";
const KEY_NAME: &str = "portal_link_key";

async fn link_key(st: &AppState) -> Result<String, StoreError> {
    st.db
        .write(|c| Box::pin(async move { sessions::secret(c, KEY_NAME).await }))
        .await
}

fn sign(key: &str, ticket_id: i64) -> String {
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

fn with_csrf(st: &AppState, mut r: Response, token: &str) -> Response {
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PORTAL_CSRF, token, 86_400, "Strict", st.https),
    );
    r
}

fn csrf_ok(headers: &HeaderMap, token: &str) -> bool {
    cookie(headers, PORTAL_CSRF).is_some_and(|c| !c.is_empty() && same_secret(c, token))
}

/// The refusal of a public form post, if any: a stale form (CSRF), or too many posts
/// from the address.
fn refuse_post(
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
fn status_words(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::New | TicketStatus::Open | TicketStatus::OnHold => "waiting for us",
        TicketStatus::Pending => "waiting for your reply",
        TicketStatus::Solved | TicketStatus::Closed => "solved",
    }
}

#[derive(Template, Default)]
#[template(path = "portal_new.html")]
struct NewPage {
    csrf: String,
    email: String,
    name: String,
    subject: String,
    message: String,
    error: Option<String>,
}

/// The new-request form.
pub async fn new_form(State(st): State<AppState>) -> Response {
    let csrf = sessions::random_hex(16);
    let r = page(&NewPage {
        csrf: csrf.clone(),
        ..NewPage::default()
    });
    with_csrf(&st, r, &csrf)
}

fn form_error(st: &AppState, mut p: NewPage, status: StatusCode, msg: String) -> Response {
    p.csrf = sessions::random_hex(16);
    p.error = Some(msg);
    let csrf = p.csrf.clone();
    let mut r = page(&p);
    *r.status_mut() = status;
    with_csrf(st, r, &csrf)
}

/// Takes a new request and shows its number and private link.
pub async fn submit(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let mut p = NewPage::default();
    let form = match super::read_multipart(form).await {
        Ok(f) => f,
        Err((status, msg)) => return form_error(&st, p, status, msg),
    };
    let csrf = form.text("csrf");
    p.email = form.text("email");
    p.name = form.text("name");
    p.subject = form.text("subject");
    p.message = form.text("message");
    let file = form.files.into_iter().next();
    if !csrf_ok(&headers, &csrf) {
        return form_error(
            &st,
            p,
            StatusCode::FORBIDDEN,
            "This form expired. Please send it again.".into(),
        );
    }
    if st.portal_posts.is_blocked(addr.ip()) {
        return form_error(
            &st,
            p,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests from your address. Please wait a few minutes.".into(),
        );
    }
    let attachments: Vec<NewAttachment> = file.into_iter().collect();
    let parsed = (|| -> Result<NewTicket, FieldError> {
        let email = EmailAddress::parse(&p.email)?;
        NewAttachment::check_all(&attachments)?;
        Ok(NewTicket {
            subject: Subject::parse(&p.subject)?,
            body: Body::parse(&p.message).map_err(|e| FieldError::new("message", e.message))?,
            customer_email: email,
            customer_name: Some(p.name.trim().to_owned()).filter(|n| !n.is_empty()),
            channel: Channel::Web,
            priority: Priority::Normal,
            category: None,
            tags: Vec::new(),
            custom_fields: serde_json::Map::new(),
            team_id: None,
            assignee_id: None,
            attachments: attachments.clone(),
        })
    })();
    let new = match parsed {
        Ok(n) => n,
        Err(e) => {
            return form_error(
                &st,
                p,
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Please check the {}: {}", e.field, e.message),
            );
        }
    };
    st.portal_posts.fail(addr.ip());
    let now = st.now();
    let created = st
        .db
        .write(move |c| Box::pin(async move { tickets::create(c, None, new, now).await }))
        .await;
    let t = match created {
        Ok(t) => t,
        Err(e) => return store_error(e),
    };
    match private_link(&st, t.id).await {
        Ok(link) => Redirect::to(&format!("{link}&new=1")).into_response(),
        Err(e) => store_error(e),
    }
}

/// The private link's query.
#[derive(Deserialize)]
pub struct KeyQuery {
    key: String,
    new: Option<String>,
}

#[derive(Template)]
#[template(path = "portal_ticket.html")]
struct RequestPage {
    just_created: bool,
    number: i64,
    subject: String,
    status: String,
    link: String,
    full_link: String,
    messages: Vec<MessageView>,
    open: bool,
    csrf: String,
}

/// The refusal of a link whose key does not match, if it does not.
async fn reject_key(st: &AppState, id: i64, key: &str) -> Option<Response> {
    match link_key(st).await {
        Err(e) => Some(store_error(e)),
        Ok(server_key) if same_secret(&sign(&server_key, id), key) => None,
        Ok(_) => Some(error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "This link is not valid.",
        )),
    }
}

/// The customer's view of their request (public messages only).
pub async fn view(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<KeyQuery>,
) -> Response {
    if let Some(r) = reject_key(&st, id, &q.key).await {
        return r;
    }
    let loaded = st
        .db
        .read(move |c| {
            Box::pin(async move {
                let viewer = rapport_domain::Viewer {
                    user_id: 0,
                    role: rapport_domain::Role::Admin,
                    team_ids: Vec::new(),
                };
                let t = tickets::get(c, &viewer, id).await?;
                let msgs = messages::for_ticket(c, id).await?;
                Ok((t, msgs))
            })
        })
        .await;
    let (t, msgs) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let link = format!("/portal/requests/{id}?key={}", q.key);
    let you = "You".to_owned();
    let agent = |_: i64| "Support team".to_owned();
    let messages = msgs
        .iter()
        .filter(|m| !m.internal)
        .map(|m| message_view(m, &you, &agent))
        .collect();
    let csrf = sessions::random_hex(16);
    let r = page(&RequestPage {
        just_created: q.new.is_some(),
        number: t.number,
        subject: t.subject.clone(),
        status: status_words(t.status).into(),
        full_link: format!("{}{link}", st.public_url),
        link,
        messages,
        open: t.status != TicketStatus::Closed,
        csrf: csrf.clone(),
    });
    with_csrf(&st, r, &csrf)
}

/// The customer's reply form.
#[derive(Deserialize)]
pub struct ReplyForm {
    csrf: String,
    message: String,
}

/// Adds the customer's reply to their request.
pub async fn reply(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<KeyQuery>,
    Form(f): Form<ReplyForm>,
) -> Response {
    if let Some(r) = reject_key(&st, id, &q.key).await {
        return r;
    }
    if let Some(r) = refuse_post(&st, &headers, &f.csrf, addr) {
        return r;
    }
    let body = match Body::parse(&f.message) {
        Ok(b) => b,
        Err(e) => return store_error(e.into()),
    };
    st.portal_posts.fail(addr.ip());
    let now = st.now();
    match st
        .db
        .write(move |c| {
            Box::pin(async move {
                tickets::customer_reply(c, id, &body, Channel::Web, Vec::new(), now).await
            })
        })
        .await
    {
        Ok(_) => Redirect::to(&format!("/portal/requests/{id}?key={}", q.key)).into_response(),
        Err(e) => store_error(e),
    }
}

/// The portal session cookie: `customer.expiry.signature`.
const PORTAL_SESSION: &str = "rapport_portal";
/// How long a portal session lasts.
const SESSION_SECS: i64 = 7 * 86_400;

fn sign_session(key: &str, customer: i64, expires: i64) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("portal-session:{customer}:{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The signed-in customer, if the portal cookie is valid and unexpired.
async fn portal_customer(st: &AppState, headers: &HeaderMap) -> Option<i64> {
    let raw = cookie(headers, PORTAL_SESSION)?;
    let mut parts = raw.splitn(3, '.');
    let customer: i64 = parts.next()?.parse().ok()?;
    let expires: i64 = parts.next()?.parse().ok()?;
    let sig = parts.next()?;
    if expires < st.now().micros() / 1_000_000 {
        return None;
    }
    let key = link_key(st).await.ok()?;
    same_secret(&sign_session(&key, customer, expires), sig).then_some(customer)
}

#[derive(Template, Default)]
#[template(path = "portal_signin.html")]
struct SignInPage {
    csrf: String,
    /// "ask" (the address form), "sent", "confirm" (the button that uses the link) or
    /// "invalid".
    step: String,
    token: String,
}

fn signin_page(st: &AppState, step: &str, token: &str, status: StatusCode) -> Response {
    let csrf = sessions::random_hex(16);
    let mut r = page(&SignInPage {
        csrf: csrf.clone(),
        step: step.to_owned(),
        token: token.to_owned(),
    });
    *r.status_mut() = status;
    with_csrf(st, r, &csrf)
}

/// The "email me a sign-in link" form.
pub async fn signin_form(State(st): State<AppState>) -> Response {
    signin_page(&st, "ask", "", StatusCode::OK)
}

/// The sign-in request form.
#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    email: String,
}

/// Emails a sign-in link when the address belongs to a customer. The answer is the same
/// whether it does or not, so the form cannot be used to find out who is a customer.
pub async fn signin_request(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    if let Some(r) = refuse_post(&st, &headers, &f.csrf, addr) {
        return r;
    }
    st.portal_posts.fail(addr.ip());
    let Ok(email) = EmailAddress::parse(&f.email) else {
        return store_error(FieldError::new("email", "is not an email address").into());
    };
    let token = sessions::random_hex(32);
    let hash = rapport_store::secrets::token_hash(&token);
    let sealed_token = st.sealer.seal(&token);
    let now = st.now();
    let r = st
        .db
        .write(move |c| {
            Box::pin(async move {
                use rapport_store::notify;
                let Some(customer_id) =
                    rapport_store::portal::create_token(c, &email, &hash, now).await?
                else {
                    return Ok(());
                };
                if notify::take_auto_allowance(c, email.as_str(), "signin", now).await? {
                    let notice = notify::Notice::PortalLink {
                        customer_id,
                        sealed_token,
                    };
                    notify::queue(c, &notice, now).await?;
                }
                Ok(())
            })
        })
        .await;
    match r {
        Ok(()) => signin_page(&st, "sent", "", StatusCode::OK),
        Err(e) => store_error(e),
    }
}

/// The page an emailed link opens: a button that signs in. Using the link takes a
/// deliberate POST, so mail scanners that follow links do not use it up.
pub async fn signin_link(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let hash = rapport_store::secrets::token_hash(&token);
    let now = st.now();
    let valid = st
        .db
        .read(move |c| {
            Box::pin(async move { rapport_store::portal::token_valid(c, &hash, now).await })
        })
        .await;
    match valid {
        Ok(true) => signin_page(&st, "confirm", &token, StatusCode::OK),
        Ok(false) => signin_page(&st, "invalid", "", StatusCode::NOT_FOUND),
        Err(e) => store_error(e),
    }
}

/// The confirm button's form.
#[derive(Deserialize)]
pub struct ConfirmForm {
    csrf: String,
}

/// Uses the link up and signs the customer in to "my requests".
pub async fn signin_confirm(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    if !csrf_ok(&headers, &f.csrf) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "Open the link from your email again.",
        );
    }
    let hash = rapport_store::secrets::token_hash(&token);
    let now = st.now();
    let used = st
        .db
        .write(move |c| {
            Box::pin(async move { rapport_store::portal::consume_token(c, &hash, now).await })
        })
        .await;
    let customer = match used {
        Ok(Some(c)) => c,
        Ok(None) => return signin_page(&st, "invalid", "", StatusCode::NOT_FOUND),
        Err(e) => return store_error(e),
    };
    let key = match link_key(&st).await {
        Ok(k) => k,
        Err(e) => return store_error(e),
    };
    let expires = now.micros() / 1_000_000 + SESSION_SECS;
    let value = format!(
        "{customer}.{expires}.{}",
        sign_session(&key, customer, expires)
    );
    let mut r = Redirect::to("/portal/requests").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PORTAL_SESSION, &value, SESSION_SECS, "Lax", st.https),
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
    let loaded = st
        .db
        .read(move |c| {
            Box::pin(async move {
                let viewer = rapport_domain::Viewer {
                    user_id: 0,
                    role: rapport_domain::Role::Admin,
                    team_ids: Vec::new(),
                };
                let email = c
                    .one(
                        "SELECT email FROM customers WHERE id = $1",
                        &[customer.into()],
                    )
                    .await?
                    .text(0)?;
                Ok((email, tickets::for_customer(c, &viewer, customer).await?))
            })
        })
        .await;
    let (email, list) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let key = match link_key(&st).await {
        Ok(k) => k,
        Err(e) => return store_error(e),
    };
    let requests = list
        .iter()
        .map(|t| {
            (
                format!("/portal/requests/{}?key={}", t.id, sign(&key, t.id)),
                t.number,
                t.subject.clone(),
                status_words(t.status).to_owned(),
            )
        })
        .collect();
    let csrf = sessions::random_hex(16);
    let r = page(&MyRequestsPage {
        email,
        requests,
        csrf: csrf.clone(),
    });
    with_csrf(&st, r, &csrf)
}

/// Signs the customer out of the portal.
pub async fn signout(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<ConfirmForm>,
) -> Response {
    if !csrf_ok(&headers, &f.csrf) {
        return error_page(StatusCode::FORBIDDEN, "Form expired", "Reload the page.");
    }
    let mut r = Redirect::to("/portal/signin").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(PORTAL_SESSION, "", 0, "Lax", st.https),
    );
    r
}
