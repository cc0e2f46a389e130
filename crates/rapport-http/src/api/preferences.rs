//! An agent's own preferences.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// An agent's own preferences.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Email me when a ticket is assigned to me or its customer replies (default true).
    pub email_notifications: bool,
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
    let on = st
        .db
        .read(move |c| {
            Box::pin(async move { rapport_store::notify::email_notifications(c, id).await })
        })
        .await?;
    Ok(Json(Preferences {
        email_notifications: on,
    }))
}

/// Changes the signed-in agent's preferences.
#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "people",
    request_body = Preferences,
    responses((status = 200, body = Preferences), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_preferences(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(p): JsonBody<Preferences>,
) -> ApiResult<Json<Preferences>> {
    let id = viewer.user_id;
    let on = p.email_notifications;
    st.db
        .write(move |c| {
            Box::pin(async move { rapport_store::notify::set_email_notifications(c, id, on).await })
        })
        .await?;
    Ok(Json(p))
}
