//! The `/live` stream: server-sent events for each change to a ticket the signed-in agent
//! may see (rapport-http's `live` follows the event stream and fans it out).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_http::live::LiveEvent;
use rapport_store::stream::Position;

use crate::page::require;
use crate::sessions::{Me, still_live};

/// Server-sent events: one `ticket` event per change to a ticket this agent may see.
pub async fn live(State(st): State<AppState>, me: Me, headers: HeaderMap) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    changes(&st, me.session.viewer, me.session.token_hash, resume).into_response()
}

/// How often an open stream checks its session even when no event comes.
const RECHECK_EVERY: Duration = Duration::from_secs(60);

/// What an open stream handles next.
enum Next {
    /// A change to send (once the session is checked).
    Event(LiveEvent),
    /// Time to check the session again.
    Check,
    /// The fan-out stopped (server shutdown): the stream ends.
    End,
}

/// The stream of `/live`: each change the viewer may see, as a `ticket` event whose data
/// is the event's JSON (`{"id", "ticket_id", "kind"}`) and whose id is its stream
/// position, so a reconnecting browser (`Last-Event-ID`) resumes where it stopped.
/// Before each event, and at least every [`RECHECK_EVERY`], the stream checks that its
/// session (`token_hash`) is still live; once it is not — signed out, expired, idle, the
/// agent deactivated or their password changed — the stream ends.
fn changes(
    st: &AppState,
    viewer: rapport_domain::Viewer,
    token_hash: String,
    resume: Option<Position>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
    // The fan-out's events, then `End` when it stops (server shutdown), interleaved with a
    // `Check` every RECHECK_EVERY; the stream ends at `End` or at a failed check.
    let events = st
        .live
        .events_for(st.db.clone(), move |team| viewer.can_see_team(team), resume)
        .map(Next::Event)
        .chain(futures::stream::once(std::future::ready(Next::End)));
    let checks = futures::stream::unfold((), |()| async {
        tokio::time::sleep(RECHECK_EVERY).await;
        Some((Next::Check, ()))
    });
    let st = st.clone();
    let checked = futures::stream::select(events, checks)
        .take_while(|next| std::future::ready(!matches!(next, Next::End)))
        .then(move |next| {
            let (st, hash) = (st.clone(), token_hash.clone());
            async move { (still_live(&st, &hash).await, next) }
        })
        .take_while(|(live, _)| std::future::ready(*live))
        .filter_map(|(_, next)| {
            std::future::ready(match next {
                Next::Event(e) => Some(e),
                Next::Check | Next::End => None,
            })
        });
    let stream = checked.map(|e| {
        let data = serde_json::to_string(&e).unwrap_or_default();
        Ok(SseEvent::default()
            .event("ticket")
            .id(e.position.to_string())
            .data(data))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
