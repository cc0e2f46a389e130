//! Time entries: time agents log on a ticket, and the totals per agent.

use rapport_domain::{EventKind, FieldError, Timestamp, Viewer};
use serde::Serialize;
use serde_json::json;

use crate::db::Conn;
use crate::error::Result;
use crate::events::{self, Actor};
use crate::tickets;

/// Time logged on a ticket, per agent.
#[derive(Debug, Clone, Serialize)]
pub struct TimeSpent {
    /// The agent.
    pub user_id: i64,
    /// Their name.
    pub name: String,
    /// Seconds in total.
    pub seconds: i64,
}

/// Logs time an agent spent on a ticket (1 second to 24 hours per entry).
pub async fn log(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
    seconds: i64,
    note: &str,
    now: Timestamp,
) -> Result<()> {
    if !(1..=86_400).contains(&seconds) {
        return Err(FieldError::new("minutes", "must be between 1 minute and 24 hours").into());
    }
    tickets::get_for_agent(c, viewer, ticket_id).await?;
    c.execute(
        "INSERT INTO time_entries (ticket_id, user_id, seconds, note, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[
            ticket_id.into(),
            viewer.user_id.into(),
            seconds.into(),
            note.trim().chars().take(500).collect::<String>().into(),
            now.into(),
        ],
    )
    .await?;
    events::record(
        c,
        ticket_id,
        Actor::User(viewer.user_id),
        EventKind::TimeLogged,
        &json!({"seconds": seconds}),
        now,
    )
    .await
}

/// The time logged on a ticket, per agent.
pub async fn per_agent(c: &mut dyn Conn, ticket_id: i64) -> Result<Vec<TimeSpent>> {
    c.query(
        "SELECT e.user_id, u.name, CAST(SUM(e.seconds) AS BIGINT) AS seconds FROM time_entries e JOIN users u ON u.id = e.user_id
         WHERE e.ticket_id = $1 GROUP BY e.user_id, u.name ORDER BY u.name",
        &[ticket_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TimeSpent {
            user_id: r.int("user_id")?,
            name: r.text("name")?,
            seconds: r.int("seconds")?,
        })
    })
    .collect()
}
