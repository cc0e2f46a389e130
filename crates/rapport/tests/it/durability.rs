//! What a real process promises: the CLI sets it up, a 201 survives `kill -9`, and
//! SIGTERM finishes in-flight requests before exiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rapport_domain::{Role, Viewer};
use rapport_store::op;
use rapport_store::{Db, DbConfig, search, tickets};
use serde_json::json;
use tokio::sync::Mutex;

use crate::harness::{Backend, Process, Scratch, run_cli};

/// Sets up a database with the CLI only, as an operator would, and returns a token.
pub async fn setup_with_cli(scratch: &Scratch) -> String {
    let out = run_cli(scratch, &["migrate"], None).await;
    assert!(out.contains("up to date"), "{out}");
    let out = run_cli(
        scratch,
        &[
            "user",
            "add",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    )
    .await;
    assert!(out.contains("ops@example.com"), "{out}");
    let out = run_cli(
        scratch,
        &["token", "create", "--email", "ops@example.com"],
        None,
    )
    .await;
    let token = out.lines().last().unwrap().trim().to_owned();
    assert!(token.starts_with("rpt_"), "{out}");
    token
}

pub async fn reopen(scratch: &Scratch) -> Db {
    let cfg = match &scratch.database_url {
        Some(url) => DbConfig::Postgres(url.clone()),
        None => DbConfig::Sqlite(scratch.sqlite_path()),
    };
    Db::open(&cfg).await.unwrap()
}

/// Fires creates from `clients` tasks until told to stop or the server goes away, and
/// returns the ids of every ticket answered with 201.
fn load(
    base: &str,
    token: &str,
    clients: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<i64>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..clients)
        .map(|c| {
            let http = reqwest::Client::new();
            let url = format!("{base}/api/v1/tickets");
            let token = token.to_owned();
            let stop = Arc::clone(&stop);
            let acked = Arc::clone(&acked);
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let r = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"subject": format!("durable {c}-{i}"), "body": format!("wombat {c} {i}"), "customer": {"email": format!("d{c}@example.com")}}))
                        .send()
                        .await;
                    let Ok(r) = r else { break };
                    if r.status() != 201 {
                        break;
                    }
                    let Ok(body) = r.json::<serde_json::Value>().await else { break };
                    acked.lock().await.push(body["id"].as_i64().unwrap());
                }
            })
        })
        .collect()
}

async fn wait_for(acked: &Arc<Mutex<Vec<i64>>>, n: usize) {
    for _ in 0..400 {
        if acked.lock().await.len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server acknowledged fewer than {n} tickets");
}

async fn assert_all_present(db: &Db, ids: Vec<i64>) {
    let n = ids.len();
    let missing = db
        .read(op!(c => {
            let viewer = Viewer {
                user_id: 1,
                role: Role::Admin,
                team_ids: vec![],
            };
            let who = rapport_domain::Principal::Agent(viewer);
            let mut missing = Vec::new();
            for id in ids {
                match tickets::get(c, &who, id).await {
                    Ok(t) if t.message_count == 1 => {}
                    _ => missing.push(id),
                }
            }
            Ok(missing)
        }))
        .await
        .unwrap();
    assert!(
        missing.is_empty(),
        "{} of {n} acknowledged tickets lost: {missing:?}",
        missing.len()
    );
}

async fn survives_kill_9(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    let token = setup_with_cli(&scratch).await;
    let mut proc = Process::start(&scratch).await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let tasks = load(
        &proc.base,
        &token,
        16,
        Arc::clone(&stop),
        Arc::clone(&acked),
    );
    wait_for(&acked, 300).await;
    proc.signal("KILL");
    let status = proc.child.wait().await.unwrap();
    assert!(!status.success(), "killed, not exited");
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        let _ = t.await;
    }
    let ids = acked.lock().await.clone();
    assert!(ids.len() >= 300);
    let db = reopen(&scratch).await;
    assert_all_present(&db, ids.clone()).await;
    // The search index was committed with the data.
    let last = *ids.last().unwrap();
    let found = db
        .read(op!(c => {
            let viewer = Viewer {
                user_id: 1,
                role: Role::Admin,
                team_ids: vec![],
            };
            search::search(c, &viewer, "wombat", 100).await
        }))
        .await
        .unwrap();
    assert!(!found.is_empty());
    let _ = last;
    // And the server starts again on the recovered database.
    let again = Process::start(&scratch).await;
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/tickets/{}", again.base, ids[0]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Signs in through the login form and opens `/live`; the task reads it until it ends.
async fn open_live(base: &str, email: &str, password: &str) -> tokio::task::JoinHandle<()> {
    use futures::StreamExt;
    let http = crate::web::client();
    let cookie = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.strip_prefix(&format!("{name}="))
                    .map(|v| v.split(';').next().unwrap().to_owned())
            })
            .unwrap()
    };
    let form = http.get(format!("{base}/login")).send().await.unwrap();
    let csrf = cookie(&form, "rapport_login_csrf");
    let signed_in = http
        .post(format!("{base}/login"))
        .header(
            reqwest::header::COOKIE,
            format!("rapport_login_csrf={csrf}"),
        )
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/inbox"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let session = cookie(&signed_in, "rapport_session");
    let live = http
        .get(format!("{base}/live"))
        .header(
            reqwest::header::COOKIE,
            format!("rapport_session={session}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    tokio::spawn(async move {
        let mut body = live.bytes_stream();
        while let Some(Ok(_)) = body.next().await {}
    })
}

async fn sigterm_finishes_in_flight_work(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    let token = setup_with_cli(&scratch).await;
    let mut proc = Process::start(&scratch).await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let tasks = load(&proc.base, &token, 8, Arc::clone(&stop), Arc::clone(&acked));
    wait_for(&acked, 100).await;
    // A browser tab with the live feed open must not hold the shutdown up.
    let live = open_live(&proc.base, "ops@example.com", "a long enough password").await;
    proc.signal("TERM");
    let status = tokio::time::timeout(Duration::from_secs(20), proc.child.wait())
        .await
        .expect("exits promptly after SIGTERM, even with /live open")
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), live).await;
    assert!(status.success(), "graceful exit, got {status:?}");
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        let _ = t.await;
    }
    let ids = acked.lock().await.clone();
    let db = reopen(&scratch).await;
    assert_all_present(&db, ids).await;
    let refused = reqwest::Client::new()
        .get(format!("{}/healthz", proc.base))
        .send()
        .await;
    assert!(refused.is_err(), "no longer accepting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_acknowledged_sqlite() {
    survives_kill_9(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_acknowledged_postgres() {
    survives_kill_9(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_is_graceful_sqlite() {
    sigterm_finishes_in_flight_work(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_is_graceful_postgres() {
    sigterm_finishes_in_flight_work(Backend::Postgres).await;
}

/// Messages each SMTP client streams in the crash test (4 clients: 1,000 in all).
const PER_CLIENT: usize = 250;

/// Four SMTP clients stream 1,000 messages; the server is killed with `-9` midway and
/// started again on the same address. Each client prints every message answered 250
/// and, after a broken connection, sends the unacknowledged one again (as real MTAs do).
/// Afterwards every message is exactly one ticket: nothing acknowledged was lost, and the
/// re-sent ones (some committed but never acknowledged) were not doubled.
async fn smtp_kill_9(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    let token = setup_with_cli(&scratch).await;
    let port = crate::harness::free_port();
    // The four clients stand for a relay that delivers everything from one address, so
    // the per-client hourly allowance is raised as an operator behind a relay would.
    let smtp = [
        ("RAPPORT_SMTP_ADDR", format!("127.0.0.1:{port}")),
        (
            "RAPPORT_SMTP_MAX_MESSAGES_PER_CLIENT_HOUR",
            "100000".to_owned(),
        ),
    ];
    let mut proc = Process::start_with(&scratch, &smtp).await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/mailboxes", proc.base))
        .bearer_auth(&token)
        .json(&json!({"address": "support@example.com", "name": "Support"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let script = r#"
import smtplib, sys, time
port, tag, total = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
i = 1
deadline = time.time() + 120
while i <= total and time.time() < deadline:
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=10)
        while i <= total:
            msg = f"From: c{tag}@example.org\r\nSubject: durable {tag}-{i}\r\nMessage-ID: <d{tag}-{i}@example.org>\r\n\r\nbody {i}\r\n"
            s.sendmail(f"c{tag}@example.org", ["support@example.com"], msg)
            print(f"{tag}-{i}", flush=True)
            i += 1
        s.quit()
    except Exception:
        time.sleep(0.2)
"#;
    let mut clients = Vec::new();
    for tag in 0..4 {
        clients.push(
            tokio::process::Command::new("python3")
                .args([
                    "-c",
                    script,
                    &port.to_string(),
                    &tag.to_string(),
                    &PER_CLIENT.to_string(),
                ])
                .stdout(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .unwrap(),
        );
    }
    // Kill once a good part has been acknowledged, while the rest streams in.
    let db = reopen(&scratch).await;
    for _ in 0..600 {
        if inbound_total(&db).await >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before_kill = inbound_total(&db).await;
    proc.signal("KILL");
    let _ = proc.child.wait().await;
    assert!(
        before_kill < 4 * PER_CLIENT as i64,
        "the kill came after the stream ended ({before_kill} stored)"
    );
    let proc = Process::start_with(&scratch, &smtp).await;
    let mut acked: Vec<String> = Vec::new();
    for c in clients {
        let out = tokio::time::timeout(Duration::from_secs(150), c.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        acked.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned),
        );
    }
    assert_eq!(
        acked.len(),
        4 * PER_CLIENT,
        "every message got its 250 in the end"
    );
    // The restarted server's workers turn every stored message into a ticket.
    for _ in 0..600 {
        let pending = db
            .read(op!(c => {
                rapport_store::testing::one_in(
                    c,
                    "SELECT COUNT(*) FROM inbound_mail WHERE processed_at IS NULL",
                    &[],
                )
                .await?
                .int(0)
            }))
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(proc);
    let n = acked.len();
    let wrong = db
        .read(op!(c => {
            let mut wrong = Vec::new();
            for key in acked {
                let tickets = rapport_store::testing::one_in(
                    c,
                    "SELECT COUNT(*) FROM tickets WHERE subject = $1",
                    &[format!("durable {key}").into()],
                )
                .await?
                .int(0)?;
                if tickets != 1 {
                    wrong.push(format!("{key}: {tickets} tickets"));
                }
            }
            Ok(wrong)
        }))
        .await
        .unwrap();
    assert!(
        wrong.is_empty(),
        "{} of {n} messages answered 250 are not exactly one ticket: {wrong:?}",
        wrong.len()
    );
}

async fn inbound_total(db: &Db) -> i64 {
    crate::harness::count(db, "SELECT COUNT(*) FROM inbound_mail").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_250_survives_kill_9_sqlite() {
    smtp_kill_9(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_250_survives_kill_9_postgres() {
    smtp_kill_9(Backend::Postgres).await;
}

/// The listener offers STARTTLS when given a certificate; a real client (smtplib)
/// upgrades, and the message is kept. Without TLS the same server still takes mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_listener_offers_starttls() {
    let (_certs, ca, cert, key) = crate::peers::test_certificates();
    let scratch = Scratch::new(Backend::Sqlite).await;
    let token = setup_with_cli(&scratch).await;
    let port = crate::harness::free_port();
    let proc = Process::start_with(
        &scratch,
        &[
            ("RAPPORT_SMTP_ADDR", format!("127.0.0.1:{port}")),
            ("RAPPORT_SMTP_TLS_CERT", cert.display().to_string()),
            ("RAPPORT_SMTP_TLS_KEY", key.display().to_string()),
        ],
    )
    .await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/mailboxes", proc.base))
        .bearer_auth(&token)
        .json(&json!({"address": "support@example.com", "name": "Support"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let script = r#"
import smtplib, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP("127.0.0.1", port, timeout=10)
s.ehlo("client.example")
assert s.has_extn("starttls"), s.esmtp_features
s.starttls(context=ssl.create_default_context(cafile=ca))
s.ehlo("client.example")
assert not s.has_extn("starttls")
s.sendmail("tls@example.org", ["support@example.com"], "From: tls@example.org\r\nSubject: over TLS\r\nMessage-ID: <tls-1@example.org>\r\n\r\nsecret stuff\r\n")
s.quit()
p = smtplib.SMTP("127.0.0.1", port, timeout=10)
p.sendmail("plain@example.org", ["support@example.com"], "From: plain@example.org\r\nSubject: plain\r\n\r\nhello\r\n")
p.quit()
print("ok")
"#;
    let args = [port.to_string(), ca.display().to_string()];
    let out = crate::harness::python(script, &args, b"").await;
    assert_eq!(String::from_utf8_lossy(&out).trim(), "ok");
    let db = reopen(&scratch).await;
    assert_eq!(
        crate::harness::count(&db, "SELECT COUNT(*) FROM inbound_mail").await,
        2
    );
    drop(proc);
}
