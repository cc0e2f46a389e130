//! Presence (who else is viewing or typing on a ticket) and the `/live` stream of
//! changes to the tickets an agent may see.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_store::presence;
use rapport_store::stream::Position;
use rapport_store::tickets;
use serde::Deserialize;

use crate::page::{require, store_error};
use crate::session::{CsrfForm, Me};

/// A presence ping from the ticket page.
#[derive(Deserialize)]
pub struct PresenceForm {
    typing: Option<String>,
}

/// Records that this agent is on the ticket and answers who else is.
pub async fn presence(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PresenceForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let who = me.principal();
    let typing = f.typing.as_deref() == Some("1");
    let now = st.now();
    let r = st
        .db
        .write(move |c| {
            Box::pin(async move {
                tickets::get(c, &who, id).await?;
                presence::touch(c, id, viewer.user_id, typing, now).await?;
                presence::others(c, id, viewer.user_id, now).await
            })
        })
        .await;
    match r {
        Ok(others) => Json(
            others
                .into_iter()
                .map(|(name, typing)| serde_json::json!({"name": name, "typing": typing}))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => store_error(e),
    }
}

/// Server-sent events: one `ticket` event per change to a ticket this agent may see.
pub async fn live(State(st): State<AppState>, me: Me, headers: HeaderMap) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    changes(&st, me.session.viewer, resume).into_response()
}

/// The stream of `/live`: each change the viewer may see, as a `ticket` event whose data
/// is the event's JSON (`{"id", "ticket_id", "kind"}`) and whose id is its stream
/// position, so a reconnecting browser (`Last-Event-ID`) resumes where it stopped.
fn changes(
    st: &AppState,
    viewer: rapport_domain::Viewer,
    resume: Option<Position>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
    let events = st
        .live
        .events_for(st.db.clone(), move |team| viewer.can_see_team(team), resume);
    let stream = events.map(|e| {
        let data = serde_json::to_string(&e).unwrap_or_default();
        Ok(SseEvent::default()
            .event("ticket")
            .id(e.position.to_string())
            .data(data))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
