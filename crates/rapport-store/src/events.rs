//! The append-only event log. Every change to a ticket writes one row here, in the same
//! transaction as the change: the audit trail, and later the feed for reports, webhooks
//! and live updates.

use rapport_domain::{EventKind, Timestamp};
use serde::Serialize;

use crate::db::Conn;
use crate::error::{Result, StoreError};

/// Who did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// An agent (or an API token of one).
    User(i64),
    /// A customer, through a channel.
    Customer(i64),
    /// Rapport itself (automations, jobs).
    System,
    /// The assistant bot in live chat (recorded like Rapport itself: no user, no customer).
    Bot,
}

/// One entry of a ticket's history.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Database id; increases with time.
    pub id: i64,
    /// The ticket it is about.
    pub ticket_id: Option<i64>,
    /// The agent who did it, if an agent did.
    pub actor_user_id: Option<i64>,
    /// The customer who did it, if a customer did.
    pub actor_customer_id: Option<i64>,
    /// What happened (`ticket_created`, `fields_changed`, …).
    pub kind: EventKind,
    /// The details: for `fields_changed`, each field with `from` and `to`.
    pub data: serde_json::Value,
    /// When.
    pub created_at: Timestamp,
}

/// Appends one event.
pub async fn record(
    c: &mut dyn Conn,
    ticket_id: i64,
    actor: Actor,
    kind: EventKind,
    data: &serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    let (user, customer) = match actor {
        Actor::User(u) => (Some(u), None),
        Actor::Customer(cu) => (None, Some(cu)),
        Actor::System | Actor::Bot => (None, None),
    };
    // A ticket's first event takes the ticket row's own `tx` (the column default: this
    // transaction's id); any later one is placed after the ticket's latest event.
    let tx = if kind == EventKind::TicketCreated {
        None
    } else {
        crate::stream::ticket_tx(c, ticket_id).await?
    };
    let params = [
        ticket_id.into(),
        user.into(),
        customer.into(),
        kind.as_str().into(),
        data.to_string().into(),
        now.into(),
        tx.into(),
    ];
    let sql = if tx.is_some() {
        "INSERT INTO events (ticket_id, actor_user_id, actor_customer_id, kind, data, created_at, tx)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    } else {
        "INSERT INTO events (ticket_id, actor_user_id, actor_customer_id, kind, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    };
    c.execute(sql, &params[..if tx.is_some() { 7 } else { 6 }])
        .await?;
    Ok(())
}

/// Appends one event about a knowledge-base article (no ticket): `data` names the
/// article. Call it before deleting the article's row, whose lock keeps the article's
/// events in commit order on PostgreSQL.
pub async fn record_article(
    c: &mut dyn Conn,
    article_id: i64,
    actor: Actor,
    kind: EventKind,
    data: &serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    let tx = crate::stream::article_tx(c, article_id).await?;
    record_detached(c, actor, kind, data, tx, now).await
}

/// Appends one event about a community topic (no ticket): `data` names the topic. Its
/// `tx` is the writing transaction's own (the column default): whoever follows these
/// events re-reads the topic as it stands, so one topic's events need no order of their
/// own beyond the stream's.
pub async fn record_topic(
    c: &mut dyn Conn,
    actor: Actor,
    kind: EventKind,
    data: &serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    record_detached(c, actor, kind, data, None, now).await
}

/// Appends one event about an order (no ticket): `data` names the order. Like a topic's,
/// its `tx` is the transaction's own; followers re-read the order as it stands.
pub async fn record_order(
    c: &mut dyn Conn,
    actor: Actor,
    kind: EventKind,
    data: &serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    record_detached(c, actor, kind, data, None, now).await
}

/// Appends one event about a customer or an organisation (no ticket): `data` names them.
/// Its `tx` is the transaction's own, as for an order.
pub async fn record_crm(
    c: &mut dyn Conn,
    actor: Actor,
    kind: EventKind,
    data: &serde_json::Value,
    now: Timestamp,
) -> Result<()> {
    record_detached(c, actor, kind, data, None, now).await
}

/// Appends an event with no ticket, with `tx` when given.
async fn record_detached(
    c: &mut dyn Conn,
    actor: Actor,
    kind: EventKind,
    data: &serde_json::Value,
    tx: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    let (user, customer) = match actor {
        Actor::User(u) => (Some(u), None),
        Actor::Customer(cu) => (None, Some(cu)),
        Actor::System | Actor::Bot => (None, None),
    };
    let params = [
        user.into(),
        customer.into(),
        kind.as_str().into(),
        data.to_string().into(),
        now.into(),
        tx.into(),
    ];
    // Without a `tx` the column's default applies: this transaction's id (PostgreSQL) or 0.
    let sql = if tx.is_some() {
        "INSERT INTO events (ticket_id, actor_user_id, actor_customer_id, kind, data, created_at, tx)
         VALUES (NULL, $1, $2, $3, $4, $5, $6)"
    } else {
        "INSERT INTO events (ticket_id, actor_user_id, actor_customer_id, kind, data, created_at)
         VALUES (NULL, $1, $2, $3, $4, $5)"
    };
    c.execute(sql, &params[..if tx.is_some() { 6 } else { 5 }])
        .await?;
    Ok(())
}

/// A ticket's history, oldest first.
pub async fn for_ticket(c: &mut dyn Conn, ticket_id: i64) -> Result<Vec<Event>> {
    c.query(
        "SELECT id, ticket_id, actor_user_id, actor_customer_id, kind, data, created_at
         FROM events WHERE ticket_id = $1 ORDER BY id",
        &[ticket_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Event {
            id: r.int("id")?,
            ticket_id: r.opt_int("ticket_id")?,
            actor_user_id: r.opt_int("actor_user_id")?,
            actor_customer_id: r.opt_int("actor_customer_id")?,
            kind: kind(&r.text("kind")?)?,
            data: serde_json::from_str(&r.text("data")?)?,
            created_at: Timestamp(r.int("created_at")?),
        })
    })
    .collect()
}

/// Reads a stored event kind back; a spelling no kind has is a store error naming it.
pub fn kind(raw: &str) -> Result<EventKind> {
    EventKind::parse(raw).ok_or_else(|| StoreError::Db(format!("unknown event kind {raw:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_kinds_read_back_and_unknown_ones_are_errors() {
        assert_eq!(kind("reply_added").unwrap(), EventKind::ReplyAdded);
        assert_eq!(
            kind(EventKind::FieldsChanged.as_str()).unwrap(),
            EventKind::FieldsChanged
        );
        let e = kind("reply_addded").unwrap_err().to_string();
        assert!(e.contains("unknown event kind \"reply_addded\""), "{e}");
    }
}
