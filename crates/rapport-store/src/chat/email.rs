//! Carrying a conversation on by email, and sending its transcript. Both go through
//! the existing outbox and jobs: an agent's replies on a ticket of channel `email` are
//! mailed by the email outbox; a transcript is a `mail.notify` job.

use rapport_domain::{Channel, EmailAddress, FieldError, Timestamp};

use super::Conversation;
use crate::db::Conn;
use crate::error::Result;
use crate::notify::{self, Notice};

/// Goes on by email: the conversation's ticket becomes an email ticket, so agents'
/// replies are mailed from now on. Once per conversation, and only while it is open. An
/// anonymous visitor's conversation moves to the customer with this address (found or
/// created; the placeholder's messages move with it); a visitor who gave an address or a
/// verified identity keeps their customer (a typed address never re-files a conversation
/// that has one; agents' replies are mailed to that customer's address) and `email` only
/// becomes where transcripts go. Returns the conversation as it is now.
pub async fn continue_by_email(
    c: &mut dyn Conn,
    ticket_id: i64,
    email: &EmailAddress,
    now: Timestamp,
) -> Result<Conversation> {
    let conv = super::open(c, ticket_id).await?;
    if conv.by_email {
        return Ok(conv);
    }
    let conv = &conv;
    let customer_id = if conv.anonymous {
        super::profile::move_to(c, conv, email, now).await?
    } else {
        conv.customer_id
    };
    c.execute(
        "UPDATE tickets SET channel = $1, updated_at = $2 WHERE id = $3",
        &[
            Channel::Email.as_str().into(),
            now.into(),
            conv.ticket_id.into(),
        ],
    )
    .await?;
    c.execute(
        "UPDATE chat_conversations SET customer_id = $1, anonymous = $2, email = $3, by_email = $4
         WHERE ticket_id = $5",
        &[
            customer_id.into(),
            false.into(),
            email.as_str().into(),
            true.into(),
            conv.ticket_id.into(),
        ],
    )
    .await?;
    crate::events::record(
        c,
        conv.ticket_id,
        crate::events::Actor::Customer(customer_id),
        rapport_domain::EventKind::FieldsChanged,
        &serde_json::json!({"channel": {"from": "chat", "to": "email"}}),
        now,
    )
    .await?;
    Ok(Conversation {
        ticket_id: conv.ticket_id,
        customer_id,
        anonymous: false,
        email: Some(email.as_str().to_owned()),
        by_email: true,
    })
}

/// Queues the conversation's transcript to `email` (or the address the visitor gave).
/// Returns whether it was queued: not without an address, not when no mailbox exists to
/// send from, not past the per-address limit on automatic mail, and not past
/// transcripts' share of the overall hourly cap (`per_hour`, a quarter of it, rounded
/// up): anyone can ask for one, so they never use up what acknowledgements and sign-in
/// links need.
pub async fn transcript(
    c: &mut dyn Conn,
    ticket_id: i64,
    email: Option<&EmailAddress>,
    per_hour: i64,
    now: Timestamp,
) -> Result<bool> {
    let conv = super::open(c, ticket_id).await?;
    let to = match (email, &conv.email) {
        (Some(e), _) => e.as_str().to_owned(),
        (None, Some(e)) => e.clone(),
        (None, None) => {
            return Err(
                FieldError::new("email", "is required: no address was given before").into(),
            );
        }
    };
    if !notify::kind_within_cap(c, "transcript", per_hour, 4, now).await? {
        return Ok(false);
    }
    let notice = Notice::ChatTranscript {
        ticket_id: conv.ticket_id,
        to: to.clone(),
    };
    notify::queue_automatic(c, &notice, &to, "transcript", now).await
}
