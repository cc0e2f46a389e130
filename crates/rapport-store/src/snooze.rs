//! Snoozed tickets: an agent puts a ticket to sleep until a time, until the customer
//! replies, or both ([`snooze`]); the minute pass wakes those whose time came
//! ([`wake_due`]: back to `open`, and a `snooze_ended` event that reminds the owner); the
//! customer's reply wakes the others ([`end_on_reply`], from a subscriber); an agent may
//! wake one at once ([`wake`]). The rules are `rapport_domain::snooze`.

use rapport_domain::snooze::Until;
use rapport_domain::{EventKind, TicketStatus, Timestamp, Viewer};
use serde_json::json;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::tickets::{self, TicketPatch};

/// A ticket's snooze.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snooze {
    /// The ticket.
    pub ticket_id: i64,
    /// Who snoozed it (and is reminded when it wakes, if it has no owner).
    pub user_id: i64,
    /// When it wakes, if at a time.
    pub until_at: Option<Timestamp>,
    /// Whether the customer's reply wakes it.
    pub until_reply: bool,
    /// The note to whoever picks it up again.
    pub note: String,
    /// When it was snoozed.
    pub created_at: Timestamp,
}

fn from_row(r: &crate::value::Row) -> Result<Snooze> {
    Ok(Snooze {
        ticket_id: r.int("ticket_id")?,
        user_id: r.int("user_id")?,
        until_at: r.opt_int("until_at")?.map(Timestamp),
        until_reply: r.bool("until_reply")?,
        note: r.text("note")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

const COLS: &str = "ticket_id, user_id, until_at, until_reply, note, created_at";

/// Snoozes a ticket the agent may work (not solved or closed): it moves to the status
/// the snooze calls for (`pending` or `on-hold`, recorded as the agent's change) and
/// leaves the working queues. A second snooze replaces the first.
pub async fn snooze(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
    until: Until,
    note: &str,
    now: Timestamp,
) -> Result<Snooze> {
    let t = tickets::get_for_agent(c, viewer, ticket_id).await?;
    if matches!(t.status, TicketStatus::Solved | TicketStatus::Closed) {
        return Err(StoreError::Conflict(
            "a solved or closed ticket cannot be snoozed".into(),
        ));
    }
    let status = until.status();
    if t.status != status {
        let patch = TicketPatch {
            status: Some(status),
            ..TicketPatch::default()
        };
        tickets::update(c, viewer, ticket_id, patch, now).await?;
    }
    c.execute(
        "DELETE FROM snoozes WHERE ticket_id = $1",
        &[ticket_id.into()],
    )
    .await?;
    c.execute(
        "INSERT INTO snoozes (ticket_id, user_id, until_at, until_reply, note, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            ticket_id.into(),
            viewer.user_id.into(),
            until.at.into(),
            until.reply.into(),
            note.into(),
            now.into(),
        ],
    )
    .await?;
    events::record(
        c,
        ticket_id,
        Actor::User(viewer.user_id),
        EventKind::Snoozed,
        &json!({"until": until.at, "until_reply": until.reply, "note": note}),
        now,
    )
    .await?;
    Ok(Snooze {
        ticket_id,
        user_id: viewer.user_id,
        until_at: until.at,
        until_reply: until.reply,
        note: note.to_owned(),
        created_at: now,
    })
}

/// A ticket's snooze, if it sleeps (for an agent who may see it).
pub async fn of_ticket(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
) -> Result<Option<Snooze>> {
    tickets::get_for_agent(c, viewer, ticket_id).await?;
    c.opt(
        &format!("SELECT {COLS} FROM snoozes WHERE ticket_id = $1"),
        &[ticket_id.into()],
    )
    .await?
    .map(|r| from_row(&r))
    .transpose()
}

/// Ends a snooze: the row goes, the ticket returns to `open` when it still sleeps in
/// `pending` or `on-hold` (recorded as Rapport's change), and `snooze_ended` says why.
async fn end(
    c: &mut dyn Conn,
    s: &Snooze,
    reason: &str,
    actor: Actor,
    now: Timestamp,
) -> Result<()> {
    let gone = c
        .execute(
            "DELETE FROM snoozes WHERE ticket_id = $1",
            &[s.ticket_id.into()],
        )
        .await?;
    if gone == 0 {
        return Ok(());
    }
    let t = tickets::get_unchecked(c, s.ticket_id, true).await?;
    if matches!(t.status, TicketStatus::Solved | TicketStatus::Closed) {
        // Done in the meantime: nothing to wake, nobody to remind.
        return Ok(());
    }
    if matches!(t.status, TicketStatus::Pending | TicketStatus::OnHold) {
        c.execute(
            "UPDATE tickets SET status = $1, updated_at = $2,
                    status_since = CASE WHEN status = $1 THEN status_since ELSE $2 END
             WHERE id = $3",
            &[
                TicketStatus::Open.as_str().into(),
                now.into(),
                s.ticket_id.into(),
            ],
        )
        .await?;
        events::record(
            c,
            s.ticket_id,
            actor,
            EventKind::FieldsChanged,
            &json!({"status": {"from": t.status, "to": TicketStatus::Open}}),
            now,
        )
        .await?;
    }
    events::record(
        c,
        s.ticket_id,
        actor,
        EventKind::SnoozeEnded,
        &json!({"reason": reason, "note": s.note, "user_id": s.user_id}),
        now,
    )
    .await?;
    Ok(())
}

/// Wakes the snoozes whose time came (at most `limit`, by the index on their time; on
/// PostgreSQL rows another node is waking are skipped). Returns how many woke.
pub async fn wake_due(c: &mut dyn Conn, now: Timestamp, limit: i64) -> Result<usize> {
    let lock = crate::dialect::claim_lock(c.backend());
    let due: Vec<Snooze> = c
        .query(
            &format!(
                "SELECT {COLS} FROM snoozes WHERE until_at IS NOT NULL AND until_at <= $1
                 ORDER BY until_at LIMIT $2 {lock}"
            ),
            &[now.into(), limit.into()],
        )
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<_>>()?;
    for s in &due {
        end(c, s, "time", Actor::System, now).await?;
    }
    Ok(due.len())
}

/// The customer wrote: a snooze waiting on their reply ends (the reply itself already
/// reopened the ticket). One waiting only on a time sleeps on.
pub async fn end_on_reply(c: &mut dyn Conn, ticket_id: i64, now: Timestamp) -> Result<bool> {
    let Some(s) = c
        .opt(
            &format!("SELECT {COLS} FROM snoozes WHERE ticket_id = $1 AND until_reply = $2"),
            &[ticket_id.into(), true.into()],
        )
        .await?
        .map(|r| from_row(&r))
        .transpose()?
    else {
        return Ok(false);
    };
    end(c, &s, "reply", Actor::System, now).await?;
    Ok(true)
}

/// An agent wakes a ticket now. 404 when it does not sleep.
pub async fn wake(c: &mut dyn Conn, viewer: &Viewer, ticket_id: i64, now: Timestamp) -> Result<()> {
    let s = of_ticket(c, viewer, ticket_id)
        .await?
        .ok_or(StoreError::NotFound("snooze"))?;
    end(c, &s, "agent", Actor::User(viewer.user_id), now).await
}
