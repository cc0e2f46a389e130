//! The portal's "My orders and rewards" (issue 14): a signed-in customer sees their
//! orders with where each parcel is, their returns step by step, points and vouchers,
//! and sends items back; nobody else's order can be returned.

use rapport_domain::{Clock, SystemClock};
use rapport_store::op;
use reqwest::header;
use serde_json::json;

use rapport_mail::transport::Relay;

use crate::email::run_jobs_via;
use crate::harness::{Backend, TestApp};
use crate::on_both;
use crate::peers::{SinkOptions, SmtpSink};

on_both!(customers_follow_orders_and_send_items_back);

struct Browser {
    http: reqwest::Client,
    cookie: String,
}

impl Browser {
    async fn signed_in(app: &TestApp, customer: i64) -> Browser {
        let token = rapport_store::secrets::random_hex(32);
        let hash = rapport_store::secrets::token_hash(&token);
        let now = SystemClock.now();
        app.db
            .write(op!(c => rapport_store::portal::create_session(c, customer, &hash, now, 3600).await))
            .await
            .unwrap();
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: format!("rapport_portal={token}; rapport_portal_csrf=form-token"),
        }
    }

    async fn get(&self, app: &TestApp, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(app.url(path))
            .header(header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn post(&self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .http
            .post(app.url(path))
            .header(header::COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

async fn customers_follow_orders_and_send_items_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sink = SmtpSink::start(SinkOptions::default()).await;
    let relay = || Some(Relay::plain("127.0.0.1", sink.port));
    app.post(
        "/api/v1/mailboxes",
        json!({"address": "help@shop.example", "name": "Shop Help"}),
    )
    .await;
    let email = "pia@example.com";
    let (s, o) = app
        .post(
            "/api/v1/orders",
            json!({"external_id": "P-1", "customer": {"email": email}, "currency": "EUR",
            "lines": [{"sku": "MUG-1", "name": "Mug", "quantity": 2, "unit_price": "8.00"},
                      {"sku": "TEE-2", "name": "T-shirt", "quantity": 1, "unit_price": "19.00"}],
            "status": "delivered",
            "shipments": [{"carrier": "DHL", "tracking_number": "JD1", "status": "delivered"}]}),
        )
        .await;
    assert_eq!(s, 201, "{o}");
    let oid = o["id"].as_i64().unwrap();
    let cid = o["customer_id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/customers/{cid}/points"),
        json!({"points": 40, "reason": "Welcome"}),
    )
    .await;
    let (_, v) = app
        .post(
            "/api/v1/vouchers",
            json!({"customer_id": cid, "amount": "5.00", "currency": "EUR"}),
        )
        .await;
    let code = v["code"].as_str().unwrap().to_owned();

    let (s, _) = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/portal/account"))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(s, 303, "not signed in: to the sign-in page");

    let pia = Browser::signed_in(&app, cid).await;
    let (s, html) = pia.get(&app, "/portal/account").await;
    assert_eq!(s, 200);
    for want in [
        "Order P-1",
        "delivered · 35.00 EUR",
        "2 × Mug",
        "Parcel DHL JD1: delivered",
        "Your balance: <strong>40</strong> points",
        "Welcome",
        &format!("<code>{code}</code>: 5.00 EUR, ready to use"),
        "Send items back",
    ] {
        assert!(html.contains(want), "{want} missing: {html}");
    }
    let path = format!("/portal/orders/{oid}/returns");
    // Too many, none, and a stale form change nothing.
    let (s, html) = pia
        .post(
            &app,
            &path,
            &[
                ("csrf", "form-token"),
                ("qty:MUG-1", "3"),
                ("reason", "Chipped"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{html}");
    let (s, _) = pia
        .post(
            &app,
            &path,
            &[
                ("csrf", "form-token"),
                ("qty:MUG-1", "0"),
                ("reason", "Chipped"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = pia
        .post(
            &app,
            &path,
            &[("csrf", "stale"), ("qty:MUG-1", "1"), ("reason", "Chipped")],
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = pia
        .post(
            &app,
            &path,
            &[
                ("csrf", "form-token"),
                ("qty:MUG-1", "1"),
                ("reason", "One arrived chipped"),
            ],
        )
        .await;
    assert_eq!(s, 303);
    let (_, list) = app.get(&format!("/api/v1/customers/{cid}/returns")).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let rid = list[0]["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/returns/{rid}/moves"),
        json!({"action": "approve"}),
    )
    .await;
    let (_, html) = pia.get(&app, "/portal/account").await;
    assert!(html.contains("Return of order P-1: approved"), "{html}");
    // Each step reaches the customer by email too, with where it stands and the way back
    // to the portal.
    run_jobs_via(&app, relay()).await;
    let mails: Vec<(String, String, String)> = sink
        .messages()
        .into_iter()
        .map(|(raw, meta)| {
            let p = rapport_mail::parse::parse(&raw);
            (
                meta["rcpt_tos"][0].as_str().unwrap().to_owned(),
                p.subject.clone(),
                p.text.clone(),
            )
        })
        .filter(|m| m.1.starts_with("Your return"))
        .collect();
    let subjects: Vec<&str> = mails.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Your return of order P-1: requested",
            "Your return of order P-1: approved"
        ],
        "{mails:?}"
    );
    assert!(mails.iter().all(|m| m.0 == email), "{mails:?}");
    assert!(
        mails[1].2.contains("/portal/account#returns") && mails[1].2.contains("1 × MUG-1"),
        "{}",
        mails[1].2
    );
    assert!(html.contains("1 × MUG-1"), "{html}");
    assert!(
        html.contains("requested — we will look at it shortly"),
        "{html}"
    );

    // Only what arrived goes back, for a reason of 1 to 1,000 characters.
    let (_, pending) = app
        .post("/api/v1/orders", json!({"external_id": "P-2", "customer": {"email": email}, "currency": "EUR",
            "lines": [{"sku": "TEE-2", "name": "T-shirt", "quantity": 1, "unit_price": "19.00"}], "status": "paid"}))
        .await;
    let (s, _) = pia
        .post(
            &app,
            &format!("/portal/orders/{}/returns", pending["id"]),
            &[
                ("csrf", "form-token"),
                ("qty:TEE-2", "1"),
                ("reason", "Changed my mind"),
            ],
        )
        .await;
    assert_eq!(s, 409);
    let long = "x".repeat(1001);
    let (s, _) = pia
        .post(
            &app,
            &path,
            &[
                ("csrf", "form-token"),
                ("qty:TEE-2", "1"),
                ("reason", &long),
            ],
        )
        .await;
    assert_eq!(s, 422);
    // Someone else cannot send Pia's order back.
    let other = app.ticket("Hi", "Hello", "olaf@example.com").await;
    let olaf = Browser::signed_in(&app, other["customer"]["id"].as_i64().unwrap()).await;
    let (s, _) = olaf
        .post(
            &app,
            &path,
            &[
                ("csrf", "form-token"),
                ("qty:TEE-2", "1"),
                ("reason", "Mine now"),
            ],
        )
        .await;
    assert_eq!(s, 404);
    let (_, html) = olaf.get(&app, "/portal/account").await;
    assert!(!html.contains("P-1") && !html.contains(&code), "{html}");
    let (_, list) = app.get(&format!("/api/v1/customers/{cid}/returns")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    app.stop().await;
}
