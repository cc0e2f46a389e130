//! The ticket API contract: create, read, list with filters and cursors, change,
//! reply, note, merge, customer history, events.

use serde_json::json;

use crate::both_backends;
use crate::harness::assert_error;

both_backends! {
    async fn create_and_read_back(app) {
        let (s, t) = app
            .post(
                "/api/v1/tickets",
                json!({
                    "subject": "Charged twice for order NW-1",
                    "body": "I see two charges of $49.99 on my card.",
                    "customer": {"email": "Ana@Example.com", "name": "Ana García"},
                    "channel": "email",
                    "priority": "high",
                    "category": "billing",
                    "tags": ["Refund Request", "vip"],
                    "custom_fields": {"order_id": "NW-1", "amount": 49.99}
                }),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        assert!(t["id"].as_i64().unwrap() > 0);
        assert!(t["number"].as_i64().unwrap() > 1000);
        assert_eq!(t["status"], "new");
        assert_eq!(t["priority"], "high");
        assert_eq!(t["category"], "billing");
        assert_eq!(t["channel"], "email");
        assert_eq!(t["tags"], json!(["refund-request", "vip"]));
        assert_eq!(t["customer"]["email"], "ana@example.com");
        assert_eq!(t["message_count"], 1);

        let id = t["id"].as_i64().unwrap();
        let (s, got) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(s, 200);
        assert_eq!(got, t, "GET returns what POST returned");

        let (s, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        assert_eq!(s, 200);
        assert_eq!(msgs.as_array().unwrap().len(), 1);
        assert_eq!(msgs[0]["author"]["kind"], "customer");
        assert_eq!(msgs[0]["internal"], false);

        // The same customer writing again is the same customer.
        let t2 = app.ticket("Another question", "Hello again", "ana@example.com").await;
        assert_eq!(t2["customer"]["id"], t["customer"]["id"]);
        let cid = t["customer"]["id"].as_i64().unwrap();
        let (s, cust) = app.get(&format!("/api/v1/customers/{cid}")).await;
        assert_eq!(s, 200);
        assert_eq!(cust["name"], "Ana García");
        let numbers: Vec<i64> = cust["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_i64().unwrap())
            .collect();
        assert_eq!(numbers, vec![t2["number"].as_i64().unwrap(), t["number"].as_i64().unwrap()]);
        app.stop().await;
    }

    async fn reply_note_and_status_flow(app) {
        let t = app.ticket("Sync stopped", "My data does not sync.", "sync@example.com").await;
        let id = t["id"].as_i64().unwrap();
        let (s, note) = app
            .post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Checking logs", "internal": true}))
            .await;
        assert_eq!(s, 201, "{note}");
        assert_eq!(note["internal"], true);
        assert_eq!(note["author"]["kind"], "agent");
        let (_, t1) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(t1["status"], "new", "a note changes no status");
        assert!(t1["first_response_at"].is_null(), "a note is not a response");

        let (s, _) = app
            .post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Please try again now."}))
            .await;
        assert_eq!(s, 201);
        let (_, t2) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(t2["status"], "pending");
        assert!(t2["first_response_at"].is_string());
        assert_eq!(t2["message_count"], 3);

        let (s, _) = app
            .post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Fixed.", "status": "solved"}))
            .await;
        assert_eq!(s, 201);
        let (_, t3) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(t3["status"], "solved");
        assert!(t3["solved_at"].is_string());

        let (s, t4) = app.patch(&format!("/api/v1/tickets/{id}"), json!({"status": "closed"})).await;
        assert_eq!(s, 200, "{t4}");
        let (s, e) = app.patch(&format!("/api/v1/tickets/{id}"), json!({"status": "open"})).await;
        assert_error(s, &e, 422, Some("status"));
        let (s, e) = app
            .post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "late"}))
            .await;
        assert_error(s, &e, 409, None);

        let (_, events) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
        let kinds: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["ticket_created", "note_added", "reply_added", "reply_added", "fields_changed"]);
        assert_eq!(events[4]["data"]["status"], json!({"from": "solved", "to": "closed"}));
        assert_eq!(events[4]["actor_user_id"], app.admin.id);
        app.stop().await;
    }

    async fn patch_fields_and_clear_them(app) {
        let t = app.ticket("Wrong size", "I got a large.", "size@example.com").await;
        let id = t["id"].as_i64().unwrap();
        let (s, p) = app
            .patch(
                &format!("/api/v1/tickets/{id}"),
                json!({
                    "priority": "urgent", "category": "order-management", "team_id": app.team_a,
                    "assignee_id": app.agent.id, "tags": ["exchange"], "subject": "Wrong size delivered",
                    "custom_fields": {"size": "L"}
                }),
            )
            .await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["priority"], "urgent");
        assert_eq!(p["status"], "open", "working on a new ticket opens it");
        assert_eq!(p["assignee_id"], app.agent.id);
        assert_eq!(p["tags"], json!(["exchange"]));
        assert_eq!(p["custom_fields"], json!({"size": "L"}));
        let (s, p) = app
            .patch(&format!("/api/v1/tickets/{id}"), json!({"assignee_id": null, "category": null, "custom_fields": {"size": null}}))
            .await;
        assert_eq!(s, 200, "{p}");
        assert!(p["assignee_id"].is_null());
        assert!(p["category"].is_null());
        assert_eq!(p["custom_fields"], json!({}));
        assert_eq!(p["team_id"], app.team_a, "absent fields stay");
        let (_, again) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(again, p);
        app.stop().await;
    }

    async fn list_filters_sorts_and_pages(app) {
        let mut ids = Vec::new();
        for i in 0..25 {
            let prio = if i % 5 == 0 { "urgent" } else { "normal" };
            let (s, t) = app
                .post("/api/v1/tickets", json!({
                    "subject": format!("Question {i}"), "body": "Hi", "priority": prio,
                    "customer": {"email": format!("c{}@example.com", i % 3)},
                    "channel": if i % 2 == 0 { "chat" } else { "email" },
                    "tags": if i % 4 == 0 { json!(["vip"]) } else { json!([]) }
                }))
                .await;
            assert_eq!(s, 201);
            ids.push(t["id"].as_i64().unwrap());
        }
        // Pages of 10 newest first, no duplicates, nothing missed.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/tickets?limit=10&sort=created_at&cursor={c}"),
                None => "/api/v1/tickets?limit=10&sort=created_at".into(),
            };
            let (s, page) = app.get(&path).await;
            assert_eq!(s, 200, "{page}");
            pages += 1;
            seen.extend(page["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        let mut expected = ids.clone();
        expected.reverse();
        assert_eq!(seen, expected);

        // Several statuses page correctly too (one index range per status, merged).
        for (n, id) in ids.iter().enumerate() {
            let status = ["open", "pending", "on-hold", "solved", "new"][n % 5];
            if status != "new" {
                let (s, t) = app.patch(&format!("/api/v1/tickets/{id}"), json!({"status": status})).await;
                assert_eq!(s, 200, "{t}");
            }
        }
        let mut unsolved = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/tickets?status=unsolved&sort=created_at&limit=3&cursor={c}"),
                None => "/api/v1/tickets?status=unsolved&sort=created_at&limit=3".into(),
            };
            let (s, page) = app.get(&path).await;
            assert_eq!(s, 200, "{page}");
            unsolved.extend(page["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let want: Vec<i64> = ids.iter().enumerate().rev().filter(|(n, _)| n % 5 != 3).map(|(_, id)| *id).collect();
        assert_eq!(unsolved, want);
        let (_, two) = app.get("/api/v1/tickets?status=open,pending&limit=200").await;
        assert_eq!(two["items"].as_array().unwrap().len(), 10);

        let (_, urgent) = app.get("/api/v1/tickets?priority=urgent").await;
        assert_eq!(urgent["items"].as_array().unwrap().len(), 5);
        let (_, chat_vip) = app.get("/api/v1/tickets?channel=chat&tag=vip").await;
        assert!(chat_vip["items"].as_array().unwrap().iter().all(|t| t["channel"] == "chat" && t["tags"] == json!(["vip"])));
        assert_eq!(chat_vip["items"].as_array().unwrap().len(), 7);
        let (_, by_prio) = app.get("/api/v1/tickets?sort=priority&limit=5").await;
        assert!(by_prio["items"].as_array().unwrap().iter().all(|t| t["priority"] == "urgent"));
        let (_, asc) = app.get("/api/v1/tickets?sort=number&order=asc&limit=1").await;
        assert_eq!(asc["items"][0]["id"], ids[0]);
        let (_, unassigned) = app.get("/api/v1/tickets?assignee_id=none&status=unsolved&limit=200").await;
        assert_eq!(unassigned["items"].as_array().unwrap().len(), 20);
        let (s, e) = app.get("/api/v1/tickets?status=done").await;
        assert_error(s, &e, 422, Some("status"));
        let (s, e) = app.get("/api/v1/tickets?cursor=garbage!").await;
        assert_error(s, &e, 422, Some("cursor"));
        let (s, e) = app.get("/api/v1/tickets?colour=red").await;
        assert_error(s, &e, 422, Some("colour"));
        app.stop().await;
    }

    async fn merge_moves_the_thread(app) {
        let a = app.ticket("Order late", "Where is it?", "merge@example.com").await;
        let b = app.ticket("Order late again", "Still nothing", "merge@example.com").await;
        let (a_id, b_id) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());
        app.patch(&format!("/api/v1/tickets/{b_id}"), json!({"tags": ["shipping"]})).await;
        let (s, merged) = app.post(&format!("/api/v1/tickets/{b_id}/merge"), json!({"into": a_id})).await;
        assert_eq!(s, 200, "{merged}");
        assert_eq!(merged["id"], a_id);
        assert_eq!(merged["message_count"], 2);
        assert_eq!(merged["tags"], json!(["shipping"]));
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{a_id}/messages")).await;
        assert_eq!(msgs.as_array().unwrap().len(), 2);
        let (_, src) = app.get(&format!("/api/v1/tickets/{b_id}")).await;
        assert_eq!(src["status"], "closed");
        assert_eq!(src["merged_into_id"], a_id);
        let (s, e) = app.post(&format!("/api/v1/tickets/{b_id}/merge"), json!({"into": a_id})).await;
        assert_error(s, &e, 409, None);
        let (s, e) = app.post(&format!("/api/v1/tickets/{a_id}/merge"), json!({"into": a_id})).await;
        assert_error(s, &e, 422, Some("into"));
        // The moved message is found under its new ticket.
        let (_, found) = app.get("/api/v1/search?q=nothing").await;
        assert!(found["hits"].as_array().unwrap().iter().any(|h| h["ticket_id"] == a_id));
        app.stop().await;
    }

    async fn attachments_round_trip(app) {
        use base64::Engine;
        let data = b"%PDF-1.4 receipt".to_vec();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
        let (s, t) = app
            .post("/api/v1/tickets", json!({
                "subject": "Receipt", "body": "See attached", "customer": {"email": "att@example.com"},
                "attachments": [{"filename": "receipt.pdf", "content_type": "application/pdf", "data_base64": b64}]
            }))
            .await;
        assert_eq!(s, 201, "{t}");
        let id = t["id"].as_i64().unwrap();
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        let att = &msgs[0]["attachments"][0];
        assert_eq!(att["filename"], "receipt.pdf");
        assert_eq!(att["size"], data.len());
        let resp = app
            .http
            .get(app.url(&format!("/api/v1/attachments/{}", att["id"])))
            .bearer_auth(&app.admin.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        assert_eq!(resp.bytes().await.unwrap().to_vec(), data);
        let (s, e) = app
            .post("/api/v1/tickets", json!({
                "subject": "x", "body": "y", "customer": {"email": "att@example.com"},
                "attachments": [{"filename": "../etc/passwd", "content_type": "text/plain", "data_base64": "aGk="}]
            }))
            .await;
        assert_error(s, &e, 422, Some("attachments[0].filename"));
        let (s, e) = app
            .post("/api/v1/tickets", json!({
                "subject": "x", "body": "y", "customer": {"email": "att@example.com"},
                "attachments": [{"filename": "a.txt", "content_type": "text/plain", "data_base64": "%%%"}]
            }))
            .await;
        assert_error(s, &e, 422, Some("attachments[0].data_base64"));
        app.stop().await;
    }

    async fn thirty_two_concurrent_clients_all_succeed(app) {
        let mut tasks = Vec::new();
        for client in 0..32 {
            let http = app.http.clone();
            let url = app.url("/api/v1/tickets");
            let token = app.agent.token.clone();
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..10 {
                    let r = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"subject": format!("c{client} t{i}"), "body": "load", "customer": {"email": format!("load{client}@example.com")}}))
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    let body: serde_json::Value = r.json().await.unwrap();
                    assert_eq!(status, 201, "{body}");
                    ids.push(body["number"].as_i64().unwrap());
                }
                ids
            }));
        }
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.extend(t.await.unwrap());
        }
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), 320, "every ticket got its own number");
        let (_, page) = app.get("/api/v1/tickets?limit=200").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 200);
        app.stop().await;
    }
}
