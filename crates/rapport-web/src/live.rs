//! The `/live` stream: server-sent events for each change to a ticket the signed-in agent
//! may see (rapport-http's `live` follows the event stream and fans it out).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_http::live::{LiveEvent, Resume};

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

/// The subject of the chat this event puts before people (`None` for any other event):
/// handed over by the bot, or new while the bot is off.
async fn new_chat(db: &rapport_store::Db, e: &LiveEvent) -> Option<String> {
    let kind = e.kind.clone();
    let ticket = e.ticket_id.filter(|_| kind == "handed_over")?;
    db.read(rapport_store::op!(c => rapport_store::chat::new_chat_subject(c, ticket, &kind).await))
        .await
        .ok()
        .flatten()
}

/// How often an open stream checks its session even when no event comes.
const RECHECK_EVERY: Duration = Duration::from_secs(60);

/// The shortest time between two checks of the session before events (1 s): at hundreds
/// of events a second, one database read per event per browser was the stream's limit.
const CHECK_GAP_MICROS: i64 = 1_000_000;

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
/// position, so a reconnecting browser (`Last-Event-ID`) resumes where it stopped. A new
/// chat is followed by a `chat` event (`{"ticket_id", "subject"}`) that the workspace
/// turns into a sound and a desktop notification, if the agent turned them on.
/// Before an event (at most once a second, [`CHECK_GAP_MICROS`]), and at least every
/// [`RECHECK_EVERY`], the stream checks that its session (`token_hash`) is still live; once it is not — signed out, expired, idle, the
/// agent deactivated or their password changed — the stream ends.
fn changes(
    st: &AppState,
    viewer: rapport_domain::Viewer,
    token_hash: String,
    resume: Option<Resume>,
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
    let db = st.db.clone();
    let st = st.clone();
    let checked_at = Arc::new(AtomicI64::new(i64::MIN / 2));
    let checked = futures::stream::select(events, checks)
        .take_while(|next| std::future::ready(!matches!(next, Next::End)))
        .then(move |next| {
            let (st, hash, checked_at) = (st.clone(), token_hash.clone(), checked_at.clone());
            async move {
                // A burst of events is checked once: at most one look at the session a second.
                let now = st.now().micros();
                let last = checked_at.load(Ordering::Relaxed);
                if matches!(next, Next::Event(_)) && (0..CHECK_GAP_MICROS).contains(&(now - last)) {
                    return (true, next);
                }
                let live = still_live(&st, &hash).await;
                checked_at.store(now, Ordering::Relaxed);
                (live, next)
            }
        })
        .take_while(|(live, _)| std::future::ready(*live))
        .filter_map(|(_, next)| {
            std::future::ready(match next {
                Next::Event(e) => Some(e),
                Next::Check | Next::End => None,
            })
        });
    let stream = checked
        .then(move |e| {
            let db = db.clone();
            async move {
                let chat = new_chat(&db, &e).await;
                (e, chat)
            }
        })
        .flat_map(|(e, chat)| {
            let data = serde_json::to_string(&e).unwrap_or_default();
            let ticket = SseEvent::default()
                .event("ticket")
                .id(e.resume_id())
                .data(data);
            // A new chat is also announced on its own, for the sound and notification.
            let chat = chat.map(|subject| {
                let data = serde_json::json!({"ticket_id": e.ticket_id, "subject": subject});
                SseEvent::default().event("chat").data(data.to_string())
            });
            futures::stream::iter(
                std::iter::once(ticket)
                    .chain(chat)
                    .map(Ok::<_, Infallible>)
                    .collect::<Vec<_>>(),
            )
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
