//! Requests in the portal: the new-request form, a request's private page, and the
//! customer's replies.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::{
    Body, Channel, CustomerName, EmailAddress, FieldError, Principal, Priority, Subject,
    TicketStatus,
};
use rapport_http::AppState;
use rapport_http::client::ClientIp;
use rapport_http::visitor::{Visitor, ensure_cookie};
use rapport_store::kb::deflection::{self, Attempt};
use rapport_store::messages::{self, NewAttachment};
use rapport_store::tickets::{self, NewTicket};
use rapport_store::{customers, op};
use serde::Deserialize;

use super::{csrf_ok, csrf_token, private_link, refuse_post, sign, status_words, with_csrf};
use crate::page::{error_page, page, read_multipart, store_error};
use crate::render::{MessageView, message_view};
use crate::sessions::same_secret;
use rapport_store::{StoreError, portal};

#[derive(Template, Default)]
#[template(path = "portal_new.html")]
struct NewPage {
    csrf: String,
    /// The visit's deflection id, issued for the visitor's cookie (see
    /// `portal::deflection`).
    deflection: String,
    email: String,
    name: String,
    subject: String,
    message: String,
    error: Option<String>,
}

/// The new-request form. It gives the visitor the search cookie, so the searches its
/// suggestions log and the request it files can be joined (the content-gap report), and
/// a deflection id bound to that cookie, which the suggestions' beacons must present.
pub async fn new_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    visitor: Visitor,
) -> Response {
    let csrf = csrf_token(&st, &headers);
    let mut r = page(&NewPage {
        csrf: csrf.clone(),
        deflection: deflection::issue(&st.sealer, &visitor.hash, st.now()),
        ..NewPage::default()
    });
    ensure_cookie(r.headers_mut(), &visitor, st.https);
    with_csrf(&st, r, &csrf)
}

/// The form again, with what was typed and why it was refused. Its deflection id is kept
/// while it is good for this visitor (the attempt goes on), else a new one is issued.
fn form_error(
    st: &AppState,
    mut p: NewPage,
    (headers, visitor): (&HeaderMap, &Visitor),
    status: StatusCode,
    msg: String,
) -> Response {
    p.csrf = csrf_token(st, headers);
    if Attempt::check(&st.sealer, &p.deflection, &visitor.hash, st.now()).is_err() {
        p.deflection = deflection::issue(&st.sealer, &visitor.hash, st.now());
    }
    p.error = Some(msg);
    let csrf = p.csrf.clone();
    let mut r = page(&p);
    *r.status_mut() = status;
    ensure_cookie(r.headers_mut(), visitor, st.https);
    with_csrf(st, r, &csrf)
}

/// Takes a new request and shows its number and private link.
pub async fn submit(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    form: Multipart,
) -> Response {
    let mut p = NewPage::default();
    let visitor = Visitor::from_headers(&headers, st.https);
    let form = match read_multipart(form).await {
        Ok(f) => f,
        Err((status, msg)) => return form_error(&st, p, (&headers, &visitor), status, msg),
    };
    let csrf = form.text("csrf");
    p.email = form.text("email");
    p.name = form.text("name");
    p.subject = form.text("subject");
    p.message = form.text("message");
    p.deflection = form.text("deflection");
    let file = form.files.into_iter().next();
    if !csrf_ok(&st, &headers, &csrf) {
        return form_error(
            &st,
            p,
            (&headers, &visitor),
            StatusCode::FORBIDDEN,
            "This form expired. Please send it again.".into(),
        );
    }
    if st.portal_posts.is_blocked(ip) {
        return form_error(
            &st,
            p,
            (&headers, &visitor),
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
            customer_name: CustomerName::parse(&p.name)?,
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
        // Its mood is read here, not inside the write.
        Ok(n) => {
            n.body.sentiment();
            n
        }
        Err(e) => {
            return form_error(
                &st,
                p,
                (&headers, &visitor),
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Please check the {}: {}", e.field, e.message),
            );
        }
    };
    st.portal_posts.fail(ip);
    let now = st.now();
    // Only an id this server issued to this visitor closes an attempt (whatever its
    // age: the form may have stayed open).
    let attempt = Attempt::check_any_age(&st.sealer, &p.deflection, &visitor.hash).ok();
    let visitor = (!visitor.is_new()).then(|| visitor.hash.clone());
    let created = st
        .db
        .write(op!(c => {
            let mut new = new;
            // Anyone can type any address here: a name given on this public form names
            // only a customer this request creates, never an existing one.
            if customers::exists(c, &new.customer_email).await? {
                new.customer_name = None;
            }
            let t = tickets::create(c, None, new, now).await?;
            // The attempt's articles become what the agent sees the customer read.
            if let Some(a) = &attempt {
                deflection::submitted(c, a, t.id, t.customer.id, now).await?;
            }
            if let Some(v) = visitor {
                deflection::record_visitor(c, t.id, &v, now).await?;
            }
            Ok(t)
        }))
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
    /// A solved request's survey: its page, and whether it was answered.
    survey: Option<(String, bool)>,
}

/// How many generations before the current one a key is compared with, to tell a revoked
/// link from a made-up one: a bad key costs at most this many HMACs more.
const REVOKED_GENERATIONS: i64 = 3;

/// Who holds a request's private link: the request's customer, once the key matches the
/// request's current link generation (the link is theirs to act with on this request);
/// otherwise the refusal — "revoked" (403) for a link an agent revoked recently, "not
/// valid" (404) for any other. Bad keys count against the client address in
/// `portal_posts` (429 past it), and a key that is not 64 hex digits costs no HMAC.
async fn link_holder(
    st: &AppState,
    ip: std::net::IpAddr,
    id: i64,
    key: &str,
) -> Result<Principal, Response> {
    if st.portal_posts.is_blocked(ip) {
        return Err(error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Slow down",
            "Too many requests from your address. Please wait a few minutes.",
        ));
    }
    if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        st.portal_posts.fail(ip);
        return Err(invalid_link());
    }
    let found = st
        .db
        .read(op!(c => {
            match portal::link_generation(c, id).await {
                Ok(generation) => Ok(Some((generation, tickets::customer_of(c, id).await?))),
                Err(StoreError::NotFound(_)) => Ok(None),
                Err(e) => Err(e),
            }
        }))
        .await;
    let (generation, customer) = match found {
        Ok(Some(x)) => x,
        Ok(None) => {
            st.portal_posts.fail(ip);
            return Err(invalid_link());
        }
        Err(e) => return Err(store_error(e)),
    };
    if same_secret(&sign(st, id, generation), key) {
        return Ok(Principal::Customer(customer));
    }
    st.portal_posts.fail(ip);
    let revoked = (generation.saturating_sub(REVOKED_GENERATIONS)..generation)
        .any(|g| same_secret(&sign(st, id, g), key));
    Err(if revoked {
        error_page(
            StatusCode::FORBIDDEN,
            "This link was revoked",
            "The help desk revoked this link to your request. Sign in to see your requests, or ask the help desk for a new link.",
        )
    } else {
        invalid_link()
    })
}

fn invalid_link() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "This link is not valid.",
    )
}

/// The customer's view of their request (public messages only).
pub async fn view(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<KeyQuery>,
) -> Response {
    let who = match link_holder(&st, ip, id, &q.key).await {
        Ok(who) => who,
        Err(r) => return r,
    };
    let loaded = st
        .db
        .read(op!(c => {
            let t = tickets::get(c, &who, id).await?;
            let msgs = messages::for_ticket(c, &who, id).await?;
            let survey = rapport_store::surveys::for_ticket(c, id).await?;
            Ok((t, msgs, survey))
        }))
        .await;
    let (t, msgs, survey) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let link = format!("/portal/requests/{id}?key={}", q.key);
    let you = "You".to_owned();
    let agent = |_: i64| "Support team".to_owned();
    let messages = msgs.iter().map(|m| message_view(m, &you, &agent)).collect();
    let csrf = csrf_token(&st, &headers);
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
        // Offered once the request is solved: here for every request that has one (an
        // email request's came by email too).
        survey: survey
            .filter(|_| matches!(t.status, TicketStatus::Solved | TicketStatus::Closed))
            .map(|s| {
                let token = rapport_store::surveys::link_token(&st.sealer, s.id);
                (format!("/survey/{token}"), s.answered_at.is_some())
            }),
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
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<KeyQuery>,
    Form(f): Form<ReplyForm>,
) -> Response {
    let who = match link_holder(&st, ip, id, &q.key).await {
        Ok(who) => who,
        Err(r) => return r,
    };
    if let Some(r) = refuse_post(&st, &headers, &f.csrf, ip) {
        return r;
    }
    let body = match Body::parse(&f.message) {
        // Its mood is read here, not inside the write.
        Ok(b) => {
            b.sentiment();
            b
        }
        Err(e) => return store_error(e.into()),
    };
    st.portal_posts.fail(ip);
    let now = st.now();
    match st
        .db
        .write(op!(c => {
            tickets::customer_reply(c, &who, id, &body, Channel::Web, Vec::new(), now).await
        }))
        .await
    {
        Ok(_) => Redirect::to(&format!("/portal/requests/{id}?key={}", q.key)).into_response(),
        Err(e) => store_error(e),
    }
}
