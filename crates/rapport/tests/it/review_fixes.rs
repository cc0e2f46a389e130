//! Fixes from the newcomer review of issue 9: one guess counter per account whichever door
//! checks the password (sign-in, re-authentication, preferences, the API), HTTP limits
//! per IPv6 /64, background requests that do not slide the idle timeout, a `/live`
//! stream that ends with its session, one token maker and one password rule, and portal
//! sign-in links within their share of the automatic-mail cap.

use std::net::IpAddr;
use std::sync::Arc;

use futures::StreamExt;
use reqwest::header;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error, count};
use crate::on_both;
use crate::web::{client, login_attempt as attempt, set_password, sign_in};
use rapport_domain::{Clock, ManualClock, SystemClock};

const PASSWORD: &str = "correct horse battery";

on_both!(
    every_password_check_of_an_account_shares_one_counter,
    the_api_password_change_is_throttled_like_sign_in,
    ipv6_clients_count_per_64_over_http,
    background_requests_do_not_slide_the_idle_timeout,
    live_streams_end_with_their_session,
    tokens_have_a_prefix_and_passwords_one_rule,
    sign_in_links_keep_to_their_share_of_the_auto_mail_cap,
);

/// A client whose connections come from `ip` (any 127.x address reaches the server).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A form post with a session cookie from `http`: status and body.
async fn post_form(
    app: &TestApp,
    http: &reqwest::Client,
    session: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let r = http
        .post(app.url(path))
        .header(header::COOKIE, format!("rapport_session={session}"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// `POST /api/v1/me/password` from `http` with `token`: status, `Retry-After`, body.
async fn api_password(
    http: &reqwest::Client,
    app: &TestApp,
    token: &str,
    current: &str,
) -> (u16, Option<String>, Value) {
    let r = http
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(token)
        .json(&json!({"current_password": current, "new_password": "a brand new password"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, r.json().await.unwrap_or(Value::Null))
}

async fn get_status(app: &TestApp, session: &str, path: &str) -> u16 {
    client()
        .get(app.url(path))
        .header(header::COOKIE, format!("rapport_session={session}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Finding 3: the re-authentication prompt, the preferences password form, the API and
/// the sign-in page count wrong passwords of one account from one address together.
async fn every_password_check_of_an_account_shares_one_counter(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    set_password(&app, "admin@example.com", PASSWORD).await;
    let http = client_from("127.0.0.21");
    let (session, csrf) = sign_in(&app, &http, "admin@example.com", PASSWORD).await;
    // Past the re-authentication window, making an admin asks for the password again.
    clock.advance_secs(11 * 60);
    let make_admin = |pw: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("email", "new.admin@example.com".to_owned()),
            ("name", "New Admin".to_owned()),
            ("role", "admin".to_owned()),
            ("password", "another long password".to_owned()),
            ("reauth_password", pw.to_owned()),
        ]
    };
    for guess in ["guess one", "guess two"] {
        let form = make_admin(guess);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, page) = post_form(&app, &http, &session, "/admin/users", &form).await;
        assert_eq!(s, 401, "{page}");
    }
    for guess in ["guess three", "guess four"] {
        let form = [
            ("csrf", csrf.as_str()),
            ("current_password", guess),
            ("new_password", "a brand new password"),
        ];
        let (s, page) = post_form(&app, &http, &session, "/preferences/password", &form).await;
        assert_eq!(s, 422, "{page}");
    }
    let (s, _, body) = api_password(&http, &app, &app.admin.token, "guess five").await;
    assert_error(s, &body, 422, Some("current_password"));
    // Five wrong passwords through four doors: the sixth check, of any door, waits.
    assert_eq!(
        attempt(&app.base, &http, "admin@example.com", PASSWORD, None).await,
        429,
        "sign-in shares the counter"
    );
    let form = make_admin(PASSWORD);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        post_form(&app, &http, &session, "/admin/users", &form)
            .await
            .0,
        429
    );
    // The owner from elsewhere is not slowed; after the delay the right password passes.
    assert_eq!(
        attempt(
            &app.base,
            &client_from("127.0.0.22"),
            "Admin@Example.com",
            PASSWORD,
            None
        )
        .await,
        303
    );
    clock.advance_secs(1);
    assert_eq!(
        post_form(&app, &http, &session, "/admin/users", &form)
            .await
            .0,
        303
    );
    app.stop().await;
}

/// Finding 2: wrong current passwords to `POST /api/v1/me/password` are slowed down.
async fn the_api_password_change_is_throttled_like_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    let thief = client_from("127.0.0.23");
    for i in 0..5 {
        let (s, _, body) =
            api_password(&thief, &app, &app.agent.token, &format!("guess {i}")).await;
        assert_error(s, &body, 422, Some("current_password"));
    }
    let (s, retry, body) = api_password(&thief, &app, &app.agent.token, PASSWORD).await;
    assert_eq!(s, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    let secs: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    // The sign-in page from that address waits too; elsewhere the owner signs in.
    assert_eq!(
        attempt(&app.base, &thief, "agent.a@example.com", PASSWORD, None).await,
        429
    );
    assert_eq!(
        attempt(
            &app.base,
            &client_from("127.0.0.24"),
            "agent.a@example.com",
            PASSWORD,
            None
        )
        .await,
        303
    );
    // A current password longer than any password is refused on its field, not hashed.
    let owner = client_from("127.0.0.25");
    let (s, _, body) = api_password(&owner, &app, &app.agent.token, &"x".repeat(5000)).await;
    assert_error(s, &body, 422, Some("current_password"));
    let (s, _, body) = api_password(&owner, &app, &app.agent.token, PASSWORD).await;
    assert_eq!(s, 204, "{body}");
    app.stop().await;
}

/// Finding 4: behind a trusted proxy, IPv6 clients of one /64 are one client.
async fn ipv6_clients_count_per_64_over_http(backend: Backend) {
    let app = TestApp::spawn_with(backend, Arc::new(SystemClock), |c| {
        c.trusted_proxies = Some("1".into())
    })
    .await;
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    let proxy = client();
    let mut statuses = Vec::new();
    for i in 1..=6 {
        let xff = format!("2001:db8:1:2::{i:x}");
        statuses.push(
            attempt(
                &app.base,
                &proxy,
                "agent.a@example.com",
                "guess",
                Some(&xff),
            )
            .await,
        );
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429],
        "a fresh address of the same /64 gains nothing"
    );
    assert_eq!(
        attempt(
            &app.base,
            &proxy,
            "agent.a@example.com",
            PASSWORD,
            Some("2001:db8:1:2:ffff::9")
        )
        .await,
        429
    );
    assert_eq!(
        attempt(
            &app.base,
            &proxy,
            "agent.a@example.com",
            PASSWORD,
            Some("2001:db8:1:3::1")
        )
        .await,
        303,
        "another /64 is another client"
    );
    // The API token limiter too: 20 failures from one /64, each from a new address.
    for i in 0..20 {
        let s = proxy
            .get(app.url("/api/v1/tickets"))
            .bearer_auth("rpt_wrong")
            .header("x-forwarded-for", format!("2001:db8:9:9::{:x}", i + 1))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(s, 401);
    }
    let s = proxy
        .get(app.url("/api/v1/tickets"))
        .bearer_auth(&app.agent.token)
        .header("x-forwarded-for", "2001:db8:9:9:abcd::1")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(s, 429);
    app.stop().await;
}

/// Finding 6: presence pings and `?partial=` re-fetches do not keep a session alive.
async fn background_requests_do_not_slide_the_idle_timeout(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    set_password(&app, "admin@example.com", PASSWORD).await;
    let ticket = app
        .ticket("Open on a screen", "Hello", "cust@customer.example")
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let http = client();
    let (session, csrf) = sign_in(&app, &http, "admin@example.com", PASSWORD).await;
    let presence = format!("/tickets/{id}/presence");
    // The page pings every few seconds while it is open; the agent is away.
    for _ in 0..7 {
        clock.advance_secs(3600);
        let (s, body) = post_form(
            &app,
            &http,
            &session,
            &presence,
            &[("csrf", &csrf), ("typing", "0")],
        )
        .await;
        assert_eq!(s, 200, "{body}");
    }
    clock.advance_secs(3600 + 1);
    assert_eq!(
        get_status(&app, &session, "/inbox").await,
        303,
        "eight hours without the agent"
    );

    let (session, _) = sign_in(&app, &http, "admin@example.com", PASSWORD).await;
    for _ in 0..7 {
        clock.advance_secs(3600);
        assert_eq!(
            get_status(&app, &session, &format!("/tickets/{id}?partial=thread")).await,
            200
        );
    }
    clock.advance_secs(3600 + 1);
    assert_eq!(
        get_status(&app, &session, "/inbox").await,
        303,
        "re-fetches are not the agent either"
    );

    // A real page load still slides it.
    let (session, _) = sign_in(&app, &http, "admin@example.com", PASSWORD).await;
    clock.advance_secs(7 * 3600);
    assert_eq!(
        get_status(&app, &session, &format!("/tickets/{id}")).await,
        200
    );
    clock.advance_secs(7 * 3600);
    assert_eq!(get_status(&app, &session, "/inbox").await, 200);
    app.stop().await;
}

/// Finding 6: an open `/live` stream ends once its agent is deactivated, before it
/// sends another event (from a second after: the session is looked at, before events, at
/// most once a second).
async fn live_streams_end_with_their_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    let http = client();
    let (session, _) = sign_in(&app, &http, "agent.a@example.com", PASSWORD).await;
    let resp = http
        .get(app.url("/live"))
        .header(header::COOKIE, format!("rapport_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    // While the session lives, events arrive.
    app.ticket("Before", "Seen", "one@customer.example").await;
    let mut seen = String::new();
    while !seen.contains("event: ticket") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(60), body.next())
            .await
            .expect("an event while signed in")
            .expect("the stream is open")
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let (s, _) = app
        .patch(
            &format!("/api/v1/users/{}", app.agent.id),
            json!({"active": false}),
        )
        .await;
    assert_eq!(s, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    app.ticket(
        "After",
        "Not for a deactivated agent",
        "two@customer.example",
    )
    .await;
    let mut after = String::new();
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(60), body.next())
            .await
            .expect("the stream ends rather than hangs")
        {
            Some(Ok(chunk)) => after.push_str(&String::from_utf8_lossy(&chunk)),
            Some(Err(_)) | None => break,
        }
        assert!(
            !after.contains("event: ticket"),
            "sent after deactivation: {after}"
        );
    }
    assert!(!after.contains("event: ticket"), "{after}");
    app.stop().await;
}

/// Finding 8: the harness's tokens are made like every other (with a prefix); the admin
/// page refuses a password over 1,024 characters like the API and the CLI.
async fn tokens_have_a_prefix_and_passwords_one_rule(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (s, mine) = app
        .call("GET", "/api/v1/tokens", Some(&app.agent.token), None)
        .await;
    assert_eq!(s, 200);
    let prefix = mine[0]["prefix"].as_str().expect("a prefix").to_owned();
    assert!(
        app.agent.token.starts_with(&prefix) && prefix.len() > 4,
        "{prefix}"
    );

    set_password(&app, "admin@example.com", PASSWORD).await;
    let http = client();
    let (session, csrf) = sign_in(&app, &http, "admin@example.com", PASSWORD).await;
    let long = "x".repeat(1025);
    let form = [
        ("csrf", csrf.as_str()),
        ("email", "long.password@example.com"),
        ("name", "Long Password"),
        ("role", "agent"),
        ("password", long.as_str()),
    ];
    let (s, page) = post_form(&app, &http, &session, "/admin/users", &form).await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("10 to 1024 characters"), "{page}");
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM users WHERE email = 'long.password@example.com'"
        )
        .await,
        0
    );
    let (s, body) = app
        .post(
            "/api/v1/users",
            json!({"email": "long@example.com", "name": "L", "role": "agent", "password": long}),
        )
        .await;
    assert_error(s, &body, 422, Some("password"));
    app.stop().await;
}

/// Finding 9: portal sign-in links use at most half of `RAPPORT_AUTO_MAIL_PER_HOUR`, so
/// requests for them cannot use up the acknowledgements' budget.
async fn sign_in_links_keep_to_their_share_of_the_auto_mail_cap(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, Arc::new(SystemClock), |c| c.auto_mail_per_hour = 4).await;
    let customers = [
        "c1@customer.example",
        "c2@customer.example",
        "c3@customer.example",
        "c4@customer.example",
    ];
    for c in customers {
        app.ticket("Question", "Hello", c).await;
    }
    let ask_for_links = |ip: &'static str| {
        let app = &app;
        async move {
            let http = client_from(ip);
            let form = http.get(app.url("/portal/signin")).send().await.unwrap();
            let csrf = form
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|v| v.strip_prefix("rapport_portal_csrf="))
                .map(|v| v.split(';').next().unwrap().to_owned())
                .unwrap();
            for c in customers {
                let r = http
                    .post(app.url("/portal/signin"))
                    .header(header::COOKIE, format!("rapport_portal_csrf={csrf}"))
                    .form(&[("csrf", csrf.as_str()), ("email", c)])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }
    };
    // With no mailbox nothing can go out, and no address's allowance is spent on it.
    ask_for_links("127.0.0.25").await;
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM auto_mail_log").await,
        0
    );
    let (s, b) = app
        .post(
            "/api/v1/mailboxes",
            json!({"address": "help@desk.example", "name": "Help", "acknowledge": false}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    ask_for_links("127.0.0.26").await;
    let links = count(
        &app.db,
        "SELECT COUNT(*) FROM auto_mail_log WHERE kind = 'signin'",
    )
    .await;
    assert_eq!(links, 2, "half of the hourly cap of 4");
    assert!(
        count(&app.db, "SELECT COUNT(*) FROM auto_mail_log").await < 4,
        "acknowledgements keep a share"
    );
    app.stop().await;
}
