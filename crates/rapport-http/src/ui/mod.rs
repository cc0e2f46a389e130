//! The browser side: the agent workspace and the customer portal, server-rendered with
//! askama templates checked at compile time, plus a little plain JavaScript for live
//! updates, presence and keyboard shortcuts. No Node at build time: assets are compiled
//! into the binary.

pub mod admin;
pub mod agent;
pub mod auth;
pub mod portal;
pub mod render;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rapport_store::secrets::token_hash;
use rapport_store::sessions::{self, SessionInfo};

use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "rapport_session";

/// Every page and form of the browser side.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/inbox") }))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/inbox", get(agent::inbox))
        .route("/tickets/{id}", get(agent::ticket))
        .route("/tickets/{id}/reply", post(agent::reply))
        .route("/tickets/{id}/note", post(agent::note))
        .route("/tickets/{id}/update", post(agent::update))
        .route("/tickets/{id}/assign-me", post(agent::assign_me))
        .route("/tickets/{id}/merge", post(agent::merge))
        .route("/tickets/{id}/macro", post(agent::apply_macro))
        .route("/tickets/{id}/time", post(agent::log_time))
        .route("/messages/{id}/split", post(agent::split))
        .route("/admin/macros", post(admin::add_macro))
        .route("/inbox/bulk", post(agent::bulk))
        .route("/inbox/views", post(agent::save_view))
        .route("/admin/fields", post(admin::add_field))
        .route(
            "/preferences",
            get(agent::preferences).post(agent::save_preferences),
        )
        .route("/admin/mailboxes", post(admin::add_mailbox))
        .route("/admin/mailboxes/{id}", post(admin::edit_mailbox))
        .route("/forgot", get(auth::forgot))
        .route("/tickets/{id}/presence", post(agent::presence))
        .route("/search", get(agent::search))
        .route("/admin", get(admin::index))
        .route("/admin/users", post(admin::add_user))
        .route("/admin/teams", post(admin::add_team))
        .route("/admin/members", post(admin::add_member))
        .route("/admin/categories", post(admin::add_category))
        .route("/customers/{id}", get(agent::customer))
        .route("/live", get(agent::live))
        .route("/attachments/{id}", get(agent::attachment))
        .route("/portal", get(|| async { Redirect::to("/portal/new") }))
        .route("/portal/new", get(portal::new_form).post(portal::submit))
        .route(
            "/portal/signin",
            get(portal::signin_form).post(portal::signin_request),
        )
        .route(
            "/portal/signin/{token}",
            get(portal::signin_link).post(portal::signin_confirm),
        )
        .route("/portal/requests", get(portal::my_requests))
        .route("/portal/signout", post(portal::signout))
        .route(
            "/portal/requests/{id}",
            get(portal::view).post(portal::reply),
        )
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
}

async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    )
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Renders a template, or a plain 500 if it cannot be rendered.
pub fn page<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "page failed").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// An error as a page.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let mut r = page(&ErrorPage { title, message });
    *r.status_mut() = status;
    r
}

/// A store error as a page.
pub fn store_error(e: rapport_store::StoreError) -> Response {
    use rapport_store::StoreError as E;
    match e {
        E::NotFound(what) => error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("That {what} does not exist."),
        ),
        E::Forbidden(m) => error_page(StatusCode::FORBIDDEN, "Not allowed", m),
        E::Invalid(f) => error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Please check your input",
            &f.to_string(),
        ),
        E::Conflict(m) => error_page(StatusCode::CONFLICT, "Cannot do that now", &m),
        E::Db(m) => {
            tracing::error!(error = %m, "database failure");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The change was not saved. Please try again.",
            )
        }
    }
}

/// A multipart form read whole: its text fields and its non-empty files.
pub struct MultipartForm {
    /// Text fields by name (the last value wins).
    pub fields: std::collections::HashMap<String, String>,
    /// Files from file inputs.
    pub files: Vec<rapport_store::messages::NewAttachment>,
}

impl MultipartForm {
    /// A text field, or empty.
    pub fn text(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

/// Reads a multipart form; a body past the limit or a broken form is an error to show.
pub async fn read_multipart(
    mut form: axum::extract::Multipart,
) -> Result<MultipartForm, (StatusCode, String)> {
    let mut out = MultipartForm {
        fields: std::collections::HashMap::new(),
        files: Vec::new(),
    };
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(out),
            Err(e) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    format!("The form could not be read: {e}"),
                ));
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if let Some(filename) = field.file_name().map(str::to_owned) {
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let Ok(data) = field.bytes().await else {
                return Err((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The attachment is too large (10 MB at most).".into(),
                ));
            };
            if !filename.is_empty() && !data.is_empty() {
                out.files.push(rapport_store::messages::NewAttachment {
                    filename,
                    content_type,
                    data: data.to_vec(),
                    content_id: None,
                });
            }
        } else {
            let value = field.text().await.unwrap_or_default();
            out.fields.insert(name, value);
        }
    }
}

/// Runs a write; answers with what `done` makes of its result, or with the error as a
/// page. Every form handler ends this way.
pub async fn write_then<T, F>(st: &AppState, op: F, done: impl FnOnce(T) -> Response) -> Response
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut dyn rapport_store::Conn) -> rapport_store::db::OpFuture<'c, T>
        + Send
        + 'static,
{
    match st.db.write(op).await {
        Ok(v) => done(v),
        Err(e) => store_error(e),
    }
}

/// Reads one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite, Secure over TLS.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    same_site: &str,
    https: bool,
) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares secrets without leaking where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The signed-in agent of a page, with the session's CSRF token.
pub struct Me {
    /// Who, role, teams, name, CSRF token.
    pub session: SessionInfo,
}

impl Me {
    /// The refusal of a form that does not carry this session's CSRF token, if it does not.
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

async fn session_of(parts: &Parts, state: &AppState) -> Option<Me> {
    let token = cookie(&parts.headers, SESSION_COOKIE)?;
    let hash = token_hash(token);
    let now = state.now();
    state
        .db
        .read(move |c| Box::pin(async move { sessions::lookup(c, &hash, now).await }))
        .await
        .ok()
        .flatten()
        .map(|session| Me { session })
}

impl FromRequestParts<AppState> for Me {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match session_of(parts, state).await {
            Some(me) => Ok(me),
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
