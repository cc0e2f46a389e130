//! The email channel. [`smtp`] receives mail (SMTP or LMTP) for configured mailboxes and
//! answers 250 only once the raw message is committed; [`ingest`] turns each stored
//! message into a ticket or a reply, threaded; [`parse`] reads MIME; [`send`] emails
//! agents' replies through a relay.

pub mod ingest;
pub mod parse;
pub mod send;
pub mod smtp;

/// Registers the email channel's jobs: ingesting received mail, and sending replies
/// through `relay`.
pub fn register(
    reg: &mut rapport_jobs::Registry,
    clock: std::sync::Arc<dyn rapport_domain::Clock>,
    relay: Option<send::Relay>,
) {
    reg.add(
        rapport_store::mail::INGEST_JOB,
        ingest::IngestHandler::new(std::sync::Arc::clone(&clock)),
    );
    reg.add(
        rapport_store::mail::SEND_JOB,
        send::SendHandler::new(relay, clock),
    );
}
