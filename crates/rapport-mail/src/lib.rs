//! The email channel. [`smtp`] receives mail (SMTP or LMTP) for configured mailboxes and
//! answers 250 only once the raw message is committed; [`ingest`] turns each stored
//! message into a ticket or a reply, threaded; [`parse`] reads MIME; [`send`] emails
//! agents' replies through a relay.

pub mod imap;
pub mod ingest;
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
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            relay: None,
            reopen_days: ingest::DEFAULT_REOPEN_DAYS,
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
    reg.add(
        rapport_store::mail::SEND_JOB,
        send::SendHandler::new(relay, clock),
    );
}
