//! Snooze and follow-ups (issue 12): a ticket sleeps until a time, until the customer
//! replies, or both; it wakes open again with a reminder, or when the customer writes.
//! With a clock the test moves.

use std::sync::Arc;

use rapport_domain::{Body, Channel, Clock, ManualClock, Principal, Timestamp};
use rapport_store::op;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error, settle};
use crate::on_both;

on_both!(tickets_sleep_until_a_time_or_the_customer_reply);

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(json!(rfc3339)).unwrap()
}

async fn kinds(app: &TestApp, id: i64) -> Vec<String> {
    let (_, evs) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
    evs.as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .filter(|k| k.starts_with("snooze"))
        .collect()
}

async fn status(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/v1/tickets/{id}")).await.1["status"].clone()
}

async fn tickets_sleep_until_a_time_or_the_customer_reply(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-27T10:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let me = Some(app.agent.token.as_str());
    let (_, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Exchange", "body": "Swap the size please", "team_id": app.team_a,
                   "customer": {"email": "snooze@example.com"}}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let path = format!("/api/v1/tickets/{id}/snooze");
    for (body, code, field) in [
        (json!({}), 422, Some("until")),
        (json!({"until": "2026-11-27T09:00:00Z"}), 422, Some("until")),
        (json!({"until": "2028-01-01T00:00:00Z"}), 422, Some("until")),
        (
            json!({"until_reply": true, "note": "x".repeat(501)}),
            422,
            Some("note"),
        ),
    ] {
        let (s, e) = app.call("POST", &path, me, Some(body)).await;
        assert_error(s, &e, code, field);
    }
    // Another team's agent can neither snooze nor read it.
    let (s, e) = app
        .call(
            "POST",
            &path,
            Some(&app.agent_b.token),
            Some(json!({"until_reply": true})),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, _) = app.call("GET", &path, me, None).await;
    assert_eq!(s, 404, "not asleep");

    // Until tomorrow 09:00: on hold (its SLA clocks keep running), back open when the
    // time comes, with a reminder on the ticket.
    let (s, z) = app
        .call(
            "POST",
            &path,
            me,
            Some(
                json!({"until": "2026-11-28T09:00:00Z", "note": "Check the courier picked it up"}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{z}");
    assert_eq!(z["until_reply"], false);
    assert_eq!(status(&app, id).await, "on-hold");
    let wake = |now: Timestamp| {
        let db = app.db.clone();
        async move {
            db.write(op!(c => rapport_store::snooze::wake_due(c, now, 100).await))
                .await
                .unwrap()
        }
    };
    clock.advance_secs(22 * 3_600);
    assert_eq!(wake(clock.now()).await, 0, "08:00: still asleep");
    clock.advance_secs(3_600 + 60);
    assert_eq!(wake(clock.now()).await, 1);
    assert_eq!(wake(clock.now()).await, 0, "woken once");
    assert_eq!(status(&app, id).await, "open");
    assert_eq!(kinds(&app, id).await, ["snoozed", "snooze_ended"]);
    let (_, evs) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
    let ended = evs
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "snooze_ended")
        .unwrap()
        .clone();
    assert_eq!(ended["data"]["reason"], "time");
    assert_eq!(ended["data"]["note"], "Check the courier picked it up");

    // Until the customer replies: pending (waiting on them); their reply wakes it, and a
    // time that comes later wakes nothing more.
    let (s, z) = app
        .call(
            "POST",
            &path,
            me,
            Some(json!({"until_reply": true, "until": "2026-12-01T09:00:00Z"})),
        )
        .await;
    assert_eq!(s, 200, "{z}");
    assert_eq!(status(&app, id).await, "on-hold");
    let (s, got) = app.call("GET", &path, me, None).await;
    assert_eq!((s, got["until_reply"].as_bool()), (200, Some(true)));
    let now = clock.now();
    app.db
        .write(op!(c => rapport_store::tickets::customer_reply(
            c,
            &Principal::System,
            id,
            &Body::parse("It has not been picked up yet").unwrap(),
            Channel::Email,
            Vec::new(),
            now,
        ).await))
        .await
        .unwrap();
    settle(&app.db).await;
    assert_eq!(status(&app, id).await, "open");
    let (s, _) = app.call("GET", &path, me, None).await;
    assert_eq!(s, 404, "the reply ended it");
    clock.advance_secs(10 * 86_400);
    assert_eq!(wake(clock.now()).await, 0);
    assert_eq!(
        kinds(&app, id).await,
        ["snoozed", "snooze_ended", "snoozed", "snooze_ended"]
    );

    // Only the reply: pending. Woken by hand.
    let (s, _) = app
        .call("POST", &path, me, Some(json!({"until_reply": true})))
        .await;
    assert_eq!(s, 200);
    assert_eq!(status(&app, id).await, "pending");
    let (s, _) = app.call("DELETE", &path, me, None).await;
    assert_eq!(s, 204);
    assert_eq!(status(&app, id).await, "open");
    let (s, e) = app.call("DELETE", &path, me, None).await;
    assert_error(s, &e, 404, None);

    // A solved ticket cannot be snoozed.
    let (s, _) = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            json!({"status": "solved"}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, e) = app
        .call("POST", &path, me, Some(json!({"until_reply": true})))
        .await;
    assert_error(s, &e, 409, None);
    app.stop().await;
}
