//! What every page shares: rendering a template, the layout's data ([`MeView`]), error
//! pages — whose status comes from the API's one error mapping — the permission check,
//! and reading multipart forms.

use askama::Template;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rapport_domain::{Permission, Viewer};
use rapport_http::{ApiError, AppState};
use rapport_store::StoreError;

use crate::sessions::Me;

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

/// A store error (or a rejected field, as `StoreError::Invalid`) as a page. The page
/// words it for people; the status is the API's, from `rapport_http::error` — the one
/// mapping, which also logs server faults once.
pub fn store_error(e: StoreError) -> Response {
    let (title, message) = match &e {
        StoreError::NotFound(what) => ("Not found", format!("That {what} does not exist.")),
        StoreError::Forbidden(m) => ("Not allowed", (*m).to_owned()),
        StoreError::Invalid(f) => ("Please check your input", f.to_string()),
        StoreError::Conflict(m) => ("Cannot do that now", m.clone()),
        StoreError::Db(_) => (
            "Something went wrong",
            "The change was not saved. Please try again.".to_owned(),
        ),
    };
    let status = ApiError::from(e).status();
    error_page(status, title, &message)
}

/// The refusal of a page or form, unless the agent's role grants `p` — the API's own
/// check ([`rapport_http::auth::require`]), answered as a page.
pub fn require(viewer: &Viewer, p: Permission) -> Option<Response> {
    rapport_http::auth::require(viewer, p)
        .err()
        .map(|e| error_page(e.status(), "Not allowed", "Your role does not allow this."))
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

/// What the agent layout needs.
pub struct MeView {
    /// Display name.
    pub name: String,
    /// CSRF token for forms.
    pub csrf: String,
    /// Shows the admin link.
    pub is_admin: bool,
    /// Shows the reports link.
    pub reports: bool,
    /// Shows the approvals link.
    pub approvals: bool,
    /// The search box's text.
    pub query: String,
}

impl MeView {
    /// The layout data for `me`, with `query` in the search box.
    pub fn of(me: &Me, query: &str) -> Self {
        Self {
            name: me.session.name.clone(),
            csrf: me.session.csrf.clone(),
            is_admin: me.session.viewer.can(Permission::ManageTeams),
            reports: me.session.viewer.can(Permission::ViewReports),
            approvals: me.session.viewer.can(Permission::ApproveGoodwill),
            query: query.to_owned(),
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
