//! How long the self-service logs are kept: the search log (`kb_searches`), the
//! deflection attempts (`kb_deflections`, with the articles each showed) and the
//! visitor who filed a portal ticket (`ticket_visitors`) hold pseudonymous traces of
//! what people did, and would grow forever. A daily job (`rapport_jobs`'s `kb.purge`)
//! deletes what is older than the retention (`RAPPORT_KB_LOG_RETENTION_DAYS`, 400 days by
//! default: a year's reports and a little more).
//!
//! Deletes go in batches of [`BATCH`] rows, each its own write, so a large backlog never
//! holds SQLite's one writer for long. Once an attempt is purged, its ticket no longer
//! shows which articles the customer read before writing.

use rapport_domain::Timestamp;

use crate::db::Conn;
use crate::error::Result;

/// The most rows one call deletes from each table.
pub const BATCH: i64 = 5_000;

/// The default retention, in days.
pub const DEFAULT_DAYS: i64 = 400;

/// What one call deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Rows of the search log.
    pub searches: u64,
    /// Deflection attempts (their articles go with them).
    pub deflections: u64,
    /// Portal tickets' visitors.
    pub visitors: u64,
}

impl Purged {
    /// Whether a table may still hold rows older than the cut (a full batch was deleted).
    pub fn more(&self) -> bool {
        let full = u64::try_from(BATCH).unwrap_or(u64::MAX);
        self.searches >= full || self.deflections >= full || self.visitors >= full
    }
}

/// Deletes up to [`BATCH`] rows of each log made before `before`: searches by when they
/// were made, attempts by when suggestions were first shown, visitors by when their
/// ticket was filed. Call again while [`Purged::more`].
pub async fn purge(c: &mut dyn Conn, before: Timestamp) -> Result<Purged> {
    let searches = c
        .execute(
            "DELETE FROM kb_searches WHERE id IN
               (SELECT id FROM kb_searches WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
            &[before.into(), BATCH.into()],
        )
        .await?;
    let deflections = c
        .execute(
            "DELETE FROM kb_deflections WHERE id IN
               (SELECT id FROM kb_deflections WHERE shown_at < $1 ORDER BY shown_at LIMIT $2)",
            &[before.into(), BATCH.into()],
        )
        .await?;
    let visitors = c
        .execute(
            "DELETE FROM ticket_visitors WHERE ticket_id IN
               (SELECT ticket_id FROM ticket_visitors WHERE created_at < $1 LIMIT $2)",
            &[before.into(), BATCH.into()],
        )
        .await?;
    Ok(Purged {
        searches,
        deflections,
        visitors,
    })
}

/// The cut for a retention of `days` at `now`: rows made before it are purged.
pub fn cutoff(now: Timestamp, days: i64) -> Timestamp {
    now.plus_secs(-days.max(1).saturating_mul(86_400))
}
