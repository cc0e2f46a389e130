//! The priority score (issue 12): urgency in the text, the customer's mood and tier, the
//! ticket's priority, time left on the SLA and time waited make a score from 0 to 100
//! that orders queues (`sort=score`) and explains itself in words. With a clock the test
//! moves.

use std::sync::Arc;

use rapport_domain::{Body, Channel, Clock, ManualClock, Principal, Timestamp};
use rapport_store::op;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, settle};
use crate::on_both;

on_both!(
    the_score_explains_itself_and_orders_the_queue,
    a_customer_writing_again_and_a_priority_change_move_the_score,
);

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(json!(rfc3339)).unwrap()
}

async fn create(app: &TestApp, subject: &str, body: &str, email: &str) -> i64 {
    let (s, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": subject, "body": body, "customer": {"email": email}}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t["id"].as_i64().unwrap()
}

async fn score(app: &TestApp, id: i64) -> Value {
    let (s, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(s, 200, "{t}");
    t["score"].clone()
}

async fn queue(app: &TestApp, limit: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/tickets?status=new,open&sort=score&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (s, page) = app.get(&path).await;
        assert_eq!(s, 200, "{page}");
        for t in page["items"].as_array().unwrap() {
            ids.push(t["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
}

async fn the_score_explains_itself_and_orders_the_queue(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-27T09:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let calm = create(
        &app,
        "Address change",
        "How do I change my address?",
        "calm@example.com",
    )
    .await;
    let down = create(
        &app,
        "Shop down",
        "Our shop is down!! Fix it, this is unacceptable and ridiculous",
        "down@example.com",
    )
    .await;
    // A VIP customer (their organisation's tier would do too) asking calmly.
    let vip = create(
        &app,
        "Invoice copy",
        "Could you send me a copy of my invoice?",
        "vip@example.com",
    )
    .await;
    app.db
        .write(op!(c => rapport_store::testing::execute_in(
            c,
            "UPDATE customers SET attributes = $1 WHERE email = $2",
            &["{\"tier\": \"VIP\"}".into(), "vip@example.com".into()],
        ).await))
        .await
        .unwrap();
    let vip2 = create(
        &app,
        "Another question",
        "And where do I see my orders?",
        "vip@example.com",
    )
    .await;
    settle(&app.db).await;

    let s = score(&app, down).await;
    assert_eq!(s["level"], "high", "{s}");
    let why = s["explanation"].as_str().unwrap();
    assert!(why.starts_with("high: "), "{why}");
    assert!(
        why.contains("says \"is down\"") && why.contains("customer upset"),
        "{why}"
    );
    let c = score(&app, calm).await;
    assert_eq!(
        (c["value"].as_i64(), c["level"].as_str()),
        (Some(0), Some("low")),
        "{c}"
    );
    assert_eq!(c["explanation"], "low: nothing pressing");
    assert_eq!(
        score(&app, vip).await["value"],
        0,
        "the tier is read when the ticket comes in"
    );
    let v = score(&app, vip2).await;
    assert!(
        v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "vip customer"),
        "{v}"
    );

    // Time: 23 h 20 min later the default policy's first response is 40 min away, and
    // every customer has waited 23 hours (capped).
    clock.advance_secs(23 * 3_600 + 20 * 60);
    let c = score(&app, calm).await;
    let why = c["explanation"].as_str().unwrap();
    assert!(
        why.contains("first-response SLA breaches in 40 min"),
        "{why}"
    );
    assert!(why.contains("waiting 23 h"), "{why}");
    assert_eq!(c["level"], "high", "{c}");
    // An hour later it is over.
    clock.advance_secs(3_600);
    let why = score(&app, calm).await["explanation"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        why.contains("first-response SLA breached 20 min ago"),
        "{why}"
    );

    // A calm ticket that just came in ranks below the calm one that has waited a day
    // and breached its SLA: the queue's order reads the clock part too.
    let fresh = create(
        &app,
        "Colour",
        "Which colours does it come in?",
        "fresh@example.com",
    )
    .await;
    settle(&app.db).await;
    // The queue: most pressing first, the same order page by page.
    let all = queue(&app, 50).await;
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], down);
    let pos = |id: i64| all.iter().position(|x| *x == id).unwrap();
    assert!(pos(calm) < pos(fresh), "{all:?}");
    assert_eq!(all[4], fresh);
    let mut values = Vec::new();
    for id in &all {
        values.push(score(&app, *id).await["value"].as_i64().unwrap());
    }
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    assert_eq!(queue(&app, 1).await, all, "page by page");
    let (s, e) = app.get("/api/v1/tickets?sort=loudest").await;
    crate::harness::assert_error(s, &e, 422, Some("sort"));
    // A forged cursor time is refused, not computed with.
    use base64::Engine;
    for forged in [
        "0:9:9223372036854775807",
        "0:9:-9223372036854775808",
        "0:9:1",
    ] {
        let c = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged);
        let (s, e) = app
            .get(&format!(
                "/api/v1/tickets?status=new,open&sort=score&cursor={c}"
            ))
            .await;
        crate::harness::assert_error(s, &e, 422, Some("cursor"));
    }
    app.stop().await;
}

async fn a_customer_writing_again_and_a_priority_change_move_the_score(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-27T09:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let id = create(
        &app,
        "Login",
        "I can't log in to my account",
        "login@example.com",
    )
    .await;
    let first = score(&app, id).await;
    assert!(
        first["explanation"]
            .as_str()
            .unwrap()
            .contains("says \"can't log in\""),
        "{first}"
    );
    assert_eq!(first["level"], "normal", "{first}");
    // They write again, angrier: the mood joins the words.
    let now = clock.now();
    app.db
        .write(op!(c => rapport_store::tickets::customer_reply(
            c,
            &Principal::System,
            id,
            &Body::parse("STILL NOTHING?! This is ridiculous, unacceptable!!").unwrap(),
            Channel::Email,
            Vec::new(),
            now,
        ).await))
        .await
        .unwrap();
    let again = score(&app, id).await;
    let why = again["explanation"].as_str().unwrap();
    assert!(
        why.contains("customer upset") && why.contains("can't log in"),
        "{why}"
    );
    assert!(again["value"].as_i64() > first["value"].as_i64());
    // An agent raises the priority: the score follows, and says so.
    let (s, t) = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            json!({"priority": "urgent"}),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    let urgent = score(&app, id).await;
    assert_eq!(
        urgent["value"].as_i64().unwrap(),
        (again["value"].as_i64().unwrap() + 30).min(100),
        "{urgent}"
    );
    assert!(
        urgent["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "priority urgent")
    );
    // The workspace shows it on the ticket and in the queue.
    crate::web::set_password(&app, "admin@example.com", "a long enough password").await;
    let http = crate::web::client();
    let (session, _) =
        crate::web::sign_in(&app, &http, "admin@example.com", "a long enough password").await;
    let get = |path: String| {
        let http = http.clone();
        let session = session.clone();
        async move {
            http.get(path)
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
    let page = get(app.url(&format!("/tickets/{id}"))).await;
    assert!(
        page.contains("Priority score:") && page.contains("customer upset"),
        "{page}"
    );
    let inbox = get(app.url("/inbox?sort=score")).await;
    assert!(inbox.contains("class=\"score score-urgent\""), "{inbox}");
    app.stop().await;
}
