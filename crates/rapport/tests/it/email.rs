//! The email channel with a real SMTP client (Python's smtplib) against the listener:
//! mailbox-only acceptance, SIZE, commit-before-250, threading, dedupe, follow-ups.

use std::sync::Arc;
use std::time::Duration;

use rapport_domain::SystemClock;
use rapport_jobs::{Step, Worker, WorkerConfig};
use serde_json::{Value, json};

use rapport_mail::transport::Relay;

use crate::both_backends;
use crate::harness::TestApp;
use crate::peers::{SinkOptions, SmtpSink, test_certificates};
use rapport_store::op;

/// Sends each `(from, [to], raw)` with smtplib and returns, per message, "ok" or the
/// SMTP code that refused it.
pub(crate) async fn send(app: &TestApp, mails: Value) -> Vec<String> {
    let script = r#"
import json, smtplib, sys
host, port = sys.argv[1], int(sys.argv[2])
out = []
for m in json.loads(sys.stdin.read()):
    s = smtplib.SMTP(host, port, timeout=30)
    try:
        s.ehlo("client.example")
        s.sendmail(m[0], m[1], m[2].encode("utf-8") if isinstance(m[2], str) else m[2])
        out.append("ok")
    except smtplib.SMTPRecipientsRefused as e:
        out.append(str(list(e.recipients.values())[0][0]))
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
        out.append(str(e.smtp_code))
    finally:
        try:
            s.quit()
        except Exception:
            pass
print(json.dumps(out))
"#;
    let args = [app.smtp.ip().to_string(), app.smtp.port().to_string()];
    let out = crate::harness::python(script, &args, mails.to_string().as_bytes()).await;
    serde_json::from_slice(&out).unwrap()
}

/// Runs the queued ingest jobs.
pub(crate) async fn ingest_all(app: &TestApp) -> usize {
    run_jobs(app, None).await
}

/// Runs every due job, sending replies through `relay`.
async fn run_jobs(app: &TestApp, relay: Option<std::net::SocketAddr>) -> usize {
    let relay = relay.map(|a| Relay::plain(&a.ip().to_string(), a.port()));
    run_jobs_via(app, relay).await
}

/// Lets the event stream's subscribers queue what they queue, then runs every due job,
/// sending through `relay`, until neither has anything left.
pub(crate) async fn run_jobs_via(app: &TestApp, relay: Option<Relay>) -> usize {
    let clock: Arc<dyn rapport_domain::Clock> = Arc::new(SystemClock);
    let w = Worker::new(
        app.db.clone(),
        Arc::clone(&clock),
        rapport::registry(
            clock,
            rapport_mail::MailSettings {
                relay,
                public_url: app.base.clone(),
                sealer: app.sealer.clone(),
                ..Default::default()
            },
        ),
        WorkerConfig {
            name: "test".into(),
            lease_secs: 30,
            idle_wait: Duration::from_millis(10),
        },
    );
    let (mut n, mut settled) = (0, false);
    loop {
        match w.step().await.unwrap() {
            Step::Done(_) => (n, settled) = (n + 1, false),
            Step::Idle if settled => return n,
            // What happened may call for more (a reply to send, a notice): once the
            // subscribers have caught up, whatever they queued is in the queue.
            Step::Idle => {
                crate::harness::settle(&app.db).await;
                settled = true;
            }
            Step::Failed(id) => {
                let (_, jobs) = app
                    .call("GET", "/api/v1/jobs", Some(&app.supervisor.token), None)
                    .await;
                panic!("job {id} failed: {jobs}")
            }
        }
    }
}

pub(crate) fn mail(from: &str, subject: &str, mid: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

async fn inbound_count(app: &TestApp) -> i64 {
    crate::harness::count(&app.db, "SELECT COUNT(*) FROM inbound_mail").await
}

both_backends! {
    async fn mail_becomes_tickets_and_replies_thread(app) {
        let (s, m) = app.post("/api/v1/mailboxes", json!({"address": "Support@Example.com", "name": "Support"})).await;
        assert_eq!(s, 201, "{m}");
        let (s, e) = app.post("/api/v1/mailboxes", json!({"address": "support@example.com", "name": "Again"})).await;
        crate::harness::assert_error(s, &e, 422, Some("address"));

        let first = mail("Lena Novak <lena@example.org>", "Blender arrived broken", "m1@example.org", "", "The jar is cracked.");
        let results = send(&app, json!([
            ["lena@example.org", ["support@example.com"], first],
            ["lena@example.org", ["someone@elsewhere.example"], "Subject: relay?\r\n\r\nx\r\n"],
        ])).await;
        assert_eq!(results, vec!["ok".to_owned(), "550".to_owned()], "never an open relay");
        // Committed before 250: the raw message is there before any processing.
        assert_eq!(inbound_count(&app).await, 1);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        let t = page["items"][0].clone();
        assert_eq!(t["subject"], "Blender arrived broken");
        assert_eq!(t["customer"]["email"], "lena@example.org");
        assert_eq!(t["customer"]["name"], "Lena Novak");
        let id = t["id"].as_i64().unwrap();
        let number = t["number"].as_i64().unwrap();

        // A reply with In-Reply-To joins the ticket; its quoted history is cut.
        let reply = mail("lena@example.org", "Re: Blender arrived broken", "m2@example.org",
            "In-Reply-To: <m1@example.org>\r\nReferences: <m1@example.org>\r\n",
            "Here is a photo.\r\n\r\nOn Mon, 3 Mar 2025, Lena wrote:\r\n> The jar is cracked.");
        // A client that dropped the headers still threads by [#number].
        let tagged = mail("lena@example.org", &format!("Re: [#{number}] Blender"), "m3@example.org", "", "Any news?");
        // The same message delivered twice is stored once.
        let results = send(&app, json!([
            ["lena@example.org", ["support@example.com"], reply.clone()],
            ["lena@example.org", ["support@example.com"], tagged],
            ["lena@example.org", ["support@example.com"], reply],
        ])).await;
        assert_eq!(results, vec!["ok", "ok", "ok"]);
        assert_eq!(inbound_count(&app).await, 3, "the duplicate was kept once");
        assert_eq!(ingest_all(&app).await, 2);
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        let bodies: Vec<&str> = msgs.as_array().unwrap().iter().map(|m| m["body"].as_str().unwrap()).collect();
        assert_eq!(bodies, vec!["The jar is cracked.", "Here is a photo.", "Any news?"]);
        // The quoted history is cut from the thread but kept one click away.
        assert!(msgs[1]["html"].as_str().unwrap().contains("&gt; The jar is cracked."), "{}", msgs[1]);
        assert!(msgs[2]["html"].is_null(), "nothing was cut from the last one");
        assert!(msgs.as_array().unwrap().iter().all(|m| m["channel"] == "email"));

        // A customer writing to a recently solved ticket reopens it.
        app.patch(&format!("/api/v1/tickets/{id}"), json!({"status": "solved"})).await;
        let again = mail("lena@example.org", "Re: Blender arrived broken", "m3b@example.org", "In-Reply-To: <m2@example.org>\r\n", "One more thing.");
        assert_eq!(send(&app, json!([["lena@example.org", ["support@example.com"], again]])).await, vec!["ok"]);
        // The message's ingest, and the survey mail the solve queued.
        assert_eq!(ingest_all(&app).await, 2);
        let (_, reopened) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(reopened["status"], "open");
        // Solved too long ago (past the reopen window): a follow-up instead.
        app.patch(&format!("/api/v1/tickets/{id}"), json!({"status": "solved"})).await;
        let long_ago = rapport_domain::Clock::now(&SystemClock).plus_secs(-40 * 86_400);
        app.db
            .write(op!(c => {
                rapport_store::testing::execute_in(c, "UPDATE tickets SET solved_at = $1 WHERE id = $2", &[long_ago.into(), id.into()]).await
            }))
            .await
            .unwrap();
        let old = mail("lena@example.org", "Re: Blender arrived broken", "m3c@example.org", "In-Reply-To: <m2@example.org>\r\n", "Months later, again.");
        assert_eq!(send(&app, json!([["lena@example.org", ["support@example.com"], old]])).await, vec!["ok"]);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, still) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(still["status"], "solved", "an old solved ticket is not reopened");
        // A reply to a closed ticket opens a follow-up linked to it.
        app.patch(&format!("/api/v1/tickets/{id}"), json!({"status": "closed"})).await;
        let late = mail("lena@example.org", "Re: Blender arrived broken", "m4@example.org", "In-Reply-To: <m2@example.org>\r\n", "It broke again.");
        assert_eq!(send(&app, json!([["lena@example.org", ["support@example.com"], late]])).await, vec!["ok"]);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, page) = app.get("/api/v1/tickets?channel=email&status=new").await;
        let follow_ups: Vec<i64> = page["items"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
        assert_eq!(follow_ups.len(), 2, "one for the old solved ticket, one for the closed one");
        for f in follow_ups {
            assert_ne!(f, id);
            let (_, events) = app.get(&format!("/api/v1/tickets/{f}/events")).await;
            let link = events.as_array().unwrap().iter().find(|e| e["kind"] == "follow_up_of").expect("linked");
            assert_eq!(link["data"]["ticket_id"], id);
        }
        app.stop().await;
    }

    async fn oversized_and_unreadable_mail(app) {
        app.post("/api/v1/mailboxes", json!({"address": "help@example.com", "name": "Help"})).await;
        let big = format!("From: a@example.com\r\nSubject: big\r\n\r\n{}\r\n", "x".repeat(31 * 1024 * 1024));
        let garbage = "\u{1}\u{2} not really a message".to_owned();
        let results = send(&app, json!([
            ["a@example.com", ["help@example.com"], big],
            ["", ["help@example.com"], garbage],
        ])).await;
        assert_eq!(results, vec!["552".to_owned(), "ok".to_owned()]);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        let t = &page["items"][0];
        assert_eq!(t["subject"], "(no subject)");
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{}/messages", t["id"])).await;
        assert_eq!(msgs[0]["attachments"][0]["filename"], "original.eml", "the original is kept with the ticket");
        app.stop().await;
    }

    async fn replies_go_out_threaded_through_the_relay(app) {
        // The "customer's mail server": a second Rapport receiving for the customer.
        let backend = if app.db.backend() == rapport_store::Backend::Sqlite {
            crate::harness::Backend::Sqlite
        } else {
            crate::harness::Backend::Postgres
        };
        let relay = TestApp::spawn(backend).await;
        relay.post("/api/v1/mailboxes", json!({"address": "kim@example.org", "name": "Kim's inbox"})).await;
        app.post("/api/v1/mailboxes", json!({"address": "support@example.com", "name": "Example Support"})).await;

        let first = mail("Kim Park <kim@example.org>", "Printer offline", "k1@example.org", "", "It says offline.");
        assert_eq!(send(&app, json!([["kim@example.org", ["support@example.com"], first]])).await, vec!["ok"]);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        let id = page["items"][0]["id"].as_i64().unwrap();
        let number = page["items"][0]["number"].as_i64().unwrap();

        // Without a relay the delivery fails visibly and is retried later.
        let (s, _) = app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Please restart it.\n\nThanks, <b>Riley</b>"})).await;
        assert_eq!(s, 201);
        crate::harness::settle(&app.db).await;
        let clock: Arc<dyn rapport_domain::Clock> = Arc::new(SystemClock);
        let w = Worker::new(app.db.clone(), Arc::clone(&clock), rapport::registry(clock, rapport_mail::MailSettings::default()),
            WorkerConfig { name: "no-relay".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        assert!(matches!(w.step().await.unwrap(), Step::Failed(_)));
        let (_, jobs) = app.call("GET", "/api/v1/jobs", Some(&app.supervisor.token), None).await;
        let failed = jobs.as_array().unwrap().iter().find(|j| j["kind"] == "email.send").unwrap();
        assert!(failed["last_error"].as_str().unwrap().contains("RAPPORT_SMTP_RELAY"));
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        assert_eq!(msgs[1]["delivery"], "retrying", "the agent sees it is not delivered yet");
        assert!(msgs[1]["delivery_error"].as_str().unwrap().contains("RAPPORT_SMTP_RELAY"));
        // A note is never emailed.
        app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "internal only", "internal": true})).await;

        // Make the retry due now, then deliver through the relay.
        app.db.write(op!(c => rapport_store::testing::execute_in(c, "UPDATE jobs SET run_at = 0 WHERE kind = 'email.send'", &[]).await)).await.unwrap();
        assert_eq!(run_jobs(&app, Some(relay.smtp)).await, 1);
        let raw: Vec<u8> = relay
            .db
            .read(op!(c => rapport_store::testing::one_in(c, "SELECT raw FROM inbound_mail", &[]).await?.blob(0)))
            .await
            .unwrap();
        let got = rapport_mail::parse::parse(&raw);
        assert_eq!(got.from.as_deref(), Some("support@example.com"));
        assert_eq!(got.subject, format!("Re: [#{number}] Printer offline"));
        assert_eq!(got.refs, vec!["k1@example.org".to_owned()]);
        assert!(got.text.contains("Please restart it."));
        assert!(!got.text.contains("internal only"));
        let sent_id = got.message_id.clone().unwrap();
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        assert_eq!(msgs[1]["delivery"], "sent");
        assert!(msgs[2]["delivery"].is_null(), "notes have no delivery");
        assert!(sent_id.starts_with("rapport."), "{sent_id}");
        let text = String::from_utf8_lossy(&raw);
        assert!(text.contains("text/plain") && text.contains("text/html"), "text and HTML parts");

        // The customer answers the reply: it threads by the Message-ID Rapport sent.
        let answer = mail("kim@example.org", "Re: Printer offline", "k2@example.org",
            &format!("In-Reply-To: <{sent_id}>\r\n"), "Restarted, works now.");
        assert_eq!(send(&app, json!([["kim@example.org", ["support@example.com"], answer]])).await, vec!["ok"]);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(t["message_count"], 4);
        assert_eq!(t["status"], "open", "the customer's answer reopens the pending ticket");

        // A bounce about the sent reply becomes a note and marks the address; no ticket.
        let (_, before) = app.get("/api/v1/tickets?limit=200").await;
        let dsn = format!(
            "From: MAILER-DAEMON@mx.example.org\r\nTo: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.example.org>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n<kim@example.org>: mailbox full\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; kim@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{sent_id}>\r\nSubject: Re: [#{number}] Printer offline\r\n--b--\r\n"
        );
        assert_eq!(send(&app, json!([["", ["support@example.com"], dsn]])).await, vec!["ok"]);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, after) = app.get("/api/v1/tickets?limit=200").await;
        assert_eq!(after["items"].as_array().unwrap().len(), before["items"].as_array().unwrap().len(), "no ticket for a bounce");
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        let last = msgs.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["internal"], true);
        assert_eq!(last["author"]["kind"], "system");
        assert!(last["body"].as_str().unwrap().contains("mailbox full"));
        let cid = t["customer"]["id"].as_i64().unwrap();
        let (_, customer) = app.get(&format!("/api/v1/customers/{cid}")).await;
        assert_eq!(customer["attributes"]["email_bouncing"], true);
        // A permanent refusal (the relay has no such mailbox: 550) fails at once and says so.
        let stranger = mail("nobody@example.net", "Hello", "n1@example.net", "", "Anyone?");
        assert_eq!(send(&app, json!([["nobody@example.net", ["support@example.com"], stranger]])).await, vec!["ok"]);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, page) = app.get("/api/v1/tickets?channel=email&sort=created_at&limit=1").await;
        let other = page["items"][0]["id"].as_i64().unwrap();
        app.post(&format!("/api/v1/tickets/{other}/messages"), json!({"body": "Hi there"})).await;
        assert_eq!(run_jobs(&app, Some(relay.smtp)).await, 1, "done, not retried");
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{other}/messages")).await;
        assert_eq!(msgs[1]["delivery"], "failed");
        assert!(msgs[1]["delivery_error"].as_str().unwrap().contains("550"), "{}", msgs[1]);
        relay.stop().await;
        app.stop().await;
    }

    async fn replies_reach_a_real_smtp_server_threaded_byte_for_byte(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let first = mail("Dana Cruz <dana@customer.example>", "Refund for order 77", "d1@customer.example",
            "References: <older@customer.example>\r\n", "Where is my refund?");
        assert_eq!(send(&app, json!([["dana@customer.example", ["help@shop.example"], first]])).await, vec!["ok"]);
        ingest_all(&app).await;
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        let id = page["items"][0]["id"].as_i64().unwrap();
        let number = page["items"][0]["number"].as_i64().unwrap();
        let (s, reply) = app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "It was sent today."})).await;
        assert_eq!(s, 201);
        let mid = reply["id"].as_i64().unwrap();
        assert_eq!(run_jobs_via(&app, Some(Relay::plain("127.0.0.1", sink.port))).await, 1);
        let kept = sink.messages();
        assert_eq!(kept.len(), 1);
        let (raw, env) = &kept[0];
        assert_eq!(env["mail_from"], "help@shop.example");
        assert_eq!(env["rcpt_tos"], json!(["dana@customer.example"]));
        let text = String::from_utf8_lossy(raw);
        let header = |name: &str| -> String {
            text.split("\r\n\r\n").next().unwrap().split("\r\n")
                .find(|l| l.starts_with(&format!("{name}: "))).unwrap_or_else(|| panic!("no {name} in {text}")).to_owned()
        };
        // The headers a mail client threads by, byte for byte.
        // The Message-ID is Rapport's, with 128 random bits, and stored with the reply.
        let sent = header("Message-ID");
        let random = sent.strip_prefix("Message-ID: <rapport.").and_then(|r| r.strip_suffix("@shop.example>")).unwrap();
        assert!(random.len() == 32 && random.chars().all(|c| c.is_ascii_hexdigit()), "{sent}");
        let stored: i64 = app.db.read(op!(c => rapport_store::testing::one_in(c, "SELECT ticket_id FROM mail_sent WHERE reply_id = $1", &[mid.into()]).await?.int(0))).await.unwrap();
        assert_eq!(stored, id);
        assert_eq!(header("In-Reply-To"), "In-Reply-To: <d1@customer.example>");
        assert_eq!(header("References"), "References: <d1@customer.example>");
        assert_eq!(header("Subject"), format!("Subject: Re: [#{number}] Refund for order 77"));
        assert_eq!(header("From"), "From: \"Shop Help\" <help@shop.example>");
        sink.messages();
        app.stop().await;
    }

    async fn replies_go_through_a_relay_with_starttls_and_login(app) {
        let (_certs, ca, cert, key) = test_certificates();
        let sink = SmtpSink::start(SinkOptions {
            tls: Some((cert, key)),
            login: Some(("relayuser".into(), "relay pass".into())),
        }).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let first = mail("eli@customer.example", "Login broken", "e1@customer.example", "", "Cannot log in.");
        send(&app, json!([["eli@customer.example", ["help@shop.example"], first]])).await;
        ingest_all(&app).await;
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        let id = page["items"][0]["id"].as_i64().unwrap();
        app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Reset link sent."})).await;
        // A wrong password is a permanent refusal: failed, and the agent is told why.
        let url = format!("smtp://relayuser:wrong@127.0.0.1:{}?tls=starttls&ca={}", sink.port, ca.display());
        assert_eq!(run_jobs_via(&app, Some(Relay::parse(&url).unwrap())).await, 1);
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        assert_eq!(msgs[1]["delivery"], "failed", "{}", msgs[1]);
        assert!(msgs[1]["delivery_error"].as_str().unwrap().contains("login"), "{}", msgs[1]);
        // With the right password, over STARTTLS, it is delivered.
        app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Try again now."})).await;
        let url = format!("smtp://relayuser:relay%20pass@127.0.0.1:{}?tls=starttls&ca={}", sink.port, ca.display())
            .replace("%20", " ");
        assert_eq!(run_jobs_via(&app, Some(Relay::parse(&url).unwrap())).await, 1);
        let kept = sink.messages();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].1["tls"], true);
        assert_eq!(kept[0].1["login"], "relayuser");
        assert!(String::from_utf8_lossy(&kept[0].0).contains("Try again now."));
        // A relay that is not trusted (no CA given) is not sent to.
        app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Untrusted?"})).await;
        let url = format!("smtp://relayuser:x@127.0.0.1:{}?tls=starttls", sink.port);
        crate::harness::settle(&app.db).await;
        let clock: Arc<dyn rapport_domain::Clock> = Arc::new(SystemClock);
        let w = Worker::new(app.db.clone(), Arc::clone(&clock),
            rapport::registry(clock, rapport_mail::MailSettings { relay: Some(Relay::parse(&url).unwrap()), ..Default::default() }),
            WorkerConfig { name: "untrusted".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        assert!(matches!(w.step().await.unwrap(), Step::Failed(_)));
        assert_eq!(sink.messages().len(), 1);
        app.stop().await;
    }

    async fn automatic_mail_is_honest_threaded_and_never_loops(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        let relay = || Some(Relay::plain("127.0.0.1", sink.port));
        let (s, m) = app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help", "acknowledge": true})).await;
        assert_eq!(s, 201, "{m}");
        assert_eq!(m["acknowledge"], true);
        let header = |raw: &[u8], name: &str| -> Option<String> {
            let text = String::from_utf8_lossy(raw).to_string();
            let head = text.split("\r\n\r\n").next().unwrap().to_owned();
            head.split("\r\n").find(|l| l.starts_with(&format!("{name}: "))).map(|l| l[name.len() + 2..].to_owned())
        };

        // A new ticket is acknowledged, threaded under the customer's message, marked as
        // automatic, with an honest "cannot yet say" while there is no history.
        let first = mail("Fay Lin <fay@customer.example>", "Wrong size", "f1@customer.example", "", "I got an M, ordered an L.");
        send(&app, json!([["fay@customer.example", ["help@shop.example"], first]])).await;
        run_jobs_via(&app, relay()).await;
        let kept = sink.messages();
        assert_eq!(kept.len(), 1);
        let (raw, env) = &kept[0];
        assert_eq!(env["rcpt_tos"], json!(["fay@customer.example"]));
        assert_eq!(header(raw, "Auto-Submitted").as_deref(), Some("auto-replied"));
        assert_eq!(header(raw, "In-Reply-To").as_deref(), Some("<f1@customer.example>"));
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        let number = page["items"][0]["number"].as_i64().unwrap();
        let id = page["items"][0]["id"].as_i64().unwrap();
        assert_eq!(header(raw, "Subject"), Some(format!("[#{number}] We received your request")));
        let ack = rapport_mail::parse::parse(raw);
        assert!(ack.text.contains("cannot yet say") && ack.text.contains(&format!("#{number}")), "{}", ack.text);
        // The customer's answer to the acknowledgement threads to the same ticket.
        let answer = mail("fay@customer.example", "Re: We received your request", "f2@customer.example",
            &format!("In-Reply-To: <{}>\r\n", ack.message_id.unwrap()), "Also, the colour is off.");
        send(&app, json!([["fay@customer.example", ["help@shop.example"], answer]])).await;
        run_jobs_via(&app, relay()).await;
        let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(t["message_count"], 2);
        assert_eq!(sink.messages().len(), 1, "no acknowledgement for a reply");

        // Loop safety: machine-sent mail and our own address get no automatic answer.
        let robot = mail("fay@customer.example", "Out of office", "r1@customer.example", "Auto-Submitted: auto-replied\r\n", "Away until Monday.");
        let own = mail("help@shop.example", "Loop?", "o1@shop.example", "", "From ourselves.");
        send(&app, json!([["fay@customer.example", ["help@shop.example"], robot], ["help@shop.example", ["help@shop.example"], own]])).await;
        run_jobs_via(&app, relay()).await;
        assert_eq!(sink.messages().len(), 1);
        // At most three automatic mails per address per hour, however many tickets.
        for i in 0..4 {
            let m = mail("gus@customer.example", &format!("Question {i}"), &format!("g{i}@customer.example"), "", "Hello?");
            send(&app, json!([["gus@customer.example", ["help@shop.example"], m]])).await;
        }
        run_jobs_via(&app, relay()).await;
        let to_gus = sink.messages().iter().filter(|(_, e)| e["rcpt_tos"] == json!(["gus@customer.example"])).count();
        assert_eq!(to_gus, 3);

        // With history, the expectation comes from how long recent customers waited:
        // five first answers after two hours → "about 2 hours"; the unanswered ahead count.
        let now = rapport_domain::Clock::now(&SystemClock);
        app.db.write(op!(c => {
            rapport_store::testing::execute_in(c, "UPDATE tickets SET created_at = $1, first_response_at = $2 WHERE subject LIKE 'Question %' OR subject = 'Wrong size'",
                &[now.plus_secs(-7_200).into(), now.into()]).await
        })).await.unwrap();
        let m = mail("hal@customer.example", "Broken strap", "h1@customer.example", "", "The strap snapped.");
        send(&app, json!([["hal@customer.example", ["help@shop.example"], m]])).await;
        run_jobs_via(&app, relay()).await;
        let last = sink.messages().pop().unwrap();
        assert_eq!(last.1["rcpt_tos"], json!(["hal@customer.example"]));
        let text = rapport_mail::parse::parse(&last.0).text;
        assert!(text.contains("within about 2 hours"), "{text}");
        assert!(text.contains("requests are waiting ahead of yours") || text.contains("One request is waiting"), "{text}");

        // Agents hear by email when a ticket is assigned to them and when its customer writes.
        let before = sink.messages().len();
        let (s, _) = app.patch(&format!("/api/v1/tickets/{id}"), json!({"assignee_id": app.agent.id, "team_id": app.team_a})).await;
        assert_eq!(s, 200);
        run_jobs_via(&app, relay()).await;
        let kept = sink.messages();
        assert_eq!(kept.len(), before + 1);
        let (raw, env) = kept.last().unwrap();
        assert_eq!(env["rcpt_tos"], json!(["agent.a@example.com"]));
        assert_eq!(header(raw, "Subject"), Some(format!("[#{number}] Assigned to you: Wrong size")));
        assert_eq!(header(raw, "Auto-Submitted").as_deref(), Some("auto-generated"));
        assert!(String::from_utf8_lossy(raw).contains(&format!("/tickets/{id}")));
        let again = mail("fay@customer.example", "Re: Wrong size", "f3@customer.example", "In-Reply-To: <f1@customer.example>\r\n", "Any news?");
        send(&app, json!([["fay@customer.example", ["help@shop.example"], again]])).await;
        run_jobs_via(&app, relay()).await;
        let kept = sink.messages();
        assert_eq!(kept.len(), before + 2);
        assert_eq!(header(&kept.last().unwrap().0, "Subject"), Some(format!("[#{number}] The customer replied: Wrong size")));
        // Assigning a ticket to yourself sends nothing.
        let (s, _) = app.call("PATCH", &format!("/api/v1/tickets/{id}"), Some(&app.agent.token), Some(json!({"assignee_id": app.agent.id, "priority": "high"}))).await;
        assert_eq!(s, 200);
        run_jobs_via(&app, relay()).await;
        assert_eq!(sink.messages().len(), before + 2);
        // A follow-up reminder: the agent snoozes the ticket for an hour with a note; when
        // the time comes it is open again and they get an email with the note.
        let now = rapport_domain::Clock::now(&SystemClock);
        let until = serde_json::to_value(now.plus_secs(3_600)).unwrap();
        let (s, z) = app.call("POST", &format!("/api/v1/tickets/{id}/snooze"), Some(&app.agent.token),
            Some(json!({"until": until, "note": "Check the exchange went out"}))).await;
        assert_eq!(s, 200, "{z}");
        let later = now.plus_secs(3_700);
        let woke = app.db.write(op!(c => rapport_store::snooze::wake_due(c, later, 10).await)).await.unwrap();
        assert_eq!(woke, 1);
        run_jobs_via(&app, relay()).await;
        let kept = sink.messages();
        assert_eq!(kept.len(), before + 3);
        let (raw, env) = kept.last().unwrap();
        assert_eq!(env["rcpt_tos"], json!(["agent.a@example.com"]));
        assert_eq!(header(raw, "Subject"), Some(format!("[#{number}] Reminder: Wrong size")));
        assert!(rapport_mail::parse::parse(raw).text.contains("Check the exchange went out"));
        app.stop().await;
    }

    async fn customers_sign_in_to_the_portal_by_emailed_link(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        let relay = || Some(Relay::plain("127.0.0.1", sink.port));
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        app.ticket("Order late", "Where is it?", "ivy@customer.example").await;
        app.ticket("Invoice", "Need an invoice", "ivy@customer.example").await;
        app.ticket("Someone else's", "Private", "other@customer.example").await;
        let http = crate::web::client();
        let form = http.get(app.url("/portal/signin")).send().await.unwrap();
        let csrf_cookie = form.headers().get_all("set-cookie").iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with("rapport_portal_csrf=")).unwrap();
        let csrf = csrf_cookie.split(';').next().unwrap()["rapport_portal_csrf=".len()..].to_owned();
        let post = |path: String, fields: Vec<(&'static str, String)>| {
            let http = http.clone();
            let csrf = csrf.clone();
            let url = app.url(&path);
            async move {
                let mut form = vec![("csrf", csrf.clone())];
                form.extend(fields);
                http.post(url).header("cookie", format!("rapport_portal_csrf={csrf}")).form(&form).send().await.unwrap()
            }
        };
        // Unknown and known addresses get the same answer; only the customer gets mail.
        let r = post("/portal/signin".into(), vec![("email", "stranger@nowhere.example".into())]).await;
        assert_eq!(r.status(), 200);
        let unknown_page = r.text().await.unwrap();
        let r = post("/portal/signin".into(), vec![("email", "Ivy@Customer.example".into())]).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap().replace(char::is_numeric, ""), unknown_page.replace(char::is_numeric, ""));
        run_jobs_via(&app, relay()).await;
        let kept = sink.messages();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].1["rcpt_tos"], json!(["ivy@customer.example"]));
        let text = rapport_mail::parse::parse(&kept[0].0).text;
        let link = text.split_whitespace().find(|w| w.contains("/portal/signin/")).unwrap().to_owned();
        let path = link[link.find("/portal/").unwrap()..].to_owned();
        // The token is not stored in the clear anywhere.
        let token = path.rsplit('/').next().unwrap().to_owned();
        let jobs: Vec<String> = app.db.read(op!(c => {
            rapport_store::testing::query_in(c, "SELECT payload FROM jobs", &[]).await?.iter().map(|r| r.text(0)).collect()
        })).await.unwrap();
        assert!(jobs.iter().all(|p| !p.contains(&token)), "the queued link is sealed");

        // Opening the link shows a button (a mail scanner's GET does not use it up).
        assert_eq!(http.get(app.url(&path)).send().await.unwrap().status(), 200);
        assert_eq!(http.get(app.url(&path)).send().await.unwrap().status(), 200);
        let r = post(path.clone(), vec![]).await;
        assert_eq!(r.status(), 303);
        let session = r.headers().get_all("set-cookie").iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with("rapport_portal=")).unwrap();
        assert!(session.contains("HttpOnly"), "{session}");
        let session = session.split(';').next().unwrap().to_owned();
        let mine = http.get(app.url("/portal/requests")).header("cookie", session.clone()).send().await.unwrap().text().await.unwrap();
        assert!(mine.contains("Order late") && mine.contains("Invoice"), "{mine}");
        assert!(!mine.contains("Someone else"), "only their own requests");
        // Each request opens with its private link.
        let first = mine.split("href=\"").find(|h| h.starts_with("/portal/requests/")).unwrap().split('"').next().unwrap().replace("&amp;", "&");
        let page = http.get(app.url(&first)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        // The link works once; a forged session is refused.
        assert_eq!(post(path.clone(), vec![]).await.status(), 404);
        assert_eq!(http.get(app.url(&path)).send().await.unwrap().status(), 404);
        let forged = session.replace("rapport_portal=", "rapport_portal=9");
        let r = http.get(app.url("/portal/requests")).header("cookie", forged).send().await.unwrap();
        assert_eq!(r.status(), 303, "back to sign-in");
        let r = http.get(app.url("/portal/requests")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        app.stop().await;
    }

    async fn html_mail_shows_sanitised_with_its_inline_images(app) {
        app.post("/api/v1/mailboxes", json!({"address": "support@example.com", "name": "Support"})).await;
        let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../rapport-mail/tests/corpus/nested-multipart-inline-image.eml")).unwrap();
        assert_eq!(send(&app, json!([["maria@example.it", ["support@example.com"], raw]])).await, vec!["ok"]);
        ingest_all(&app).await;
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        let id = page["items"][0]["id"].as_i64().unwrap();
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        let m = &msgs[0];
        assert_eq!(m["body"], "The hinge snapped, see the photo.");
        assert!(m["html"].as_str().unwrap().contains("cid:photo1@example.it"));
        let image = m["attachments"].as_array().unwrap().iter().find(|a| a["content_id"] == "photo1@example.it").unwrap();
        let image_id = image["id"].as_i64().unwrap();
        crate::web::set_password(&app, "admin@example.com", "admin password 1").await;
        let http = crate::web::client();
        let (session, _) = crate::web::sign_in(&app, &http, "admin@example.com", "admin password 1").await;
        let html = http.get(app.url(&format!("/tickets/{id}"))).header("cookie", format!("rapport_session={session}"))
            .send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Show the whole email"), "{html}");
        assert!(html.contains(&format!("<img src=\"/attachments/{image_id}\"")), "the inline image shows in place");
        assert!(!html.contains("tracker.example") && !html.contains("alert(1)"), "sanitised");
        app.stop().await;
    }

    async fn without_a_relay_automatic_mail_is_dropped_quietly(app) {
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let t = app.ticket("Quiet", "No relay here", "q@customer.example").await;
        let id = t["id"].as_i64().unwrap();
        let (s, _) = app.patch(&format!("/api/v1/tickets/{id}"), json!({"assignee_id": app.agent.id})).await;
        assert_eq!(s, 200);
        // The notification job runs and is done (not retried for hours), unlike a reply.
        assert_eq!(run_jobs(&app, None).await, 1);
        let (_, jobs) = app.call("GET", "/api/v1/jobs", Some(&app.supervisor.token), None).await;
        let notice = jobs.as_array().unwrap().iter().find(|j| j["kind"] == "mail.notify").unwrap();
        assert_eq!(notice["state"], "done");
        app.stop().await;
    }

    async fn bouncing_addresses_get_no_acknowledgement(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help", "acknowledge": true})).await;
        app.ticket("Earlier", "Before it bounced", "kay@customer.example").await;
        app.db.write(op!(c => {
            rapport_store::testing::execute_in(c, "UPDATE customers SET attributes = '{\"email_bouncing\": true}' WHERE email = 'kay@customer.example'", &[]).await
        })).await.unwrap();
        let m = mail("kay@customer.example", "New question", "k1@customer.example", "", "Hello again");
        send(&app, json!([["kay@customer.example", ["help@shop.example"], m]])).await;
        let m = mail("lou@customer.example", "Question", "l1@customer.example", "", "Hello");
        send(&app, json!([["lou@customer.example", ["help@shop.example"], m]])).await;
        run_jobs_via(&app, Some(Relay::plain("127.0.0.1", sink.port))).await;
        let to: Vec<Value> = sink.messages().iter().map(|(_, e)| e["rcpt_tos"].clone()).collect();
        assert_eq!(to, vec![json!(["lou@customer.example"])], "only the address that works");
        app.stop().await;
    }

    async fn agents_can_turn_notification_emails_off(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let tok = Some(app.agent.token.as_str());
        let (s, p) = app.call("GET", "/api/v1/me/preferences", tok, None).await;
        assert_eq!((s, p), (200, json!({"email_notifications": true, "time_zone": "UTC"})));
        let (s, e) = app.call("PUT", "/api/v1/me/preferences", tok, Some(json!({"email_notifications": "no"}))).await;
        crate::harness::assert_error(s, &e, 422, Some("email_notifications"));
        // The switch is also on the workspace's preferences page.
        crate::web::set_password(&app, "agent.a@example.com", "agent a password").await;
        let http = crate::web::client();
        let (session, csrf) = crate::web::sign_in(&app, &http, "agent.a@example.com", "agent a password").await;
        let cookie = format!("rapport_session={session}");
        let page = http.get(app.url("/preferences")).header("cookie", cookie.clone()).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("name=\"email_notifications\" checked"), "{page}");
        let r = http.post(app.url("/preferences")).header("cookie", cookie.clone())
            .form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let (_, p) = app.call("GET", "/api/v1/me/preferences", tok, None).await;
        assert_eq!(p, json!({"email_notifications": false, "time_zone": "UTC"}));
        let (s, _) = app.call("PUT", "/api/v1/me/preferences", tok, Some(json!({"email_notifications": false}))).await;
        assert_eq!(s, 200);
        let t = app.ticket("Hush", "Please", "r@customer.example").await;
        let id = t["id"].as_i64().unwrap();
        app.patch(&format!("/api/v1/tickets/{id}"), json!({"assignee_id": app.agent.id})).await;
        // Agent B still wants them.
        let t2 = app.ticket("Loud", "Please", "s@customer.example").await;
        app.patch(&format!("/api/v1/tickets/{}", t2["id"]), json!({"assignee_id": app.agent_b.id})).await;
        run_jobs_via(&app, Some(Relay::plain("127.0.0.1", sink.port))).await;
        let to: Vec<Value> = sink.messages().iter().map(|(_, e)| e["rcpt_tos"].clone()).collect();
        assert_eq!(to, vec![json!(["agent.b@example.com"])]);
        app.stop().await;
    }
}

both_backends! {
    async fn a_reply_out_of_attempts_ends_failed_with_the_reason(app) {
        app.post("/api/v1/mailboxes", json!({"address": "support@example.com", "name": "Support"})).await;
        let first = mail("Noor <noor@customer.example>", "Where is my parcel", "p1@customer.example", "", "Still waiting.");
        assert_eq!(send(&app, json!([["noor@customer.example", ["support@example.com"], first]])).await, vec!["ok"]);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        let id = page["items"][0]["id"].as_i64().unwrap();
        let (s, _) = app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "It left today."})).await;
        assert_eq!(s, 201);

        // No relay: every attempt fails; make each retry due at once until none is left.
        crate::harness::settle(&app.db).await;
        let clock: Arc<dyn rapport_domain::Clock> = Arc::new(SystemClock);
        let w = Worker::new(app.db.clone(), Arc::clone(&clock), rapport::registry(clock, rapport_mail::MailSettings::default()),
            WorkerConfig { name: "no-relay".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        let mut attempts = 0;
        loop {
            app.db.write(op!(c => rapport_store::testing::execute_in(c, "UPDATE jobs SET run_at = 0 WHERE kind = 'email.send' AND state = 'queued'", &[]).await)).await.unwrap();
            match w.step().await.unwrap() {
                Step::Failed(_) => attempts += 1,
                Step::Idle => break,
                Step::Done(j) => panic!("job {j} cannot succeed without a relay"),
            }
            assert!(attempts <= 8, "email.send is tried 8 times");
            let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
            let expected = if attempts < 8 { "retrying" } else { "failed" };
            assert_eq!(msgs[1]["delivery"], expected, "after attempt {attempts}: {}", msgs[1]);
        }
        assert_eq!(attempts, 8);
        let (_, jobs) = app.call("GET", "/api/v1/jobs", Some(&app.supervisor.token), None).await;
        let dead = jobs.as_array().unwrap().iter().find(|j| j["kind"] == "email.send").unwrap();
        assert_eq!(dead["state"], "dead", "{dead}");

        // The API and the thread say it failed, and why.
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        assert_eq!(msgs[1]["delivery"], "failed", "{}", msgs[1]);
        assert!(msgs[1]["delivery_error"].as_str().unwrap().contains("RAPPORT_SMTP_RELAY"), "{}", msgs[1]);
        crate::web::set_password(&app, "sup@example.com", "a long enough password").await;
        let http = crate::web::client();
        let (session, _) = crate::web::sign_in(&app, &http, "sup@example.com", "a long enough password").await;
        let thread = http.get(app.url(&format!("/tickets/{id}?partial=thread")))
            .header(reqwest::header::COOKIE, format!("rapport_session={session}"))
            .send().await.unwrap().text().await.unwrap();
        assert!(thread.contains("Delivery failed: RAPPORT_SMTP_RELAY"), "{thread}");
        assert!(!thread.contains("retrying"), "{thread}");
        app.stop().await;
    }
}
