//! Issue 9, sessions and the portal: sliding idle timeouts, the password again before
//! admin actions, `__Host-` cookies and HSTS over TLS, a portal key that is never stored,
//! server-side portal sign-out, revocable private links, a sign-in `next` that stays on
//! the site, and merges across customers that keep each customer's conversation apart.

use std::sync::Arc;

use reqwest::header;
use serde_json::json;

use crate::harness::{Backend, TestApp, assert_error, count};
use crate::on_both;
use crate::web::{client, hidden, set_password, sign_in};
use rapport_domain::{Clock, ManualClock, SystemClock};
use rapport_store::op;

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) mod portal;

on_both!(
    idle_sessions_end_and_each_use_slides_them,
    admin_actions_take_the_password_again,
    host_cookies_and_hsts_over_https_plain_over_http,
    sign_in_next_stays_on_the_site,
    merges_across_customers_need_confirmation_and_keep_conversations_apart,
);

/// A server on a clock the test moves.
async fn with_clock(backend: Backend) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    (app, clock)
}

async fn inbox_status(app: &TestApp, session: &str) -> u16 {
    client()
        .get(app.url("/inbox"))
        .header(header::COOKIE, format!("rapport_session={session}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn last_seen(app: &TestApp) -> Vec<i64> {
    app.db
        .read(op!(c => {
            rapport_store::testing::query_in(c, "SELECT last_seen_at FROM sessions ORDER BY token_hash", &[])
                .await?
                .iter()
                .map(|r| r.int(0))
                .collect()
        }))
        .await
        .unwrap()
}

async fn idle_sessions_end_and_each_use_slides_them(backend: Backend) {
    let (app, clock) = with_clock(backend).await;
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    let http = client();
    let (session, _) = sign_in(&app, &http, "agent.a@example.com", PASSWORD).await;
    // Used every 7 hours, a session outlives the 8-hour idle timeout…
    for _ in 0..3 {
        clock.advance_secs(7 * 3600);
        assert_eq!(inbox_status(&app, &session).await, 200);
    }
    // …but 8 hours without use end it.
    clock.advance_secs(8 * 3600 + 1);
    assert_eq!(inbox_status(&app, &session).await, 303, "idle for 8 hours");

    // A use is recorded at most once a minute.
    let (session, _) = sign_in(&app, &http, "agent.a@example.com", PASSWORD).await;
    let before = last_seen(&app).await;
    clock.advance_secs(30);
    assert_eq!(inbox_status(&app, &session).await, 200);
    assert_eq!(last_seen(&app).await, before, "no write within the minute");
    clock.advance_secs(31);
    assert_eq!(inbox_status(&app, &session).await, 200);
    assert_ne!(last_seen(&app).await, before, "recorded after a minute");

    // However much it is used, a session ends 7 days after signing in.
    let mut used_for = 61;
    while used_for + 7 * 3600 < 7 * 86_400 {
        clock.advance_secs(7 * 3600);
        used_for += 7 * 3600;
        assert_eq!(inbox_status(&app, &session).await, 200);
    }
    clock.advance_secs(7 * 86_400 - used_for + 1);
    assert_eq!(inbox_status(&app, &session).await, 303, "the absolute cap");
    app.stop().await;
}

pub(crate) async fn post_form(
    app: &TestApp,
    session: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let r = client()
        .post(app.url(path))
        .header(header::COOKIE, format!("rapport_session={session}"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

async fn users_named(app: &TestApp, email: &str) -> i64 {
    let (_, users) = app.get("/api/v1/users").await;
    let list = users
        .as_array()
        .or_else(|| users["items"].as_array())
        .unwrap()
        .clone();
    list.iter().filter(|u| u["email"] == email).count() as i64
}

async fn admin_actions_take_the_password_again(backend: Backend) {
    let (app, clock) = with_clock(backend).await;
    set_password(&app, "admin@example.com", PASSWORD).await;
    let (session, csrf) = sign_in(&app, &client(), "admin@example.com", PASSWORD).await;
    // Right after signing in, the password was just given.
    let admin = |email: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("email", email.into()),
            ("name", "New Admin".into()),
            ("role", "admin".into()),
            ("password", "another long password".into()),
        ]
    };
    let form = admin("first.admin@example.com");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _) = post_form(&app, &session, "/admin/users", &form).await;
    assert_eq!(s, 303);
    assert_eq!(users_named(&app, "first.admin@example.com").await, 1);

    // Eleven minutes later, making an admin asks for the password, keeping the form.
    clock.advance_secs(11 * 60);
    let form = admin("second.admin@example.com");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, page) = post_form(&app, &session, "/admin/users", &form).await;
    assert_eq!(s, 401, "{page}");
    assert!(
        page.contains("Confirm your password") && page.contains("name=\"reauth_password\""),
        "{page}"
    );
    assert_eq!(hidden(&page, "email"), "second.admin@example.com");
    assert_eq!(users_named(&app, "second.admin@example.com").await, 0);
    let mut wrong = form.clone();
    wrong.push(("reauth_password", "not my password"));
    let (s, page) = post_form(&app, &session, "/admin/users", &wrong).await;
    assert_eq!(s, 401);
    assert!(page.contains("not right"), "{page}");
    assert_eq!(users_named(&app, "second.admin@example.com").await, 0);
    let mut right = form.clone();
    right.push(("reauth_password", PASSWORD));
    let (s, _) = post_form(&app, &session, "/admin/users", &right).await;
    assert_eq!(s, 303, "the form goes on once the password is right");
    assert_eq!(users_named(&app, "second.admin@example.com").await, 1);
    // For ten minutes after that, no question.
    clock.advance_secs(9 * 60);
    let form = admin("third.admin@example.com");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        post_form(&app, &session, "/admin/users", &form).await.0,
        303
    );

    // Mailbox credentials too; a mailbox without them does not ask.
    clock.advance_secs(11 * 60);
    let (s, _) = post_form(
        &app,
        &session,
        "/admin/mailboxes",
        &[
            ("csrf", &csrf),
            ("address", "plain@example.com"),
            ("name", "Plain"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let imap = [
        ("csrf", csrf.as_str()),
        ("address", "imap@example.com"),
        ("name", "Imap"),
        ("imap_host", "imap.example.com"),
        ("imap_user", "u"),
        ("imap_password", "hunter2"),
    ];
    let (s, page) = post_form(&app, &session, "/admin/mailboxes", &imap).await;
    assert_eq!(s, 401, "{page}");
    let mailboxes = || count(&app.db, "SELECT COUNT(*) FROM mailboxes");
    assert_eq!(mailboxes().await, 1);
    let mut with_password = imap.to_vec();
    with_password.push(("reauth_password", PASSWORD));
    assert_eq!(
        post_form(&app, &session, "/admin/mailboxes", &with_password)
            .await
            .0,
        303
    );
    assert_eq!(mailboxes().await, 2);
    // Pointing an existing mailbox's password at another server asks too.
    clock.advance_secs(11 * 60);
    let (_, list) = app.get("/api/v1/mailboxes").await;
    let list = list
        .as_array()
        .or_else(|| list["items"].as_array())
        .unwrap()
        .clone();
    let id = list
        .iter()
        .find(|m| m["address"] == "imap@example.com")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, _) = post_form(
        &app,
        &session,
        &format!("/admin/mailboxes/{id}"),
        &[
            ("csrf", &csrf),
            ("name", "Imap"),
            ("imap_host", "evil.example"),
        ],
    )
    .await;
    assert_eq!(s, 401);

    // The API (a token, not a session) is unaffected.
    let (s, body) = app
        .post(
            "/api/v1/users",
            json!({"email": "api.admin@example.com", "name": "Api",
        "role": "admin", "password": "another long password"}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    app.stop().await;
}

pub(crate) fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

pub(crate) fn cookie_named(cookies: &[String], name: &str) -> Option<(String, String)> {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| {
            let value = c.split(';').next().unwrap()[name.len() + 1..].to_owned();
            (value, c.clone())
        })
}

async fn host_cookies_and_hsts_over_https_plain_over_http(backend: Backend) {
    let tls = TestApp::spawn_with(backend, Arc::new(SystemClock), |c| {
        c.public_url = Some("https://help.example.com".into());
    })
    .await;
    set_password(&tls, "agent.a@example.com", PASSWORD).await;
    let http = client();
    let form = http.get(tls.url("/login")).send().await.unwrap();
    assert_eq!(
        form.headers()[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000"
    );
    let cookies = set_cookies(&form);
    let (login_csrf, raw) =
        cookie_named(&cookies, "__Host-rapport_login_csrf").expect("a __Host- name");
    assert!(
        raw.contains("; Secure") && raw.contains("Path=/") && !raw.contains("Domain"),
        "{raw}"
    );
    assert!(cookie_named(&cookies, "rapport_login_csrf").is_none());
    let r = http
        .post(tls.url("/login"))
        .header(
            header::COOKIE,
            format!("__Host-rapport_login_csrf={login_csrf}"),
        )
        .form(&[
            ("csrf", login_csrf.as_str()),
            ("email", "agent.a@example.com"),
            ("password", PASSWORD),
            ("next", "/inbox"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (session, raw) = cookie_named(&set_cookies(&r), "__Host-rapport_session").unwrap();
    assert!(
        raw.contains("; Secure") && raw.contains("Path=/") && !raw.contains("Domain"),
        "{raw}"
    );
    let inbox = |name: &'static str| {
        http.get(tls.url("/inbox"))
            .header(header::COOKIE, format!("{name}={session}"))
            .send()
    };
    assert_eq!(inbox("__Host-rapport_session").await.unwrap().status(), 200);
    assert_eq!(
        inbox("rapport_session").await.unwrap().status(),
        303,
        "the plain name is not read over TLS"
    );
    let portal = http.get(tls.url("/portal/new")).send().await.unwrap();
    assert!(cookie_named(&set_cookies(&portal), "__Host-rapport_portal_csrf").is_some());
    tls.stop().await;

    // Over plain HTTP (local use): plain names, no Secure, no HSTS.
    let plain = TestApp::spawn(backend).await;
    let form = http.get(plain.url("/login")).send().await.unwrap();
    assert!(
        form.headers()
            .get(header::STRICT_TRANSPORT_SECURITY)
            .is_none()
    );
    let (_, raw) = cookie_named(&set_cookies(&form), "rapport_login_csrf").unwrap();
    assert!(!raw.contains("Secure"), "{raw}");
    plain.stop().await;
}

async fn sign_in_next_stays_on_the_site(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    let http = client();
    let attacks = [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/%09/evil.example",
        "/%2509/evil.example",
        "/\n/evil.example",
        "/%0a/evil.example",
        "/%2F/evil.example",
        "/%2f%2fevil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%5cevil.example",
        "https://evil.example",
        "https:evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
        " //evil.example",
        "",
        "/\u{0}/evil.example",
        "/\r/evil.example",
        "/%252F%252Fevil.example",
    ];
    for attack in attacks {
        let page = http
            .get(app.url("/login"))
            .query(&[("next", attack)])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(
            hidden(&page.text().await.unwrap(), "next"),
            "/inbox",
            "{attack:?}"
        );
    }
    for (next, to) in [
        ("/%09/evil.example", "/inbox"),
        ("/\t/evil.example", "/inbox"),
        ("/tickets/7?tab=notes", "/tickets/7?tab=notes"),
    ] {
        let form = http.get(app.url("/login")).send().await.unwrap();
        let (csrf, _) = cookie_named(&set_cookies(&form), "rapport_login_csrf").unwrap();
        let r = http
            .post(app.url("/login"))
            .header(header::COOKIE, format!("rapport_login_csrf={csrf}"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "agent.a@example.com"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()[header::LOCATION], to, "{next:?}");
    }
    // Paths of the site are kept.
    let page = http
        .get(app.url("/login"))
        .query(&[("next", "/inbox?view=mine")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        hidden(&page.text().await.unwrap(), "next"),
        "/inbox?view=mine"
    );
    app.stop().await;
}

async fn portal_page(app: &TestApp, id: i64) -> String {
    let generation = app
        .db
        .read(op!(c => rapport_store::portal::link_generation(c, id).await))
        .await
        .unwrap();
    let link = rapport_store::portal::link_path(&app.sealer, id, generation);
    let r = client().get(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

async fn merges_across_customers_need_confirmation_and_keep_conversations_apart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app
        .ticket("Alpha order", "Alpha private question", "alpha@example.com")
        .await["id"]
        .as_i64()
        .unwrap();
    let b = app
        .ticket("Bravo order", "Bravo own question", "bravo@example.com")
        .await["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/tickets/{a}/messages"),
        json!({"body": "Reply sent to alpha"}),
    )
    .await;
    app.post(
        &format!("/api/v1/tickets/{b}/messages"),
        json!({"body": "Reply sent to bravo"}),
    )
    .await;
    let a2 = app
        .ticket("Alpha again", "Alpha second question", "alpha@example.com")
        .await["id"]
        .as_i64()
        .unwrap();

    // Across customers, the API wants an explicit confirmation…
    let (s, body) = app
        .post(&format!("/api/v1/tickets/{a}/merge"), json!({"into": b}))
        .await;
    assert_error(s, &body, 422, Some("confirm_other_customer"));
    let (s, body) = app
        .post(
            &format!("/api/v1/tickets/{a}/merge"),
            json!({"into": b, "confirm_other_customer": false}),
        )
        .await;
    assert_error(s, &body, 422, Some("confirm_other_customer"));
    // …and so does the page, which asks.
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    let (session, csrf) = sign_in(&app, &client(), "agent.a@example.com", PASSWORD).await;
    let (_, tb) = app.get(&format!("/api/v1/tickets/{b}")).await;
    let number = tb["number"].as_i64().unwrap().to_string();
    let (s, page) = post_form(
        &app,
        &session,
        &format!("/tickets/{a}/merge"),
        &[("csrf", &csrf), ("into", &number)],
    )
    .await;
    assert_eq!(s, 409, "{page}");
    assert!(
        page.contains("Merge anyway") && page.contains("name=\"confirm_other_customer\""),
        "{page}"
    );
    let (_, ta) = app.get(&format!("/api/v1/tickets/{a}")).await;
    assert!(ta["merged_into_id"].is_null(), "nothing merged yet");
    // The same customer's tickets merge without a question.
    let (s, body) = app
        .post(&format!("/api/v1/tickets/{a2}/merge"), json!({"into": a}))
        .await;
    assert_eq!(s, 200, "{body}");
    // Confirmed on the page, the merge happens.
    let (s, _) = post_form(
        &app,
        &session,
        &format!("/tickets/{a}/merge"),
        &[
            ("csrf", &csrf),
            ("into", &number),
            ("confirm_other_customer", "1"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    app.post(
        &format!("/api/v1/tickets/{b}/messages"),
        json!({"body": "Reply after the merge"}),
    )
    .await;
    // Agents see the whole thread.
    let (_, msgs) = app.get(&format!("/api/v1/tickets/{b}/messages")).await;
    let bodies = msgs.to_string();
    assert!(bodies.contains("Alpha private question") && bodies.contains("Bravo own question"));

    // Bravo's portal page shows only Bravo's conversation…
    let page = portal_page(&app, b).await;
    for mine in [
        "Bravo own question",
        "Reply sent to bravo",
        "Reply after the merge",
    ] {
        assert!(page.contains(mine), "{mine}: {page}");
    }
    for theirs in [
        "Alpha private question",
        "Reply sent to alpha",
        "Alpha second question",
    ] {
        assert!(!page.contains(theirs), "{theirs} leaked to bravo: {page}");
    }
    // …and Alpha's shows nothing of Bravo's.
    let page = portal_page(&app, a).await;
    for theirs in [
        "Bravo own question",
        "Reply sent to bravo",
        "Reply after the merge",
    ] {
        assert!(!page.contains(theirs), "{theirs} leaked to alpha: {page}");
    }
    app.stop().await;
}
