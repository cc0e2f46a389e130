//! Live updates. One task per process follows the event stream (the same log on every
//! node, read in commit order — see `rapport_store::stream`) and fans each new event out
//! to the browsers connected to `/live`, which re-fetch what changed.
//!
//! Nothing is missed: a browser that falls behind the in-memory fan-out, or reconnects with
//! the `Last-Event-ID` its `EventSource` remembers, catches up from the log itself.
//!
//! **Early events.** On PostgreSQL an event is *settled* only once every transaction older
//! than it has ended (the stream's horizon, see `rapport_store::stream`); one slow
//! transaction anywhere would hold every live view back until it ends. So the fan-out sends
//! a committed event at once, marked `early`, and keeps its place among settled events
//! only: when the event settles it is sent again, and each receiver that already had it
//! early skips it (by event id). A browser's resume position (`Last-Event-ID`) is never
//! past an unsettled event. On SQLite every event is settled when it is read.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use futures::Stream;
use rapport_store::Db;
use rapport_store::op;
use rapport_store::stream::{self, Position, StreamEvent};
use serde::Serialize;
use tokio::sync::{broadcast, watch};

/// How many events a browser catching up reads from the log at a time.
const CATCH_UP: i64 = 500;

/// The most events one browser reads from the log to catch up (after reconnecting or
/// falling behind), so no client can make the server read the whole history.
const MAX_CATCH_UP: i64 = 10_000;

/// One change, as a browser learns of it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    /// Event id.
    pub id: i64,
    /// Its place in the stream (also the server-sent event's id, for resuming).
    #[serde(skip)]
    pub position: Position,
    /// The ticket that changed; `None` for an event about no ticket (a knowledge-base
    /// article), which browsers are never sent.
    pub ticket_id: Option<i64>,
    /// Its team, so each browser only hears of tickets its agent may see.
    #[serde(skip)]
    pub team_id: Option<i64>,
    /// Sent before it settled (its `position` is then the fan-out's settled place, where a
    /// browser may safely resume); it comes again, not early, once settled.
    #[serde(skip)]
    pub early: bool,
    /// What happened.
    pub kind: String,
}

impl LiveEvent {
    /// The server-sent event's id: where a browser that had this event resumes
    /// ([`Resume`]): its position, or for an early event the settled position and its id.
    pub fn resume_id(&self) -> String {
        if self.early {
            format!("{}-{}", self.position, self.id)
        } else {
            self.position.to_string()
        }
    }
}

/// Where a reconnecting browser resumes (its `Last-Event-ID`): after a settled position,
/// having had one event early (which it is then not sent again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// The last settled position the browser had.
    pub position: Position,
    /// The event (id) it had early after it, if its last event was early.
    pub early: Option<i64>,
}

impl std::str::FromStr for Resume {
    type Err = ();

    /// Reads `tx-id` or `tx-id-early`, as [`LiveEvent::resume_id`] writes them.
    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.trim();
        let mut parts = s.splitn(3, '-');
        let (tx, id) = (parts.next().ok_or(())?, parts.next().ok_or(())?);
        let position: Position = format!("{tx}-{id}").parse()?;
        let early = match parts.next() {
            Some(e) => Some(e.parse::<i64>().map_err(|_| ())?).filter(|e| *e > 0),
            None => None,
        };
        Ok(Resume { position, early })
    }
}

impl From<StreamEvent> for LiveEvent {
    fn from(e: StreamEvent) -> Self {
        LiveEvent {
            id: e.position.id,
            position: e.position,
            ticket_id: e.ticket_id,
            team_id: e.team_id,
            kind: e.kind.as_str().to_owned(),
            early: false,
        }
    }
}

/// The shortest pause between two reads of the event log by the fan-out: what a change
/// may wait at most beyond its commit, and what bounds the reads to 200 a second however
/// many writes commit (on PostgreSQL, one read a commit took the cores the writes needed).
const READ_GAP: Duration = Duration::from_millis(5);

/// The fan-out of new events to connected browsers.
#[derive(Debug)]
pub struct Live {
    tx: broadcast::Sender<LiveEvent>,
    /// The position of the last event sent; taken together with a subscription, so a new
    /// browser knows exactly which events its receiver will and will not carry.
    sent: Mutex<Position>,
    /// Set when the server stops, so open streams end and shutdown is not held up.
    stopped: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self {
            tx,
            sent: Mutex::new(Position::START),
            stopped: watch::Sender::new(false),
        }
    }
}

impl Live {
    /// Subscribes a browser: a receiver of every event sent after the returned position.
    pub fn subscribe(&self) -> (broadcast::Receiver<LiveEvent>, Position) {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        (self.tx.subscribe(), *sent)
    }

    fn send(&self, e: LiveEvent) {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        if !e.early {
            *sent = e.position;
        }
        // No subscribers is fine.
        let _ = self.tx.send(e);
    }

    /// Whether the server is stopping (true once it is): long-lived connections end on it.
    pub fn stopped(&self) -> watch::Receiver<bool> {
        self.stopped.subscribe()
    }

    /// Follows the event stream until `stop`, sending each new event.
    pub async fn tail(&self, db: Db, mut stop: watch::Receiver<bool>) {
        self.follow(db, &mut stop).await;
        self.stopped.send_replace(true);
    }

    async fn follow(&self, db: Db, stop: &mut watch::Receiver<bool>) {
        let mut last = loop {
            match db.read(op!(c => stream::head(c).await)).await {
                Ok(p) => break p,
                Err(e) => {
                    tracing::warn!(error = %e, "live updates could not read the event log");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
        };
        *self.sent.lock().unwrap_or_else(|p| p.into_inner()) = last;
        // Writes on this node wake the loop at once; the poll catches other nodes' writes.
        let mut commits = db.commits();
        // Events sent early and not yet settled (ids), so each goes early only once.
        let mut early: HashSet<i64> = HashSet::new();
        while !*stop.borrow() {
            commits.borrow_and_update();
            let after = last;
            let batch = db
                .read(op!(c => stream::after_unsettled(c, after, CATCH_UP).await))
                .await;
            let full = match batch {
                Ok((events, horizon)) => {
                    let mut settled = 0;
                    let read = events.len() as i64;
                    for e in events {
                        if e.position.tx < horizon {
                            early.remove(&e.position.id);
                            last = e.position;
                            settled += 1;
                            self.send(e.into());
                        } else if early.insert(e.position.id) {
                            let mut ev = LiveEvent::from(e);
                            ev.early = true;
                            ev.position = last;
                            self.send(ev);
                        }
                    }
                    if early.len() > MAX_CATCH_UP as usize {
                        // A transaction held the horizon for very long: forget which went
                        // early (receivers may then get some twice, never none).
                        early.clear();
                    }
                    // Read again at once only while settled events fill the batches.
                    read == CATCH_UP && settled > 0
                }
                Err(e) => {
                    tracing::warn!(error = %e, "live updates could not read the event log");
                    false
                }
            };
            if full {
                continue;
            }
            // Commits that come while this pause lasts are read together: under a steady
            // stream of writes the log is read at most every READ_GAP, not once a commit.
            tokio::time::sleep(READ_GAP).await;
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = commits.changed() => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// The events one browser receives: every ticket event after `resume` (or from now on)
    /// that `visible` lets through, each once and in order, catching up from the log
    /// whenever it falls behind the fan-out. Events about no ticket (an article changed)
    /// are never handed to browsers as ticket changes.
    pub fn events_for<F>(
        &self,
        db: Db,
        visible: F,
        resume: Option<Resume>,
    ) -> impl Stream<Item = LiveEvent> + Send + use<F>
    where
        F: Fn(Option<i64>) -> bool + Send + 'static,
    {
        let (rx, sent) = self.subscribe();
        // A resumed browser reads its gap from the log first, up to a bounded number of
        // events; one further behind (or claiming a position out of thin air) goes on from
        // what the fan-out carries, and its page reloads what changed anyway.
        let reader = Reader {
            db,
            rx,
            stopped: self.stopped.subscribe(),
            last: resume.map_or(sent, |r| r.position),
            floor: sent,
            catching_up: resume.is_some(),
            budget: MAX_CATCH_UP,
            backlog: VecDeque::new(),
            early: resume.and_then(|r| r.early).into_iter().collect(),
        };
        futures::stream::unfold((reader, visible), |(mut reader, visible)| async move {
            loop {
                let e = reader.next().await?;
                if e.ticket_id.is_some() && visible(e.team_id) {
                    return Some((e, (reader, visible)));
                }
            }
        })
    }
}

/// One browser's place in the stream.
struct Reader {
    db: Db,
    rx: broadcast::Receiver<LiveEvent>,
    stopped: watch::Receiver<bool>,
    /// The last event handed out (or skipped as not visible).
    last: Position,
    /// Where the receiver starts: it carries every event after this.
    floor: Position,
    /// The log holds events past `last` that the receiver will not carry.
    catching_up: bool,
    /// How many more events this catching-up may read from the log.
    budget: i64,
    backlog: VecDeque<LiveEvent>,
    /// Events handed out early and not yet seen settled (ids): skipped when they come again.
    early: HashSet<i64>,
}

impl Reader {
    async fn next(&mut self) -> Option<LiveEvent> {
        loop {
            if let Some(e) = self.backlog.pop_front() {
                self.last = e.position;
                if self.early.remove(&e.id) {
                    continue;
                }
                return Some(e);
            }
            if *self.stopped.borrow() {
                return None;
            }
            if self.catching_up && self.budget <= 0 {
                // Too far behind to read it all: go on from what the receiver carries.
                self.catching_up = false;
                self.last = self.last.max(self.floor);
            }
            if self.catching_up {
                let after = self.last;
                let read = self
                    .db
                    .read(op!(c => stream::after(c, after, CATCH_UP).await));
                let read = tokio::select! {
                    r = read => r,
                    _ = self.stopped.changed() => return None,
                };
                match read {
                    Ok(events) => {
                        let n = events.len() as i64;
                        self.budget -= n;
                        self.catching_up = n == CATCH_UP;
                        self.backlog.extend(events.into_iter().map(LiveEvent::from));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "live updates could not read the event log");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = self.stopped.changed() => return None,
                        }
                    }
                }
                continue;
            }
            let received = tokio::select! {
                r = self.rx.recv() => r,
                _ = self.stopped.changed() => return None,
            };
            match received {
                // Committed but not settled: out at once, remembered so it goes out once.
                Ok(e) if e.early => {
                    if self.early.len() >= MAX_CATCH_UP as usize {
                        self.early.clear();
                    }
                    if self.early.insert(e.id) {
                        return Some(e);
                    }
                }
                // Settled now, and handed out early before.
                Ok(e) if self.early.remove(&e.id) => self.last = self.last.max(e.position),
                // Already handed out while catching up.
                Ok(e) if e.position <= self.last => {}
                Ok(e) => {
                    self.last = e.position;
                    return Some(e);
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    self.catching_up = true;
                    self.budget = MAX_CATCH_UP;
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}
