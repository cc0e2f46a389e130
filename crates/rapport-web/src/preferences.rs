//! The agent's own preferences page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_http::AppState;
use serde::Deserialize;

use crate::page::{MeView, page, store_error, write_then};
use crate::session::{CsrfForm, Me};

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    me: MeView,
    email_notifications: bool,
    saved: bool,
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
        .read(move |c| {
            Box::pin(async move { rapport_store::notify::email_notifications(c, id).await })
        })
        .await
    {
        Ok(on) => page(&PreferencesPage {
            me: MeView::of(&me, ""),
            email_notifications: on,
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
}

/// Saves the agent's preferences.
pub async fn save_preferences(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<PreferencesForm>,
) -> Response {
    let id = me.session.viewer.user_id;
    let on = f.email_notifications.is_some();
    write_then(
        &st,
        move |c| {
            Box::pin(async move { rapport_store::notify::set_email_notifications(c, id, on).await })
        },
        |()| Redirect::to("/preferences?saved=1").into_response(),
    )
    .await
}
