//! Agents read times in their own time zone: the preference over the API and the
//! preferences page, and the workspace's pages converting every time they show.

use rapport_domain::{Timestamp, Zone};
use reqwest::header;
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{TestApp, assert_error};

fn instant(v: &Value) -> Timestamp {
    serde_json::from_value(v.clone()).unwrap()
}

async fn page(app: &TestApp, http: &reqwest::Client, cookie: &str, path: &str) -> String {
    let r = http
        .get(app.url(path))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

both_backends! {
    async fn the_time_zone_preference_round_trips(app) {
        let tok = Some(app.agent.token.as_str());
        let (s, p) = app.call("GET", "/api/v1/me/preferences", tok, None).await;
        assert_eq!((s, p["time_zone"].clone()), (200, json!("UTC")));
        // Any spelling of a known zone is stored by its canonical name.
        let (s, p) = app
            .call("PUT", "/api/v1/me/preferences", tok,
                Some(json!({"email_notifications": true, "time_zone": "america/new_york"})))
            .await;
        assert_eq!((s, p), (200, json!({"email_notifications": true, "time_zone": "America/New_York"})));
        let (_, p) = app.call("GET", "/api/v1/me/preferences", tok, None).await;
        assert_eq!(p, json!({"email_notifications": true, "time_zone": "America/New_York"}));
        // Leaving it out leaves it as it is.
        let (s, p) = app
            .call("PUT", "/api/v1/me/preferences", tok, Some(json!({"email_notifications": false})))
            .await;
        assert_eq!((s, p), (200, json!({"email_notifications": false, "time_zone": "America/New_York"})));
        // Unknown zones are refused, naming the field, and change nothing.
        for bad in [json!("Mars/Olympus_Mons"), json!(""), json!(5)] {
            let (s, e) = app
                .call("PUT", "/api/v1/me/preferences", tok,
                    Some(json!({"email_notifications": true, "time_zone": bad})))
                .await;
            assert_error(s, &e, 422, Some("time_zone"));
        }
        let (_, p) = app.call("GET", "/api/v1/me/preferences", tok, None).await;
        assert_eq!(p, json!({"email_notifications": false, "time_zone": "America/New_York"}));
        // Another agent's zone is their own.
        let (_, p) = app.call("GET", "/api/v1/me/preferences", Some(app.agent_b.token.as_str()), None).await;
        assert_eq!(p["time_zone"], "UTC");
        app.stop().await;
    }

    async fn pages_show_times_in_the_agents_zone(app) {
        let t = app.ticket("Clock question", "What time is it?", "tz@customer.example").await;
        let id = t["id"].as_i64().unwrap();
        let created = instant(&t["created_at"]);
        let utc = Zone::utc().local(created);
        crate::web::set_password(&app, "agent.a@example.com", "agent a password").await;
        let http = crate::web::client();
        let (session, csrf) = crate::web::sign_in(&app, &http, "agent.a@example.com", "agent a password").await;
        let cookie = format!("rapport_session={session}");
        let before = page(&app, &http, &cookie, &format!("/tickets/{id}")).await;
        assert!(before.contains(&utc), "UTC until the agent chooses: {utc}");

        // The preferences page offers the zones, and saves the choice.
        let prefs = page(&app, &http, &cookie, "/preferences").await;
        assert!(prefs.contains(r#"<option value="UTC" selected>"#), "UTC is the default");
        assert!(prefs.contains(r#"<option value="America/New_York">"#));
        let r = http
            .post(app.url("/preferences"))
            .header(header::COOKIE, cookie.clone())
            .form(&[("csrf", csrf.as_str()), ("email_notifications", "on"), ("time_zone", "America/New_York")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let prefs = page(&app, &http, &cookie, "/preferences").await;
        assert!(prefs.contains(r#"<option value="America/New_York" selected>"#));
        let (_, p) = app.call("GET", "/api/v1/me/preferences", Some(app.agent.token.as_str()), None).await;
        assert_eq!(p, json!({"email_notifications": true, "time_zone": "America/New_York"}));
        let r = http
            .post(app.url("/preferences"))
            .header(header::COOKIE, cookie.clone())
            .form(&[("csrf", csrf.as_str()), ("time_zone", "Atlantis/Lost")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);

        // Every time on the ticket page, the inbox and the customer page is local now.
        let ny = Zone::parse("America/New_York").unwrap();
        let local = ny.local(created);
        assert!(local.ends_with(" EST") || local.ends_with(" EDT"), "{local}");
        assert_ne!(local, utc);
        let ticket = page(&app, &http, &cookie, &format!("/tickets/{id}")).await;
        assert!(ticket.contains(&local), "ticket page shows {local}");
        assert!(!ticket.contains(&utc), "and no UTC time {utc}");
        let (_, fresh) = app.get(&format!("/api/v1/tickets/{id}")).await;
        let updated = ny.local(instant(&fresh["updated_at"]));
        let inbox = page(&app, &http, &cookie, "/inbox").await;
        assert!(inbox.contains(&updated), "inbox shows {updated}");
        let customer = page(&app, &http, &cookie, &format!("/customers/{}", t["customer"]["id"])).await;
        assert!(customer.contains(&local), "customer page shows {local}");
        // Another agent still reads UTC.
        crate::web::set_password(&app, "agent.b@example.com", "agent b password").await;
        let (session_b, _) = crate::web::sign_in(&app, &http, "agent.b@example.com", "agent b password").await;
        let other = page(&app, &http, &format!("rapport_session={session_b}"), &format!("/tickets/{id}")).await;
        assert!(other.contains(&utc), "{utc}");
        app.stop().await;
    }
}
