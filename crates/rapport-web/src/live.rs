//! The `/live` stream: server-sent events for each change to a ticket the signed-in agent
//! may see (rapport-http's `live` follows the event stream and fans it out).

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_store::stream::Position;

use crate::page::require;
use crate::sessions::Me;

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
