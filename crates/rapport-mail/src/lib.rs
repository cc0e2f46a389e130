//! The email channel.
//!
//! In: [`smtp`] receives mail (SMTP or LMTP) for configured mailboxes and answers 250
//! only once the raw message is committed, within [`smtp_limits`]; [`imap`] fetches it from existing mailboxes;
//! [`ingest`] (the `mail.ingest` job) turns each stored message into a ticket or a
//! reply, threaded; [`parse`] reads MIME.
//!
//! Out: two subscribers to the event stream decide what goes out — [`outbox`] queues the
//! `email.send` job for replies marked for delivery, [`notices`] queues agents'
//! notifications; [`transport`] is the relay and its one pooled connection; [`compose`]
//! builds messages; [`send`] (the `email.send` job) emails agents' replies; [`notify`]
//! (the `mail.notify` job) sends automatic mail. A new channel (phone, SMS) copies this
//! shape: a transport, a composer, an outbox subscriber, one module per job.

pub mod compose;
pub mod imap;
pub mod ingest;
pub mod notices;
pub mod notify;
pub mod outbox;
pub mod parse;
pub mod send;
pub mod smtp;
pub mod smtp_limits;
pub mod transport;

use std::sync::Arc;

/// How the email channel behaves.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The relay replies go out through.
    pub relay: Option<transport::Relay>,
    /// Days after being solved that a customer's mail still reopens a ticket.
    pub reopen_days: i64,
    /// Automatic mail sent per hour at most, all addresses together
    /// (`RAPPORT_AUTO_MAIL_PER_HOUR`); past it, new tickets are not acknowledged.
    pub auto_mail_per_hour: i64,
    /// Where links in automatic mail point (`RAPPORT_PUBLIC_URL`).
    pub public_url: String,
    /// Opens secrets sealed at rest (portal sign-in tokens in queued mail).
    pub sealer: rapport_store::secrets::Sealer,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            relay: None,
            reopen_days: ingest::DEFAULT_REOPEN_DAYS,
            auto_mail_per_hour: ingest::DEFAULT_AUTO_MAIL_PER_HOUR,
            public_url: "http://127.0.0.1:8080".into(),
            sealer: rapport_store::secrets::Sealer::ephemeral(),
        }
    }
}

/// Registers the email channel: its jobs — ingesting received mail, emailing replies and
/// sending automatic mail, the last two through one shared relay connection — and its
/// subscribers to the event stream, the outbox and the agents' notices.
pub fn register(
    reg: &mut rapport_jobs::Registry,
    clock: Arc<dyn rapport_domain::Clock>,
    settings: MailSettings,
) {
    reg.add(
        rapport_store::mail::INGEST_JOB,
        ingest::IngestHandler::new(
            Arc::clone(&clock),
            ingest::Rules {
                reopen_days: settings.reopen_days,
                auto_mail_per_hour: settings.auto_mail_per_hour,
            },
        ),
    );
    let transport = Arc::new(transport::Transport::new(settings.relay));
    let send = Arc::new(send::SendHandler::new(
        Arc::clone(&transport),
        Arc::clone(&clock),
    ));
    reg.add(rapport_store::mail::SEND_JOB, Arc::clone(&send));
    reg.add(rapport_store::mail::LEGACY_SEND_JOB, send);
    reg.add(
        rapport_store::notify::NOTIFY_JOB,
        notify::NotifyHandler::new(transport, clock, settings.public_url, settings.sealer),
    );
    reg.subscribe(outbox::Outbox);
    reg.subscribe(notices::Notices);
}
