//! Every 4xx answers with the JSON error contract and leaves nothing half-written.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{TestApp, assert_error};
use rapport_store::op;

async fn raw(app: &TestApp, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut req = app
        .http
        .post(app.url("/api/v1/tickets"))
        .bearer_auth(&app.admin.token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let r = req.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

/// Announces a 50 MB body and reads the answer without sending it, over a raw socket:
/// the server must refuse from the headers alone.
async fn too_large(app: &TestApp) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://");
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/tickets HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n",
        app.admin.token
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sock.read_to_end(&mut buf),
    )
    .await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn customer_count(app: &TestApp) -> i64 {
    app.db
        .read(op!(c => {
            rapport_store::testing::one_in(c, "SELECT COUNT(*) FROM customers", &[])
                .await?
                .int(0)
        }))
        .await
        .unwrap()
}

both_backends! {
    async fn every_error_has_the_contract_shape(app) {
        let ok = json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}});
        // Malformed JSON.
        let (s, e) = raw(&app, Some("application/json"), b"{\"subject\": ".to_vec()).await;
        assert_error(s, &e, 400, None);
        // Trailing garbage.
        let (s, e) = raw(&app, Some("application/json"), format!("{ok} x").into_bytes()).await;
        assert_error(s, &e, 400, None);
        // Wrong content type, and none.
        let (s, e) = raw(&app, Some("text/plain"), ok.to_string().into_bytes()).await;
        assert_error(s, &e, 415, None);
        let (s, e) = raw(&app, None, ok.to_string().into_bytes()).await;
        assert_error(s, &e, 415, None);
        // Too large: announced by Content-Length, refused before the body is read.
        let (s, e) = too_large(&app).await;
        assert_error(s, &e, 413, None);
        // Validation, each naming its field.
        let cases = [
            (json!({"body": "b", "customer": {"email": "e@example.com"}}), "subject"),
            (json!({"subject": " ", "body": "b", "customer": {"email": "e@example.com"}}), "subject"),
            (json!({"subject": "s", "body": "", "customer": {"email": "e@example.com"}}), "body"),
            (json!({"subject": "s", "body": "b"}), "customer"),
            (json!({"subject": "s", "body": "b", "customer": {}}), "customer.email"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "not-an-email"}}), "customer.email"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "priority": "asap"}), "priority"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "priority": 3}), "priority"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "channel": "fax"}), "channel"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "category": "nope"}), "category"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "tags": ["a/b"]}), "tags"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "team_id": 999}), "team_id"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "assignee_id": 999}), "assignee_id"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "custom_fields": {"x": [1]}}), "custom_fields.x"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "colour": "red"}), "colour"),
            // Nested and unknown fields, at every depth.
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com", "phone_number": "1"}}), "customer.phone_number"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "attachments": [{"filename": "a", "content_type": "text/plain"}]}), "attachments[0].data_base64"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "attachments": [{"filename": "a", "content_type": "text/plain", "data_base64": "", "size": 1}]}), "attachments[0].size"),
            (json!({"subject": "s", "body": "b", "customer": {"email": "e@example.com"}, "attachments": [{"filename": 7, "content_type": "text/plain", "data_base64": ""}]}), "attachments[0].filename"),
        ];
        for (body, field) in cases {
            let (s, e) = app.post("/api/v1/tickets", body.clone()).await;
            assert_error(s, &e, 422, Some(field));
        }
        // The first fault in the body, in the body's own order, is the one named.
        let body = br#"{"tags": 5, "subject": "s", "body": "b", "customer": {}}"#.to_vec();
        let (s, e) = raw(&app, Some("application/json"), body).await;
        assert_error(s, &e, 422, Some("tags"));
        let body = br#"{"customer": {}, "subject": "s", "body": "b", "tags": 5}"#.to_vec();
        let (s, e) = raw(&app, Some("application/json"), body).await;
        assert_error(s, &e, 422, Some("customer.email"));
        // Query parameters: unknown, or of the wrong type.
        let (s, e) = app.get("/api/v1/tickets?colour=red").await;
        assert_error(s, &e, 422, Some("colour"));
        let (s, e) = app.get("/api/v1/tickets?limit=many").await;
        assert_error(s, &e, 422, Some("limit"));
        // Unknown ids, routes and methods.
        let (s, e) = app.get("/api/v1/tickets/999999").await;
        assert_error(s, &e, 404, None);
        let (s, e) = app.get("/api/v1/customers/999999").await;
        assert_error(s, &e, 404, None);
        let (s, e) = app.get("/api/v1/nothing-here").await;
        assert_error(s, &e, 404, None);
        let (s, e) = app.call("DELETE", "/api/v1/tickets", Some(&app.admin.token), None).await;
        assert_error(s, &e, 405, None);
        let (s, e) = app.get("/api/v1/tickets/abc").await;
        assert_error(s, &e, 400, Some("id"));
        // Missing and bad tokens.
        let (s, e) = app.call("GET", "/api/v1/tickets", None, None).await;
        assert_error(s, &e, 401, None);
        let (s, e) = app.call("GET", "/api/v1/tickets", Some("rpt_wrong"), None).await;
        assert_error(s, &e, 401, None);
        let (s, e) = app.patch("/api/v1/tickets/1", json!({})).await;
        assert!(s == 422 || s == 404, "{s} {e}");
        app.stop().await;
    }

    async fn rejected_requests_leave_nothing_behind(app) {
        let before = customer_count(&app).await;
        // The customer would be created before the attachment is checked; the whole
        // operation must roll back.
        let (s, e) = app
            .post("/api/v1/tickets", json!({
                "subject": "s", "body": "b", "customer": {"email": "ghost@example.com"},
                "attachments": [{"filename": "a.bin", "content_type": "application/octet-stream", "data_base64": ""}]
            }))
            .await;
        assert_error(s, &e, 422, Some("attachments[0].data"));
        assert_eq!(customer_count(&app).await, before);
        let (_, found) = app.get("/api/v1/search?q=ghost").await;
        assert_eq!(found["hits"], json!([]));
        let (_, page) = app.get("/api/v1/tickets").await;
        assert_eq!(page["items"], json!([]));
        app.stop().await;
    }

    async fn guessing_tokens_is_rate_limited(app) {
        for _ in 0..20 {
            let (s, e) = app.call("GET", "/api/v1/me", Some("rpt_guess"), None).await;
            assert_error(s, &e, 401, None);
        }
        let (s, e) = app.call("GET", "/api/v1/me", Some("rpt_guess"), None).await;
        assert_error(s, &e, 429, None);
        let (s, e) = app.get("/api/v1/me").await;
        assert_error(s, &e, 429, None);
        // No token at all costs nothing and is simply refused.
        let (s, e) = app.call("GET", "/api/v1/me", None, None).await;
        assert_error(s, &e, 401, None);
        app.stop().await;
    }

    async fn free_form_input_never_breaks_the_server(app) {
        let handle = tokio::runtime::Handle::current();
        let app = std::sync::Arc::new(app);
        let inner = std::sync::Arc::clone(&app);
        tokio::task::spawn_blocking(move || {
            let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
                cases: 48,
                ..ProptestConfig::default()
            });
            let strategy = (
                "\\PC{0,80}",
                "\\PC{0,200}",
                "[a-zA-Z0-9@.<> _-]{0,30}",
                proptest::option::of("\\PC{0,10}"),
            );
            runner
                .run(&strategy, |(subject, body, email, priority)| {
                    let mut req = json!({"subject": subject, "body": body, "customer": {"email": email}});
                    if let Some(p) = priority {
                        req["priority"] = json!(p);
                    }
                    let (s, resp) = handle.block_on(inner.post("/api/v1/tickets", req));
                    prop_assert!(s == 201 || s == 422, "status {} for {}", s, resp);
                    if s == 422 {
                        prop_assert!(resp["error"]["field"].is_string(), "{}", resp);
                    } else {
                        prop_assert!(resp["id"].is_i64());
                    }
                    Ok(())
                })
                .unwrap();
        })
        .await
        .unwrap();
        let (s, _) = app.get("/healthz").await;
        assert_eq!(s, 200);
    }
}
