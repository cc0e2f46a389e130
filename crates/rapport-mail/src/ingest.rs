//! Turning a stored inbound message into a ticket or a reply. Runs as a job, so a crash
//! mid-way retries it, and it is idempotent: a message already processed is left alone.
//!
//! Threading: a reply joins its ticket by In-Reply-To/References against the Message-IDs
//! Rapport saw or sent, then by the `[#1042]` tag in the subject; a reply to a closed
//! ticket opens a follow-up ticket instead.

use futures::future::BoxFuture;
use rapport_domain::{
    Body, Channel, EmailAddress, Priority, Subject, TicketNumber, TicketStatus, Timestamp,
};
use rapport_jobs::Handler;
use rapport_store::jobs::Job;
use rapport_store::mail;
use rapport_store::messages::NewAttachment;
use rapport_store::tickets::{self, NewTicket};
use rapport_store::{Conn, Db, Result, StoreError};

use crate::parse::{ParsedMail, parse};

/// The address used when a message has no usable sender.
const UNKNOWN_SENDER: &str = "unknown-sender@invalid.example";

fn body_of(p: &ParsedMail) -> Body {
    let mut text: String = p.text.clone();
    if text.len() > Body::MAX_BYTES {
        let mut cut = Body::MAX_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    Body::parse(&text.replace('\0', "")).unwrap_or_else(|_| no_text())
}

#[expect(
    clippy::expect_used,
    reason = "a constant, non-blank text always parses"
)]
fn no_text() -> Body {
    Body::parse("(This message has no text. Its original is attached.)").expect("constant body")
}

/// What a message can be threaded by, in order of trust: the Message-IDs it answers
/// (In-Reply-To, then References, nearest first), then a `[#1042]` tag in its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadKeys {
    /// Message-IDs to look up.
    pub message_ids: Vec<String>,
    /// The ticket number in the subject.
    pub number: Option<i64>,
}

/// The threading entry point's pure half: never fails, whatever the message.
pub fn thread_keys(p: &ParsedMail) -> ThreadKeys {
    ThreadKeys {
        message_ids: p
            .refs
            .iter()
            .filter(|r| !r.is_empty() && r.len() <= 998)
            .take(100)
            .cloned()
            .collect(),
        number: TicketNumber::find_in_subject(&p.subject).map(|n| n.0),
    }
}

async fn find_ticket(c: &mut dyn Conn, p: &ParsedMail) -> Result<Option<i64>> {
    let keys = thread_keys(p);
    for r in &keys.message_ids {
        if let Some(t) = mail::ticket_for_message_id(c, r).await? {
            return Ok(Some(t));
        }
    }
    match keys.number {
        Some(n) => mail::ticket_by_number(c, n).await,
        None => Ok(None),
    }
}

/// How long after being solved a ticket still reopens when the customer writes again;
/// past that (or once closed) their mail opens a follow-up ticket linked to it.
pub const DEFAULT_REOPEN_DAYS: i64 = 30;

/// A bounce becomes a note on the ticket whose reply came back, and marks the customer's
/// address as bouncing — never a new ticket.
async fn bounce(c: &mut dyn Conn, p: &ParsedMail, now: Timestamp) -> Result<Option<i64>> {
    for id in &p.quoted_ids {
        if let Some(t) = mail::ticket_for_message_id(c, id).await? {
            let reason: String = p.text.chars().take(2_000).collect();
            let note = format!(
                "An email to the customer could not be delivered (\"{}\"). Their address is now marked as bouncing.\n\n{}",
                p.subject.trim(),
                reason.trim()
            );
            let body = Body::parse(&note).unwrap_or_else(|_| no_text());
            tickets::system_note(c, t, &body, now).await?;
            mail::mark_bouncing(c, t, now).await?;
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// Processes one inbound message; returns the ticket it landed on (none for a bounce
/// about a message Rapport does not know).
pub async fn ingest(
    c: &mut dyn Conn,
    inbound_id: i64,
    now: Timestamp,
    reopen_days: i64,
) -> Result<Option<i64>> {
    let inbound = mail::inbound(c, inbound_id).await?;
    if inbound.processed {
        return Ok(inbound.ticket_id);
    }
    let p = parse(&inbound.raw);
    if p.is_bounce {
        let t = bounce(c, &p, now).await?;
        let outcome = if t.is_some() {
            "bounce"
        } else {
            "bounce-unmatched"
        };
        mail::mark_processed(c, inbound.id, t, outcome, now).await?;
        return Ok(t);
    }
    let mut attachments: Vec<NewAttachment> = p.attachments.clone();
    let sender = p.from.as_deref().and_then(|f| EmailAddress::parse(f).ok());
    if sender.is_none() || p.text.trim().is_empty() && attachments.is_empty() {
        // Keep what could not be read where an agent sees it.
        attachments.push(NewAttachment {
            filename: "original.eml".into(),
            content_type: "message/rfc822".into(),
            data: inbound.raw.clone(),
            content_id: None,
        });
    }
    if rapport_store::messages::NewAttachment::check_all(&attachments).is_err() {
        attachments.retain(|a| a.data.len() <= rapport_store::messages::MAX_ATTACHMENT_BYTES);
        attachments.truncate(rapport_store::messages::MAX_ATTACHMENTS);
    }
    let body = body_of(&p);
    let existing = find_ticket(c, &p).await?;
    let (ticket_id, outcome) = match existing {
        Some(t) => {
            let row = c
                .one(
                    "SELECT status, solved_at, number FROM tickets WHERE id = $1",
                    &[t.into()],
                )
                .await?;
            let status = row.text(0)?;
            let closed = status == TicketStatus::Closed.as_str();
            let too_old = status == TicketStatus::Solved.as_str()
                && row
                    .opt_int(1)?
                    .is_some_and(|at| at < now.plus_secs(-reopen_days * 86_400).micros());
            if closed || too_old {
                let new = new_ticket(c, &p, sender.as_ref(), body, attachments, now).await?;
                rapport_store::events::record(
                    c,
                    new,
                    rapport_store::events::Actor::System,
                    rapport_domain::EventKind::FollowUpOf,
                    &serde_json::json!({"ticket_id": t, "number": row.int(2)?}),
                    now,
                )
                .await?;
                (new, "follow-up")
            } else {
                tickets::customer_reply(c, t, &body, Channel::Email, attachments, now).await?;
                (t, "reply")
            }
        }
        None => (
            new_ticket(c, &p, sender.as_ref(), body, attachments, now).await?,
            "new",
        ),
    };
    if let Some(html) = &p.html {
        // The message just added is the ticket's newest.
        let id = c
            .one(
                "SELECT MAX(id) FROM messages WHERE ticket_id = $1",
                &[ticket_id.into()],
            )
            .await?
            .int(0)?;
        rapport_store::messages::set_html(c, id, html).await?;
    }
    if let Some(mid) = &p.message_id {
        mail::remember_message_id(c, mid, ticket_id, now).await?;
    }
    if matches!(outcome, "new" | "follow-up")
        && !p.automated
        && let Some(sender) = &sender
    {
        acknowledge(c, inbound.mailbox_id, ticket_id, sender, &p, now).await?;
    }
    mail::mark_processed(c, inbound.id, Some(ticket_id), outcome, now).await?;
    Ok(Some(ticket_id))
}

/// Queues the acknowledgement of a new ticket when its mailbox sends them — unless the
/// loop rules say no: the sender is one of our own mailboxes, their address bounces, or
/// they have had their share of automatic mail for now (machine-sent mail never gets
/// here).
async fn acknowledge(
    c: &mut dyn Conn,
    mailbox_id: i64,
    ticket_id: i64,
    sender: &EmailAddress,
    p: &ParsedMail,
    now: Timestamp,
) -> Result<()> {
    use rapport_store::notify;
    if !notify::acknowledges(c, mailbox_id).await?
        || mail::is_own_address(c, sender.as_str()).await?
        || mail::ticket_context(c, ticket_id).await?.customer_bouncing
        || !notify::take_auto_allowance(c, sender.as_str(), "ack", now).await?
    {
        return Ok(());
    }
    let expectation = notify::expectation(c, ticket_id, now).await?.sentence();
    let notice = notify::Notice::Ack {
        ticket_id,
        in_reply_to: p.message_id.clone(),
        expectation,
    };
    notify::queue(c, &notice, now).await?;
    Ok(())
}

async fn new_ticket(
    c: &mut dyn Conn,
    p: &ParsedMail,
    sender: Option<&EmailAddress>,
    body: Body,
    attachments: Vec<NewAttachment>,
    now: Timestamp,
) -> Result<i64> {
    let customer_email = match sender {
        Some(s) => s.clone(),
        None => EmailAddress::parse(UNKNOWN_SENDER)?,
    };
    let subject = Subject::parse(&p.subject).or_else(|_| Subject::parse("(no subject)"))?;
    let t = tickets::create(
        c,
        None,
        NewTicket {
            subject,
            body,
            customer_email,
            customer_name: p.from_name.clone(),
            channel: Channel::Email,
            priority: Priority::Normal,
            category: None,
            tags: Vec::new(),
            custom_fields: serde_json::Map::new(),
            team_id: None,
            assignee_id: None,
            attachments,
        },
        now,
    )
    .await?;
    Ok(t.id)
}

/// The `mail.ingest` job: payload `{"inbound_id": n}`.
pub struct IngestHandler {
    clock: std::sync::Arc<dyn rapport_domain::Clock>,
    reopen_days: i64,
}

impl IngestHandler {
    /// A handler reading "now" from `clock`, reopening solved tickets for `reopen_days`.
    pub fn new(clock: std::sync::Arc<dyn rapport_domain::Clock>, reopen_days: i64) -> Self {
        Self { clock, reopen_days }
    }
}

impl Handler for IngestHandler {
    fn run<'a>(
        &'a self,
        db: &'a Db,
        job: &'a Job,
    ) -> BoxFuture<'a, std::result::Result<(), String>> {
        Box::pin(async move {
            let id = job
                .payload
                .get("inbound_id")
                .and_then(serde_json::Value::as_i64)
                .ok_or("payload needs an integer 'inbound_id'")?;
            let now = self.clock.now();
            let days = self.reopen_days;
            db.write(move |c| Box::pin(async move { ingest(c, id, now, days).await }))
                .await
                .map(|_| ())
                .map_err(|e: StoreError| e.to_string())
        })
    }
}
