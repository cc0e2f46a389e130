//! The loyalty programme's rules (issue 14): orders earn points once paid and give them
//! back when cancelled (never below a zero balance), and unspent points expire — the
//! oldest credits spent first.

use rapport_domain::{Clock, SystemClock};
use rapport_store::op;
use serde_json::json;

use crate::harness::{Backend, TestApp, assert_error, settle};
use crate::on_both;

on_both!(orders_earn_points_and_unspent_points_expire);

async fn balance(app: &TestApp, cid: i64) -> i64 {
    let (_, p) = app.get(&format!("/api/v1/customers/{cid}/points")).await;
    p["balance"].as_i64().unwrap()
}

async fn expire_at(app: &TestApp, days: i64) -> usize {
    let at = SystemClock.now().plus_secs(days * 86_400);
    app.db
        .write(op!(c => rapport_store::loyalty::rules::expire_due(c, at, 100).await))
        .await
        .unwrap()
}

async fn orders_earn_points_and_unspent_points_expire(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, s0) = app.get("/api/v1/loyalty/settings").await;
    assert_eq!(s0, json!({"earn_per_unit": 0, "expiry_days": null}));
    for (body, field) in [
        (
            json!({"earn_per_unit": -1, "expiry_days": null}),
            "earn_per_unit",
        ),
        (json!({"earn_per_unit": 1, "expiry_days": 0}), "expiry_days"),
    ] {
        let (s, e) = app
            .call(
                "PUT",
                "/api/v1/loyalty/settings",
                Some(&app.admin.token),
                Some(body),
            )
            .await;
        assert_error(s, &e, 422, Some(field));
    }
    let rules = json!({"earn_per_unit": 1, "expiry_days": 30});
    let (s, e) = app
        .call(
            "PUT",
            "/api/v1/loyalty/settings",
            Some(&app.supervisor.token),
            Some(rules.clone()),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, got) = app
        .call(
            "PUT",
            "/api/v1/loyalty/settings",
            Some(&app.admin.token),
            Some(rules.clone()),
        )
        .await;
    assert_eq!((s, got), (200, rules));

    let order = |status: &str| {
        json!({"external_id": "L-1", "customer": {"email": "lou@example.com"}, "currency": "EUR",
        "lines": [{"sku": "LAMP", "name": "Lamp", "quantity": 1, "unit_price": "129.99"}], "status": status})
    };
    let (_, o) = app.post("/api/v1/orders", order("pending")).await;
    let cid = o["customer_id"].as_i64().unwrap();
    settle(&app.db).await;
    assert_eq!(
        balance(&app, cid).await,
        0,
        "a pending order earns nothing yet"
    );
    app.post("/api/v1/orders", order("paid")).await;
    settle(&app.db).await;
    assert_eq!(balance(&app, cid).await, 129);
    app.post("/api/v1/orders", order("delivered")).await;
    settle(&app.db).await;
    assert_eq!(balance(&app, cid).await, 129, "earned once");
    let (_, p) = app.get(&format!("/api/v1/customers/{cid}/points")).await;
    let earned = &p["entries"][0];
    assert_eq!(
        (earned["kind"].as_str(), earned["reason"].as_str()),
        (Some("earn"), Some("Order L-1")),
        "{p}"
    );
    assert!(earned["expires_at"].is_string(), "{p}");
    let (s, r) = app
        .post(
            &format!("/api/v1/customers/{cid}/points/redeem"),
            json!({"points": 100}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    // Cancelled: what is left of the order's points comes back, never below zero.
    app.post("/api/v1/orders", order("cancelled")).await;
    settle(&app.db).await;
    assert_eq!(balance(&app, cid).await, 0);
    app.post("/api/v1/orders", order("delivered")).await;
    settle(&app.db).await;
    assert_eq!(
        balance(&app, cid).await,
        29,
        "re-earned: 129 less the 100 still counted as taken back"
    );

    // Expiry: of 129 + 29 earned, 100 were spent and 29 taken back, so 29 expire after
    // 30 days; a later credit expires in its own time.
    assert_eq!(expire_at(&app, 29).await, 0);
    assert_eq!(balance(&app, cid).await, 29);
    assert_eq!(expire_at(&app, 31).await, 1);
    assert_eq!(balance(&app, cid).await, 0);
    assert_eq!(expire_at(&app, 32).await, 0, "swept once");
    let (s, _) = app
        .post(
            &format!("/api/v1/customers/{cid}/points"),
            json!({"points": 50}),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(expire_at(&app, 31).await, 1);
    assert_eq!(balance(&app, cid).await, 0);
    let (_, p) = app.get(&format!("/api/v1/customers/{cid}/points")).await;
    let kinds: Vec<&str> = p["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "expire", "goodwill", "expire", "earn", "unearn", "redeem", "earn"
        ],
        "{p}"
    );
    app.stop().await;
}
