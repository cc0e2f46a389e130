//! The agent's own preferences page: notification emails, the time zone times are
//! shown in, and their password.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::{FieldError, NewPassword, Zone};
use rapport_http::AppState;
use rapport_http::client::ClientIp;
use rapport_http::password_check::{Verdict, check_own, hash};
use rapport_store::op;
use rapport_store::{StoreError, notify, people, secrets};
use serde::Deserialize;

use crate::page::{MeView, error_page, page, store_error, write_then};
use crate::sessions::{CsrfForm, Me, SESSION_COOKIE, cookie};

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    me: MeView,
    email_notifications: bool,
    time_zone: String,
    zones: &'static [String],
    saved: bool,
    chat_status: &'static str,
    chat_limit: i64,
    open_chats: i64,
}

/// `?saved=1` after a save.
#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// The signed-in agent's preferences page.
pub async fn preferences(
    State(st): State<AppState>,
    me: Me,
    Query(q): Query<SavedQuery>,
) -> Response {
    let id = me.session.viewer.user_id;
    match st
        .db
        .read(op!(c => {
            Ok((
                notify::email_notifications(c, id).await?,
                people::time_zone(c, id).await?,
                rapport_store::chat::handoff::availability(c, id).await?,
            ))
        }))
        .await
    {
        Ok((on, zone, chat)) => page(&PreferencesPage {
            chat_status: chat.status.as_str(),
            chat_limit: chat.chat_limit,
            open_chats: chat.open_chats,
            me: MeView::of(&me, ""),
            email_notifications: on,
            time_zone: zone.name().to_owned(),
            zones: Zone::names(),
            saved: q.saved.is_some(),
        }),
        Err(e) => store_error(e),
    }
}

/// The preferences form.
#[derive(Deserialize)]
pub struct PreferencesForm {
    #[serde(default)]
    email_notifications: Option<String>,
    /// Absent from forms older than the time-zone choice: left as it is.
    #[serde(default)]
    time_zone: Option<String>,
}

/// Saves the agent's preferences.
pub async fn save_preferences(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<PreferencesForm>,
) -> Response {
    let id = me.session.viewer.user_id;
    let on = f.email_notifications.is_some();
    let zone = match f.time_zone.as_deref().map(Zone::parse).transpose() {
        Ok(z) => z,
        Err(e) => return store_error(StoreError::Invalid(e)),
    };
    write_then(
        &st,
        op!(c => {
            notify::set_email_notifications(c, id, on).await?;
            if let Some(zone) = zone {
                people::set_time_zone(c, id, &zone).await?;
            }
            Ok(())
        }),
        |()| Redirect::to("/preferences?saved=1").into_response(),
    )
    .await
}

/// The change-password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
}

/// Changes the agent's own password, given the current one, and ends their other browser
/// sessions (this one stays). Wrong current passwords count in the account's one sign-in
/// counter (`rapport_http::password_check`, per account and client address), so a stolen
/// session cannot guess the password quickly.
pub async fn change_password(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    me: Me,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Response {
    let id = me.session.viewer.user_id;
    let new = match NewPassword::parse("new_password", f.new_password) {
        Ok(p) => p,
        Err(e) => return store_error(e.into()),
    };
    match check_own(&st, id, ip, f.current_password).await {
        Ok(Verdict::Right) => {}
        Ok(Verdict::Wait(_)) => {
            return error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                "Too many wrong passwords from here. Wait a minute and try again.",
            );
        }
        Ok(Verdict::Wrong) => {
            return store_error(StoreError::Invalid(FieldError::new(
                "current_password",
                "is not your current password",
            )));
        }
        Err(e) => return store_error(e),
    }
    let hash = match hash(new).await {
        Ok(h) => h,
        Err(e) => return store_error(e),
    };
    let keep = cookie(&headers, SESSION_COOKIE, st.https).map(secrets::token_hash);
    write_then(
        &st,
        op!(c => people::set_password(c, id, &hash, keep.as_deref()).await),
        |()| Redirect::to("/preferences?saved=1").into_response(),
    )
    .await
}
