//! Typing preview: when an admin turns it on (off by default), the visitor's unsent text
//! travels with their `typing` frames and agents' ticket pages on every node show it. The
//! widget is told (and tells the visitor) whether it is on; while it is off nothing is
//! stored, and turning it off forgets every draft.

use rapport_domain::Timestamp;

use super::{Conversation, VISITOR_TYPING_SECS, settings};
use crate::db::Conn;
use crate::error::Result;

/// The longest draft kept, in bytes (a chat message's limit).
pub const MAX_DRAFT_BYTES: usize = rapport_domain::chat::MAX_MESSAGE_BYTES;

/// `text` cut to at most [`MAX_DRAFT_BYTES`] on a character boundary.
fn cut(text: &str) -> &str {
    if text.len() <= MAX_DRAFT_BYTES {
        return text;
    }
    let mut end = MAX_DRAFT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Keeps what the visitor has typed so far, when the preview is on; returns whether it
/// was kept.
pub async fn set_draft(c: &mut dyn Conn, conv: &Conversation, text: &str) -> Result<bool> {
    if !settings::typing_preview(c).await? {
        return Ok(false);
    }
    // Control characters (a NUL fails on PostgreSQL) are dropped: a draft is only shown.
    let text: String = cut(text)
        .chars()
        .filter(|ch| !ch.is_control() || matches!(ch, '\n' | '\t'))
        .collect();
    c.execute(
        "UPDATE chat_conversations SET visitor_draft = $1 WHERE ticket_id = $2",
        &[text.into(), conv.ticket_id.into()],
    )
    .await?;
    Ok(true)
}

/// Forgets the visitor's draft (they sent it).
pub async fn clear(c: &mut dyn Conn, ticket_id: i64) -> Result<()> {
    c.execute(
        "UPDATE chat_conversations SET visitor_draft = NULL WHERE ticket_id = $1 AND visitor_draft IS NOT NULL",
        &[ticket_id.into()],
    )
    .await?;
    Ok(())
}

/// What the visitor of the chat on this ticket is typing, for agents: only while the
/// preview is on and they typed in the last few seconds.
pub async fn draft(c: &mut dyn Conn, ticket_id: i64, now: Timestamp) -> Result<Option<String>> {
    if !settings::typing_preview(c).await? {
        return Ok(None);
    }
    Ok(c.opt(
        "SELECT visitor_draft FROM chat_conversations
             WHERE ticket_id = $1 AND visitor_typing_at > $2",
        &[ticket_id.into(), now.plus_secs(-VISITOR_TYPING_SECS).into()],
    )
    .await?
    .map(|r| r.opt_text("visitor_draft"))
    .transpose()?
    .flatten()
    .filter(|d| !d.trim().is_empty()))
}
