//! Billing (issue 14): invoices and payments the shop pushes once per id, a customer's
//! billing, and refunds agents record within their limit (or after a supervisor's
//! approval) for the shop to pay back once — announced to webhooks.

use serde_json::json;

use crate::harness::{Backend, TestApp, assert_error, count, settle};
use crate::on_both;

on_both!(
    invoices_payments_and_refunds_within_limits,
    parallel_refunds_never_pass_the_order_total
);

async fn invoices_payments_and_refunds_within_limits(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = "bill@example.com";
    let (s, o) = app
        .post("/api/v1/orders", json!({"external_id": "B-1", "customer": {"email": email}, "currency": "EUR",
            "lines": [{"sku": "DESK", "name": "Desk", "quantity": 1, "unit_price": "100.00"}], "status": "delivered"}))
        .await;
    assert_eq!(s, 201, "{o}");
    let (oid, cid) = (
        o["id"].as_i64().unwrap(),
        o["customer_id"].as_i64().unwrap(),
    );
    let invoice = json!({"external_id": "INV-1", "customer": {"email": email}, "number": "2026-0001",
        "currency": "EUR", "amount": "100.00", "order_external_id": "B-1"});
    let (s, i) = app.post("/api/v1/invoices", invoice.clone()).await;
    assert_eq!(s, 201, "{i}");
    assert_eq!(
        (
            i["amount"].as_str(),
            i["status"].as_str(),
            i["order_id"].as_i64()
        ),
        (Some("100.00"), Some("open"), Some(oid))
    );
    let mut paid = invoice.clone();
    paid["status"] = json!("paid");
    let (s, i2) = app.post("/api/v1/invoices", paid).await;
    assert_eq!(
        (s, i2["id"].clone(), i2["status"].as_str()),
        (200, i["id"].clone(), Some("paid"))
    );
    let (s, p) = app
        .post("/api/v1/payments", json!({"external_id": "PAY-1", "customer": {"email": email}, "method": "card",
            "currency": "EUR", "amount": 100, "invoice_external_id": "INV-1", "order_external_id": "B-1"}))
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(
        (p["label"].as_str(), p["invoice_id"].clone()),
        (Some("card"), i["id"].clone())
    );
    for (body, field) in [
        (
            json!({"external_id": "INV-2", "customer": {"email": email}, "currency": "EUR", "amount": "0"}),
            "amount",
        ),
        (
            json!({"external_id": "INV-2", "customer": {"email": email}, "currency": "XYZ", "amount": "1"}),
            "currency",
        ),
        (
            json!({"external_id": "INV-2", "customer": {"email": email}, "currency": "EUR", "amount": "1", "order_external_id": "NOPE"}),
            "order_external_id",
        ),
        (
            json!({"external_id": "INV-2", "customer": {"email": "x@example.com"}, "currency": "EUR", "amount": "1", "order_external_id": "B-1"}),
            "order_external_id",
        ),
        (
            json!({"external_id": "INV-2", "customer": {"email": email}, "currency": "EUR", "amount": "1", "status": "lost"}),
            "status",
        ),
    ] {
        let (s, e) = app.post("/api/v1/invoices", body).await;
        assert_error(s, &e, 422, Some(field));
    }
    let (s, e) = app
        .post(
            "/api/v1/payments",
            json!({"external_id": "PAY-2", "customer": {"email": "y@example.com"},
            "currency": "EUR", "amount": "5", "invoice_external_id": "INV-1"}),
        )
        .await;
    assert_error(s, &e, 422, Some("invoice_external_id"));
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM invoices").await, 1);

    // A shop receiver hears of refunds and vouchers.
    let (s, w) = app
        .post("/api/v1/webhooks", json!({"url": "https://shop.example.com/hooks", "events": ["refund.created", "refund.done", "voucher.issued"]}))
        .await;
    assert_eq!(s, 201, "{w}");

    let t = app
        .ticket("Scratched desk", "The desk arrived scratched", email)
        .await;
    let tid = t["id"].as_i64().unwrap();
    let agent = Some(app.agent.token.as_str());
    let refund = |amount: &str| json!({"order_id": oid, "amount": amount, "reason": "Scratched", "ticket_id": tid});
    // No refund limit set: an agent's refund waits for a supervisor.
    let (s, a) = app
        .call("POST", "/api/v1/refunds", agent, Some(refund("30.00")))
        .await;
    assert_eq!(s, 202, "{a}");
    assert_eq!(a["kind"], "refund");
    let (s, ok) = app
        .call(
            "POST",
            &format!("/api/v1/approvals/{}/approve", a["id"]),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{ok}");
    let rid = ok["result"]["refund_id"].as_i64().unwrap();
    // Within a limit of 50 EUR a month it is recorded at once; past it, it waits.
    let (s, _) = app
        .call(
            "PUT",
            "/api/v1/goodwill/limits",
            Some(&app.admin.token),
            Some(json!({"limits": [
            {"role": "agent", "kind": "refund", "currency": "EUR", "max_per_month": "50.00"}]})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, r) = app
        .call("POST", "/api/v1/refunds", agent, Some(refund("15.00")))
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        (
            r["amount"].as_str(),
            r["state"].as_str(),
            r["currency"].as_str()
        ),
        (Some("15.00"), Some("open"), Some("EUR"))
    );
    let (s, a2) = app
        .call("POST", "/api/v1/refunds", agent, Some(refund("10.00")))
        .await;
    assert_eq!(s, 202, "30 approved + 15 + 10 is past 50: {a2}");
    // Never more than is left of the order (100 − 30 − 15 = 55).
    let (s, e) = app.post("/api/v1/refunds", refund("55.01")).await;
    assert_error(s, &e, 422, Some("amount"));
    let (s, e) = app.post("/api/v1/refunds", refund("-1")).await;
    assert_error(s, &e, 422, Some("amount"));
    let other = app.ticket("Other", "Hi", "other@example.com").await;
    let (s, e) = app
        .post(
            "/api/v1/refunds",
            json!({"order_id": oid, "amount": "1.00", "ticket_id": other["id"]}),
        )
        .await;
    assert_error(s, &e, 422, Some("ticket_id"));
    let (s, e) = app
        .post(
            "/api/v1/refunds",
            json!({"order_id": 999999, "amount": "1.00"}),
        )
        .await;
    assert_error(s, &e, 404, None);

    // A return refunded on the same order counts too: never more than the total in all.
    let (s, ret) = app
        .post(
            &format!("/api/v1/orders/{oid}/returns"),
            json!({"lines": [{"sku": "DESK", "quantity": 1}], "reason": "Scratched"}),
        )
        .await;
    assert_eq!(s, 201, "{ret}");
    let moves = format!("/api/v1/returns/{}/moves", ret["id"]);
    for action in ["approve", "receive"] {
        let (s, r) = app.post(&moves, json!({"action": action})).await;
        assert_eq!(s, 200, "{r}");
    }
    let (s, e) = app
        .post(
            &moves,
            json!({"action": "refund", "refund_amount": "55.01"}),
        )
        .await;
    assert_error(s, &e, 422, Some("refund_amount"));
    let (s, r) = app
        .post(
            &moves,
            json!({"action": "refund", "refund_amount": "50.00"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let (s, e) = app.post("/api/v1/refunds", refund("5.01")).await;
    assert_error(s, &e, 422, Some("amount"));
    let (s, r) = app.post("/api/v1/refunds", refund("5.00")).await;
    assert_eq!(s, 201, "{r}");
    // The shop's queue, and done once.
    let (_, open) = app.get("/api/v1/refunds?state=open").await;
    assert_eq!(open.as_array().unwrap().len(), 3, "{open}");
    let (s, e) = app.call("GET", "/api/v1/refunds", agent, None).await;
    assert_error(s, &e, 403, None);
    let done = format!("/api/v1/refunds/{rid}/done");
    let (s, d) = app.post(&done, json!({"reference": "re_123"})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (d["state"].as_str(), d["reference"].as_str()),
        (Some("done"), Some("re_123"))
    );
    let (s, e) = app.post(&done, json!({})).await;
    assert_error(s, &e, 409, None);
    let (_, billing) = app.get(&format!("/api/v1/customers/{cid}/billing")).await;
    assert_eq!(billing["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(billing["payments"].as_array().unwrap().len(), 1);
    assert_eq!(billing["refunds"].as_array().unwrap().len(), 3, "{billing}");
    // The ticket's history tells it; the receiver's deliveries are queued.
    let (_, evs) = app.get(&format!("/api/v1/tickets/{tid}/events")).await;
    let kinds: Vec<&str> = evs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "refund_issued").count(),
        3,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"refund_done"));
    settle(&app.db).await;
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.deliver' AND payload LIKE '%refund.created%'").await,
        3
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.deliver' AND payload LIKE '%refund.done%'").await,
        1
    );
    app.stop().await;
}

async fn parallel_refunds_never_pass_the_order_total(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, o) = app
        .post("/api/v1/orders", json!({"external_id": "PAR-1", "customer": {"email": "par@example.com"}, "currency": "EUR",
            "lines": [{"sku": "S", "name": "Thing", "quantity": 1, "unit_price": "100.00"}], "status": "delivered"}))
        .await;
    let oid = o["id"].as_i64().unwrap();
    let calls = (0..10).map(|_| {
        app.post(
            "/api/v1/refunds",
            json!({"order_id": oid, "amount": "20.00"}),
        )
    });
    let results = futures::future::join_all(calls).await;
    let ok = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(ok, 5, "{results:?}");
    assert!(
        results.iter().all(|(s, _)| *s == 201 || *s == 422),
        "{results:?}"
    );
    assert_eq!(
        count(&app.db, "SELECT CAST(SUM(amount) AS BIGINT) FROM refunds").await,
        10_000
    );
    app.stop().await;
}
