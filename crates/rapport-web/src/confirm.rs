//! Pages that stop a form to ask for more and then carry on with it: "are you sure?"
//! (a merge across customers) and "your password again" before an admin action
//! ([`ReauthForm`]). The asking page re-posts every field of the stopped form to the same
//! address, so nothing typed is lost.

use askama::Template;
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::sessions;
use serde::de::DeserializeOwned;

use crate::page::{page, store_error};
use crate::sessions::{CsrfForm, Me};
use rapport_http::client::ClientIp;
use rapport_http::password_check::{Verdict, check_own};

/// How long the password given again (or at sign-in) covers admin actions.
pub const REAUTH_SECS: i64 = 10 * 60;

/// The field the re-authentication page adds to the stopped form.
const PASSWORD_FIELD: &str = "reauth_password";

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    title: &'a str,
    message: &'a str,
    error: Option<&'a str>,
    action: &'a str,
    fields: &'a [(String, String)],
    password: bool,
    button: &'a str,
    back: &'a str,
}

/// A page that re-posts `fields` to `action` once the agent presses `button`, with an
/// extra field (`extra`, set to `1`) saying they confirmed.
pub fn confirm_page(
    title: &str,
    message: &str,
    action: &str,
    fields: &[(String, String)],
    extra: &str,
    button: &str,
    back: &str,
) -> Response {
    let mut fields: Vec<(String, String)> =
        fields.iter().filter(|(k, _)| k != extra).cloned().collect();
    fields.push((extra.to_owned(), "1".to_owned()));
    let mut r = page(&ConfirmPage {
        title,
        message,
        error: None,
        action,
        fields: &fields,
        password: false,
        button,
        back,
    });
    *r.status_mut() = StatusCode::CONFLICT;
    r
}

/// An agent's form (as [`CsrfForm`] checks it) that may need the agent's password again:
/// the handler calls [`ReauthForm::reauthenticate`] before an admin action (adding an
/// admin, setting mailbox credentials). The API is unaffected: tokens are not sessions.
pub struct ReauthForm<T> {
    /// The form's fields.
    pub fields: T,
    me: Me,
    action: String,
    raw: Vec<(String, String)>,
    password: Option<String>,
    ip: std::net::IpAddr,
}

impl<T: DeserializeOwned> FromRequest<AppState> for ReauthForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let me = <Me as FromRequestParts<AppState>>::from_request_parts(&mut parts, state).await?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(&mut parts, state).await;
        let action = parts.uri.path().to_owned();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let again = |b: Bytes| Request::from_parts(parts.clone(), Body::from(b));
        let raw = Form::<Vec<(String, String)>>::from_request(again(bytes.clone()), state).await;
        let CsrfForm(fields) = CsrfForm::<T>::from_request(again(bytes), state).await?;
        let Form(mut raw) = raw.map_err(IntoResponse::into_response)?;
        let password = raw
            .iter()
            .find(|(k, _)| k == PASSWORD_FIELD)
            .map(|(_, v)| v.clone());
        raw.retain(|(k, _)| k != PASSWORD_FIELD);
        Ok(ReauthForm {
            fields,
            me,
            action,
            raw,
            password,
            ip,
        })
    }
}

impl<T> ReauthForm<T> {
    /// Passes when the agent gave the password within [`REAUTH_SECS`] (signing in
    /// counts), or gives it right with this form; otherwise the page that asks for it and
    /// then sends this form again. Wrong passwords count in the account's one sign-in
    /// counter (`rapport_http::password_check`): the same key as its sign-ins, so the
    /// prompt gives no extra guesses.
    pub async fn reauthenticate(&self, st: &AppState) -> Result<(), Response> {
        let now = st.now();
        if self.me.session.reauthenticated_within(now, REAUTH_SECS) {
            return Ok(());
        }
        let Some(password) = self.password.clone().filter(|p| !p.is_empty()) else {
            return Err(self.ask(None, StatusCode::UNAUTHORIZED));
        };
        let user_id = self.me.session.viewer.user_id;
        match check_own(st, user_id, self.ip, password).await {
            Ok(Verdict::Right) => {}
            Ok(Verdict::Wait(_)) => {
                return Err(self.ask(
                    Some("Too many wrong passwords. Wait a few minutes and try again."),
                    StatusCode::TOO_MANY_REQUESTS,
                ));
            }
            Ok(Verdict::Wrong) => {
                return Err(self.ask(
                    Some("That password is not right."),
                    StatusCode::UNAUTHORIZED,
                ));
            }
            Err(e) => return Err(store_error(e)),
        }
        let token_hash = self.me.session.token_hash.clone();
        st.db
            .write(op!(c => sessions::reauthenticated(c, &token_hash, now).await))
            .await
            .map_err(store_error)
    }

    fn ask(&self, error: Option<&str>, status: StatusCode) -> Response {
        let mut r = page(&ConfirmPage {
            title: "Confirm your password",
            message: "This change needs your password again.",
            error,
            action: &self.action,
            fields: &self.raw,
            password: true,
            button: "Confirm and continue",
            back: "/admin",
        });
        *r.status_mut() = status;
        r
    }

    /// The form's fields as posted, for a page that asks to confirm something else.
    pub fn raw(&self) -> &[(String, String)] {
        &self.raw
    }
}
