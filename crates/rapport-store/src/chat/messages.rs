//! A conversation's messages as its visitor sends and reads them. What the visitor sends
//! is stored once per client id: a resend after a reconnect answers with the message
//! already stored, so nothing doubles; the answer comes after the commit, so a message
//! the visitor was told is stored survives a crash.

use rapport_domain::chat::ClientId;
use rapport_domain::{AuthorKind, Body, Channel, Principal, Timestamp};

use super::Conversation;
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::tickets;

/// A message as the visitor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Message id (increases along the thread).
    pub id: i64,
    /// `agent` or `visitor`.
    pub author: &'static str,
    /// The agent's name, or the visitor's (may be empty).
    pub name: String,
    /// The text.
    pub body: String,
    /// When it was written.
    pub at: Timestamp,
}

/// A stored visitor message: its id and time, and whether this call stored it (false: a
/// resend of a message stored before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Message id.
    pub id: i64,
    /// When it was stored.
    pub at: Timestamp,
    /// Whether this call stored it.
    pub new: bool,
}

async fn already(
    c: &mut dyn Conn,
    conv: &Conversation,
    client_id: &ClientId,
) -> Result<Option<Stored>> {
    let r = c
        .opt(
            "SELECT m.id, m.created_at FROM chat_sent s JOIN messages m ON m.id = s.message_id
             WHERE s.ticket_id = $1 AND s.client_id = $2",
            &[conv.ticket_id.into(), client_id.as_str().into()],
        )
        .await?;
    r.map(|r| {
        Ok(Stored {
            id: r.int("id")?,
            at: Timestamp(r.int("created_at")?),
            new: false,
        })
    })
    .transpose()
}

/// Stores a visitor's message once per `client_id`. The claim on the client id is taken
/// first (`ON CONFLICT DO NOTHING`), so two sockets sending the same message at once
/// store it once: the second waits for the first's commit and answers with its message.
pub async fn post(
    c: &mut dyn Conn,
    conv: &Conversation,
    client_id: &ClientId,
    body: &Body,
    now: Timestamp,
) -> Result<Stored> {
    if let Some(s) = already(c, conv, client_id).await? {
        return Ok(s);
    }
    let claimed = c
        .opt(
            "INSERT INTO chat_sent (ticket_id, client_id) VALUES ($1, $2)
             ON CONFLICT (ticket_id, client_id) DO NOTHING RETURNING ticket_id",
            &[conv.ticket_id.into(), client_id.as_str().into()],
        )
        .await?;
    if claimed.is_none() {
        return already(c, conv, client_id).await?.ok_or_else(|| {
            StoreError::Conflict("this message is being stored; send it again".into())
        });
    }
    let who = Principal::Customer(conv.customer_id);
    let msg = tickets::customer_reply(
        c,
        &who,
        conv.ticket_id,
        body,
        Channel::Chat,
        Vec::new(),
        now,
    )
    .await?;
    c.execute(
        "UPDATE chat_sent SET message_id = $1 WHERE ticket_id = $2 AND client_id = $3",
        &[
            msg.id.into(),
            conv.ticket_id.into(),
            client_id.as_str().into(),
        ],
    )
    .await?;
    Ok(Stored {
        id: msg.id,
        at: now,
        new: true,
    })
}

/// The messages after `after` that the visitor may read (their own and the agents'
/// public replies — never a note), oldest first, at most `limit`.
pub async fn after(
    c: &mut dyn Conn,
    conv: &Conversation,
    after: i64,
    limit: usize,
) -> Result<Vec<ChatMessage>> {
    let who = Principal::Customer(conv.customer_id);
    let thread = crate::messages::for_ticket(c, &who, conv.ticket_id).await?;
    let mut out = Vec::new();
    let mut names: Vec<(i64, String)> = Vec::new();
    for m in thread.into_iter().filter(|m| m.id > after).take(limit) {
        let (author, name) = match m.author.kind {
            AuthorKind::Agent => {
                let uid = m.author.user_id.unwrap_or_default();
                let name = match names.iter().find(|(id, _)| *id == uid) {
                    Some((_, n)) => n.clone(),
                    None => {
                        let n = crate::people::get_user(c, uid)
                            .await
                            .map(|u| u.name)
                            .unwrap_or_default();
                        names.push((uid, n.clone()));
                        n
                    }
                };
                ("agent", name)
            }
            AuthorKind::Customer => ("visitor", String::new()),
            AuthorKind::System => continue,
        };
        out.push(ChatMessage {
            id: m.id,
            author,
            name,
            body: m.body,
            at: m.created_at,
        });
    }
    Ok(out)
}
