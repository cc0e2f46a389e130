//! The customer timeline (issue 14): every interaction on every channel, newest first, a
//! page at a time; tickets of teams the agent may not see stay hidden.

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error};
use crate::on_both;

on_both!(the_timeline_pages_through_every_interaction);

async fn all_pages(app: &TestApp, token: &str, cid: i64, limit: i64) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/customers/{cid}/timeline?limit={limit}&cursor={c}"),
            None => format!("/api/v1/customers/{cid}/timeline?limit={limit}"),
        };
        let (s, page) = app.call("GET", &path, Some(token), None).await;
        assert_eq!(s, 200, "{page}");
        let got = page["items"].as_array().unwrap();
        assert!(got.len() as i64 <= limit);
        items.extend(got.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
    panic!("the timeline never ended");
}

async fn the_timeline_pages_through_every_interaction(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = "tina@example.com";
    let (_, a) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Broken zip", "body": "The zip broke.", "team_id": app.team_a,
                                         "channel": "email", "customer": {"email": email}}),
        )
        .await;
    let tid = a["id"].as_i64().unwrap();
    let cid = a["customer"]["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/tickets/{tid}/messages"),
        json!({"body": "Sorry! A new one is on its way."}),
    )
    .await;
    app.post(
        &format!("/api/v1/tickets/{tid}/messages"),
        json!({"body": "secret note", "internal": true}),
    )
    .await;
    let (_, b) = app
        .post("/api/v1/tickets", json!({"subject": "Invoice copy", "body": "Please send the invoice.", "team_id": app.team_b,
                                         "customer": {"email": email}}))
        .await;
    let hidden = b["id"].as_i64().unwrap();
    let (s, _) = app
        .post("/api/v1/orders", json!({"external_id": "T-1", "customer": {"email": email}, "currency": "EUR",
                                        "lines": [{"sku": "JKT", "name": "Jacket", "quantity": 1, "unit_price": "120.00"}],
                                        "status": "delivered"}))
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .post(
            &format!("/api/v1/customers/{cid}/points"),
            json!({"points": 50, "reason": "For the zip"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, v) = app
        .post(
            "/api/v1/vouchers",
            json!({"customer_id": cid, "percent": 10, "ticket_id": tid}),
        )
        .await;
    assert_eq!(s, 201, "{v}");

    // Points given on team B's ticket are team B's business.
    let (s, _) = app
        .post(
            &format!("/api/v1/customers/{cid}/points"),
            json!({"points": 5, "reason": "Invoice trouble", "ticket_id": hidden}),
        )
        .await;
    assert_eq!(s, 201);
    // The supervisor sees everything; one item per page or ten, the same timeline.
    let sup = app.supervisor.token.clone();
    let whole = all_pages(&app, &sup, cid, 200).await;
    let kinds: Vec<&str> = whole.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    for k in ["ticket", "message", "order", "points", "voucher"] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    // Two tickets, their public messages (two on the first, one on the second), no note.
    assert_eq!(kinds.iter().filter(|k| **k == "ticket").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "message").count(), 3);
    assert!(
        !whole
            .iter()
            .any(|i| i["excerpt"].as_str().is_some_and(|e| e.contains("secret")))
    );
    let order = whole.iter().find(|i| i["kind"] == "order").unwrap();
    assert_eq!(
        (order["title"].as_str(), order["number"].as_i64()),
        (Some("T-1"), Some(12_000))
    );
    let at = |i: &Value| i["at"].as_str().unwrap().to_owned();
    assert!(
        whole.windows(2).all(|w| at(&w[0]) >= at(&w[1])),
        "not newest first"
    );
    for limit in [1, 3] {
        assert_eq!(
            all_pages(&app, &sup, cid, limit).await,
            whole,
            "limit {limit}"
        );
    }
    // The agent of team A does not see team B's ticket or its message.
    let mine = all_pages(&app, &app.agent.token.clone(), cid, 2).await;
    assert_eq!(mine.len(), whole.len() - 3);
    assert!(!mine.iter().any(|i| i["title"] == "Invoice trouble"));
    // A voucher's code is worth money: the timeline shows only its last group.
    let voucher = whole.iter().find(|i| i["kind"] == "voucher").unwrap();
    let code = v["code"].as_str().unwrap();
    assert_eq!(
        voucher["title"].as_str().unwrap(),
        format!("RAP-••••-••••-{}", &code[14..])
    );
    assert!(voucher["detail"].as_str().unwrap().starts_with("percent"));
    assert!(!mine.iter().any(|i| i["ticket_id"] == hidden));

    let path = format!("/api/v1/customers/{cid}/timeline");
    let (s, e) = app.get(&format!("{path}?cursor=12.x")).await;
    assert_error(s, &e, 422, Some("cursor"));
    let (s, e) = app.get(&format!("{path}?cursor=1.9.1")).await;
    assert_error(s, &e, 422, Some("cursor"));
    let (s, e) = app.get(&format!("{path}?limit=0")).await;
    assert_error(s, &e, 422, Some("limit"));
    let (s, e) = app.get("/api/v1/customers/999999/timeline").await;
    assert_error(s, &e, 404, None);
    let (s, e) = app.call("GET", &path, None, None).await;
    assert_error(s, &e, 401, None);
}
