//! Presence: who else is viewing or typing on a ticket (and, on a chat, the visitor
//! connected to this node hears that an agent is typing; with the admin's typing preview
//! on, the agent sees what the visitor has typed so far as `draft`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_http::api::chat::hub::{Side, Signal};
use rapport_store::op;
use rapport_store::presence;
use rapport_store::tickets;
use serde::Deserialize;

use crate::page::{require, store_error};
use crate::sessions::{CsrfForm, Me};

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
        .write(op!(c => {
            tickets::get(c, &who, id).await?;
            presence::touch(c, id, viewer.user_id, typing, now).await?;
            let others = presence::others(c, id, viewer.user_id, now).await?;
            // The chat's visitor, when typing; with the admin's typing preview on, with
            // what they typed so far.
            let mut draft = None;
            if rapport_store::chat::visitor_is_typing(c, id, now).await? {
                draft = Some(rapport_store::chat::preview::draft(c, id, now).await?);
            }
            let read = rapport_store::chat::agent_saw(c, id).await?;
            Ok((others, read, draft))
        }))
        .await;
    if let Ok((_, Some(up_to), _)) = &r {
        // The chat's visitor on this node learns an agent has seen their messages.
        st.chat.signal(Signal::Read {
            ticket_id: id,
            side: Side::Agent,
            up_to: *up_to,
        });
    }
    let r = r.map(|(others, _, draft)| (others, draft));
    if typing && r.is_ok() {
        // A visitor chatting on this ticket through this node sees the agent typing.
        st.chat.signal(Signal::Typing {
            ticket_id: id,
            side: Side::Agent,
            name: me.session.name.clone(),
        });
    }
    match r {
        Ok((others, visitor)) => {
            let mut list: Vec<_> = others
                .into_iter()
                .map(|(name, typing)| serde_json::json!({"name": name, "typing": typing}))
                .collect();
            if let Some(draft) = visitor {
                let mut o = serde_json::json!({"name": "The visitor", "typing": true});
                if let Some(d) = draft {
                    o["draft"] = serde_json::json!(d);
                }
                list.push(o);
            }
            Json(list).into_response()
        }
        Err(e) => store_error(e),
    }
}
