//! Sending agents' replies by email through an SMTP relay (`RAPPORT_SMTP_RELAY`), from the
//! mailbox the conversation came in on, with a stable Message-ID, In-Reply-To and
//! References so the customer's mail client threads it, `[#number]` in the subject, and
//! text and HTML parts. Runs as a job: a relay that is down is retried with backoff.

use futures::future::BoxFuture;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use rapport_domain::text::escape_html;
use rapport_jobs::Handler;
use rapport_store::Db;
use rapport_store::jobs::Job;
use rapport_store::mail::{self, Outgoing};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelaySecurity {
    /// No TLS (a relay on the same host or network).
    Plain,
    /// Plain connection upgraded with STARTTLS, required (`?tls=starttls`).
    StartTls,
    /// TLS from the first byte (`smtps://`, port 465).
    Tls,
}

/// Where replies go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// Relay host.
    pub host: String,
    /// Relay port.
    pub port: u16,
    /// User and password, when the relay wants them.
    pub credentials: Option<(String, String)>,
    /// TLS or not.
    pub security: RelaySecurity,
    /// A PEM file with an extra certificate authority to trust (a private relay's).
    pub ca_file: Option<String>,
}

impl Relay {
    /// A plain relay at `host:port` without login.
    pub fn plain(host: &str, port: u16) -> Self {
        Self {
            host: host.to_owned(),
            port,
            credentials: None,
            security: RelaySecurity::Plain,
            ca_file: None,
        }
    }

    /// Parses `smtp://[user:password@]host[:port][?tls=starttls][&ca=/path/ca.pem]` (port
    /// 25) or `smtps://…` (TLS from the start, port 465).
    pub fn parse(url: &str) -> Result<Self, String> {
        const SHAPE: &str = "RAPPORT_SMTP_RELAY must look like smtp://[user:password@]host[:port][?tls=starttls] or smtps://…";
        let (mut security, rest) = if let Some(r) = url.strip_prefix("smtp://") {
            (RelaySecurity::Plain, r)
        } else if let Some(r) = url.strip_prefix("smtps://") {
            (RelaySecurity::Tls, r)
        } else {
            return Err(SHAPE.into());
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut ca_file = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("tls", "starttls" | "required")) if security == RelaySecurity::Plain => {
                    security = RelaySecurity::StartTls;
                }
                Some(("tls", "none" | "off")) if security == RelaySecurity::Plain => {}
                Some(("ca", path)) if !path.is_empty() => ca_file = Some(path.to_owned()),
                _ => return Err(format!("unknown relay option {pair:?}: {SHAPE}")),
            }
        }
        let (creds, hostport) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        let hostport = hostport.trim_end_matches('/');
        let default_port = if security == RelaySecurity::Tls {
            465
        } else {
            25
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("bad relay port {p:?}"))?,
            ),
            None => (hostport, default_port),
        };
        if host.is_empty() {
            return Err("the relay needs a host".into());
        }
        let credentials = creds.map(|c| match c.split_once(':') {
            Some((u, p)) => (u.to_owned(), p.to_owned()),
            None => (c.to_owned(), String::new()),
        });
        Ok(Self {
            host: host.to_owned(),
            port,
            credentials,
            security,
            ca_file,
        })
    }

    /// The TLS settings for this relay: the system's web roots plus `ca_file`.
    fn tls(&self) -> Result<lettre::transport::smtp::client::TlsParameters, String> {
        use lettre::transport::smtp::client::{Certificate, TlsParameters};
        let mut b = TlsParameters::builder(self.host.clone());
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path).map_err(|e| format!("reading {path}: {e}"))?;
            let cert =
                Certificate::from_pem(&pem).map_err(|e| format!("the certificate {path}: {e}"))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| format!("TLS settings for the relay: {e}"))
    }
}

/// The Message-ID of a reply: stable, so a retried delivery is the same message.
pub fn message_id_for(out: &Outgoing, domain: &str) -> String {
    format!("rapport.{}.{}@{domain}", out.ticket_id, out.message_id)
}

/// The HTML part of a plain-text mail: paragraphs, line breaks, everything escaped.
pub(crate) fn html_of(text: &str) -> String {
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", escape_html(p).replace('\n', "<br>")))
        .collect();
    format!(
        "<!doctype html><html><body>{}</body></html>",
        paragraphs.join("")
    )
}

/// Builds the email for a reply.
pub fn build(out: &Outgoing) -> Result<(Message, String), String> {
    let (from_addr, from_name) = out
        .from
        .clone()
        .ok_or("no mailbox to send from: add one with POST /api/v1/mailboxes")?;
    let domain = from_addr
        .rsplit_once('@')
        .map_or("rapport.invalid", |(_, d)| d)
        .to_owned();
    let id = message_id_for(out, &domain);
    let from: Mailbox = format!("{from_name} <{from_addr}>")
        .parse()
        .or_else(|_| from_addr.parse())
        .map_err(|e| format!("mailbox address: {e}"))?;
    let to: Mailbox = if out.to.1.is_empty() {
        out.to.0.parse()
    } else {
        format!("{} <{}>", out.to.1.replace(['"', '<', '>'], ""), out.to.0).parse()
    }
    .map_err(|e| format!("customer address: {e}"))?;
    let tag = format!("[#{}]", out.number);
    let subject = if out.subject.contains(&tag) {
        format!("Re: {}", out.subject)
    } else {
        format!("Re: {tag} {}", out.subject)
    };
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{id}>")));
    if let Some(last) = out.thread.last() {
        b = b.in_reply_to(format!("<{last}>"));
        let refs: Vec<String> = out.thread.iter().map(|r| format!("<{r}>")).collect();
        b = b.references(refs.join(" "));
    }
    let text = MultiPart::alternative_plain_html(out.body.clone(), html_of(&out.body));
    let body = if out.attachments.is_empty() {
        text
    } else {
        out.attachments
            .iter()
            .fold(MultiPart::mixed().multipart(text), |m, (name, ct, data)| {
                let ct = ContentType::parse(ct).unwrap_or(ContentType::TEXT_PLAIN);
                m.singlepart(Attachment::new(name.clone()).body(data.clone(), ct))
            })
    };
    let msg = b
        .multipart(body)
        .map_err(|e| format!("building the message: {e}"))?;
    Ok((msg, id))
}

/// The `mail.send` job: payload `{"message_id": n}`.
pub struct SendHandler {
    relay: Option<Relay>,
    /// Links in automatic mail point here.
    public_url: String,
    /// Opens sealed portal tokens.
    sealer: rapport_store::secrets::Sealer,
    /// One relay connection per process, reused across replies (reconnected when broken).
    conn: tokio::sync::Mutex<Option<AsyncSmtpConnection>>,
    clock: std::sync::Arc<dyn rapport_domain::Clock>,
}

impl SendHandler {
    /// Sends through `relay`; without a relay, every delivery fails visibly.
    pub fn new(
        relay: Option<Relay>,
        clock: std::sync::Arc<dyn rapport_domain::Clock>,
        public_url: String,
        sealer: rapport_store::secrets::Sealer,
    ) -> Self {
        Self {
            relay,
            public_url,
            sealer,
            conn: tokio::sync::Mutex::new(None),
            clock,
        }
    }

    /// Hands one message to the relay. The socket has `TCP_NODELAY`: lettre writes the
    /// final `.` of DATA as its own small segment, which Nagle would otherwise hold until
    /// the relay's delayed ACK — 40 ms per message.
    async fn hand_over(&self, relay: &Relay, email: &Message) -> Result<(), (bool, String)> {
        let mut guard = self.conn.lock().await;
        let mut conn = match guard.take() {
            Some(c) if !c.has_broken() => c,
            _ => {
                let hello = ClientId::Domain("rapport.local".into());
                let mut c = if relay.security == RelaySecurity::Tls {
                    let tls = relay.tls().map_err(|e| (false, e))?;
                    AsyncSmtpConnection::connect_tokio1(
                        (relay.host.as_str(), relay.port),
                        Some(std::time::Duration::from_secs(60)),
                        &hello,
                        Some(tls),
                        None,
                    )
                    .await
                    .map_err(|e| (e.is_permanent(), format!("the relay refused us: {e}")))?
                } else {
                    let stream = tokio::net::TcpStream::connect((relay.host.as_str(), relay.port))
                        .await
                        .map_err(|e| (false, format!("the relay is unreachable: {e}")))?;
                    let _ = stream.set_nodelay(true);
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
                        .await
                        .map_err(|e| (e.is_permanent(), format!("the relay refused us: {e}")))?
                };
                if relay.security == RelaySecurity::StartTls {
                    let tls = relay.tls().map_err(|e| (false, e))?;
                    c.starttls(tls, &hello)
                        .await
                        .map_err(|e| (false, format!("STARTTLS with the relay failed: {e}")))?;
                }
                if let Some((user, pass)) = &relay.credentials {
                    c.auth(
                        &[Mechanism::Plain, Mechanism::Login],
                        &Credentials::new(user.clone(), pass.clone()),
                    )
                    .await
                    .map_err(|e| {
                        (
                            e.is_permanent(),
                            format!("the relay refused our login: {e}"),
                        )
                    })?;
                }
                c
            }
        };
        match conn.send(email.envelope(), &email.formatted()).await {
            Ok(_) => {
                *guard = Some(conn);
                Ok(())
            }
            Err(e) => Err((
                e.is_permanent(),
                format!("the relay did not take the reply: {e}"),
            )),
        }
    }
}

async fn set_state(db: &Db, message_id: i64, state: &'static str, error: Option<String>) {
    let r = db
        .write(move |c| {
            Box::pin(
                async move { mail::set_delivery(c, message_id, state, error.as_deref()).await },
            )
        })
        .await;
    if let Err(e) = r {
        tracing::warn!(error = %e, message = message_id, "could not record the delivery state");
    }
}

fn message_id_of(job: &Job) -> Result<i64, String> {
    job.payload
        .get("message_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| "payload needs an integer 'message_id'".to_owned())
}

impl SendHandler {
    async fn deliver(&self, db: &Db, message_id: i64) -> Result<(), (bool, String)> {
        let relay = self.relay.as_ref().ok_or((
            false,
            "RAPPORT_SMTP_RELAY is not set: replies cannot be emailed".to_owned(),
        ))?;
        let out = db
            .read(move |c| Box::pin(async move { mail::outgoing(c, message_id).await }))
            .await
            .map_err(|e| (false, e.to_string()))?;
        let (email, id) = build(&out).map_err(|e| (true, e))?;
        self.hand_over(relay, &email).await?;
        // Replies to this message thread back to the ticket.
        let ticket = out.ticket_id;
        let now = self.clock.now();
        db.write(move |c| {
            Box::pin(async move {
                mail::remember_message_id(c, &id, ticket, now).await?;
                mail::set_delivery(c, message_id, "sent", None).await
            })
        })
        .await
        .map_err(|e| (false, e.to_string()))
    }
}

impl SendHandler {
    /// Sends one automatic mail (`mail.notify`). Rendering it from what the database
    /// says now means a notice about a ticket deleted meanwhile fails visibly.
    async fn notify(&self, db: &Db, job: &Job) -> Result<(), String> {
        // Without a relay, sending mail is switched off: automatic mail is best-effort
        // (unlike an agent's reply, whose failure the agent must see), so it is dropped.
        let Some(relay) = self.relay.as_ref() else {
            tracing::info!(
                job = job.id,
                "automatic mail not sent: RAPPORT_SMTP_RELAY is not set"
            );
            return Ok(());
        };
        let notice: rapport_store::notify::Notice = serde_json::from_value(job.payload.clone())
            .map_err(|e| format!("bad notice payload: {e}"))?;
        let public_url = self.public_url.clone();
        let sealer = self.sealer.clone();
        let unique = job.id;
        let rendered = db
            .read(move |c| {
                Box::pin(async move {
                    Ok(crate::notify::render(c, &notice, unique, &public_url, &sealer).await)
                })
            })
            .await
            .map_err(|e| e.to_string())??;
        match self.hand_over(relay, &rendered.message).await {
            Ok(()) => {}
            // A permanent refusal will not get better; the log and the job say why.
            Err((true, e)) => {
                tracing::warn!(error = %e, job = job.id, "automatic mail refused");
                return Ok(());
            }
            Err((false, e)) => return Err(e),
        }
        if let Some((id, ticket)) = rendered.thread {
            let now = self.clock.now();
            db.write(move |c| {
                Box::pin(async move { mail::remember_message_id(c, &id, ticket, now).await })
            })
            .await
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

impl Handler for SendHandler {
    fn run<'a>(&'a self, db: &'a Db, job: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if job.kind == rapport_store::notify::NOTIFY_JOB {
                return self.notify(db, job).await;
            }
            let message_id = message_id_of(job)?;
            match self.deliver(db, message_id).await {
                Ok(()) => Ok(()),
                // A permanent refusal (5xx) will not get better: fail now and tell the agent.
                Err((true, e)) => {
                    set_state(db, message_id, "failed", Some(e)).await;
                    Ok(())
                }
                Err((false, e)) => {
                    set_state(db, message_id, "retrying", Some(e.clone())).await;
                    Err(e)
                }
            }
        })
    }

    fn gave_up<'a>(&'a self, db: &'a Db, job: &'a Job, error: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if job.kind == rapport_store::mail::SEND_JOB
                && let Ok(message_id) = message_id_of(job)
            {
                set_state(db, message_id, "failed", Some(error.to_owned())).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_parse() {
        assert_eq!(
            Relay::parse("smtp://mail.example.com:587").unwrap(),
            Relay::plain("mail.example.com", 587)
        );
        let r = Relay::parse("smtp://mail.example.com?tls=starttls&ca=/etc/ca.pem").unwrap();
        assert_eq!(r.security, RelaySecurity::StartTls);
        assert_eq!((r.port, r.ca_file.as_deref()), (25, Some("/etc/ca.pem")));
        let r = Relay::parse("smtps://u:p@mail.example.com").unwrap();
        assert_eq!((r.security, r.port), (RelaySecurity::Tls, 465));
        assert!(Relay::parse("smtp://x?tls=maybe").is_err());
        let r = Relay::parse("smtp://user:p@ss@relay.example.com").unwrap();
        assert_eq!(r.port, 25);
        assert_eq!(r.credentials, Some(("user".into(), "p@ss".into())));
        assert!(Relay::parse("http://x").is_err());
        assert!(Relay::parse("smtp://host:notaport").is_err());
    }

    #[test]
    fn replies_thread_and_carry_the_number() {
        let out = Outgoing {
            message_id: 9,
            body: "Hello <you>\n\nSecond paragraph".into(),
            number: 1042,
            subject: "Broken zipper".into(),
            ticket_id: 3,
            to: ("c@example.org".into(), "Casey".into()),
            from: Some(("support@example.com".into(), "Support".into())),
            thread: vec!["a@x".into(), "b@x".into()],
            attachments: vec![(
                "label.pdf".into(),
                "application/pdf".into(),
                b"%PDF".to_vec(),
            )],
        };
        let (msg, id) = build(&out).unwrap();
        assert_eq!(id, "rapport.3.9@example.com");
        let raw = String::from_utf8(msg.formatted()).unwrap();
        assert!(raw.contains("Subject: Re: [#1042] Broken zipper"), "{raw}");
        assert!(raw.contains("In-Reply-To: <b@x>"), "{raw}");
        assert!(raw.contains("References: <a@x> <b@x>"), "{raw}");
        assert!(
            raw.contains("Message-ID: <rapport.3.9@example.com>"),
            "{raw}"
        );
        assert!(
            raw.contains("text/html") && raw.contains("&lt;you&gt;"),
            "{raw}"
        );
        assert!(
            raw.contains("multipart/mixed") && raw.contains("label.pdf"),
            "{raw}"
        );
    }
}
