//! The dashboard (issue 13): `GET /api/v1/reports/dashboard` — volume by day, channel
//! and category, next response time, the backlog by age, the reopen rate, promises kept
//! and the per-agent and per-team tables — checked against figures worked out by hand in
//! this test from tickets, replies, promises and survey answers at known times; then the
//! workspace page draws it and exports it as CSV. Both backends.

use std::sync::Arc;

use rapport_domain::{Body, Channel, Clock, ManualClock, Principal, Timestamp};
use rapport_store::op;
use rapport_store::surveys::{self, Answer};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error, settle};
use crate::on_both;
use crate::sessions_trust::PASSWORD;
use crate::web::{client, set_password, sign_in};

on_both!(the_dashboard_is_right_to_the_unit);

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(json!(rfc3339)).unwrap()
}

async fn the_dashboard_is_right_to_the_unit(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-01T10:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let sup = Some(app.supervisor.token.as_str());
    let to = |t: &str| clock.set(at(t));
    let (s, cats) = app.call("GET", "/api/v1/categories", sup, None).await;
    assert_eq!(s, 200, "{cats}");
    let category = cats[0]["slug"].as_str().unwrap().to_owned();

    let create = |subject: &'static str, extra: Value| {
        let app = &app;
        async move {
            let mut body = json!({"subject": subject, "body": "Help please",
                "customer": {"email": format!("{}@example.com", subject.to_lowercase())}});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (s, t) = app.post("/api/v1/tickets", body).await;
            assert_eq!(s, 201, "{t}");
            (
                t["id"].as_i64().unwrap(),
                t["channel"].as_str().unwrap().to_owned(),
            )
        }
    };
    let reply = |token: &str, id: i64, status: Option<&'static str>| {
        let app = &app;
        let token = token.to_owned();
        async move {
            let mut body = json!({"body": "Here is the answer"});
            if let Some(s) = status {
                body["status"] = json!(s);
            }
            let (s, r) = app
                .call(
                    "POST",
                    &format!("/api/v1/tickets/{id}/messages"),
                    Some(&token),
                    Some(body),
                )
                .await;
            assert_eq!(s, 201, "{r}");
        }
    };
    let customer = |id: i64| {
        let app = &app;
        let clock = clock.clone();
        async move {
            let now = clock.now();
            let body = Body::parse("One more thing").unwrap();
            app.db
                .write(op!(c => rapport_store::tickets::customer_reply(
                    c, &Principal::System, id, &body, Channel::Email, vec![], now).await))
                .await
                .unwrap();
        }
    };
    let (a_tok, b_tok) = (app.agent.token.clone(), app.agent_b.token.clone());

    // D: a month old and still open; in the backlog (7–30 days), not in the period.
    let (d, _) = create("D", json!({})).await;
    // The period: 23–25 November.
    to("2026-11-23T08:00:00Z");
    let (a, channel) = create(
        "A",
        json!({"assignee_id": app.agent.id, "team_id": app.team_a, "category": category}),
    )
    .await;
    to("2026-11-23T09:00:00Z");
    reply(&a_tok, a, None).await; // first response: 3,600 s
    to("2026-11-23T10:00:00Z");
    customer(a).await;
    to("2026-11-23T10:30:00Z");
    reply(&a_tok, a, None).await; // next response: 1,800 s
    to("2026-11-23T11:00:00Z");
    customer(a).await;
    to("2026-11-23T11:05:00Z");
    customer(a).await;
    to("2026-11-23T12:05:00Z");
    reply(&a_tok, a, Some("solved")).await; // next response from 11:00: 3,900 s
    // Solved 23 November in 4 h 5 min: 14,700 s. Never reopened.

    to("2026-11-24T09:00:00Z");
    let (b, _) = create(
        "B",
        json!({"assignee_id": app.agent_b.id, "team_id": app.team_b}),
    )
    .await;
    to("2026-11-24T10:00:00Z");
    reply(&b_tok, b, Some("solved")).await; // first response 3,600 s
    to("2026-11-24T11:00:00Z");
    customer(b).await; // reopens it
    to("2026-11-24T12:00:00Z");
    reply(&b_tok, b, Some("solved")).await; // next response 3,600 s; solved (again) in 10,800 s

    to("2026-11-25T09:00:00Z");
    let (c, _) = create("C", json!({})).await; // nobody's, unanswered: backlog 1–3 days
    // Promises: the agent's on A kept, agent B's on B broken.
    let (s, pa) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{a}/promises"),
            Some(&a_tok),
            Some(json!({"text": "Check the refund", "due_at": "2026-11-25T16:00:00Z"})),
        )
        .await;
    assert_eq!(s, 201, "{pa}");
    let (s, pb) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{b}/promises"),
            Some(&b_tok),
            Some(json!({"text": "Call back", "due_at": "2026-11-25T17:00:00Z"})),
        )
        .await;
    assert_eq!(s, 201, "{pb}");
    to("2026-11-25T10:00:00Z");
    let (s, r) = app
        .call(
            "POST",
            &format!("/api/v1/promises/{}/done", pa["id"]),
            Some(&a_tok),
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    to("2026-11-25T18:00:00Z");
    let now = clock.now();
    app.db
        .write(op!(c => rapport_store::promises::settle_due(c, now, 100).await))
        .await
        .unwrap();
    // A rating of A (the agent's, team A's): 5.
    app.db
        .write(op!(c => {
            let s = surveys::offer_for_ticket(c, a, Channel::Email, now).await?.unwrap();
            surveys::answer(c, s.id, Answer { csat: Some(5), ..Answer::default() }, now).await
        }))
        .await
        .unwrap();
    // E: after the period; in the backlog (under a day).
    to("2026-11-26T11:00:00Z");
    let _e = create("E", json!({})).await;
    for _ in 0..3 {
        settle(&app.db).await;
    }

    to("2026-11-26T12:00:00Z");
    let (s, r) = app
        .call(
            "GET",
            "/api/v1/reports/dashboard?from=2026-11-23&to=2026-11-25",
            sup,
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let f = |path: &str| -> Value { r.pointer(path).cloned().unwrap_or(Value::Null) };
    assert_eq!(
        f("/days"),
        json!([
            {"day": "2026-11-23", "created": 1, "solved": 1},
            {"day": "2026-11-24", "created": 1, "solved": 1},
            {"day": "2026-11-25", "created": 1, "solved": 0},
        ])
    );
    assert_eq!(f("/channels"), json!([{"key": channel, "count": 3}]));
    let cats = f("/categories");
    assert!(
        cats.as_array()
            .unwrap()
            .contains(&json!({"key": category, "count": 1})),
        "{cats}"
    );
    assert_eq!(
        cats.as_array()
            .unwrap()
            .iter()
            .map(|c| c["count"].as_i64().unwrap())
            .sum::<i64>(),
        3
    );
    // Next responses: 1,800, 3,600 and 3,900 s.
    assert_eq!(f("/next_response_time/count"), 3);
    assert_eq!(f("/next_response_time/median_seconds"), 3_600);
    assert_eq!(f("/next_response_time/p90_seconds"), 3_900);
    // Backlog now: E (< 1 day), C (1–3 days), D (25 days).
    assert_eq!(f("/backlog/total"), 3);
    let ages: Vec<i64> = f("/backlog/ages")
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["count"].as_i64().unwrap())
        .collect();
    assert_eq!(ages, [1, 1, 0, 1, 0]);
    // Of A and B solved, B had been reopened.
    assert_eq!(f("/reopen_rate"), json!({"value": 50.0, "count": 2}));
    assert_eq!(f("/promises_kept"), json!({"value": 50.0, "count": 2}));
    assert_eq!(f("/deflection_rate"), json!({"value": null, "count": 0}));

    let row = |list: &str, id: Option<i64>| -> Value {
        f(list)
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"].as_i64() == id)
            .cloned()
            .unwrap_or_else(|| panic!("no row {id:?} in {list}: {r}"))
    };
    let agent = row("/agents", Some(app.agent.id));
    assert_eq!(agent["solved"], 1);
    assert_eq!(agent["first_response_time"]["median_seconds"], 3_600);
    assert_eq!(agent["resolution_time"]["median_seconds"], 14_700);
    assert_eq!(agent["csat"], json!({"value": 100.0, "count": 1}));
    assert_eq!(agent["reopen_rate"], json!({"value": 0.0, "count": 1}));
    assert_eq!(agent["promises_kept"], json!({"value": 100.0, "count": 1}));
    let agent_b = row("/agents", Some(app.agent_b.id));
    assert_eq!(agent_b["resolution_time"]["median_seconds"], 10_800);
    assert_eq!(agent_b["reopen_rate"], json!({"value": 100.0, "count": 1}));
    assert_eq!(agent_b["promises_kept"], json!({"value": 0.0, "count": 1}));
    assert_eq!(agent_b["csat"], json!({"value": null, "count": 0}));
    // C is nobody's: the unassigned row comes last.
    let agents = f("/agents");
    let last = agents.as_array().unwrap().last().unwrap();
    assert!(
        last["id"].is_null() && last["first_response_time"]["count"] == 0,
        "{agents}"
    );
    let team_b = row("/teams", Some(app.team_b));
    assert_eq!(
        (team_b["solved"].clone(), team_b["name"].clone()),
        (json!(1), json!("Team B"))
    );

    // Filters narrow everything: team A's.
    let (s, r2) = app
        .call(
            "GET",
            &format!(
                "/api/v1/reports/dashboard?from=2026-11-23&to=2026-11-25&team_id={}",
                app.team_a
            ),
            sup,
            None,
        )
        .await;
    assert_eq!(s, 200, "{r2}");
    assert_eq!(r2["next_response_time"]["count"], 2);
    assert_eq!(r2["reopen_rate"], json!({"value": 0.0, "count": 1}));
    assert_eq!(r2["backlog"]["total"], 0);
    assert_eq!(r2["teams"].as_array().unwrap().len(), 1);
    for (q, field) in [
        ("from=2026-11-23&to=2026-11-22", "to"),
        ("from=x&to=2026-11-22", "from"),
    ] {
        let (s, e) = app
            .call("GET", &format!("/api/v1/reports/dashboard?{q}"), sup, None)
            .await;
        assert_error(s, &e, 422, Some(field));
    }
    let (s, e) = app
        .call(
            "GET",
            "/api/v1/reports/dashboard?from=2026-11-23&to=2026-11-25",
            Some(&a_tok),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);

    // The workspace page: charts with their tables, CSV that a spreadsheet reads.
    let http = client();
    set_password(&app, "sup@example.com", PASSWORD).await;
    let (sup_session, _) = sign_in(&app, &http, "sup@example.com", PASSWORD).await;
    let get = |session: String, path: String| {
        let app = &app;
        async move {
            let r = client()
                .get(app.url(&path))
                .header(
                    reqwest::header::COOKIE,
                    format!("rapport_session={session}"),
                )
                .send()
                .await
                .unwrap();
            let kind = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (r.status().as_u16(), kind, r.text().await.unwrap())
        }
    };
    let (s, _, html) = get(
        sup_session.clone(),
        "/reports?from=2026-11-23&to=2026-11-25&team_id=".into(),
    )
    .await;
    assert_eq!(s, 200, "{html}");
    assert_eq!(
        html.matches(r#"<svg class="chart""#).count(),
        4,
        "four charts"
    );
    assert!(html.contains(r#"<th scope="row">2026-11-24</th><td>1</td><td>1</td>"#));
    assert!(html.contains("Team B"));
    let (s, kind, text) = get(
        sup_session.clone(),
        "/reports/export.csv?table=agents&from=2026-11-23&to=2026-11-25".into(),
    )
    .await;
    assert_eq!(s, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("id,name,solved,csat_percent")
    );
    let mine = lines
        .find(|l| l.starts_with(&format!("{},", app.agent.id)))
        .expect("the agent's row");
    let cells: Vec<&str> = mine.split(',').collect();
    assert_eq!(
        (cells[2], cells[3], cells[11]),
        ("1", "100", "14700"),
        "{mine}"
    );
    let (_, _, days) = get(
        sup_session.clone(),
        "/reports/export.csv?table=days&from=2026-11-23&to=2026-11-25".into(),
    )
    .await;
    assert_eq!(
        days,
        "day,created,solved\n2026-11-23,1,1\n2026-11-24,1,1\n2026-11-25,1,0\n"
    );
    let (s, _, _) = get(sup_session, "/reports/export.csv?table=secrets".into()).await;
    assert_eq!(s, 422);
    // An agent's session may not see it.
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    let (agent_session, _) = sign_in(&app, &client(), "agent.a@example.com", PASSWORD).await;
    assert_eq!(get(agent_session.clone(), "/reports".into()).await.0, 403);
    assert_eq!(
        get(agent_session, "/reports/export.csv?table=days".into())
            .await
            .0,
        403
    );
    let _ = (c, d);
    crate::reports_rollup::assert_rollups_equal_fresh(
        &app,
        &[("2026-11-23", "2026-11-25"), ("2026-11-01", "2026-11-30")],
        clock.now(),
    )
    .await;
    app.stop().await;
}

on_both!(themes_show_what_customers_wrote_about);

async fn themes_show_what_customers_wrote_about(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-10T10:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let sup = Some(app.supervisor.token.as_str());
    let write = |subject: &str, body: &str, email: &str| {
        let app = &app;
        let (subject, body, email) = (subject.to_owned(), body.to_owned(), email.to_owned());
        async move {
            let (s, t) = app
                .post(
                    "/api/v1/tickets",
                    json!({"subject": subject, "body": body, "customer": {"email": email}}),
                )
                .await;
            assert_eq!(s, 201, "{t}");
            t["id"].as_i64().unwrap()
        }
    };
    // The week before: one mention of the refund.
    write("Question", "When will my refund come?", "old@example.com").await;
    clock.set(at("2026-11-17T10:00:00Z"));
    let angry = write(
        "Refund",
        "I have waited three weeks for my refund and nobody answers. This is unacceptable.",
        "a@example.com",
    )
    .await;
    write(
        "Refund again",
        "Where is my refund? I asked twice already.",
        "b@example.com",
    )
    .await;
    write(
        "Money",
        "Could you check the status of my refund please?",
        "c@example.com",
    )
    .await;
    write("Login", "How do I change my password?", "d@example.com").await;
    // An agent's reply mentions it too, but only customers' words count.
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{angry}/messages"),
            json!({"body": "Your refund refund refund is on its way"}),
        )
        .await;
    assert_eq!(s, 201);

    let (s, r) = app
        .call(
            "GET",
            "/api/v1/reports/themes?from=2026-11-16&to=2026-11-22",
            sup,
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["texts"], 4, "{r}");
    let refund = r["themes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["phrase"] == "refund")
        .unwrap_or_else(|| panic!("no refund theme: {r}"));
    assert_eq!(refund["count"], 3);
    assert_eq!(refund["previous_count"], 1);
    // The angry one reads negative: at least a third of the mentions.
    assert!(
        refund["negative_percent"].as_f64().unwrap() >= 33.0,
        "{refund}"
    );
    let quotes = refund["quotes"].as_array().unwrap();
    assert_eq!(quotes.len(), 3);
    assert_eq!(
        quotes[0]["ticket_id"], angry,
        "the most negative first: {refund}"
    );
    assert!(quotes.iter().all(|q| {
        q["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("refund")
    }));
    // "password" came up once: not a theme.
    assert!(!r["themes"].to_string().contains("password"), "{r}");

    let (s, e) = app
        .call(
            "GET",
            "/api/v1/reports/themes?from=2026-11-16&to=2026-11-22",
            Some(&app.agent.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, e) = app
        .call("GET", "/api/v1/reports/themes?from=2026-11-16", sup, None)
        .await;
    assert_error(s, &e, 422, Some("to"));

    set_password(&app, "sup@example.com", PASSWORD).await;
    let (session, _) = sign_in(&app, &client(), "sup@example.com", PASSWORD).await;
    let page = client()
        .get(app.url("/reports/themes?from=2026-11-16&to=2026-11-22"))
        .header(
            reqwest::header::COOKIE,
            format!("rapport_session={session}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<th scope="row">refund</th><td>3</td><td>1</td><td>up</td>"#),
        "{html}"
    );
    app.stop().await;
}

on_both!(the_demo_help_desk_has_survey_answers_to_report);

async fn the_demo_help_desk_has_survey_answers_to_report(backend: Backend) {
    // A new demo's solved conversations were rated (about two in five), at their own
    // times, so the reports have CSAT and CES from the first start.
    let (_scratch, db) = crate::migrations::migrated(backend).await;
    let size = rapport_demo::DemoSize {
        tickets: 200,
        customers: 40,
        seed: 11,
    };
    let clock = rapport_domain::SystemClock;
    rapport_demo::populate(&db, &clock, &size).await.unwrap();
    let now = clock.now();
    let day = |back: i64| {
        Timestamp(now.0 - back * 86_400_000_000)
            .to_datetime()
            .format("%Y-%m-%d")
            .to_string()
    };
    let period = rapport_domain::reports::Period::parse(&day(89), &day(0)).unwrap();
    let filter = rapport_store::reports::Filter::default();
    let s = db
        .read(op!(c => rapport_store::reports::summary(c, &period, &filter, now).await))
        .await
        .unwrap();
    let solved = crate::harness::count(
        &db,
        "SELECT COUNT(*) FROM tickets WHERE status IN ('solved', 'closed')",
    )
    .await;
    let answered = crate::harness::count(
        &db,
        "SELECT COUNT(*) FROM surveys WHERE answered_at IS NOT NULL",
    )
    .await;
    assert!(solved > 20, "{solved} solved");
    assert!(
        answered * 5 >= solved && answered * 5 <= solved * 3,
        "{answered} of {solved}"
    );
    // Every solved conversation was offered its survey; the report's response rate is
    // under 100%.
    let offered = crate::harness::count(&db, "SELECT COUNT(*) FROM surveys").await;
    assert!(offered > answered, "{offered} offered, {answered} answered");
    assert!(s.ticket_surveys_sent > s.ticket_surveys_answered);
    // Answers within the 90 days (a few may fall before them).
    assert!(
        s.csat.len() as i64 >= answered - 5,
        "{} in the report",
        s.csat.len()
    );
    assert_eq!(s.csat.len(), s.ces.len());
    assert!(s.csat.iter().all(|r| (1..=5).contains(r)));
}
