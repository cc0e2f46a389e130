//! Turning a stored inbound message into a ticket or a reply. Runs as a job, so a crash
//! mid-way retries it, and it is idempotent: a message already processed is left alone.
//!
//! The job works in two halves. [`prepare`] reads the raw message outside any
//! transaction — MIME parsing, cutting the quoted history, sanitising the HTML, the
//! threading keys — on the blocking pool, so a 25 MB message never holds up SQLite's
//! single writer. [`write`] then takes that prepared result into one write transaction
//! that only looks things up and stores them.
//!
//! Threading: a reply joins its ticket by In-Reply-To/References — first against the
//! Message-IDs Rapport sent (an ID Rapport sent always threads to the ticket it was sent
//! from), then against those received mail claimed (never one in Rapport's namespace) —
//! then by the `[#1042]` tag in the subject; a reply to a closed ticket opens a
//! follow-up ticket instead.
//!
//! Identity: mail threads into a ticket as its customer's own only when its From address
//! is the ticket's customer (tickets have no other participants). Mail from anyone else
//! that names a ticket opens a new ticket for its real sender, with an internal note
//! that it mentions the other one; the other ticket is not touched — not reopened, no
//! notification, nothing on its portal page. Every received message keeps the From
//! address it came from.

use std::sync::Arc;

use futures::future::BoxFuture;
use rapport_domain::{
    Body, Channel, Clock, CustomerName, EmailAddress, EventKind, Principal, Priority, Subject,
    TicketNumber, TicketStatus, Timestamp,
};
use rapport_jobs::Handler;
use rapport_store::events::{self, Actor};
use rapport_store::jobs::Job;
use rapport_store::mail::{self, IngestPayload};
use rapport_store::messages::{self, NewAttachment};
use rapport_store::op;
use rapport_store::tickets::{self, NewTicket};
use rapport_store::{Conn, Db, Result, notify};

use crate::parse::{ParsedMail, parse};

/// The address used when a message has no usable sender.
const UNKNOWN_SENDER: &str = "unknown-sender@invalid.example";

/// How long after being solved a ticket still reopens when the customer writes again;
/// past that (or once closed) their mail opens a follow-up ticket linked to it.
pub const DEFAULT_REOPEN_DAYS: i64 = 30;

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

/// A received message, read and cleaned outside the write transaction: all the write
/// needs, and nothing left to parse.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// A delivery failure report: it becomes a note on the ticket whose mail came back.
    Bounce {
        /// The Message-IDs quoted in the report (the undelivered message's among them).
        quoted_ids: Vec<String>,
        /// The note to add.
        note: Body,
    },
    /// Mail to file as a new ticket, a reply or a follow-up.
    Mail(Box<Incoming>),
}

/// Mail to file, parsed, cut and sanitised.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The sender, when the message has a usable address.
    pub sender: Option<EmailAddress>,
    /// The sender's display name.
    pub sender_name: Option<String>,
    /// The subject (`(no subject)` when it has none).
    pub subject: Subject,
    /// The text the sender wrote, without the quoted history, cut to size.
    pub body: Body,
    /// The message's own HTML, sanitised.
    pub html: Option<String>,
    /// Attachments within the limits; the original source when it could not be read.
    pub attachments: Vec<NewAttachment>,
    /// Its Message-ID.
    pub message_id: Option<String>,
    /// What to thread it by.
    pub keys: ThreadKeys,
    /// True when a machine sent it: never acknowledged.
    pub automated: bool,
}

/// The note a real bounce adds: what Rapport knows in its own words, then the report's
/// text as the reporting server sent it — as untrusted content, never as a statement of
/// Rapport's: a quoted code block, so it shows literally (no markdown, no links, HTML
/// escaped), its fence longer than any run of backticks inside so it cannot close it.
fn bounce_note(reporter: Option<&str>, text: &str) -> Body {
    let report: String = text.chars().take(2_000).collect();
    let report = report.trim().replace(['\r', '\0'], "");
    let longest_run = report.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let quoted: Vec<String> = std::iter::once(fence.clone())
        .chain(report.lines().map(str::to_owned))
        .chain(std::iter::once(fence))
        .map(|l| format!("> {l}"))
        .collect();
    let reporter = reporter
        .and_then(|r| EmailAddress::parse(r).ok())
        .map_or_else(|| "an unnamed server".to_owned(), |a| a.to_string());
    let note = format!(
        "A delivery-status report says an email Rapport sent on this ticket could not be delivered; the customer's address is now marked as bouncing.\n\nThe report from {reporter}, as received (unverified):\n\n{}",
        quoted.join("\n")
    );
    Body::parse(&note).unwrap_or_else(|_| no_text())
}

/// Reads a raw message into what [`write`] stores. Pure and never fails: what cannot be
/// read is kept as the original, attached.
pub fn prepare(raw: &[u8]) -> Prepared {
    let p = parse(raw);
    if p.is_bounce {
        return Prepared::Bounce {
            note: bounce_note(p.from.as_deref(), &p.text),
            quoted_ids: p.quoted_ids,
        };
    }
    let mut attachments = p.attachments.clone();
    let sender = p.from.as_deref().and_then(|f| EmailAddress::parse(f).ok());
    if sender.is_none() || p.text.trim().is_empty() && attachments.is_empty() {
        // Keep what could not be read where an agent sees it.
        attachments.push(NewAttachment {
            filename: "original.eml".into(),
            content_type: "message/rfc822".into(),
            data: raw.to_vec(),
            content_id: None,
        });
    }
    let body = body_of(&p);
    // Its mood is read here (off the async threads), not inside the write.
    body.sentiment();
    Prepared::Mail(Box::new(Incoming {
        body,
        subject: Subject::from_mail(&p.subject),
        keys: thread_keys(&p),
        sender,
        sender_name: p.from_name,
        html: p.html,
        attachments: within_limits(attachments),
        message_id: p.message_id,
        automated: p.automated,
    }))
}

/// Makes a message's attachments acceptable to the store, whatever the mail said: an
/// unusable name or type is replaced, empty and oversized files are dropped, then files
/// past the count or the total size. A message is never refused for its attachments.
fn within_limits(mut list: Vec<NewAttachment>) -> Vec<NewAttachment> {
    if NewAttachment::check_all(&list).is_ok() {
        return list;
    }
    let fits = |a: &NewAttachment| NewAttachment::check_all(std::slice::from_ref(a)).is_ok();
    for a in &mut list {
        if fits(a) {
            continue;
        }
        let typed = NewAttachment {
            content_type: "application/octet-stream".into(),
            ..a.clone()
        };
        let named = NewAttachment {
            filename: "attachment".into(),
            ..a.clone()
        };
        if fits(&typed) {
            a.content_type = typed.content_type;
        } else if fits(&named) {
            a.filename = named.filename;
        } else {
            a.content_type = typed.content_type;
            a.filename = named.filename;
        }
    }
    list.retain(|a| !a.data.is_empty() && a.data.len() <= messages::MAX_ATTACHMENT_BYTES);
    list.truncate(messages::MAX_ATTACHMENTS);
    let mut total = 0;
    list.retain(|a| {
        total += a.data.len();
        total <= messages::MAX_ATTACHMENTS_TOTAL
    });
    list
}

/// The ticket a message names: a Message-ID Rapport sent wins over any a received
/// message claimed, and both over the subject's `[#n]`.
async fn find_ticket(c: &mut dyn Conn, keys: &ThreadKeys) -> Result<Option<i64>> {
    for r in &keys.message_ids {
        if let Some(t) = mail::ticket_for_sent_id(c, r).await? {
            return Ok(Some(t));
        }
    }
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

/// A bounce about mail Rapport sent (looked up among the IDs it sent, never those
/// received mail claimed) becomes a note on the ticket it was sent from, and marks the
/// customer's address as bouncing — never a new ticket.
async fn bounce(
    c: &mut dyn Conn,
    quoted_ids: &[String],
    note: &Body,
    now: Timestamp,
) -> Result<Option<i64>> {
    for id in quoted_ids {
        if let Some(t) = mail::ticket_for_sent_id(c, id).await? {
            tickets::system_note(c, t, note, now).await?;
            mail::mark_bouncing(c, t, now).await?;
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// Files one prepared inbound message, in one transaction; returns the ticket it landed
/// on (none for a bounce about a message Rapport does not know). A message already
/// processed is left as it is.
pub async fn write(
    c: &mut dyn Conn,
    inbound_id: i64,
    prepared: &Prepared,
    now: Timestamp,
    rules: Rules,
) -> Result<Option<i64>> {
    let inbound = mail::inbound_status(c, inbound_id).await?;
    if inbound.processed {
        return Ok(inbound.ticket_id);
    }
    let m = match prepared {
        Prepared::Bounce { quoted_ids, note } => {
            let t = bounce(c, quoted_ids, note, now).await?;
            let outcome = if t.is_some() {
                "bounce"
            } else {
                "bounce-unmatched"
            };
            mail::mark_processed(c, inbound_id, t, outcome, now).await?;
            return Ok(t);
        }
        Prepared::Mail(m) => m,
    };
    let named = find_ticket(c, &m.keys).await?;
    let (ticket_id, outcome) = match named {
        Some(t) if !from_its_customer(c, t, m).await? => {
            // Not the customer's: the mail is its sender's own new ticket, and the
            // ticket it names is left alone.
            (new_ticket(c, m, now).await?, "mention")
        }
        Some(t) => {
            let standing = mail::ticket_standing(c, t).await?;
            let too_old = standing.status == TicketStatus::Solved
                && standing
                    .solved_at
                    .is_some_and(|at| at < now.plus_secs(-rules.reopen_days * 86_400));
            if standing.status == TicketStatus::Closed || too_old {
                let new = new_ticket(c, m, now).await?;
                events::record(
                    c,
                    new,
                    Actor::System,
                    EventKind::FollowUpOf,
                    &serde_json::json!({"ticket_id": t, "number": standing.number}),
                    now,
                )
                .await?;
                (new, "follow-up")
            } else {
                // The channel threaded the message to this ticket: Rapport files it as
                // the ticket's customer's.
                let who = Principal::System;
                let files = m.attachments.clone();
                tickets::customer_reply(c, &who, t, &m.body, Channel::Email, files, now).await?;
                (t, "reply")
            }
        }
        None => (new_ticket(c, m, now).await?, "new"),
    };
    // The message just added is the ticket's newest.
    let id = messages::latest_id(c, ticket_id).await?;
    if let Some(html) = &m.html {
        messages::set_html(c, id, html).await?;
    }
    if let Some(sender) = &m.sender {
        messages::set_from_address(c, id, sender.as_str()).await?;
    }
    if let Some(mentioned) = named.filter(|_| outcome == "mention") {
        let number = mail::ticket_standing(c, mentioned).await?.number;
        let note = format!(
            "This email mentions ticket #{number}, but it came from {}, who is not that ticket's customer, so it was filed as a new ticket. Ticket #{number} was not changed.",
            m.sender
                .as_ref()
                .map_or("an unknown sender", EmailAddress::as_str)
        );
        tickets::system_note(c, ticket_id, &Body::parse(&note)?, now).await?;
    }
    if let Some(mid) = &m.message_id {
        mail::remember_message_id(c, mid, ticket_id, now).await?;
    }
    if matches!(outcome, "new" | "follow-up" | "mention")
        && !m.automated
        && let Some(sender) = &m.sender
    {
        acknowledge(c, inbound.mailbox_id, ticket_id, sender, m, rules, now).await?;
    }
    mail::mark_processed(c, inbound_id, Some(ticket_id), outcome, now).await?;
    Ok(Some(ticket_id))
}

/// True when mail `m` comes from ticket `t`'s customer: only then is it theirs.
async fn from_its_customer(c: &mut dyn Conn, t: i64, m: &Incoming) -> Result<bool> {
    let Some(sender) = &m.sender else {
        return Ok(false);
    };
    let customer = mail::ticket_context(c, t).await?.customer.0;
    Ok(customer.eq_ignore_ascii_case(sender.as_str()))
}

/// Queues the acknowledgement of a new ticket when its mailbox sends them — to the From
/// address (the ticket's customer) only, and unless the loop and abuse rules say no:
/// the sender is one of our own mailboxes, their address bounces, they have had their
/// share of automatic mail for now, or the whole help desk has sent its hourly share
/// (machine-sent mail never gets here).
async fn acknowledge(
    c: &mut dyn Conn,
    mailbox_id: i64,
    ticket_id: i64,
    sender: &EmailAddress,
    m: &Incoming,
    rules: Rules,
    now: Timestamp,
) -> Result<()> {
    if !notify::acknowledges(c, mailbox_id).await?
        || mail::is_own_address(c, sender.as_str()).await?
        || mail::ticket_context(c, ticket_id).await?.customer_bouncing
    {
        return Ok(());
    }
    if notify::auto_mail_last_hour(c, now).await? >= rules.auto_mail_per_hour {
        tracing::warn!(
            ticket = ticket_id,
            cap = rules.auto_mail_per_hour,
            "acknowledgement skipped: the hourly cap on automatic mail is reached (RAPPORT_AUTO_MAIL_PER_HOUR)"
        );
        return Ok(());
    }
    let expectation = notify::expectation(c, ticket_id, now).await?.sentence();
    let notice = notify::Notice::Ack {
        ticket_id,
        in_reply_to: m.message_id.clone(),
        expectation,
    };
    notify::queue_automatic(c, &notice, sender.as_str(), "ack", now).await?;
    Ok(())
}

async fn new_ticket(c: &mut dyn Conn, m: &Incoming, now: Timestamp) -> Result<i64> {
    let customer_email = match &m.sender {
        Some(s) => s.clone(),
        None => EmailAddress::parse(UNKNOWN_SENDER)?,
    };
    let t = tickets::create(
        c,
        None,
        NewTicket {
            subject: m.subject.clone(),
            body: m.body.clone(),
            customer_email,
            customer_name: m.sender_name.as_deref().and_then(CustomerName::from_mail),
            channel: Channel::Email,
            priority: Priority::Normal,
            category: None,
            tags: Vec::new(),
            custom_fields: serde_json::Map::new(),
            team_id: None,
            assignee_id: None,
            attachments: m.attachments.clone(),
        },
        now,
    )
    .await?;
    Ok(t.id)
}

/// Reads, parses and files one inbound message: the raw source in a read snapshot, the
/// parsing on the blocking pool, the filing in one write.
pub async fn ingest(
    db: &Db,
    inbound_id: i64,
    now: Timestamp,
    rules: Rules,
) -> std::result::Result<Option<i64>, String> {
    let inbound = db
        .read(op!(c => mail::inbound(c, inbound_id).await))
        .await
        .map_err(|e| e.to_string())?;
    if inbound.processed {
        return Ok(inbound.ticket_id);
    }
    let prepared = tokio::task::spawn_blocking(move || prepare(&inbound.raw))
        .await
        .map_err(|e| format!("reading the message failed: {e}"))?;
    db.write(op!(c => write(c, inbound_id, &prepared, now, rules).await))
        .await
        .map_err(|e| e.to_string())
}

/// What filing mail follows, from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Days after being solved that a customer's mail still reopens a ticket.
    pub reopen_days: i64,
    /// Automatic mail the whole help desk sends per hour at most: past it, new tickets
    /// are not acknowledged.
    pub auto_mail_per_hour: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            reopen_days: DEFAULT_REOPEN_DAYS,
            auto_mail_per_hour: DEFAULT_AUTO_MAIL_PER_HOUR,
        }
    }
}

/// The default of [`Rules::auto_mail_per_hour`] (`RAPPORT_AUTO_MAIL_PER_HOUR`).
pub const DEFAULT_AUTO_MAIL_PER_HOUR: i64 = 200;

/// The `mail.ingest` job: payload [`IngestPayload`].
pub struct IngestHandler {
    clock: Arc<dyn Clock>,
    rules: Rules,
}

impl IngestHandler {
    /// A handler reading "now" from `clock`, filing by `rules`.
    pub fn new(clock: Arc<dyn Clock>, rules: Rules) -> Self {
        Self { clock, rules }
    }
}

impl Handler for IngestHandler {
    fn run<'a>(
        &'a self,
        db: &'a Db,
        job: &'a Job,
    ) -> BoxFuture<'a, std::result::Result<(), String>> {
        Box::pin(async move {
            let IngestPayload { inbound_id } = rapport_jobs::payload(job)?;
            ingest(db, inbound_id, self.clock.now(), self.rules)
                .await
                .map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(p: Prepared) -> Incoming {
        match p {
            Prepared::Mail(m) => *m,
            Prepared::Bounce { .. } => panic!("not a bounce"),
        }
    }

    #[test]
    fn mail_is_prepared_whole_before_the_write() {
        let raw = b"From: Lena <lena@example.org>\r\nSubject: Re: [#1042] Broken\r\nMessage-ID: <m2@example.org>\r\nIn-Reply-To: <m1@example.org>\r\nContent-Type: text/plain\r\n\r\nStill broken.\r\n\r\nOn Monday, Support wrote:\r\n> Try again\r\n";
        let m = mail(prepare(raw));
        assert_eq!(
            m.sender.as_ref().map(EmailAddress::as_str),
            Some("lena@example.org")
        );
        assert_eq!(m.sender_name.as_deref(), Some("Lena"));
        assert_eq!(m.subject.as_str(), "Re: [#1042] Broken");
        assert_eq!(m.message_id.as_deref(), Some("m2@example.org"));
        assert_eq!(
            m.keys,
            ThreadKeys {
                message_ids: vec!["m1@example.org".into()],
                number: Some(1042)
            }
        );
        assert!(m.body.as_str().contains("Still broken."));
        assert!(
            !m.body.as_str().contains("Try again"),
            "the quoted history is cut"
        );
        assert!(m.attachments.is_empty());
        assert!(!m.automated);
    }

    #[test]
    fn unreadable_mail_keeps_its_original() {
        let raw = b"Subject: \r\n\r\n\r\n";
        let m = mail(prepare(raw));
        assert!(m.sender.is_none());
        assert_eq!(m.subject.as_str(), "(no subject)");
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].filename, "original.eml");
        assert_eq!(m.attachments[0].data, raw.to_vec());
    }

    fn file(name: &str, ct: &str, len: usize) -> NewAttachment {
        NewAttachment {
            filename: name.into(),
            content_type: ct.into(),
            data: vec![b'x'; len],
            content_id: None,
        }
    }

    #[test]
    fn attachments_are_made_to_fit_the_store() {
        let big = messages::MAX_ATTACHMENT_BYTES;
        let fitted = within_limits(vec![
            file("a.txt", "\u{19}ultipart/alternative bo_ndary", 3),
            file("../x", "text/plain", 3),
            file("bad/name", "not a type", 3),
            file("empty.txt", "text/plain", 0),
            file("huge.bin", "application/octet-stream", big + 1),
            file("b.bin", "application/octet-stream", big),
            file("c.bin", "application/octet-stream", big),
            file("d.bin", "application/octet-stream", big),
        ]);
        assert!(NewAttachment::check_all(&fitted).is_ok());
        let seen: Vec<(&str, &str)> = fitted
            .iter()
            .map(|a| (a.filename.as_str(), a.content_type.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("a.txt", "application/octet-stream"),
                ("attachment", "text/plain"),
                ("attachment", "application/octet-stream"),
                ("b.bin", "application/octet-stream"),
                ("c.bin", "application/octet-stream"),
            ],
            "the total stays within 25 MiB"
        );
        let many: Vec<_> = (0..12)
            .map(|i| file(&format!("{i}.txt"), "text/plain", 1))
            .collect();
        assert_eq!(within_limits(many).len(), messages::MAX_ATTACHMENTS);
    }

    #[test]
    fn bounces_become_a_note_about_the_undelivered_message() {
        let raw = b"From: MAILER-DAEMON@mx.example.org\r\nSubject: Undelivered Mail\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n<kim@example.org>: mailbox full\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; kim@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <rapport.1.2@example.com>\r\n--b--\r\n";
        match prepare(raw) {
            Prepared::Bounce { quoted_ids, note } => {
                assert!(
                    quoted_ids.contains(&"rapport.1.2@example.com".to_owned()),
                    "{quoted_ids:?}"
                );
                assert!(
                    note.as_str()
                        .contains("\n> <kim@example.org>: mailbox full"),
                    "{note:?}"
                );
            }
            Prepared::Mail(m) => panic!("a bounce, not mail: {m:?}"),
        }
    }
}
