//! The shared test harness: a real Rapport server on a random port over a fresh
//! database — an SQLite file in a temporary directory, or a new PostgreSQL database on
//! the server at `RAPPORT_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! — with an admin, a supervisor and two agents in two teams, each with a token.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rapport::Config;
use rapport_domain::{Clock, EmailAddress, Role, SystemClock};
use rapport_store::Db;
use rapport_store::op;
use rapport_store::people::{self, NewUser};
use rapport_store::secrets;
use rapport_store::tokens;
use serde_json::{Value, json};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn pg_admin_url() -> String {
    std::env::var("RAPPORT_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A scratch database that removes itself.
pub struct Scratch {
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    pg_name: Option<String>,
}

impl Scratch {
    pub async fn new(backend: Backend) -> Scratch {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Scratch {
                dir,
                database_url: None,
                pg_name: None,
            },
            Backend::Postgres => {
                let name = format!(
                    "rapport_t_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    rand::random::<u32>()
                );
                let admin = pg_admin_url();
                let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                    .await
                    .expect("PostgreSQL must be running for the PostgreSQL tests (scripts/test starts it)");
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Scratch {
                    dir,
                    database_url: Some(format!("{base}/{name}")),
                    pg_name: Some(name),
                }
            }
        }
    }

    pub fn config(&self) -> Config {
        Config::for_dir(self.dir.path().to_path_buf(), self.database_url.clone())
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("rapport.db")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let admin = pg_admin_url();
        // Drop runs inside the test's runtime; use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A signed-in agent as the tests use one.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: i64,
    pub token: String,
}

/// A running server with its people.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub db: Db,
    pub admin: Agent,
    pub supervisor: Agent,
    /// In team A.
    pub agent: Agent,
    /// In team B.
    pub agent_b: Agent,
    pub team_a: i64,
    pub team_b: i64,
    pub smtp: std::net::SocketAddr,
    /// The sealer the server uses for secrets at rest.
    pub sealer: rapport_store::secrets::Sealer,
    server: Option<rapport::Server>,
    _scratch: Scratch,
}

pub async fn add_agent(db: &Db, email: &str, role: Role) -> Agent {
    let email = EmailAddress::parse(email).unwrap();
    let token = secrets::new_token();
    let secret = token.clone();
    let now = SystemClock.now();
    let id = db
        .write(op!(c => {
            let u = people::create_user(
                c,
                NewUser {
                    email,
                    name: "Test Person".into(),
                    role,
                    password_hash: None,
                },
                now,
            )
            .await?;
            let new = tokens::NewToken {
                user_id: u.id,
                token: secret,
                name: "test".into(),
                expires_at: None,
            };
            tokens::create(c, new, now).await?;
            Ok(u.id)
        }))
        .await
        .unwrap();
    Agent { id, token }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, Arc::new(SystemClock), |_| {}).await
    }

    /// A server on `clock` (a `ManualClock` to move time), with `configure` applied to
    /// its configuration.
    pub async fn spawn_with(
        backend: Backend,
        clock: Arc<dyn Clock>,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        let scratch = Scratch::new(backend).await;
        let mut config = scratch.config();
        config.workers = 0;
        config.smtp_addr = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        configure(&mut config);
        let db = rapport::open_db(&config, clock.as_ref()).await.unwrap();
        let admin = add_agent(&db, "admin@example.com", Role::Admin).await;
        let supervisor = add_agent(&db, "sup@example.com", Role::Supervisor).await;
        let agent = add_agent(&db, "agent.a@example.com", Role::Agent).await;
        let agent_b = add_agent(&db, "agent.b@example.com", Role::Agent).await;
        let now = clock.now();
        let (a_id, b_id) = (agent.id, agent_b.id);
        let (team_a, team_b) = db
            .write(op!(c => {
                let a = people::create_team(c, "Team A", now).await?.id;
                let b = people::create_team(c, "Team B", now).await?.id;
                people::add_member(c, a, a_id).await?;
                people::add_member(c, b, b_id).await?;
                Ok((a, b))
            }))
            .await
            .unwrap();
        let server = rapport::start(&config, db.clone(), clock, false)
            .await
            .unwrap();
        TestApp {
            sealer: config.sealer().unwrap(),
            smtp: server.smtp_addr.unwrap(),
            base: format!("http://{}", server.addr),
            http: reqwest::Client::new(),
            db,
            admin,
            supervisor,
            agent,
            agent_b,
            team_a,
            team_b,
            server: Some(server),
            _scratch: scratch,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with a token and an optional JSON body; returns status and JSON.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let is_json = resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json"));
        let text = resp.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else if !is_json && (200..300).contains(&status) {
            Value::String(text)
        } else if !is_json {
            panic!("error response is not JSON ({status}): {text}")
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("response is not JSON ({status}): {text}"))
        };
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, Some(&self.admin.token), None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(&self.admin.token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("PATCH", path, Some(&self.admin.token), Some(body))
            .await
    }

    /// Creates a ticket as the admin and returns its JSON.
    pub async fn ticket(&self, subject: &str, body: &str, email: &str) -> Value {
        let (s, t) = self
            .post(
                "/api/v1/tickets",
                json!({"subject": subject, "body": body, "customer": {"email": email, "name": "Casey"}}),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        t
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.unwrap();
        }
    }
}

/// Asserts the error contract: status, code and (optionally) field.
pub fn assert_error(status: u16, body: &Value, want_status: u16, want_field: Option<&str>) {
    assert_eq!(status, want_status, "{body}");
    let err = &body["error"];
    assert!(err["code"].is_string(), "no error code: {body}");
    assert!(err["message"].is_string(), "no error message: {body}");
    if let Some(f) = want_field {
        assert_eq!(err["field"], f, "{body}");
    }
}

/// A `rapport` process, for the tests that kill it.
pub struct Process {
    pub child: tokio::process::Child,
    pub base: String,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rapport")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a `rapport` subcommand against a scratch database and returns its stdout.
pub async fn run_cli(scratch: &Scratch, args: &[&str], stdin: Option<&str>) -> String {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args)
        .env("RAPPORT_DATA_DIR", scratch.dir.path())
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = &scratch.database_url {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).await.unwrap();
    }
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "rapport {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl Process {
    /// Starts `rapport serve` on a free port and waits until it is healthy.
    pub async fn start(scratch: &Scratch) -> Process {
        Self::start_with(scratch, &[]).await
    }

    /// The same, with extra environment variables.
    pub async fn start_with(scratch: &Scratch, env: &[(&str, String)]) -> Process {
        let port = free_port();
        let mut cmd = tokio::process::Command::new(bin());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(["serve"])
            .env("RAPPORT_DATA_DIR", scratch.dir.path())
            .env("RAPPORT_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        if let Some(url) = &scratch.database_url {
            cmd.env("DATABASE_URL", url);
        }
        let child = cmd.spawn().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = http.get(format!("{base}/healthz")).send().await
                && r.status() == 200
            {
                return Process { child, base };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("rapport serve did not become healthy");
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id().unwrap()).unwrap()
    }

    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([format!("-{sig}"), self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig} failed");
    }
}

/// Runs each named `async fn scenario(backend)` on SQLite and on PostgreSQL, for scenarios
/// that start their own app (or none) rather than take a spawned one.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::harness::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::harness::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Generates the two test functions of a scenario, one per backend.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn scenario($app: $crate::harness::TestApp) $body
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    scenario($crate::harness::TestApp::spawn($crate::harness::Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    scenario($crate::harness::TestApp::spawn($crate::harness::Backend::Postgres).await).await
                }
            }
        )*
    };
}

/// `SELECT COUNT(*) …` (or any single integer) on a database.
pub async fn count(db: &Db, sql: &'static str) -> i64 {
    db.read(op!(c => rapport_store::testing::one_in(c, sql, &[]).await?.int(0)))
        .await
        .unwrap()
}

/// Runs a Python program (a real mail client, written with the standard library) with
/// `args`, feeds it `stdin`, and returns what it printed; it must succeed.
pub async fn python(program: &str, args: &[String], stdin: &[u8]) -> Vec<u8> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the mail clients (scripts/test installs it)");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Lets every subscriber of the event stream catch up now (the server's own runners do
/// it within a quarter second; this makes a test deterministic). Returns the events
/// handled here.
pub async fn settle(db: &Db) -> usize {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let reg = rapport::registry(Arc::clone(&clock), rapport_mail::MailSettings::default());
    let mut handled = 0;
    for s in reg.subscribers() {
        let runner = rapport_jobs::Runner::new(
            db.clone(),
            Arc::clone(&clock),
            Arc::clone(s),
            rapport_jobs::RunnerConfig::default(),
        );
        handled += runner.settle().await.unwrap();
    }
    handled
}
