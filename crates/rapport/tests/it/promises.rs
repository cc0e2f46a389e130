//! Promises (issue 12): an agent records what they promised a customer and by when; they
//! are reminded before it is due; a promise done by then is kept, one whose time passes
//! first is broken — counted per agent and team. With a clock the test moves.

use std::sync::Arc;

use rapport_domain::{Clock, ManualClock, Timestamp};
use rapport_store::op;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error};
use crate::on_both;

on_both!(
    promises_are_reminded_kept_or_broken_and_counted,
    agents_record_and_keep_promises_on_the_ticket_page,
);

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(json!(rfc3339)).unwrap()
}

async fn settle_due(app: &TestApp, now: Timestamp) -> usize {
    app.db
        .write(op!(c => rapport_store::promises::settle_due(c, now, 100).await))
        .await
        .unwrap()
}

async fn kinds(app: &TestApp, id: i64) -> Vec<String> {
    let (_, evs) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
    evs.as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .filter(|k| k.starts_with("promise_"))
        .collect()
}

async fn promises_are_reminded_kept_or_broken_and_counted(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-27T10:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let agent = Some(app.agent.token.as_str());
    // The agent's team's ticket.
    let (_, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Refund", "body": "Where is it?", "team_id": app.team_a,
                   "customer": {"email": "promise@example.com"}}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let path = format!("/api/v1/tickets/{id}/promises");
    for (body, field) in [
        (
            json!({"text": "", "due_at": "2026-11-28T10:00:00Z"}),
            "text",
        ),
        (
            json!({"text": "Call back", "due_at": "2026-11-27T09:00:00Z"}),
            "due_at",
        ),
        (
            json!({"text": "Call back", "due_at": "2029-01-01T00:00:00Z"}),
            "due_at",
        ),
    ] {
        let (s, e) = app.call("POST", &path, agent, Some(body)).await;
        assert_error(s, &e, 422, Some(field));
    }
    // Another team's agent cannot promise on it.
    let (s, e) = app
        .call(
            "POST",
            &path,
            Some(&app.agent_b.token),
            Some(json!({"text": "x", "due_at": "2026-11-28T10:00:00Z"})),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, kept) = app
        .call("POST", &path, agent,
              Some(json!({"text": "Call back with the refund status", "due_at": "2026-11-28T10:00:00Z"})))
        .await;
    assert_eq!(s, 201, "{kept}");
    assert_eq!(kept["state"], "open");
    let (_, broken) = app
        .call(
            "POST",
            &path,
            agent,
            Some(json!({"text": "Email the label", "due_at": "2026-11-27T11:00:00Z"})),
        )
        .await;
    // 10:31: the one due at 11:00 (made half an hour before) is reminded halfway.
    clock.advance_secs(31 * 60);
    assert_eq!(settle_due(&app, clock.now()).await, 1);
    assert_eq!(settle_due(&app, clock.now()).await, 0, "reminded once");
    // 11:01: it is broken; marking it done now keeps it broken.
    clock.advance_secs(30 * 60);
    assert_eq!(settle_due(&app, clock.now()).await, 1);
    let (s, late) = app
        .call(
            "POST",
            &format!("/api/v1/promises/{}/done", broken["id"]),
            agent,
            None,
        )
        .await;
    assert_eq!(s, 200, "{late}");
    assert_eq!(late["state"], "broken");
    assert!(late["done_at"].is_string());
    // The next day 09:01 the other is reminded (an hour before) and done in time: kept.
    clock.advance_secs(22 * 3_600);
    assert_eq!(settle_due(&app, clock.now()).await, 1);
    let (s, done) = app
        .call(
            "POST",
            &format!("/api/v1/promises/{}/done", kept["id"]),
            agent,
            None,
        )
        .await;
    assert_eq!(done["state"], "kept", "{done}");
    assert_eq!(s, 200);
    let (s, e) = app
        .call(
            "POST",
            &format!("/api/v1/promises/{}/done", kept["id"]),
            agent,
            None,
        )
        .await;
    assert_error(s, &e, 409, None);
    assert_eq!(
        kinds(&app, id).await,
        [
            "promise_made",
            "promise_made",
            "promise_due",
            "promise_broken",
            "promise_due",
            "promise_kept"
        ]
    );
    let (_, list) = app.call("GET", &path, agent, None).await;
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["kept", "broken"]);
    // The report: per agent and per team, for supervisors only.
    let (s, e) = app
        .call("GET", "/api/v1/reports/promises", agent, None)
        .await;
    assert_error(s, &e, 403, None);
    let (s, report) = app
        .call(
            "GET",
            "/api/v1/reports/promises",
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{report}");
    let row = |list: &Value, id: i64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    let mine = row(&report["agents"], app.agent.id);
    assert_eq!(
        (
            mine["kept"].as_i64(),
            mine["broken"].as_i64(),
            mine["open"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    let team = row(&report["teams"], app.team_a);
    assert_eq!(team["kept"], 1);
    assert_eq!(team["broken"], 1);
    app.stop().await;
}

async fn agents_record_and_keep_promises_on_the_ticket_page(backend: Backend) {
    use crate::sessions_trust::{PASSWORD, post_form};
    use crate::web::{client, hidden, set_password, sign_in};
    let clock = Arc::new(ManualClock::new(at("2026-11-27T10:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    // The agent reads times in New York.
    let (s, _) = app
        .call(
            "PUT",
            "/api/v1/me/preferences",
            Some(&app.agent.token),
            Some(json!({"email_notifications": true, "time_zone": "America/New_York"})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Exchange", "body": "Wrong size", "team_id": app.team_a,
                                         "customer": {"email": "page@example.com"}}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let http = client();
    let (session, _) = sign_in(&app, &http, "agent.a@example.com", PASSWORD).await;
    let page = |session: String| {
        let http = http.clone();
        let url = app.url(&format!("/tickets/{id}"));
        async move {
            http.get(url)
                .header(
                    reqwest::header::COOKIE,
                    format!("rapport_session={session}"),
                )
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = page(session.clone()).await;
    assert!(html.contains("No promises yet."), "{html}");
    let csrf = hidden(&html, "csrf");
    let path = format!("/tickets/{id}/promises");
    let (s, _) = post_form(
        &app,
        &session,
        &path,
        &[
            ("csrf", csrf.as_str()),
            ("text", "Send the new label"),
            ("due", "2026-11-28T09:30"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    // A time that is no time is refused, naming the field.
    let (s, body) = post_form(
        &app,
        &session,
        &path,
        &[("csrf", csrf.as_str()), ("text", "x"), ("due", "soon")],
    )
    .await;
    assert_eq!(s, 422, "{body}");
    let (_, list) = app
        .call(
            "GET",
            &format!("/api/v1/tickets/{id}/promises"),
            Some(&app.agent.token),
            None,
        )
        .await;
    let p = &list[0];
    // 09:30 in New York is 14:30 UTC.
    assert_eq!(p["due_at"], "2026-11-28T14:30:00Z", "{list}");
    let html = page(session.clone()).await;
    assert!(
        html.contains("Send the new label") && html.contains("2026-11-28 09:30 EST"),
        "{html}"
    );
    let (s, _) = post_form(
        &app,
        &session,
        &format!("/promises/{}/done", p["id"]),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(s, 303);
    let html = page(session).await;
    assert!(html.contains("promise-kept"), "{html}");
    app.stop().await;
}
