//! Fetching mail from existing mailboxes over IMAP, supervised.
//!
//! Each mailbox with IMAP settings gets its own task: it connects, takes every message
//! past its stored position (UIDVALIDITY + last UID) one by one — storing the raw message
//! and moving the position in one transaction — then flags the message seen (or moves
//! it) on the server, and waits for the next poll. A failure (server down, wrong
//! password) is recorded on the mailbox and retried with a growing delay; once the
//! server is back the position makes it backfill everything that arrived meanwhile. A
//! message that is too large, or that the server refuses to hand over, is set aside with
//! its reason and never blocks the ones after it. Stalled mailboxes show in the workspace
//! and in the metrics ([`rapport_store::imap::health`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use futures::TryStreamExt;
use rapport_domain::Clock;
use rapport_store::imap::{self as store, ImapMailbox, Position};
use rapport_store::op;
use rapport_store::secrets::Sealer;
use rapport_store::{Db, StoreError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// How fetching behaves.
#[derive(Debug, Clone)]
pub struct ImapConfig {
    /// Time between polls of a healthy mailbox.
    pub poll: Duration,
    /// The longest wait between attempts when a server keeps failing.
    pub max_backoff: Duration,
    /// Messages larger than this are set aside, not fetched.
    pub max_bytes: u32,
    /// How long one connection attempt, login or command may take.
    pub timeout: Duration,
    /// Certificate authorities trusted besides the public ones (a company's own), DER.
    pub extra_roots: Vec<Vec<u8>>,
}

impl ImapConfig {
    /// Adds the certificates of a PEM file to [`ImapConfig::extra_roots`].
    pub fn trust_pem_file(&mut self, path: &str) -> Result<(), String> {
        use tokio_rustls::rustls::pki_types::CertificateDer;
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        for cert in
            CertificateDer::pem_file_iter(path).map_err(|e| format!("reading {path}: {e}"))?
        {
            let cert = cert.map_err(|e| format!("reading {path}: {e}"))?;
            self.extra_roots.push(cert.to_vec());
        }
        Ok(())
    }
}

impl Default for ImapConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(30),
            max_backoff: Duration::from_secs(300),
            max_bytes: 25 * 1024 * 1024,
            timeout: Duration::from_secs(60),
            extra_roots: Vec::new(),
        }
    }
}

/// A connection to an IMAP server, plain or TLS.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Stream for T {}

async fn connect(
    host: &str,
    port: u16,
    tls: bool,
    extra_roots: &[Vec<u8>],
) -> Result<Box<dyn Stream>, String> {
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("cannot reach {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    if !tls {
        return Ok(Box::new(tcp));
    }
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra_roots {
        roots
            .add(tokio_rustls::rustls::pki_types::CertificateDer::from(
                der.clone(),
            ))
            .map_err(|e| format!("a trusted certificate authority: {e}"))?;
    }
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| format!("bad TLS server name {host:?}: {e}"))?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {host}:{port} failed: {e}"))?;
    Ok(Box::new(stream))
}

/// What a fetch round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    /// Messages stored (duplicates of ones already received included).
    pub stored: usize,
    /// Messages set aside.
    pub set_aside: usize,
}

async fn within<T>(
    limit: Duration,
    what: &str,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(limit, f)
        .await
        .map_err(|_| format!("the server did not answer {what} within {limit:?}"))?
}

/// One fetch round for one mailbox: connect, take everything past the position, flag or
/// move each message after its commit.
pub async fn fetch_once(
    db: &Db,
    clock: &Arc<dyn Clock>,
    sealer: &Sealer,
    cfg: &ImapConfig,
    mb: &ImapMailbox,
) -> Result<Fetched, String> {
    let s = &mb.settings;
    let password = sealer.open(&s.sealed_password)?;
    let stream = within(
        cfg.timeout,
        "the connection",
        connect(&s.host, s.port, s.tls, &cfg.extra_roots),
    )
    .await?;
    let mut client = Client::new(stream);
    within(cfg.timeout, "with a greeting", async {
        match client.read_response().await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err("the server closed the connection".to_owned()),
            Err(e) => Err(format!("reading the greeting: {e}")),
        }
    })
    .await?;
    let mut session = within(cfg.timeout, "the login", async {
        client
            .login(&s.user, &password)
            .await
            .map_err(|(e, _)| format!("login refused: {e}"))
    })
    .await?;
    let folder = within(cfg.timeout, "SELECT", async {
        session
            .select(&s.folder)
            .await
            .map_err(|e| format!("cannot open folder {:?}: {e}", s.folder))
    })
    .await?;
    let validity = i64::from(
        folder
            .uid_validity
            .ok_or("the server gives no UIDVALIDITY for the folder")?,
    );
    let mut last = match mb.uidvalidity {
        Some(v) if v == validity => mb.last_uid,
        _ => {
            let id = mb.id;
            db.write(op!(c => store::reset_position(c, id, validity).await))
                .await
                .map_err(|e| e.to_string())?
        }
    };
    let mut done = Fetched::default();
    if folder.exists == 0 {
        let _ = session.logout().await;
        return Ok(done);
    }
    let mut pending: Vec<(u32, u32)> = within(cfg.timeout, "the message list", async {
        let fetches: Vec<_> = session
            .uid_fetch(format!("{}:*", last + 1), "(UID RFC822.SIZE)")
            .await
            .map_err(|e| format!("listing messages: {e}"))?
            .try_collect()
            .await
            .map_err(|e| format!("listing messages: {e}"))?;
        Ok(fetches
            .iter()
            .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0))))
            .filter(|(uid, _)| i64::from(*uid) > last)
            .collect())
    })
    .await?;
    pending.sort_unstable();
    for (uid, size) in pending {
        let at = Position {
            uidvalidity: validity,
            from_uid: last,
            uid: i64::from(uid),
        };
        let now = clock.now();
        let id = mb.id;
        let taken = if let Some(reason) = too_large(uid, size, None, cfg.max_bytes) {
            db.write(op!(c => store::set_aside(c, id, at, i64::from(size), &reason, now).await))
                .await
                .map(|()| false)
        } else {
            // At most one byte past the cap: enough to tell a message that is too large,
            // whatever size the server declared for it.
            let query = format!("BODY.PEEK[]<0.{}>", u64::from(cfg.max_bytes) + 1);
            let body = within(cfg.timeout, "a message", async {
                let r: Result<Vec<_>, _> = match session.uid_fetch(uid.to_string(), &query).await {
                    Ok(fetches) => fetches.try_collect().await,
                    Err(e) => Err(e),
                };
                Ok(match r {
                    Ok(fs) => Ok(fs
                        .iter()
                        .find(|f| f.uid == Some(uid))
                        .and_then(|f| f.body().map(<[u8]>::to_vec))),
                    Err(e) => Err((refused(&e), e.to_string())),
                })
            })
            .await?;
            match body {
                Ok(Some(raw)) if too_large(uid, size, Some(raw.len()), cfg.max_bytes).is_some() => {
                    let reason =
                        too_large(uid, size, Some(raw.len()), cfg.max_bytes).unwrap_or_default();
                    let got = i64::try_from(raw.len()).unwrap_or(i64::MAX);
                    db.write(op!(c => store::set_aside(c, id, at, got, &reason, now).await))
                        .await
                        .map(|()| false)
                }
                Ok(Some(raw)) => {
                    let mid = crate::parse::message_id(&raw);
                    db.write(op!(c => {
                        store::commit_fetched(c, id, at, mid.as_deref(), raw, now).await
                    }))
                    .await
                    .map(|_| true)
                }
                // The server would not hand this one over: set it aside, go on.
                Ok(None) | Err((true, _)) => {
                    let why = match body {
                        Err((_, e)) => e,
                        _ => "the server sent no content".to_owned(),
                    };
                    let reason = format!("UID {uid}: could not be fetched: {why}");
                    db.write(op!(c => {
                        store::set_aside(c, id, at, i64::from(size), &reason, now).await
                    }))
                    .await
                    .map(|()| false)
                }
                Err((false, e)) => return Err(e),
            }
        };
        let stored = match taken {
            Ok(stored) => stored,
            // Another node took this message first: it carries on from here.
            Err(StoreError::Conflict(_)) => break,
            Err(e) => return Err(e.to_string()),
        };
        last = i64::from(uid);
        if stored {
            done.stored += 1;
            after_commit(&mut session, cfg, uid, s.move_to.as_deref()).await?;
        } else {
            done.set_aside += 1;
        }
    }
    let _ = session.logout().await;
    Ok(done)
}

/// Why a message is too large to take, or `None` when it may be taken: judged first by
/// the size the server declares (`fetched` is `None`, before fetching), then by the bytes
/// that really came — a server may declare less than it holds, so the declared size
/// alone never lets a message in.
pub fn too_large(
    uid: u32,
    declared: u32,
    fetched: Option<usize>,
    max_bytes: u32,
) -> Option<String> {
    match fetched {
        None if declared > max_bytes => Some(format!(
            "UID {uid}: {declared} bytes is more than the {max_bytes} allowed; left on the server"
        )),
        Some(n) if u64::try_from(n).unwrap_or(u64::MAX) > u64::from(max_bytes) => Some(format!(
            "UID {uid}: more than the {max_bytes} bytes allowed (the server declared {declared}); left on the server"
        )),
        _ => None,
    }
}

/// True when the server answered (NO, BAD, an unreadable response) rather than the
/// connection failing: the message is at fault, not the link.
fn refused(e: &async_imap::error::Error) -> bool {
    use async_imap::error::Error;
    matches!(e, Error::No(_) | Error::Bad(_) | Error::Parse(_))
}

/// Flags a committed message seen, or moves it, on the server. Only after the commit: a
/// crash before this leaves it unflagged, never lost; the position keeps it from being
/// taken twice.
async fn after_commit<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug>(
    session: &mut async_imap::Session<T>,
    cfg: &ImapConfig,
    uid: u32,
    move_to: Option<&str>,
) -> Result<(), String> {
    within(cfg.timeout, "flagging a message", async {
        match move_to {
            Some(dest) => session
                .uid_mv(uid.to_string(), dest)
                .await
                .map_err(|e| format!("moving UID {uid} to {dest:?}: {e}")),
            None => {
                let _: Vec<_> = session
                    .uid_store(uid.to_string(), "+FLAGS.SILENT (\\Seen)")
                    .await
                    .map_err(|e| format!("flagging UID {uid} seen: {e}"))?
                    .try_collect()
                    .await
                    .map_err(|e| format!("flagging UID {uid} seen: {e}"))?;
                Ok(())
            }
        }
    })
    .await
}

/// Runs one mailbox until it loses its IMAP settings or `stop` is raised: fetch, record
/// the outcome, wait (the poll interval, or a doubling backoff after failures).
pub async fn run_mailbox(
    db: Db,
    clock: Arc<dyn Clock>,
    sealer: Sealer,
    cfg: ImapConfig,
    mailbox_id: i64,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        if *stop.borrow() {
            return;
        }
        let mb = match db.read(op!(c => store::mailbox(c, mailbox_id).await)).await {
            Ok(Some(mb)) => mb,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, mailbox = mailbox_id, "cannot read the mailbox");
                wait(&mut stop, backoff).await;
                continue;
            }
        };
        let wait_for = match fetch_once(&db, &clock, &sealer, &cfg, &mb).await {
            Ok(done) => {
                if done.stored + done.set_aside > 0 {
                    tracing::info!(
                        mailbox = mb.id,
                        stored = done.stored,
                        set_aside = done.set_aside,
                        "fetched mail"
                    );
                }
                let now = clock.now();
                let r = db
                    .write(op!(c => store::fetch_succeeded(c, mailbox_id, now).await))
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cannot record a fetch");
                }
                backoff = Duration::from_secs(1);
                cfg.poll
            }
            Err(error) => {
                tracing::warn!(mailbox = mb.id, %error, retry_in = ?backoff, "fetching failed");
                let r = db
                    .write(op!(c => store::fetch_failed(c, mailbox_id, &error).await))
                    .await;
                if let Err(e) = r {
                    tracing::warn!(error = %e, "cannot record a fetch failure");
                }
                let this = backoff;
                backoff = (backoff * 2).min(cfg.max_backoff);
                this
            }
        };
        wait(&mut stop, wait_for).await;
    }
}

async fn wait(stop: &mut watch::Receiver<bool>, d: Duration) {
    tokio::select! {
        () = tokio::time::sleep(d) => {}
        _ = stop.changed() => {}
    }
}

/// Keeps one [`run_mailbox`] task per mailbox with IMAP settings, picking up mailboxes
/// added later and restarting a task that ended, until `stop` is raised.
pub async fn supervise(
    db: Db,
    clock: Arc<dyn Clock>,
    sealer: Sealer,
    cfg: ImapConfig,
    mut stop: watch::Receiver<bool>,
) {
    let mut tasks: HashMap<i64, tokio::task::JoinHandle<()>> = HashMap::new();
    loop {
        tasks.retain(|_, t| !t.is_finished());
        match db.read(op!(c => store::mailboxes(c).await)).await {
            Ok(list) => {
                for mb in list {
                    tasks.entry(mb.id).or_insert_with(|| {
                        tokio::spawn(run_mailbox(
                            db.clone(),
                            Arc::clone(&clock),
                            sealer.clone(),
                            cfg.clone(),
                            mb.id,
                            stop.clone(),
                        ))
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list the IMAP mailboxes"),
        }
        if *stop.borrow() {
            break;
        }
        wait(&mut stop, cfg.poll.min(Duration::from_secs(10))).await;
    }
    for (_, t) in tasks {
        let _ = t.await;
    }
}

#[cfg(test)]
mod tests {
    use super::too_large;

    #[test]
    fn the_real_size_decides_not_the_declared_one() {
        // Declared too large: set aside before fetching.
        assert!(
            too_large(3, 30_000, None, 20_000)
                .unwrap()
                .contains("UID 3")
        );
        // Declared small, honest: taken.
        assert_eq!(too_large(1, 100, None, 20_000), None);
        assert_eq!(too_large(1, 100, Some(100), 20_000), None);
        assert_eq!(too_large(1, 20_000, Some(20_000), 20_000), None);
        // Declared small, but more came: set aside, saying so.
        let why = too_large(7, 100, Some(20_001), 20_000).unwrap();
        assert!(
            why.contains("UID 7") && why.contains("declared 100"),
            "{why}"
        );
    }
}
