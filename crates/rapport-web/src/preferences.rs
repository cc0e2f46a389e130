//! The agent's own preferences page: notification emails and the time zone times are
//! shown in.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Zone;
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::{StoreError, notify, people};
use serde::Deserialize;

use crate::page::{MeView, page, store_error, write_then};
use crate::sessions::{CsrfForm, Me};

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    me: MeView,
    email_notifications: bool,
    time_zone: String,
    zones: &'static [String],
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
        .read(op!(c => {
            Ok((
                notify::email_notifications(c, id).await?,
                people::time_zone(c, id).await?,
            ))
        }))
        .await
    {
        Ok((on, zone)) => page(&PreferencesPage {
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
