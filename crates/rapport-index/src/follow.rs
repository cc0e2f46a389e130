//! Following the event stream, the one loop both self-service indexes run (in commit
//! order, like the live feed: in memory, one task per process). Each round reads a batch
//! of events, re-reads the items its index's events name ([`Followed::refresh`]) and moves
//! past the batch only when that worked, so every node's index catches up with a change
//! made on any node within a quarter second and a failed read is retried, never skipped.
//! The synonym groups are re-read every ten seconds.

use std::collections::BTreeSet;
use std::time::Duration;

use rapport_domain::EventKind;
use rapport_store::stream::{self, Position};
use rapport_store::{Db, op};
use tokio::sync::watch;

use crate::IndexError;

/// Events read at a time.
const BATCH: i64 = 500;
/// Rounds between re-reading the synonym groups (each round is 250 ms when idle).
const SYNONYM_ROUNDS: u64 = 40;

/// An index kept fresh from the event stream.
pub(crate) trait Followed: Send + Sync {
    /// The index, as logs name it.
    const NAME: &'static str;
    /// The events that name a changed item…
    const KIND: EventKind;
    /// …and the key of its id in their data.
    const ID: &'static str;

    /// Re-reads these items (ascending ids, distinct) and indexes each as it now is;
    /// true when the index changed (the writing node may have re-indexed them already).
    fn refresh(
        &self,
        db: &Db,
        ids: &[i64],
    ) -> impl Future<Output = Result<bool, IndexError>> + Send;

    /// Re-reads the synonym groups.
    fn reload_synonyms(&self, db: &Db) -> impl Future<Output = Result<(), IndexError>> + Send;

    /// After a batch changed the index (or failed part-way: what was re-indexed may have
    /// changed).
    fn applied(&self) {}
}

/// Follows the event stream from `from` until `stop`.
pub(crate) async fn follow<F: Followed>(
    index: &F,
    db: &Db,
    from: Position,
    mut stop: watch::Receiver<bool>,
) {
    let mut last = from;
    let mut round: u64 = 0;
    while !*stop.borrow() {
        round += 1;
        if round.is_multiple_of(SYNONYM_ROUNDS)
            && let Err(e) = index.reload_synonyms(db).await
        {
            tracing::warn!(error = %e, index = F::NAME, "could not re-read the synonyms");
        }
        let after = last;
        let full = match db
            .read(op!(c => stream::after(c, after, BATCH).await))
            .await
        {
            Ok(events) => {
                let full = events.len() as i64 == BATCH;
                let changed: Vec<i64> = events
                    .iter()
                    .filter(|e| e.kind == F::KIND)
                    .filter_map(|e| e.data.get(F::ID).and_then(|v| v.as_i64()))
                    .collect::<BTreeSet<i64>>()
                    .into_iter()
                    .collect();
                let (ok, moved) = match index.refresh(db, &changed).await {
                    Ok(moved) => (true, moved),
                    Err(e) => {
                        tracing::warn!(error = %e, index = F::NAME, items = changed.len(), "could not re-index");
                        (false, true)
                    }
                };
                if moved && !changed.is_empty() {
                    index.applied();
                }
                if ok && let Some(e) = events.last() {
                    last = e.position;
                }
                full && ok
            }
            Err(e) => {
                tracing::warn!(error = %e, index = F::NAME, "could not read the event log");
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
