//! The email channel. [`smtp`] receives mail (SMTP or LMTP) for configured mailboxes and
//! answers 250 only once the raw message is committed; [`ingest`] turns each stored
//! message into a ticket or a reply, threaded; [`parse`] reads MIME; [`send`] emails
//! agents' replies through a relay.

pub mod imap;
pub mod ingest;
pub mod notify;
pub mod parse;
pub mod send;
pub mod smtp;

/// How the email channel behaves.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The relay replies go out through.
    pub relay: Option<send::Relay>,
    /// Days after being solved that a customer's mail still reopens a ticket.
    pub reopen_days: i64,
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
            public_url: "http://127.0.0.1:8080".into(),
            sealer: rapport_store::secrets::Sealer::ephemeral(),
        }
    }
}

/// Registers the email channel's jobs: ingesting received mail, and sending replies
/// through the relay.
pub fn register(
    reg: &mut rapport_jobs::Registry,
    clock: std::sync::Arc<dyn rapport_domain::Clock>,
    settings: MailSettings,
) {
    let relay = settings.relay;
    reg.add(
        rapport_store::mail::INGEST_JOB,
        ingest::IngestHandler::new(std::sync::Arc::clone(&clock), settings.reopen_days),
    );
    let sender = std::sync::Arc::new(send::SendHandler::new(
        relay,
        clock,
        settings.public_url,
        settings.sealer,
    ));
    // One handler, so replies and automatic mail share one relay connection.
    reg.add(
        rapport_store::mail::SEND_JOB,
        std::sync::Arc::clone(&sender),
    );
    reg.add(rapport_store::notify::NOTIFY_JOB, sender);
}
