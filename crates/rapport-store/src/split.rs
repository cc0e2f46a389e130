//! Splitting a customer's message off into a ticket of its own.

use rapport_domain::{EventKind, FieldError, TicketStatus, Timestamp, Viewer};
use serde_json::json;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::search;
use crate::tickets::{self, Ticket};

/// Splits one customer message out into a new ticket of its own (same customer,
/// channel, team), moving the message; both tickets record the split.
pub async fn message(
    c: &mut dyn Conn,
    viewer: &Viewer,
    message_id: i64,
    now: Timestamp,
) -> Result<Ticket> {
    let m = c
        .opt(
            "SELECT ticket_id, author_kind FROM messages WHERE id = $1",
            &[message_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("message"))?;
    let source_id = m.int("ticket_id")?;
    let source = tickets::get_for_agent(c, viewer, source_id).await?;
    if m.text("author_kind")? != rapport_domain::AuthorKind::Customer.as_str() {
        return Err(
            FieldError::new("message_id", "only a customer's message can start a ticket").into(),
        );
    }
    if source.message_count <= 1 {
        return Err(StoreError::Conflict(
            "a ticket's only message cannot be split off".into(),
        ));
    }
    let subject = format!("{} (split from #{})", source.subject, source.number);
    let subject: String = subject.chars().take(255).collect();
    let number = tickets::next_number(c).await?;
    let id = c
        .one(
            "INSERT INTO tickets (number, subject, status, priority, category, channel, customer_id,
                                  team_id, tags, custom_fields, message_count, last_message_at,
                                  created_at, updated_at, score_standing, score_signals,
                                  status_since)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '[]', '{}', 1, $9, $9, $9, $10, $11, $9)
             RETURNING id",
            &[
                number.into(),
                subject.clone().into(),
                TicketStatus::Open.as_str().into(),
                source.priority.rank().into(),
                source.category.clone().into(),
                source.channel.as_str().into(),
                source.customer.id.into(),
                source.team_id.into(),
                now.into(),
                // The customer's words and mood carry over to the part split off.
                rapport_domain::score::standing(&source.signals, source.priority).into(),
                crate::score::stored(&source.signals)?.into(),
            ],
        )
        .await?
        .int("id")?;
    c.execute(
        "UPDATE messages SET ticket_id = $1 WHERE id = $2",
        &[id.into(), message_id.into()],
    )
    .await?;
    search::move_message(c, message_id, id).await?;
    c.execute(
        "UPDATE tickets SET message_count = message_count - 1, updated_at = $1 WHERE id = $2",
        &[now.into(), source_id.into()],
    )
    .await?;
    search::index_ticket(c, id, &subject).await?;
    let actor = Actor::User(viewer.user_id);
    events::record(
        c,
        id,
        actor,
        EventKind::SplitFrom,
        &json!({"from": source_id, "from_number": source.number, "message_id": message_id}),
        now,
    )
    .await?;
    events::record(
        c,
        source_id,
        actor,
        EventKind::SplitInto,
        &json!({"into": id, "into_number": number, "message_id": message_id}),
        now,
    )
    .await?;
    tickets::get_for_agent(c, viewer, id).await
}
