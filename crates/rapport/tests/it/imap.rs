//! IMAP fetching against a real IMAP server: Debian's dovecot, started by each test on
//! loopback with its own configuration, users and maildirs (scripts/test installs it),
//! and filled by a real client (Python's imaplib).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use rapport_domain::{Clock, SystemClock};
use rapport_mail::imap::{Fetched, ImapConfig};
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{Backend, Process, Scratch, TestApp, free_port};
use rapport_store::op;

/// A dovecot IMAP server of our own on a free loopback port.
pub struct Dovecot {
    dir: tempfile::TempDir,
    pub port: u16,
    /// The implicit-TLS port, when started with a certificate.
    pub tls_port: Option<u16>,
    child: Option<tokio::process::Child>,
}

const USER: &str = "support@example.com";
const PASSWORD: &str = "imap secret 42";

fn dovecot_bin() -> &'static str {
    if std::path::Path::new("/usr/sbin/dovecot").exists() {
        "/usr/sbin/dovecot"
    } else {
        "dovecot"
    }
}

impl Dovecot {
    pub async fn start() -> Dovecot {
        Self::start_with(None).await
    }

    /// With `tls` (certificate, key), IMAPS listens on `tls_port` too.
    pub async fn start_with(tls: Option<(&std::path::Path, &std::path::Path)>) -> Dovecot {
        let dir = tempfile::Builder::new()
            .prefix("rdv")
            .tempdir_in("/tmp")
            .unwrap();
        let d = dir.path().display().to_string();
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        std::fs::write(
            dir.path().join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}\n"),
        )
        .unwrap();
        let port = free_port();
        let tls_port = tls.map(|_| free_port());
        let ssl = match tls {
            Some((cert, key)) => format!(
                "ssl = yes\nssl_cert = <{}\nssl_key = <{}\n",
                cert.display(),
                key.display()
            ),
            None => "ssl = no\n".to_owned(),
        };
        let imaps = tls_port.unwrap_or(0);
        std::fs::write(
            dir.path().join("dovecot.conf"),
            format!(
                r"base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={d}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
  }}
}}
service anvil {{
  chroot =
}}
"
            ),
        )
        .unwrap();
        let mut dv = Dovecot {
            dir,
            port,
            tls_port,
            child: None,
        };
        dv.own_mail();
        dv.launch().await;
        dv
    }

    fn own_mail(&self) {
        let ok = std::process::Command::new("chown")
            .args(["-R", "mail:mail"])
            .arg(self.dir.path().join("mail"))
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown of the maildirs failed");
    }

    async fn launch(&mut self) {
        let child = tokio::process::Command::new(dovecot_bin())
            .arg("-F")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("dovecot runs (scripts/test installs dovecot-imapd)");
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let log = std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default();
        panic!("dovecot did not start: {log}");
    }

    /// Takes the server down (an outage).
    pub async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pid = c.id().unwrap();
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
            let _ = tokio::time::timeout(Duration::from_secs(10), c.wait()).await;
        }
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn restart(&mut self) {
        self.own_mail();
        self.launch().await;
    }

    /// Puts a message straight into the user's maildir, as the mail server's delivery
    /// would while IMAP is down.
    pub fn deliver_offline(&self, n: usize, raw: &str) {
        let root: PathBuf = self.dir.path().join("mail").join(USER);
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::write(
            root.join("new").join(format!("1700000000.offline{n}.host")),
            raw,
        )
        .unwrap();
        self.own_mail();
    }

    /// Runs Python's imaplib against the server: `script` sees `m` (logged in) and `data`.
    pub async fn client(&self, script: &str, data: Value) -> Value {
        let program = format!(
            "import imaplib, json, sys\nm = imaplib.IMAP4('127.0.0.1', {})\nm.login({USER:?}, {PASSWORD:?})\ndata = json.loads(sys.stdin.read())\nout = None\n{script}\nprint(json.dumps(out))\n",
            self.port
        );
        let out = crate::harness::python(&program, &[], data.to_string().as_bytes()).await;
        serde_json::from_slice(&out).unwrap()
    }

    /// Appends raw messages to a folder.
    pub async fn append(&self, folder: &str, raws: &[String]) {
        self.client(
            &format!(
                "for r in data:\n    typ, _ = m.append({folder:?}, None, None, r.encode())\n    assert typ == 'OK'\nout = len(data)"
            ),
            json!(raws),
        )
        .await;
    }

    /// `[uid, seen]` of every message in a folder.
    pub async fn flags(&self, folder: &str) -> Vec<(u64, bool)> {
        let v = self
            .client(
                &format!(
                    "m.select({folder:?})\ntyp, d = m.uid('FETCH', '1:*', '(FLAGS)')\nout = []\nfor line in d:\n    if not line: continue\n    s = line.decode()\n    uid = int(s.split('UID ')[1].split()[0].rstrip(')'))\n    out.append([uid, '\\\\Seen' in s])"
                ),
                json!(null),
            )
            .await;
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| (x[0].as_u64().unwrap(), x[1].as_bool().unwrap()))
            .collect()
    }
}

fn msg(i: usize, with_id: bool) -> String {
    let id = if with_id {
        format!("Message-ID: <imap-{i}@customer.example>\r\n")
    } else {
        String::new()
    };
    format!(
        "From: Customer {i} <c{i}@customer.example>\r\nTo: {USER}\r\nSubject: imap question {i}\r\n{id}Content-Type: text/plain; charset=utf-8\r\n\r\nQuestion number {i}.\r\n"
    )
}

async fn add_imap_mailbox(app: &TestApp, port: u16, extra: Value) -> Value {
    let mut imap = json!({"host": "127.0.0.1", "port": port, "tls": false, "user": USER, "password": PASSWORD});
    if let (Some(m), Some(e)) = (imap.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    let (s, b) = app
        .post(
            "/api/v1/mailboxes",
            json!({"address": USER, "name": "Support", "imap": imap}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b
}

fn fast() -> ImapConfig {
    ImapConfig {
        poll: Duration::from_millis(200),
        max_backoff: Duration::from_millis(800),
        max_bytes: 20_000,
        timeout: Duration::from_secs(10),
        ..Default::default()
    }
}

async fn fetch(app: &TestApp) -> Fetched {
    let mb = app
        .db
        .read(|c| Box::pin(rapport_store::imap::mailboxes(c)))
        .await
        .unwrap()
        .remove(0);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    rapport_mail::imap::fetch_once(&app.db, &clock, &app.sealer, &fast(), &mb)
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    crate::harness::count(&app.db, sql).await
}

async fn mailbox(app: &TestApp) -> Value {
    let (s, list) = app.get("/api/v1/mailboxes").await;
    assert_eq!(s, 200, "{list}");
    list[0].clone()
}

both_backends! {
    async fn imap_over_tls_checks_the_certificate(app) {
        let (_certs, ca, cert, key) = crate::peers::test_certificates();
        let dv = Dovecot::start_with(Some((&cert, &key))).await;
        let port = dv.tls_port.unwrap();
        add_imap_mailbox(&app, port, json!({"tls": true})).await;
        dv.append("INBOX", &[msg(1, true)]).await;
        let mb = app.db.read(|c| Box::pin(rapport_store::imap::mailboxes(c))).await.unwrap().remove(0);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        // A server whose certificate nobody vouches for is refused…
        let err = rapport_mail::imap::fetch_once(&app.db, &clock, &app.sealer, &fast(), &mb).await.unwrap_err();
        assert!(err.contains("TLS"), "{err}");
        // …and fetched from once its authority is trusted.
        let mut cfg = fast();
        cfg.trust_pem_file(&ca.display().to_string()).unwrap();
        let done = rapport_mail::imap::fetch_once(&app.db, &clock, &app.sealer, &cfg, &mb).await.unwrap();
        assert_eq!(done.stored, 1);
        app.stop().await;
    }

    async fn imap_fetches_each_message_once_and_flags_it_after_commit(app) {
        let dv = Dovecot::start().await;
        let created = add_imap_mailbox(&app, dv.port, json!({})).await;
        // The password is never shown, and is stored sealed.
        assert!(!created.to_string().contains(PASSWORD), "{created}");
        assert_eq!(created["imap"]["user"], USER);
        let stored: String = app.db.read(op!(c => {
            rapport_store::testing::one_in(c, "SELECT imap_password FROM mailboxes", &[]).await?.text(0)
        })).await.unwrap();
        assert!(!stored.contains(PASSWORD) && stored.starts_with("v1:"), "{stored}");

        let big = format!("{}{}\r\n", msg(3, true).trim_end(), "x".repeat(30_000));
        dv.append("INBOX", &[msg(1, true), msg(2, false), big, msg(4, true)]).await;
        let done = fetch(&app).await;
        assert_eq!(done, Fetched { stored: 3, set_aside: 1 });
        // Fetched messages are flagged seen; the one set aside is left alone.
        let flags = dv.flags("INBOX").await;
        assert_eq!(flags, vec![(1, true), (2, true), (3, false), (4, true)]);
        let m = mailbox(&app).await;
        assert_eq!(m["imap"]["set_aside"], 1);
        assert!(m["imap"]["set_aside_reason"].as_str().unwrap().contains("UID 3"), "{m}");

        // Nothing is taken twice, even a message without a Message-ID.
        assert_eq!(fetch(&app).await, Fetched::default());
        dv.append("INBOX", &[msg(5, false)]).await;
        assert_eq!(fetch(&app).await, Fetched { stored: 1, set_aside: 0 });
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound_mail").await, 4);

        // The ingest jobs turn them into tickets.
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let w = rapport_jobs::Worker::new(app.db.clone(), Arc::clone(&clock),
            rapport::registry(clock, rapport_mail::MailSettings::default()),
            rapport_jobs::WorkerConfig { name: "t".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        while let rapport_jobs::Step::Done(_) = w.step().await.unwrap() {}
        let (_, page) = app.get("/api/v1/tickets?channel=email").await;
        let mut subjects: Vec<String> = page["items"].as_array().unwrap().iter()
            .map(|t| t["subject"].as_str().unwrap().to_owned()).collect();
        subjects.sort();
        assert_eq!(subjects, vec!["imap question 1", "imap question 2", "imap question 4", "imap question 5"]);
        app.stop().await;
    }

    async fn imap_moves_fetched_mail_when_asked_and_survives_a_new_uidvalidity(app) {
        let dv = Dovecot::start().await;
        dv.client("m.create('Processed')\nout = 1", json!(null)).await;
        add_imap_mailbox(&app, dv.port, json!({"move_to": "Processed"})).await;
        dv.append("INBOX", &[msg(1, true), msg(2, true)]).await;
        assert_eq!(fetch(&app).await.stored, 2);
        assert!(dv.flags("INBOX").await.is_empty(), "moved out of the inbox");
        assert_eq!(dv.flags("Processed").await.len(), 2);
        // The folder is rebuilt (new UIDVALIDITY) with an old and a new message: the
        // old one is recognised by its Message-ID, the new one taken.
        app.db.write(op!(c => {
            rapport_store::testing::execute_in(c, "UPDATE mailboxes SET imap_uidvalidity = 1", &[]).await
        })).await.unwrap();
        dv.append("INBOX", &[msg(1, true), msg(3, true)]).await;
        assert_eq!(fetch(&app).await.stored, 2);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound_mail").await, 3, "the old one was kept once");
        app.stop().await;
    }

    async fn imap_fetching_is_supervised_through_outages(app) {
        let mut dv = Dovecot::start().await;
        add_imap_mailbox(&app, dv.port, json!({"stall_after_secs": 60})).await;
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let supervisor = tokio::spawn(rapport_mail::imap::supervise(
            app.db.clone(), clock, app.sealer.clone(), fast(), stop_rx));
        dv.append("INBOX", &[msg(1, true)]).await;
        wait_until(&app, 1).await;
        let m = mailbox(&app).await;
        assert!(m["imap"]["last_fetch_at"].is_i64(), "{m}");
        assert_eq!(m["imap"]["stalled"], false);

        // Outage: the server goes away; the error shows, fetching keeps retrying.
        dv.stop().await;
        let mut error = Value::Null;
        for _ in 0..100 {
            error = mailbox(&app).await["imap"]["last_error"].clone();
            if error.is_string() { break; }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(error.as_str().is_some_and(|e| !e.is_empty()), "the outage shows: {error}");
        // Silent for longer than allowed: an alert in the API, the metrics and the inbox.
        let old = SystemClock.now().plus_secs(-3_600);
        app.db.write(op!(c => {
            rapport_store::testing::execute_in(c, "UPDATE mailboxes SET imap_last_fetch_at = $1", &[old.into()]).await
        })).await.unwrap();
        let m = mailbox(&app).await;
        assert_eq!(m["imap"]["stalled"], true, "{m}");
        let metrics = app.http.get(app.url("/metrics")).bearer_auth(&app.admin.token).send().await.unwrap();
        assert_eq!(metrics.status(), 200);
        let text = metrics.text().await.unwrap();
        assert!(text.contains(&format!("rapport_mailbox_stalled{{mailbox=\"{USER}\"}} 1")), "{text}");
        let anon = app.http.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(anon.status(), 401);
        crate::web::set_password(&app, "agent.a@example.com", "a fine password").await;
        let http = crate::web::client();
        let (session, _) = crate::web::sign_in(&app, &http, "agent.a@example.com", "a fine password").await;
        let inbox = http.get(app.url("/inbox")).header("cookie", format!("rapport_session={session}"))
            .send().await.unwrap().text().await.unwrap();
        assert!(inbox.contains(&format!("role=\"alert\" class=\"alert\">Mailbox {USER} has not fetched mail for 60 minutes")), "{inbox}");

        // Mail that arrived during the outage is backfilled once the server is back.
        for i in 2..=4 {
            dv.deliver_offline(i, &msg(i, false));
        }
        dv.restart().await;
        wait_until(&app, 4).await;
        // The round records its success after the messages it stored: wait for it.
        let mut m = mailbox(&app).await;
        for _ in 0..100 {
            if m["imap"]["stalled"] == false { break; }
            tokio::time::sleep(Duration::from_millis(50)).await;
            m = mailbox(&app).await;
        }
        assert_eq!(m["imap"]["stalled"], false, "{m}");
        assert!(m["imap"]["last_error"].is_null(), "{m}");
        let inbox = http.get(app.url("/inbox")).header("cookie", format!("rapport_session={session}"))
            .send().await.unwrap().text().await.unwrap();
        assert!(!inbox.contains("has not fetched mail"), "the alert clears");
        let _ = stop.send(true);
        supervisor.await.unwrap();
        app.stop().await;
    }

    async fn a_wrong_imap_password_is_a_visible_error(app) {
        let dv = Dovecot::start().await;
        let (s, e) = app.post("/api/v1/mailboxes", json!({"address": "x@example.com", "name": "X",
            "imap": {"host": "127.0.0.1", "user": USER, "password": ""}})).await;
        crate::harness::assert_error(s, &e, 422, Some("imap.password"));
        let (s, e) = app.post("/api/v1/mailboxes", json!({"address": "x@example.com", "name": "X",
            "imap": {"host": "bad host", "user": USER, "password": "p"}})).await;
        crate::harness::assert_error(s, &e, 422, Some("imap.host"));
        assert_eq!(count(&app, "SELECT COUNT(*) FROM mailboxes").await, 0, "nothing half-written");
        add_imap_mailbox(&app, dv.port, json!({"password": "wrong"})).await;
        let mb = app.db.read(|c| Box::pin(rapport_store::imap::mailboxes(c))).await.unwrap().remove(0);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let err = rapport_mail::imap::fetch_once(&app.db, &clock, &app.sealer, &fast(), &mb).await.unwrap_err();
        assert!(err.contains("login refused"), "{err}");
        app.stop().await;
    }
}

async fn wait_until(app: &TestApp, n: i64) {
    for _ in 0..200 {
        if count(app, "SELECT COUNT(*) FROM inbound_mail").await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} messages were fetched");
}

/// The real binary fetches 300 messages without Message-IDs (so only the position can
/// keep them from doubling) and is killed with `-9` midway; after a restart every
/// message is there exactly once.
async fn imap_kill_9(backend: Backend) {
    let dv = Dovecot::start().await;
    let raws: Vec<String> = (1..=300).map(|i| msg(i, false)).collect();
    dv.append("INBOX", &raws).await;
    let scratch = Scratch::new(backend).await;
    let env = [("RAPPORT_IMAP_POLL_SECS", "1".to_owned())];
    let proc = Process::start_with(&scratch, &env).await;
    let token = crate::durability::setup_with_cli(&scratch).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/mailboxes", proc.base))
        .bearer_auth(&token)
        .json(&json!({"address": USER, "name": "Support",
            "imap": {"host": "127.0.0.1", "port": dv.port, "tls": false, "user": USER, "password": PASSWORD}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let db = crate::durability::reopen(&scratch).await;
    for _ in 0..400 {
        if crate::harness::count(&db, "SELECT COUNT(*) FROM inbound_mail").await >= 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    proc.signal("KILL");
    drop(proc);
    let at_kill = crate::harness::count(&db, "SELECT COUNT(*) FROM inbound_mail").await;
    assert!(at_kill < 300, "the kill came after the fetch ended");
    let _proc = Process::start_with(&scratch, &env).await;
    for _ in 0..600 {
        if crate::harness::count(&db, "SELECT COUNT(*) FROM inbound_mail").await >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let subjects: Vec<String> = db
        .read(op!(c => {
            rapport_store::testing::query_in(c, "SELECT raw FROM inbound_mail", &[])
                .await?
                .iter()
                .map(|r| {
                    let raw = r.blob(0)?;
                    Ok(rapport_mail::parse::parse(&raw).subject)
                })
                .collect()
        }))
        .await
        .unwrap();
    let mut seen = std::collections::HashMap::new();
    for s in &subjects {
        *seen.entry(s.clone()).or_insert(0) += 1;
    }
    let doubled: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "taken twice: {doubled:?}");
    assert_eq!(
        seen.len(),
        300,
        "lost: {} of 300 (killed at {at_kill})",
        300 - seen.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_kill_9_neither_loses_nor_doubles_sqlite() {
    imap_kill_9(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_kill_9_neither_loses_nor_doubles_postgres() {
    imap_kill_9(Backend::Postgres).await;
}

both_backends! {
    async fn admins_set_up_imap_and_acknowledgements_on_the_admin_page(app) {
        crate::web::set_password(&app, "admin@example.com", "admin password 1").await;
        let http = crate::web::client();
        let (session, csrf) = crate::web::sign_in(&app, &http, "admin@example.com", "admin password 1").await;
        let cookie = format!("rapport_session={session}");
        let r = http.post(app.url("/admin/mailboxes")).header("cookie", cookie.clone())
            .form(&[("csrf", csrf.as_str()), ("address", "help@shop.example"), ("name", "Shop Help"),
                ("acknowledge", "on"), ("imap_host", "imap.shop.example"), ("imap_port", ""),
                ("imap_tls", "on"), ("imap_user", "help"), ("imap_password", "s3cret imap"),
                ("imap_folder", ""), ("imap_move_to", "Done")])
            .send().await.unwrap();
        assert_eq!(r.status(), 303);
        let m = mailbox(&app).await;
        assert_eq!(m["acknowledge"], true);
        assert_eq!(m["imap"]["host"], "imap.shop.example");
        assert_eq!(m["imap"]["port"], 993, "the TLS port by default");
        assert_eq!(m["imap"]["folder"], "INBOX");
        assert_eq!(m["imap"]["move_to"], "Done");
        let page = http.get(app.url("/admin")).header("cookie", cookie.clone()).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("IMAP help@imap.shop.example:993/INBOX (TLS)") && page.contains("not fetched yet"), "{page}");
        assert!(!page.contains("s3cret imap"));
        // A bad port is refused, naming the field, and nothing is added.
        let r = http.post(app.url("/admin/mailboxes")).header("cookie", cookie.clone())
            .form(&[("csrf", csrf.as_str()), ("address", "other@shop.example"), ("name", "Other"),
                ("imap_host", "imap.shop.example"), ("imap_port", "99999"), ("imap_user", "u"), ("imap_password", "p")])
            .send().await.unwrap();
        assert_eq!(r.status(), 422);
        let (_, list) = app.get("/api/v1/mailboxes").await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        // Editing: a new password alone rotates it and keeps the rest.
        let id = list[0]["id"].as_i64().unwrap();
        let before: String = app.db.read(op!(c => rapport_store::testing::one_in(c, "SELECT imap_password FROM mailboxes", &[]).await?.text(0))).await.unwrap();
        let r = http.post(app.url(&format!("/admin/mailboxes/{id}"))).header("cookie", format!("rapport_session={session}"))
            .form(&[("csrf", csrf.as_str()), ("name", "Shop Help Desk"), ("imap_tls", "on"), ("imap_password", "rotated pw")])
            .send().await.unwrap();
        assert_eq!(r.status(), 303);
        let m = mailbox(&app).await;
        assert_eq!(m["name"], "Shop Help Desk");
        assert_eq!(m["acknowledge"], false, "unticked");
        assert_eq!(m["imap"]["host"], "imap.shop.example");
        assert_eq!(m["imap"]["move_to"], "Done");
        let after: String = app.db.read(op!(c => rapport_store::testing::one_in(c, "SELECT imap_password FROM mailboxes", &[]).await?.text(0))).await.unwrap();
        assert_ne!(before, after);
        assert_eq!(app.sealer.open(&after).unwrap(), "rotated pw");
        // And fetching can be stopped.
        let r = http.post(app.url(&format!("/admin/mailboxes/{id}"))).header("cookie", format!("rapport_session={session}"))
            .form(&[("csrf", csrf.as_str()), ("name", "Shop Help Desk"), ("imap_off", "on")])
            .send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(mailbox(&app).await["imap"].is_null());
        app.stop().await;
    }
}

both_backends! {
    async fn mailboxes_are_changed_through_the_api(app) {
        let dv = Dovecot::start().await;
        let (_, m) = app.post("/api/v1/mailboxes", json!({"address": USER, "name": "Support"})).await;
        let id = m["id"].as_i64().unwrap();
        assert!(m["imap"].is_null() && m["acknowledge"] == false);
        // Turn IMAP on later: fetching starts, and the name and acknowledgements change.
        let (s, m) = app.patch(&format!("/api/v1/mailboxes/{id}"), json!({"name": "Support team", "acknowledge": true,
            "imap": {"host": "127.0.0.1", "port": dv.port, "tls": false, "user": USER, "password": PASSWORD}})).await;
        assert_eq!(s, 200, "{m}");
        assert_eq!(m["name"], "Support team");
        assert_eq!(m["acknowledge"], true);
        assert_eq!(m["imap"]["port"], dv.port);
        dv.append("INBOX", &[msg(1, true)]).await;
        assert_eq!(fetch(&app).await.stored, 1);
        // A new password for the same account keeps the position: nothing is fetched again
        // (even a message without a Message-ID, which dedupe could not catch).
        dv.append("INBOX", &[msg(2, false)]).await;
        assert_eq!(fetch(&app).await.stored, 1);
        let (s, _) = app.patch(&format!("/api/v1/mailboxes/{id}"), json!({
            "imap": {"host": "127.0.0.1", "port": dv.port, "tls": false, "user": USER, "password": PASSWORD, "stall_after_secs": 600}})).await;
        assert_eq!(s, 200);
        assert_eq!(fetch(&app).await.stored, 0);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound_mail").await, 2);
        // Bad changes name their field and change nothing.
        let (s, e) = app.patch(&format!("/api/v1/mailboxes/{id}"), json!({"name": " "})).await;
        crate::harness::assert_error(s, &e, 422, Some("name"));
        let (s, e) = app.patch(&format!("/api/v1/mailboxes/{id}"), json!({"imap": {"host": "x", "user": "u", "password": "p", "stall_after_secs": 5}})).await;
        crate::harness::assert_error(s, &e, 422, Some("imap.stall_after_secs"));
        assert_eq!(mailbox(&app).await["imap"]["host"], "127.0.0.1");
        let (s, e) = app.patch("/api/v1/mailboxes/999999", json!({"acknowledge": false})).await;
        crate::harness::assert_error(s, &e, 404, None);
        // `null` stops fetching.
        let (s, m) = app.patch(&format!("/api/v1/mailboxes/{id}"), json!({"imap": null})).await;
        assert_eq!(s, 200);
        assert!(m["imap"].is_null(), "{m}");
        app.stop().await;
    }
}

both_backends! {
    async fn two_nodes_fetching_one_mailbox_never_take_a_message_twice(app) {
        let dv = Dovecot::start().await;
        add_imap_mailbox(&app, dv.port, json!({})).await;
        let raws: Vec<String> = (1..=60).map(|i| msg(i, false)).collect();
        dv.append("INBOX", &raws).await;
        let mb = app.db.read(|c| Box::pin(rapport_store::imap::mailboxes(c))).await.unwrap().remove(0);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        // Both "nodes" start from the same position and race through the same messages.
        let cfg = fast();
        let (a, b) = tokio::join!(
            rapport_mail::imap::fetch_once(&app.db, &clock, &app.sealer, &cfg, &mb),
            rapport_mail::imap::fetch_once(&app.db, &clock, &app.sealer, &cfg, &mb),
        );
        let taken = a.unwrap().stored + b.unwrap().stored;
        // Whatever one node lost in the race, the next round picks up.
        let mb = app.db.read(|c| Box::pin(rapport_store::imap::mailboxes(c))).await.unwrap().remove(0);
        let rest = rapport_mail::imap::fetch_once(&app.db, &clock, &app.sealer, &cfg, &mb).await.unwrap().stored;
        assert_eq!(taken + rest, 60);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM inbound_mail").await, 60);
        assert_eq!(count(&app, "SELECT COUNT(DISTINCT raw) FROM inbound_mail").await, 60, "none twice");
        app.stop().await;
    }
}
