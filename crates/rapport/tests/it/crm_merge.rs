//! Merging duplicate customers (issue 14): the same person under two addresses becomes
//! one customer with everything re-pointed and both addresses kept.

use serde_json::json;

use crate::harness::{Backend, TestApp, assert_error, count};
use crate::on_both;

on_both!(a_duplicate_merges_with_everything_it_had);

async fn a_duplicate_merges_with_everything_it_had(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let home = "anna@example.com";
    let work = "anna.w@work.example";
    let a = app.ticket("Home order", "Where is my parcel?", home).await;
    let keep = a["customer"]["id"].as_i64().unwrap();
    let (_, b) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Work order", "body": "Invoice please",
            "customer": {"email": work, "name": "Anna Weber"}}),
        )
        .await;
    let dup = b["customer"]["id"].as_i64().unwrap();
    let bid = b["id"].as_i64().unwrap();
    for (email, id) in [(home, "M-1"), (work, "M-2")] {
        let (s, _) = app
            .post(
                "/api/v1/orders",
                json!({"external_id": id, "customer": {"email": email}, "currency": "EUR",
                "lines": [{"sku": "S", "name": "Thing", "quantity": 1, "unit_price": "10.00"}]}),
            )
            .await;
        assert_eq!(s, 201);
    }
    for (cid, points) in [(keep, 50), (dup, 30)] {
        let (s, p) = app
            .post(
                &format!("/api/v1/customers/{cid}/points"),
                json!({"points": points}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
    }
    let (s, v) = app
        .post(
            "/api/v1/vouchers",
            json!({"customer_id": dup, "percent": 10}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    app.patch(
        &format!("/api/v1/customers/{dup}"),
        json!({"phone": "+49 30 5550101", "birthday": "--03-14"}),
    )
    .await;
    let (s, _) = app
        .call(
            "PUT",
            &format!("/api/v1/customers/{dup}/surveys"),
            Some(&app.admin.token),
            Some(json!({"opt_out": true})),
        )
        .await;
    assert_eq!(s, 200);

    // A gift asked for the duplicate, still waiting when the merge happens.
    let (s, pending) = app
        .call(
            "POST",
            "/api/v1/vouchers",
            Some(&app.agent.token),
            Some(json!({"customer_id": dup, "percent": 5, "ticket_id": bid})),
        )
        .await;
    assert_eq!(s, 202, "{pending}");
    let path = format!("/api/v1/customers/{keep}/merge");
    let (s, e) = app.post(&path, json!({"duplicate_id": keep})).await;
    assert_error(s, &e, 422, Some("duplicate_id"));
    let (s, e) = app.post(&path, json!({"duplicate_id": 999999})).await;
    assert_error(s, &e, 404, None);
    let (s, e) = app
        .call(
            "POST",
            &path,
            Some(&app.agent.token),
            Some(json!({"duplicate_id": dup})),
        )
        .await;
    assert_error(s, &e, 403, None);

    let (s, m) = app.post(&path, json!({"duplicate_id": dup})).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (
            m["tickets"].as_u64(),
            m["orders"].as_u64(),
            m["points"].as_i64()
        ),
        (Some(1), Some(1), Some(30))
    );
    let c = &m["customer"];
    assert_eq!(c["email"], home);
    assert_eq!(c["other_emails"], json!([work]));
    // Blanks filled from the duplicate (the name "Casey" was already there).
    assert_eq!(c["name"], "Casey");
    assert_eq!(
        (c["phone"].as_str(), c["birthday"].as_str()),
        (Some("+49 30 5550101"), Some("--03-14"))
    );

    let (s, e) = app.get(&format!("/api/v1/customers/{dup}")).await;
    assert_error(s, &e, 404, None);
    let (_, whole) = app.get(&format!("/api/v1/customers/{keep}")).await;
    let tickets: Vec<i64> = whole["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert!(tickets.contains(&bid) && tickets.len() == 2, "{whole}");
    let (_, orders) = app.get(&format!("/api/v1/customers/{keep}/orders")).await;
    assert_eq!(orders.as_array().unwrap().len(), 2);
    let (_, points) = app.get(&format!("/api/v1/customers/{keep}/points")).await;
    assert_eq!(points["balance"], 80, "{points}");
    // The waiting gift is now the keeper's and can be approved.
    let (s, ok) = app
        .call(
            "POST",
            &format!("/api/v1/approvals/{}/approve", pending["id"]),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{ok}");
    let (_, vouchers) = app.get(&format!("/api/v1/customers/{keep}/vouchers")).await;
    assert_eq!(vouchers.as_array().unwrap().len(), 2, "{vouchers}");
    // An opt-out of either holds for both.
    let (_, opt) = app.get(&format!("/api/v1/customers/{keep}/surveys")).await;
    assert_eq!(opt["opt_out"], true);
    // Both addresses find them: mail from the old one, an order pushed to it.
    let again = app.ticket("From work again", "Hello", work).await;
    assert_eq!(again["customer"]["id"], keep, "{again}");
    let (s, o) = app
        .post("/api/v1/orders", json!({"external_id": "M-3", "customer": {"email": "ANNA.W@work.example"},
            "currency": "EUR", "lines": [{"sku": "S", "name": "Thing", "quantity": 1, "unit_price": "1.00"}]}))
        .await;
    assert_eq!(s, 201, "{o}");
    assert_eq!(o["customer_id"], keep);
    // Nothing points at the duplicate any more; the merge is on record.
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM customers WHERE email = 'anna.w@work.example'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM events WHERE kind = 'customers_merged'"
        )
        .await,
        1
    );
    let (_, hits) = app.get("/api/v1/search?q=weber").await;
    assert!(
        !hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["customer_id"] == dup),
        "{hits}"
    );
    app.stop().await;
}
