//! The edge of Rapport: configuration, opening the database, and starting the HTTP
//! server and background workers together. `main.rs` is the command line over this;
//! the integration tests and the benchmark start servers through it too.

pub mod accounts;
pub mod cli;
pub mod config;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rapport_domain::Clock;
use rapport_http::AppState;
use rapport_jobs::{Registry, Runner, RunnerConfig, Worker, WorkerConfig};
use rapport_store::op;
use rapport_store::{Db, DbConfig, migrate};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::Config;

/// Opens the configured database and brings its schema up to date.
pub async fn open_db(config: &Config, clock: &dyn Clock) -> anyhow::Result<Db> {
    let db_config = DbConfig::from_url_or_dir(config.database_url.as_deref(), &config.data_dir)?;
    if let DbConfig::Sqlite(_) = db_config {
        rapport_store::private_files::create_private_dir(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    let db = Db::open(&db_config).await.context("opening the database")?;
    migrate::run(&db, clock.now())
        .await
        .context("migrating the database")?;
    Ok(db)
}

/// A running server: its address, and the handle to stop it.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The database it uses.
    pub db: Db,
    /// The public URL it announces.
    pub public_url: String,
    /// Where the SMTP listener is, when enabled.
    pub smtp_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    /// Stops accepting, lets in-flight requests and the jobs in hand finish, and waits.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await.context("server task")?
    }

    /// Waits until the server stops by itself (after a signal).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task")?
    }
}

/// Starts the HTTP server and `config.workers` background workers on `db`. The server
/// stops on SIGTERM or Ctrl-C (when `signals` is true) or when [`Server::shutdown`] is
/// called.
pub async fn start(
    config: &Config,
    db: Db,
    clock: Arc<dyn Clock>,
    signals: bool,
) -> anyhow::Result<Server> {
    let listener = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("binding {}", config.http_addr))?;
    let addr = listener.local_addr()?;
    let public_url = config.public_url(addr);
    let sealer = config.sealer()?;
    let mut state = AppState::new(db.clone(), Arc::clone(&clock), public_url.clone())
        .with_sealer(sealer.clone())
        .with_trusted_proxies(config.trusted_proxies()?);
    state.sessions = config.session_policy()?;
    state.auto_mail_per_hour = config.auto_mail_per_hour;
    state.bot_generator = config.bot_generator()?.map(Arc::new);
    state.article_views = Arc::new(rapport_http::article_views::ArticleViews::new(
        Arc::clone(&clock),
        Duration::from_secs(config.view_flush_secs),
    ));
    state.kb_search_limit = Arc::new(rapport_http::limit::FailureLimiter::new(
        config.kb_search_per_minute.max(1),
        Duration::from_secs(60),
        Arc::clone(&clock),
    ));
    state.kb_index = rapport_index::kb::KbIndex::load(&db)
        .await
        .context("loading the knowledge-base search index")?;
    state.community_index = rapport_index::community::CommunityIndex::load(&db)
        .await
        .context("loading the community search index")?;
    let (stop, stop_rx) = watch::channel(false);

    let relay = config
        .smtp_relay
        .as_deref()
        .map(rapport_mail::transport::Relay::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut workers = Vec::new();
    let mut smtp_addr = None;
    if let Some(addr) = config.smtp_addr {
        let smtp = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the SMTP listener to {addr}"))?;
        smtp_addr = Some(smtp.local_addr()?);
        workers.push(tokio::spawn(rapport_mail::smtp::serve(
            smtp,
            db.clone(),
            Arc::clone(&clock),
            rapport_mail::smtp::SmtpConfig {
                tls: match (&config.smtp_tls_cert, &config.smtp_tls_key) {
                    (Some(cert), Some(key)) => Some(
                        rapport_mail::smtp::tls_acceptor(cert, key)
                            .map_err(|e| anyhow::anyhow!(e))?,
                    ),
                    _ => None,
                },
                limits: config.smtp_limits.limits(),
                ..Default::default()
            },
            stop_rx.clone(),
        )));
    }
    if config.workers > 0 {
        release_dead_leases(&db, clock.now(), true).await?;
        let mut imap_config = rapport_mail::imap::ImapConfig {
            poll: Duration::from_secs(config.imap_poll_secs.max(1)),
            ..Default::default()
        };
        if let Some(path) = &config.imap_ca_file {
            imap_config
                .trust_pem_file(path)
                .map_err(|e| anyhow::anyhow!("RAPPORT_IMAP_CA_FILE: {e}"))?;
        }
        workers.push(tokio::spawn(rapport_mail::imap::supervise(
            db.clone(),
            Arc::clone(&clock),
            sealer.clone(),
            imap_config,
            stop_rx.clone(),
        )));
    }
    let reg = registry_with(
        Arc::clone(&clock),
        rapport_mail::MailSettings {
            relay,
            reopen_days: config.reopen_days,
            auto_mail_per_hour: config.auto_mail_per_hour,
            public_url: public_url.clone(),
            sealer: sealer.clone(),
        },
        config.webhook_allow_private,
    );
    // Subscribers run on every node, whatever its number of workers: their cursors are
    // locked, so one node handles each event, and side effects never wait for a node
    // with workers to be up. A new subscriber's cursor exists before this node takes a
    // request, so no event recorded here can fall before it.
    for subscriber in reg.subscribers() {
        let runner = Runner::new(
            db.clone(),
            Arc::clone(&clock),
            Arc::clone(subscriber),
            RunnerConfig::default(),
        );
        runner
            .subscribe()
            .await
            .with_context(|| format!("subscribing {}", runner.name()))?;
        workers.push(tokio::spawn(runner.run(stop_rx.clone())));
    }
    // The reports' roll-ups cover what existed before them (on a new database at once;
    // the reports aggregate afresh until then), a step per transaction so a stop waits for
    // one step at most; then, every second, the subjects writes marked (an SLA calendar
    // edited marks every ticket it measures) are refreshed in the background.
    workers.push(tokio::spawn(roll_up_loop(db.clone(), stop_rx.clone())));
    for i in 0..config.workers {
        let w = Worker::new(
            db.clone(),
            Arc::clone(&clock),
            reg.clone(),
            WorkerConfig {
                name: format!("{}:{}:{i}", hostname(), std::process::id()),
                lease_secs: 300,
                idle_wait: Duration::from_millis(500),
            },
        );
        workers.push(tokio::spawn(w.run(stop_rx.clone())));
    }
    if config.workers > 0 {
        workers.push(tokio::spawn(bot_sweep_loop(state.clone(), stop_rx.clone())));
        workers.push(tokio::spawn(schedule_loop(
            db.clone(),
            Arc::clone(&clock),
            config.kb_log_retention_days,
            stop_rx.clone(),
        )));
    }

    workers.push(tokio::spawn(
        Arc::clone(&state.article_views).run(db.clone(), stop_rx.clone()),
    ));
    workers.push(tokio::spawn(
        state.kb_index.clone().follow(db.clone(), stop_rx.clone()),
    ));
    workers.push(tokio::spawn(
        state
            .community_index
            .clone()
            .follow(db.clone(), stop_rx.clone()),
    ));
    {
        // On PostgreSQL, other nodes' events wake this node's followers at once.
        let (db, stop) = (db.clone(), stop_rx.clone());
        workers.push(tokio::spawn(async move { db.hear_other_nodes(stop).await }));
    }
    {
        let live = Arc::clone(&state.live);
        let (db, stop) = (db.clone(), stop_rx.clone());
        workers.push(tokio::spawn(async move { live.tail(db, stop).await }));
    }
    let app = rapport_http::serve(
        rapport_http::api_router().merge(rapport_web::routes()),
        state,
    );
    let mut shutdown_rx = stop_rx.clone();
    let stop_tx = stop.clone();
    let stop_on_signal = stop.clone();
    let task = tokio::spawn(async move {
        let wait_stop = async move {
            if signals {
                tokio::select! {
                    () = terminate_signal() => {}
                    _ = shutdown_rx.changed() => {}
                }
            } else {
                let _ = shutdown_rx.changed().await;
            }
            tracing::info!("shutting down: finishing in-flight requests");
            // Tell the workers and the live feed at once: open `/live` streams end, so the
            // graceful shutdown is not held up by a browser tab.
            let _ = stop_on_signal.send(true);
        };
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(wait_stop)
        .await;
        let _ = stop_tx.send(true);
        for w in workers {
            let _ = w.await;
        }
        served.context("HTTP server")
    });
    Ok(Server {
        addr,
        db,
        public_url,
        smtp_addr,
        stop,
        task,
    })
}

/// Every job handler and event-stream subscriber this binary knows, with the email
/// channel's settings.
pub fn registry(clock: Arc<dyn Clock>, mail: rapport_mail::MailSettings) -> Registry {
    registry_with(clock, mail, false)
}

/// [`registry`], with webhooks allowed to reach private addresses or not
/// (`RAPPORT_WEBHOOK_ALLOW_PRIVATE`).
pub fn registry_with(
    clock: Arc<dyn Clock>,
    mail: rapport_mail::MailSettings,
    webhook_allow_private: bool,
) -> Registry {
    let mut reg = Registry::standard();
    reg.add(
        rapport_jobs::webhooks::DELIVER,
        rapport_jobs::webhooks::Deliver::new(
            mail.sealer.clone(),
            Arc::clone(&clock),
            webhook_allow_private,
        ),
    );
    rapport_mail::register(&mut reg, clock, mail);
    reg
}

/// Schedules the daily jobs (every 10 minutes: each is enqueued once a day, keyed by the
/// day) and, for two minutes after start-up, hands back dead workers' leases.
async fn schedule_loop(
    db: Db,
    clock: Arc<dyn Clock>,
    kb_log_retention_days: i64,
    mut stop: watch::Receiver<bool>,
) {
    let mut rounds = 0u64;
    while !*stop.borrow() {
        if rounds.is_multiple_of(40) {
            if let Err(e) = rapport_jobs::schedule_roll_up(&db, clock.now()).await {
                tracing::warn!(error = %e, "could not schedule the statistics roll-up");
            }
            if let Err(e) = rapport_jobs::classify::schedule_retrain(&db, clock.now()).await {
                tracing::warn!(error = %e, "could not schedule the classifier's rebuild");
            }
            // NPS surveys to the active customers due one (never more often than the
            // interval per customer), a batch every ten minutes.
            if let Err(e) = rapport_jobs::surveys::send_nps(&db, clock.now()).await {
                tracing::warn!(error = %e, "could not send the NPS surveys");
            }
            if let Err(e) =
                rapport_jobs::schedule_kb_purge(&db, clock.now(), kb_log_retention_days).await
            {
                tracing::warn!(error = %e, "could not schedule the self-service logs' purge");
            }
            // PostgreSQL: the search index's recent part, renewed as the table grows (its
            // own task: building an index over a large table takes seconds).
            let search_db = db.clone();
            tokio::spawn(async move {
                let keep = rapport_store::search::RECENT_KEEP;
                match rapport_store::search::renew_recent(&search_db, keep).await {
                    Ok(Some(floor)) => tracing::info!(floor, "renewed the recent search index"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not renew the recent search index"),
                }
            });
        }
        // Every minute: bot conversations quiet for 30 minutes after a cited answer count
        // as resolved ("left after the answer"), apart from the customers' "yes".
        if rounds.is_multiple_of(4) {
            let now = clock.now();
            let settled = db
                .write(rapport_store::op!(c => rapport_store::bot::settle_idle(c, now).await))
                .await;
            if let Err(e) = settled {
                tracing::warn!(error = %e, "could not settle the bot's idle conversations");
            }
            // Reward points past their expiry that were never spent.
            match rapport_jobs::loyalty::expire_points(&db, now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(customers = n, "expired unspent reward points"),
                Err(e) => tracing::warn!(error = %e, "could not expire reward points"),
            }
            // Chats waiting in a queue go to an online agent who came back to work (a
            // session or presence seen again), which no event announces.
            let assigned = db
                .write(rapport_store::op!(c => rapport_store::chat::handoff::assign_waiting(c, now).await))
                .await;
            if let Err(e) = assigned {
                tracing::warn!(error = %e, "could not assign the waiting chats");
            }
            // Tickets waiting in an automatically routed team's queue go to an agent who
            // came online or got room (neither is an event).
            let routed = db
                .write(rapport_store::op!(c => rapport_store::routing::route_waiting(c, 200, now).await))
                .await;
            if let Err(e) = routed {
                tracing::warn!(error = %e, "could not route the waiting tickets");
            }
            // SLA warnings and breaches that came due (read by index, not by a pass over
            // open tickets), each announced once as an event.
            let announced = db
                .write(rapport_store::op!(c => rapport_store::sla::clocks::announce_due(c, now, 500).await))
                .await;
            if let Err(e) = announced {
                tracing::warn!(error = %e, "could not announce the SLA warnings and breaches");
            }
            // Snoozed tickets whose time came wake up and remind their owners.
            let woke = db
                .write(rapport_store::op!(c => rapport_store::snooze::wake_due(c, now, 500).await))
                .await;
            if let Err(e) = woke {
                tracing::warn!(error = %e, "could not wake the snoozed tickets");
            }
            // Promises coming due remind their makers; those past due are broken.
            let promised = db
                .write(
                    rapport_store::op!(c => rapport_store::promises::settle_due(c, now, 500).await),
                )
                .await;
            if let Err(e) = promised {
                tracing::warn!(error = %e, "could not settle the promises that came due");
            }
            // Time rules: each reads the tickets that crossed its mark since its last
            // pass, by index.
            if let Err(e) = rapport_jobs::automations::run_time_rules(&db, now).await {
                tracing::warn!(error = %e, "could not run the time rules");
            }
        }
        // A claim sent by a worker of this host just before it was killed can commit on
        // PostgreSQL after the start-up sweep ran; sweeping again every 15 s for the first
        // two minutes hands such a job back without waiting out its five-minute lease.
        // (Only then: liveness is judged by pid on this host, which cannot see workers of
        // another node that shares the host name in another pid namespace.)
        if rounds <= 8
            && let Err(e) = release_dead_leases(&db, clock.now(), false).await
        {
            tracing::warn!(error = %e, "could not release the leases of dead workers");
        }
        rounds += 1;
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(15)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Builds the reports' roll-ups, then drains their marks (see `reports::rollup`).
async fn roll_up_loop(db: Db, mut stop: watch::Receiver<bool>) {
    use rapport_jobs::reports::REPORTS;
    use rapport_store::reports::rollup;
    use rapport_store::stream;
    let mut built = false;
    while !*stop.borrow() {
        let step = if built {
            // A read first: the writer is taken only when there is something to drain, and
            // the reports' subscriber is not behind — it takes the marks with the tickets of
            // its next batch, so draining them here too would compute a new ticket twice.
            let due = db
                .read(op!(c => {
                    // Behind: a settled event it has yet to handle (its next round, which
                    // drains marks whatever the events are).
                    let behind = match stream::position(c, REPORTS).await? {
                        Some(at) => !stream::after(c, at, 1).await?.is_empty(),
                        None => false,
                    };
                    Ok(!behind && rollup::any_dirty(c).await?)
                }))
                .await;
            match due {
                Ok(true) => db
                    .write(op!(c => rollup::drain(c).await))
                    .await
                    .map(|n| n > 0),
                other => other,
            }
        } else {
            db.write(op!(c => rollup::rebuild_step(c).await)).await
        };
        let wait = match step {
            Ok(done) if !built => {
                built = done;
                Duration::ZERO
            }
            Ok(true) => Duration::ZERO,
            Ok(false) => Duration::from_secs(1),
            Err(e) => {
                tracing::warn!(error = %e, "could not keep the reports' roll-ups");
                Duration::from_secs(5)
            }
        };
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Every minute: the chat messages a crash left without the bot's answer get it
/// (`assistant::answer_unanswered`).
async fn bot_sweep_loop(state: AppState, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = rapport_http::api::chat::assistant::answer_unanswered(&state).await {
            tracing::warn!(error = ?e, "could not answer the chats a crash left unanswered");
        }
    }
}

async fn terminate_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Jobs leased by a worker of this host whose process is gone (killed, crashed) go back
/// to the queue — at start-up and every 15 s for two minutes after — rather than waiting out
/// their lease.
/// Worker names are `host:pid:n`; at start-up a pid equal to ours is a previous life of
/// this process (containers restart as pid 1).
async fn release_dead_leases(
    db: &Db,
    now: rapport_domain::Timestamp,
    at_start: bool,
) -> anyhow::Result<()> {
    let host = format!("{}:", hostname());
    let me = std::process::id();
    let released = db
        .write(op!(c => {
            let mut released = 0;
            for holder in rapport_store::jobs::lease_holders(c, &host).await? {
                let pid = holder
                    .strip_prefix(&host)
                    .and_then(|rest| rest.split(':').next())
                    .and_then(|p| p.parse::<u32>().ok());
                // Our own pid is a previous life of this process only at start-up;
                // later it is this process, whose workers are alive.
                let dead = pid.is_some_and(|pid| {
                    if pid == me {
                        at_start
                    } else {
                        !std::path::Path::new(&format!("/proc/{pid}")).exists()
                    }
                });
                if dead {
                    released += rapport_store::jobs::release_leases(c, &holder, now).await?;
                }
            }
            Ok(released)
        }))
        .await?;
    if released > 0 {
        tracing::info!(
            released,
            "jobs of a dead worker on this host went back to the queue"
        );
    }
    Ok(())
}

fn hostname() -> String {
    hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}
