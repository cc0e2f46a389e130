//! The permission matrix: each role against each endpoint, and team scoping of tickets.

use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{TestApp, assert_error};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Min {
    Agent,
    Supervisor,
    Admin,
}

async fn fresh_ticket(app: &TestApp, tag: &str) -> Value {
    use base64::Engine;
    let (s, t) = app
        .post("/api/v1/tickets", json!({
            "subject": format!("perm {tag}"), "body": "hello", "customer": {"email": format!("{tag}@example.com")},
            "attachments": [{"filename": "a.txt", "content_type": "text/plain",
                             "data_base64": base64::engine::general_purpose::STANDARD.encode("hi")}]
        }))
        .await;
    assert_eq!(s, 201, "{t}");
    t
}

both_backends! {
    async fn each_role_against_each_endpoint(app) {
        let roles = [
            ("agent", app.agent.token.clone(), Min::Agent),
            ("supervisor", app.supervisor.token.clone(), Min::Supervisor),
            ("admin", app.admin.token.clone(), Min::Admin),
        ];
        for (name, token, level) in roles {
            let t = fresh_ticket(&app, &format!("{name}1")).await;
            let other = fresh_ticket(&app, &format!("{name}2")).await;
            let id = t["id"].as_i64().unwrap();
            let cid = t["customer"]["id"].as_i64().unwrap();
            let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
            let att = msgs[0]["attachments"][0]["id"].as_i64().unwrap();
            let team = app.team_a;
            let (_, mb) = app.post("/api/v1/mailboxes", json!({"address": format!("box.{name}@example.com"), "name": "Box"})).await;
            let mb = mb["id"].as_i64().unwrap();
            let (_, order) = app.post("/api/v1/orders", json!({"external_id": format!("perm-{name}"),
                "customer": {"email": format!("{name}1@example.com")}, "currency": "EUR",
                "lines": [{"sku": "S", "name": "N", "quantity": 1, "unit_price": "1.00"}]})).await;
            let order = order["id"].as_i64().unwrap();
            let (_, voucher) = app.post("/api/v1/vouchers", json!({"customer_id": cid, "percent": 5})).await;
            let code = voucher["code"].as_str().unwrap().to_owned();
            app.post(&format!("/api/v1/customers/{}/points", cid), json!({"points": 10})).await;
            // Pending requests to decide (an agent's gift with no limit set waits).
            let mut pending = Vec::new();
            for _ in 0..2 {
                let (s, a) = app.call("POST", "/api/v1/vouchers", Some(&app.agent.token), Some(json!({"customer_id": cid, "percent": 5, "ticket_id": id}))).await;
                assert_eq!(s, 202, "{a}");
                pending.push(a["id"].as_i64().unwrap());
            }
            let (_, org) = app.post("/api/v1/organizations", json!({"name": format!("Org of {name}")})).await;
            let org = org["id"].as_i64().unwrap();
            let (_, attr) = app.post("/api/v1/attributes", json!({"target": "customer", "key": format!("gone_{name}"), "label": "Gone", "kind": "text"})).await;
            let attr = attr["id"].as_i64().unwrap();
            let (_, seg) = app.post("/api/v1/segments", json!({"name": format!("Seg of {name}"), "conditions": [{"field": "tier", "op": "is_set"}]})).await;
            let seg = seg["id"].as_i64().unwrap();
            let dup = fresh_ticket(&app, &format!("{name}dup")).await["customer"]["id"].as_i64().unwrap();
            let erased = other["customer"]["id"].as_i64().unwrap();
            let (s, refund) = app.post("/api/v1/refunds", json!({"order_id": order, "amount": "0.01"})).await;
            assert_eq!(s, 201, "{refund}");
            let refund = refund["id"].as_i64().unwrap();
            let calls: Vec<(&str, String, Option<Value>, Min)> = vec![
                ("GET", "/api/v1/tickets".into(), None, Min::Agent),
                ("POST", "/api/v1/tickets".into(), Some(json!({"subject": "s", "body": "b", "customer": {"email": "m@example.com"}})), Min::Agent),
                ("GET", format!("/api/v1/tickets/{id}"), None, Min::Agent),
                ("PATCH", format!("/api/v1/tickets/{id}"), Some(json!({"priority": "high"})), Min::Agent),
                ("POST", format!("/api/v1/tickets/{id}/messages"), Some(json!({"body": "r"})), Min::Agent),
                ("GET", format!("/api/v1/tickets/{id}/messages"), None, Min::Agent),
                ("GET", format!("/api/v1/tickets/{id}/events"), None, Min::Agent),
                ("GET", format!("/api/v1/attachments/{att}"), None, Min::Agent),
                ("GET", format!("/api/v1/customers/{cid}"), None, Min::Agent),
                ("GET", "/api/v1/search?q=perm".into(), None, Min::Agent),
                ("GET", "/api/v1/me".into(), None, Min::Agent),
                ("GET", "/api/v1/me/preferences".into(), None, Min::Agent),
                ("PUT", "/api/v1/me/preferences".into(), Some(json!({"email_notifications": true})), Min::Agent),
                ("GET", "/api/v1/users".into(), None, Min::Agent),
                ("GET", "/api/v1/tokens".into(), None, Min::Agent),
                ("POST", "/api/v1/tokens".into(), Some(json!({"name": format!("by {name}"), "expires_in_days": 1})), Min::Agent),
                ("GET", "/api/v1/teams".into(), None, Min::Agent),
                ("GET", "/api/v1/categories".into(), None, Min::Agent),
                ("POST", format!("/api/v1/tickets/{id}/portal-link/revoke"), None, Min::Agent),
                ("POST", format!("/api/v1/tickets/{}/merge", other["id"]), Some(json!({"into": id, "confirm_other_customer": true})), Min::Agent),
                ("POST", "/api/v1/teams".into(), Some(json!({"name": format!("team by {name}")})), Min::Supervisor),
                ("POST", format!("/api/v1/teams/{team}/members"), Some(json!({"user_id": app.agent_b.id})), Min::Supervisor),
                ("POST", "/api/v1/categories".into(), Some(json!({"slug": format!("cat-{name}"), "name": "Custom"})), Min::Supervisor),
                ("GET", "/api/v1/jobs".into(), None, Min::Supervisor),
                ("GET", "/api/v1/stats/daily".into(), None, Min::Supervisor),
                ("GET", "/api/v1/mailboxes".into(), None, Min::Supervisor),
                ("GET", "/metrics".into(), None, Min::Supervisor),
                ("POST", "/api/v1/mailboxes".into(), Some(json!({"address": format!("new.{name}@example.com"), "name": "New"})), Min::Admin),
                ("PATCH", format!("/api/v1/mailboxes/{mb}"), Some(json!({"acknowledge": true})), Min::Admin),
                ("POST", "/api/v1/users".into(), Some(json!({"email": format!("new.{name}@example.com"), "name": "New", "role": "agent"})), Min::Admin),
                ("PATCH", format!("/api/v1/users/{}", app.agent_b.id), Some(json!({"role": "agent"})), Min::Admin),
                ("GET", "/api/v1/tokens?all=true".into(), None, Min::Admin),
                ("GET", format!("/api/v1/orders/{order}"), None, Min::Agent),
                ("GET", format!("/api/v1/customers/{cid}/orders"), None, Min::Agent),
                ("POST", format!("/api/v1/tickets/{id}/orders"), Some(json!({"order_id": order})), Min::Agent),
                ("GET", format!("/api/v1/tickets/{id}/orders"), None, Min::Agent),
                ("POST", "/api/v1/orders".into(), Some(json!({"external_id": format!("by-{name}"), "customer": {"email": "o@example.com"}, "currency": "EUR"})), Min::Admin),
                ("POST", "/api/v1/vouchers".into(), Some(json!({"customer_id": cid, "percent": 5, "ticket_id": id})), Min::Agent),
                ("GET", format!("/api/v1/customers/{cid}/vouchers"), None, Min::Agent),
                ("GET", format!("/api/v1/customers/{cid}/points"), None, Min::Agent),
                ("POST", format!("/api/v1/customers/{cid}/points"), Some(json!({"points": 1, "ticket_id": id})), Min::Agent),
                ("GET", "/api/v1/approvals".into(), None, Min::Supervisor),
                ("POST", format!("/api/v1/approvals/{}/approve", pending[0]), None, Min::Supervisor),
                ("POST", format!("/api/v1/approvals/{}/decline", pending[1]), None, Min::Supervisor),
                ("GET", "/api/v1/goodwill/limits".into(), None, Min::Supervisor),
                ("GET", "/api/v1/reports/goodwill".into(), None, Min::Supervisor),
                ("PUT", "/api/v1/goodwill/limits".into(), Some(json!({"limits": []})), Min::Admin),
                ("POST", format!("/api/v1/customers/{cid}/points/redeem"), Some(json!({"points": 1})), Min::Admin),
                ("POST", format!("/api/v1/vouchers/{code}/redeem"), None, Min::Admin),
                ("POST", "/api/v1/invoices".into(), Some(json!({"external_id": format!("inv-{name}"), "customer": {"email": "o@example.com"}, "currency": "EUR", "amount": "1.00"})), Min::Admin),
                ("POST", "/api/v1/payments".into(), Some(json!({"external_id": format!("pay-{name}"), "customer": {"email": "o@example.com"}, "currency": "EUR", "amount": "1.00"})), Min::Admin),
                ("GET", format!("/api/v1/customers/{cid}/billing"), None, Min::Agent),
                ("POST", "/api/v1/refunds".into(), Some(json!({"order_id": order, "amount": "0.01", "ticket_id": id})), Min::Agent),
                ("GET", "/api/v1/refunds".into(), None, Min::Admin),
                ("POST", format!("/api/v1/refunds/{refund}/done"), None, Min::Admin),
                ("GET", "/api/v1/loyalty/settings".into(), None, Min::Agent),
                ("PUT", "/api/v1/loyalty/settings".into(), Some(json!({"earn_per_unit": 0, "expiry_days": null})), Min::Admin),
                ("GET", "/api/v1/reports/products".into(), None, Min::Supervisor),
                ("GET", "/api/v1/segments".into(), None, Min::Agent),
                ("POST", "/api/v1/segments".into(), Some(json!({"name": format!("New seg by {name}"), "conditions": [{"field": "points", "op": "at_least", "value": 1}]})), Min::Supervisor),
                ("GET", format!("/api/v1/segments/{seg}"), None, Min::Agent),
                ("GET", format!("/api/v1/segments/{seg}/customers"), None, Min::Agent),
                ("DELETE", format!("/api/v1/segments/{seg}"), None, Min::Supervisor),
                ("GET", format!("/api/v1/customers/{cid}/card"), None, Min::Agent),
                ("PATCH", format!("/api/v1/customers/{cid}"), Some(json!({"phone": "+49 30 12345", "birthday": "--04-01"})), Min::Agent),
                ("PATCH", format!("/api/v1/customers/{cid}"), Some(json!({"tier": "vip"})), Min::Supervisor),
                ("GET", "/api/v1/customers/dates?days=60".into(), None, Min::Agent),
                ("GET", "/api/v1/organizations".into(), None, Min::Agent),
                ("POST", "/api/v1/organizations".into(), Some(json!({"name": format!("New org by {name}")})), Min::Supervisor),
                ("GET", format!("/api/v1/organizations/{org}"), None, Min::Agent),
                ("PATCH", format!("/api/v1/organizations/{org}"), Some(json!({"domain": format!("{name}.example.org")})), Min::Supervisor),
                ("PUT", format!("/api/v1/organizations/{org}/members/{cid}"), None, Min::Supervisor),
                ("GET", format!("/api/v1/organizations/{org}/members"), None, Min::Agent),
                ("DELETE", format!("/api/v1/organizations/{org}/members/{cid}"), None, Min::Supervisor),
                ("GET", "/api/v1/attributes".into(), None, Min::Agent),
                ("POST", "/api/v1/attributes".into(), Some(json!({"target": "organization", "key": format!("k_{name}"), "label": "K", "kind": "number"})), Min::Supervisor),
                ("DELETE", format!("/api/v1/attributes/{attr}"), None, Min::Supervisor),
                ("POST", format!("/api/v1/customers/{cid}/merge"), Some(json!({"duplicate_id": dup})), Min::Supervisor),
                ("GET", format!("/api/v1/customers/{cid}/export"), None, Min::Admin),
                ("POST", format!("/api/v1/customers/{erased}/erase"), None, Min::Admin),
                ("POST", "/api/v1/orders/batch".into(), Some(json!({"orders": [{"external_id": format!("batch-{name}"), "customer": {"email": "o@example.com"}, "currency": "EUR"}]})), Min::Admin),
            ];
            for (method, path, body, min) in calls {
                let (s, resp) = app.call(method, &path, Some(&token), body.clone()).await;
                if level >= min {
                    assert!((200..300).contains(&s), "{name} {method} {path}: {s} {resp}");
                } else {
                    assert_error(s, &resp, 403, None);
                }
                let (s, resp) = app.call(method, &path, None, body).await;
                assert_error(s, &resp, 401, None);
            }
        }
        app.stop().await;
    }

    async fn agents_only_see_their_teams(app) {
        let mine = app.ticket("Team A matter", "zebracorn in A", "a@example.com").await;
        let theirs = app.ticket("Team B matter", "zebracorn in B", "b@example.com").await;
        let none = app.ticket("Unrouted", "zebracorn nowhere", "n@example.com").await;
        let (m, t, n) = (mine["id"].as_i64().unwrap(), theirs["id"].as_i64().unwrap(), none["id"].as_i64().unwrap());
        app.patch(&format!("/api/v1/tickets/{m}"), json!({"team_id": app.team_a})).await;
        app.patch(&format!("/api/v1/tickets/{t}"), json!({"team_id": app.team_b})).await;
        let tok = Some(app.agent.token.as_str());
        for path in [
            format!("/api/v1/tickets/{t}"),
            format!("/api/v1/tickets/{t}/messages"),
            format!("/api/v1/tickets/{t}/events"),
        ] {
            let (s, e) = app.call("GET", &path, tok, None).await;
            assert_error(s, &e, 403, None);
        }
        let (s, e) = app.call("PATCH", &format!("/api/v1/tickets/{t}"), tok, Some(json!({"priority": "low"}))).await;
        assert_error(s, &e, 403, None);
        let (s, e) = app.call("POST", &format!("/api/v1/tickets/{t}/messages"), tok, Some(json!({"body": "x"}))).await;
        assert_error(s, &e, 403, None);
        let (s, e) = app.call("POST", &format!("/api/v1/tickets/{t}/merge"), tok, Some(json!({"into": m}))).await;
        assert_error(s, &e, 403, None);
        let (s, e) = app.call("PATCH", &format!("/api/v1/tickets/{n}"), tok, Some(json!({"team_id": app.team_b}))).await;
        assert_error(s, &e, 403, None);
        let (s, _) = app.call("GET", &format!("/api/v1/tickets/{m}"), tok, None).await;
        assert_eq!(s, 200);
        let (s, _) = app.call("GET", &format!("/api/v1/tickets/{n}"), tok, None).await;
        assert_eq!(s, 200);

        let (_, page) = app.call("GET", "/api/v1/tickets", tok, None).await;
        let ids: Vec<i64> = page["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
        assert!(ids.contains(&m) && ids.contains(&n) && !ids.contains(&t), "{ids:?}");
        let (_, found) = app.call("GET", "/api/v1/search?q=zebracorn", tok, None).await;
        let hit_tickets: Vec<i64> = found["hits"].as_array().unwrap().iter().filter_map(|h| h["ticket_id"].as_i64()).collect();
        assert!(hit_tickets.contains(&m) && !hit_tickets.contains(&t), "{found}");
        let cid = theirs["customer"]["id"].as_i64().unwrap();
        let (s, cust) = app.call("GET", &format!("/api/v1/customers/{cid}"), tok, None).await;
        assert_eq!(s, 200);
        assert_eq!(cust["tickets"], json!([]));
        // A supervisor sees everything.
        let (_, all) = app.call("GET", "/api/v1/search?q=zebracorn", Some(&app.supervisor.token), None).await;
        assert_eq!(all["hits"].as_array().unwrap().iter().filter(|h| h["kind"] == "message").count(), 3);
        app.stop().await;
    }
}
