//! The live feed (`GET /live`) and the event stream behind it: every change reaches a
//! signed-in agent's browser, under many concurrent writers and across late commits.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use rapport_domain::{Body, Clock, SystemClock};
use reqwest::header;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::both_backends;
use crate::harness::{Backend, Scratch, TestApp};
use crate::web::{client, set_password, sign_in};
use rapport_store::op;

/// An open `/live` stream: each `ticket` event's SSE id and JSON. Closed when dropped.
struct LiveStream {
    rx: mpsc::UnboundedReceiver<(String, Value)>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl LiveStream {
    async fn recv(&mut self) -> Option<(String, Value)> {
        self.rx.recv().await
    }
}

/// Opens `/live` as the admin.
async fn open_live(app: &TestApp, last_event_id: Option<&str>) -> LiveStream {
    set_password(app, "admin@example.com", "a long enough password").await;
    let http = client();
    let (session, _) = sign_in(app, &http, "admin@example.com", "a long enough password").await;
    let mut req = http
        .get(app.url("/live"))
        .header(header::COOKIE, format!("rapport_session={session}"));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let (tx, rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        let mut body = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                let mut id = String::new();
                let mut data = None;
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = serde_json::from_str::<Value>(v.trim()).ok();
                    }
                }
                if let Some(d) = data
                    && tx.send((id, d)).is_err()
                {
                    return;
                }
            }
        }
    });
    LiveStream { rx, reader }
}

/// Waits until the feed has carried an event of `kind` for every ticket in `want`.
async fn collect(
    rx: &mut LiveStream,
    kind: &str,
    want: &HashSet<i64>,
    within: Duration,
) -> HashSet<i64> {
    let mut seen = HashSet::new();
    #[expect(clippy::disallowed_methods, reason = "a test's real deadline")]
    let deadline = tokio::time::Instant::now() + within;
    while !want.is_subset(&seen) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((_, e))) if e["kind"] == kind => {
                seen.insert(e["ticket_id"].as_i64().unwrap());
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    seen
}

both_backends! {
    async fn every_ticket_created_by_24_clients_reaches_the_live_feed(app) {
        let mut rx = open_live(&app, None).await;
        let clients = 24;
        let per_client = 800 / clients + 1;
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (http, url, token) = (app.http.clone(), app.url("/api/v1/tickets"), app.admin.token.clone());
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..per_client {
                    let resp = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({
                            "subject": format!("Live {c}/{i}"),
                            "body": "Nothing may be missed.",
                            "customer": {"email": format!("live{c}@example.com")},
                        }))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 201);
                    ids.push(resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
                }
                ids
            }));
        }
        let mut created = HashSet::new();
        for t in tasks {
            created.extend(t.await.unwrap());
        }
        assert!(created.len() >= 800);
        let seen = collect(&mut rx, "ticket_created", &created, Duration::from_secs(60)).await;
        let missed: Vec<_> = created.difference(&seen).collect();
        assert!(missed.is_empty(), "the live feed missed {} of {} tickets: {missed:?}", missed.len(), created.len());
        drop(rx);
        app.stop().await;
    }

    async fn a_reconnecting_browser_resumes_where_it_stopped(app) {
        let mut rx = open_live(&app, None).await;
        let first = app.ticket("Before the drop", "One", "resume@example.com").await["id"].as_i64().unwrap();
        let want: HashSet<i64> = [first].into();
        let mut last_id = String::new();
        #[expect(clippy::disallowed_methods, reason = "a test's real deadline")]
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while last_id.is_empty() {
            let (id, e) = tokio::time::timeout_at(deadline, rx.recv()).await.unwrap().unwrap();
            if e["ticket_id"] == first {
                last_id = id;
            }
        }
        assert!(!want.is_empty() && last_id.contains('-'), "each event carries its position as the SSE id: {last_id:?}");
        drop(rx);
        // While the browser is away, three tickets change.
        let mut missed = HashSet::new();
        for i in 0..3 {
            missed.insert(app.ticket(&format!("While away {i}"), "Two", "resume@example.com").await["id"].as_i64().unwrap());
        }
        let mut rx = open_live(&app, Some(&last_id)).await;
        let seen = collect(&mut rx, "ticket_created", &missed, Duration::from_secs(20)).await;
        assert_eq!(seen.intersection(&missed).count(), 3, "resumed from Last-Event-ID: {seen:?}");
        assert!(!seen.contains(&first), "what was already seen is not sent again");
        drop(rx);
        app.stop().await;
    }
}

/// On PostgreSQL event ids are handed out before commit: a transaction that took an id and
/// commits after a later one must still reach the feed (it was skipped before the stream
/// followed commit order), and the later one must not wait for it (it did before events
/// went out early).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_is_not_skipped_postgres() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let early = app
        .ticket("Early id, late commit", "A", "late@example.com")
        .await["id"]
        .as_i64()
        .unwrap();
    let later = app
        .ticket("Later id, early commit", "B", "early@example.com")
        .await["id"]
        .as_i64()
        .unwrap();
    let mut rx = open_live(&app, None).await;

    // A transaction writes a note on `early` (taking an event id) and waits.
    let (reached_tx, reached_rx) = tokio::sync::oneshot::channel();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let db = app.db.clone();
    let slow = tokio::spawn(async move {
        db.write(op!(c => {
            let body = Body::parse("Written first, committed last").unwrap();
            rapport_store::tickets::system_note(c, early, &body, SystemClock.now()).await?;
            let _ = reached_tx.send(());
            let _ = go_rx.await;
            Ok(())
        }))
        .await
        .unwrap();
    });
    reached_rx.await.unwrap();
    // Meanwhile a note on `later` takes a higher id and commits at once.
    let (status, _) = app
        .post(
            &format!("/api/v1/tickets/{later}/messages"),
            json!({"body": "Written second", "internal": true}),
        )
        .await;
    assert_eq!(status, 201);
    // The committed note reaches the feed while the older transaction still runs (early:
    // a slow transaction anywhere does not hold every live view back)…
    let later_only: HashSet<i64> = [later].into();
    let seen = collect(
        &mut rx,
        "note_added",
        &later_only,
        Duration::from_millis(1500),
    )
    .await;
    assert_eq!(
        seen, later_only,
        "the committed note arrives before the slow one ends"
    );
    go_tx.send(()).unwrap();
    slow.await.unwrap();

    // …the late commit is not skipped, and the early note does not come again when it
    // settles.
    let both: HashSet<i64> = [early, later].into();
    let seen = collect(&mut rx, "note_added", &both, Duration::from_secs(3)).await;
    assert_eq!(
        seen,
        [early].into(),
        "the late commit reaches the feed, the early note only once"
    );
    drop(rx);
    app.stop().await;
}

/// PostgreSQL: an event committed by another node wakes this node's followers at once
/// (the `events` table's trigger notifies, [`rapport_store::Db::hear_other_nodes`]
/// listens), not only at their next poll. `commits()` moves only on this node's own
/// writes or on a notification, and this node writes nothing here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_nodes_events_wake_this_node_postgres() {
    let scratch = Scratch::new(Backend::Postgres).await;
    let clock = SystemClock;
    let here = rapport::open_db(&scratch.config(), &clock).await.unwrap();
    let there = rapport::open_db(&scratch.config(), &clock).await.unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let hearing = tokio::spawn({
        let here = here.clone();
        async move { here.hear_other_nodes(stop_rx).await }
    });
    let mut commits = here.commits();
    let mut heard = false;
    // The listener connects in the background: write until it hears one (10 s at most).
    for _ in 0..50 {
        let now = clock.now();
        there
            .write(op!(c => {
                rapport_store::testing::execute_in(c,
                    "INSERT INTO events (ticket_id, actor_user_id, actor_customer_id, kind, data, created_at)
                     VALUES (NULL, NULL, NULL, 'topic_changed', '{\"topic_id\": 1}', $1)",
                    &[now.into()],
                ).await?;
                Ok(())
            }))
            .await
            .unwrap();
        if tokio::time::timeout(Duration::from_millis(200), commits.changed())
            .await
            .is_ok()
        {
            heard = true;
            break;
        }
    }
    assert!(
        heard,
        "no notification of the other node's event reached this node"
    );
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), hearing)
        .await
        .expect("the listener stops when told")
        .unwrap();
}

/// PostgreSQL: a chat's passing signals (an agent typing, a read mark) reach a visitor's
/// socket on another node — notified, not stored — and a node does not hear its own twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_signals_reach_another_node_postgres() {
    use rapport_http::api::chat::hub::{ChatHub, Side, Signal, Wake};
    use std::sync::Arc;
    let scratch = Scratch::new(Backend::Postgres).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let here = rapport::open_db(&scratch.config(), &SystemClock)
        .await
        .unwrap();
    let there = rapport::open_db(&scratch.config(), &SystemClock)
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let hearing = tokio::spawn({
        let here = here.clone();
        async move { here.hear_other_nodes(stop_rx).await }
    });
    // The visitor's node: a socket's place in ticket 7's room.
    let hub_here = Arc::new(ChatHub::new(clock.clone(), here.clone()));
    let live = Arc::new(rapport_http::live::Live::default());
    hub_here.follow(&live, &here);
    let mut room = hub_here.join(7);
    // The agent's node types on ticket 7 (the listener connects in the background: try
    // until it hears one, 10 s at most).
    let hub_there = Arc::new(ChatHub::new(clock.clone(), there.clone()));
    let mut heard = None;
    for _ in 0..50 {
        hub_there.signal(Signal::Typing {
            ticket_id: 7,
            side: Side::Agent,
            name: "Sam".into(),
        });
        if let Ok(Ok(w)) = tokio::time::timeout(Duration::from_millis(200), room.rx.recv()).await {
            heard = Some(w);
            break;
        }
    }
    assert_eq!(
        heard,
        Some(Wake::Signal(Signal::Typing {
            ticket_id: 7,
            side: Side::Agent,
            name: "Sam".into()
        })),
        "the other node's typing reached this node's room"
    );
    // Drain what the retries left, then: this node's own signal comes once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while room.rx.try_recv().is_ok() {}
    hub_here.signal(Signal::Read {
        ticket_id: 7,
        side: Side::Agent,
        up_to: 42,
    });
    let w = tokio::time::timeout(Duration::from_secs(5), room.rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        w,
        Wake::Signal(Signal::Read {
            ticket_id: 7,
            side: Side::Agent,
            up_to: 42
        })
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        room.rx.try_recv().is_err(),
        "its own notification is not heard again"
    );
    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), hearing)
        .await
        .unwrap()
        .unwrap();
}
