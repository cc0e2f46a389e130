//! An agent's own preferences.

use axum::Json;
use axum::extract::State;
use rapport_domain::Zone;
use rapport_store::op;
use rapport_store::{notify, people};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// An agent's own preferences.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preferences {
    /// Email me when a ticket is assigned to me or its customer replies (default true).
    pub email_notifications: bool,
    /// The IANA time zone times are shown in (default `UTC`).
    #[schema(example = "America/New_York")]
    pub time_zone: String,
}

/// A change to an agent's own preferences.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesUpdate {
    /// Email me when a ticket is assigned to me or its customer replies.
    pub email_notifications: bool,
    /// An IANA time zone such as `Europe/Paris`; left as it is when absent.
    #[serde(default)]
    #[schema(example = "America/New_York")]
    pub time_zone: Option<String>,
}

/// The signed-in agent's preferences.
#[utoipa::path(get, path = "/api/v1/me/preferences", tag = "people",
    responses((status = 200, body = Preferences), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_preferences(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Preferences>> {
    let id = viewer.user_id;
    let (on, zone) = st
        .db
        .read(op!(c => {
            Ok((
                notify::email_notifications(c, id).await?,
                people::time_zone(c, id).await?,
            ))
        }))
        .await?;
    Ok(Json(Preferences {
        email_notifications: on,
        time_zone: zone.name().to_owned(),
    }))
}

/// Changes the signed-in agent's preferences.
#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "people",
    request_body = PreferencesUpdate,
    responses((status = 200, body = Preferences), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_preferences(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(p): JsonBody<PreferencesUpdate>,
) -> ApiResult<Json<Preferences>> {
    let id = viewer.user_id;
    let on = p.email_notifications;
    let zone = p.time_zone.as_deref().map(Zone::parse).transpose()?;
    let zone = st
        .db
        .write(op!(c => {
            notify::set_email_notifications(c, id, on).await?;
            match zone {
                Some(zone) => {
                    people::set_time_zone(c, id, &zone).await?;
                    Ok(zone)
                }
                None => people::time_zone(c, id).await,
            }
        }))
        .await?;
    Ok(Json(Preferences {
        email_notifications: on,
        time_zone: zone.name().to_owned(),
    }))
}
