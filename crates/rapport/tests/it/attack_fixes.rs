//! Issue 9, the attacker review's findings 3, 4, 6, 8, 11 and 12: a token cannot outlive
//! the token that made it; deactivation revokes tokens for good; reactivating an admin
//! takes the password again; SMTP commands and sessions have deadlines; revoking a
//! request's links ends its customer's portal sessions; the public form never names an
//! existing customer; dropping a mailbox's TLS takes the password again; deactivated
//! agents get no notices; bad private links are refused cheaply and limited per address.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::email::run_jobs_via;
use crate::harness::{Backend, TestApp, assert_error, count, python};
use crate::on_both;
use crate::peers::{SinkOptions, SmtpSink};
use crate::sessions_trust::portal::{link_ticket, portal_request, portal_sign_in};
use crate::sessions_trust::{PASSWORD, post_form};
use crate::web::{client, set_password, sign_in};
use rapport_domain::{Body, Channel, Clock, ManualClock, SystemClock};
use rapport_mail::smtp::{SmtpConfig, serve};
use rapport_mail::smtp_limits::SmtpLimits;
use rapport_mail::transport::Relay;
use rapport_store::{op, tickets};

on_both!(
    a_token_cannot_outlive_the_token_that_made_it,
    deactivation_revokes_tokens_for_good,
    reactivating_an_admin_takes_the_password_again,
    smtp_commands_and_sessions_have_deadlines,
    revoking_links_ends_the_customers_portal_sessions,
    the_public_form_never_names_an_existing_customer,
    dropping_a_mailboxs_tls_takes_the_password_again,
    deactivated_agents_get_no_notices,
    bad_private_links_are_refused_and_limited_per_address,
);

async fn with_clock(backend: Backend) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    (app, clock)
}

async fn a_token_cannot_outlive_the_token_that_made_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tok = Some(app.agent.token.as_str());
    let (s, day) = app
        .call(
            "POST",
            "/api/v1/tokens",
            tok,
            Some(json!({"name": "one day", "expires_in_days": 1})),
        )
        .await;
    assert_eq!(s, 201, "{day}");
    let day_token = day["token"].as_str().unwrap().to_owned();
    let limit = day["expires_at"].clone();
    assert!(limit.is_string(), "{day}");
    let by_day = Some(day_token.as_str());
    // The review's attack: a one-day token asks for a token that never expires; it gets
    // one that expires with it.
    let (s, made) = app
        .call(
            "POST",
            "/api/v1/tokens",
            by_day,
            Some(json!({"name": "forever"})),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    assert_eq!(made["expires_at"], limit, "{made}");
    // A later expiry, either way it is asked for, is refused on its field.
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/tokens",
            by_day,
            Some(json!({"name": "month", "expires_in_days": 30})),
        )
        .await;
    assert_error(s, &e, 422, Some("expires_in_days"));
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/tokens",
            by_day,
            Some(json!({"name": "far", "expires_at": "2999-01-01T00:00:00Z"})),
        )
        .await;
    assert_error(s, &e, 422, Some("expires_at"));
    // A token without an expiry still makes any token.
    let (s, made) = app
        .call(
            "POST",
            "/api/v1/tokens",
            tok,
            Some(json!({"name": "long", "expires_in_days": 30})),
        )
        .await;
    assert_eq!(s, 201, "{made}");
    app.stop().await;
}

async fn deactivation_revokes_tokens_for_good(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tok = Some(app.agent.token.as_str());
    assert_eq!(app.call("GET", "/api/v1/tickets", tok, None).await.0, 200);
    let user = format!("/api/v1/users/{}", app.agent.id);
    let (s, body) = app.patch(&user, json!({"active": false})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(app.call("GET", "/api/v1/tickets", tok, None).await.0, 401);
    // Reactivating the agent does not bring the old (perhaps stolen) token back.
    let (s, body) = app.patch(&user, json!({"active": true})).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(app.call("GET", "/api/v1/tickets", tok, None).await.0, 401);
    let (_, list) = app
        .get(&format!("/api/v1/tokens?user_id={}", app.agent.id))
        .await;
    let list = list.as_array().unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|t| t["revoked_at"].is_string()), "{list:?}");
    app.stop().await;
}

async fn user_active(app: &TestApp, id: i64) -> bool {
    let (_, users) = app.get("/api/v1/users").await;
    let list = users
        .as_array()
        .or_else(|| users["items"].as_array())
        .unwrap()
        .clone();
    list.iter().find(|u| u["id"] == id).unwrap()["active"]
        .as_bool()
        .unwrap()
}

async fn reactivating_an_admin_takes_the_password_again(backend: Backend) {
    let (app, clock) = with_clock(backend).await;
    let (s, other) = app
        .post(
            "/api/v1/users",
            json!({"email": "other.admin@example.com", "name": "Other",
                "role": "admin", "password": "another long password"}),
        )
        .await;
    assert_eq!(s, 201, "{other}");
    let other = other["id"].as_i64().unwrap();
    set_password(&app, "admin@example.com", PASSWORD).await;
    let (session, csrf) = sign_in(&app, &client(), "admin@example.com", PASSWORD).await;
    let active = |id: i64| format!("/admin/users/{id}/active");
    clock.advance_secs(11 * 60);
    // Deactivating asks nothing.
    let off = [("csrf", csrf.as_str()), ("active", "false")];
    assert_eq!(post_form(&app, &session, &active(other), &off).await.0, 303);
    assert_eq!(
        post_form(&app, &session, &active(app.agent.id), &off)
            .await
            .0,
        303
    );
    // Reactivating an agent asks nothing either…
    let on = [("csrf", csrf.as_str()), ("active", "true")];
    assert_eq!(
        post_form(&app, &session, &active(app.agent.id), &on)
            .await
            .0,
        303
    );
    assert!(user_active(&app, app.agent.id).await);
    // …but reactivating an admin takes the password again.
    let (s, page) = post_form(&app, &session, &active(other), &on).await;
    assert_eq!(s, 401, "{page}");
    assert!(page.contains("name=\"reauth_password\""), "{page}");
    assert!(!user_active(&app, other).await);
    let mut right = on.to_vec();
    right.push(("reauth_password", PASSWORD));
    assert_eq!(
        post_form(&app, &session, &active(other), &right).await.0,
        303
    );
    assert!(user_active(&app, other).await);
    app.stop().await;
}

/// A listener of our own over the app's database with these limits.
async fn listener(app: &TestApp, limits: SmtpLimits) -> (u16, watch::Sender<bool>) {
    let sock = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let (stop, stop_rx) = watch::channel(false);
    let config = SmtpConfig {
        limits,
        ..Default::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    tokio::spawn(serve(sock, app.db.clone(), clock, config, stop_rx));
    (port, stop)
}

/// A client that trickles: `NOOP` a byte at a time (`mode` "bytes") or whole, again and
/// again (`mode` "noops"), each `gap` seconds apart, until the server answers 421 or
/// closes; prints every reply and how many sends it took.
const TRICKLE: &str = r#"
import json, select, socket, sys, time
port, mode, gap = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port), timeout=30)
buf = b""
replies = []
closed = False
def take(wait):
    global buf, closed
    r, _, _ = select.select([s], [], [], wait)
    if r:
        data = s.recv(4096)
        if data == b"":
            closed = True
        buf += data
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        replies.append(line.decode()[:3])
take(10)
sends = 0
while sends < 200 and not closed and "421" not in replies:
    chunks = [b"N", b"O", b"O", b"P", b"\r", b"\n"] if mode == "bytes" else [b"NOOP\r\n"]
    for c in chunks:
        try:
            s.sendall(c)
        except OSError:
            closed = True
            break
        sends += 1
        take(gap)
        if closed or "421" in replies:
            break
        if mode == "noops":
            time.sleep(gap)
print(json.dumps({"replies": replies, "sends": sends}))
"#;

async fn trickle(port: u16, mode: &str, gap: &str) -> Value {
    let args = [port.to_string(), mode.to_owned(), gap.to_owned()];
    serde_json::from_slice(&python(TRICKLE, &args, b"").await).unwrap()
}

async fn smtp_commands_and_sessions_have_deadlines(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A command must arrive whole within its time: a byte now and then does not extend
    // it (the review's attack held every session with one byte every 299 s).
    let limits = SmtpLimits {
        command_timeout: Duration::from_secs(1),
        session_timeout: Duration::from_secs(600),
        ..SmtpLimits::default()
    };
    let (port, stop) = listener(&app, limits).await;
    let out = trickle(port, "bytes", "0.3").await;
    assert_eq!(out["replies"], json!(["220", "421"]), "{out}");
    stop.send(true).unwrap();
    // However busy with whole commands, a session ends at its deadline.
    let limits = SmtpLimits {
        command_timeout: Duration::from_secs(600),
        session_timeout: Duration::from_secs(2),
        ..SmtpLimits::default()
    };
    let (port, stop) = listener(&app, limits).await;
    let out = trickle(port, "noops", "0.2").await;
    let replies = out["replies"].as_array().unwrap();
    assert!(replies.len() > 2, "some NOOPs were answered first: {out}");
    assert!(
        replies[1..replies.len() - 1].iter().all(|r| r == "250"),
        "{out}"
    );
    assert_eq!(replies.last().unwrap(), "421", "{out}");
    assert!(out["sends"].as_i64().unwrap() < 200, "{out}");
    stop.send(true).unwrap();
    // The defaults: five minutes a command, twenty a session.
    let d = SmtpLimits::default();
    assert_eq!(d.command_timeout, Duration::from_secs(300));
    assert_eq!(d.session_timeout, Duration::from_secs(1200));
    app.stop().await;
}

async fn portal_list_status(app: &TestApp, session: &str) -> u16 {
    client()
        .get(app.url("/portal/requests"))
        .header(header::COOKIE, format!("rapport_portal={session}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn revoking_links_ends_the_customers_portal_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let link = portal_request(&app, "sam@example.com", "Late order").await;
    let id = link_ticket(&link);
    // Another customer's session is not touched.
    portal_request(&app, "tess@example.com", "Other").await;
    let other = portal_sign_in(&app, "tess@example.com").await;
    let session = portal_sign_in(&app, "sam@example.com").await;
    assert_eq!(portal_list_status(&app, &session).await, 200);
    let (s, body) = app
        .post(
            &format!("/api/v1/tickets/{id}/portal-link/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        portal_list_status(&app, &session).await,
        303,
        "the session ended"
    );
    assert_eq!(portal_list_status(&app, &other).await, 200);
    // The ticket page's button too.
    let session = portal_sign_in(&app, "sam@example.com").await;
    assert_eq!(portal_list_status(&app, &session).await, 200);
    set_password(&app, "agent.a@example.com", PASSWORD).await;
    let (agent, csrf) = sign_in(&app, &client(), "agent.a@example.com", PASSWORD).await;
    let (s, page) = post_form(
        &app,
        &agent,
        &format!("/tickets/{id}/portal-link/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(portal_list_status(&app, &session).await, 303);
    assert_eq!(portal_list_status(&app, &other).await, 200);
    app.stop().await;
}

async fn customer_name(app: &TestApp, ticket: i64) -> Value {
    let (_, t) = app.get(&format!("/api/v1/tickets/{ticket}")).await;
    t["customer"]["name"].clone()
}

async fn the_public_form_never_names_an_existing_customer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A customer known without a name (the review's victim).
    let (s, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "First", "body": "Hello", "customer": {"email": "vic@example.com"}}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let first = t["id"].as_i64().unwrap();
    assert_eq!(customer_name(&app, first).await, "");
    // A stranger types the address and a name ("Pat") on the public form.
    let link = portal_request(&app, "vic@example.com", "Impostor").await;
    assert_eq!(customer_name(&app, link_ticket(&link)).await, "");
    assert_eq!(customer_name(&app, first).await, "");
    // A customer the form itself creates gets the name typed.
    let link = portal_request(&app, "new.person@example.com", "Hello").await;
    assert_eq!(customer_name(&app, link_ticket(&link)).await, "Pat");
    app.stop().await;
}

async fn imap_tls(app: &TestApp, id: i64) -> bool {
    app.db
        .read(op!(c => rapport_store::imap::mailbox(c, id).await))
        .await
        .unwrap()
        .unwrap()
        .settings
        .tls
}

async fn dropping_a_mailboxs_tls_takes_the_password_again(backend: Backend) {
    let (app, clock) = with_clock(backend).await;
    set_password(&app, "admin@example.com", PASSWORD).await;
    let (session, csrf) = sign_in(&app, &client(), "admin@example.com", PASSWORD).await;
    let add = [
        ("csrf", csrf.as_str()),
        ("address", "imap@example.com"),
        ("name", "Imap"),
        ("imap_host", "imap.example.com"),
        ("imap_tls", "on"),
        ("imap_user", "u"),
        ("imap_password", "hunter2"),
    ];
    assert_eq!(
        post_form(&app, &session, "/admin/mailboxes", &add).await.0,
        303
    );
    let id = count(
        &app.db,
        "SELECT id FROM mailboxes WHERE address = 'imap@example.com'",
    )
    .await;
    assert!(imap_tls(&app, id).await);
    clock.advance_secs(11 * 60);
    let path = format!("/admin/mailboxes/{id}");
    // Saving with TLS kept asks nothing.
    let keep = [
        ("csrf", csrf.as_str()),
        ("name", "Imap"),
        ("imap_tls", "on"),
    ];
    assert_eq!(post_form(&app, &session, &path, &keep).await.0, 303);
    // The review's attack: TLS unticked, everything else blank.
    let plain = [("csrf", csrf.as_str()), ("name", "Imap")];
    let (s, page) = post_form(&app, &session, &path, &plain).await;
    assert_eq!(s, 401, "{page}");
    assert!(page.contains("name=\"reauth_password\""), "{page}");
    assert!(
        imap_tls(&app, id).await,
        "the stored password still goes over TLS"
    );
    let mut right = plain.to_vec();
    right.push(("reauth_password", PASSWORD));
    assert_eq!(post_form(&app, &session, &path, &right).await.0, 303);
    assert!(!imap_tls(&app, id).await);
    app.stop().await;
}

/// The `mail.notify` payloads queued so far.
async fn notices(app: &TestApp) -> Vec<Value> {
    app.db
        .read(op!(c => {
            rapport_store::testing::query_in(
                c,
                "SELECT payload FROM jobs WHERE kind = 'mail.notify' ORDER BY id",
                &[],
            )
            .await?
            .iter()
            .map(|r| Ok(serde_json::from_str(&r.text(0)?)?))
            .collect()
        }))
        .await
        .unwrap()
}

async fn deactivated_agents_get_no_notices(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sink = SmtpSink::start(SinkOptions::default()).await;
    app.post(
        "/api/v1/mailboxes",
        json!({"address": "help@shop.example", "name": "Shop Help"}),
    )
    .await;
    let a = app.ticket("For A", "Please", "r@customer.example").await["id"]
        .as_i64()
        .unwrap();
    let b = app.ticket("For B", "Please", "s@customer.example").await["id"]
        .as_i64()
        .unwrap();
    for (t, who) in [(a, app.agent.id), (b, app.agent_b.id)] {
        let (s, body) = app
            .patch(&format!("/api/v1/tickets/{t}"), json!({"assignee_id": who}))
            .await;
        assert_eq!(s, 200, "{body}");
    }
    crate::harness::settle(&app.db).await;
    assert_eq!(
        notices(&app).await.len(),
        2,
        "queued while both were active"
    );
    // Agent A leaves; the notice queued before is not sent, and the customer's next
    // message (still assigned to A) queues none.
    let (s, body) = app
        .patch(
            &format!("/api/v1/users/{}", app.agent.id),
            json!({"active": false}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let now = SystemClock.now();
    let text = Body::parse("One more thing").unwrap();
    app.db
        .write(op!(c => {
            tickets::customer_reply(c, &rapport_domain::Principal::System, a, &text, Channel::Email, vec![], now).await
        }))
        .await
        .unwrap();
    crate::harness::settle(&app.db).await;
    assert_eq!(notices(&app).await.len(), 2, "{:?}", notices(&app).await);
    run_jobs_via(&app, Some(Relay::plain("127.0.0.1", sink.port))).await;
    let to: Vec<Value> = sink
        .messages()
        .iter()
        .map(|(_, e)| e["rcpt_tos"].clone())
        .collect();
    assert_eq!(to, vec![json!(["agent.b@example.com"])]);
    app.stop().await;
}

async fn bad_private_links_are_refused_and_limited_per_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let link = portal_request(&app, "una@example.com", "Refund").await;
    let id = link_ticket(&link);
    let http = client();
    let status = |path: String| {
        let http = http.clone();
        let url = app.url(&path);
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(link.clone()).await, 200);
    // A key that is not even the right shape, and a well-formed wrong one: not found.
    assert_eq!(status(format!("/portal/requests/{id}?key=x")).await, 404);
    let wrong = "0".repeat(64);
    assert_eq!(
        status(format!("/portal/requests/{id}?key={wrong}")).await,
        404
    );
    // The link revoked just now still says so.
    let (s, body) = app
        .post(
            &format!("/api/v1/tickets/{id}/portal-link/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let new_link = body["link"].as_str().unwrap();
    let new_path = new_link[new_link.find("/portal/").unwrap()..].to_owned();
    assert_eq!(status(link.clone()).await, 403);
    // Guessing is limited per client address: past 20 bad links in 10 minutes, 429, even
    // for a good link from that address.
    let mut refused = 0;
    for i in 0..30 {
        if status(format!("/portal/requests/{id}?key={i:064x}")).await == 429 {
            refused += 1;
        }
    }
    assert!(refused >= 10, "{refused}");
    assert_eq!(status(new_path).await, 429);
    app.stop().await;
}
