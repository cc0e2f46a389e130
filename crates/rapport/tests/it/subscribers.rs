//! Subscribers to the event stream: every event handled exactly once and in order, even
//! by two runners racing (two nodes, on PostgreSQL); cursors that survive a restart; new
//! subscribers that start at the head; and the email channel's outbox and notices.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rapport_domain::{Body, Channel, Clock, SystemClock, Timestamp};
use rapport_jobs::{Round, Runner, RunnerConfig, Subscriber};
use rapport_store::jobs::{self, NewJob};
use rapport_store::op;
use rapport_store::stream::{self, Position, StreamEvent};
use rapport_store::{Conn, Db, StoreError, tickets};
use serde_json::{Value, json};

use crate::both_backends;

/// Remembers each event it handles as a job row written in the handling transaction, so
/// what it saw is exactly what committed.
struct Seen(&'static str);

impl Subscriber for Seen {
    fn name(&self) -> &'static str {
        self.0
    }

    fn handle<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        e: &'a StreamEvent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let job = NewJob {
                kind: format!("test.{}", self.0),
                payload: json!({"tx": e.position.tx, "id": e.position.id}),
                run_at: now.plus_secs(365 * 86_400),
                max_attempts: 1,
                idempotency_key: None,
            };
            jobs::enqueue(c, job, now).await.map(|_| ())
        })
    }
}

fn runner(db: &Db, name: &'static str, batch: i64) -> Runner {
    Runner::new(
        db.clone(),
        Arc::new(SystemClock),
        Arc::new(Seen(name)),
        RunnerConfig {
            batch,
            idle_wait: Duration::from_millis(5),
            max_backoff: Duration::from_millis(100),
        },
    )
}

/// The positions `name` handled, in the order it handled them.
async fn seen(db: &Db, name: &str) -> Vec<Position> {
    let kind = format!("test.{name}");
    db.read(op!(c => {
        rapport_store::testing::query_in(
            c,
            "SELECT payload FROM jobs WHERE kind = $1 ORDER BY id",
            &[kind.into()],
        )
        .await?
        .iter()
        .map(|r| {
            let p: Value = serde_json::from_str(&r.text(0)?)?;
            Ok(Position {
                tx: p["tx"].as_i64().unwrap(),
                id: p["id"].as_i64().unwrap(),
            })
        })
        .collect()
    }))
    .await
    .unwrap()
}

/// Every event after `from`, in commit order.
async fn stream_after(db: &Db, from: Position) -> Vec<Position> {
    db.read(op!(c => stream::after(c, from, 100_000).await))
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect()
}

async fn cursor(db: &Db, name: &'static str) -> Option<Position> {
    db.read(op!(c => stream::position(c, name).await))
        .await
        .unwrap()
}

/// The `mail.notify` payloads queued so far.
async fn notices(db: &Db) -> Vec<Value> {
    db.read(op!(c => {
        rapport_store::testing::query_in(
            c,
            "SELECT payload FROM jobs WHERE kind = 'mail.notify' ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| Ok(serde_json::from_str(&r.text(0)?)?))
        .collect()
    }))
    .await
    .unwrap()
}

/// Waits (bounded) until every committed event is past the stream's horizon. On
/// PostgreSQL the horizon is the cluster's oldest running transaction, and the other
/// tests create databases beside this one.
async fn quiet(db: &Db) {
    for _ in 0..1_000 {
        let (head, latest) = db
            .read(op!(c => Ok((stream::head(c).await?, stream::latest(c).await?))))
            .await
            .unwrap();
        if head == latest {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the stream's horizon never caught up");
}

/// Polls (bounded) until `sql` counts at least one row.
async fn eventually(db: &Db, sql: &'static str, what: &str) {
    for _ in 0..200 {
        if crate::harness::count(db, sql).await > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} never appeared");
}

both_backends! {
    async fn two_runners_handle_every_event_once_and_in_order(app) {
        let (a, b) = (runner(&app.db, "race", 7), runner(&app.db, "race", 7));
        assert_eq!(a.step().await.unwrap(), Round::Idle, "the first round creates the cursor");
        let start = cursor(&app.db, "race").await.expect("subscribed at the head");
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let tasks = [tokio::spawn(a.clone().run(stop_rx.clone())), tokio::spawn(b.run(stop_rx))];
        // Four writers create tickets and reply while both runners follow.
        let app = Arc::new(app);
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let app = Arc::clone(&app);
                tokio::spawn(async move {
                    for i in 0..8 {
                        let t = app.ticket(&format!("Race {w}.{i}"), "Hello", &format!("r{w}@race.example")).await;
                        if i % 2 == 0 {
                            let (s, _) = app.post(&format!("/api/v1/tickets/{}/messages", t["id"]), json!({"body": "On it", "internal": true})).await;
                            assert_eq!(s, 201);
                        }
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        quiet(&app.db).await;
        let want = stream_after(&app.db, start).await;
        assert!(want.len() >= 48, "{} events", want.len());
        for _ in 0..400 {
            if cursor(&app.db, "race").await == want.last().copied() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let _ = stop.send(true);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(seen(&app.db, "race").await, want, "each event once, in commit order");
        assert_eq!(a.settle().await.unwrap(), 0);
        let app = Arc::into_inner(app).unwrap();
        app.stop().await;
    }

    async fn a_cursor_survives_a_restart(app) {
        let r = runner(&app.db, "restart", 100);
        r.settle().await.unwrap();
        app.ticket("Before", "One", "a@restart.example").await;
        app.ticket("Before", "Two", "b@restart.example").await;
        assert_eq!(r.settle().await.unwrap(), 2);
        drop(r);
        // A new process: a new runner over the same database picks up where it stood.
        let again = runner(&app.db, "restart", 100);
        assert_eq!(again.settle().await.unwrap(), 0, "nothing is handled twice");
        app.ticket("After", "Three", "c@restart.example").await;
        assert_eq!(again.settle().await.unwrap(), 1);
        assert_eq!(seen(&app.db, "restart").await.len(), 3);
        app.stop().await;
    }

    async fn a_new_subscriber_starts_at_the_head(app) {
        for i in 0..3 {
            app.ticket("History", "Old", &format!("h{i}@history.example")).await;
        }
        quiet(&app.db).await;
        let r = runner(&app.db, "late", 100);
        assert_eq!(r.settle().await.unwrap(), 0, "history is not replayed");
        assert!(seen(&app.db, "late").await.is_empty());
        let t = app.ticket("New", "Now", "n@history.example").await;
        assert_eq!(r.settle().await.unwrap(), 1);
        let events = stream_after(&app.db, Position::START).await;
        assert_eq!(seen(&app.db, "late").await, vec![*events.last().unwrap()], "only {t}");
        app.stop().await;
    }

    async fn the_outbox_queues_replies_on_email_tickets_in_the_background(app) {
        app.post("/api/v1/mailboxes", json!({"address": "support@example.com", "name": "Support"})).await;
        let (s, email) = app.post("/api/v1/tickets", json!({"subject": "By mail", "body": "Hi",
            "channel": "email", "customer": {"email": "m@outbox.example"}})).await;
        assert_eq!(s, 201, "{email}");
        let (s, phone) = app.post("/api/v1/tickets", json!({"subject": "By phone", "body": "Hi",
            "channel": "phone", "customer": {"email": "p@outbox.example"}})).await;
        assert_eq!(s, 201, "{phone}");
        let (s, reply) = app.post(&format!("/api/v1/tickets/{}/messages", email["id"]), json!({"body": "Hello"})).await;
        assert_eq!((s, &reply["delivery"]), (201, &json!("queued")), "queued at once: {reply}");
        let (s, said) = app.post(&format!("/api/v1/tickets/{}/messages", phone["id"]), json!({"body": "As said"})).await;
        assert_eq!(s, 201);
        assert!(said["delivery"].is_null(), "a phone ticket's reply is not delivered: {said}");
        // The server's own outbox runner queues the job, without help from the test.
        eventually(&app.db, "SELECT COUNT(*) FROM jobs WHERE kind = 'email.send'", "the email.send job").await;
        crate::harness::settle(&app.db).await;
        let payloads: Vec<String> = app.db.read(op!(c => {
            rapport_store::testing::query_in(c, "SELECT payload FROM jobs WHERE kind = 'email.send'", &[]).await?.iter().map(|r| r.text(0)).collect()
        })).await.unwrap();
        assert_eq!(payloads.len(), 1, "{payloads:?}");
        let payload: Value = serde_json::from_str(&payloads[0]).unwrap();
        assert_eq!(payload["message_id"], reply["id"]);
        let (_, events) = app.get(&format!("/api/v1/tickets/{}/events", email["id"])).await;
        let added = events.as_array().unwrap().iter().find(|e| e["kind"] == "reply_added").unwrap();
        assert_eq!(added["data"]["deliver"], true, "{added}");
        app.stop().await;
    }

    async fn notices_follow_assignments_and_customer_replies(app) {
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let t = app.ticket("Notices", "Please", "n@notices.example").await;
        let id = t["id"].as_i64().unwrap();
        // Taking a ticket yourself tells nobody.
        let (s, _) = app.call("PATCH", &format!("/api/v1/tickets/{id}"), Some(&app.agent.token), Some(json!({"assignee_id": app.agent.id}))).await;
        assert_eq!(s, 200);
        crate::harness::settle(&app.db).await;
        assert!(notices(&app.db).await.is_empty());
        // Assigned by someone else: the assignee hears of it.
        let (s, _) = app.patch(&format!("/api/v1/tickets/{id}"), json!({"assignee_id": app.agent_b.id})).await;
        assert_eq!(s, 200);
        // The customer writes again: the assignee hears of it.
        let now = SystemClock.now();
        let body = Body::parse("One more thing").unwrap();
        app.db.write(op!(c => {
            tickets::customer_reply(c, &rapport_domain::Principal::System, id, &body, Channel::Email, vec![], now).await
        })).await.unwrap();
        crate::harness::settle(&app.db).await;
        assert_eq!(notices(&app.db).await, vec![
            json!({"kind": "assigned", "user_id": app.agent_b.id, "ticket_id": id, "by": app.admin.id}),
            json!({"kind": "customer_replied", "user_id": app.agent_b.id, "ticket_id": id}),
        ]);
        app.stop().await;
    }

    async fn jobs_queued_as_mail_send_are_still_sent(app) {
        let t = app.ticket("Legacy", "Queued before the rename", "l@legacy.example").await;
        let (_, reply) = app.post(&format!("/api/v1/tickets/{}/messages", t["id"]), json!({"body": "Hello"})).await;
        let now = SystemClock.now();
        let message_id = reply["id"].as_i64().unwrap();
        app.db.write(op!(c => {
            jobs::enqueue(c, NewJob {
                kind: "mail.send".into(),
                payload: json!({"message_id": message_id}),
                run_at: now,
                max_attempts: 8,
                idempotency_key: None,
            }, now).await
        })).await.unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let w = rapport_jobs::Worker::new(app.db.clone(), Arc::clone(&clock),
            rapport::registry(clock, rapport_mail::MailSettings::default()),
            rapport_jobs::WorkerConfig { name: "legacy".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        assert!(matches!(w.step().await.unwrap(), rapport_jobs::Step::Failed(_)));
        let (_, jobs) = app.call("GET", "/api/v1/jobs", Some(&app.supervisor.token), None).await;
        let job = jobs.as_array().unwrap().iter().find(|j| j["kind"] == "mail.send").unwrap();
        let error = job["last_error"].as_str().unwrap();
        assert!(error.contains("RAPPORT_SMTP_RELAY"), "handled by the email.send handler: {error}");
        app.stop().await;
    }
}
