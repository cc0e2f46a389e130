//! Presence: who is viewing or typing on a ticket, for collision detection. A row per
//! agent and ticket, refreshed by the ticket page.

use rapport_domain::Timestamp;

use crate::db::Conn;
use crate::error::Result;

/// Records that an agent is looking at (or typing on) a ticket.
pub async fn touch(
    c: &mut dyn Conn,
    ticket_id: i64,
    user_id: i64,
    typing: bool,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "INSERT INTO presence (ticket_id, user_id, typing, seen_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (ticket_id, user_id) DO UPDATE SET typing = excluded.typing, seen_at = excluded.seen_at",
        &[ticket_id.into(), user_id.into(), typing.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// The other agents seen on a ticket in the last 20 seconds: name and whether typing.
pub async fn others(
    c: &mut dyn Conn,
    ticket_id: i64,
    me: i64,
    now: Timestamp,
) -> Result<Vec<(String, bool)>> {
    c.query(
        "SELECT u.name, p.typing FROM presence p JOIN users u ON u.id = p.user_id
         WHERE p.ticket_id = $1 AND p.user_id <> $2 AND p.seen_at > $3 ORDER BY u.name",
        &[ticket_id.into(), me.into(), now.plus_secs(-20).into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.text("name")?, r.bool("typing")?)))
    .collect()
}
