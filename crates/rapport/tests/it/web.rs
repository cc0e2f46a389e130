//! The browser side's security at the HTTP level: sign-in, session cookies, CSRF, rate
//! limits, the portal's signed links, and the page budget's headers.

use reqwest::header;
use reqwest::redirect::Policy;

use crate::both_backends;
use crate::harness::TestApp;
use rapport_store::op;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn cookie_value(resp: &reqwest::Response, name: &str) -> Option<(String, String)> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v.split(';').next().unwrap()[name.len() + 1..].to_owned();
            (value, v.to_owned())
        })
}

pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Gives an agent a password, since the harness makes token-only accounts.
pub async fn set_password(app: &TestApp, email: &str, password: &str) {
    let hash = rapport_store::secrets::hash_password(password).unwrap();
    let email = email.to_owned();
    app.db
        .write(op!(c => {
            rapport_store::testing::execute_in(
                c,
                "UPDATE users SET password_hash = $1 WHERE email = $2",
                &[hash.into(), email.into()],
            )
            .await
        }))
        .await
        .unwrap();
}

/// One sign-in attempt from `http` (a fresh form each time, optionally behind a proxy that
/// says `x-forwarded-for`): the status of the post.
pub async fn login_attempt(
    base: &str,
    http: &reqwest::Client,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> u16 {
    let form = http.get(format!("{base}/login")).send().await.unwrap();
    let csrf = form
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("rapport_login_csrf="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .unwrap();
    let mut req = http
        .post(format!("{base}/login"))
        .header(header::COOKIE, format!("rapport_login_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/inbox"),
        ]);
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.unwrap().status().as_u16()
}

/// Signs in and returns the session cookie and the page's CSRF token.
pub async fn sign_in(
    app: &TestApp,
    http: &reqwest::Client,
    email: &str,
    password: &str,
) -> (String, String) {
    let form = http.get(app.url("/login")).send().await.unwrap();
    let (login_csrf, _) = cookie_value(&form, "rapport_login_csrf").unwrap();
    let html = form.text().await.unwrap();
    assert_eq!(hidden(&html, "csrf"), login_csrf);
    let resp = http
        .post(app.url("/login"))
        .header(header::COOKIE, format!("rapport_login_csrf={login_csrf}"))
        .form(&[
            ("csrf", login_csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/inbox"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "{:?}", resp.text().await);
    let (session, raw) = cookie_value(&resp, "rapport_session").unwrap();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    let inbox = http
        .get(app.url("/inbox"))
        .header(header::COOKIE, format!("rapport_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status(), 200);
    let csp = inbox.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = inbox.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    (session, csrf)
}

both_backends! {
    async fn sessions_rotate_and_forms_need_their_token(app) {
        set_password(&app, "agent.a@example.com", "correct horse battery").await;
        let http = client();
        // Pages need a session.
        let r = http.get(app.url("/inbox")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(r.headers()[header::LOCATION].to_str().unwrap().starts_with("/login?next="));
        let (s1, csrf1) = sign_in(&app, &http, "agent.a@example.com", "correct horse battery").await;
        let (s2, _) = sign_in(&app, &http, "agent.a@example.com", "correct horse battery").await;
        assert_ne!(s1, s2, "a new session at every sign-in");

        let t = app.ticket("Web reply", "hello", "web@example.com").await;
        let id = t["id"].as_i64().unwrap();
        // A reply without the session's token is refused and changes nothing.
        let form = |csrf: &str, body: &str| {
            reqwest::multipart::Form::new()
                .text("csrf", csrf.to_owned())
                .text("body", body.to_owned())
        };
        let r = http
            .post(app.url(&format!("/tickets/{id}/reply")))
            .header(header::COOKIE, format!("rapport_session={s2}"))
            .multipart(form(&csrf1, "forged"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(t["message_count"], 1);
        // With it, the reply lands.
        let page = http
            .get(app.url(&format!("/tickets/{id}")))
            .header(header::COOKIE, format!("rapport_session={s2}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf2 = hidden(&page, "csrf");
        let r = http
            .post(app.url(&format!("/tickets/{id}/reply")))
            .header(header::COOKIE, format!("rapport_session={s2}"))
            .multipart(form(&csrf2, "A real reply <script>x</script>"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(t["message_count"], 2);
        let page = http
            .get(app.url(&format!("/tickets/{id}")))
            .header(header::COOKIE, format!("rapport_session={s2}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("A real reply") && !page.contains("<script>x"), "sanitised");
        // Signing out ends the session.
        let r = http
            .post(app.url("/logout"))
            .header(header::COOKIE, format!("rapport_session={s2}"))
            .form(&[("csrf", csrf2.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let r = http
            .get(app.url("/inbox"))
            .header(header::COOKIE, format!("rapport_session={s2}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        app.stop().await;
    }

    async fn sign_in_failures_are_limited_per_account(app) {
        set_password(&app, "agent.b@example.com", "the right password").await;
        let http = client();
        let form = http.get(app.url("/login")).send().await.unwrap();
        let (csrf, _) = cookie_value(&form, "rapport_login_csrf").unwrap();
        let attempt = |password: &'static str| {
            let http = http.clone();
            let csrf = csrf.clone();
            let url = app.url("/login");
            async move {
                http.post(url)
                    .header(header::COOKIE, format!("rapport_login_csrf={csrf}"))
                    .form(&[("csrf", csrf.as_str()), ("email", "agent.b@example.com"), ("password", password)])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        // Five typos are free; then this address must wait before trying this account again
        // (credentials.rs shows another address is not slowed).
        for i in 0..10 {
            assert_eq!(attempt("wrong").await, if i < 5 { 401 } else { 429 }, "attempt {i}");
        }
        assert_eq!(attempt("the right password").await, 429, "slowed down, even with the right password");
        // Without the form's cookie the form is refused.
        let r = http
            .post(app.url("/login"))
            .form(&[("csrf", "x"), ("email", "agent.b@example.com"), ("password", "the right password")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        app.stop().await;
    }

    async fn portal_requests_get_a_signed_private_link(app) {
        let http = client();
        let form = http.get(app.url("/portal/new")).send().await.unwrap();
        let (csrf, _) = cookie_value(&form, "rapport_portal_csrf").unwrap();
        let multipart = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("email", "Portal@Example.com")
            .text("name", "Pat")
            .text("subject", "Where is my parcel?")
            .text("message", "It has been a week.")
            .part("attachment", reqwest::multipart::Part::bytes(b"photo".to_vec()).file_name("parcel.jpg").mime_str("image/jpeg").unwrap());
        let r = http
            .post(app.url("/portal/new"))
            .header(header::COOKIE, format!("rapport_portal_csrf={csrf}"))
            .multipart(multipart)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let link = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert!(link.starts_with("/portal/requests/"), "{link}");
        let page = http.get(app.url(&link)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("we have your request #"), "{html}");
        let tampered = link.replace("key=", "key=0");
        assert_eq!(http.get(app.url(&tampered)).send().await.unwrap().status(), 404);
        let id: i64 = link.trim_start_matches("/portal/requests/").split('?').next().unwrap().parse().unwrap();
        let other = link.replace(&format!("/requests/{id}?"), &format!("/requests/{}?", id + 1));
        assert_eq!(http.get(app.url(&other)).send().await.unwrap().status(), 404, "a key opens one request only");
        let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(t["channel"], "web");
        assert_eq!(t["customer"]["email"], "portal@example.com");
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        assert_eq!(msgs[0]["attachments"][0]["filename"], "parcel.jpg");
        // Internal notes never reach the customer's page.
        app.post(&format!("/api/v1/tickets/{id}/messages"), serde_json::json!({"body": "secret note", "internal": true})).await;
        let html = http.get(app.url(&link)).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("secret note"));
        app.stop().await;
    }
}
