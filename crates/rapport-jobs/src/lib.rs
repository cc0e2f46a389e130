//! Background workers over the durable job queue in the database.
//!
//! A [`Worker`] claims one job at a time with a lease, runs the handler registered for
//! its kind, and marks it done — or failed, to be retried after a growing delay and
//! dead-lettered after its last attempt. Workers on many nodes share one queue. On
//! shutdown a worker finishes the job in hand and stops; a worker killed mid-job lets
//! its lease run out and the job is claimed again.
//!
//! [`subscribers`] react to the event stream: each [`Subscriber`] has a durable cursor
//! and a [`Runner`] that handles every event once, in order.

pub mod automations;
pub mod chat_queue;
pub mod classify;
pub mod loyalty;
pub mod reports;
pub mod retention;
pub mod routing;
pub mod sla;
pub mod snooze;
pub mod subscribers;
pub mod surveys;
pub mod webhooks;

pub use chat_queue::{CHAT_QUEUE, ChatQueue};
pub use retention::{KB_PURGE, KbPurgeHandler, KbPurgePayload, schedule_kb_purge};
pub use subscribers::{Round, Runner, RunnerConfig, Subscriber};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rapport_domain::job::JobState;
use rapport_domain::{Clock, Timestamp};
use rapport_store::jobs::{self, Job, NewJob};
use rapport_store::op;
use rapport_store::{Db, StoreError, stats};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// The kind of the nightly statistics roll-up job.
pub const ROLL_UP: &str = "stats.roll_up";

/// Runs jobs of one kind.
pub trait Handler: Send + Sync + 'static {
    /// Does the work. An error is recorded on the job and the job is retried.
    fn run<'a>(&'a self, db: &'a Db, job: &'a Job) -> BoxFuture<'a, Result<(), String>>;

    /// Called once by the worker when the job has failed for the last time and is
    /// dead-lettered, with that last failure, so the handler can tell whoever waits on
    /// it. Does nothing by default.
    fn gave_up<'a>(&'a self, db: &'a Db, job: &'a Job, error: &'a str) -> BoxFuture<'a, ()> {
        let _ = (db, job, error);
        Box::pin(async {})
    }
}

/// A shared handler is a handler (tests keep a handle to count calls).
impl<T: Handler> Handler for Arc<T> {
    fn run<'a>(&'a self, db: &'a Db, job: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        T::run(self, db, job)
    }

    fn gave_up<'a>(&'a self, db: &'a Db, job: &'a Job, error: &'a str) -> BoxFuture<'a, ()> {
        T::gave_up(self, db, job, error)
    }
}

/// Reads a job's payload as the type its kind promises; a payload that does not fit
/// fails the job with a reason naming the kind and what is wrong.
pub fn payload<T: DeserializeOwned>(job: &Job) -> Result<T, String> {
    T::deserialize(&job.payload).map_err(|e| format!("bad {} payload: {e}", job.kind))
}

/// The payload of a [`ROLL_UP`] job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollUpPayload {
    /// The day to recompute, in days since the epoch.
    pub day: i64,
}

/// Recomputes one day's statistics: payload [`RollUpPayload`].
pub struct RollUpHandler;

impl Handler for RollUpHandler {
    fn run<'a>(&'a self, db: &'a Db, job: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let RollUpPayload { day } = payload(job)?;
            db.write(op!(c => stats::roll_up_day(c, day).await))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}

/// The handlers a worker knows, by job kind, and the subscribers to the event stream
/// that the server runs beside the workers.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn Handler>>,
    subscribers: Vec<Arc<dyn Subscriber>>,
}

impl Registry {
    /// The handlers Rapport ships with.
    pub fn standard() -> Self {
        let mut r = Self::default();
        r.add(ROLL_UP, RollUpHandler);
        r.add(KB_PURGE, KbPurgeHandler);
        r.subscribe(ChatQueue);
        r.subscribe(sla::SlaClocks);
        r.subscribe(routing::Routing);
        r.subscribe(classify::Classifier);
        r.subscribe(snooze::SnoozeReplies);
        r.subscribe(automations::Automations);
        r.subscribe(surveys::SurveyOffers);
        r.add(classify::RETRAIN, classify::RetrainHandler);
        r.subscribe(webhooks::Fanout);
        r.subscribe(reports::RollUps);
        r.subscribe(loyalty::OrderPoints);
        r
    }

    /// Registers `handler` for `kind`.
    pub fn add(&mut self, kind: &str, handler: impl Handler) {
        self.handlers.insert(kind.to_owned(), Arc::new(handler));
    }

    /// Registers a subscriber to the event stream (one runner each).
    pub fn subscribe(&mut self, subscriber: impl Subscriber) {
        self.subscribers.push(Arc::new(subscriber));
    }

    /// The registered subscribers.
    pub fn subscribers(&self) -> &[Arc<dyn Subscriber>] {
        &self.subscribers
    }
}

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Name recorded on claimed jobs (node and task).
    pub name: String,
    /// How long a claim holds before another worker may take the job over.
    pub lease_secs: i64,
    /// How long to wait when the queue is empty.
    pub idle_wait: Duration,
}

/// Claims and runs jobs.
#[derive(Clone)]
pub struct Worker {
    db: Db,
    clock: Arc<dyn Clock>,
    registry: Registry,
    config: WorkerConfig,
}

/// What one step of a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// No job was due.
    Idle,
    /// A job ran and is done.
    Done(i64),
    /// A job failed and will be retried (or is dead).
    Failed(i64),
}

impl Worker {
    /// A worker over `db`.
    pub fn new(db: Db, clock: Arc<dyn Clock>, registry: Registry, config: WorkerConfig) -> Self {
        Self {
            db,
            clock,
            registry,
            config,
        }
    }

    /// Claims and runs at most one job.
    pub async fn step(&self) -> Result<Step, StoreError> {
        let name = self.config.name.clone();
        let lease = self.config.lease_secs;
        let now = self.clock.now();
        let claimed = self
            .db
            .write(op!(c => jobs::claim(c, &name, lease, now).await))
            .await?;
        let Some(job) = claimed else {
            return Ok(Step::Idle);
        };
        let handler = self.registry.handlers.get(&job.kind);
        // Attempts are counted at claim time. A job claimed again after its lease ran out
        // with no attempt left is one whose worker stopped (crashed, was killed) during every
        // attempt: it is not run once more, it fails for good, so a job that kills its
        // worker cannot be retried forever.
        let exhausted = job.attempts > job.max_attempts;
        let outcome = match handler {
            _ if exhausted => Err(format!(
                "its worker stopped during each of its {} attempts",
                job.max_attempts
            )),
            // A handler that panics fails its job (retried, then dead-lettered) instead of
            // taking the worker down with it.
            Some(h) => {
                use futures::FutureExt;
                std::panic::AssertUnwindSafe(h.run(&self.db, &job))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| Err("the job's handler panicked".to_owned()))
            }
            None => Err(format!("no handler for job kind {:?}", job.kind)),
        };
        let name = self.config.name.clone();
        let now = self.clock.now();
        let id = job.id;
        match outcome {
            Ok(()) => {
                self.db
                    .write(op!(c => jobs::complete(c, id, &name, now).await))
                    .await?;
                tracing::debug!(job = id, kind = %job.kind, "job done");
                Ok(Step::Done(id))
            }
            Err(e) => {
                tracing::warn!(job = id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
                let error = e.clone();
                let failed = self
                    .db
                    .write(op!(c => jobs::fail(c, id, &name, &error, now).await))
                    .await?;
                if let (Some(h), Some(dead)) = (handler, failed)
                    && dead.state == JobState::Dead
                {
                    tracing::warn!(job = id, kind = %dead.kind, error = %e, "job dead-lettered");
                    use futures::FutureExt;
                    let told = std::panic::AssertUnwindSafe(h.gave_up(&self.db, &dead, &e))
                        .catch_unwind()
                        .await;
                    if told.is_err() {
                        tracing::error!(job = id, kind = %dead.kind, "the handler panicked in gave_up");
                    }
                }
                Ok(Step::Failed(id))
            }
        }
    }

    /// Runs until `stop` turns true, finishing the job in hand first.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let wait = match self.step().await {
                Ok(Step::Idle) => self.config.idle_wait,
                Ok(_) => Duration::ZERO,
                Err(e) => {
                    tracing::error!(error = %e, "job queue unavailable");
                    self.config.idle_wait * 5
                }
            };
            if !wait.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}

/// Enqueues the nightly roll-up of the day before `now`, once per day whatever the
/// number of nodes (the idempotency key is the day).
pub async fn schedule_roll_up(db: &Db, now: Timestamp) -> Result<Job, StoreError> {
    let day = now.day() - 1;
    let job = NewJob {
        kind: ROLL_UP.into(),
        payload: serde_json::to_value(RollUpPayload { day })?,
        run_at: now,
        max_attempts: 5,
        idempotency_key: Some(format!("{ROLL_UP}:{day}")),
    };
    db.write(op!(c => jobs::enqueue(c, job, now).await)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: &str, payload: serde_json::Value) -> Job {
        Job {
            id: 1,
            kind: kind.into(),
            payload,
            state: JobState::Running,
            run_at: Timestamp(0),
            attempts: 1,
            max_attempts: 5,
            last_error: None,
            idempotency_key: None,
        }
    }

    #[test]
    fn payloads_are_typed_and_bad_ones_say_why() {
        let ok: RollUpPayload = payload(&job(ROLL_UP, serde_json::json!({"day": 20_000}))).unwrap();
        assert_eq!(ok, RollUpPayload { day: 20_000 });
        let missing = payload::<RollUpPayload>(&job(ROLL_UP, serde_json::json!({}))).unwrap_err();
        assert!(
            missing.starts_with("bad stats.roll_up payload: missing field `day`"),
            "{missing}"
        );
        let wrong = payload::<RollUpPayload>(&job(ROLL_UP, serde_json::json!({"day": "x"})));
        assert!(wrong.unwrap_err().contains("invalid type"));
        let not_object = payload::<RollUpPayload>(&job(ROLL_UP, serde_json::json!(7)));
        assert!(not_object.is_err());
    }
}
