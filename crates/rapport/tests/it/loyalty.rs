//! Loyalty and goodwill (issue 14): vouchers redeemed exactly once however many shops try
//! at once; a points balance that never goes below zero; gifts within an agent's monthly
//! limit given at once, above it waiting for a supervisor's one-click decision; every
//! gift counted in the goodwill report.

use std::sync::Arc;

use rapport_domain::{ManualClock, Timestamp};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error, count};
use crate::on_both;

on_both!(
    a_voucher_is_redeemed_once,
    points_never_go_below_zero,
    gifts_above_the_limit_wait_for_a_supervisor,
    agents_see_orders_and_give_goodwill_on_the_ticket_page,
);

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(json!(rfc3339)).unwrap()
}

async fn customer(app: &TestApp, email: &str) -> (i64, i64) {
    let t = app
        .ticket("Late parcel", "My parcel is a week late.", email)
        .await;
    (
        t["customer"]["id"].as_i64().unwrap(),
        t["id"].as_i64().unwrap(),
    )
}

async fn a_voucher_is_redeemed_once(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-27T10:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let (cid, _) = customer(&app, "vic@example.com").await;
    let (s, v) = app
        .post(
            "/api/v1/vouchers",
            json!({"customer_id": cid, "amount": "12.50", "currency": "EUR"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let code = v["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with("RAP-") && code.len() == 18, "{code}");
    assert_eq!(
        (
            v["amount"].as_str(),
            v["currency"].as_str(),
            v["state"].as_str()
        ),
        (Some("12.50"), Some("EUR"), Some("active"))
    );

    // Fifty redemptions at once: exactly one succeeds.
    let path = format!("/api/v1/vouchers/{code}/redeem");
    let tries = (0..50).map(|i| {
        let (app, path) = (&app, &path);
        async move {
            // Half without a body, half with the shop's reference.
            let body = (i % 2 == 0).then(|| json!({"reference": format!("order-{i}")}));
            app.call("POST", path, Some(&app.admin.token), body).await
        }
    });
    let results = futures::future::join_all(tries).await;
    let ok: Vec<&(u16, Value)> = results.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(ok.len(), 1, "{results:?}");
    assert_eq!(ok[0].1["state"], "redeemed");
    for (s, e) in results.iter().filter(|(s, _)| *s != 200) {
        assert_error(*s, e, 409, None);
    }
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM events WHERE kind = 'voucher_redeemed'"
        )
        .await,
        1
    );
    // Typed by a person: lower case, spaces, O for 0 — the same voucher, still used.
    let typed = code.to_lowercase().replace('-', " ").replace('0', "o");
    let (s, e) = app
        .post(&format!("/api/v1/vouchers/{typed}/redeem"), json!({}))
        .await;
    assert_error(s, &e, 409, None);
    let (s, e) = app
        .post("/api/v1/vouchers/RAP-0000-0000-0000/redeem", json!({}))
        .await;
    assert_error(s, &e, 404, None);
    let (s, e) = app
        .post("/api/v1/vouchers/not-a-code/redeem", json!({}))
        .await;
    assert_error(s, &e, 422, Some("code"));

    // A percentage, expiring tomorrow: redeemable today, not after.
    let (s, p) = app
        .post(
            "/api/v1/vouchers",
            json!({"customer_id": cid, "percent": 15, "expires_at": "2026-11-28T10:00:00Z",
                                          "reason": "Sorry for the wait"}),
        )
        .await;
    assert_eq!(
        (s, p["percent"].as_i64(), p["amount"].is_null()),
        (201, Some(15), true),
        "{p}"
    );
    clock.set(at("2026-11-29T10:00:00Z"));
    let (s, e) = app
        .post(
            &format!("/api/v1/vouchers/{}/redeem", p["code"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_error(s, &e, 409, None);
    let (_, list) = app.get(&format!("/api/v1/customers/{cid}/vouchers")).await;
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["expired", "redeemed"]);

    for (body, field) in [
        (json!({"customer_id": cid, "amount": "5"}), "currency"),
        (
            json!({"customer_id": cid, "amount": "5", "currency": "EUR", "percent": 5}),
            "percent",
        ),
        (json!({"customer_id": cid, "percent": 0}), "percent"),
        (
            json!({"customer_id": cid, "amount": "0", "currency": "EUR"}),
            "amount",
        ),
        (
            json!({"customer_id": cid, "amount": "5.001", "currency": "EUR"}),
            "amount",
        ),
        (json!({"customer_id": cid}), "amount"),
        (
            json!({"customer_id": cid, "percent": 5, "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
    ] {
        let (s, e) = app.post("/api/v1/vouchers", body).await;
        assert_error(s, &e, 422, Some(field));
    }
    let (s, e) = app
        .post(
            "/api/v1/vouchers",
            json!({"customer_id": 999999, "percent": 5}),
        )
        .await;
    assert_error(s, &e, 404, None);
    // Only the shop's (an administrator's) token redeems.
    let (s, v) = app
        .post(
            "/api/v1/vouchers",
            json!({"customer_id": cid, "percent": 5}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, e) = app
        .call(
            "POST",
            &format!("/api/v1/vouchers/{}/redeem", v["code"].as_str().unwrap()),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
}

async fn points_never_go_below_zero(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (cid, _) = customer(&app, "pat@example.com").await;
    let (s, e) = app
        .post(
            &format!("/api/v1/customers/{cid}/points"),
            json!({"points": 100, "reason": "Welcome"}),
        )
        .await;
    assert_eq!((s, e["balance_after"].as_i64()), (201, Some(100)), "{e}");
    // Fifty redemptions of 10 at once: ten succeed, the balance ends at zero.
    let path = format!("/api/v1/customers/{cid}/points/redeem");
    let tries = (0..50).map(|_| {
        let (app, path) = (&app, &path);
        async move {
            app.post(path, json!({"points": 10, "reference": "order-7"}))
                .await
        }
    });
    let results = futures::future::join_all(tries).await;
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 200).count(),
        10,
        "{results:?}"
    );
    for (s, e) in results.iter().filter(|(s, _)| *s != 200) {
        assert_error(*s, e, 409, None);
    }
    let (_, p) = app.get(&format!("/api/v1/customers/{cid}/points")).await;
    assert_eq!(p["balance"], 0);
    let entries = p["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 11);
    assert!(
        entries
            .iter()
            .all(|e| e["balance_after"].as_i64().unwrap() >= 0)
    );
    // The ledger adds up: each balance is the one before plus its change.
    for w in entries.windows(2) {
        assert_eq!(
            w[0]["balance_after"].as_i64().unwrap(),
            w[1]["balance_after"].as_i64().unwrap() + w[0]["delta"].as_i64().unwrap()
        );
    }
    assert_eq!(
        count(&app.db, "SELECT MIN(balance_after) FROM points_ledger").await,
        0
    );
    for (body, field) in [
        (json!({"points": 0}), "points"),
        (json!({"points": 10_000_001}), "points"),
        (json!({"points": "ten"}), "points"),
    ] {
        let (s, e) = app.post(&path, body).await;
        assert_error(s, &e, 422, Some(field));
    }
    let (s, e) = app.post(&path, json!({"points": 1})).await;
    assert_error(s, &e, 409, None);
    let (s, e) = app
        .post(
            "/api/v1/customers/999999/points/redeem",
            json!({"points": 1}),
        )
        .await;
    assert_error(s, &e, 404, None);
}

async fn pts(app: &TestApp, token: &str, cid: i64, ticket: i64, n: i64) -> (u16, Value) {
    app.call(
        "POST",
        &format!("/api/v1/customers/{cid}/points"),
        Some(token),
        Some(json!({"points": n, "ticket_id": ticket})),
    )
    .await
}

async fn gifts_above_the_limit_wait_for_a_supervisor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (cid, tid) = customer(&app, "gail@example.com").await;
    // A second ticket of hers in no team: both agents may work it.
    let (_, tid2) = customer(&app, "gail@example.com").await;
    let (other, otid) = customer(&app, "otto@example.com").await;
    app.patch(
        &format!("/api/v1/tickets/{tid}"),
        json!({"team_id": app.team_a}),
    )
    .await;
    let agent = Some(app.agent.token.as_str());
    let sup = Some(app.supervisor.token.as_str());

    // No limit set: an agent's voucher waits for approval.
    let (s, a) = app
        .call(
            "POST",
            "/api/v1/vouchers",
            agent,
            Some(
                json!({"customer_id": cid, "amount": "10.00", "currency": "EUR", "ticket_id": tid}),
            ),
        )
        .await;
    assert_eq!((s, a["state"].as_str()), (202, Some("pending")), "{a}");
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM vouchers").await, 0);
    let (s, e) = app
        .call("GET", "/api/v1/approvals?state=pending", agent, None)
        .await;
    assert_error(s, &e, 403, None);
    let (s, pending) = app
        .call("GET", "/api/v1/approvals?state=pending", sup, None)
        .await;
    assert_eq!((s, pending.as_array().unwrap().len()), (200, 1));
    let id = a["id"].as_i64().unwrap();
    let (s, done) = app
        .call(
            "POST",
            &format!("/api/v1/approvals/{id}/approve"),
            sup,
            None,
        )
        .await;
    assert_eq!(
        (s, done["state"].as_str()),
        (200, Some("approved")),
        "{done}"
    );
    let code = done["result"]["code"].as_str().unwrap();
    // The code is whole for its issuer and supervisors, masked for other agents.
    let path = format!("/api/v1/customers/{cid}/vouchers");
    let (_, mine) = app.call("GET", &path, agent, None).await;
    assert_eq!(mine[0]["code"].as_str(), Some(code));
    let (_, theirs) = app.call("GET", &path, Some(&app.agent_b.token), None).await;
    assert_eq!(
        theirs[0]["code"].as_str().unwrap(),
        format!("RAP-••••-••••-{}", &code[14..])
    );
    let (_, vs) = app.get(&format!("/api/v1/customers/{cid}/vouchers")).await;
    assert_eq!(
        (
            vs[0]["code"].as_str(),
            vs[0]["issued_by"].as_i64(),
            vs[0]["approval_id"].as_i64()
        ),
        (Some(code), Some(app.agent.id), Some(id))
    );
    let (s, e) = app
        .call(
            "POST",
            &format!("/api/v1/approvals/{id}/decline"),
            sup,
            None,
        )
        .await;
    assert_error(s, &e, 409, None);
    // The ticket's history tells the story.
    let (_, evs) = app
        .call("GET", &format!("/api/v1/tickets/{tid}/events"), agent, None)
        .await;
    let kinds: Vec<&str> = evs
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in ["approval_requested", "voucher_issued", "approval_decided"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }

    // Limits: agents 20.00 EUR of vouchers and 500 points a customer a month.
    let (s, l) = app
        .call(
            "PUT",
            "/api/v1/goodwill/limits",
            Some(&app.admin.token),
            Some(json!({"limits": [
                {"role": "agent", "kind": "voucher", "currency": "EUR", "max_per_month": "20.00"},
                {"role": "agent", "kind": "points", "max_per_month": 500},
                {"user_id": app.agent_b.id, "kind": "points", "max_per_month": 50}
            ]})),
        )
        .await;
    assert_eq!(
        (s, l["limits"].as_array().map(Vec::len)),
        (200, Some(3)),
        "{l}"
    );
    let (s, e) = app
        .call(
            "PUT",
            "/api/v1/goodwill/limits",
            sup,
            Some(json!({"limits": []})),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, e) = app
        .call(
            "PUT",
            "/api/v1/goodwill/limits",
            Some(&app.admin.token),
            Some(json!({"limits": [{"role": "agent", "kind": "voucher", "max_per_month": "5"}]})),
        )
        .await;
    assert_error(s, &e, 422, Some("limits[0].currency"));
    // The approved 10.00 counts: 10.00 more fits, then nothing more this month.
    let give = |body: Value| app.call("POST", "/api/v1/vouchers", agent, Some(body));
    let (s, _) =
        give(json!({"customer_id": cid, "amount": "10.00", "currency": "EUR", "ticket_id": tid}))
            .await;
    assert_eq!(s, 201);
    let (s, _) =
        give(json!({"customer_id": cid, "amount": "0.01", "currency": "EUR", "ticket_id": tid}))
            .await;
    assert_eq!(s, 202);
    // Another customer has their own month; a currency with no limit of its own allows
    // nothing when the role has a limit in another.
    assert_eq!(
        give(
            json!({"customer_id": other, "amount": "20.00", "currency": "EUR", "ticket_id": otid})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        give(json!({"customer_id": other, "amount": "1.00", "currency": "USD", "ticket_id": otid}))
            .await
            .0,
        202
    );
    // An agent gives from a ticket they work, never to any customer they name.
    let (s, e) = give(json!({"customer_id": other, "percent": 5})).await;
    assert_error(s, &e, 422, Some("ticket_id"));
    // Points: 300 and 200 fit under 500; 1 more waits and is declined.
    assert_eq!(pts(&app, &app.agent.token, cid, tid2, 300).await.0, 201);
    assert_eq!(pts(&app, &app.agent.token, cid, tid2, 200).await.0, 201);
    let (s, w) = pts(&app, &app.agent.token, cid, tid2, 1).await;
    assert_eq!(s, 202);
    let (s, d) = app
        .call(
            "POST",
            &format!("/api/v1/approvals/{}/decline", w["id"]),
            sup,
            Some(json!({"note": "Enough this month"})),
        )
        .await;
    assert_eq!(
        (s, d["state"].as_str(), d["note"].as_str()),
        (200, Some("declined"), Some("Enough this month"))
    );
    // The agent's own limit wins over their role's.
    assert_eq!(pts(&app, &app.agent_b.token, cid, tid2, 60).await.0, 202);
    assert_eq!(pts(&app, &app.agent_b.token, cid, tid2, 50).await.0, 201);
    let (_, p) = app.get(&format!("/api/v1/customers/{cid}/points")).await;
    assert_eq!(p["balance"], 550);

    // A gift on another customer's ticket is refused.
    let (s, e) = give(json!({"customer_id": other, "percent": 5, "ticket_id": tid})).await;
    assert_error(s, &e, 422, Some("ticket_id"));
    // Nobody approves their own request: a supervisor above their own limit waits for
    // someone else.
    app.call(
        "PUT",
        "/api/v1/goodwill/limits",
        Some(&app.admin.token),
        Some(json!({"limits": [
        {"user_id": app.supervisor.id, "kind": "points", "max_per_month": 0}]})),
    )
    .await;
    let (s, own) = app
        .call(
            "POST",
            &format!("/api/v1/customers/{cid}/points"),
            sup,
            Some(json!({"points": 5})),
        )
        .await;
    assert_eq!(s, 202, "{own}");
    let (s, e) = app
        .call(
            "POST",
            &format!("/api/v1/approvals/{}/approve", own["id"]),
            sup,
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, _) = app
        .call(
            "POST",
            &format!("/api/v1/approvals/{}/approve", own["id"]),
            Some(&app.admin.token),
            None,
        )
        .await;
    assert_eq!(s, 200);

    // What was given this month, by agent.
    let (s, r) = app.call("GET", "/api/v1/reports/goodwill", sup, None).await;
    assert_eq!(s, 200, "{r}");
    let row = |user: i64, kind: &str, cur: Option<&str>| {
        r.as_array()
            .unwrap()
            .iter()
            .find(|x| x["user_id"] == user && x["kind"] == kind && x["currency"].as_str() == cur)
            .cloned()
    };
    let eur = row(app.agent.id, "voucher", Some("EUR")).unwrap();
    assert_eq!(
        (eur["count"].as_i64(), eur["total"].as_str()),
        (Some(3), Some("40.00"))
    );
    let points = row(app.agent.id, "points", None).unwrap();
    assert_eq!(
        (points["count"].as_i64(), points["total"].as_str()),
        (Some(2), Some("500"))
    );
    assert_eq!(row(app.agent_b.id, "points", None).unwrap()["total"], "50");
    let (s, e) = app
        .call("GET", "/api/v1/reports/goodwill", agent, None)
        .await;
    assert_error(s, &e, 403, None);
}

pub(crate) async fn page(
    app: &TestApp,
    http: &reqwest::Client,
    session: &str,
    path: &str,
) -> String {
    http.get(app.url(path))
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

/// The ticket page shows the customer's orders and where the parcel is, links one, and
/// gives goodwill; the supervisor approves the request on the approvals page in a click.
async fn agents_see_orders_and_give_goodwill_on_the_ticket_page(backend: Backend) {
    use crate::sessions_trust::{PASSWORD, post_form};
    use crate::web::{client, hidden, set_password, sign_in};
    let app = TestApp::spawn(backend).await;
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    set_password(&app, "sup@example.com", PASSWORD).await;
    let (s, o) = app
        .post("/api/v1/orders", json!({"external_id": "W-77", "customer": {"email": "wes@example.com"}, "currency": "EUR",
            "lines": [{"sku": "BOOT-42", "name": "Walking boots", "quantity": 1, "unit_price": "89.90"}], "status": "shipped",
            "shipments": [{"carrier": "DHL", "tracking_number": "JD0042", "status": "out-for-delivery"}]}))
        .await;
    assert_eq!(s, 201, "{o}");
    let (_, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Where is my order?", "body": "Boots not here", "team_id": app.team_a,
                                         "customer": {"email": "wes@example.com"}}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let http = client();
    let (session, _) = sign_in(&app, &http, "agent.a@example.com", PASSWORD).await;
    let html = page(&app, &http, &session, &format!("/tickets/{id}")).await;
    assert!(html.contains("Order W-77"), "{html}");
    assert!(html.contains("89.90 EUR"), "{html}");
    assert!(html.contains("1 × Walking boots"), "{html}");
    assert!(html.contains("DHL JD0042: out for delivery"), "{html}");
    assert!(html.contains("Reward points: <strong>0</strong>"), "{html}");
    let csrf = hidden(&html, "csrf");
    let oid = o["id"].as_i64().unwrap().to_string();
    let (s, _) = post_form(
        &app,
        &session,
        &format!("/tickets/{id}/orders"),
        &[("csrf", &csrf), ("order_id", &oid)],
    )
    .await;
    assert_eq!(s, 303);
    let html = page(&app, &http, &session, &format!("/tickets/{id}")).await;
    assert!(html.contains("Linked to this ticket"), "{html}");
    // A voucher with no limit set waits for approval; the page says so in its history.
    let (s, _) = post_form(
        &app,
        &session,
        &format!("/tickets/{id}/vouchers"),
        &[
            ("csrf", &csrf),
            ("amount", "15.00"),
            ("currency", "EUR"),
            ("percent", ""),
            ("reason", "Late boots"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (s, body) = post_form(
        &app,
        &session,
        &format!("/tickets/{id}/vouchers"),
        &[
            ("csrf", &csrf),
            ("amount", "1.234"),
            ("currency", "EUR"),
            ("percent", ""),
            ("reason", ""),
        ],
    )
    .await;
    assert_eq!(s, 422, "{body}");
    let html = page(&app, &http, &session, &format!("/tickets/{id}")).await;
    assert!(
        html.contains("asked a supervisor to approve a gift"),
        "{html}"
    );
    // Agents have no approvals page.
    let (s, _) = post_form(&app, &session, "/approvals/1/approve", &[("csrf", &csrf)]).await;
    assert_eq!(s, 403);
    let (sup, _) = sign_in(&app, &http, "sup@example.com", PASSWORD).await;
    let html = page(&app, &http, &sup, "/approvals").await;
    assert!(
        html.contains("A voucher worth 15.00 EUR — Late boots"),
        "{html}"
    );
    let sup_csrf = hidden(&html, "csrf");
    let (_, pending) = app.get("/api/v1/approvals?state=pending").await;
    let aid = pending[0]["id"].as_i64().unwrap();
    let (s, _) = post_form(
        &app,
        &sup,
        &format!("/approvals/{aid}/approve"),
        &[("csrf", &sup_csrf)],
    )
    .await;
    assert_eq!(s, 303);
    let html = page(&app, &http, &sup, "/approvals").await;
    assert!(html.contains("Nothing is waiting."), "{html}");
    let html = page(&app, &http, &session, &format!("/tickets/{id}")).await;
    assert!(html.contains(": 15.00 EUR, active"), "{html}");
    // Points within a limit are given at once.
    app.call(
        "PUT",
        "/api/v1/goodwill/limits",
        Some(&app.admin.token),
        Some(json!({"limits": [{"role": "agent", "kind": "points", "max_per_month": 500}]})),
    )
    .await;
    let (s, _) = post_form(
        &app,
        &session,
        &format!("/tickets/{id}/points"),
        &[("csrf", &csrf), ("points", "200"), ("reason", "")],
    )
    .await;
    assert_eq!(s, 303);
    let html = page(&app, &http, &session, &format!("/tickets/{id}")).await;
    assert!(
        html.contains("Reward points: <strong>200</strong>"),
        "{html}"
    );
}
