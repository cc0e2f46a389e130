//! The benchmark behind `docs/BENCHMARKS.md`.
//!
//! It builds a scratch database of the requested size with the demo generator, starts the
//! real `rapport` binary on it, and measures over HTTP: ticket creation with concurrent
//! clients, the inbox list, search, and the server's memory. As the physical reference it
//! then inserts the same rows straight into the same database, with no HTTP and no domain
//! logic, and reports the ratio. Run it in release mode:
//!
//! ```sh
//! cargo build --release -p rapport && cargo run --release -p rapport-bench -- --messages 1000000
//! ```

use std::path::PathBuf;
use std::process::Stdio;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use hdrhistogram::Histogram;
use rapport_domain::{Clock, EmailAddress, Role, SystemClock};
use rapport_store::Db;
use rapport_store::op;
use rapport_store::people::{self, NewUser};
use rapport_store::secrets;
use serde_json::json;

mod chat;
mod crm;
mod kb;
mod mail;
mod reference;
mod reports;
mod scratch;
mod sentiment;
mod timers;

use mail::{mail_load, mail_out, smtp_sink};
use reference::{raw_postgres, raw_sqlite};
use scratch::{Scratch, analyze, analyze_live, sqlite_path, vacuum_pg};

/// Starts a measurement: the benchmark measures real elapsed time, so it reads the
/// monotonic clock here and nowhere else.
#[expect(
    clippy::disallowed_methods,
    reason = "the benchmark measures real elapsed time"
)]
fn stopwatch() -> Instant {
    Instant::now()
}

#[derive(Debug, Parser)]
#[command(about = "Fill a scratch database and measure Rapport's hot paths")]
struct Args {
    /// `sqlite` or `postgres`.
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// PostgreSQL server for `--backend postgres` (a scratch database is created on it).
    #[arg(
        long,
        default_value = "postgres://postgres:postgres@127.0.0.1:5432/postgres"
    )]
    pg_url: String,
    /// Messages to fill the database with before measuring.
    #[arg(long, default_value_t = 1_000_000)]
    messages: usize,
    /// Tickets to create over HTTP in the creation run.
    #[arg(long, default_value_t = 20_000)]
    create: usize,
    /// Concurrent HTTP clients in the creation run.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Requests per read measurement (inbox list, search, pages).
    #[arg(long, default_value_t = 1_000)]
    reads: usize,
    /// Email messages to send over SMTP in the inbound run (0 skips it).
    #[arg(long, default_value_t = 5_000)]
    mail: usize,
    /// The `rapport` binary to start (build it with `cargo build --release -p rapport`).
    /// Background workers in the server (`RAPPORT_WORKERS`).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    #[arg(long, default_value = "target/release/rapport")]
    binary: PathBuf,
    /// Keep the scratch PostgreSQL database after the run (its URL is printed), to study
    /// query plans on it or to measure again with `--reuse`; on SQLite, keep the data
    /// directory (its path is printed), to start `rapport serve` on it.
    #[arg(long)]
    keep: bool,
    /// Start measuring without waiting for the server to roll up the filled tables for the
    /// reports: for builds from before the roll-ups (issue 13), which never build them.
    #[arg(long)]
    no_roll_up_wait: bool,
    /// Leave out the physical reference (the same rows inserted straight into the
    /// tables after the server stops), e.g. on a database kept for `--reuse`, whose
    /// next server would otherwise first work through those rows' events.
    #[arg(long)]
    no_raw: bool,
    /// Measure on an existing, already filled database (one a `--keep` run left: a
    /// PostgreSQL URL, or a SQLite data directory) instead of filling a new one; it is
    /// left in place.
    #[arg(long)]
    reuse: Option<String>,
    /// Published public articles to create through the API for the self-service run
    /// (help center pages, knowledge-base search and suggestions, the sitemap), plus
    /// some drafts, internal and customers-only ones; 0 skips the run.
    #[arg(long, default_value_t = 0)]
    kb_articles: usize,
    /// Concurrent clients in the self-service run (creating articles and reading).
    #[arg(long, default_value_t = 4)]
    kb_clients: usize,
    /// Requests per measurement in the self-service run.
    #[arg(long, default_value_t = 2_000)]
    kb_reads: usize,
    /// A file listing the articles the self-service run created (slug, visibility, the
    /// words each holds): written after creating them; with `--reuse`, read instead of
    /// creating the articles again.
    #[arg(long)]
    kb_state: Option<PathBuf>,
    /// Live-chat run: visitor sockets to open and hold (each its own conversation, at
    /// most ten per loopback address 127.1.x.y); 0 skips the run.
    #[arg(long, default_value_t = 0)]
    chat_sockets: usize,
    /// Live-chat run: visitor messages a second, round-robin over the sockets.
    #[arg(long, default_value_t = 500)]
    chat_rate: usize,
    /// Live-chat run: seconds of sending.
    #[arg(long, default_value_t = 20)]
    chat_seconds: u64,
    /// Only the live-chat run (with `--messages` for the database's size): no ticket,
    /// email, self-service or raw-insert measurements.
    #[arg(long)]
    chat_only: bool,
    /// Only the timer passes: this many open tickets written straight into the tables,
    /// then the SLA pass and the time rules timed minute by minute (0: not this run).
    #[arg(long, default_value_t = 0)]
    timers: usize,
    /// Minute passes to time in the timers run.
    #[arg(long, default_value_t = 30)]
    timer_passes: usize,
    /// Only the reports: this many tickets over 90 days written straight into the
    /// tables, then the summary and the dashboard timed (`--reads` of each; 0: not this
    /// run).
    #[arg(long, default_value_t = 0)]
    reports: usize,
    /// Only the CRM: this many messages written straight into the tables, one customer
    /// with 1,000 interactions whose timeline is read page by page (`--reads` times), and
    /// 20,000 orders imported (0: not this run).
    #[arg(long, default_value_t = 0)]
    crm: usize,
    /// Only the sentiment timing: read every labelled support message's mood this many
    /// times (no database, no server; 0: not this run).
    #[arg(long, default_value_t = 0)]
    sentiment: usize,
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    // Histograms hold microseconds.
    #[expect(clippy::cast_precision_loss, reason = "latencies in microseconds")]
    let v = h.value_at_quantile(q) as f64;
    v / 1000.0
}

struct Report(Vec<(String, String)>);

impl Report {
    fn add(&mut self, k: &str, v: String) {
        println!("{k}: {v}");
        self.0.push((k.to_owned(), v));
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.sentiment > 0 {
        return sentiment::run(args.sentiment, &mut Report(Vec::new()));
    }
    if !args.binary.exists() {
        bail!(
            "{} not found: run `cargo build --release -p rapport` first",
            args.binary.display()
        );
    }
    let scratch = Scratch::new(&args).await?;
    let result = run(&args, &scratch).await;
    if args.keep {
        match &scratch.url {
            Some(url) => println!("kept: {url}"),
            None => {
                scratch.temp.map(tempfile::TempDir::keep);
                println!("kept: {}", scratch.dir.display());
            }
        }
    } else {
        scratch.drop_pg().await?;
    }
    result
}

async fn run(args: &Args, scratch: &Scratch) -> anyhow::Result<()> {
    let mut report = Report(Vec::new());
    let clock = SystemClock;
    let config = scratch.config();

    // 1. Fill with the demo generator, through the store operations.
    let db = rapport::open_db(&config, &clock).await?;
    if args.reports > 0 {
        let pg_url = scratch.url.as_deref();
        return reports::run(&db, &clock, args.reports, args.reads, pg_url, &mut report).await;
    }
    if args.crm > 0 {
        let pg_url = scratch.url.as_deref();
        return crm::run(&db, &clock, args.crm, args.reads, pg_url, &mut report).await;
    }
    if args.timers > 0 {
        let postgres = args.backend == "postgres";
        return timers::run(
            &db,
            &clock,
            args.timers,
            args.timer_passes,
            postgres,
            &mut report,
        )
        .await;
    }
    let (token, session) = admin_token(&db, &clock).await?;
    if args.reuse.is_none() {
        let started = stopwatch();
        let (tickets, messages) = fill(&db, &clock, args.messages).await?;
        let secs = started.elapsed().as_secs_f64();
        #[expect(clippy::cast_precision_loss, reason = "rates")]
        let rate = messages as f64 / secs;
        report.add(
            "fill",
            format!("{tickets} tickets, {messages} messages in {secs:.1} s ({rate:.0} messages/s)"),
        );
    }
    let visitors = if args.chat_sockets > 0 {
        let started = stopwatch();
        let v = chat::open_conversations(&db, &clock, args.chat_sockets).await?;
        report.add(
            "chat: conversations opened (store)",
            format!("{} in {:.1} s", v.len(), started.elapsed().as_secs_f64()),
        );
        v
    } else {
        Vec::new()
    };
    match sqlite_path(scratch) {
        Some(path) => analyze(&path)?,
        None => vacuum_pg(scratch.url.as_deref().unwrap_or_default()).await?,
    }
    drop(db);

    // 2. Start the real server on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let smtp_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sink_port = sink.local_addr()?.port();
    tokio::spawn(smtp_sink(sink));
    let mut cmd = tokio::process::Command::new(&args.binary);
    cmd.env(
        "RAPPORT_SMTP_RELAY",
        format!("smtp://127.0.0.1:{sink_port}"),
    )
    .arg("serve")
    .env("RAPPORT_DATA_DIR", &scratch.dir)
    .env("RAPPORT_HTTP_ADDR", format!("127.0.0.1:{port}"))
    .env("RAPPORT_SMTP_ADDR", format!("127.0.0.1:{smtp_port}"))
    // The load comes from one address, as from a relay: lift the per-client allowance.
    .env("RAPPORT_SMTP_MAX_MESSAGES_PER_CLIENT_HOUR", "1000000")
    // The same for knowledge-base searches, which are limited per client address.
    .env("RAPPORT_KB_SEARCH_PER_MINUTE", "100000000")
    .env("RAPPORT_WORKERS", args.workers.to_string())
    .env("RAPPORT_LOG", "warn")
    .env_remove("DATABASE_URL")
    .stdout(Stdio::null())
    .kill_on_drop(true);
    if let Some(url) = &scratch.url {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = cmd.spawn().context("starting rapport serve")?;
    let pid = child.id().context("server pid")?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;
    wait_healthy(&http, &base).await?;
    // The tickets written straight into the tables are rolled up for the reports by the
    // server once, at its first start (as after an upgrade). That one-off pass is not
    // what a request costs, so the runs wait for it (and report how long it took).
    if !args.no_roll_up_wait {
        let built = reports_built(scratch).await?;
        report.add(
            "reports' roll-ups of the filled tables built at start",
            format!("{:.1} s", built.as_secs_f64()),
        );
    }

    // Live chat: idle sockets, then delivery at a steady rate.
    if !visitors.is_empty() {
        let r = chat::ChatRun {
            port,
            pid,
            session: &session,
            token: &token,
            rate: args.chat_rate,
            seconds: args.chat_seconds,
        };
        chat::run(&visitors, &r, &mut report).await?;
        if args.chat_only {
            let (rss, hwm) = rss_of(pid)?;
            report.add("server memory", format!("RSS {rss} MB now, peak {hwm} MB"));
            child.kill().await.ok();
            return Ok(());
        }
    }

    // 3. Reads first, on the filled database.
    let list = measure(args.reads, || {
        http.get(format!("{base}/api/v1/tickets?status=unsolved&limit=50"))
            .bearer_auth(&token)
            .send()
    })
    .await?;
    report.add(
        "inbox list (status=unsolved, 50 per page)",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            ms(&list, 0.5),
            ms(&list, 0.99)
        ),
    );
    let mine = measure(args.reads, || {
        http.get(format!(
            "{base}/api/v1/tickets?assignee_id=2&status=unsolved&limit=50"
        ))
        .bearer_auth(&token)
        .send()
    })
    .await?;
    report.add(
        "inbox list (one agent's open tickets)",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            ms(&mine, 0.5),
            ms(&mine, 0.99)
        ),
    );
    let queries = [
        "refund",
        "bluetooth",
        "charged twice",
        "firmware update stuck",
        "invoice vat",
        "damaged parcel",
        "tracking",
        "app crashes settings",
        "wombat",
        "ret",
    ];
    let mut qi = 0usize;
    let search = measure(args.reads, || {
        qi += 1;
        let q = queries[qi % queries.len()];
        http.get(format!("{base}/api/v1/search"))
            .query(&[("q", q)])
            .bearer_auth(&token)
            .send()
    })
    .await?;
    report.add(
        "search (10 queries, common and rare words)",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms",
            ms(&search, 0.5),
            ms(&search, 0.99)
        ),
    );

    // Pages of the agent workspace, as a signed-in browser loads them.
    let cookie = format!("rapport_session={session}");
    let recent: Vec<(i64, i64)> = {
        let r = http
            .get(format!("{base}/api/v1/tickets?limit=100"))
            .bearer_auth(&token)
            .send()
            .await?
            .json::<serde_json::Value>()
            .await?;
        r["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| Some((t["id"].as_i64()?, t["customer"]["id"].as_i64()?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    if recent.is_empty() {
        bail!("no tickets to open");
    }
    let mut pages = Histogram::<u64>::new(3)?;
    for (name, path) in [
        ("inbox page (All open)", "/inbox?view=open".to_owned()),
        (
            "inbox page (My open tickets)",
            "/inbox?view=mine".to_owned(),
        ),
        ("search page", "/search?q=refund".to_owned()),
    ] {
        let h = measure(args.reads / 2, || {
            http.get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
        })
        .await?;
        pages.add(&h)?;
        report.add(
            name,
            format!("p50 {:.2} ms, p99 {:.2} ms", ms(&h, 0.5), ms(&h, 0.99)),
        );
    }
    let mut i = 0usize;
    let h = measure(args.reads / 2, || {
        i += 1;
        let (id, _) = recent[i % recent.len()];
        http.get(format!("{base}/tickets/{id}"))
            .header("cookie", &cookie)
            .send()
    })
    .await?;
    pages.add(&h)?;
    report.add(
        "ticket page",
        format!("p50 {:.2} ms, p99 {:.2} ms", ms(&h, 0.5), ms(&h, 0.99)),
    );
    let h = measure(args.reads / 2, || {
        i += 1;
        let (_, customer) = recent[i % recent.len()];
        http.get(format!("{base}/customers/{customer}"))
            .header("cookie", &cookie)
            .send()
    })
    .await?;
    pages.add(&h)?;
    report.add(
        "customer page",
        format!("p50 {:.2} ms, p99 {:.2} ms", ms(&h, 0.5), ms(&h, 0.99)),
    );
    report.add("all pages", format!("p99 {:.2} ms", ms(&pages, 0.99)));

    // 4. Creation with concurrent clients.
    let (rate, hist) = create_load(&http, &base, &token, args.create, args.clients).await?;
    report.add(
        &format!("ticket creation over HTTP ({} clients)", args.clients),
        format!(
            "{rate:.0} tickets/s, p50 {:.2} ms, p99 {:.2} ms",
            ms(&hist, 0.5),
            ms(&hist, 0.99)
        ),
    );
    // Email in: 8 SMTP connections; time from the end of DATA to 250, and the rate at
    // which messages become tickets (the ingest jobs run on the server's two workers).
    if args.mail > 0 {
        let counter = open_db(scratch).await?;
        let r = http
            .post(format!("{base}/api/v1/mailboxes"))
            .bearer_auth(&token)
            .json(&json!({"address": "support@example.com", "name": "Support"}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("mailbox: {}", r.status());
        }
        let (accept_rate, into_tickets, hist) =
            mail_load(smtp_port, &counter, args.mail, 8).await?;
        report.add(
            "email in over SMTP (8 connections): end of DATA to 250",
            format!(
                "p50 {:.2} ms, p99 {:.2} ms ({accept_rate:.0} messages/s accepted)",
                ms(&hist, 0.5),
                ms(&hist, 0.99)
            ),
        );
        report.add(
            "email in: messages/s into tickets",
            format!(
                "{into_tickets:.0} messages/s ({} messages, first send to last ticket)",
                args.mail
            ),
        );
        let out_rate = mail_out(&http, &base, &token, &counter, 2_000.min(args.mail)).await?;
        report.add(
            "email out: replies/s from POST to handed to the relay",
            format!("{out_rate:.0} replies/s (16 clients, a sink relay on loopback)"),
        );
    }

    // 5. Self-service: the knowledge base filled through the API, then the public reads.
    if args.kb_articles > 0 {
        let kb_args = kb::KbArgs {
            articles: args.kb_articles,
            clients: args.kb_clients,
            reads: args.kb_reads,
        };
        let filled = match (&args.reuse, &args.kb_state) {
            (Some(_), Some(state)) => kb::Filled::load(state)?,
            (_, state) => {
                let filled = kb::fill(&http, &base, &token, &kb_args, &mut report).await?;
                if let Some(state) = state {
                    filled.save(state)?;
                }
                // Planner statistics after the bulk load, as autovacuum takes them on
                // PostgreSQL (on SQLite the server runs `PRAGMA optimize` at start-up).
                match sqlite_path(scratch) {
                    Some(path) => analyze_live(&path)?,
                    None => vacuum_pg(scratch.url.as_deref().unwrap_or_default()).await?,
                }
                filled
            }
        };
        kb::measure(&http, &base, &kb_args, &filled, &mut report).await?;
    }

    let (rss, hwm) = rss_of(pid)?;
    report.add("server memory", format!("RSS {rss} MB now, peak {hwm} MB"));
    child.kill().await.ok();

    // 6. The physical reference: the same rows, straight into the same database.
    if !args.no_raw {
        let raw_single;
        let raw_group;
        match sqlite_path(scratch) {
            Some(path) => {
                raw_single = raw_sqlite(&path, 2_000, 1)?;
                raw_group = raw_sqlite(&path, args.create.min(20_000), args.clients)?;
            }
            None => {
                let url = scratch.url.clone().context("postgres url")?;
                raw_single = raw_postgres(&url, 2_000, 1, 1).await?;
                raw_group =
                    raw_postgres(&url, args.create.min(20_000), args.clients, args.clients).await?;
            }
        }
        report.add(
            "raw insert, one ticket per transaction",
            format!("{raw_single:.0} tickets/s"),
        );
        report.add(
            &format!("raw insert, {} tickets per transaction", args.clients),
            format!("{raw_group:.0} tickets/s"),
        );
        report.add(
            "app / raw (grouped)",
            format!("{:.0}%", 100.0 * rate / raw_group),
        );
    }

    println!("\n| measure | result |\n|---|---|");
    for (k, v) in &report.0 {
        println!("| {k} | {v} |");
    }
    Ok(())
}

/// An API token and a browser session cookie for a new admin.
async fn admin_token(db: &Db, clock: &dyn Clock) -> anyhow::Result<(String, String)> {
    let token = secrets::new_token();
    let secret = token.clone();
    let session = rapport_store::secrets::random_hex(32);
    let session_hash = secrets::token_hash(&session);
    let now = clock.now();
    db.write(op!(c => {
        let u = people::create_user(
            c,
            NewUser {
                email: EmailAddress::parse(&format!("bench{}@example.com", std::process::id()))?,
                name: "Bench".into(),
                role: Role::Admin,
                password_hash: None,
            },
            now,
        )
        .await?;
        rapport_store::sessions::create(c, u.id, &session_hash, "bench", now, 86_400).await?;
        let new = rapport_store::tokens::NewToken {
            user_id: u.id,
            token: secret,
            name: "bench".into(),
            expires_at: None,
        };
        rapport_store::tokens::create(c, new, now).await.map(|t| t.id)
    }))
    .await?;
    Ok((token, session))
}

/// Fills the database with demo conversations until it holds about `messages` messages.
async fn fill(db: &Db, clock: &dyn Clock, messages: usize) -> anyhow::Result<(usize, usize)> {
    let now = clock.now();
    let (teams, agents) = {
        let mut teams = Vec::new();
        let mut agents = Vec::new();
        for (i, name) in ["Tier 1", "Billing", "Technical", "Orders"]
            .iter()
            .enumerate()
        {
            let name = (*name).to_owned();
            let agent = EmailAddress::parse(&format!("agent{i}@example.com"))?;
            let (t, a) = db
                .write(op!(c => {
                    let t = people::create_team(c, &name, now).await?;
                    let a = people::create_user(
                        c,
                        NewUser {
                            email: agent,
                            name: format!("Agent {i}"),
                            role: Role::Agent,
                            password_hash: None,
                        },
                        now,
                    )
                    .await?;
                    people::add_member(c, t.id, a.id).await?;
                    Ok((t.id, a.id))
                }))
                .await?;
            teams.push(t);
            agents.push((a, i));
        }
        (teams, agents)
    };
    let mut total_tickets = 0;
    let mut total_messages = 0;
    let mut seed = 1;
    while total_messages < messages {
        let want = ((messages - total_messages) / 4).clamp(100, 20_000);
        let size = rapport_demo::DemoSize {
            tickets: want,
            customers: 20_000,
            seed,
        };
        seed += 1;
        let plans = rapport_demo::plan_tickets(&size, now, &teams, &agents);
        total_messages += plans
            .iter()
            .map(|p| {
                1 + p
                    .replies
                    .iter()
                    .filter(|(_, s)| !matches!(s, rapport_demo::Step::Patch(..)))
                    .count()
            })
            .sum::<usize>();
        total_tickets += rapport_demo::write_plans(db, plans, 128).await?;
    }
    Ok((total_tickets, total_messages))
}

/// The scratch database, opened beside the server.
async fn open_db(scratch: &Scratch) -> anyhow::Result<Db> {
    Ok(Db::open(&match (&scratch.url, sqlite_path(scratch)) {
        (Some(url), _) => rapport_store::DbConfig::Postgres(url.clone()),
        (None, Some(path)) => rapport_store::DbConfig::Sqlite(path),
        (None, None) => bail!("no database"),
    })
    .await?)
}

/// Waits until the server has rolled up, for the reports, what was in the tables when it
/// started; returns how long that took from now.
async fn reports_built(scratch: &Scratch) -> anyhow::Result<Duration> {
    let db = open_db(scratch).await?;
    let started = stopwatch();
    while !db
        .read(op!(c => rapport_store::reports::rollup::ready(c).await))
        .await?
    {
        if started.elapsed() > Duration::from_secs(3_600) {
            bail!("the reports' roll-ups were not built within an hour");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(started.elapsed())
}

async fn wait_healthy(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..400 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not become healthy")
}

async fn measure<F, Fut>(n: usize, mut request: F) -> anyhow::Result<Histogram<u64>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>>,
{
    let mut h = Histogram::<u64>::new(3)?;
    // Warm up connections and caches.
    for _ in 0..20 {
        request().await?.bytes().await?;
    }
    for _ in 0..n {
        let t = stopwatch();
        let r = request().await?;
        let status = r.status();
        r.bytes().await?;
        if !status.is_success() {
            bail!("read failed with {status}");
        }
        h.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX))?;
    }
    Ok(h)
}

async fn create_load(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    total: usize,
    clients: usize,
) -> anyhow::Result<(f64, Histogram<u64>)> {
    let per_client = total / clients.max(1);
    let started = stopwatch();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let url = format!("{base}/api/v1/tickets");
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new(3)?;
            for i in 0..per_client {
                let body = json!({
                    "subject": format!("Order NW-{c}{i} arrived damaged"),
                    "body": "The parcel was crushed and the lamp inside has a cracked base. I have photos.",
                    "customer": {"email": format!("bench{c}x{}@example.com", i % 50), "name": "Bench Customer"},
                    "channel": "email", "priority": "high", "category": "order-management", "tags": ["damaged"]
                });
                let t = stopwatch();
                let r = http.post(&url).bearer_auth(&token).json(&body).send().await?;
                let status = r.status();
                r.bytes().await?;
                if status.as_u16() != 201 {
                    bail!("create failed with {status}");
                }
                h.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX))?;
            }
            Ok::<_, anyhow::Error>(h)
        }));
    }
    let mut hist = Histogram::<u64>::new(3)?;
    for t in tasks {
        hist.add(t.await??)?;
    }
    let secs = started.elapsed().as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    let rate = (per_client * clients) as f64 / secs;
    Ok((rate, hist))
}

/// Sends `total` messages over `conns` SMTP connections and waits until all are tickets.
/// `SELECT COUNT(*) …` on either database.
async fn count(db: &Db, sql: &'static str) -> anyhow::Result<i64> {
    Ok(db
        .read(op!(c => rapport_store::testing::one_in(c, sql, &[]).await?.int(0)))
        .await?)
}

fn rss_of(pid: u32) -> anyhow::Result<(u64, u64)> {
    let (rss, hwm) = rss_kb_of(pid)?;
    Ok((rss / 1024, hwm / 1024))
}

/// A process's resident memory now and at its peak, in kB.
fn rss_kb_of(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}
