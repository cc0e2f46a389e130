//! Orders (issue 14): the shop pushes orders by its own id — a second push updates, never
//! duplicates; money is exact decimal text; bad input names the field and writes nothing;
//! a batch stores all or none; agents see a customer's orders and link them to tickets.

use serde_json::{Value, json};

use crate::harness::{TestApp, assert_error, count};
use crate::on_both;

on_both!(
    orders_are_pushed_once_and_updated_after,
    bad_orders_name_the_field_and_write_nothing,
    a_batch_stores_all_or_none,
    agents_see_orders_and_link_them_to_tickets,
    returns_follow_the_state_machine,
    the_demo_has_a_shop,
    products_show_their_return_and_ticket_rates,
    orders_import_from_csv_all_or_nothing,
);

fn order(external_id: &str, email: &str) -> Value {
    json!({
        "external_id": external_id,
        "customer": {"email": email, "name": "Ada Shopper"},
        "currency": "EUR",
        "lines": [
            {"sku": "MUG-1", "name": "Mug", "quantity": 2, "unit_price": "4.50"},
            {"sku": "TEA-9", "name": "Tea", "quantity": 1, "unit_price": 0.1}
        ],
        "status": "paid",
        "placed_at": "2026-11-20T09:30:00Z",
        "shipping": "3.95"
    })
}

async fn orders_are_pushed_once_and_updated_after(backend: crate::harness::Backend) {
    let app = TestApp::spawn(backend).await;
    let (s, o) = app
        .post("/api/v1/orders", order("1001", "ada@example.com"))
        .await;
    assert_eq!(s, 201, "{o}");
    let id = o["id"].as_i64().unwrap();
    assert_eq!(o["external_id"], "1001");
    assert_eq!(o["currency"], "EUR");
    assert_eq!(o["status"], "paid");
    assert_eq!(o["subtotal"], "9.10");
    assert_eq!(o["shipping"], "3.95");
    assert_eq!(o["total"], "13.05");
    assert_eq!(o["lines"][0]["total"], "9.00");
    assert_eq!(o["lines"][1]["unit_price"], "0.10");
    assert_eq!(o["placed_at"], "2026-11-20T09:30:00Z");
    let (_, c) = app
        .get(&format!("/api/v1/customers/{}", o["customer_id"]))
        .await;
    assert_eq!(c["email"], "ada@example.com");
    assert_eq!(c["name"], "Ada Shopper");

    // The same push again: 200, the same order, nothing new recorded.
    let events_before = count(
        &app.db,
        "SELECT COUNT(*) FROM events WHERE kind = 'order_changed'",
    )
    .await;
    assert_eq!(events_before, 1);
    let (s, again) = app
        .post("/api/v1/orders", order("1001", "ada@example.com"))
        .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["id"], id);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM events WHERE kind = 'order_changed'"
        )
        .await,
        1
    );

    // Shipped: a shipment appears, a line changes; still one order.
    let mut shipped = order("1001", "ada@example.com");
    shipped["status"] = json!("shipped");
    shipped["lines"] =
        json!([{"sku": "MUG-1", "name": "Mug", "quantity": 3, "unit_price": "4.50"}]);
    shipped["shipments"] = json!([{"carrier": "DHL", "tracking_number": "JD014600", "status": "in-transit",
                                   "expected_at": "2026-11-24T12:00:00Z"}]);
    let (s, up) = app.post("/api/v1/orders", shipped).await;
    assert_eq!(s, 200, "{up}");
    assert_eq!(up["id"], id);
    assert_eq!(up["status"], "shipped");
    assert_eq!(up["lines"].as_array().unwrap().len(), 1);
    assert_eq!(up["total"], "17.45");
    assert_eq!(up["shipments"][0]["status"], "in-transit");
    assert_eq!(up["shipments"][0]["tracking_number"], "JD014600");
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM orders").await, 1);
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM order_lines").await, 1);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM events WHERE kind = 'order_changed'"
        )
        .await,
        2
    );
    let (s, got) = app.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!((s, &got), (200, &up));

    // Currencies keep their own decimals.
    let mut yen = order("JP-1", "ada@example.com");
    yen["currency"] = json!("jpy");
    yen["lines"] = json!([{"sku": "K", "name": "Kettle", "quantity": 1, "unit_price": 4800}]);
    yen.as_object_mut().unwrap().remove("shipping");
    let (s, y) = app.post("/api/v1/orders", yen).await;
    assert_eq!(s, 201, "{y}");
    assert_eq!(
        (y["currency"].as_str(), y["total"].as_str()),
        (Some("JPY"), Some("4800"))
    );

    // Twenty pushes of one new order at once: one order, one 201.
    let pushes = (0..20).map(|_| {
        let app = &app;
        async move {
            app.post("/api/v1/orders", order("RACE-1", "race@example.com"))
                .await
        }
    });
    let results = futures::future::join_all(pushes).await;
    assert_eq!(results.iter().filter(|(s, _)| *s == 201).count(), 1);
    assert!(
        results.iter().all(|(s, _)| *s == 200 || *s == 201),
        "{results:?}"
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM orders WHERE external_id = 'RACE-1'"
        )
        .await,
        1
    );
}

async fn bad_orders_name_the_field_and_write_nothing(backend: crate::harness::Backend) {
    let app = TestApp::spawn(backend).await;
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Change, &str)> = vec![
        (Box::new(|o| o["external_id"] = json!("  ")), "external_id"),
        (
            Box::new(|o| o["customer"]["email"] = json!("not an address")),
            "customer.email",
        ),
        (Box::new(|o| o["currency"] = json!("EURO")), "currency"),
        (Box::new(|o| o["status"] = json!("lost")), "status"),
        (
            Box::new(|o| o["lines"][1]["unit_price"] = json!("0.105")),
            "lines[1].unit_price",
        ),
        (
            Box::new(|o| o["lines"][1]["unit_price"] = json!(-1)),
            "lines[1].unit_price",
        ),
        (
            Box::new(|o| o["lines"][0]["quantity"] = json!(0)),
            "lines[0].quantity",
        ),
        (
            Box::new(|o| o["lines"][0]["sku"] = json!("")),
            "lines[0].sku",
        ),
        (Box::new(|o| o["shipping"] = json!("1e3")), "shipping"),
        (Box::new(|o| o["discount"] = json!("100.00")), "discount"),
        (
            Box::new(|o| o["placed_at"] = json!("2099-01-01T00:00:00Z")),
            "placed_at",
        ),
        (
            Box::new(|o| {
                o["shipments"] =
                    json!([{"carrier": "DHL", "tracking_number": "1", "status": "flying"}])
            }),
            "shipments[0].status",
        ),
        (
            Box::new(|o| o["lines"][0]["quantity"] = json!("two")),
            "lines[0].quantity",
        ),
        (Box::new(|o| o["colour"] = json!("red")), "colour"),
    ];
    for (change, field) in cases {
        let mut o = order("BAD-1", "bad@example.com");
        change(&mut o);
        let (s, e) = app.post("/api/v1/orders", o).await;
        assert!(s == 422 || s == 400, "{field}: {s} {e}");
        assert_error(s, &e, s, Some(field));
    }
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM customers WHERE email = 'bad@example.com'"
        )
        .await,
        0
    );
    // Only an administrator's token pushes orders.
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/orders",
            Some(&app.agent.token),
            Some(order("A-1", "a@example.com")),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/orders",
            None,
            Some(order("A-1", "a@example.com")),
        )
        .await;
    assert_error(s, &e, 401, None);
}

async fn a_batch_stores_all_or_none(backend: crate::harness::Backend) {
    let app = TestApp::spawn(backend).await;
    let mut orders: Vec<Value> = (0..50)
        .map(|i| order(&format!("B-{i}"), &format!("buyer{}@example.com", i % 7)))
        .collect();
    orders[37]["lines"][0]["unit_price"] = json!("abc");
    let (s, e) = app
        .post("/api/v1/orders/batch", json!({"orders": orders}))
        .await;
    assert_error(s, &e, 422, Some("orders[37].lines[0].unit_price"));
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM orders").await, 0);

    orders[37] = order("B-37", "buyer2@example.com");
    // One order twice in a batch: created, then unchanged.
    orders.push(order("B-3", "buyer3@example.com"));
    let (s, r) = app
        .post("/api/v1/orders/batch", json!({"orders": orders}))
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (
            r["created"].as_u64(),
            r["updated"].as_u64(),
            r["unchanged"].as_u64()
        ),
        (Some(50), Some(0), Some(1))
    );
    assert_eq!(r["results"][50]["id"], r["results"][3]["id"]);
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM orders").await, 50);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM order_lines").await,
        100
    );
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM customers WHERE email LIKE 'buyer%'"
        )
        .await,
        7
    );
    let (s, e) = app
        .post("/api/v1/orders/batch", json!({"orders": []}))
        .await;
    assert_error(s, &e, 422, Some("orders"));
}

async fn agents_see_orders_and_link_them_to_tickets(backend: crate::harness::Backend) {
    let app = TestApp::spawn(backend).await;
    for (i, day) in ["2026-11-01", "2026-11-15", "2026-11-10"]
        .iter()
        .enumerate()
    {
        let mut o = order(&format!("S-{i}"), "sam@example.com");
        o["placed_at"] = json!(format!("{day}T10:00:00Z"));
        assert_eq!(app.post("/api/v1/orders", o).await.0, 201);
    }
    let (_, other) = app
        .post("/api/v1/orders", order("X-1", "other@example.com"))
        .await;
    let t = app
        .ticket("Where is my order?", "It has not come.", "sam@example.com")
        .await;
    let (tid, cid) = (
        t["id"].as_i64().unwrap(),
        t["customer"]["id"].as_i64().unwrap(),
    );
    let agent = Some(app.agent.token.as_str());
    let (s, list) = app
        .call(
            "GET",
            &format!("/api/v1/customers/{cid}/orders"),
            agent,
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["S-1", "S-2", "S-0"]);
    let (s, e) = app
        .call("GET", "/api/v1/customers/999999/orders", agent, None)
        .await;
    assert_error(s, &e, 404, None);

    let s1 = list[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/tickets/{tid}/orders");
    let (s, linked) = app
        .call("POST", &path, agent, Some(json!({"order_id": s1})))
        .await;
    assert_eq!((s, linked["external_id"].as_str()), (200, Some("S-1")));
    assert_eq!(
        app.call("POST", &path, agent, Some(json!({"order_id": s1})))
            .await
            .0,
        200
    );
    // Another customer's order is not this ticket's.
    let (s, e) = app
        .call("POST", &path, agent, Some(json!({"order_id": other["id"]})))
        .await;
    assert_error(s, &e, 409, None);
    let (s, e) = app
        .call("POST", &path, agent, Some(json!({"order_id": 999999})))
        .await;
    assert_error(s, &e, 404, None);
    let (s, l) = app.call("GET", &path, agent, None).await;
    assert_eq!(s, 200);
    assert_eq!(l.as_array().unwrap().len(), 1);
    assert_eq!(l[0]["id"], s1);
    // A ticket of a team the agent is not in is out of reach, and so are its orders.
    let (_, hidden) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "B", "body": "b", "team_id": app.team_b,
                                         "customer": {"email": "sam@example.com"}}),
        )
        .await;
    let (s, e) = app
        .call(
            "GET",
            &format!("/api/v1/tickets/{}/orders", hidden["id"]),
            agent,
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
}

async fn returns_follow_the_state_machine(backend: crate::harness::Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, o) = app
        .post("/api/v1/orders", order("R-1", "rita@example.com"))
        .await;
    let oid = o["id"].as_i64().unwrap();
    let (_, t) = app
        .post("/api/v1/tickets", json!({"subject": "Mug is chipped", "body": "Can I send it back?",
                                         "team_id": app.team_a, "customer": {"email": "rita@example.com"}}))
        .await;
    let tid = t["id"].as_i64().unwrap();
    let agent = Some(app.agent.token.as_str());
    let ask_path = format!("/api/v1/orders/{oid}/returns");
    let ask = |body: Value| app.call("POST", &ask_path, agent, Some(body));
    let (s, r) = ask(
        json!({"lines": [{"sku": "MUG-1", "quantity": 1}], "reason": "Chipped", "ticket_id": tid}),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let rid = r["id"].as_i64().unwrap();
    assert_eq!(r["state"], "requested");
    assert_eq!(r["next"], json!(["approve", "reject", "cancel"]));
    // Two mugs were bought and one is already on its way back.
    let (s, e) = ask(json!({"lines": [{"sku": "MUG-1", "quantity": 2}], "reason": "Both"})).await;
    assert_error(s, &e, 422, Some("lines[0].quantity"));
    let (s, e) = ask(json!({"lines": [{"sku": "NOPE", "quantity": 1}], "reason": "x"})).await;
    assert_error(s, &e, 422, Some("lines[0].sku"));
    let (s, e) = ask(json!({"lines": [], "reason": "x"})).await;
    assert_error(s, &e, 422, Some("lines"));
    let (s, e) = ask(json!({"lines": [{"sku": "TEA-9", "quantity": 1}], "reason": " "})).await;
    assert_error(s, &e, 422, Some("reason"));

    let mv_path = format!("/api/v1/returns/{rid}/moves");
    let mv = |action: &str, extra: Value| {
        let mut body = json!({"action": action});
        if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(x.clone());
        }
        app.call("POST", &mv_path, agent, Some(body))
    };
    let (s, e) = mv("refund", json!({})).await;
    assert_error(s, &e, 409, None);
    let (s, e) = mv("reject", json!({})).await;
    assert_error(s, &e, 422, Some("note"));
    let (s, e) = mv("fly", json!({})).await;
    assert_error(s, &e, 422, Some("action"));
    for (action, state) in [
        ("approve", "approved"),
        ("send-instructions", "instructions-sent"),
        ("receive", "received"),
    ] {
        let (s, r) = mv(action, json!({"note": format!("{action} done")})).await;
        assert_eq!((s, r["state"].as_str()), (200, Some(state)), "{r}");
    }
    let (s, e) = mv("refund", json!({"refund_amount": "100.00"})).await;
    assert_error(s, &e, 422, Some("refund_amount"));
    let (s, e) = mv("receive", json!({"refund_amount": "1.00"})).await;
    assert_error(s, &e, 422, Some("refund_amount"));
    let (s, r) = mv("refund", json!({})).await;
    assert_eq!(
        (s, r["state"].as_str(), r["refund_amount"].as_str()),
        (200, Some("refunded"), Some("4.50")),
        "{r}"
    );
    assert_eq!(r["next"], json!([]));
    let steps: Vec<&str> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "request",
            "approve",
            "send-instructions",
            "receive",
            "refund"
        ]
    );
    assert!(
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["at"].is_string() && s["user_id"] == app.agent.id)
    );
    let (s, e) = mv("exchange", json!({})).await;
    assert_error(s, &e, 409, None);

    // The other mug: asked, then cancelled — and then it may be asked again.
    let (s, r2) =
        ask(json!({"lines": [{"sku": "MUG-1", "quantity": 1}], "reason": "Second one too"})).await;
    assert_eq!(s, 201, "{r2}");
    let (s, _) = app
        .call(
            "POST",
            &format!("/api/v1/returns/{}/moves", r2["id"]),
            agent,
            Some(json!({"action": "cancel"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        ask(json!({"lines": [{"sku": "MUG-1", "quantity": 1}], "reason": "After all"}))
            .await
            .0,
        201
    );

    let (_, list) = app
        .get(&format!("/api/v1/customers/{}/returns", o["customer_id"]))
        .await;
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["requested", "cancelled", "refunded"]);
    // The customer's timeline shows each return with its state as it now stands.
    let (_, tl) = app
        .get(&format!("/api/v1/customers/{}/timeline", o["customer_id"]))
        .await;
    let returns: Vec<&str> = tl["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "return")
        .map(|i| i["detail"].as_str().unwrap())
        .collect();
    assert_eq!(returns, ["requested", "cancelled", "refunded"], "{tl}");
    let (s, got) = app.get(&format!("/api/v1/returns/{rid}")).await;
    assert_eq!((s, got["state"].as_str()), (200, Some("refunded")));
    let (_, evs) = app
        .call("GET", &format!("/api/v1/tickets/{tid}/events"), agent, None)
        .await;
    let changes = evs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "return_changed")
        .count();
    assert_eq!(changes, 5);
    let (s, e) = app.get("/api/v1/returns/999999").await;
    assert_error(s, &e, 404, None);
}

async fn the_demo_has_a_shop(backend: crate::harness::Backend) {
    let (_scratch, db) = crate::migrations::migrated(backend).await;
    let size = rapport_demo::DemoSize {
        tickets: 60,
        customers: 20,
        seed: 5,
    };
    let summary = rapport_demo::populate(&db, &rapport_domain::SystemClock, &size)
        .await
        .unwrap();
    assert!(summary.created);
    let orders = count(&db, "SELECT COUNT(*) FROM orders").await;
    let customers = count(&db, "SELECT COUNT(DISTINCT customer_id) FROM orders").await;
    assert!(
        orders >= customers && customers >= 10,
        "{orders} orders of {customers} customers"
    );
    assert!(
        count(
            &db,
            "SELECT COUNT(*) FROM shipments WHERE status = 'in-transit'"
        )
        .await
            + count(
                &db,
                "SELECT COUNT(*) FROM shipments WHERE status = 'delivered'"
            )
            .await
            > 0
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM returns").await, 3);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM returns WHERE state = 'refunded'").await,
        1
    );
    assert!(
        count(
            &db,
            "SELECT COUNT(*) FROM points_balances WHERE balance > 0"
        )
        .await
            >= 10
    );
    // The CRM: organisations, VIPs, birthdays, billing, a refund, segments, points rules.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM organizations").await, 2);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM customers WHERE tier = 'vip'").await,
        3
    );
    assert!(
        count(
            &db,
            "SELECT COUNT(*) FROM customers WHERE birthday IS NOT NULL"
        )
        .await
            >= 3
    );
    assert!(count(&db, "SELECT COUNT(*) FROM invoices").await >= 10);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM invoices").await,
        count(&db, "SELECT COUNT(*) FROM payments").await
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM refunds").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM segments").await, 2);
    assert_eq!(
        count(&db, "SELECT earn_per_unit FROM loyalty_settings").await,
        1
    );
    // One voucher within the agents' limit, one waiting for a supervisor.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM vouchers").await, 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM approvals WHERE state = 'pending'"
        )
        .await,
        1
    );
}

async fn products_show_their_return_and_ticket_rates(backend: crate::harness::Backend) {
    let app = crate::harness::TestApp::spawn(backend).await;
    let push = |id: &str, lines: Value, status: &str| {
        json!({"external_id": id, "customer": {"email": "pat@example.com"}, "currency": "EUR",
               "lines": lines, "status": status})
    };
    let mut ids = Vec::new();
    for (id, lines, status) in [
        (
            "P-1",
            json!([{"sku": "MUG", "name": "Mug", "quantity": 2, "unit_price": "5"},
                       {"sku": "TEE", "name": "T-shirt", "quantity": 1, "unit_price": "15"}]),
            "delivered",
        ),
        (
            "P-2",
            json!([{"sku": "MUG", "name": "Mug", "quantity": 3, "unit_price": "5"}]),
            "delivered",
        ),
        (
            "P-3",
            json!([{"sku": "MUG", "name": "Mug", "quantity": 10, "unit_price": "5"}]),
            "cancelled",
        ),
    ] {
        let (s, o) = app.post("/api/v1/orders", push(id, lines, status)).await;
        assert_eq!(s, 201, "{o}");
        ids.push(o["id"].as_i64().unwrap());
    }
    let (s, _) = app
        .post(
            &format!("/api/v1/orders/{}/returns", ids[0]),
            json!({"lines": [{"sku": "MUG", "quantity": 1}], "reason": "Chipped"}),
        )
        .await;
    assert_eq!(s, 201);
    let (_, rejected) = app
        .post(
            &format!("/api/v1/orders/{}/returns", ids[0]),
            json!({"lines": [{"sku": "TEE", "quantity": 1}], "reason": "Too big"}),
        )
        .await;
    let (s, _) = app
        .post(
            &format!("/api/v1/returns/{}/moves", rejected["id"]),
            json!({"action": "reject", "note": "Worn"}),
        )
        .await;
    assert_eq!(s, 200);
    let t = app
        .ticket("Where is it?", "My mugs", "pat@example.com")
        .await;
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{}/orders", t["id"]),
            json!({"order_id": ids[1]}),
        )
        .await;
    assert!((200..300).contains(&s));

    let (s, r) = app.get("/api/v1/reports/products?sku=MUG").await;
    assert_eq!(s, 200, "{r}");
    let p = |sku: &str| {
        r["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["sku"] == sku)
            .unwrap()
            .clone()
    };
    let mug = p("MUG");
    assert_eq!(
        (
            mug["orders"].as_i64(),
            mug["units"].as_i64(),
            mug["returned"].as_i64(),
            mug["tickets"].as_i64()
        ),
        (Some(2), Some(5), Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(
        (mug["return_rate"].as_f64(), mug["ticket_rate"].as_f64()),
        (Some(0.2), Some(0.5))
    );
    let tee = p("TEE");
    assert_eq!(
        (
            tee["units"].as_i64(),
            tee["returned"].as_i64(),
            tee["tickets"].as_i64()
        ),
        (Some(1), Some(0), Some(0))
    );
    assert_eq!(r["products"][0]["sku"], "MUG", "best-selling first");
    let weeks = r["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 13);
    let sum = |k: &str| weeks.iter().map(|w| w[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!((sum("units"), sum("returned"), sum("tickets")), (5, 1, 1));
    assert_eq!(
        weeks.last().unwrap()["units"],
        5,
        "this week's sales are in the last week"
    );
    let (s, e) = app
        .get("/api/v1/reports/products?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z")
        .await;
    assert_error(s, &e, 422, Some("since"));
    let (s, e) = app
        .call(
            "GET",
            "/api/v1/reports/products",
            Some(&app.agent.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
}

async fn orders_import_from_csv_all_or_nothing(backend: crate::harness::Backend) {
    let app = crate::harness::TestApp::spawn(backend).await;
    let send = |csv: String, query: &'static str| {
        let app = &app;
        async move {
            let r = app
                .http
                .post(app.url(&format!("/api/v1/orders/import{query}")))
                .bearer_auth(&app.admin.token)
                .header("content-type", "text/csv")
                .body(csv)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let broken = "external_id,email,name,currency,status,placed_at,sku,item,quantity,unit_price\n\
                  C-1,ann@example.com,Ann,EUR,paid,2026-11-20T09:30:00Z,MUG,Mug,2,4.50\n\
                  C-1,ann@example.com,,EUR,,,TEA,Tea,1,3.20\n\
                  C-2,bo@example.com,Bo,EUR,lost,,TEE,T-shirt,1,15\n\
                  C-3,cy@example.com,Cy,EUR,paid,,TEE,T-shirt,-1,15\n\
                  C-4,dee@example.com,Dee,XYZ,paid,,TEE,T-shirt,1,15\n";
    let (s, r) = send(broken.to_owned(), "?dry_run=true").await;
    assert_eq!(s, 200, "{r}");
    let got: Vec<(u64, &str)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [(4, "status"), (5, "quantity"), (6, "currency")],
        "{r}"
    );
    let (s, r) = send(broken.to_owned(), "").await;
    assert_error(s, &r, 422, Some("status"));
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM orders").await, 0);

    let good: String = broken.lines().take(3).map(|l| format!("{l}\n")).collect();
    let (s, r) = send(good.clone(), "?dry_run=true").await;
    assert_eq!(
        (s, r["created"].as_u64(), r["rows"].as_u64()),
        (200, Some(1), Some(2)),
        "{r}"
    );
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM orders").await, 0);
    let (s, r) = send(good.clone(), "").await;
    assert_eq!(
        (s, r["created"].as_u64(), r["updated"].as_u64()),
        (200, Some(1), Some(0)),
        "{r}"
    );
    let (_, o) = app.get("/api/v1/customers/1/orders").await;
    assert_eq!(o[0]["external_id"], "C-1", "{o}");
    assert_eq!(
        (
            o[0]["total"].as_str(),
            o[0]["lines"].as_array().unwrap().len()
        ),
        (Some("12.20"), 2)
    );
    let (_, r) = send(good, "").await;
    assert_eq!(
        (r["created"].as_u64(), r["updated"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(count(&app.db, "SELECT COUNT(*) FROM orders").await, 1);
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/orders/import",
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
}
