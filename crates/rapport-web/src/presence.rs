//! Presence (who else is viewing or typing on a ticket) and the `/live` stream of
//! changes to the tickets an agent may see.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_store::{sessions, tickets};
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
    let typing = f.typing.as_deref() == Some("1");
    let now = st.now();
    let r = st
        .db
        .write(move |c| {
            Box::pin(async move {
                tickets::get(c, &viewer, id).await?;
                sessions::touch_presence(c, id, viewer.user_id, typing, now).await?;
                sessions::others_present(c, id, viewer.user_id, now).await
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
pub async fn live(State(st): State<AppState>, me: Me) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    changes(&st, me.session.viewer).into_response()
}

/// The stream of `/live`: each change the viewer may see, as a `ticket` event whose data
/// is the event's JSON (`{"id", "ticket_id", "kind"}`).
fn changes(
    st: &AppState,
    viewer: rapport_domain::Viewer,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>> {
    let rx = st.live.subscribe();
    let stream = futures::stream::unfold((rx, viewer), |(mut rx, viewer)| async move {
        loop {
            match rx.recv().await {
                Ok(e) if viewer.can_see_team(e.team_id) => {
                    let data = serde_json::to_string(&e).unwrap_or_default();
                    let ev = SseEvent::default().event("ticket").data(data);
                    return Some((Ok(ev), (rx, viewer)));
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
