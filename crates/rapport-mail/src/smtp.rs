//! The SMTP and LMTP listener. It accepts mail only for configured mailboxes (550 for
//! every other recipient: never an open relay), advertises and enforces SIZE (552), and
//! answers 250 only after the raw message is committed to the database — a crash after
//! 250 loses nothing. The same Message-ID delivered twice to a mailbox is kept once.
//!
//! Recipients are a set: a message is stored once per distinct mailbox, however many
//! RCPT commands name it (in any case), and at most `max_recipients` RCPTs are taken per
//! envelope (452 beyond). Sessions and messages per client are limited by
//! [`crate::smtp_limits`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rapport_domain::Clock;

use crate::smtp_limits::{Admission, Slot, SmtpLimits};
use rapport_store::op;
use rapport_store::{Db, mail};
use smtp_proto::request::receiver::{DataReceiver, RequestReceiver};
use smtp_proto::{Error as ProtoError, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

/// Now on tokio's timer: socket deadlines are waited on by tokio's timer, which the
/// domain clock cannot move.
#[expect(
    clippy::disallowed_methods,
    reason = "socket deadlines are on tokio's timer, not the domain clock"
)]
fn mono_now() -> Instant {
    Instant::now()
}

/// Says why the session ends when a command or the session ran out of time.
async fn timed_out(sock: &mut Box<dyn Io>) -> std::io::Result<()> {
    let _ = tokio::time::timeout(
        Duration::from_secs(10),
        sock.write_all(b"421 4.4.2 Timeout, closing connection\r\n"),
    )
    .await;
    Ok(())
}

/// How the listener behaves.
#[derive(Clone)]
pub struct SmtpConfig {
    /// The name in the greeting.
    pub hostname: String,
    /// The largest message accepted, in bytes.
    pub max_size: usize,
    /// STARTTLS, offered when a certificate is configured.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Recipients, sessions and messages per client.
    pub limits: SmtpLimits,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("hostname", &self.hostname)
            .field("max_size", &self.max_size)
            .field("tls", &self.tls.is_some())
            .field("limits", &self.limits)
            .finish()
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            hostname: "rapport".into(),
            max_size: 30 * 1024 * 1024,
            tls: None,
            limits: SmtpLimits::default(),
        }
    }
}

/// The STARTTLS acceptor for a PEM certificate chain and private key.
pub fn tls_acceptor(cert_pem: &str, key_pem: &str) -> Result<tokio_rustls::TlsAcceptor, String> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert_pem)
        .map_err(|e| format!("reading {cert_pem}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("reading {cert_pem}: {e}"))?;
    let key =
        PrivateKeyDer::from_pem_file(key_pem).map_err(|e| format!("reading {key_pem}: {e}"))?;
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup: {e}"))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("the SMTP certificate: {e}"))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A client connection, plain or upgraded to TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Accepts connections until `stop`; each is served on its own task. A connection past
/// the session limits (or from a client past its message allowance) is answered `421`
/// and closed.
pub async fn serve(
    listener: TcpListener,
    db: Db,
    clock: Arc<dyn Clock>,
    config: SmtpConfig,
    mut stop: watch::Receiver<bool>,
) {
    let admission = Arc::new(Admission::new(config.limits, Arc::clone(&clock)));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((mut sock, peer)) => {
                        // Replies are small and awaited one by one: never hold them back.
                        let _ = sock.set_nodelay(true);
                        let slot = match admission.admit(peer.ip()) {
                            Ok(slot) => slot,
                            Err(refusal) => {
                                tracing::info!(peer = %peer.ip(), ?refusal, "smtp connection refused");
                                tokio::spawn(async move {
                                    let _ = tokio::time::timeout(
                                        Duration::from_secs(10),
                                        sock.write_all(refusal.reply().as_bytes()),
                                    )
                                    .await;
                                });
                                continue;
                            }
                        };
                        let (db, clock, config) = (db.clone(), Arc::clone(&clock), config.clone());
                        let admission = Arc::clone(&admission);
                        tokio::spawn(async move {
                            // Past its deadline (and a little for the last reply) a
                            // session ends even when stuck writing to a client that
                            // does not read.
                            let hard = config.limits.session_timeout + Duration::from_secs(30);
                            let session = Session { db, clock, config, peer, admission, slot };
                            match tokio::time::timeout(hard, session.run(Box::new(sock))).await {
                                Ok(Err(e)) => tracing::debug!(error = %e, "smtp session ended"),
                                Err(_) => tracing::info!(peer = %peer.ip(), "smtp session cut at its deadline"),
                                Ok(Ok(())) => {}
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "smtp accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
            _ = stop.changed() => return,
        }
    }
}

struct Session {
    db: Db,
    clock: Arc<dyn Clock>,
    config: SmtpConfig,
    peer: SocketAddr,
    admission: Arc<Admission>,
    /// This session's place among the open ones.
    slot: Slot,
}

#[derive(Default)]
struct Envelope {
    from: Option<String>,
    /// RCPT commands taken (accepted or not), against `max_recipients`.
    rcpts: usize,
    /// The mailbox of each accepted RCPT, in order (LMTP answers once per accepted RCPT).
    accepted: Vec<i64>,
}

impl Envelope {
    /// The distinct mailboxes the message goes to: each gets one copy.
    fn mailboxes(&self) -> std::collections::BTreeSet<i64> {
        self.accepted.iter().copied().collect()
    }
}

impl Session {
    async fn run(mut self, mut sock: Box<dyn Io>) -> std::io::Result<()> {
        let host = self.config.hostname.clone();
        sock.write_all(format!("220 {host} Rapport ESMTP ready\r\n").as_bytes())
            .await?;
        let mut receiver = RequestReceiver::default();
        let mut env = Envelope::default();
        let mut lmtp = false;
        let mut secure = false;
        let mut buf = vec![0u8; 8192];
        let mut pending: Vec<u8> = Vec::new();
        let limits = self.config.limits;
        // The whole session has a deadline, and so has each command: a client that sends
        // a byte now and then still runs out of time.
        let session_end = mono_now() + limits.session_timeout;
        let mut command_end = session_end.min(mono_now() + limits.command_timeout);
        loop {
            // Take the next command, reading more bytes when the buffer holds none.
            let mut iter = pending.iter();
            let parsed = receiver.ingest(&mut iter).map(|r| match r {
                Request::Ehlo { host } => Request::Ehlo {
                    host: host.into_owned(),
                },
                Request::Lhlo { host } => Request::Lhlo {
                    host: host.into_owned(),
                },
                Request::Helo { host } => Request::Helo {
                    host: host.into_owned(),
                },
                Request::Mail { from } => Request::Mail {
                    from: from.into_owned(),
                },
                Request::Rcpt { to } => Request::Rcpt {
                    to: to.into_owned(),
                },
                Request::Data => Request::Data,
                Request::Rset => Request::Rset,
                Request::Quit => Request::Quit,
                Request::StartTls => Request::StartTls,
                Request::Noop { .. } => Request::Noop {
                    value: String::new(),
                },
                _ => Request::Help {
                    value: String::new(),
                },
            });
            let rest = iter.as_slice().to_vec();
            pending = rest;
            let request = match parsed {
                Ok(r) => {
                    // A busy client is answered at once, so the session's deadline is
                    // checked here too, not only while waiting.
                    if mono_now() >= session_end {
                        return timed_out(&mut sock).await;
                    }
                    // The next command gets its own time, within the session's.
                    command_end = session_end.min(mono_now() + limits.command_timeout);
                    r
                }
                Err(ProtoError::NeedsMoreData { .. }) => {
                    if mono_now() >= command_end {
                        return timed_out(&mut sock).await;
                    }
                    let Ok(n) = tokio::time::timeout_at(command_end, sock.read(&mut buf)).await
                    else {
                        return timed_out(&mut sock).await;
                    };
                    let n = n?;
                    if n == 0 {
                        return Ok(());
                    }
                    pending.extend_from_slice(&buf[..n]);
                    continue;
                }
                Err(ProtoError::UnknownCommand) => {
                    sock.write_all(b"500 5.5.1 Unknown command\r\n").await?;
                    continue;
                }
                Err(ProtoError::ResponseTooLong) => {
                    sock.write_all(b"500 5.5.2 Line too long\r\n").await?;
                    continue;
                }
                Err(_) => {
                    sock.write_all(b"501 5.5.4 Syntax error in parameters\r\n")
                        .await?;
                    continue;
                }
            };
            let reply: String = match request {
                Request::Ehlo { .. } | Request::Lhlo { .. } => {
                    lmtp = matches!(request, Request::Lhlo { .. });
                    env = Envelope::default();
                    let starttls = if self.config.tls.is_some() && !secure {
                        "250-STARTTLS\r\n"
                    } else {
                        ""
                    };
                    format!(
                        "250-{host} greets you\r\n250-SIZE {}\r\n250-8BITMIME\r\n250-PIPELINING\r\n{starttls}250 ENHANCEDSTATUSCODES\r\n",
                        self.config.max_size
                    )
                }
                Request::Helo { .. } => {
                    env = Envelope::default();
                    format!("250 {host}\r\n")
                }
                Request::Mail { from } => {
                    if from.size > self.config.max_size {
                        "552 5.3.4 Message size exceeds the fixed maximum\r\n".into()
                    } else if self.admission.over_message_allowance(self.peer.ip()) {
                        "450 4.7.0 Too many messages from your address, try again later\r\n".into()
                    } else {
                        env = Envelope {
                            from: Some(from.address),
                            ..Envelope::default()
                        };
                        "250 2.1.0 Sender OK\r\n".into()
                    }
                }
                Request::Rcpt { to } => {
                    if env.from.is_none() {
                        "503 5.5.1 MAIL first\r\n".into()
                    } else if env.rcpts >= self.config.limits.max_recipients {
                        "452 4.5.3 Too many recipients\r\n".into()
                    } else {
                        env.rcpts += 1;
                        let addr = to.address.clone();
                        match self
                            .db
                            .read(op!(c => mail::mailbox_for(c, &addr).await))
                            .await
                        {
                            Ok(Some(id)) => {
                                env.accepted.push(id);
                                "250 2.1.5 Recipient OK\r\n".into()
                            }
                            Ok(None) => {
                                "550 5.1.1 No such mailbox here; this server does not relay\r\n"
                                    .into()
                            }
                            Err(_) => "451 4.3.0 Temporary failure, try again later\r\n".into(),
                        }
                    }
                }
                Request::Data => {
                    if env.accepted.is_empty() {
                        sock.write_all(b"503 5.5.1 RCPT first\r\n").await?;
                        continue;
                    }
                    sock.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let (raw, too_big) = self
                        .read_data(&mut sock, &mut pending, &mut buf, session_end)
                        .await?;
                    command_end = session_end.min(mono_now() + limits.command_timeout);
                    self.admission.count_message(self.peer.ip());
                    let replies = if too_big {
                        vec![
                            "552 5.3.4 Message size exceeds the fixed maximum\r\n".to_owned();
                            if lmtp { env.accepted.len() } else { 1 }
                        ]
                    } else {
                        self.commit(&env, raw, lmtp).await
                    };
                    env = Envelope::default();
                    replies.concat()
                }
                Request::Rset => {
                    env = Envelope::default();
                    "250 2.0.0 Reset\r\n".into()
                }
                Request::Noop { .. } => "250 2.0.0 OK\r\n".into(),
                Request::Quit => {
                    self.slot.release();
                    sock.write_all(b"221 2.0.0 Bye\r\n").await?;
                    return Ok(());
                }
                Request::StartTls => match (&self.config.tls, secure) {
                    (Some(acceptor), false) => {
                        sock.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
                        // Anything pipelined after STARTTLS was sent in the clear: drop it.
                        pending.clear();
                        let plain = std::mem::replace(
                            &mut sock,
                            Box::new(tokio::io::join(tokio::io::empty(), tokio::io::sink())),
                        );
                        let Ok(tls) =
                            tokio::time::timeout_at(command_end, acceptor.accept(plain)).await
                        else {
                            return Err(std::io::Error::other("timed out in the TLS handshake"));
                        };
                        sock = Box::new(tls?);
                        secure = true;
                        receiver = RequestReceiver::default();
                        env = Envelope::default();
                        continue;
                    }
                    (Some(_), true) => "503 5.5.1 TLS already active\r\n".into(),
                    (None, _) => "454 4.7.0 TLS not available\r\n".into(),
                },
                _ => "502 5.5.1 Command not implemented\r\n".into(),
            };
            sock.write_all(reply.as_bytes()).await?;
        }
    }

    /// Reads the message after DATA up to the final dot; past the size limit it keeps
    /// reading (to stay in step with the client) but keeps nothing.
    async fn read_data(
        &self,
        sock: &mut Box<dyn Io>,
        pending: &mut Vec<u8>,
        buf: &mut [u8],
        session_end: Instant,
    ) -> std::io::Result<(Vec<u8>, bool)> {
        let mut data = DataReceiver::new();
        let mut raw = Vec::new();
        let mut too_big = false;
        loop {
            let mut iter = pending.iter();
            let done = data.ingest(&mut iter, &mut raw);
            *pending = iter.as_slice().to_vec();
            if raw.len() > self.config.max_size {
                too_big = true;
                raw.clear();
            }
            if done {
                return Ok((raw, too_big));
            }
            let limits = self.config.limits;
            if mono_now() >= session_end {
                timed_out(sock).await?;
                return Err(std::io::Error::other("timed out during DATA"));
            }
            let read_end = session_end.min(mono_now() + limits.command_timeout);
            let Ok(n) = tokio::time::timeout_at(read_end, sock.read(buf)).await else {
                timed_out(sock).await?;
                return Err(std::io::Error::other("timed out during DATA"));
            };
            let n = n?;
            if n == 0 {
                return Err(std::io::Error::other("connection closed during DATA"));
            }
            pending.extend_from_slice(&buf[..n]);
        }
    }

    /// Commits the message once per distinct mailbox and answers: one reply for SMTP,
    /// one per accepted recipient for LMTP (the reply of its mailbox's copy).
    async fn commit(&self, env: &Envelope, raw: Vec<u8>, lmtp: bool) -> Vec<String> {
        let message_id = crate::parse::message_id(&raw);
        let from = env.from.clone().unwrap_or_default();
        let mut replies = std::collections::BTreeMap::new();
        for mailbox in env.mailboxes() {
            let (raw, from, mid) = (raw.clone(), from.clone(), message_id.clone());
            let now = self.clock.now();
            let stored = self
                .db
                .write(op!(c => {
                    mail::store_inbound(c, mailbox, &from, mid.as_deref(), raw, now).await
                }))
                .await;
            let reply = match stored {
                Ok(_) => "250 2.0.0 Message accepted\r\n".to_owned(),
                Err(e) => {
                    tracing::error!(error = %e, peer = %self.peer, "could not store inbound mail");
                    "451 4.3.0 Could not store the message, try again later\r\n".to_owned()
                }
            };
            replies.insert(mailbox, reply);
        }
        if lmtp {
            return env
                .accepted
                .iter()
                .map(|m| replies.get(m).cloned().unwrap_or_default())
                .collect();
        }
        // SMTP has one answer for the message: success only if every copy was kept.
        let ok = replies.values().all(|r| r.starts_with("250"));
        vec![if ok {
            "250 2.0.0 Message accepted\r\n".into()
        } else {
            "451 4.3.0 Could not store the message, try again later\r\n".into()
        }]
    }
}
