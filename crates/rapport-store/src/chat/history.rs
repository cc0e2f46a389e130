//! A verified site user's earlier conversations, for the widget to show. Only ever
//! asked for with a valid signature ([`super::settings::verify_identity`]); it lists the
//! conversations that were *started* with a valid signature for that same site user
//! (`chat_conversations.external_id`) and their public messages — the same view a token
//! of each of those conversations would give, nothing more. Not the chats of the customer
//! the user is linked to: that customer may have been found by an address someone typed,
//! unverified, and its other chats are not this user's to read.

use rapport_domain::Timestamp;
use rapport_domain::chat::ExternalId;

use super::messages::{ChatMessage, after};
use crate::db::Conn;
use crate::error::Result;

/// The most conversations listed.
pub const MAX_CONVERSATIONS: usize = 20;
/// The most messages listed per conversation (the first ones).
pub const MAX_MESSAGES: usize = 100;

/// One earlier conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    /// The conversation (its ticket).
    pub conversation_id: i64,
    /// The ticket's subject.
    pub subject: String,
    /// When it started.
    pub started_at: Timestamp,
    /// Its public messages, oldest first.
    pub messages: Vec<ChatMessage>,
}

/// The site user's conversations, newest first (none for a user never seen).
pub async fn earlier(c: &mut dyn Conn, id: &ExternalId) -> Result<Vec<Earlier>> {
    let rows = c
        .query(
            "SELECT v.ticket_id, t.subject, v.created_at FROM chat_conversations v
             JOIN tickets t ON t.id = v.ticket_id
             WHERE v.external_id = $1 ORDER BY v.ticket_id DESC LIMIT $2",
            &[
                id.as_str().into(),
                i64::try_from(MAX_CONVERSATIONS).unwrap_or(20).into(),
            ],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let ticket = r.int("ticket_id")?;
        let conv = super::current(c, ticket).await?;
        out.push(Earlier {
            conversation_id: ticket,
            subject: r.text("subject")?,
            started_at: Timestamp(r.int("created_at")?),
            messages: after(c, &conv, 0, MAX_MESSAGES).await?,
        });
    }
    Ok(out)
}
