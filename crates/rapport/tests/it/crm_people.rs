//! Customers and organisations (issue 14): organisations and members, typed custom
//! attributes, a customer's details, birthdays and anniversaries, CSV import with a dry
//! run, and the customer card with its churn-risk signal.

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error, count};
use crate::on_both;

on_both!(
    organisations_have_members_and_a_domain,
    attributes_are_typed_and_details_change,
    csv_imports_report_every_bad_cell_and_write_all_or_nothing,
    the_card_shows_value_and_explains_churn_risk,
    segments_list_the_customers_meeting_every_condition,
);

async fn organisations_have_members_and_a_domain(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (s, acme) = app
        .post(
            "/api/v1/organizations",
            json!({"name": "Acme", "domain": "@ACME.example"}),
        )
        .await;
    assert_eq!(s, 201, "{acme}");
    assert_eq!(acme["domain"], "acme.example");
    assert_eq!(acme["members"], 0);
    let org = acme["id"].as_i64().unwrap();
    for (body, status, field) in [
        (json!({"name": "ACME"}), 409, None),
        (
            json!({"name": "Other", "domain": "acme.example"}),
            409,
            None,
        ),
        (
            json!({"name": "Other", "domain": "not a domain"}),
            422,
            Some("domain"),
        ),
        (json!({"name": "  "}), 422, Some("name")),
        (
            json!({"name": "Other", "colour": "red"}),
            422,
            Some("colour"),
        ),
    ] {
        let (s, e) = app.post("/api/v1/organizations", body).await;
        assert_error(s, &e, status, field);
    }
    // A new customer writing in from the domain joins it; an existing one is added.
    let t = app.ticket("Hello", "From Acme", "dev@acme.example").await;
    let (_, dev) = app
        .get(&format!("/api/v1/customers/{}", t["customer"]["id"]))
        .await;
    assert_eq!(dev["organization_id"], org, "{dev}");
    let other = app
        .ticket("Hi", "From elsewhere", "sam@elsewhere.example")
        .await;
    let sam = other["customer"]["id"].as_i64().unwrap();
    let (_, s0) = app.get(&format!("/api/v1/customers/{sam}")).await;
    assert!(s0["organization_id"].is_null());
    let members = format!("/api/v1/organizations/{org}/members");
    // Membership decides SLA policies and routing: a supervisor's to change.
    let (s, e) = app
        .call(
            "PUT",
            &format!("{members}/{sam}"),
            Some(&app.agent.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, _) = app
        .call(
            "PUT",
            &format!("{members}/{sam}"),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (_, list) = app.get(&members).await;
    let emails: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails.len(), 2, "{list}");
    assert!(emails.contains(&"sam@elsewhere.example") && emails.contains(&"dev@acme.example"));
    let (_, got) = app.get(&format!("/api/v1/organizations/{org}")).await;
    assert_eq!(got["members"], 2);
    let (s, _) = app
        .call(
            "DELETE",
            &format!("{members}/{sam}"),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = app
        .call(
            "DELETE",
            &format!("{members}/{sam}"),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_error(s, &e, 404, None);
    let (s, e) = app
        .call(
            "PUT",
            &format!("{members}/999999"),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_error(s, &e, 404, None);
    // Renamed, re-domained, searched.
    let (s, p) = app
        .patch(
            &format!("/api/v1/organizations/{org}"),
            json!({"name": "Acme Inc.", "domain": null}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (p["name"].as_str(), p["domain"].is_null()),
        (Some("Acme Inc."), true)
    );
    app.post("/api/v1/organizations", json!({"name": "Beta"}))
        .await;
    let (_, found) = app.get("/api/v1/organizations?q=inc").await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    let (_, all) = app.get("/api/v1/organizations?limit=1").await;
    assert_eq!(all[0]["name"], "Acme Inc.");
    let (_, next) = app
        .get("/api/v1/organizations?limit=1&after=Acme%20Inc.")
        .await;
    assert_eq!(next[0]["name"], "Beta");
    let (s, e) = app.get("/api/v1/organizations?limit=0").await;
    assert_error(s, &e, 422, Some("limit"));
    app.stop().await;
}

async fn attributes_are_typed_and_details_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for def in [
        json!({"target": "customer", "key": "plan", "label": "Plan", "kind": "choice", "choices": ["free", "pro"]}),
        json!({"target": "customer", "key": "seats", "label": "Seats", "kind": "number"}),
        json!({"target": "customer", "key": "renewal", "label": "Renewal", "kind": "date"}),
        json!({"target": "organization", "key": "plan", "label": "Plan", "kind": "text"}),
    ] {
        let (s, d) = app.post("/api/v1/attributes", def).await;
        assert_eq!(s, 201, "{d}");
    }
    let (s, e) = app
        .post(
            "/api/v1/attributes",
            json!({"target": "customer", "key": "plan", "label": "Again", "kind": "text"}),
        )
        .await;
    assert_error(s, &e, 409, None);
    for (def, field) in [
        (
            json!({"target": "customer", "key": "Bad Key", "label": "x", "kind": "text"}),
            "key",
        ),
        (
            json!({"target": "shop", "key": "k", "label": "x", "kind": "text"}),
            "target",
        ),
        (
            json!({"target": "customer", "key": "k", "label": "x", "kind": "colour"}),
            "kind",
        ),
        (
            json!({"target": "customer", "key": "k", "label": "x", "kind": "choice"}),
            "choices",
        ),
    ] {
        let (s, e) = app.post("/api/v1/attributes", def).await;
        assert_error(s, &e, 422, Some(field));
    }
    let (_, defs) = app.get("/api/v1/attributes").await;
    assert_eq!(defs.as_array().unwrap().len(), 4);

    let t = app
        .ticket("Seats", "We need more seats", "ops@example.com")
        .await;
    let cid = t["customer"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/customers/{cid}");
    let agent = Some(app.agent.token.as_str());
    let (s, c) = app
        .call("PATCH", &path, agent, Some(json!({"name": "Olive Ops", "phone": "+44 20 7946 0000",
            "birthday": "1988-02-29", "attributes": {"plan": "pro", "seats": 25, "renewal": "2027-01-31"}})))
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["name"], "Olive Ops");
    assert_eq!(c["birthday"], "1988-02-29");
    assert_eq!(
        c["attributes"],
        json!({"plan": "pro", "seats": 25, "renewal": "2027-01-31"})
    );
    for (body, field) in [
        (json!({"attributes": {"plan": "gold"}}), "attributes.plan"),
        (json!({"attributes": {"seats": "many"}}), "attributes.seats"),
        (
            json!({"attributes": {"renewal": "2027-02-30"}}),
            "attributes.renewal",
        ),
        (
            json!({"attributes": {"colour": "red"}}),
            "attributes.colour",
        ),
        (json!({"birthday": "2999-01-01"}), "birthday"),
        (json!({"phone": "call me"}), "phone"),
        (json!({"attributes": {"tier": "vip"}}), "attributes.tier"),
        (json!({"nickname": "O"}), "nickname"),
    ] {
        let (s, e) = app.call("PATCH", &path, agent, Some(body.clone())).await;
        assert_error(s, &e, 422, Some(field));
    }
    let (s, e) = app
        .call(
            "PATCH",
            &path,
            agent,
            Some(json!({"organization_id": 999999})),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, e) = app
        .call(
            "PATCH",
            &path,
            Some(&app.supervisor.token),
            Some(json!({"organization_id": 999999})),
        )
        .await;
    assert_error(s, &e, 404, None);
    // A tier takes a supervisor; null clears a value.
    let (s, e) = app
        .call("PATCH", &path, agent, Some(json!({"tier": "vip"})))
        .await;
    assert_error(s, &e, 403, None);
    let (s, c) = app
        .call(
            "PATCH",
            &path,
            Some(&app.supervisor.token),
            Some(json!({"tier": "VIP", "attributes": {"seats": null}})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["tier"], "vip");
    assert_eq!(
        c["attributes"],
        json!({"plan": "pro", "renewal": "2027-01-31"})
    );
    // The tier changes the SLA and the score of their next ticket.
    let (s, vip) = app
        .post(
            "/api/v1/sla/policies",
            json!({"name": "VIP", "position": 1, "conditions": {"tiers": ["vip"]},
            "targets": {"first_response_minutes": 30}}),
        )
        .await;
    assert_eq!(s, 201, "{vip}");
    let next = app.ticket("Again", "Please help", "ops@example.com").await;
    crate::harness::settle(&app.db).await;
    let (_, next) = app.get(&format!("/api/v1/tickets/{}", next["id"])).await;
    assert_eq!(next["sla"]["policy_id"], vip["id"], "{next}");
    assert!(
        next["score"]["explanation"]
            .as_str()
            .unwrap()
            .contains("vip customer"),
        "{next}"
    );
    // The change is on record, and the new name is searchable.
    assert!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM events WHERE kind = 'customer_changed'"
        )
        .await
            >= 2
    );
    let (_, hits) = app.get("/api/v1/search?q=olive").await;
    assert!(
        hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["customer_id"] == cid),
        "{hits}"
    );

    // Birthdays coming up: set one three days from today.
    let soon = (rapport_domain::Clock::now(&rapport_domain::SystemClock).to_datetime()
        + chrono::Duration::days(3))
    .format("--%m-%d")
    .to_string();
    app.patch(&path, json!({"birthday": soon})).await;
    let (s, dates) = app.get("/api/v1/customers/dates?days=7").await;
    assert_eq!(s, 200);
    let mine: Vec<&Value> = dates
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["customer_id"] == cid)
        .collect();
    assert_eq!(mine.len(), 1, "{dates}");
    assert_eq!(mine[0]["kind"], "birthday");
    let want = (rapport_domain::Clock::now(&rapport_domain::SystemClock).to_datetime()
        + chrono::Duration::days(3))
    .format("%Y-%m-%d")
    .to_string();
    assert_eq!(mine[0]["on"], want.as_str());
    let (_, none) = app.get("/api/v1/customers/dates?days=1").await;
    assert!(
        !none
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["customer_id"] == cid)
    );
    let (s, e) = app.get("/api/v1/customers/dates?days=400").await;
    assert_error(s, &e, 422, Some("days"));
    app.stop().await;
}

async fn send_csv(app: &TestApp, path: &str, csv: &str, content_type: &str) -> (u16, Value) {
    let resp = app
        .http
        .post(app.url(path))
        .bearer_auth(&app.supervisor.token)
        .header("content-type", content_type)
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    (s, resp.json().await.unwrap())
}

async fn csv_imports_report_every_bad_cell_and_write_all_or_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.post(
        "/api/v1/attributes",
        json!({"target": "customer", "key": "plan", "label": "Plan",
        "kind": "choice", "choices": ["free", "pro"]}),
    )
    .await;
    app.post(
        "/api/v1/attributes",
        json!({"target": "organization", "key": "employees",
        "label": "Employees", "kind": "number"}),
    )
    .await;
    let known = app.ticket("Known", "I exist", "known@example.com").await;
    let known_id = known["customer"]["id"].as_i64().unwrap();
    let before = count(&app.db, "SELECT COUNT(*) FROM customers").await;
    let broken = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/crm/customers_broken.csv"
    ))
    .unwrap();
    let (s, r) = send_csv(
        &app,
        "/api/v1/customers/import?dry_run=true",
        &broken,
        "text/csv",
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let got: Vec<(u64, &str)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (3, "email"),
            (4, "birthday"),
            (4, "attributes.plan"),
            (5, "tier"),
            (7, "email"),
            (9, "phone")
        ],
        "{r}"
    );
    assert_eq!(r["dry_run"], true);
    // The real run refuses the same file whole.
    let (s, r) = send_csv(&app, "/api/v1/customers/import", &broken, "text/csv").await;
    assert_error(s, &r, 422, Some("email"));
    assert_eq!(r["report"]["errors"].as_array().unwrap().len(), 6);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM customers").await,
        before
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM organizations").await,
        0
    );

    let good = "email,name,organization,birthday,plan,tier\n\
                known@example.com,Known Person,Globex,,pro,\n\
                new.one@example.com,New One,Globex,1990-05-17,free,gold\n\
                \"new.two@example.com\",\"Two, Jr.\",,--12-24,,\n";
    let (s, r) = send_csv(
        &app,
        "/api/v1/customers/import?dry_run=true",
        good,
        "text/csv; charset=utf-8",
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            r["rows"].as_u64(),
            r["created"].as_u64(),
            r["updated"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(r["organizations_created"], 1);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM customers").await,
        before
    );
    let (s, r) = send_csv(&app, "/api/v1/customers/import", good, "text/csv").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            r["created"].as_u64(),
            r["updated"].as_u64(),
            r["dry_run"].as_bool()
        ),
        (Some(2), Some(1), Some(false))
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM customers").await,
        before + 2
    );
    let (_, k) = app.get(&format!("/api/v1/customers/{known_id}")).await;
    assert_eq!(k["name"], "Known Person");
    assert_eq!(k["attributes"]["plan"], "pro");
    let org = k["organization_id"].as_i64().unwrap();
    let (_, members) = app
        .get(&format!("/api/v1/organizations/{org}/members"))
        .await;
    assert_eq!(members.as_array().unwrap().len(), 2, "{members}");
    // Again: everyone exists now.
    let (_, r) = send_csv(&app, "/api/v1/customers/import", good, "text/csv").await;
    assert_eq!(
        (r["created"].as_u64(), r["updated"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM organizations").await,
        1
    );

    // Organisations, and what is not a CSV upload.
    let orgs = "name,domain,employees\nGlobex,globex.example,120\nInitech,initech.example,many\nUmbrella,globex.example,5\n";
    let (s, r) = send_csv(&app, "/api/v1/organizations/import", orgs, "text/csv").await;
    assert_error(s, &r, 422, Some("attributes.employees"));
    let got: Vec<(u64, &str)> = r["report"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(3, "attributes.employees"), (4, "domain")], "{r}");
    let orgs = "name,domain,employees\nGlobex,globex.example,120\nInitech,initech.example,40\n";
    let (s, r) = send_csv(&app, "/api/v1/organizations/import", orgs, "text/csv").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["created"].as_u64(), r["updated"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, g) = app.get(&format!("/api/v1/organizations/{org}")).await;
    assert_eq!(
        (g["domain"].as_str(), g["attributes"]["employees"].as_f64()),
        (Some("globex.example"), Some(120.0))
    );
    let (s, e) = send_csv(&app, "/api/v1/customers/import", good, "application/json").await;
    assert_error(s, &e, 415, None);
    let (s, r) = send_csv(
        &app,
        "/api/v1/customers/import?dry_run=true",
        "name\nNobody\n",
        "text/csv",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["errors"][0]["field"], "email");
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/customers/import",
            Some(&app.agent.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
    app.stop().await;
}

async fn the_card_shows_value_and_explains_churn_risk(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let email = "ruth@example.com";
    let mut cid = 0;
    for i in 0..3 {
        let (s, t) = app
            .post(
                "/api/v1/tickets",
                json!({"subject": format!("Still broken {i}"),
                "body": "This is terrible, I am angry and disappointed. Nobody answers.",
                "customer": {"email": email}}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        cid = t["customer"]["id"].as_i64().unwrap();
    }
    let placed = (rapport_domain::Clock::now(&rapport_domain::SystemClock).to_datetime()
        - chrono::Duration::days(120))
    .to_rfc3339();
    for (id, price, status) in [
        ("R-1", "100.00", "delivered"),
        ("R-2", "20.50", "delivered"),
        ("R-3", "999.00", "cancelled"),
    ] {
        let (s, o) = app
            .post(
                "/api/v1/orders",
                json!({"external_id": id, "customer": {"email": email}, "currency": "EUR",
                "lines": [{"sku": "S", "name": "Thing", "quantity": 1, "unit_price": price}],
                "status": status, "placed_at": placed}),
            )
            .await;
        assert_eq!(s, 201, "{o}");
    }
    let (s, card) = app
        .call(
            "GET",
            &format!("/api/v1/customers/{cid}/card"),
            Some(&app.agent.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{card}");
    assert_eq!(
        card["lifetime_value"],
        json!([{"currency": "EUR", "total": "120.50", "orders": 2,
        "first_order_at": card["lifetime_value"][0]["first_order_at"], "last_order_at": card["lifetime_value"][0]["last_order_at"]}])
    );
    assert_eq!(card["mood"]["messages"], 3);
    assert_eq!(card["mood"]["upset"], 3, "{card}");
    let risk = &card["churn_risk"];
    assert_eq!(risk["level"], "high", "{card}");
    assert_eq!(
        risk["explained"],
        "3 contacts in 7 days, 3 of 3 messages in 30 days upset, no order in 90 days"
    );
    // The same card beside the ticket, and on the customer's page, in words.
    {
        use crate::sessions_trust::PASSWORD;
        use crate::web::{client, set_password, sign_in};
        set_password(&app, "agent.a@example.com", PASSWORD).await;
        app.call(
            "PATCH",
            &format!("/api/v1/customers/{cid}"),
            Some(&app.supervisor.token),
            Some(json!({"tier": "vip"})),
        )
        .await;
        let (_, mine) = app.get(&format!("/api/v1/customers/{cid}")).await;
        let tid = mine["tickets"][0]["id"].as_i64().unwrap();
        let http = client();
        let (session, _) = sign_in(&app, &http, "agent.a@example.com", PASSWORD).await;
        for path in [format!("/tickets/{tid}"), format!("/customers/{cid}")] {
            let html = crate::loyalty::page(&app, &http, &session, &path).await;
            assert!(
                html.contains("<strong>Churn risk: high</strong> — 3 contacts in 7 days"),
                "{html}"
            );
            assert!(
                html.contains("Lifetime value: EUR 120.50 over 2 orders"),
                "{html}"
            );
            assert!(
                html.contains(r#"<span class="badge tier">vip</span>"#),
                "{html}"
            );
            assert!(html.contains("Latest interactions"), "{html}");
            assert!(html.contains("R-3 — cancelled, 999.00 EUR"), "{html}");
            // Beside a ticket, the card leaves out that ticket's own interactions (the
            // page shows them); on the customer's page it lists them with the others.
            let card = html
                .split(r#"aria-label="Customer card""#)
                .nth(1)
                .and_then(|rest| rest.split("</div>").next())
                .unwrap_or_default();
            let own = format!("/tickets/{tid}\"");
            assert_eq!(
                card.contains(&own),
                path.starts_with("/customers"),
                "{card}"
            );
            assert!(card.contains("/tickets/"), "{card}");
        }
    }
    // A content customer reads as such.
    let calm = app
        .ticket(
            "Question",
            "How do I change my address? Thanks!",
            "calm@example.com",
        )
        .await;
    let (_, card) = app
        .get(&format!(
            "/api/v1/customers/{}/card",
            calm["customer"]["id"]
        ))
        .await;
    assert_eq!(card["churn_risk"]["level"], "low");
    assert_eq!(card["churn_risk"]["explained"], "no sign of leaving");
    assert_eq!(card["lifetime_value"], json!([]));
    let (s, e) = app.get("/api/v1/customers/999999/card").await;
    assert_error(s, &e, 404, None);
    app.stop().await;
}

async fn segments_list_the_customers_meeting_every_condition(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.post(
        "/api/v1/attributes",
        json!({"target": "customer", "key": "plan", "label": "Plan",
        "kind": "choice", "choices": ["free", "pro"]}),
    )
    .await;
    let mut ids = Vec::new();
    for (email, plan, spent) in [
        ("ada@example.com", "pro", Some("300.00")),
        ("ben@example.com", "free", None),
        ("cat@example.com", "pro", Some("50.00")),
        ("dov@example.com", "pro", Some("120.00")),
    ] {
        let t = app.ticket("Hi", "Hello", email).await;
        let cid = t["customer"]["id"].as_i64().unwrap();
        app.patch(
            &format!("/api/v1/customers/{cid}"),
            json!({"attributes": {"plan": plan}}),
        )
        .await;
        if let Some(price) = spent {
            let (s, _) = app
                .post("/api/v1/orders", json!({"external_id": format!("S-{email}"), "customer": {"email": email},
                    "currency": "EUR", "lines": [{"sku": "S", "name": "Thing", "quantity": 1, "unit_price": price}],
                    "status": "delivered"}))
                .await;
            assert_eq!(s, 201);
        }
        ids.push(cid);
    }
    app.patch(
        &format!("/api/v1/customers/{}", ids[0]),
        json!({"tier": "vip"}),
    )
    .await;
    let (s, seg) = app
        .post(
            "/api/v1/segments",
            json!({"name": "Pro buyers", "conditions": [
            {"field": "attribute", "key": "plan", "op": "is", "value": "pro"},
            {"field": "lifetime_value", "currency": "EUR", "op": "at_least", "value": "100"}]}),
        )
        .await;
    assert_eq!(s, 201, "{seg}");
    let sid = seg["id"].as_i64().unwrap();
    let page = members(&app, format!("/api/v1/segments/{sid}/customers")).await;
    let got: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["customer_id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, [ids[0], ids[3]], "{page}");
    assert!(page["next_after"].is_null());
    let first = members(&app, format!("/api/v1/segments/{sid}/customers?limit=1")).await;
    assert_eq!(first["items"][0]["customer_id"], ids[0]);
    let after = first["next_after"].as_i64().unwrap();
    let second = members(
        &app,
        format!("/api/v1/segments/{sid}/customers?limit=1&after={after}"),
    )
    .await;
    assert_eq!(second["items"][0]["customer_id"], ids[3]);
    let (_, vip) = app
        .post(
            "/api/v1/segments",
            json!({"name": "VIP", "conditions": [{"field": "tier", "op": "is", "value": "vip"}]}),
        )
        .await;
    let page = members(&app, format!("/api/v1/segments/{}/customers", vip["id"])).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["email"], "ada@example.com");
    let (_, none) = app
        .post("/api/v1/segments", json!({"name": "Never bought", "conditions": [{"field": "orders", "op": "at_most", "value": 0}]}))
        .await;
    let page = members(&app, format!("/api/v1/segments/{}/customers", none["id"])).await;
    assert_eq!(page["items"][0]["email"], "ben@example.com", "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    for (body, status, field) in [
        (
            json!({"name": "Pro buyers", "conditions": [{"field": "tier", "op": "is_set"}]}),
            409,
            None,
        ),
        (
            json!({"name": "Bad", "conditions": [{"field": "attribute", "op": "is", "value": "x"}]}),
            422,
            Some("conditions[0].key"),
        ),
        (
            json!({"name": "Bad", "conditions": []}),
            422,
            Some("conditions"),
        ),
        (
            json!({"name": "Bad", "conditions": [{"field": "shoe_size", "op": "is", "value": 1}]}),
            422,
            Some("conditions[0].field"),
        ),
        (
            json!({"name": " ", "conditions": [{"field": "tier", "op": "is_set"}]}),
            422,
            Some("name"),
        ),
    ] {
        let (s, e) = app.post("/api/v1/segments", body).await;
        assert_error(s, &e, status, field);
    }
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/segments",
            Some(&app.agent.token),
            Some(json!({"name": "Mine", "conditions": [{"field": "tier", "op": "is_set"}]})),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (_, list) = app.get("/api/v1/segments").await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    let (s, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/segments/{sid}"),
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = app.get(&format!("/api/v1/segments/{sid}/customers")).await;
    assert_error(s, &e, 404, None);
    app.stop().await;
}

async fn members(app: &TestApp, path: String) -> Value {
    let (s, page) = app.call("GET", &path, Some(&app.agent.token), None).await;
    assert_eq!(s, 200, "{page}");
    page
}
