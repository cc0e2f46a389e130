//! The email channel with a real SMTP client (Python's smtplib) against the listener:
//! mailbox-only acceptance, SIZE, commit-before-250, threading, dedupe, follow-ups.

use std::sync::Arc;
use std::time::Duration;

use rapport_domain::SystemClock;
use rapport_jobs::{Step, Worker, WorkerConfig};
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::TestApp;

/// Sends each `(from, [to], raw)` with smtplib and returns, per message, "ok" or the
/// SMTP code that refused it.
async fn send(app: &TestApp, mails: Value) -> Vec<String> {
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
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("python3")
        .args([
            "-c",
            script,
            &app.smtp.ip().to_string(),
            &app.smtp.port().to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the SMTP client (scripts/test installs it)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(mails.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs the queued ingest jobs.
async fn ingest_all(app: &TestApp) -> usize {
    let clock: Arc<dyn rapport_domain::Clock> = Arc::new(SystemClock);
    let w = Worker::new(
        app.db.clone(),
        Arc::clone(&clock),
        rapport::registry(clock),
        WorkerConfig {
            name: "test".into(),
            lease_secs: 30,
            idle_wait: Duration::from_millis(10),
        },
    );
    let mut n = 0;
    loop {
        match w.step().await.unwrap() {
            Step::Done(_) => n += 1,
            Step::Idle => return n,
            Step::Failed(id) => panic!("ingest job {id} failed"),
        }
    }
}

fn mail(from: &str, subject: &str, mid: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@example.com\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

async fn inbound_count(app: &TestApp) -> i64 {
    app.db
        .read(|c| {
            Box::pin(async move {
                c.one("SELECT COUNT(*) FROM inbound_mail", &[])
                    .await?
                    .int(0)
            })
        })
        .await
        .unwrap()
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
        assert!(msgs.as_array().unwrap().iter().all(|m| m["channel"] == "email"));

        // A reply to a closed ticket opens a follow-up.
        app.patch(&format!("/api/v1/tickets/{id}"), json!({"status": "closed"})).await;
        let late = mail("lena@example.org", "Re: Blender arrived broken", "m4@example.org", "In-Reply-To: <m2@example.org>\r\n", "It broke again.");
        assert_eq!(send(&app, json!([["lena@example.org", ["support@example.com"], late]])).await, vec!["ok"]);
        assert_eq!(ingest_all(&app).await, 1);
        let (_, page) = app.get("/api/v1/tickets?channel=email&status=new").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert_ne!(page["items"][0]["id"], id);
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
}
