//! Side effects that react to the event stream, each event handled exactly once.
//!
//! The code that changes a ticket records what happened and names no channel; a
//! [`Subscriber`] reacts — queues an email, later calls a webhook or starts an SLA timer.
//! Its [`Runner`] keeps a durable cursor in the database (see `rapport_store::stream`) and
//! moves it in the same transaction that handles the events, so an event is handled once
//! even across restarts and crashes, and on several nodes by one of them at a time (the
//! cursor row is locked with `SKIP LOCKED`; a runner that finds it taken waits its turn).
//! A failing event stops its subscriber — it is retried with a capped backoff, never
//! skipped — and leaves the others alone. A new subscriber starts at the stream's head.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rapport_domain::{Clock, EventKind, Timestamp};
use rapport_store::op;
use rapport_store::stream::{self, Position, StreamEvent};
use rapport_store::{Conn, Db, StoreError};
use tokio::sync::watch;

/// Whether the event may have freed an agent's place (their capacity of tickets or
/// chats): a ticket solved or closed, taken from its owner, transferred or merged away.
/// The queues that hand out waiting work (`chat_queue`, `routing`) look again then.
pub fn frees_an_agent(event: &StreamEvent) -> bool {
    match event.kind {
        EventKind::FieldsChanged => {
            let done = event.data["status"]["to"]
                .as_str()
                .is_some_and(|s| s == "solved" || s == "closed");
            done || event.data["assignee_id"]["from"].is_i64()
        }
        EventKind::Transferred | EventKind::MergedInto => true,
        EventKind::ReplyAdded => event.data["status"]["to"].as_str() == Some("solved"),
        _ => false,
    }
}

/// Reacts to events of the stream.
pub trait Subscriber: Send + Sync + 'static {
    /// The durable name of its cursor. Renaming it starts a new cursor at the head.
    fn name(&self) -> &'static str;

    /// Whether it reacts to this event at all (asked on the read snapshot, outside the
    /// write transaction). Events it
    /// does not want are passed over without a call to [`Subscriber::handle`], so the
    /// transaction that moves the cursor stays small.
    fn wants(&self, event: &StreamEvent) -> bool {
        let _ = event;
        true
    }

    /// Handles one event, inside the transaction that moves the cursor past it: its
    /// writes commit with the cursor or not at all. An error rolls the batch back and the
    /// same events come again later. A subscriber implements this or
    /// [`Subscriber::handle_batch`]; one that implements neither fails on its first event
    /// (retried and logged, never skipped).
    fn handle<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        event: &'a StreamEvent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (c, event, now);
        let name = self.name();
        Box::pin(async move {
            Err(StoreError::Db(format!(
                "subscriber {name} implements neither handle nor handle_batch"
            )))
        })
    }

    /// Whether [`Subscriber::handle_batch`] is called for a batch that holds none of the
    /// events it wants (with an empty slice), for work of its own besides the events — the
    /// reports' subscriber drains the dirty marks every round. Default: no.
    fn handles_empty_batches(&self) -> bool {
        false
    }

    /// The most events a batch holds for this subscriber (default: the runner's).
    fn batch_size(&self) -> Option<i64> {
        None
    }

    /// How long to wait after a round that found less than a full batch (default: the
    /// runner's). A subscriber whose work is cheaper in bigger batches and may lag a
    /// moment (the reports' roll-ups) waits longer.
    fn idle_wait(&self) -> Option<Duration> {
        None
    }

    /// Work a batch needs that can be done before its write transaction, on the read
    /// snapshot the batch was read on (with only the events the subscriber wants): on
    /// SQLite, outside the one writer every write waits for. What it returns reaches
    /// [`Subscriber::handle_prepared`], which must check what it relies on, as the data
    /// may change in between (the classifier works out the features of new tickets' texts
    /// here, and uses them only if the write reads the same texts). Default: nothing.
    fn prepare<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
    ) -> BoxFuture<'a, Result<Prepared, StoreError>> {
        let _ = (c, events);
        Box::pin(async { Ok(Box::new(()) as Prepared) })
    }

    /// Handles a batch with what [`Subscriber::prepare`] worked out for it. Default:
    /// [`Subscriber::handle_batch`], which needs nothing prepared.
    fn handle_prepared<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
        prepared: &'a Prepared,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = prepared;
        self.handle_batch(c, events, now)
    }

    /// Handles the events of one batch in order, inside one transaction. By default one
    /// [`Subscriber::handle`] each; a subscriber whose writes add up across events (the
    /// classifier's counts, the SLA clocks of new tickets) or that reads its rules once a
    /// batch implements this instead of `handle`.
    fn handle_batch<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            for e in events {
                self.handle(c, e, now).await?;
            }
            Ok(())
        })
    }
}

/// What [`Subscriber::prepare`] worked out for a batch, for the subscriber's own
/// [`Subscriber::handle_prepared`] to take back with `downcast_ref`.
pub type Prepared = Box<dyn std::any::Any + Send + Sync>;

/// How a runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Events handled per transaction at most.
    pub batch: i64,
    /// How long to wait when there is nothing new (or another node has the cursor).
    pub idle_wait: Duration,
    /// The longest wait between retries after errors (the wait doubles up to this).
    pub max_backoff: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            batch: 500,
            idle_wait: Duration::from_millis(250),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// What one round of a runner did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// Nothing new to handle.
    Idle,
    /// Another runner (another node) holds the cursor right now.
    Busy,
    /// Handled this many events and moved the cursor past them.
    Handled(usize),
}

/// A batch read for a round: where the cursor stood, the last event read, how many were
/// read, those the subscriber wants and what it prepared for them.
struct Read {
    at: Position,
    last: Position,
    read_count: usize,
    wanted: Vec<StreamEvent>,
    prepared: Prepared,
}

/// Follows the stream for one subscriber.
#[derive(Clone)]
pub struct Runner {
    db: Db,
    clock: Arc<dyn Clock>,
    subscriber: Arc<dyn Subscriber>,
    config: RunnerConfig,
}

impl Runner {
    /// A runner for `subscriber` over `db`.
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        subscriber: Arc<dyn Subscriber>,
        config: RunnerConfig,
    ) -> Self {
        Self {
            db,
            clock,
            subscriber,
            config,
        }
    }

    /// Events a batch holds at most: the subscriber's own size, or the runner's.
    fn batch(&self) -> i64 {
        self.subscriber.batch_size().unwrap_or(self.config.batch)
    }

    /// The subscriber's name.
    pub fn name(&self) -> &'static str {
        self.subscriber.name()
    }

    /// Creates the subscriber's cursor at the stream's head if it has none, and returns
    /// where it stands. The server does this for every subscriber before it takes
    /// requests, so nothing it records afterwards falls before a new cursor.
    pub async fn subscribe(&self) -> Result<Position, StoreError> {
        let name = self.subscriber.name();
        let now = self.clock.now();
        self.db
            .write(op!(c => stream::subscribe(c, name, now).await))
            .await
    }

    /// One round: a cheap read to see whether anything is new, then one write
    /// transaction that takes the cursor, handles the next batch and moves the cursor.
    /// A subscriber seen for the first time gets its cursor at the head.
    pub async fn step(&self) -> Result<Round, StoreError> {
        let name = self.subscriber.name();
        // The batch is read on a snapshot, outside the writer; only the events the
        // subscriber wants are handled in the write transaction, which first checks that the
        // cursor still stands where the batch was read from (another node may have moved it).
        // What the subscriber can work out before the write is worked out on the same
        // snapshot.
        let batch = self.batch();
        let subscriber = Arc::clone(&self.subscriber);
        let read = self
            .db
            .read(op!(c => {
                let Some(at) = stream::position(c, name).await? else {
                    return Ok(None);
                };
                let events = stream::after(c, at, batch).await?;
                let Some(last) = events.last().map(|e| e.position) else {
                    return Ok(Some(None));
                };
                let read_count = events.len();
                let wanted: Vec<StreamEvent> =
                    events.into_iter().filter(|e| subscriber.wants(e)).collect();
                let prepared: Prepared = if wanted.is_empty() {
                    Box::new(())
                } else {
                    subscriber.prepare(c, &wanted).await?
                };
                Ok(Some(Some(Read { at, last, read_count, wanted, prepared })))
            }))
            .await?;
        let read = match read {
            None => {
                self.subscribe().await?;
                return Ok(Round::Idle);
            }
            Some(None) => return Ok(Round::Idle),
            Some(Some(read)) => read,
        };
        let subscriber = Arc::clone(&self.subscriber);
        let now = self.clock.now();
        let (round, prepared) = self
            .db
            .write(op!(c => {
                let Read { at, last, read_count, wanted, prepared } = read;
                match stream::take(c, name).await? {
                    Some(p) if p == at => {}
                    // Another runner holds the cursor, or has moved it since the read.
                    _ => return Ok((Round::Busy, prepared)),
                }
                if !wanted.is_empty() || subscriber.handles_empty_batches() {
                    subscriber.handle_prepared(c, &wanted, &prepared, now).await?;
                }
                stream::advance(c, name, last, now).await?;
                // What was prepared is handed back, to be freed here rather than by the
                // writer.
                Ok((Round::Handled(read_count), prepared))
            }))
            .await?;
        drop(prepared);
        Ok(round)
    }

    /// Handles rounds until the subscriber has handled every event committed before the
    /// call: what a test calls to let side effects happen now. Waits while another runner
    /// holds the cursor or the stream's horizon holds events back. Returns the number of
    /// events this runner handled.
    pub async fn settle(&self) -> Result<usize, StoreError> {
        let name = self.subscriber.name();
        let target = self.db.read(op!(c => stream::latest(c).await)).await?;
        let mut handled = 0;
        let mut transient = 0;
        loop {
            // A deadlock's victim is rolled back whole and tried again, as `run` would.
            let round = match self.step().await {
                Err(e) if e.is_transient() && transient < 5 => {
                    transient += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                r => r?,
            };
            match round {
                Round::Handled(n) => handled += n,
                Round::Busy => tokio::time::sleep(Duration::from_millis(10)).await,
                Round::Idle => {
                    let at = self
                        .db
                        .read(op!(c => stream::position(c, name).await))
                        .await?;
                    if at.is_some_and(|at| at >= target) {
                        return Ok(handled);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    /// Runs rounds until `stop` turns true: at once again after a full batch, after
    /// `idle_wait` when idle or busy, and after a doubling wait (capped) on errors.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        while !*stop.borrow() {
            let wait = match self.step().await {
                Ok(round) => {
                    failures = 0;
                    match round {
                        Round::Handled(n) if n as i64 >= self.batch() => Duration::ZERO,
                        _ => self.subscriber.idle_wait().unwrap_or(self.config.idle_wait),
                    }
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = backoff(self.config.idle_wait, self.config.max_backoff, failures);
                    tracing::error!(
                        subscriber = self.name(),
                        error = %e,
                        failures,
                        retry_in_ms = wait.as_millis() as u64,
                        "subscriber failed; retrying the same events"
                    );
                    wait
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

/// The wait after the `failures`-th error in a row: `base` doubled each time, at most `cap`.
fn backoff(base: Duration, cap: Duration, failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(cap).max(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let (base, cap) = (Duration::from_millis(250), Duration::from_secs(60));
        assert_eq!(backoff(base, cap, 1), base);
        assert_eq!(backoff(base, cap, 2), Duration::from_millis(500));
        assert_eq!(backoff(base, cap, 3), Duration::from_secs(1));
        assert_eq!(backoff(base, cap, 12), cap);
        assert_eq!(backoff(base, cap, u32::MAX), cap);
    }
}
