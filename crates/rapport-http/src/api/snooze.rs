//! Snoozing a ticket: `POST /api/v1/tickets/{id}/snooze` (until a time, until the
//! customer replies, or both, with a note — a follow-up reminder), `GET` the snooze,
//! `DELETE` to wake it now.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::snooze::{Until, note};
use rapport_domain::{Permission, Timestamp};
use rapport_store::op;
use rapport_store::snooze::{self, Snooze};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// A ticket's snooze.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Snooze)]
pub struct SnoozeView {
    /// The ticket.
    pub ticket_id: i64,
    /// Who snoozed it.
    pub user_id: i64,
    /// When it wakes (null: only on the customer's reply).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Whether the customer's reply wakes it.
    pub until_reply: bool,
    /// The note for whoever picks it up.
    pub note: String,
    /// When it was snoozed.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Snooze> for SnoozeView {
    fn from(s: Snooze) -> Self {
        Self {
            ticket_id: s.ticket_id,
            user_id: s.user_id,
            until: s.until_at,
            until_reply: s.until_reply,
            note: s.note,
            created_at: s.created_at,
        }
    }
}

/// `POST /api/v1/tickets/{id}/snooze`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeRequest {
    /// Wake at this time (in the future, within a year).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// Wake when the customer replies.
    #[serde(default)]
    pub until_reply: bool,
    /// What to do when it wakes (up to 500 characters).
    #[serde(default)]
    pub note: String,
}

/// Snoozes a ticket: it waits `pending` (only the customer's reply wakes it) or
/// `on-hold` (a time wakes it; its SLA clocks keep running), out of the working queues;
/// when the time comes it is `open` again and its owner is reminded.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/snooze", tag = "snooze",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = SnoozeRequest,
    responses((status = 200, body = SnoozeView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn snooze_ticket(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<SnoozeRequest>,
) -> ApiResult<Json<SnoozeView>> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    let until = Until::parse(req.until, req.until_reply, now)?;
    let note = note(&req.note)?;
    let s = st
        .db
        .write(op!(c => snooze::snooze(c, &viewer, id, until, &note, now).await))
        .await?;
    Ok(Json(s.into()))
}

/// A ticket's snooze (404 when it does not sleep).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/snooze", tag = "snooze",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = SnoozeView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_snooze(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SnoozeView>> {
    require(&viewer, Permission::WorkTickets)?;
    let s = st
        .db
        .read(op!(c => snooze::of_ticket(c, &viewer, id).await))
        .await?
        .ok_or_else(|| ApiError::not_found("snooze"))?;
    Ok(Json(s.into()))
}

/// Wakes a snoozed ticket now.
#[utoipa::path(delete, path = "/api/v1/tickets/{id}/snooze", tag = "snooze",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn wake_ticket(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    st.db
        .write(op!(c => snooze::wake(c, &viewer, id, now).await))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
