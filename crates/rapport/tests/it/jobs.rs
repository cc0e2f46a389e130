//! The durable job queue: retries with backoff, dead letters, lease-based crash
//! recovery, idempotency, and the real statistics roll-up job.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use rapport_domain::job::JobState;
use rapport_domain::{Clock, ManualClock, SystemClock, Timestamp};
use rapport_jobs::{Handler, Registry, Step, Worker, WorkerConfig};
use rapport_store::Db;
use rapport_store::jobs::{self, Job, NewJob};
use rapport_store::op;

use crate::both_backends;

struct Flaky {
    calls: AtomicU32,
    failures: u32,
}

impl Handler for Flaky {
    fn run<'a>(&'a self, _: &'a Db, _: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
                Err("relay refused the message".into())
            } else {
                Ok(())
            }
        })
    }
}

fn worker(db: &Db, clock: Arc<ManualClock>, flaky: &Arc<Flaky>, name: &str) -> Worker {
    let mut reg = Registry::standard();
    reg.add("test.flaky", Arc::clone(flaky));
    Worker::new(
        db.clone(),
        clock,
        reg,
        WorkerConfig {
            name: name.into(),
            lease_secs: 30,
            idle_wait: Duration::from_millis(10),
        },
    )
}

async fn enqueue(db: &Db, now: Timestamp, max: i64, key: Option<&str>) -> Job {
    let j = NewJob {
        kind: "test.flaky".into(),
        payload: serde_json::json!({"n": 1}),
        run_at: now,
        max_attempts: max,
        idempotency_key: key.map(str::to_owned),
    };
    db.write(op!(c => jobs::enqueue(c, j, now).await))
        .await
        .unwrap()
}

async fn job(db: &Db, id: i64) -> Job {
    db.read(op!(c => jobs::get(c, id).await)).await.unwrap()
}

both_backends! {
    async fn failed_jobs_retry_with_backoff_then_succeed(app) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
        let flaky = Arc::new(Flaky { calls: AtomicU32::new(0), failures: 2 });
        let w = worker(&app.db, Arc::clone(&clock), &flaky, "w1");
        let j = enqueue(&app.db, clock.now(), 5, None).await;
        assert_eq!(w.step().await.unwrap(), Step::Failed(j.id));
        let after = job(&app.db, j.id).await;
        assert_eq!(after.state, JobState::Queued);
        assert_eq!(after.attempts, 1);
        assert_eq!(after.run_at, clock.now().plus_secs(2));
        assert_eq!(after.last_error.as_deref(), Some("relay refused the message"));
        assert_eq!(w.step().await.unwrap(), Step::Idle, "not due before its backoff");
        clock.advance_secs(2);
        assert_eq!(w.step().await.unwrap(), Step::Failed(j.id));
        assert_eq!(job(&app.db, j.id).await.run_at, clock.now().plus_secs(4));
        clock.advance_secs(4);
        assert_eq!(w.step().await.unwrap(), Step::Done(j.id));
        let done = job(&app.db, j.id).await;
        assert_eq!(done.state, JobState::Done);
        assert_eq!(done.attempts, 3);
        assert_eq!(w.step().await.unwrap(), Step::Idle);
        app.stop().await;
    }

    async fn jobs_that_keep_failing_are_dead_lettered(app) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
        let flaky = Arc::new(Flaky { calls: AtomicU32::new(0), failures: u32::MAX });
        let w = worker(&app.db, Arc::clone(&clock), &flaky, "w1");
        let j = enqueue(&app.db, clock.now(), 3, None).await;
        for _ in 0..3 {
            assert_eq!(w.step().await.unwrap(), Step::Failed(j.id));
            clock.advance_secs(3_600);
        }
        let dead = job(&app.db, j.id).await;
        assert_eq!(dead.state, JobState::Dead);
        assert_eq!(dead.attempts, 3);
        assert_eq!(w.step().await.unwrap(), Step::Idle);
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
        app.stop().await;
    }

    async fn a_crashed_worker_s_job_is_taken_over_after_its_lease(app) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
        let j = enqueue(&app.db, clock.now(), 5, None).await;
        let claim = |who: &'static str, now: Timestamp| {
            let db = app.db.clone();
            async move {
                db.write(op!(c => jobs::claim(c, who, 30, now).await))
                    .await
                    .unwrap()
            }
        };
        let first = claim("worker-a", clock.now()).await.expect("claimed");
        assert_eq!(first.id, j.id);
        // worker-a "dies" here. Nobody else may take it while its lease holds.
        assert!(claim("worker-b", clock.now()).await.is_none());
        clock.advance_secs(31);
        let second = claim("worker-b", clock.now()).await.expect("reclaimed after the lease");
        assert_eq!(second.id, j.id);
        assert_eq!(second.attempts, 2);
        let now = clock.now();
        let late = app.db.write(op!(c => jobs::complete(c, j.id, "worker-a", now).await)).await.unwrap();
        assert!(!late, "the dead worker no longer owns the job");
        let ok = app.db.write(op!(c => jobs::complete(c, j.id, "worker-b", now).await)).await.unwrap();
        assert!(ok);
        assert_eq!(job(&app.db, j.id).await.state, JobState::Done);
        app.stop().await;
    }

    async fn idempotency_keys_deduplicate(app) {
        let now = SystemClock.now();
        let a = enqueue(&app.db, now, 5, Some("mail:42")).await;
        let b = enqueue(&app.db, now, 5, Some("mail:42")).await;
        let c = enqueue(&app.db, now, 5, Some("mail:43")).await;
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        app.stop().await;
    }

    async fn the_roll_up_job_counts_the_day(app) {
        for i in 0..3 {
            app.ticket(&format!("count me {i}"), "x", "count@example.com").await;
        }
        let today = SystemClock.now().day();
        let now = SystemClock.now();
        let j = NewJob {
            kind: rapport_jobs::ROLL_UP.into(),
            payload: serde_json::json!({"day": today}),
            run_at: now,
            max_attempts: 3,
            idempotency_key: None,
        };
        app.db.write(op!(c => jobs::enqueue(c, j, now).await)).await.unwrap();
        let w = Worker::new(
            app.db.clone(),
            Arc::new(SystemClock),
            Registry::standard(),
            WorkerConfig { name: "w".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) },
        );
        assert!(matches!(w.step().await.unwrap(), Step::Done(_)));
        let (s, stats) = app.call("GET", "/api/v1/stats/daily?days=1", Some(&app.supervisor.token), None).await;
        assert_eq!(s, 200, "{stats}");
        let total = stats.as_array().unwrap().iter()
            .find(|r| r["metric"] == "tickets_created" && r["dimension"] == "" && r["day"] == today)
            .expect("total row");
        assert_eq!(total["value"], 3);
        let by_channel = stats.as_array().unwrap().iter()
            .find(|r| r["metric"] == "tickets_created" && r["dimension"] == "api")
            .expect("api row");
        assert_eq!(by_channel["value"], 3);
        // Jobs are visible to supervisors.
        let (s, list) = app.call("GET", "/api/v1/jobs", Some(&app.supervisor.token), None).await;
        assert_eq!(s, 200);
        assert_eq!(list[0]["state"], "done");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_job_kinds_fail_visibly() {
    let app = crate::harness::TestApp::spawn(crate::harness::Backend::Sqlite).await;
    let now = SystemClock.now();
    let j = NewJob {
        kind: "no.such.kind".into(),
        payload: serde_json::json!({}),
        run_at: now,
        max_attempts: 1,
        idempotency_key: None,
    };
    let job_id = app
        .db
        .write(op!(c => jobs::enqueue(c, j, now).await))
        .await
        .unwrap()
        .id;
    let w = Worker::new(
        app.db.clone(),
        Arc::new(SystemClock),
        Registry::standard(),
        WorkerConfig {
            name: "w".into(),
            lease_secs: 30,
            idle_wait: Duration::from_millis(10),
        },
    );
    assert_eq!(w.step().await.unwrap(), Step::Failed(job_id));
    let dead = job(&app.db, job_id).await;
    assert_eq!(dead.state, JobState::Dead);
    assert!(dead.last_error.unwrap().contains("no handler"));
    app.stop().await;
}

struct Panics;

impl Handler for Panics {
    fn run<'a>(&'a self, _: &'a Db, _: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { panic!("a parser bug") })
    }
}

both_backends! {
    async fn a_panicking_handler_fails_its_job_not_the_worker(app) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
        let flaky = Arc::new(Flaky { calls: AtomicU32::new(0), failures: 0 });
        let mut reg = Registry::standard();
        reg.add("test.flaky", Arc::clone(&flaky));
        reg.add("test.panics", Panics);
        let w = Worker::new(app.db.clone(), Arc::clone(&clock) as Arc<dyn Clock>, reg,
            WorkerConfig { name: "p".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        let now = clock.now();
        let bad = app.db.write(op!(c => {
            jobs::enqueue(c, NewJob { kind: "test.panics".into(), payload: serde_json::json!({}), run_at: now,
                max_attempts: 2, idempotency_key: None }, now).await
        })).await.unwrap();
        let good = enqueue(&app.db, now, 3, None).await;
        assert_eq!(w.step().await.unwrap(), Step::Failed(bad.id));
        let failed = job(&app.db, bad.id).await;
        assert_eq!(failed.last_error.as_deref(), Some("the job's handler panicked"));
        // The same worker carries on with the next job.
        assert_eq!(w.step().await.unwrap(), Step::Done(good.id));
        app.stop().await;
    }
}

/// Always fails with the attempt's number, and counts what the worker tells it.
#[derive(Default)]
struct GivesUp {
    calls: AtomicU32,
    told: std::sync::Mutex<Vec<(i64, JobState, String)>>,
}

impl Handler for GivesUp {
    fn run<'a>(&'a self, _: &'a Db, _: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            Err(format!("attempt {n} refused"))
        })
    }

    fn gave_up<'a>(&'a self, _: &'a Db, job: &'a Job, error: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.told
                .lock()
                .unwrap()
                .push((job.id, job.state, error.to_owned()));
        })
    }
}

both_backends! {
    async fn the_handler_is_told_once_when_its_job_dies(app) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
        let handler = Arc::new(GivesUp::default());
        let mut reg = Registry::standard();
        reg.add("test.gives_up", Arc::clone(&handler));
        let w = Worker::new(app.db.clone(), Arc::clone(&clock) as Arc<dyn Clock>, reg,
            WorkerConfig { name: "g".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        let now = clock.now();
        let j = app.db.write(op!(c => {
            jobs::enqueue(c, NewJob { kind: "test.gives_up".into(), payload: serde_json::json!({}), run_at: now,
                max_attempts: 3, idempotency_key: None }, now).await
        })).await.unwrap();
        for attempt in 1..=3 {
            assert_eq!(w.step().await.unwrap(), Step::Failed(j.id));
            let told = handler.told.lock().unwrap().clone();
            if attempt < 3 {
                assert!(told.is_empty(), "not told while retries remain");
            } else {
                assert_eq!(told, vec![(j.id, JobState::Dead, "attempt 3 refused".to_owned())]);
            }
            clock.advance_secs(3_600);
        }
        assert_eq!(w.step().await.unwrap(), Step::Idle);
        assert_eq!(handler.told.lock().unwrap().len(), 1);
        app.stop().await;
    }

    async fn a_job_whose_worker_always_dies_is_dead_lettered_not_retried_forever(app) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
        let handler = Arc::new(GivesUp::default());
        let mut reg = Registry::standard();
        reg.add("test.gives_up", Arc::clone(&handler));
        let w = Worker::new(app.db.clone(), Arc::clone(&clock) as Arc<dyn Clock>, reg,
            WorkerConfig { name: "survivor".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        let now = clock.now();
        let j = app.db.write(op!(c => {
            jobs::enqueue(c, NewJob { kind: "test.gives_up".into(), payload: serde_json::json!({}), run_at: now,
                max_attempts: 2, idempotency_key: None }, now).await
        })).await.unwrap();
        // Two workers claim it in turn and die holding it (their leases run out).
        for dead_worker in ["gone-1", "gone-2"] {
            let now = clock.now();
            let claimed = app.db.write(op!(c => jobs::claim(c, dead_worker, 30, now).await)).await.unwrap();
            assert_eq!(claimed.map(|c| c.id), Some(j.id));
            clock.advance_secs(60);
        }
        // The next worker does not run it a third time: it is dead, with the reason, and
        // its handler is told.
        assert_eq!(w.step().await.unwrap(), Step::Failed(j.id));
        let dead = job(&app.db, j.id).await;
        assert_eq!(dead.state, JobState::Dead);
        let told = handler.told.lock().unwrap().clone();
        assert_eq!(told.len(), 1);
        assert!(told[0].2.contains("stopped during each of its 2 attempts"), "{told:?}");
        clock.advance_secs(3_600);
        assert_eq!(w.step().await.unwrap(), Step::Idle);
        app.stop().await;
    }

    async fn a_payload_that_does_not_fit_its_kind_fails_with_the_reason(app) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
        let w = Worker::new(app.db.clone(), Arc::clone(&clock) as Arc<dyn Clock>, Registry::standard(),
            WorkerConfig { name: "b".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        let now = clock.now();
        let j = app.db.write(op!(c => {
            jobs::enqueue(c, NewJob { kind: rapport_jobs::ROLL_UP.into(), payload: serde_json::json!({"day": "monday"}),
                run_at: now, max_attempts: 1, idempotency_key: None }, now).await
        })).await.unwrap();
        assert_eq!(w.step().await.unwrap(), Step::Failed(j.id));
        let dead = job(&app.db, j.id).await;
        assert_eq!(dead.state, JobState::Dead);
        let error = dead.last_error.unwrap();
        assert!(error.starts_with("bad stats.roll_up payload:") && error.contains("day"), "{error}");
        app.stop().await;
    }
}
