//! Following the event stream (in commit order, like the live feed: in memory, one task
//! per process): each batch of `article_changed` events re-reads its articles and
//! re-indexes those that changed in one commit, so every node's index catches up with a
//! change made on any node within a quarter second, and then moves [`KbIndex::changes`].
//! The synonym groups are re-read every ten seconds.

use std::collections::BTreeSet;
use std::time::Duration;

use rapport_domain::EventKind;
use rapport_store::stream::{self, Position};
use rapport_store::{Db, op};
use tokio::sync::watch;

use super::KbIndex;

/// Events read at a time.
const BATCH: i64 = 500;
/// Rounds between re-reading the synonym groups (each round is 250 ms when idle).
const SYNONYM_ROUNDS: u64 = 40;

impl KbIndex {
    /// Follows the event stream from where [`KbIndex::load`] stood until `stop`.
    pub async fn follow(self, db: Db, mut stop: watch::Receiver<bool>) {
        let mut last: Position = self.loaded_at.lock().map(|p| *p).unwrap_or(Position::START);
        let mut round: u64 = 0;
        while !*stop.borrow() {
            round += 1;
            if round.is_multiple_of(SYNONYM_ROUNDS)
                && let Err(e) = self.reload_synonyms(&db).await
            {
                tracing::warn!(error = %e, "the search index could not re-read the synonyms");
            }
            let after = last;
            let full = match db
                .read(op!(c => stream::after(c, after, BATCH).await))
                .await
            {
                Ok(events) => {
                    let full = events.len() as i64 == BATCH;
                    let mut changed = BTreeSet::new();
                    for e in &events {
                        if e.kind == EventKind::ArticleChanged
                            && let Some(id) = e.data.get("article_id").and_then(|v| v.as_i64())
                        {
                            changed.insert(id);
                        }
                    }
                    let changed: Vec<i64> = changed.into_iter().collect();
                    let ok = match self.refresh_articles(&db, &changed).await {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::warn!(error = %e, articles = changed.len(), "could not re-index articles");
                            false
                        }
                    };
                    if !changed.is_empty() {
                        // Even after a failure: what was re-indexed did change.
                        self.changed();
                    }
                    if ok && let Some(e) = events.last() {
                        last = e.position;
                    }
                    full && ok
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the search index could not read the event log");
                    false
                }
            };
            if full {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
