//! GDPR (issue 14): exporting everything about a customer, and erasing them — their
//! personal data gone, their conversations anonymised, the reports' numbers kept, and
//! search finding nothing of them.

use rapport_store::op;
use serde_json::json;

use crate::harness::{Backend, TestApp, assert_error, count, settle};
use crate::on_both;

on_both!(export_then_erase_keeps_the_numbers_and_nothing_else);
on_both!(erasure_takes_the_customers_words_out_of_the_classifier);

async fn export_then_erase_keeps_the_numbers_and_nothing_else(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    use base64::Engine;
    let email = "gretchen.quill@example.com";
    let (s, t) = app
        .post("/api/v1/tickets", json!({"subject": "Xylophone delivery", "body": "My xylophone from Quillstrasse 7 never came.",
            "customer": {"email": email, "name": "Gretchen Quill"},
            "attachments": [{"filename": "receipt.txt", "content_type": "text/plain",
                "data_base64": base64::engine::general_purpose::STANDARD.encode("receipt of Gretchen")}]}))
        .await;
    assert_eq!(s, 201, "{t}");
    let tid = t["id"].as_i64().unwrap();
    let cid = t["customer"]["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/tickets/{tid}/messages"),
        json!({"body": "Sorry Gretchen, the xylophone is on its way."}),
    )
    .await;
    app.post(
        "/api/v1/orders",
        json!({"external_id": "G-1", "customer": {"email": email}, "currency": "EUR",
        "lines": [{"sku": "XYL", "name": "Xylophone", "quantity": 1, "unit_price": "89.00"}]}),
    )
    .await;
    app.post(
        &format!("/api/v1/customers/{cid}/points"),
        json!({"points": 15}),
    )
    .await;
    app.patch(
        &format!("/api/v1/customers/{cid}"),
        json!({"phone": "+49 89 1234567", "birthday": "1970-01-02"}),
    )
    .await;
    // An internal note about her stays the team's; a message of hers on Otto's ticket (a
    // merge across customers moved it there) is hers.
    app.post(
        &format!("/api/v1/tickets/{tid}/messages"),
        json!({"body": "Internal: Gretchen is a regular", "internal": true}),
    )
    .await;
    let otto = app
        .ticket(
            "Otto's shared order",
            "Otto asks about the order",
            "otto@example.com",
        )
        .await;
    let (_, second) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Gretchen again", "body": "Gretchen adds: ring twice",
            "customer": {"email": email}}),
        )
        .await;
    let (s, m) = app
        .post(
            &format!("/api/v1/tickets/{}/merge", second["id"]),
            json!({"into": otto["id"], "confirm_other_customer": true}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let (_, orders) = app.get(&format!("/api/v1/customers/{cid}/orders")).await;
    let (s, ret) = app
        .post(&format!("/api/v1/orders/{}/returns", orders[0]["id"]), json!({"lines": [{"sku": "XYL", "quantity": 1}], "reason": "Gretchen dislikes the sound"}))
        .await;
    assert_eq!(s, 201, "{ret}");
    app.post(
        &format!("/api/v1/returns/{}/moves", ret["id"]),
        json!({"action": "reject", "note": "Gretchen played it for a month"}),
    )
    .await;
    let today = rapport_domain::Clock::now(&rapport_domain::SystemClock)
        .to_datetime()
        .format("%Y-%m-%d")
        .to_string();
    let summary = format!("/api/v1/reports/summary?from={today}&to={today}");
    // The reports roll up from the event stream: let them catch up before comparing.
    crate::harness::settle(&app.db).await;
    let (_, before) = app.get(&summary).await;
    assert_eq!(before["volume"]["count"], 3, "{before}");

    // Export: one JSON document, a download, recorded.
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/customers/{cid}/export")))
        .bearer_auth(&app.admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"customer-{cid}.json\"")
    );
    let archive: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(archive["format"], "rapport.customer-export.v1");
    assert_eq!(archive["customer"]["email"], email);
    assert_eq!(archive["customer"]["phone"], "+49 89 1234567");
    assert_eq!(archive["tickets"][0]["subject"], "Xylophone delivery");
    let bodies: Vec<&str> = archive["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 3, "{archive}");
    assert!(
        bodies.iter().any(|b| b.contains("ring twice")),
        "her message on Otto's ticket"
    );
    assert!(
        !bodies
            .iter()
            .any(|b| b.contains("Internal:") || b.contains("Otto asks")),
        "{bodies:?}"
    );
    assert!(bodies[0].contains("Quillstrasse"));
    assert_eq!(archive["attachments"][0]["filename"], "receipt.txt");
    assert!(archive["attachments"][0].get("data").is_none());
    assert_eq!(archive["orders"][0]["external_id"], "G-1");
    assert_eq!(archive["order_lines"][0]["sku"], "XYL");
    assert_eq!(archive["points"][0]["delta"], 15);
    assert!(!archive.to_string().contains("token_hash"));
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM events WHERE kind = 'customer_exported'"
        )
        .await,
        1
    );
    let (s, e) = app
        .call(
            "GET",
            &format!("/api/v1/customers/{cid}/export"),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);

    // Erase.
    let (s, e) = app
        .call(
            "POST",
            &format!("/api/v1/customers/{cid}/erase"),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, done) = app
        .post(&format!("/api/v1/customers/{cid}/erase"), json!({}))
        .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(
        (
            done["tickets"].as_u64(),
            done["messages"].as_u64(),
            done["attachments"].as_u64()
        ),
        (Some(2), Some(4), Some(1))
    );
    // Otto's ticket keeps its subject and his words; hers are gone.
    let (_, ot) = app.get(&format!("/api/v1/tickets/{}", otto["id"])).await;
    assert_eq!(ot["subject"], "Otto's shared order");
    let (_, om) = app
        .get(&format!("/api/v1/tickets/{}/messages", otto["id"]))
        .await;
    let obodies: Vec<&str> = om
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(
        obodies.contains(&"Otto asks about the order") && obodies.contains(&"[erased]"),
        "{obodies:?}"
    );
    assert!(!obodies.iter().any(|b| b.contains("ring twice")));
    let (_, r) = app.get(&format!("/api/v1/returns/{}", ret["id"])).await;
    assert!(!r.to_string().contains("Gretchen"), "{r}");
    let (_, c) = app.get(&format!("/api/v1/customers/{cid}")).await;
    assert_eq!(c["email"], format!("erased-{cid}@erased.invalid"));
    assert_eq!(
        (
            c["name"].as_str(),
            c["phone"].is_null(),
            c["birthday"].is_null()
        ),
        (Some(""), true, true)
    );
    assert!(c["erased_at"].is_string());
    let (_, ticket) = app.get(&format!("/api/v1/tickets/{tid}")).await;
    assert_eq!(ticket["subject"], "[erased]");
    let (_, msgs) = app.get(&format!("/api/v1/tickets/{tid}/messages")).await;
    for m in msgs.as_array().unwrap() {
        assert_eq!(m["body"], "[erased]", "{m}");
        assert_eq!(m["attachments"], json!([]));
    }
    for q in ["xylophone", "gretchen", "quill", "quillstrasse"] {
        let (_, hits) = app.get(&format!("/api/v1/search?q={q}")).await;
        assert_eq!(hits["hits"], json!([]), "{q}: {hits}");
    }
    // The numbers stay: the ticket, its times, the order and the points.
    crate::harness::settle(&app.db).await;
    let (_, after) = app.get(&summary).await;
    assert_eq!(after["volume"], before["volume"], "{after}");
    let (_, orders) = app.get(&format!("/api/v1/customers/{cid}/orders")).await;
    assert_eq!(orders[0]["total"], "89.00");
    // Nothing personal is left in what an export would now show.
    let (_, again) = app.get(&format!("/api/v1/customers/{cid}/export")).await;
    let dump = again.to_string().to_lowercase();
    for word in [
        "gretchen",
        "quill",
        "xylophone delivery",
        "1234567",
        "receipt",
    ] {
        assert!(!dump.contains(word), "{word} survived: {dump}");
    }
    // Once only; an erased customer is not edited or merged; a new message from the old
    // address is a new customer.
    let (s, e) = app
        .post(&format!("/api/v1/customers/{cid}/erase"), json!({}))
        .await;
    assert_error(s, &e, 409, None);
    let (s, e) = app
        .patch(&format!("/api/v1/customers/{cid}"), json!({"name": "Back"}))
        .await;
    assert_error(s, &e, 409, None);
    let other = app.ticket("Hello", "Hi", "someone@example.com").await;
    let (s, e) = app
        .post(
            &format!("/api/v1/customers/{}/merge", other["customer"]["id"]),
            json!({"duplicate_id": cid}),
        )
        .await;
    assert_error(s, &e, 409, None);
    let fresh = app.ticket("New", "I am back", email).await;
    assert_ne!(fresh["customer"]["id"], cid);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM events WHERE kind = 'customer_erased'"
        )
        .await,
        1
    );
    app.stop().await;
}

/// The examples an erased customer's tickets gave the classifier: their counts and kept
/// words go with the erasure, and a later correction of such a ticket's category is
/// learned like any other (it once found nothing it could read and stopped the classifier).
async fn erasure_takes_the_customers_words_out_of_the_classifier(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let examples = |r: &serde_json::Value, cat: &str| {
        r["categories"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["category"] == cat))
            .and_then(|c| c["examples"].as_i64())
            .unwrap_or(0)
    };
    let (s, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Quorblex invoice twice", "body": "The zyxquorble charge came twice",
                   "customer": {"email": "erase-me@example.com"}, "category": "billing"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let (id, cid) = (
        t["id"].as_i64().unwrap(),
        t["customer"]["id"].as_i64().unwrap(),
    );
    let (s, other) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Invoice address", "body": "Please change the invoice address",
                   "customer": {"email": "stays@example.com"}, "category": "billing"}),
        )
        .await;
    assert_eq!(s, 201, "{other}");
    // Another customer's ticket whose first message is hers (her earlier ticket merged
    // into it), filed by an agent afterwards: its example keeps her words.
    let (_, hers) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Blorptastic refund", "body": "My blorptastic refund is missing",
                   "customer": {"email": "erase-me@example.com"}}),
        )
        .await;
    let host = app
        .ticket("Refund question", "Where is the refund", "host@example.com")
        .await;
    let (s, m) = app
        .post(
            &format!("/api/v1/tickets/{}/merge", hers["id"]),
            json!({"into": host["id"], "confirm_other_customer": true}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let (s, v) = app
        .patch(
            &format!("/api/v1/tickets/{}", host["id"]),
            json!({"category": "technical"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let her_words = || async {
        rapport_store::testing::scalar(
            &app.db,
            "SELECT COUNT(*) FROM classifier_examples
             WHERE text LIKE '%lorptastic%' OR features LIKE '%lorptastic%'",
        )
        .await
        .unwrap()
    };
    settle(&app.db).await;
    assert_eq!(
        her_words().await,
        1,
        "the merged ticket's example holds her words"
    );
    let (_, before) = app.get("/api/v1/classifier").await;
    assert_eq!(examples(&before, "billing"), 2, "{before}");

    let (s, done) = app
        .post(&format!("/api/v1/customers/{cid}/erase"), json!({}))
        .await;
    assert_eq!(s, 200, "{done}");
    settle(&app.db).await;
    let (_, after) = app.get("/api/v1/classifier").await;
    assert_eq!(examples(&after, "billing"), 1, "{after}");
    assert!(
        after["vocabulary"].as_i64() < before["vocabulary"].as_i64(),
        "the erased words left the vocabulary: {before} {after}"
    );
    let kept: i64 = app
        .db
        .read(op!(c => rapport_store::testing::one_in(
            c,
            "SELECT COUNT(*) FROM classifier_examples WHERE ticket_id = $1",
            &[id.into()]
        )
        .await?
        .int(0)))
        .await
        .unwrap();
    assert_eq!(kept, 0);
    assert_eq!(her_words().await, 0, "her words left every example");
    // The model is what a rebuild from the remaining examples gives.
    let (s, rebuilt) = app.post("/api/v1/classifier/retrain", json!({})).await;
    assert_eq!(s, 200, "{rebuilt}");
    assert_eq!(rebuilt["categories"], after["categories"]);
    assert_eq!(rebuilt["vocabulary"], after["vocabulary"]);

    // An agent files the erased ticket elsewhere: learned, and the classifier goes on.
    let (s, v) = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            json!({"category": "technical"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    settle(&app.db).await;
    let (_, moved) = app.get("/api/v1/classifier").await;
    assert_eq!(
        examples(&moved, "technical"),
        examples(&after, "technical") + 1,
        "{moved}"
    );
    assert_eq!(examples(&moved, "billing"), 1, "{moved}");
    app.stop().await;
}
