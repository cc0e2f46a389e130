//! The live-chat run: many idle visitor sockets (the server's memory per socket), then
//! visitor→agent delivery at a steady message rate.
//!
//! Conversations are opened through the store before the server starts (the public start
//! endpoint allows ten a client address per ten minutes). Each visitor socket then comes
//! from its own loopback address, at most [`PER_ADDRESS`] per address, so the server's
//! per-address limits (sockets, upgrades and messages a minute) hold as they would for real
//! visitors. The agent listens on the workspace's `/live` stream, as the browser does; a
//! message counts as delivered when its ticket's event arrives there.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use rapport_domain::{Clock, chat};
use rapport_store::Db;
use rapport_store::chat::{self as store, NewChat};
use rapport_store::op;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::{Report, ms, rss_kb_of, stopwatch};

/// Visitor sockets per loopback address: well under the server's 50 open sockets and 60
/// messages a minute per address at the run's rates.
const PER_ADDRESS: usize = 10;

/// One opened conversation: its ticket and the visitor's token.
pub struct Visitor {
    ticket_id: i64,
    token: String,
}

/// Opens `n` conversations through the store, each with a first message.
pub async fn open_conversations(
    db: &Db,
    clock: &dyn Clock,
    n: usize,
) -> anyhow::Result<Vec<Visitor>> {
    let mut out = Vec::with_capacity(n);
    let now = clock.now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let first = chunk[0];
        let count = chunk.len();
        let batch = db
            .write(op!(c => {
                let mut v = Vec::with_capacity(count);
                for i in first..first + count {
                    let started = store::start(
                        c,
                        NewChat {
                            name: None,
                            email: None,
                            identity: None,
                            body: chat::message_body(&format!("Hello, visitor {i} here"))?,
                            client_id: None,
                        },
                        now,
                    )
                    .await?;
                    v.push((started.conversation.ticket_id, started.token));
                }
                Ok(v)
            }))
            .await?;
        out.extend(
            batch
                .into_iter()
                .map(|(ticket_id, token)| Visitor { ticket_id, token }),
        );
    }
    Ok(out)
}

/// What the run measures with.
pub struct ChatRun<'a> {
    /// The server's HTTP port on 127.0.0.1.
    pub port: u16,
    /// The server's process, for its memory.
    pub pid: u32,
    /// An admin's browser session (the workspace's cookie).
    pub session: &'a str,
    /// An admin's API token.
    pub token: &'a str,
    /// Messages a second in the delivery run.
    pub rate: usize,
    /// Length of the delivery run.
    pub seconds: u64,
}

/// A command to one visitor's socket task.
struct Send {
    client_id: String,
    body: String,
}

/// Shared results of the socket tasks.
#[derive(Default)]
struct Acks {
    /// Send → ack, microseconds.
    latency: Option<Histogram<u64>>,
    errors: usize,
}

pub async fn run(visitors: &[Visitor], r: &ChatRun<'_>, report: &mut Report) -> anyhow::Result<()> {
    let n = visitors.len();
    let server = SocketAddr::from(([127, 0, 0, 1], r.port));
    let url = format!("ws://127.0.0.1:{}/api/v1/chat/ws", r.port);
    // Let the server settle before taking its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cold, _) = rss_kb_of(r.pid)?;
    // Warm the server's caches as a running server has them: each conversation's token is
    // looked up once over HTTP (a file download that finds no file), so the database's page
    // cache is filled before, not while, the sockets are counted.
    let warm_started = stopwatch();
    warm_up(visitors, r.port).await?;
    let warm_secs = warm_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (before, _) = rss_kb_of(r.pid)?;
    report.add(
        "chat: caches warmed",
        format!(
            "{n} token lookups in {warm_secs:.1} s; server RSS {} MB → {} MB",
            cold / 1024,
            before / 1024
        ),
    );
    let acks = Arc::new(Mutex::new(Acks {
        latency: Some(Histogram::new(3)?),
        errors: 0,
    }));

    // 1. Open every socket, authenticate, and leave it idle.
    let started = stopwatch();
    let mut senders = Vec::with_capacity(n);
    let mut opening = futures::stream::iter(visitors.iter().enumerate().map(|(i, v)| {
        let url = url.clone();
        let token = v.token.clone();
        let acks = acks.clone();
        async move { open_socket(i, server, &url, &token, acks).await }
    }))
    .buffered(64);
    while let Some(s) = opening.next().await {
        senders.push(s?);
    }
    drop(opening);
    let open_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (after, _) = rss_kb_of(r.pid)?;
    #[expect(clippy::cast_precision_loss, reason = "a ratio")]
    let per = after.saturating_sub(before) as f64 / n as f64;
    report.add(
        "chat: idle visitor sockets",
        format!(
            "{n} open and authenticated (opened in {open_secs:.1} s); server RSS {} MB → {} MB, {per:.1} KB per socket",
            before / 1024,
            after / 1024
        ),
    );

    // 2. The agent's live stream. The conversations are with people, as after a handoff:
    // the assistant bot, on by default, would answer each message itself.
    let pending: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let delivered = Arc::new(Mutex::new(Histogram::<u64>::new(3)?));
    let http = reqwest::Client::new();
    http.put(format!("http://127.0.0.1:{}/api/v1/chat/settings", r.port))
        .bearer_auth(r.token)
        .json(&json!({"bot_enabled": false}))
        .send()
        .await?
        .error_for_status()
        .context("turning the bot off")?;
    let live = http
        .get(format!("http://127.0.0.1:{}/live", r.port))
        .header("cookie", format!("rapport_session={}", r.session))
        .send()
        .await?
        .error_for_status()
        .context("the agent's /live stream")?;
    let listener = tokio::spawn(listen(live, pending.clone(), delivered.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;

    // 3. Visitors send at a steady rate, round-robin over the conversations.
    let total = r.rate * usize::try_from(r.seconds)?;
    let gap = Duration::from_secs(1) / u32::try_from(r.rate)?;
    let start = stopwatch();
    for i in 0..total {
        let at = start + gap * u32::try_from(i)?;
        tokio::time::sleep_until(at.into()).await;
        let k = i % n;
        pending
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .insert(visitors[k].ticket_id, stopwatch());
        senders[k]
            .send(Send {
                client_id: format!("bench-{i}"),
                body: format!("Message {i}: is my order on its way?"),
            })
            .await
            .context("a visitor socket ended")?;
    }
    let sent_secs = start.elapsed().as_secs_f64();
    // Wait for the stragglers (up to five seconds).
    for _ in 0..50 {
        if pending
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    listener.abort();
    let lost = pending
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .len();
    let d = delivered
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let (a, errors) = {
        let g = acks.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        (g.latency.clone().unwrap_or(Histogram::new(3)?), g.errors)
    };
    #[expect(clippy::cast_precision_loss, reason = "a rate")]
    let achieved = total as f64 / sent_secs;
    report.add(
        "chat: visitor→agent delivery",
        format!(
            "{total} messages at {achieved:.0}/s over {n} conversations: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} seen by the agent, {lost} not within 5 s",
            ms(&d, 0.5),
            ms(&d, 0.99),
            ms(&d, 1.0),
            d.len()
        ),
    );
    report.add(
        "chat: visitor send→ack (committed)",
        format!(
            "p50 {:.2} ms, p99 {:.2} ms; {errors} error frames",
            ms(&a, 0.5),
            ms(&a, 0.99)
        ),
    );
    if errors > 0 || lost > 0 {
        bail!("{errors} error frames, {lost} messages not delivered");
    }
    Ok(())
}

/// The loopback address of the `i`th visitor: 127.1.x.y, [`PER_ADDRESS`] per address.
fn address_of(i: usize) -> anyhow::Result<IpAddr> {
    let k = i / PER_ADDRESS;
    let (x, y) = (u8::try_from(k / 250)?, u8::try_from(k % 250 + 1)?);
    Ok(IpAddr::V4(Ipv4Addr::new(127, 1, x, y)))
}

/// Looks each visitor's token up once (`GET /api/v1/chat/files/0` → 404), from the
/// visitor's own loopback address, ten at a time per address as the sockets will be.
async fn warm_up(visitors: &[Visitor], port: u16) -> anyhow::Result<()> {
    let url = format!("http://127.0.0.1:{port}/api/v1/chat/files/0");
    let chunks: Vec<_> = visitors.chunks(PER_ADDRESS).enumerate().collect();
    let mut lookups = futures::stream::iter(chunks.into_iter().map(|(k, chunk)| {
        let url = url.clone();
        async move {
            let http = reqwest::Client::builder()
                .local_address(address_of(k * PER_ADDRESS)?)
                .build()?;
            for v in chunk {
                let status = http.get(&url).bearer_auth(&v.token).send().await?.status();
                if status != reqwest::StatusCode::NOT_FOUND {
                    bail!("warming up: {status} for a visitor's token");
                }
            }
            Ok::<_, anyhow::Error>(())
        }
    }))
    .buffer_unordered(16);
    while let Some(r) = lookups.next().await {
        r?;
    }
    Ok(())
}

/// Opens and authenticates one visitor socket and leaves a task owning it: it sends what
/// it is told and records the acks.
async fn open_socket(
    i: usize,
    server: SocketAddr,
    url: &str,
    token: &str,
    acks: Arc<Mutex<Acks>>,
) -> anyhow::Result<mpsc::Sender<Send>> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(address_of(i)?, 0))?;
    let stream = socket.connect(server).await?;
    // The bench holds as many sockets as the server: small buffers on this side too.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .with_context(|| format!("visitor {i}: upgrade"))?;
    ws.send(Message::text(
        json!({"type": "auth", "token": token}).to_string(),
    ))
    .await?;
    loop {
        let frame = ws
            .next()
            .await
            .with_context(|| format!("visitor {i}: closed before ready"))??;
        if let Message::Text(t) = frame {
            let v: serde_json::Value = serde_json::from_str(&t)?;
            match v["type"].as_str() {
                Some("ready") => break,
                _ => bail!("visitor {i}: {t}"),
            }
        }
    }
    let (tx, mut rx) = mpsc::channel::<Send>(4);
    tokio::spawn(async move {
        let mut sent_at: HashMap<String, Instant> = HashMap::new();
        loop {
            tokio::select! {
                cmd = rx.recv() => {
                    let Some(cmd) = cmd else { break };
                    let frame = json!({"type": "message", "client_id": cmd.client_id, "body": cmd.body});
                    sent_at.insert(cmd.client_id, stopwatch());
                    if ws.send(Message::text(frame.to_string())).await.is_err() {
                        break;
                    }
                }
                frame = ws.next() => {
                    let Some(Ok(frame)) = frame else { break };
                    let Message::Text(t) = frame else { continue };
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&t) else { continue };
                    let Ok(mut g) = acks.lock() else { break };
                    match v["type"].as_str() {
                        Some("ack") => {
                            let id = v["client_id"].as_str().unwrap_or_default();
                            if let Some(t0) = sent_at.remove(id)
                                && let Some(h) = g.latency.as_mut()
                            {
                                let us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
                                let _ = h.record(us);
                            }
                        }
                        Some("error") => {
                            g.errors += 1;
                            eprintln!("visitor {i}: {t}");
                        }
                        _ => {}
                    }
                }
            }
        }
    });
    Ok(tx)
}

/// Reads the agent's `/live` stream: each `ticket` event for a ticket with a message in
/// flight records the time since it was sent.
async fn listen(
    mut live: reqwest::Response,
    pending: Arc<Mutex<HashMap<i64, Instant>>>,
    delivered: Arc<Mutex<Histogram<u64>>>,
) {
    let mut buf = String::new();
    while let Ok(Some(chunk)) = live.chunk().await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find('\n') {
            let line: String = buf.drain(..=end).collect();
            let Some(data) = line.trim_end().strip_prefix("data:") else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
                continue;
            };
            let Some(ticket) = v["ticket_id"].as_i64() else {
                continue;
            };
            let t0 = pending.lock().ok().and_then(|mut p| p.remove(&ticket));
            if let Some(t0) = t0
                && let Ok(mut h) = delivered.lock()
            {
                let us = u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX);
                let _ = h.record(us);
            }
        }
    }
}
