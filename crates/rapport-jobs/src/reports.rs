//! The reports' roll-ups follow the event stream: every ticket an event names is rolled
//! up again (its facts computed afresh, the difference applied to the cells — see
//! `rapport_store::reports::rollup`), and so is every subject a write without a ticket
//! event marked (SLA clocks, surveys).

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::BoxFuture;
use rapport_domain::{EventKind, Timestamp};
use rapport_store::reports::rollup::{self, Subjects};
use rapport_store::stream::StreamEvent;
use rapport_store::{Conn, StoreError};

use crate::subscribers::Subscriber;

/// The subscriber's durable name.
pub const REPORTS: &str = "reports.rollup";

/// Keeps the roll-ups.
#[derive(Debug, Clone, Copy, Default)]
pub struct RollUps;

impl Subscriber for RollUps {
    fn name(&self) -> &'static str {
        REPORTS
    }

    /// Every event about a ticket, except those that change nothing a report counts (time
    /// logged, an SLA warning, an internal note that leaves the status).
    fn wants(&self, event: &StreamEvent) -> bool {
        event.ticket_id.is_some()
            && match event.kind {
                EventKind::TimeLogged | EventKind::SlaWarning => false,
                EventKind::NoteAdded => event.data.get("status").is_some(),
                _ => true,
            }
    }

    /// Every round drains marks, even one whose events are none of the above: while this
    /// subscriber is behind, the binary's roll-up loop leaves the marks to it.
    fn handles_empty_batches(&self) -> bool {
        true
    }

    /// Many events a round, a second apart while it keeps up: a ticket's events of one
    /// second are one refresh, and the writer is taken less often (reports may lag a
    /// second).
    fn batch_size(&self) -> Option<i64> {
        Some(2_000)
    }

    fn idle_wait(&self) -> Option<Duration> {
        Some(Duration::from_secs(1))
    }

    fn handle_batch<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
        _now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let tickets: BTreeSet<i64> = events.iter().filter_map(|e| e.ticket_id).collect();
            rollup::refresh_and_drain(
                c,
                &Subjects {
                    tickets: tickets.into_iter().collect(),
                    surveys: Vec::new(),
                },
            )
            .await
        })
    }
}
