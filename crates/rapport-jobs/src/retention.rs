//! The daily purge of the self-service logs (`rapport_store::kb::retention`): the search
//! log, the deflection attempts and the portal tickets' visitors older than the retention
//! are deleted, in batches, by the `kb.purge` job. The server schedules it once a day
//! ([`schedule_kb_purge`], keyed by the day so many nodes enqueue it once) with the cut
//! computed from `RAPPORT_KB_LOG_RETENTION_DAYS`.

use futures::future::BoxFuture;
use rapport_domain::Timestamp;
use rapport_store::jobs::{self, Job, NewJob};
use rapport_store::kb::retention;
use rapport_store::op;
use rapport_store::{Db, StoreError};
use serde::{Deserialize, Serialize};

use crate::{Handler, payload};

/// The kind of the daily purge of the self-service logs.
pub const KB_PURGE: &str = "kb.purge";

/// The payload of a [`KB_PURGE`] job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbPurgePayload {
    /// Rows made before this instant (microseconds since the epoch) are deleted.
    pub before: i64,
}

/// Deletes the self-service logs older than the payload's cut: [`KbPurgePayload`].
pub struct KbPurgeHandler;

impl Handler for KbPurgeHandler {
    fn run<'a>(&'a self, db: &'a Db, job: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let KbPurgePayload { before } = payload(job)?;
            let before = Timestamp(before);
            let mut total = retention::Purged::default();
            loop {
                let p = db
                    .write(op!(c => retention::purge(c, before).await))
                    .await
                    .map_err(|e| e.to_string())?;
                total.searches += p.searches;
                total.deflections += p.deflections;
                total.visitors += p.visitors;
                if !p.more() {
                    break;
                }
            }
            tracing::info!(
                searches = total.searches,
                deflections = total.deflections,
                visitors = total.visitors,
                "purged the self-service logs"
            );
            Ok(())
        })
    }
}

/// Enqueues today's purge of what is older than `retention_days` before `now`, once per
/// day whatever the number of nodes (the idempotency key is the day).
pub async fn schedule_kb_purge(
    db: &Db,
    now: Timestamp,
    retention_days: i64,
) -> Result<Job, StoreError> {
    let day = now.day();
    let before = retention::cutoff(now, retention_days);
    let job = NewJob {
        kind: KB_PURGE.into(),
        payload: serde_json::to_value(KbPurgePayload {
            before: before.micros(),
        })?,
        run_at: now,
        max_attempts: 5,
        idempotency_key: Some(format!("{KB_PURGE}:{day}")),
    };
    db.write(op!(c => jobs::enqueue(c, job, now).await)).await
}
