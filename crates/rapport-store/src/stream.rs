//! The event stream: the event log read in commit order, and durable subscriber cursors.
//!
//! Every change records its events in its own transaction (see [`crate::events`]). Reactions
//! — live updates in browsers, outgoing mail, and next webhooks, SLA timers, surveys —
//! read those events here instead of being called by the code that made the change.
//!
//! **Commit order.** A reader walks the log by [`Position`] `(tx, id)`. On SQLite one
//! writer commits in id order and `tx` is always 0. On PostgreSQL ids are handed out
//! before commit, so a transaction that commits late could show an id below one a reader
//! has passed; each event therefore also carries `tx` — its transaction's id, or a later
//! value that keeps one ticket's events in the order their transactions committed — and a
//! reader only takes events whose `tx` is below the oldest transaction still running
//! (`pg_snapshot_xmin`). Every event has `tx` at least its own transaction's id, so no
//! event can appear behind a reader's position: nothing is skipped.
//!
//! **Subscribers** keep their position in `subscriptions` and move it in the transaction
//! that handles the events, so each event is handled exactly once, survives restarts, and
//! on several nodes one node handles it (the cursor row is locked with `SKIP LOCKED`).

use std::fmt;
use std::str::FromStr;

use rapport_domain::{Channel, EventKind, Timestamp};

use crate::db::Conn;
use crate::dialect;
use crate::error::Result;
use crate::events::{self, Actor};

/// Where a reader of the event stream stands: it has seen every event up to here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// The commit-order part (0 on SQLite).
    pub tx: i64,
    /// The event id.
    pub id: i64,
}

impl Position {
    /// Before every event.
    pub const START: Position = Position { tx: 0, id: 0 };
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.tx, self.id)
    }
}

impl FromStr for Position {
    type Err = ();

    /// Reads `tx-id`, as [`Position`]'s `Display` writes it (a server-sent event's id).
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        let (tx, id) = s.trim().split_once('-').ok_or(())?;
        let (tx, id) = (tx.parse().map_err(|_| ())?, id.parse().map_err(|_| ())?);
        if tx < 0 || id < 0 {
            return Err(());
        }
        Ok(Position { tx, id })
    }
}

/// One event as the stream delivers it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    /// Its place in the stream.
    pub position: Position,
    /// The ticket it concerns; `None` for events about something else (a knowledge-base
    /// article's `article_changed`, whose data names the article).
    pub ticket_id: Option<i64>,
    /// That ticket's team now, so fan-out can filter by what a reader may see.
    pub team_id: Option<i64>,
    /// That ticket's assignee now (whom a notice about it concerns).
    pub assignee_id: Option<i64>,
    /// That ticket's channel, so a channel's subscriber picks out its own tickets.
    pub channel: Option<Channel>,
    /// What happened (`ticket_created`, `reply_added`, …).
    pub kind: EventKind,
    /// Who did it.
    pub actor: Actor,
    /// The details, as recorded.
    pub data: serde_json::Value,
    /// When.
    pub created_at: Timestamp,
}

/// The events after `after`, in commit order, at most `limit`.
pub async fn after(c: &mut dyn Conn, after: Position, limit: i64) -> Result<Vec<StreamEvent>> {
    let horizon = dialect::stream_horizon(c.backend());
    Ok(read(c, after, limit, horizon).await?.0)
}

/// Every committed event after `after` (at most `limit`, in commit order), settled or not,
/// and the stream's horizon in the same snapshot: an event whose `tx` is below it is
/// settled (nothing still running can add an event before it); the others are committed
/// but may yet have an event committed before them. For a reader that wants changes at
/// once (live views) and still keeps its place only among settled events. On SQLite every
/// event is settled.
pub async fn after_unsettled(
    c: &mut dyn Conn,
    after: Position,
    limit: i64,
) -> Result<(Vec<StreamEvent>, i64)> {
    read(c, after, limit, "").await
}

async fn read(
    c: &mut dyn Conn,
    after: Position,
    limit: i64,
    horizon: &str,
) -> Result<(Vec<StreamEvent>, i64)> {
    let (after_sql, order) = dialect::stream_after(c.backend());
    let sql = format!(
        "SELECT e.tx, e.id, e.ticket_id, t.team_id, e.kind, e.actor_user_id, e.actor_customer_id,
                e.data, e.created_at, t.assignee_id, t.channel, {value} AS horizon
         FROM events e LEFT JOIN tickets t ON t.id = e.ticket_id
         WHERE {after_sql} {horizon}
         {order} LIMIT $3",
        value = dialect::stream_horizon_value(c.backend()),
    );
    let rows = c
        .query(&sql, &[after.tx.into(), after.id.into(), limit.into()])
        .await?;
    let horizon = match rows.first() {
        Some(r) => r.int("horizon")?,
        None => i64::MAX,
    };
    let events = rows
        .iter()
        .map(|r| {
            let actor = match (r.opt_int("actor_user_id")?, r.opt_int("actor_customer_id")?) {
                (Some(u), _) => Actor::User(u),
                (None, Some(cu)) => Actor::Customer(cu),
                (None, None) => Actor::System,
            };
            Ok(StreamEvent {
                position: Position {
                    tx: r.int("tx")?,
                    id: r.int("id")?,
                },
                ticket_id: r.opt_int("ticket_id")?,
                team_id: r.opt_int("team_id")?,
                assignee_id: r.opt_int("assignee_id")?,
                channel: r
                    .opt_text("channel")?
                    .map(|ch| Channel::parse(&ch))
                    .transpose()?,
                kind: events::kind(&r.text("kind")?)?,
                actor,
                data: serde_json::from_str(&r.text("data")?)?,
                created_at: Timestamp(r.int("created_at")?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((events, horizon))
}

/// The position just past the newest event a reader may take now: a reader starting here
/// sees every event committed later, and none from before.
pub async fn head(c: &mut dyn Conn) -> Result<Position> {
    let sql = format!(
        "SELECT e.tx, e.id FROM events e WHERE 1 = 1 {} ORDER BY e.tx DESC, e.id DESC LIMIT 1",
        dialect::stream_horizon(c.backend())
    );
    match c.opt(&sql, &[]).await? {
        Some(r) => Ok(Position {
            tx: r.int("tx")?,
            id: r.int("id")?,
        }),
        None => Ok(Position::START),
    }
}

/// The position of the newest committed event, whether or not readers may take it yet
/// (on PostgreSQL a transaction still running anywhere can hold the stream's horizon
/// back). A reader that has reached it has seen everything committed before the call.
pub async fn latest(c: &mut dyn Conn) -> Result<Position> {
    match c
        .opt(
            "SELECT tx, id FROM events ORDER BY tx DESC, id DESC LIMIT 1",
            &[],
        )
        .await?
    {
        Some(r) => Ok(Position {
            tx: r.int("tx")?,
            id: r.int("id")?,
        }),
        None => Ok(Position::START),
    }
}

/// A subscriber's position, creating the subscription at the stream's head if it is new
/// (a new subscriber reacts to what happens from now on, not to the whole history).
pub async fn subscribe(c: &mut dyn Conn, name: &str, now: Timestamp) -> Result<Position> {
    if let Some(p) = position(c, name).await? {
        return Ok(p);
    }
    let head = head(c).await?;
    c.execute(
        "INSERT INTO subscriptions (name, tx, event_id, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING",
        &[name.into(), head.tx.into(), head.id.into(), now.into()],
    )
    .await?;
    Ok(position(c, name).await?.unwrap_or(head))
}

/// Creates a subscription at the very start of the stream when it does not exist yet, so
/// the subscriber handles the whole history (a new help desk's seeded conversations get
/// their SLA clocks, say); an existing one is left where it stands.
pub async fn subscribe_from_start(c: &mut dyn Conn, name: &str, now: Timestamp) -> Result<()> {
    let start = Position::START;
    c.execute(
        "INSERT INTO subscriptions (name, tx, event_id, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING",
        &[name.into(), start.tx.into(), start.id.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// A subscriber's position, if it exists.
pub async fn position(c: &mut dyn Conn, name: &str) -> Result<Option<Position>> {
    cursor(c, name, "").await
}

/// Takes a subscriber's cursor for this transaction: its position, or `None` when another
/// node is handling it right now (PostgreSQL; SQLite's one writer needs no lock).
pub async fn take(c: &mut dyn Conn, name: &str) -> Result<Option<Position>> {
    let lock = dialect::skip_locked(c.backend());
    cursor(c, name, lock).await
}

/// Reads a subscriber's cursor row, with `lock` appended to the query.
async fn cursor(c: &mut dyn Conn, name: &str, lock: &str) -> Result<Option<Position>> {
    c.opt(
        &format!("SELECT tx, event_id FROM subscriptions WHERE name = $1 {lock}"),
        &[name.into()],
    )
    .await?
    .map(|r| {
        Ok(Position {
            tx: r.int("tx")?,
            id: r.int("event_id")?,
        })
    })
    .transpose()
}

/// Moves a subscriber's cursor (in the transaction that handled the events up to `to`).
pub async fn advance(c: &mut dyn Conn, name: &str, to: Position, now: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE subscriptions SET tx = $1, event_id = $2, updated_at = $3 WHERE name = $4",
        &[to.tx.into(), to.id.into(), now.into(), name.into()],
    )
    .await?;
    Ok(())
}

/// The `tx` an event of `ticket_id` written now must carry (PostgreSQL): at least this
/// transaction's id, and at least that of the ticket's latest event. Locks the ticket row,
/// so the next transaction writing an event for this ticket waits for this one to commit
/// and then sorts after it.
pub(crate) async fn ticket_tx(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<i64>> {
    let Some(sql) = dialect::event_tx(c.backend()) else {
        return Ok(None);
    };
    Ok(Some(
        c.one(sql, &[ticket_id.into()]).await?.int("event_tx")?,
    ))
}

/// The `tx` an event about the knowledge-base article `article_id` written now must carry
/// (PostgreSQL): [`ticket_tx`]'s rule on the article's row. `None` on SQLite, and when the
/// article row does not exist.
pub(crate) async fn article_tx(c: &mut dyn Conn, article_id: i64) -> Result<Option<i64>> {
    let Some(sql) = dialect::article_event_tx(c.backend()) else {
        return Ok(None);
    };
    c.opt(sql, &[article_id.into()])
        .await?
        .map(|r| r.int("event_tx"))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_order() {
        let p = Position { tx: 812, id: 40 };
        assert_eq!(p.to_string().parse::<Position>(), Ok(p));
        assert!(Position { tx: 1, id: 99 } < Position { tx: 2, id: 1 });
        assert!(Position { tx: 2, id: 1 } < Position { tx: 2, id: 3 });
        for junk in ["", "12", "a-b", "-1-2", "3-", "1-2-3"] {
            assert!(junk.parse::<Position>().is_err(), "{junk:?}");
        }
    }
}
