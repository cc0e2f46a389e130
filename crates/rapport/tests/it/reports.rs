//! Reports (issue 13): `GET /api/v1/reports/summary` checked to the unit against figures
//! worked out by hand in this test from tickets, replies and survey answers at known
//! times — business hours included — on both backends.

use std::sync::Arc;

use rapport_domain::{Channel, Clock, ManualClock, Timestamp};
use rapport_store::op;
use rapport_store::surveys::{self, Answer};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error, settle};
use crate::on_both;

on_both!(the_summary_is_right_to_the_unit);

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(json!(rfc3339)).unwrap()
}

async fn the_summary_is_right_to_the_unit(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-20T08:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let sup = Some(app.supervisor.token.as_str());
    // Urgent tickets are measured in Berlin office hours, Monday to Friday 9–17.
    let (s, cal) = app
        .call(
            "POST",
            "/api/v1/sla/calendars",
            sup,
            Some(json!({
            "name": "Berlin office", "time_zone": "Europe/Berlin",
            "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
                      "thu": ["09:00-17:00"], "fri": ["09:00-17:00"]}})),
        )
        .await;
    assert_eq!(s, 201, "{cal}");
    let (s, p) = app
        .call(
            "POST",
            "/api/v1/sla/policies",
            sup,
            Some(json!({
            "name": "Urgent", "position": 1, "conditions": {"priorities": ["urgent"]},
            "targets": {"first_response_minutes": 240}, "calendar_id": cal["id"]})),
        )
        .await;
    assert_eq!(s, 201, "{p}");

    let create = |subject: &'static str, priority: &'static str, email: &'static str| {
        let app = &app;
        async move {
            let (s, t) = app
                .post(
                    "/api/v1/tickets",
                    json!({"subject": subject, "body": "Help",
                    "priority": priority, "customer": {"email": email}}),
                )
                .await;
            assert_eq!(s, 201, "{t}");
            t["id"].as_i64().unwrap()
        }
    };
    let reply = |id: i64, status: Option<&'static str>| {
        let app = &app;
        async move {
            let mut body = json!({"body": "Answer"});
            if let Some(s) = status {
                body["status"] = json!(s);
            }
            let (s, r) = app
                .post(&format!("/api/v1/tickets/{id}/messages"), body)
                .await;
            assert_eq!(s, 201, "{r}");
        }
    };
    let solve = |id: i64| {
        let app = &app;
        async move {
            let (s, r) = app
                .patch(
                    &format!("/api/v1/tickets/{id}"),
                    json!({"status": "solved"}),
                )
                .await;
            assert_eq!(s, 200, "{r}");
        }
    };
    let to = |t: &str| {
        clock.set(at(t));
    };

    // The period before: T5, created Friday 20 November 08:00 UTC.
    let t5 = create("T5", "normal", "e@example.com").await;
    // The week of 23–29 November.
    to("2026-11-23T08:00:00Z");
    let t1 = create("T1", "normal", "a@example.com").await;
    to("2026-11-23T09:00:00Z");
    reply(t1, Some("solved")).await; // first response 3,600 s; solved in 3,600 s, one reply
    to("2026-11-23T10:00:00Z");
    let t2 = create("T2", "normal", "b@example.com").await;
    to("2026-11-23T12:30:00Z");
    reply(t2, None).await; // first response 9,000 s
    to("2026-11-23T13:00:00Z");
    reply(t2, None).await;
    to("2026-11-23T14:00:00Z");
    solve(t2).await; // 14,400 s, two replies
    to("2026-11-24T08:00:00Z");
    solve(t5).await; // created four days before: 345,600 s, no reply
    let t4 = create("T4", "normal", "d@example.com").await; // never answered
    // Thursday 16:00 in Berlin; answered Friday 10:00 in Berlin: two office hours
    // (7,200 s), though 18 hours passed.
    to("2026-11-26T15:00:00Z");
    let t3 = create("T3", "urgent", "c@example.com").await;
    to("2026-11-27T09:00:00Z");
    reply(t3, None).await;
    for _ in 0..3 {
        settle(&app.db).await;
    }

    // Survey answers within the week: CSAT 5, 4 and 2 (CES 7 and 5); NPS 10, 9 and 3.
    // One more ticket survey offered and never answered.
    let now = clock.now();
    let answers = [
        (t1, Some(5), Some(7)),
        (t2, Some(4), Some(5)),
        (t3, Some(2), None),
    ];
    app.db
        .write(op!(c => {
            for (t, csat, ces) in answers {
                let s = surveys::offer_for_ticket(c, t, Channel::Email, now).await?.unwrap();
                surveys::answer(c, s.id, Answer { csat, ces, ..Answer::default() }, now).await?;
            }
            surveys::offer_for_ticket(c, t4, Channel::Email, now).await?.unwrap();
            for (email, nps) in [("a@example.com", 10), ("b@example.com", 9), ("d@example.com", 3)] {
                let id = rapport_store::testing::one_in(c, "SELECT id FROM customers WHERE email = $1", &[email.into()]).await?.int(0)?;
                let s = surveys::offer_nps(c, id, 90, now).await?.unwrap();
                surveys::answer(c, s.id, Answer { nps: Some(nps), ..Answer::default() }, now).await?;
            }
            Ok(())
        }))
        .await
        .unwrap();
    for _ in 0..3 {
        settle(&app.db).await;
    }

    // Read on 1 December: T4's 24-hour first response target is long breached.
    to("2026-12-01T12:00:00Z");
    let (s, r) = app
        .call(
            "GET",
            "/api/v1/reports/summary?from=2026-11-23&to=2026-11-29",
            sup,
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let f = |path: &str| -> Value { r.pointer(path).cloned().unwrap_or(Value::Null) };
    // T1–T4, and the follow-up ticket the NPS detractor's answer opened on Friday.
    assert_eq!(f("/volume/value"), json!(5.0));
    assert_eq!(f("/volume/count"), 5);
    // First responses: 3,600, 7,200 (business hours) and 9,000 s.
    assert_eq!(f("/first_response_time/count"), 3);
    assert_eq!(f("/first_response_time/value"), 7_200);
    assert_eq!(f("/first_response_time/median_seconds"), 7_200);
    assert_eq!(f("/first_response_time/p90_seconds"), 9_000);
    // Resolutions in the week: 3,600, 14,400 and 345,600 s — stated to three
    // significant figures, 345,000.
    assert_eq!(f("/resolution_time/count"), 3);
    assert_eq!(f("/resolution_time/median_seconds"), 14_400);
    assert_eq!(f("/resolution_time/p90_seconds"), 345_000);
    // SLA: T1, T2 and T3 met their targets; T4 and the unanswered follow-up breached —
    // 60%.
    assert_eq!(f("/sla_compliance/count"), 5);
    assert_eq!(f("/sla_compliance/value"), json!(60.0));
    // One touch: of T1, T2 and T5, only T1 was solved with a single reply.
    assert_eq!(f("/one_touch_resolution/count"), 3);
    assert_eq!(f("/one_touch_resolution/value"), json!(33.33));
    // CSAT: two of three rated 4 or 5; four surveys offered.
    assert_eq!(f("/csat/count"), 3);
    assert_eq!(f("/csat/value"), json!(66.67));
    assert_eq!(f("/csat/sent"), 4);
    assert_eq!(f("/csat/response_rate"), json!(75.0));
    assert_eq!(f("/ces/count"), 2);
    assert_eq!(f("/ces/value"), json!(6.0));
    // NPS: two promoters and a detractor of three: 66.67 − 33.33.
    assert_eq!(f("/nps/count"), 3);
    assert_eq!(f("/nps/promoters"), 2);
    assert_eq!(f("/nps/detractors"), 1);
    assert_eq!(f("/nps/value"), json!(33.33));
    assert_eq!(f("/nps/sent"), 3);
    // The week before: T5 alone was created.
    assert_eq!(f("/previous/volume/count"), 1);
    assert_eq!(f("/previous/resolution_time/count"), 0);
    assert!(f("/previous/resolution_time/value").is_null());

    // Filters: the urgent ticket's team-less agent view, a channel.
    let (s, r) = app
        .call(
            "GET",
            "/api/v1/reports/summary?from=2026-11-23&to=2026-11-29&channel=email",
            sup,
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(r["volume"]["count"], 0);
    assert_eq!(r["csat"]["count"], 0);
    // The detractor's follow-up ticket is a web ticket, but an NPS answer is about no
    // channel: none under a channel filter.
    let (s, r) = app
        .call(
            "GET",
            "/api/v1/reports/summary?from=2026-11-23&to=2026-11-29&channel=web",
            sup,
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["nps"]["count"], 0, "{r}");
    assert!(r["nps"]["value"].is_null());

    // Bad input names the field; agents may not read reports.
    for (q, field) in [
        ("from=2026-11-31&to=2026-12-01", "from"),
        ("from=2026-11-23&to=2026-11-22", "to"),
        ("from=2024-01-01&to=2026-11-22", "to"),
        ("from=2026-11-23&to=2026-11-29&channel=fax", "channel"),
    ] {
        let (s, e) = app
            .call("GET", &format!("/api/v1/reports/summary?{q}"), sup, None)
            .await;
        assert_error(s, &e, 422, Some(field));
    }
    let (s, e) = app
        .call(
            "GET",
            "/api/v1/reports/summary?from=2026-11-23&to=2026-11-29",
            Some(&app.agent.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
    // Berlin's office opens at 7 from now on: the urgent ticket's first response is
    // measured in the new hours, rolled up as well as fresh.
    let (s, r) = app
        .call(
            "PUT",
            &format!("/api/v1/sla/calendars/{}", cal["id"]),
            sup,
            Some(json!({
            "name": "Berlin office", "time_zone": "Europe/Berlin",
            "hours": {"mon": ["07:00-17:00"], "tue": ["07:00-17:00"], "wed": ["07:00-17:00"],
                      "thu": ["07:00-17:00"], "fri": ["07:00-17:00"]}})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = app
        .call(
            "GET",
            "/api/v1/reports/summary?from=2026-11-23&to=2026-11-29",
            sup,
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    // 3,600, 9,000 and now 14,400 s (Friday 07:00–10:00 in Berlin plus Thursday 16–17).
    assert_eq!(r["first_response_time"]["p90_seconds"], 14_400, "{r}");
    // Read from the roll-ups or aggregated afresh, every figure is the same.
    crate::reports_rollup::assert_rollups_equal_fresh(
        &app,
        &[
            ("2026-11-23", "2026-11-29"),
            ("2026-11-16", "2026-11-22"),
            ("2026-11-20", "2026-12-01"),
        ],
        clock.now(),
    )
    .await;
    app.stop().await;
}
