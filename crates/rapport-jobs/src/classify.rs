//! The classifier follows the stream: a ticket whose category an agent set — at creation
//! or by correcting it later — is a training example at once; a ticket that comes in
//! without one is classified (applied at or over the threshold, suggested below). The
//! counts are rebuilt from the examples once a day ([`RETRAIN`], keyed by the day). The
//! rules are `rapport_domain::classify`; the counts `rapport_store::classify`.

use futures::future::BoxFuture;
use rapport_domain::{EventKind, Timestamp};
use rapport_store::events::Actor;
use rapport_store::jobs::{self, Job, NewJob};
use rapport_store::stream::StreamEvent;
use rapport_store::{Backend, Conn, Db, StoreError, classify, op};
use serde::{Deserialize, Serialize};

use crate::Handler;
use crate::subscribers::{Prepared, Subscriber};

/// The subscriber's durable name.
pub const CLASSIFIER: &str = "classify.tickets";

/// The daily rebuild's job kind.
pub const RETRAIN: &str = "classify.retrain";

/// Learns from agents' categories and classifies new tickets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Classifier;

impl Subscriber for Classifier {
    fn name(&self) -> &'static str {
        CLASSIFIER
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        match event.kind {
            EventKind::TicketCreated => true,
            EventKind::FieldsChanged => by_agent(event) && event.data.get("category").is_some(),
            _ => false,
        }
    }

    /// Handled without anything prepared: the features of new tickets' texts are worked
    /// out inside the write.
    fn handle_batch<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let prepared: Prepared = Box::<classify::Prepared>::default();
        Box::pin(async move { self.handle_prepared(c, events, &prepared, now).await })
    }

    /// The features of the texts of tickets agents opened with a category (the examples
    /// the batch keeps), worked out before the write.
    fn prepare<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
    ) -> BoxFuture<'a, Result<Prepared, StoreError>> {
        Box::pin(async move {
            // PostgreSQL has no one writer to spare, and every node would prepare the batch
            // only one of them handles: there the write works the features out itself.
            if c.backend() == Backend::Postgres {
                return Ok(Box::<classify::Prepared>::default() as Prepared);
            }
            let ids: Vec<i64> = events
                .iter()
                .filter(|e| e.kind == EventKind::TicketCreated)
                .filter(|e| by_agent(e))
                .filter_map(|e| e.ticket_id)
                .collect();
            Ok(Box::new(classify::prepare(c, &ids).await?) as Prepared)
        })
    }

    /// The batch's examples are counted together and written once at its end (or
    /// before a ticket is classified, so the verdict sees every example before it).
    fn handle_prepared<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
        prepared: &'a Prepared,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let none = classify::Prepared::default();
            let prepared = prepared.downcast_ref::<classify::Prepared>();
            debug_assert!(prepared.is_some(), "the classifier's own prepare made it");
            let prepared = prepared.unwrap_or(&none);
            let mut tally = classify::Tally::default();
            // A run of new tickets is handled together (their texts read in one go, their
            // examples written in one go), in its place among the corrections.
            let mut created: Vec<(i64, bool)> = Vec::new();
            for event in events {
                let Some(ticket) = event.ticket_id else {
                    continue;
                };
                match event.kind {
                    EventKind::FieldsChanged => {
                        classify::on_created(c, &created, prepared, now, &mut tally).await?;
                        created.clear();
                        let to = event.data["category"]["to"].as_str();
                        classify::learn(c, ticket, to, now, &mut tally).await?;
                    }
                    _ => created.push((ticket, by_agent(event))),
                }
            }
            classify::on_created(c, &created, prepared, now, &mut tally).await?;
            classify::flush(c, &mut tally).await
        })
    }
}

/// Whether an agent (not the customer, not a rule) recorded the event: only an agent's
/// category teaches the classifier.
fn by_agent(event: &StreamEvent) -> bool {
    matches!(event.actor, Actor::User(_))
}

/// The payload of a [`RETRAIN`] job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrainPayload {
    /// The day it is for, in days since the epoch.
    pub day: i64,
}

/// Rebuilds the classifier's counts from its examples.
pub struct RetrainHandler;

impl Handler for RetrainHandler {
    fn run<'a>(&'a self, db: &'a Db, job: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let _: RetrainPayload = crate::payload(job)?;
            let now = job.run_at;
            db.write(op!(c => classify::retrain(c, now).await))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// Enqueues today's rebuild, once per day whatever the number of nodes.
pub async fn schedule_retrain(db: &Db, now: Timestamp) -> Result<Job, StoreError> {
    let day = now.day();
    let job = NewJob {
        kind: RETRAIN.into(),
        payload: serde_json::to_value(RetrainPayload { day })?,
        run_at: now,
        max_attempts: 5,
        idempotency_key: Some(format!("{RETRAIN}:{day}")),
    };
    db.write(op!(c => jobs::enqueue(c, job, now).await)).await
}
