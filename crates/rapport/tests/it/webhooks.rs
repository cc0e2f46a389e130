//! Outbound webhooks (issue 12): every delivery is checked by a real HTTP receiver with the
//! reference Standard Webhooks library from PyPI (`tests/peers/webhook_receiver.py`);
//! failures are retried under the same message id and logged with the answer; `410 Gone`
//! turns a receiver off; secrets rotate with both signing for a while; requests never go
//! to private addresses unless allowed.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rapport_domain::{Clock, SystemClock};
use rapport_jobs::{Step, Worker, WorkerConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

use crate::harness::{Backend, TestApp, assert_error, free_port, settle};
use crate::on_both;

on_both!(
    deliveries_are_signed_retried_logged_and_rotated,
    a_receiver_that_answers_gone_is_turned_off,
    private_addresses_are_refused_unless_allowed,
);

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A running receiver and what it printed.
struct Receiver {
    port: u16,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl Receiver {
    async fn start(secret: &str, statuses: &str) -> Receiver {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/peers/webhook_receiver.py"
        );
        for _ in 0..5 {
            let port = free_port();
            let mut child = tokio::process::Command::new("python3")
                .arg(script)
                .arg(port.to_string())
                .arg(secret)
                .arg(statuses)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .expect(
                    "python3 runs the webhook receiver (scripts/test installs standardwebhooks)",
                );
            let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
            let ready = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await;
            if let Ok(Ok(Some(l))) = ready
                && l.starts_with("ready")
            {
                return Receiver {
                    port,
                    lines,
                    _child: child,
                };
            }
        }
        panic!("the webhook receiver did not start");
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// The next request it got, as it judged it.
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line())
            .await
            .expect("a delivery within 20 s")
            .unwrap()
            .expect("the receiver is running");
        serde_json::from_str(&line).unwrap()
    }
}

/// A worker running due jobs in the background (retries included) until dropped.
struct Running(tokio::task::JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Lets the subscribers queue deliveries, then runs due jobs in the background.
async fn deliver(app: &TestApp, allow_private: bool) -> Running {
    settle(&app.db).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let w = Worker::new(
        app.db.clone(),
        Arc::clone(&clock),
        rapport::registry_with(
            clock,
            rapport_mail::MailSettings {
                sealer: app.sealer.clone(),
                ..Default::default()
            },
            allow_private,
        ),
        WorkerConfig {
            name: "webhook-test".into(),
            lease_secs: 30,
            idle_wait: Duration::from_millis(10),
        },
    );
    Running(tokio::spawn(async move {
        loop {
            if let Ok(Step::Idle) | Err(_) = w.step().await {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }))
}

/// A receiver's delivery log once it holds at least `n` attempts (the worker logs an
/// attempt just after the receiver answered it).
async fn log_of(app: &TestApp, id: i64, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let (s, log) = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).await;
        assert_eq!(s, 200, "{log}");
        if log.as_array().unwrap().len() >= n {
            return log.as_array().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} attempts logged");
}

async fn create(app: &TestApp, url: &str, events: Value, secret: Option<&str>) -> Value {
    let mut body = json!({"url": url, "events": events});
    if let Some(s) = secret {
        body["secret"] = json!(s);
    }
    let (s, w) = app.post("/api/v1/webhooks", body).await;
    assert_eq!(s, 201, "{w}");
    w
}

async fn deliveries_are_signed_retried_logged_and_rotated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut rx = Receiver::start(SECRET, "500,200").await;
    // Only admins manage webhooks, and bad input names its field.
    let agent = Some(app.agent.token.as_str());
    let body = json!({"url": rx.url(), "events": ["ticket.created"], "secret": SECRET});
    let (s, e) = app
        .call("POST", "/api/v1/webhooks", agent, Some(body))
        .await;
    assert_error(s, &e, 403, None);
    for (body, field) in [
        (
            json!({"url": "ftp://example.com/x", "events": ["ticket.created"]}),
            "url",
        ),
        (
            json!({"url": "https://user:pw@example.com/x", "events": ["ticket.created"]}),
            "url",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["ticket.deleted"]}),
            "events",
        ),
        (
            json!({"url": "https://example.com/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://example.com/x", "events": ["ticket.created"], "secret": "hunter2"}),
            "secret",
        ),
    ] {
        let (s, e) = app.post("/api/v1/webhooks", body).await;
        assert_error(s, &e, 422, Some(field));
    }
    // Without a secret Rapport makes one and shows it once.
    let made = create(&app, "https://example.com/x", json!(["note.created"]), None).await;
    assert!(
        made["secret"].as_str().unwrap().starts_with("whsec_"),
        "{made}"
    );
    let (_, again) = app.get(&format!("/api/v1/webhooks/{}", made["id"])).await;
    assert!(again.get("secret").is_none(), "{again}");
    app.call(
        "DELETE",
        &format!("/api/v1/webhooks/{}", made["id"]),
        Some(&app.admin.token),
        None,
    )
    .await;

    let hook = create(
        &app,
        &rx.url(),
        json!(["ticket.created", "message.created"]),
        Some(SECRET),
    )
    .await;
    let id = hook["id"].as_i64().unwrap();
    let t = app
        .ticket("Hooked", "Please call", "hook@example.com")
        .await;
    let running = deliver(&app, true).await;
    let got = vec![rx.next().await, rx.next().await];
    let log = log_of(&app, id, 2).await;
    drop(running);
    // The first attempt got 500 and was retried: same message id, both verified by the
    // reference library, about the ticket.
    for v in &got {
        assert_eq!(v["verified"], true, "{v}");
        assert_eq!(v["type"], "ticket.created");
        assert_eq!(v["ticket"], t["id"]);
        assert_eq!(v["signatures"], 1);
        assert!(
            v["stripe_verified"].is_null(),
            "no Stripe-style header unless asked"
        );
    }
    assert_eq!(got[0]["id"], got[1]["id"]);
    assert_eq!(
        (got[0]["status"].as_i64(), got[1]["status"].as_i64()),
        (Some(500), Some(200))
    );
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["status_code"], 200);
    assert_eq!(log[0]["attempt"], 2);
    assert_eq!(log[1]["status_code"], 500);
    assert_eq!(log[1]["response"], "answered 500");
    assert!(log[1]["error"].as_str().unwrap().contains("500"));
    // A rotated secret: the old one keeps signing beside the new one, so the receiver,
    // still on the old secret, verifies the next delivery. With the Stripe-style header
    // on, Stripe's own library verifies that too.
    let new_secret = rapport_store::secrets::new_webhook_secret().written();
    let (s, w) = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            json!({"secret": new_secret, "stripe_signature": true}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(w["stripe_signature"], true);
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{}/messages", t["id"]),
            json!({"body": "Calling now"}),
        )
        .await;
    assert_eq!(s, 201);
    let running = deliver(&app, true).await;
    let v = rx.next().await;
    drop(running);
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["type"], "message.created");
    assert_eq!(v["signatures"], 2);
    assert_eq!(v["stripe_verified"], true, "{v}");
    app.stop().await;
}

async fn a_receiver_that_answers_gone_is_turned_off(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut rx = Receiver::start(SECRET, "410").await;
    let hook = create(&app, &rx.url(), json!(["ticket.created"]), Some(SECRET)).await;
    let id = hook["id"].as_i64().unwrap();
    app.ticket("Gone", "Hello", "gone@example.com").await;
    let running = deliver(&app, true).await;
    let v = rx.next().await;
    // The 410 is logged and the receiver turned off in the attempt's write.
    log_of(&app, id, 1).await;
    drop(running);
    assert_eq!(v["verified"], true, "{v}");
    let (_, w) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(w["active"], false, "{w}");
    assert!(
        w["disabled_reason"].as_str().unwrap().contains("410"),
        "{w}"
    );
    // Off means nothing more is sent; on again clears the reason.
    app.ticket("Gone again", "Hello", "gone@example.com").await;
    let running = deliver(&app, true).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(running);
    let (_, log) = app.get(&format!("/api/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    let (s, w) = app
        .patch(&format!("/api/v1/webhooks/{id}"), json!({"active": true}))
        .await;
    assert_eq!(s, 200);
    assert!(w["disabled_reason"].is_null());
    app.stop().await;
}

async fn private_addresses_are_refused_unless_allowed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rx = Receiver::start(SECRET, "200").await;
    // By address and by a name that resolves to loopback.
    let by_ip = create(&app, &rx.url(), json!(["ticket.created"]), Some(SECRET)).await;
    let by_name = create(
        &app,
        &format!("http://localhost:{}/hook", rx.port),
        json!(["ticket.created"]),
        Some(SECRET),
    )
    .await;
    app.ticket("Inside", "Hello", "ssrf@example.com").await;
    let running = deliver(&app, false).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(running);
    for hook in [&by_ip, &by_name] {
        let (_, log) = app
            .get(&format!("/api/v1/webhooks/{}/deliveries", hook["id"]))
            .await;
        let log = log.as_array().unwrap();
        assert!(!log.is_empty(), "an attempt is logged");
        for d in log {
            assert!(d["status_code"].is_null(), "{d}");
            assert!(d["error"].as_str().unwrap().contains("private"), "{d}");
        }
    }
    // An admin allows private addresses (a single-host setup): the retries get through,
    // with the server's own setting still off. Only admins may.
    let (s, e) = app
        .call(
            "PUT",
            "/api/v1/webhooks/settings",
            Some(&app.supervisor.token),
            Some(json!({"allow_private": true})),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, set) = app
        .call(
            "PUT",
            "/api/v1/webhooks/settings",
            Some(&app.admin.token),
            Some(json!({"allow_private": true})),
        )
        .await;
    assert_eq!(
        (s, set["allow_private"].as_bool()),
        (200, Some(true)),
        "{set}"
    );
    let mut rx = rx;
    let running = deliver(&app, false).await;
    let got = rx.next().await;
    assert_eq!(got["type"], "ticket.created", "{got}");
    drop(running);
    let (_, set) = app.get("/api/v1/webhooks/settings").await;
    assert_eq!(set["allow_private"], true);
    app.stop().await;
}
