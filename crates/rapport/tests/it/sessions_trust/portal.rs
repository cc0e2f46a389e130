//! The portal's part: a signing key that is never stored, sign-out that ends the
//! session on the server, and private links an agent can revoke.

use hmac::{Hmac, Mac};
use reqwest::header;
use serde_json::json;

use super::{PASSWORD, cookie_named, post_form, set_cookies};
use crate::harness::{Backend, TestApp, assert_error, count};
use crate::on_both;
use crate::web::{client, set_password, sign_in};
use rapport_domain::{Clock, SystemClock};
use rapport_store::op;

on_both!(
    the_portal_key_is_derived_never_stored,
    portal_sign_out_ends_the_session_for_every_copy,
    private_links_can_be_revoked,
);

fn hmac_hex(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn settings_value(app: &TestApp, key: &'static str) -> Option<String> {
    app.db
        .read(op!(c => {
            let rows = rapport_store::testing::query_in(c, "SELECT value FROM settings WHERE key = $1", &[key.into()]).await?;
            rows.first().map(|r| r.text(0)).transpose()
        }))
        .await
        .unwrap()
}

/// Submits the portal's new-request form; returns the request's private link.
pub(crate) async fn portal_request(app: &TestApp, email: &str, subject: &str) -> String {
    let http = client();
    let form = http.get(app.url("/portal/new")).send().await.unwrap();
    let (csrf, _) = cookie_named(&set_cookies(&form), "rapport_portal_csrf").unwrap();
    let multipart = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("email", email.to_owned())
        .text("name", "Pat")
        .text("subject", subject.to_owned())
        .text("message", "Please help.");
    let r = http
        .post(app.url("/portal/new"))
        .header(header::COOKIE, format!("rapport_portal_csrf={csrf}"))
        .multipart(multipart)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    r.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .replace("&new=1", "")
}

pub(crate) fn link_ticket(link: &str) -> i64 {
    link.trim_start_matches("/portal/requests/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn the_portal_key_is_derived_never_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let link = portal_request(&app, "pat@example.com", "Broken kettle").await;
    let http = client();
    assert_eq!(http.get(app.url(&link)).send().await.unwrap().status(), 200);
    // The database holds no signing key…
    let stored = settings_value(&app, "portal_link_key").await;
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM settings WHERE key LIKE '%portal%'"
        )
        .await,
        0,
        "{stored:?}"
    );
    // …so whoever can read (or even write) the settings cannot forge links or sessions.
    let key = stored.unwrap_or_else(|| "ab".repeat(32));
    let stored_key = key.clone();
    app.db
        .write(op!(c => rapport_store::testing::execute_in(c,
            "INSERT INTO settings (key, value) VALUES ('portal_link_key', $1) ON CONFLICT (key) DO NOTHING",
            &[stored_key.into()]).await))
        .await
        .unwrap();
    let id = link_ticket(&link);
    for message in [
        format!("portal-request:{id}"),
        format!("portal-request:{id}:0"),
    ] {
        let forged = format!(
            "/portal/requests/{id}?key={}",
            hmac_hex(key.as_bytes(), &message)
        );
        assert_eq!(
            http.get(app.url(&forged)).send().await.unwrap().status(),
            404,
            "{message}"
        );
    }
    let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
    let customer = t["customer"]["id"].as_i64().unwrap();
    let expires = SystemClock.now().micros() / 1_000_000 + 86_400;
    let sig = hmac_hex(
        key.as_bytes(),
        &format!("portal-session:{customer}:{expires}"),
    );
    let r = http
        .get(app.url("/portal/requests"))
        .header(
            header::COOKIE,
            format!("rapport_portal={customer}.{expires}.{sig}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        303,
        "a forged portal session goes back to sign-in"
    );
    // The real link still opens, signed with the key derived from the server's secret key.
    assert_eq!(http.get(app.url(&link)).send().await.unwrap().status(), 200);
    assert!(link.ends_with(&rapport_store::portal::link_signature(&app.sealer, id, 0)));
    app.stop().await;
}

/// Signs a customer in to the portal with a one-time link made in the store; returns the
/// session cookie's value.
pub(crate) async fn portal_sign_in(app: &TestApp, email: &str) -> String {
    let token = rapport_store::secrets::random_hex(32);
    let hash = rapport_store::secrets::token_hash(&token);
    let email = rapport_domain::EmailAddress::parse(email).unwrap();
    let now = SystemClock.now();
    let made = app
        .db
        .write(op!(c => rapport_store::portal::create_token(c, &email, &hash, now).await))
        .await
        .unwrap();
    assert!(made.is_some());
    let http = client();
    let page = http
        .get(app.url(&format!("/portal/signin/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let (csrf, _) = cookie_named(&set_cookies(&page), "rapport_portal_csrf").unwrap();
    let r = http
        .post(app.url(&format!("/portal/signin/{token}")))
        .header(header::COOKIE, format!("rapport_portal_csrf={csrf}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    cookie_named(&set_cookies(&r), "rapport_portal").unwrap().0
}

async fn portal_sign_out_ends_the_session_for_every_copy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    portal_request(&app, "quinn@example.com", "Lost parcel").await;
    let session = portal_sign_in(&app, "quinn@example.com").await;
    let http = client();
    let mine = || {
        http.get(app.url("/portal/requests"))
            .header(header::COOKIE, format!("rapport_portal={session}"))
            .send()
    };
    let page = mine().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = cookie_named(&set_cookies(&page), "rapport_portal_csrf")
        .unwrap()
        .0;
    assert!(page.text().await.unwrap().contains("Lost parcel"));
    let r = http
        .post(app.url("/portal/signout"))
        .header(
            header::COOKIE,
            format!("rapport_portal={session}; rapport_portal_csrf={csrf}"),
        )
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // A copy of the cookie taken before signing out no longer works.
    assert_eq!(mine().await.unwrap().status(), 303);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM portal_sessions").await,
        0
    );
    app.stop().await;
}

async fn private_links_can_be_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let link = portal_request(&app, "rae@example.com", "Wrong size").await;
    let id = link_ticket(&link);
    let http = client();
    assert_eq!(http.get(app.url(&link)).send().await.unwrap().status(), 200);
    // An agent revokes the links by the API and gets the new one.
    let (s, body) = app
        .post(
            &format!("/api/v1/tickets/{id}/portal-link/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let new_link = body["link"].as_str().unwrap().to_owned();
    let new_path = &new_link[new_link.find("/portal/").unwrap()..];
    let old = http.get(app.url(&link)).send().await.unwrap();
    assert_eq!(old.status(), 403);
    assert!(old.text().await.unwrap().contains("revoked"));
    assert_eq!(
        http.get(app.url(new_path)).send().await.unwrap().status(),
        200
    );
    // The old link cannot post a reply either.
    let r = http
        .post(app.url(&link))
        .header(header::COOKIE, "rapport_portal_csrf=x")
        .form(&[("csrf", "x"), ("message", "still here?")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // From the ticket page too.
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    let (session, csrf) = sign_in(&app, &client(), "agent.a@example.com", PASSWORD).await;
    let (s, page) = post_form(
        &app,
        &session,
        &format!("/tickets/{id}/portal-link/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains(&format!("/portal/requests/{id}?key=")));
    assert_eq!(
        http.get(app.url(new_path)).send().await.unwrap().status(),
        403
    );
    // Revoking needs a token or session that may see the ticket.
    let (s, body) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{id}/portal-link/revoke"),
            None,
            None,
        )
        .await;
    assert_error(s, &body, 401, None);
    let (s, body) = app
        .post("/api/v1/tickets/999999/portal-link/revoke", json!({}))
        .await;
    assert_error(s, &body, 404, None);
    app.stop().await;
}
