//! The workspace's admin pages for issue 12 (automations, SLA policies and calendars,
//! webhooks): what they list, what their forms do, and who may use them — the same checks
//! as the API's.

use crate::harness::{Backend, TestApp};
use crate::on_both;
use crate::sessions_trust::{PASSWORD, post_form};
use crate::web::{client, hidden, set_password, sign_in};

on_both!(automations_sla_and_webhooks_are_managed_in_the_workspace);

async fn get(app: &TestApp, session: &str, path: &str) -> (u16, String) {
    let r = client()
        .get(app.url(path))
        .header(
            reqwest::header::COOKIE,
            format!("rapport_session={session}"),
        )
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn automations_sla_and_webhooks_are_managed_in_the_workspace(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        std::sync::Arc::new(rapport_domain::SystemClock),
        |_| {},
    )
    .await;
    for who in [
        "sup@example.com",
        "agent.a@example.com",
        "admin@example.com",
    ] {
        set_password(&app, who, PASSWORD).await;
    }
    let http = client();
    let (agent, _) = sign_in(&app, &http, "agent.a@example.com", PASSWORD).await;
    for path in ["/admin/automations", "/admin/sla", "/admin/webhooks"] {
        assert_eq!(get(&app, &agent, path).await.0, 403, "{path}");
    }
    // Nor may an agent post their forms (with a good token).
    let (_, inbox) = get(&app, &agent, "/inbox").await;
    let agent_csrf = hidden(&inbox, "csrf");
    for path in [
        "/admin/automations",
        "/admin/automations/1/toggle",
        "/admin/automations/1/delete",
        "/admin/sla/policies",
        "/admin/sla/calendars/1/delete",
        "/admin/webhooks",
    ] {
        let (s, _) = post_form(
            &app,
            &agent,
            path,
            &[
                ("csrf", &agent_csrf),
                ("name", "x"),
                ("trigger", "event"),
                ("time_zone", "UTC"),
                ("url", "https://x.example"),
                ("events", "ticket.created"),
            ],
        )
        .await;
        assert_eq!(s, 403, "{path}");
    }
    let (_, rules) = app.get("/api/v1/automations").await;
    assert_eq!(rules.as_array().unwrap().len(), 5, "nothing changed");
    let (sup, _) = sign_in(&app, &http, "sup@example.com", PASSWORD).await;
    // Webhooks send ticket data out: admins only.
    assert_eq!(get(&app, &sup, "/admin/webhooks").await.0, 403);
    // A form without its token is refused.
    let (s, _) = post_form(
        &app,
        &sup,
        "/admin/automations/1/toggle",
        &[("csrf", "forged")],
    )
    .await;
    assert_eq!(s, 403);

    // Automations: the shipped rules are listed; a new one is written from the form.
    let (s, html) = get(&app, &sup, "/admin/automations").await;
    assert_eq!(s, 200);
    assert!(html.contains("Check in after a ticket is solved"), "{html}");
    let csrf = hidden(&html, "csrf");
    let (s, body) = post_form(
        &app,
        &sup,
        "/admin/automations",
        &[
            ("csrf", &csrf),
            ("name", "Refunds to billing"),
            ("trigger", "event"),
            ("events", "ticket.created, customer.replied"),
            (
                "conditions",
                r#"[{"field": "subject", "op": "contains", "value": "refund"}]"#,
            ),
            ("actions", r#"[{"type": "add_tags", "tags": ["refund"]}]"#),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let (_, rules) = app.get("/api/v1/automations").await;
    let rule = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Refunds to billing")
        .unwrap()
        .clone();
    assert_eq!(
        rule["events"],
        serde_json::json!(["ticket.created", "customer.replied"])
    );
    let id = rule["id"].as_i64().unwrap();
    // A bad form is refused, saying what is wrong.
    let (s, body) = post_form(
        &app,
        &sup,
        "/admin/automations",
        &[
            ("csrf", &csrf),
            ("name", "Broken"),
            ("trigger", "event"),
            ("events", "ticket.created"),
            ("actions", r#"[{"type": "reply", "text": "{{secret}}"}]"#),
        ],
    )
    .await;
    assert_eq!(s, 422);
    assert!(body.contains("unknown placeholder"), "{body}");
    // Switched off, then its page shows its form.
    let (s, _) = post_form(
        &app,
        &sup,
        &format!("/admin/automations/{id}/toggle"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, 303);
    let (_, rule) = app.get(&format!("/api/v1/automations/{id}")).await;
    assert_eq!(rule["enabled"], false);
    let (s, html) = get(&app, &sup, &format!("/admin/automations/{id}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("Edit Refunds to billing") && html.contains("It has not run yet."));

    // SLA: a calendar with a lunch break, then a policy measured in it.
    let (s, html) = get(&app, &sup, "/admin/sla").await;
    assert_eq!(s, 200);
    assert!(html.contains("SLA policies"));
    let (s, body) = post_form(
        &app,
        &sup,
        "/admin/sla/calendars",
        &[
            ("csrf", &csrf),
            ("name", "Berlin office"),
            ("time_zone", "Europe/Berlin"),
            ("hours", "mon 09:00-12:00 13:00-17:00\ntue 09:00-17:00"),
            ("holidays", "2026-12-25"),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let (_, cals) = app.get("/api/v1/sla/calendars").await;
    let cal = cals
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Berlin office")
        .unwrap()
        .clone();
    assert_eq!(
        cal["hours"]["mon"],
        serde_json::json!(["09:00-12:00", "13:00-17:00"])
    );
    let cal_id = cal["id"].as_i64().unwrap().to_string();
    let (s, body) = post_form(
        &app,
        &sup,
        "/admin/sla/policies",
        &[
            ("csrf", &csrf),
            ("name", "Urgent in office hours"),
            ("position", "10"),
            ("priorities", "urgent"),
            ("first_response_minutes", "60"),
            ("calendar_id", &cal_id),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(s, 303, "{body}");
    let (_, pols) = app.get("/api/v1/sla/policies").await;
    let pol = pols
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Urgent in office hours")
        .unwrap()
        .clone();
    assert_eq!(pol["targets"]["first_response_minutes"], 60);
    assert_eq!(
        pol["conditions"]["priorities"],
        serde_json::json!(["urgent"])
    );
    assert_eq!(
        pol["calendar_id"].as_i64().map(|i| i.to_string()),
        Some(cal_id)
    );
    let (s, body) = post_form(
        &app,
        &sup,
        "/admin/sla/policies",
        &[
            ("csrf", &csrf),
            ("name", "Bad"),
            ("priorities", "someday"),
            ("first_response_minutes", "60"),
        ],
    )
    .await;
    assert_eq!(s, 422, "{body}");

    // A customer who asks for no check-ins: turned off from their page by an agent.
    let t = app
        .ticket("Thanks", "All good now", "no-checkins@example.com")
        .await;
    let customer = t["customer"]["id"].as_i64().unwrap();
    let (s, html) = get(&app, &agent, &format!("/customers/{customer}")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Check-in messages after a solved ticket: on"),
        "{html}"
    );
    let (s, _) = post_form(
        &app,
        &agent,
        &format!("/customers/{customer}/check-ins"),
        &[("csrf", &agent_csrf), ("check_ins", "off")],
    )
    .await;
    assert_eq!(s, 303);
    let (_, c) = app
        .get(&format!("/api/v1/customers/{customer}/check-ins"))
        .await;
    assert_eq!(c["enabled"], false);
    let (_, html) = get(&app, &agent, &format!("/customers/{customer}")).await;
    assert!(
        html.contains("off (at the customer&#x27;s request)")
            || html.contains("off (at the customer"),
        "{html}"
    );

    // The classifier: its threshold from the form, a rebuild on demand.
    let (s, html) = get(&app, &sup, "/admin/classifier").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("value=\"60\""),
        "the default 0.6 shown as 60%"
    );
    let (s, _) = post_form(
        &app,
        &sup,
        "/admin/classifier/threshold",
        &[("csrf", &csrf), ("threshold_percent", "75")],
    )
    .await;
    assert_eq!(s, 303);
    let (_, cl) = app.get("/api/v1/classifier").await;
    assert_eq!(cl["threshold"], 0.75);
    let (s, body) = post_form(
        &app,
        &sup,
        "/admin/classifier/threshold",
        &[("csrf", &csrf), ("threshold_percent", "150")],
    )
    .await;
    assert_eq!(s, 422, "{body}");
    let (s, _) = post_form(&app, &sup, "/admin/classifier/retrain", &[("csrf", &csrf)]).await;
    assert_eq!(s, 303);
    let (_, cl) = app.get("/api/v1/classifier").await;
    assert!(cl["retrained_at"].is_string(), "{cl}");
    assert_eq!(get(&app, &agent, "/admin/classifier").await.0, 403);

    // Webhooks (admin): added from the form, its secret shown once.
    let (admin, _) = sign_in(&app, &http, "admin@example.com", PASSWORD).await;
    let (s, html) = get(&app, &admin, "/admin/webhooks").await;
    assert_eq!(s, 200);
    let csrf = hidden(&html, "csrf");
    let (s, html) = post_form(
        &app,
        &admin,
        "/admin/webhooks",
        &[
            ("csrf", &csrf),
            ("url", "https://hooks.example.com/rapport"),
            ("events", "ticket.created, sla.breached"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains("Its signing secret, shown only now: <code>whsec_"),
        "{html}"
    );
    let (_, hooks) = app.get("/api/v1/webhooks").await;
    assert_eq!(hooks[0]["url"], "https://hooks.example.com/rapport");
    assert_eq!(
        hooks[0]["events"],
        serde_json::json!(["sla.breached", "ticket.created"])
    );
    let (s, body) = post_form(
        &app,
        &admin,
        "/admin/webhooks",
        &[
            ("csrf", &csrf),
            ("url", "ftp://x"),
            ("events", "ticket.created"),
        ],
    )
    .await;
    assert_eq!(s, 422, "{body}");
    // The address setting, for single-host setups.
    let (s, _) = post_form(
        &app,
        &admin,
        "/admin/webhooks/settings",
        &[("csrf", &csrf), ("allow_private", "on")],
    )
    .await;
    assert_eq!(s, 303);
    let (_, set) = app.get("/api/v1/webhooks/settings").await;
    assert_eq!(set["allow_private"], true);
    app.stop().await;
}
