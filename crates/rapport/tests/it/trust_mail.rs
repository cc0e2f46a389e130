//! Email identity and threading under attack (issue 9): Message-ID squatting, posting
//! as someone else's customer, forged bounces, spam reflection through
//! acknowledgements, and display names that need quoting — each with the real SMTP
//! listener in front and a real SMTP server (aiosmtpd) behind.

use std::sync::Arc;
use std::time::Duration;

use rapport_domain::SystemClock;
use rapport_jobs::{Step, Worker, WorkerConfig};
use rapport_mail::transport::Relay;
use rapport_store::op;
use serde_json::{Value, json};

use crate::both_backends;
use crate::email::{ingest_all, mail, run_jobs_via, send};
use crate::harness::TestApp;
use crate::peers::{SinkOptions, SmtpSink};

/// Runs every job (and what the subscribers queue) with `settings`, sending to `sink`.
async fn run_with(app: &TestApp, sink: &SmtpSink, settings: rapport_mail::MailSettings) {
    let clock: Arc<dyn rapport_domain::Clock> = Arc::new(SystemClock);
    let settings = rapport_mail::MailSettings {
        relay: Some(Relay::plain("127.0.0.1", sink.port)),
        public_url: app.base.clone(),
        sealer: app.sealer.clone(),
        ..settings
    };
    let w = Worker::new(
        app.db.clone(),
        Arc::clone(&clock),
        rapport::registry(clock, settings),
        WorkerConfig {
            name: "trust".into(),
            lease_secs: 30,
            idle_wait: Duration::from_millis(10),
        },
    );
    let mut settled = false;
    loop {
        match w.step().await.unwrap() {
            Step::Done(_) => settled = false,
            Step::Idle if settled => return,
            Step::Idle => {
                crate::harness::settle(&app.db).await;
                settled = true;
            }
            Step::Failed(id) => panic!("job {id} failed"),
        }
    }
}

fn relay(sink: &SmtpSink) -> Option<Relay> {
    Some(Relay::plain("127.0.0.1", sink.port))
}

/// One header line of a raw message, byte for byte (without its name).
fn header(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw).to_string();
    let head = text.split("\r\n\r\n").next().unwrap().to_owned();
    head.split("\r\n")
        .find(|l| l.starts_with(&format!("{name}: ")))
        .map(|l| l[name.len() + 2..].to_owned())
}

/// The newest email ticket's id and number.
async fn newest(app: &TestApp) -> (i64, i64) {
    let (_, page) = app
        .get("/api/v1/tickets?channel=email&sort=created_at&limit=1")
        .await;
    let t = &page["items"][0];
    (t["id"].as_i64().unwrap(), t["number"].as_i64().unwrap())
}

async fn messages(app: &TestApp, id: i64) -> Vec<Value> {
    let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
    msgs.as_array().unwrap().clone()
}

async fn ticket_count(app: &TestApp) -> i64 {
    crate::harness::count(&app.db, "SELECT COUNT(*) FROM tickets").await
}

/// Files one email from `from` (running every job, automatic mail going to `sink`) and
/// returns the ticket it landed on, if any.
async fn file(app: &TestApp, sink: &SmtpSink, envelope_from: &str, raw: String) -> Option<i64> {
    let to = "help@shop.example";
    assert_eq!(
        send(app, json!([[envelope_from, [to], raw]])).await,
        vec!["ok"]
    );
    assert!(run_jobs_via(app, relay(sink)).await >= 1);
    app.db
        .read(op!(c => rapport_store::testing::one_in(c, "SELECT ticket_id FROM inbound_mail ORDER BY id DESC LIMIT 1", &[]).await?.opt_int(0)))
        .await
        .unwrap()
}

/// Files one email from `from` and returns the ticket it landed on.
async fn deliver(app: &TestApp, sink: &SmtpSink, envelope_from: &str, raw: String) -> i64 {
    file(app, sink, envelope_from, raw)
        .await
        .expect("filed on a ticket")
}

/// An agent's reply on ticket `id`, sent to `sink`; returns the Message-ID it went out with.
async fn reply_through(app: &TestApp, sink: &SmtpSink, id: i64, body: &str) -> String {
    let before = sink.messages().len();
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{id}/messages"),
            json!({"body": body}),
        )
        .await;
    assert_eq!(s, 201);
    run_jobs_via(app, relay(sink)).await;
    let kept = sink.messages();
    assert_eq!(kept.len(), before + 1);
    let sent = header(&kept.last().unwrap().0, "Message-ID").unwrap();
    sent.trim_matches(['<', '>']).to_owned()
}

async fn bouncing(app: &TestApp, id: i64) -> bool {
    let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
    let (_, cu) = app
        .get(&format!("/api/v1/customers/{}", t["customer"]["id"]))
        .await;
    cu["attributes"]["email_bouncing"] == true
}

both_backends! {
    async fn a_squatted_message_id_never_steals_the_customers_answer(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let t1 = deliver(&app, &sink, "dana@customer.example",
            mail("Dana <dana@customer.example>", "Refund", "d1@customer.example", "", "Where is my refund?")).await;
        // The attacker registers, before the agent answers, the Message-IDs the reply
        // would have had: the old predictable one, in several spellings.
        // Dana's message, then the attacker's four below: the reply is the sixth.
        let next: i64 = crate::harness::count(&app.db, "SELECT MAX(id) FROM messages").await + 5;
        let predicted = format!("rapport.{t1}.{next}@shop.example");
        let claim = mail("Eve <eve@attacker.example>", "Hello", &predicted, "", "Just saying hi.");
        let t2 = deliver(&app, &sink, "eve@attacker.example", claim).await;
        assert_ne!(t1, t2);
        for (i, spelling) in [predicted.to_uppercase(), "Rapport.x1@Shop.Example".to_owned(), "anything@shop.example".to_owned()].iter().enumerate() {
            let claim = mail("eve@attacker.example", &format!("Hi {i}"), spelling, "", "Again.");
            deliver(&app, &sink, "eve@attacker.example", claim).await;
        }
        let claimed = crate::harness::count(&app.db, "SELECT COUNT(*) FROM mail_threads WHERE lower(message_id) LIKE 'rapport.%' OR message_id LIKE '%shop.example'").await;
        assert_eq!(claimed, 0, "inbound mail never claims an ID in Rapport's namespace");

        let sent = reply_through(&app, &sink, t1, "The refund left today.").await;
        assert_ne!(sent, predicted, "the ID is not predictable");
        let random = sent.strip_prefix("rapport.").unwrap().split('@').next().unwrap();
        assert!(random.len() >= 32 && random.chars().all(|c| c.is_ascii_hexdigit()), "{sent}");
        // The customer answers the reply; the answer lands in her own ticket.
        let answer = mail("dana@customer.example", "Re: Refund", "d2@customer.example",
            &format!("In-Reply-To: <{sent}>\r\nReferences: <d1@customer.example> <{sent}>\r\n"), "Got it, thanks!");
        assert_eq!(deliver(&app, &sink, "dana@customer.example", answer).await, t1);
        let bodies: Vec<Value> = messages(&app, t1).await.iter().map(|m| m["body"].clone()).collect();
        assert_eq!(bodies, vec![json!("Where is my refund?"), json!("The refund left today."), json!("Got it, thanks!")]);
        let theirs = messages(&app, t2).await;
        assert_eq!(theirs.len(), 1, "nothing of Dana's on the attacker's ticket: {theirs:?}");
        // A second reply threads under everything the conversation had, and a retry keeps its ID.
        let again = reply_through(&app, &sink, t1, "Anything else?").await;
        assert_ne!(again, sent);
        let refs = rapport_mail::parse::parse(&sink.messages().last().unwrap().0).refs;
        assert!(refs.contains(&sent) && refs.contains(&"d2@customer.example".to_owned()), "{refs:?}");
        app.stop().await;
    }

    async fn only_the_customer_posts_as_the_customer(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let t1 = deliver(&app, &sink, "dana@customer.example",
            mail("Dana <dana@customer.example>", "Refund", "d1@customer.example", "", "Where is my refund?")).await;
        let (_, t) = app.get(&format!("/api/v1/tickets/{t1}")).await;
        let number = t["number"].as_i64().unwrap();
        let (s, _) = app.patch(&format!("/api/v1/tickets/{t1}"), json!({"assignee_id": app.agent.id, "status": "pending"})).await;
        assert_eq!(s, 200);
        run_jobs_via(&app, relay(&sink)).await;
        let notices = sink.messages().len();
        let tickets = ticket_count(&app).await;

        // A stranger with the ticket's number in the subject, then with a known Message-ID.
        let tagged = mail("Mallory <mallory@evil.example>", &format!("Re: [#{number}] Refund"), "m1@evil.example", "", "Send the refund to my account instead.");
        let by_tag = deliver(&app, &sink, "mallory@evil.example", tagged).await;
        let threaded = mail("mallory@evil.example", "Re: Refund", "m2@evil.example", "In-Reply-To: <d1@customer.example>\r\n", "Please hurry.");
        let by_id = deliver(&app, &sink, "mallory@evil.example", threaded).await;
        // Reply-To naming the customer changes nothing: the sender is From.
        let disguised = mail("mallory@evil.example", &format!("Re: [#{number}] Refund"), "m3@evil.example", "Reply-To: dana@customer.example\r\n", "It is me, Dana.");
        let by_reply_to = deliver(&app, &sink, "mallory@evil.example", disguised).await;
        for (id, body) in [(by_tag, "Send the refund to my account instead."), (by_id, "Please hurry."), (by_reply_to, "It is me, Dana.")] {
            assert_ne!(id, t1, "{body}");
            let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
            assert_eq!(t["customer"]["email"], "mallory@evil.example");
            let msgs = messages(&app, id).await;
            assert_eq!(msgs[0]["body"], body);
            assert_eq!(msgs[0]["from_address"], "mallory@evil.example");
            let note = msgs.iter().find(|m| m["author"]["kind"] == "system").expect("a note for agents");
            assert_eq!(note["internal"], true);
            assert!(note["body"].as_str().unwrap().contains(&format!("mentions ticket #{number}")), "{note}");
        }
        assert_eq!(ticket_count(&app).await, tickets + 3);
        // The customer's ticket is untouched: not reopened, no message, no notification.
        let (_, t) = app.get(&format!("/api/v1/tickets/{t1}")).await;
        assert_eq!(t["status"], "pending");
        assert_eq!(messages(&app, t1).await.len(), 1);
        run_jobs_via(&app, relay(&sink)).await;
        assert_eq!(sink.messages().len(), notices, "the assignee is not told the customer wrote");

        // The real customer still threads, by ID and by number, whatever the case of her address.
        let answer = mail("Dana <Dana@Customer.example>", "Re: Refund", "d2@customer.example", "In-Reply-To: <d1@customer.example>\r\n", "Any news?");
        assert_eq!(deliver(&app, &sink, "dana@customer.example", answer).await, t1);
        let tagged = mail("dana@customer.example", &format!("Re: [#{number}] Refund"), "d3@customer.example", "", "Hello?");
        assert_eq!(deliver(&app, &sink, "dana@customer.example", tagged).await, t1);
        let (_, t) = app.get(&format!("/api/v1/tickets/{t1}")).await;
        assert_eq!(t["status"], "open", "her answer reopens it");
        let msgs = messages(&app, t1).await;
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[1]["from_address"], "dana@customer.example");
        run_jobs_via(&app, relay(&sink)).await;
        assert_eq!(sink.messages().len(), notices + 2, "the assignee hears of her answers");

        // The workspace thread shows the address each message came from.
        crate::web::set_password(&app, "admin@example.com", "admin password 1").await;
        let http = crate::web::client();
        let (session, _) = crate::web::sign_in(&app, &http, "admin@example.com", "admin password 1").await;
        let page = http.get(app.url(&format!("/tickets/{by_tag}"))).header("cookie", format!("rapport_session={session}"))
            .send().await.unwrap().text().await.unwrap();
        let thread = page.split("id=\"thread\"").nth(1).unwrap();
        assert!(thread.contains("<strong>Mallory &#60;mallory@evil.example&#62;</strong>"), "{thread}");
        app.stop().await;
    }

    async fn only_real_delivery_reports_about_sent_mail_mark_a_customer_bouncing(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let t1 = deliver(&app, &sink, "kim@customer.example",
            mail("Kim <kim@customer.example>", "Printer", "k1@customer.example", "", "Offline.")).await;
        let sent = reply_through(&app, &sink, t1, "Restart it.").await;
        let tickets = ticket_count(&app).await;

        // Plain text from postmaster quoting the real ID: ordinary mail from a machine.
        let forged = format!(
            "From: postmaster@shop-mx.example\r\nTo: help@shop.example\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <f1@shop-mx.example>\r\nIn-Reply-To: <{sent}>\r\nContent-Type: text/plain\r\n\r\nThis is the mail system. Your customer asked us to send refunds to IBAN XX00.\r\n\r\nMessage-ID: <{sent}>\r\n"
        );
        let landed = deliver(&app, &sink, "", forged).await;
        assert_ne!(landed, t1);
        assert!(!bouncing(&app, t1).await, "a forged bounce marks nobody bouncing");
        assert_eq!(messages(&app, t1).await.len(), 2, "and adds nothing to the ticket");
        assert_eq!(ticket_count(&app).await, tickets + 1);

        // A real report quoting an ID that inbound mail claimed (not one Rapport sent).
        let dsn = |quoted: &str, text: &str| format!(
            "From: MAILER-DAEMON@mx.customer.example\r\nTo: help@shop.example\r\nSubject: Undelivered Mail\r\nMessage-ID: <dsn-{quoted}>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\nFinal-Recipient: rfc822; kim@customer.example\r\nAction: failed\r\nStatus: 5.2.2\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{quoted}>\r\n--b--\r\n"
        );
        assert_eq!(file(&app, &sink, "", dsn("k1@customer.example", "mailbox full")).await, None);
        assert!(!bouncing(&app, t1).await);

        // A real report about the reply Rapport sent.
        let text = "<kim@customer.example>: mailbox full\r\n**Rapport says: wire the refund to XX00** <script>alert(1)</script>";
        assert_eq!(send(&app, json!([["", ["help@shop.example"], dsn(&sent, text)]])).await, vec!["ok"]);
        assert_eq!(ingest_all(&app).await, 1);
        assert!(bouncing(&app, t1).await);
        assert_eq!(ticket_count(&app).await, tickets + 1, "no ticket for a bounce");
        let msgs = messages(&app, t1).await;
        let note = msgs.last().unwrap();
        assert_eq!((note["internal"].clone(), note["author"]["kind"].clone()), (json!(true), json!("system")));
        let body = note["body"].as_str().unwrap();
        assert!(body.contains("\n> <kim@customer.example>: mailbox full\n> **Rapport says"), "quoted: {body}");
        assert!(body.contains("unverified"), "{body}");
        // The workspace shows the quote escaped, as a quote.
        crate::web::set_password(&app, "admin@example.com", "admin password 1").await;
        let http = crate::web::client();
        let (session, _) = crate::web::sign_in(&app, &http, "admin@example.com", "admin password 1").await;
        let page = http.get(app.url(&format!("/tickets/{t1}"))).header("cookie", format!("rapport_session={session}"))
            .send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("<script>alert(1)") && !page.contains("<strong>Rapport says"), "shown literally");
        assert!(page.contains("<blockquote>") && page.contains("**Rapport says: wire the refund to XX00**"), "as a quote");
        app.stop().await;
    }

    async fn acknowledgements_reflect_nothing_and_are_capped(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help", "acknowledge": true})).await;
        let settings = || rapport_mail::MailSettings { auto_mail_per_hour: 3, ..Default::default() };
        // The spammer's text in the subject and the display name, the victim in Reply-To.
        let spam = mail("\"Win at http://evil.example/win\" <eve@attacker.example>", "Cheap pills at https://spam.example/buy",
            "s1@attacker.example", "Reply-To: Victim <victim@victim.example>\r\n", "Buy now at https://spam.example/buy");
        send(&app, json!([["eve@attacker.example", ["help@shop.example"], spam]])).await;
        run_with(&app, &sink, settings()).await;
        let kept = sink.messages();
        assert_eq!(kept.len(), 1);
        let (raw, env) = &kept[0];
        assert_eq!(env["rcpt_tos"], json!(["eve@attacker.example"]), "only From is acknowledged");
        let (id, number) = newest(&app).await;
        let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(t["customer"]["email"], "eve@attacker.example");
        let text = String::from_utf8_lossy(raw).to_lowercase();
        for planted in ["spam.example", "evil.example", "pills", "win at", "victim"] {
            assert!(!text.contains(planted), "{planted} reflected in {text}");
        }
        assert_eq!(header(raw, "Subject"), Some(format!("[#{number}] We received your request")));
        assert_eq!(header(raw, "To").as_deref(), Some("eve@attacker.example"));
        assert!(rapport_mail::parse::parse(raw).text.contains(&format!("#{number}")));

        // Over the hourly cap (3 here) new tickets are filed but not acknowledged.
        for i in 0..4 {
            let m = mail(&format!("c{i}@customer.example"), "Question", &format!("q{i}@customer.example"), "", "Hello");
            send(&app, json!([[format!("c{i}@customer.example"), ["help@shop.example"], m]])).await;
        }
        run_with(&app, &sink, settings()).await;
        let to: Vec<Value> = sink.messages().iter().map(|(_, e)| e["rcpt_tos"][0].clone()).collect();
        assert_eq!(to, vec![json!("eve@attacker.example"), json!("c0@customer.example"), json!("c1@customer.example")]);
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        assert_eq!(page["items"].as_array().unwrap().len(), 5, "every message is still filed");
        app.stop().await;
    }

    async fn display_names_are_encoded_and_replies_delivered(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help, Returns"})).await;
        let people = [
            ("\"Smith, John\"", "Smith, John", "john@customer.example"),
            ("\"Jane \\\"JJ\\\" Doe\"", "Jane \"JJ\" Doe", "jane@customer.example"),
            ("Zoë Ünal", "Zoë Ünal", "zoe@customer.example"),
            ("名前", "名前", "namae@customer.example"),
            // A sender that forgot to quote the comma.
            ("Doe, Jo", "Doe, Jo", "jo@customer.example"),
        ];
        for (i, (header_name, name, address)) in people.iter().enumerate() {
            let m = mail(&format!("{header_name} <{address}>"), "Question", &format!("n{i}@customer.example"), "", "Hello");
            let id = deliver(&app, &sink, address, m).await;
            let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
            assert_eq!(t["customer"]["name"], *name, "the name arrived whole");
            reply_through(&app, &sink, id, "Hello to you").await;
        }
        let kept = sink.messages();
        assert_eq!(kept.len(), people.len(), "every reply is delivered");
        // Byte for byte at the server…
        // (lettre quotes a plain name, and writes one with a comma or beyond ASCII as an
        // RFC 2047 encoded word: both are one phrase, never two addresses.)
        let to: Vec<String> = kept.iter().map(|(raw, _)| header(raw, "To").unwrap()).collect();
        assert_eq!(to, vec![
            "=?utf-8?b?U21pdGgsIEpvaG4=?= <john@customer.example>",
            "\"Jane \\\"JJ\\\" Doe\" <jane@customer.example>",
            "=?utf-8?b?Wm/DqyDDnG5hbA==?= <zoe@customer.example>",
            "=?utf-8?b?5ZCN5YmN?= <namae@customer.example>",
            "=?utf-8?b?RG9lLCBKbw==?= <jo@customer.example>",
        ]);
        assert_eq!(header(&kept[0].0, "From").as_deref(), Some("=?utf-8?b?U2hvcCBIZWxwLCBSZXR1cm5z?= <help@shop.example>"));
        // …and Python's email package, as the judge, reads back each name and address exactly.
        let judge = r#"
import email, email.header, email.policy, email.utils, json, sys
out = []
for path in json.loads(sys.stdin.read()):
    raw = open(path, "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    to = msg["To"].addresses
    frm = msg["From"].addresses
    legacy = email.message_from_bytes(raw)
    pairs = [[str(email.header.make_header(email.header.decode_header(n))), a] for n, a in email.utils.getaddresses([legacy["To"]])]
    out.append([len(to), to[0].display_name, to[0].addr_spec, frm[0].display_name, frm[0].addr_spec, pairs])
print(json.dumps(out))
"#;
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<String> = kept.iter().enumerate().map(|(i, (raw, _))| {
            let p = dir.path().join(format!("{i}.eml"));
            std::fs::write(&p, raw).unwrap();
            p.display().to_string()
        }).collect();
        let out = crate::harness::python(judge, &[], json!(paths).to_string().as_bytes()).await;
        let read: Vec<Value> = serde_json::from_slice(&out).unwrap();
        for ((_, name, address), got) in people.iter().zip(&read) {
            assert_eq!(got[0], 1, "one recipient: {got}");
            assert_eq!((got[1].as_str().unwrap(), got[2].as_str().unwrap()), (*name, *address), "{got}");
            assert_eq!((got[3].as_str().unwrap(), got[4].as_str().unwrap()), ("Shop Help, Returns", "help@shop.example"));
            assert_eq!(got[5], json!([[name, address]]), "getaddresses agrees");
        }
        for (_, env) in &kept {
            assert_eq!(env["rcpt_tos"].as_array().unwrap().len(), 1);
        }
        app.stop().await;
    }
}
