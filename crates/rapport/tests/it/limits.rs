//! Input limits, replayed as the security review's attacks: recipient amplification and
//! floods over real SMTP (Python's smtplib and sockets against the listener), unbounded
//! customer names from every channel, control characters in subjects, a status list
//! repeated 600 times, and a 6 MB custom field through the workspace form.

use std::sync::Arc;
use std::time::Duration;

use rapport_domain::{Clock, ManualClock, SystemClock};
use rapport_jobs::{Step, Worker, WorkerConfig};
use rapport_mail::smtp::{SmtpConfig, serve};
use rapport_mail::smtp_limits::SmtpLimits;
use reqwest::header;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::both_backends;
use crate::harness::{TestApp, assert_error, count, python};
use crate::web::{client, hidden, set_password, sign_in};

/// Runs every queued job (the ingest of stored mail) until none is left.
async fn run_jobs(app: &TestApp) -> usize {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let w = Worker::new(
        app.db.clone(),
        Arc::clone(&clock),
        rapport::registry(
            clock,
            rapport_mail::MailSettings {
                public_url: app.base.clone(),
                sealer: app.sealer.clone(),
                ..Default::default()
            },
        ),
        WorkerConfig {
            name: "limits".into(),
            lease_secs: 30,
            idle_wait: Duration::from_millis(10),
        },
    );
    let mut n = 0;
    loop {
        match w.step().await.unwrap() {
            Step::Done(_) => n += 1,
            Step::Idle => return n,
            Step::Failed(id) => {
                let (_, jobs) = app
                    .call("GET", "/api/v1/jobs", Some(&app.supervisor.token), None)
                    .await;
                panic!("job {id} failed: {jobs}")
            }
        }
    }
}

async fn mailboxes(app: &TestApp) {
    for (address, name) in [
        ("support@example.com", "Support"),
        ("help@example.com", "Help"),
    ] {
        let (s, b) = app
            .post(
                "/api/v1/mailboxes",
                json!({"address": address, "name": name}),
            )
            .await;
        assert_eq!(s, 201, "{b}");
    }
}

/// One SMTP transaction with smtplib's low-level commands: the code of every RCPT, then
/// of DATA (or null when no recipient was taken).
async fn transaction(port: u16, to: &[String], raw: &str) -> Value {
    let script = r#"
import json, smtplib, sys
port = int(sys.argv[1])
data = json.loads(sys.stdin.read())
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.ehlo("client.example")
assert s.mail("attacker@evil.example")[0] == 250
rcpt = [s.rcpt(a)[0] for a in data["to"]]
code = s.data(data["raw"].encode())[0] if 250 in rcpt else None
s.quit()
print(json.dumps({"rcpt": rcpt, "data": code}))
"#;
    let input = json!({"to": to, "raw": raw}).to_string();
    serde_json::from_slice(&python(script, &[port.to_string()], input.as_bytes()).await).unwrap()
}

/// Sends each raw message from `from` to support@example.com; "ok" or the refusing code.
async fn send(app: &TestApp, mails: &[(&str, String)]) -> Vec<String> {
    let script = r#"
import json, smtplib, sys
port = int(sys.argv[1])
out = []
for m in json.loads(sys.stdin.read()):
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        s.sendmail(m[0], ["support@example.com"], m[1].encode("utf-8"))
        out.append("ok")
    except smtplib.SMTPResponseException as e:
        out.append(str(e.smtp_code))
    finally:
        s.quit()
print(json.dumps(out))
"#;
    let input = serde_json::to_vec(mails).unwrap();
    let out = python(script, &[app.smtp.port().to_string()], &input).await;
    serde_json::from_slice(&out).unwrap()
}

/// A listener of our own over the app's database, with these limits and clock.
async fn listener(
    app: &TestApp,
    limits: SmtpLimits,
    clock: Arc<dyn Clock>,
) -> (u16, watch::Sender<bool>) {
    let sock = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = sock.local_addr().unwrap().port();
    let (stop, stop_rx) = watch::channel(false);
    let config = SmtpConfig {
        limits,
        ..Default::default()
    };
    tokio::spawn(serve(sock, app.db.clone(), clock, config, stop_rx));
    (port, stop)
}

async fn tickets(app: &TestApp) -> Vec<Value> {
    let (s, page) = app.get("/api/v1/tickets?limit=200").await;
    assert_eq!(s, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

both_backends! {
    async fn an_envelope_takes_fifty_recipients_then_452(app) {
        mailboxes(&app).await;
        let to: Vec<String> = (0..500)
            .map(|i| if i % 2 == 0 { "support@example.com".to_owned() } else { "SUPPORT@Example.COM".to_owned() })
            .collect();
        let raw = "From: Mallory <m@evil.example>\r\nSubject: many\r\n\r\nhello\r\n";
        let out = transaction(app.smtp.port(), &to, raw).await;
        let codes: Vec<i64> = out["rcpt"].as_array().unwrap().iter().map(|c| c.as_i64().unwrap()).collect();
        assert_eq!(codes.len(), 500);
        assert!(codes[..50].iter().all(|c| *c == 250), "{codes:?}");
        assert!(codes[50..].iter().all(|c| *c == 452), "{codes:?}");
        assert_eq!(out["data"], 250);
        // One mailbox named 50 times is one copy, one ticket.
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM inbound_mail").await, 1);
        assert_eq!(run_jobs(&app).await, 1);
        assert_eq!(tickets(&app).await.len(), 1);
        app.stop().await;
    }

    async fn recipients_are_a_set_one_ticket_per_mailbox(app) {
        mailboxes(&app).await;
        // The review's attack: 20 RCPTs alternating two mailboxes, no Message-ID.
        let to: Vec<String> = (0..20)
            .map(|i| match i % 4 {
                0 => "support@example.com",
                1 => "help@example.com",
                2 => "Support@Example.com",
                _ => "HELP@example.com",
            }.to_owned())
            .collect();
        let raw = "From: Mallory <m@evil.example>\r\nSubject: amplify\r\n\r\nhello\r\n";
        let out = transaction(app.smtp.port(), &to, raw).await;
        assert_eq!(out["rcpt"], json!(vec![250; 20]));
        assert_eq!(out["data"], 250);
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM inbound_mail").await, 2);
        run_jobs(&app).await;
        let made = tickets(&app).await;
        assert_eq!(made.len(), 2, "one ticket per distinct mailbox, not 20");

        // LMTP answers once per accepted recipient, though each mailbox keeps one copy.
        let script = r#"
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
def line():
    return f.readline().decode()
def reply():
    out = line()
    while out[3:4] == "-":
        out = line()
    return out[:3]
reply()
codes = []
for cmd in ["LHLO client.example", "MAIL FROM:<m@evil.example>", "RCPT TO:<support@example.com>",
            "RCPT TO:<help@example.com>", "RCPT TO:<SUPPORT@example.com>", "DATA"]:
    s.sendall((cmd + "\r\n").encode())
    codes.append(reply())
s.sendall(b"From: m@evil.example\r\nSubject: lmtp\r\n\r\nhi\r\n.\r\n")
codes.append([reply() for _ in range(3)])
s.sendall(b"QUIT\r\n")
codes.append(reply())
print(json.dumps(codes))
"#;
        let out: Value = serde_json::from_slice(&python(script, &[app.smtp.port().to_string()], b"").await).unwrap();
        assert_eq!(out, json!(["250", "250", "250", "250", "250", "354", ["250", "250", "250"], "221"]));
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM inbound_mail").await, 4);
        app.stop().await;
    }

    async fn sessions_are_capped_per_client_and_overall(app) {
        let limits = SmtpLimits { max_sessions: 3, max_sessions_per_client: 2, ..SmtpLimits::default() };
        let (port, stop) = listener(&app, limits, Arc::new(SystemClock)).await;
        let script = r#"
import json, socket, sys
port = int(sys.argv[1])
def connect(src):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0))
    f = s.makefile("rb")
    return s, f, f.readline().decode()[:3]
def closed(f):
    return f.readline() == b""
out = {}
a1, fa1, c1 = connect("127.0.0.1")
a2, fa2, c2 = connect("127.0.0.1")
a3, fa3, c3 = connect("127.0.0.1")
b1, fb1, d1 = connect("127.0.0.2")
e1, fe1, f1 = connect("127.0.0.3")
out["greetings"] = [c1, c2, c3, d1, f1]
out["refused_are_closed"] = closed(fa3) and closed(fe1)
a1.sendall(b"QUIT\r\n")
out["quit"] = fa1.readline().decode()[:3]
a4, fa4, c4 = connect("127.0.0.1")
out["after_quit"] = c4
print(json.dumps(out))
"#;
        let out: Value = serde_json::from_slice(&python(script, &[port.to_string()], b"").await).unwrap();
        // Two from one address, a third from it refused; a third overall from another
        // address fills the listener, and a fourth is refused.
        assert_eq!(out["greetings"], json!(["220", "220", "421", "220", "421"]), "{out}");
        assert_eq!(out["refused_are_closed"], true, "{out}");
        assert_eq!(out["quit"], "221");
        assert_eq!(out["after_quit"], "220", "a session that ended frees its place");
        stop.send(true).unwrap();
        app.stop().await;
    }

    async fn messages_per_client_are_capped_per_window(app) {
        mailboxes(&app).await;
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let limits = SmtpLimits { max_messages_per_client: 2, ..SmtpLimits::default() };
        let (port, stop) = listener(&app, limits, clock.clone()).await;
        let script = r#"
import json, smtplib, sys
port = int(sys.argv[1])
src = sys.argv[2]
raw = b"From: a@example.org\r\nSubject: flood\r\n\r\nx\r\n"
out = []
s = smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(src, 0))
for _ in range(3):
    try:
        s.sendmail("a@example.org", ["support@example.com"], raw)
        out.append("ok")
    except smtplib.SMTPResponseException as e:
        out.append(str(e.smtp_code))
s.quit()
try:
    smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(src, 0)).quit()
    out.append("connected")
except smtplib.SMTPConnectError as e:
    out.append(str(e.smtp_code))
print(json.dumps(out))
"#;
        let run = |src: &'static str| {
            let port = port.to_string();
            async move {
                let out = python(script, &[port, src.to_owned()], b"").await;
                serde_json::from_slice::<Vec<String>>(&out).unwrap()
            }
        };
        assert_eq!(run("127.0.0.4").await, vec!["ok", "ok", "450", "421"]);
        // Another client address has its own allowance.
        assert_eq!(run("127.0.0.5").await, vec!["ok", "ok", "450", "421"]);
        // The next window, the first address may send again.
        clock.advance_secs(3600);
        assert_eq!(run("127.0.0.4").await, vec!["ok", "ok", "450", "421"]);
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM inbound_mail").await, 6);
        stop.send(true).unwrap();
        app.stop().await;
    }

    async fn display_names_are_cut_and_subjects_cleaned_from_mail(app) {
        mailboxes(&app).await;
        let long = "N".repeat(5_000);
        let results = send(&app, &[
            ("long@example.org", format!("From: {long} <long@example.org>\r\nSubject: long name\r\nMessage-ID: <long@example.org>\r\n\r\nhello\r\n")),
            // Encoded words smuggle NUL, a bell, tabs and line breaks into the subject and name.
            ("ctl@example.org", "From: =?utf-8?q?Ana=07=09Garcia=00?= <ctl@example.org>\r\nSubject: =?utf-8?q?Order=00_broken=07=09now=0D=0Aplease?=\r\nMessage-ID: <ctl@example.org>\r\n\r\nhello\r\n".to_owned()),
        ]).await;
        assert_eq!(results, vec!["ok", "ok"]);
        assert_eq!(run_jobs(&app).await, 2);
        let made = tickets(&app).await;
        let by = |email: &str| made.iter().find(|t| t["customer"]["email"] == email).unwrap().clone();
        let t = by("long@example.org");
        let name = t["customer"]["name"].as_str().unwrap();
        assert_eq!(name.chars().count(), 200, "cut, not refused");
        assert!(name.chars().all(|c| c == 'N'));
        let t = by("ctl@example.org");
        assert_eq!(t["subject"], "Order broken now please");
        assert_eq!(t["customer"]["name"], "Ana Garcia");
        app.stop().await;
    }

    async fn the_api_and_portal_refuse_bad_names_and_subjects(app) {
        let ticket = |subject: &str, name: &str| json!({
            "subject": subject, "body": "hello",
            "customer": {"email": "x@example.org", "name": name},
        });
        let (s, e) = app.post("/api/v1/tickets", ticket("ok", &"n".repeat(1024 * 1024))).await;
        assert_error(s, &e, 422, Some("customer.name"));
        let (s, e) = app.post("/api/v1/tickets", ticket("ok", "Ana\u{0}")).await;
        assert_error(s, &e, 422, Some("customer.name"));
        for bad in ["Order\u{0}", "Order\u{7}broken", "two\nlines", "tab\there"] {
            let (s, e) = app.post("/api/v1/tickets", ticket(bad, "Ana")).await;
            assert_error(s, &e, 422, Some("subject"));
        }
        let (s, t) = app.post("/api/v1/tickets", ticket("Fine", "Smith, John")).await;
        assert_eq!(s, 201, "{t}");
        let id = t["id"].as_i64().unwrap();
        let (s, e) = app.patch(&format!("/api/v1/tickets/{id}"), json!({"subject": "a\u{0}b"})).await;
        assert_error(s, &e, 422, Some("subject"));
        assert_eq!(tickets(&app).await.len(), 1);

        // The portal form says what is wrong and keeps nothing.
        let http = client();
        for (name, subject, field) in [("P".repeat(201), "Where is it?".to_owned(), "name"), ("Pat".to_owned(), "Where\u{0} is it?".to_owned(), "subject")] {
            let form = http.get(app.url("/portal/new")).send().await.unwrap();
            let csrf = form.text().await.unwrap();
            let csrf = hidden(&csrf, "csrf");
            let multipart = reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .text("email", "portal@example.com")
                .text("name", name)
                .text("subject", subject)
                .text("message", "It has been a week.");
            let r = http
                .post(app.url("/portal/new"))
                .header(header::COOKIE, format!("rapport_portal_csrf={csrf}"))
                .multipart(multipart)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422);
            let html = r.text().await.unwrap();
            assert!(html.contains(&format!("Please check the {field}")), "{html}");
        }
        assert_eq!(tickets(&app).await.len(), 1);
        app.stop().await;
    }

    async fn a_status_list_is_a_set(app) {
        let t = app.ticket("Open one", "hello", "s@example.org").await;
        let id = t["id"].as_i64().unwrap();
        app.patch(&format!("/api/v1/tickets/{id}"), json!({"status": "open"})).await;
        let many = vec!["open"; 600].join(",");
        let (s, page) = app.get(&format!("/api/v1/tickets?status={many}")).await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let mixed = vec!["open,new,pending,unsolved"; 200].join(",");
        let (s, page) = app.get(&format!("/api/v1/tickets?status={mixed}")).await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(page["items"][0]["id"], id);
        let (s, e) = app.get("/api/v1/tickets?status=open,bogus").await;
        assert_error(s, &e, 422, Some("status"));
        app.stop().await;
    }

    async fn the_workspace_form_meets_the_custom_field_rules(app) {
        set_password(&app, "admin@example.com", "correct horse battery").await;
        let http = client();
        let (session, _) = sign_in(&app, &http, "admin@example.com", "correct horse battery").await;
        let t = app.ticket("Custom", "hello", "cf@example.org").await;
        let id = t["id"].as_i64().unwrap();
        let page = http
            .get(app.url(&format!("/tickets/{id}")))
            .header(header::COOKIE, format!("rapport_session={session}"))
            .send().await.unwrap().text().await.unwrap();
        let csrf = hidden(&page, "csrf");
        let post = |value: String| {
            let form = [
                ("csrf", csrf.clone()), ("status", "open".into()), ("priority", "normal".into()),
                ("category", String::new()), ("team_id", String::new()), ("assignee_id", String::new()),
                ("tags", String::new()), ("cf_note", value),
            ];
            http.post(app.url(&format!("/tickets/{id}/update")))
                .header(header::COOKIE, format!("rapport_session={session}"))
                .form(&form)
                .send()
        };
        let r = post("x".repeat(6 * 1024 * 1024)).await.unwrap();
        assert_eq!(r.status(), 422);
        let (_, after) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(after["custom_fields"], json!({}), "nothing stored");
        assert_eq!(after["status"], "new", "nothing changed");
        // A sensible value goes through the same path.
        let r = post("A-1".into()).await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, after) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(after["custom_fields"], json!({"note": "A-1"}));
        // The API still names the field.
        let (s, e) = app.patch(&format!("/api/v1/tickets/{id}"), json!({"custom_fields": {"note": "x".repeat(10_001)}})).await;
        assert_error(s, &e, 422, Some("custom_fields.note"));
        app.stop().await;
    }
}
