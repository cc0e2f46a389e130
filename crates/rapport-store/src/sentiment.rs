//! The moods of customers' messages (`messages.sentiment`, thousandths): a customer's
//! trend over their history.

use rapport_domain::sentiment::Sentiment;
use rapport_domain::{Principal, Timestamp};

use crate::db::Conn;
use crate::error::Result;

/// The mood of one message of a customer.
#[derive(Debug, Clone)]
pub struct Point {
    /// The message.
    pub message_id: i64,
    /// Its ticket.
    pub ticket_id: i64,
    /// When it came.
    pub at: Timestamp,
    /// Its mood.
    pub sentiment: Sentiment,
}

/// How many of a customer's latest messages a trend reads.
pub const TREND_MESSAGES: i64 = 50;

/// The moods of a customer's latest messages ([`TREND_MESSAGES`] at most), oldest first,
/// on the tickets of theirs that `who` may see (read by the customer's tickets and each
/// ticket's thread: no index of its own to keep on every message). Messages stored before
/// moods were have none and are left out.
pub async fn of_customer(c: &mut dyn Conn, who: &Principal, customer: i64) -> Result<Vec<Point>> {
    if who.customer().is_some_and(|me| me != customer) {
        return Ok(Vec::new());
    }
    let rows = c
        .query(
            "SELECT m.id, m.ticket_id, m.created_at, m.sentiment, t.team_id
             FROM tickets t JOIN messages m ON m.ticket_id = t.id
             WHERE t.customer_id = $1 AND m.author_customer_id = $1
               AND m.sentiment IS NOT NULL
             ORDER BY m.created_at DESC, m.id DESC LIMIT $2",
            &[customer.into(), TREND_MESSAGES.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter().rev() {
        if !who.can_see_ticket(r.opt_int("team_id")?, customer) {
            continue;
        }
        out.push(Point {
            message_id: r.int("id")?,
            ticket_id: r.int("ticket_id")?,
            at: Timestamp(r.int("created_at")?),
            sentiment: Sentiment::from_score(r.int("sentiment")? as f64 / 1000.0),
        });
    }
    Ok(out)
}
