//! The email channel. [`smtp`] receives mail (SMTP or LMTP) for configured mailboxes and
//! answers 250 only once the raw message is committed; [`ingest`] turns each stored
//! message into a ticket or a reply, threaded; [`parse`] reads MIME.

pub mod ingest;
pub mod parse;
pub mod smtp;

/// Registers the email channel's jobs.
pub fn register(
    reg: &mut rapport_jobs::Registry,
    clock: std::sync::Arc<dyn rapport_domain::Clock>,
) {
    reg.add(
        rapport_store::mail::INGEST_JOB,
        ingest::IngestHandler::new(clock),
    );
}
