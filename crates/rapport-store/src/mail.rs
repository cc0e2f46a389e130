//! Storage of the email channel: mailboxes, inbound messages (raw source first, processed
//! later by a job), and the Message-IDs that let replies find their ticket.

use rapport_domain::{EmailAddress, FieldError, TicketStatus, Timestamp};
use serde::{Deserialize, Serialize};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::jobs::{self, NewJob};

/// The job kind that turns an inbound message into a ticket or a reply.
pub const INGEST_JOB: &str = "mail.ingest";
/// The job kind that sends an agent's reply by email (`{channel}.send`).
pub const SEND_JOB: &str = "email.send";
/// The kind [`SEND_JOB`] had before; jobs already queued under it are still sent.
pub const LEGACY_SEND_JOB: &str = "mail.send";

/// The payload of a [`SEND_JOB`]: the reply to email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendPayload {
    /// The reply's message id.
    pub message_id: i64,
}

/// The payload of an [`INGEST_JOB`]: the stored message to process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestPayload {
    /// The inbound message's id.
    pub inbound_id: i64,
}

/// Queues the sending of a reply by email (the reply is already marked queued by
/// `tickets::reply`). Called by the email outbox, in the transaction that moves its
/// cursor past the reply's event; queuing the same reply twice queues one job.
pub async fn queue_send(c: &mut dyn Conn, message_id: i64, now: Timestamp) -> Result<()> {
    jobs::enqueue(
        c,
        NewJob {
            kind: SEND_JOB.into(),
            payload: serde_json::to_value(SendPayload { message_id })?,
            run_at: now,
            max_attempts: 8,
            idempotency_key: Some(format!("{SEND_JOB}:{message_id}")),
        },
        now,
    )
    .await?;
    Ok(())
}

/// What an outgoing reply needs: the text, the ticket, the customer, the mailbox to send
/// from, and the Message-IDs to thread under.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The reply's message id.
    pub message_id: i64,
    /// Its text (markdown).
    pub body: String,
    /// The ticket's number.
    pub number: i64,
    /// The ticket's subject.
    pub subject: String,
    /// The ticket id.
    pub ticket_id: i64,
    /// The customer's address and name.
    pub to: (String, String),
    /// The mailbox's address and name.
    pub from: Option<(String, String)>,
    /// Message-IDs of the thread, oldest first.
    pub thread: Vec<String>,
    /// Files attached to the reply: name, MIME type, bytes.
    pub attachments: Vec<(String, String, Vec<u8>)>,
    /// Written by Rapport (an automation rule), not a person: sent with
    /// `Auto-Submitted: auto-generated`, so other robots do not answer it.
    pub automatic: bool,
}

/// Loads what sending a reply needs.
pub async fn outgoing(c: &mut dyn Conn, message_id: i64) -> Result<Outgoing> {
    let r = c
        .opt(
            "SELECT m.id AS message_id, m.body, m.author_kind, t.number, t.subject,
                    t.id AS ticket_id, cu.email, cu.name
             FROM messages m JOIN tickets t ON t.id = m.ticket_id JOIN customers cu ON cu.id = t.customer_id
             WHERE m.id = $1",
            &[message_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("message"))?;
    let ticket_id = r.int("ticket_id")?;
    let from = sender_for(c, Some(ticket_id)).await?;
    let thread = c
        .query(
            "SELECT message_id, created_at FROM mail_threads WHERE ticket_id = $1
             UNION ALL
             SELECT message_id, created_at FROM mail_sent
             WHERE ticket_id = $1 AND (reply_id IS NULL OR reply_id <> $2)
             ORDER BY created_at, message_id",
            &[ticket_id.into(), message_id.into()],
        )
        .await?
        .iter()
        .map(|x| x.text("message_id"))
        .collect::<Result<_>>()?;
    let attachments = c
        .query(
            "SELECT filename, content_type, data FROM attachments WHERE message_id = $1 ORDER BY id",
            &[message_id.into()],
        )
        .await?
        .iter()
        .map(|a| {
            Ok((
                a.text("filename")?,
                a.text("content_type")?,
                a.blob("data")?,
            ))
        })
        .collect::<Result<_>>()?;
    Ok(Outgoing {
        attachments,
        message_id: r.int("message_id")?,
        body: r.text("body")?,
        number: r.int("number")?,
        subject: r.text("subject")?,
        ticket_id,
        to: (r.text("email")?, r.text("name")?),
        from,
        thread,
        automatic: r.text("author_kind")? == "system",
    })
}

/// An address Rapport receives mail for.
#[derive(Debug, Clone, Serialize)]
pub struct Mailbox {
    /// Database id.
    pub id: i64,
    /// The address (`support@example.com`).
    pub address: String,
    /// A display name (`Example Support`).
    pub name: String,
    /// Whether new tickets from it get an acknowledgement.
    pub acknowledge: bool,
}

/// Adds a mailbox; an address in use is an error on `address`.
pub async fn create_mailbox(
    c: &mut dyn Conn,
    address: &EmailAddress,
    name: &str,
    now: Timestamp,
) -> Result<Mailbox> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "must be 1 to 100 characters").into());
    }
    let row = c
        .opt(
            "INSERT INTO mailboxes (address, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (address) DO NOTHING RETURNING id",
            &[address.as_str().into(), name.into(), now.into()],
        )
        .await?
        .ok_or_else(|| FieldError::new("address", "a mailbox with this address already exists"))?;
    Ok(Mailbox {
        id: row.int("id")?,
        address: address.to_string(),
        name: name.to_owned(),
        acknowledge: false,
    })
}

/// Every mailbox.
pub async fn mailboxes(c: &mut dyn Conn) -> Result<Vec<Mailbox>> {
    c.query(
        "SELECT id, address, name, acknowledge FROM mailboxes ORDER BY address",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Mailbox {
            id: r.int("id")?,
            address: r.text("address")?,
            name: r.text("name")?,
            acknowledge: r.bool("acknowledge")?,
        })
    })
    .collect()
}

/// The mailbox for a recipient address, if Rapport receives for it.
pub async fn mailbox_for(c: &mut dyn Conn, address: &str) -> Result<Option<i64>> {
    let Ok(addr) = EmailAddress::parse(address) else {
        return Ok(None);
    };
    c.opt(
        "SELECT id FROM mailboxes WHERE address = $1",
        &[addr.as_str().into()],
    )
    .await?
    .map(|r| r.int("id"))
    .transpose()
}

/// What storing an inbound message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// New: kept and queued for processing.
    New(i64),
    /// The same Message-ID reached this mailbox before: kept once.
    Duplicate,
}

/// Keeps the raw message and queues its processing, in one transaction: once this
/// returns, the message survives a crash (the SMTP listener answers 250 only then).
pub async fn store_inbound(
    c: &mut dyn Conn,
    mailbox_id: i64,
    envelope_from: &str,
    message_id: Option<&str>,
    raw: Vec<u8>,
    now: Timestamp,
) -> Result<Stored> {
    let size = i64::try_from(raw.len()).unwrap_or(i64::MAX);
    let row = c
        .opt(
            "INSERT INTO inbound_mail (mailbox_id, envelope_from, message_id, raw, size, received_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (mailbox_id, message_id) DO NOTHING RETURNING id",
            &[
                mailbox_id.into(),
                envelope_from.into(),
                message_id.map(str::to_owned).into(),
                raw.into(),
                size.into(),
                now.into(),
            ],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Stored::Duplicate);
    };
    let id = row.int("id")?;
    jobs::enqueue(
        c,
        NewJob {
            kind: INGEST_JOB.into(),
            payload: serde_json::to_value(IngestPayload { inbound_id: id })?,
            run_at: now,
            max_attempts: 5,
            idempotency_key: Some(format!("{INGEST_JOB}:{id}")),
        },
        now,
    )
    .await?;
    Ok(Stored::New(id))
}

/// An inbound message waiting to be processed.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// Database id.
    pub id: i64,
    /// The receiving mailbox.
    pub mailbox_id: i64,
    /// The raw RFC 822 source.
    pub raw: Vec<u8>,
    /// Set once processed.
    pub ticket_id: Option<i64>,
    /// When it was processed.
    pub processed: bool,
}

/// One inbound message.
pub async fn inbound(c: &mut dyn Conn, id: i64) -> Result<Inbound> {
    let r = c
        .opt(
            "SELECT id, mailbox_id, raw, ticket_id, processed_at FROM inbound_mail WHERE id = $1",
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("inbound message"))?;
    Ok(Inbound {
        id: r.int("id")?,
        mailbox_id: r.int("mailbox_id")?,
        raw: r.blob("raw")?,
        ticket_id: r.opt_int("ticket_id")?,
        processed: r.opt_int("processed_at")?.is_some(),
    })
}

/// Whether an inbound message was processed, and onto which ticket — without its raw
/// source (the ingest job re-checks this inside its write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboundStatus {
    /// The receiving mailbox.
    pub mailbox_id: i64,
    /// Set once processed.
    pub ticket_id: Option<i64>,
    /// When it was processed.
    pub processed: bool,
}

/// One inbound message's [`InboundStatus`].
pub async fn inbound_status(c: &mut dyn Conn, id: i64) -> Result<InboundStatus> {
    let r = c
        .opt(
            "SELECT mailbox_id, ticket_id, processed_at FROM inbound_mail WHERE id = $1",
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("inbound message"))?;
    Ok(InboundStatus {
        mailbox_id: r.int("mailbox_id")?,
        ticket_id: r.opt_int("ticket_id")?,
        processed: r.opt_int("processed_at")?.is_some(),
    })
}

/// Where a ticket an email threads onto stands: whether the mail reopens it or opens a
/// follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketStanding {
    /// Its number.
    pub number: i64,
    /// Its status.
    pub status: TicketStatus,
    /// When it was last solved.
    pub solved_at: Option<Timestamp>,
}

/// Loads a ticket's [`TicketStanding`].
pub async fn ticket_standing(c: &mut dyn Conn, ticket_id: i64) -> Result<TicketStanding> {
    let r = c
        .opt(
            "SELECT number, status, solved_at FROM tickets WHERE id = $1",
            &[ticket_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("ticket"))?;
    Ok(TicketStanding {
        number: r.int("number")?,
        status: TicketStatus::parse(&r.text("status")?)?,
        solved_at: r.opt_int("solved_at")?.map(Timestamp),
    })
}

/// Marks a customer's address as bouncing (mail to it comes back undelivered).
pub async fn mark_bouncing(c: &mut dyn Conn, ticket_id: i64, now: Timestamp) -> Result<()> {
    let r = c
        .one(
            "SELECT cu.id, cu.attributes FROM tickets t JOIN customers cu ON cu.id = t.customer_id WHERE t.id = $1",
            &[ticket_id.into()],
        )
        .await?;
    let mut attrs: serde_json::Value = serde_json::from_str(&r.text("attributes")?)?;
    if !attrs.is_object() {
        attrs = serde_json::json!({});
    }
    attrs["email_bouncing"] = serde_json::Value::Bool(true);
    c.execute(
        "UPDATE customers SET attributes = $1, updated_at = $2 WHERE id = $3",
        &[attrs.to_string().into(), now.into(), r.int("id")?.into()],
    )
    .await?;
    Ok(())
}

/// Records what processing did with an inbound message (`ticket_id` none for a bounce
/// about nothing Rapport knows).
pub async fn mark_processed(
    c: &mut dyn Conn,
    id: i64,
    ticket_id: Option<i64>,
    outcome: &str,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "UPDATE inbound_mail SET processed_at = $1, ticket_id = $2, outcome = $3 WHERE id = $4",
        &[now.into(), ticket_id.into(), outcome.into(), id.into()],
    )
    .await?;
    Ok(())
}

/// The ticket a Message-ID that inbound mail claimed belongs to (see
/// [`remember_message_id`]); Rapport's own IDs are looked up with [`ticket_for_sent_id`].
pub async fn ticket_for_message_id(c: &mut dyn Conn, message_id: &str) -> Result<Option<i64>> {
    let id = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    c.opt(
        "SELECT ticket_id FROM mail_threads WHERE message_id = $1",
        &[id.into()],
    )
    .await?
    .map(|r| r.int("ticket_id"))
    .transpose()
}

/// Remembers that the Message-ID of a received message belongs to a ticket — unless it
/// is in Rapport's own namespace ([`MessageIdNamespace`]): inbound mail can never claim
/// an ID Rapport makes, so it can never squat one before Rapport sends it. Returns
/// whether it was remembered.
pub async fn remember_message_id(
    c: &mut dyn Conn,
    message_id: &str,
    ticket_id: i64,
    now: Timestamp,
) -> Result<bool> {
    let id = message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    if id.is_empty() || own_namespace(c).await?.contains(id) {
        return Ok(false);
    }
    c.execute(
        "INSERT INTO mail_threads (message_id, ticket_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (message_id) DO NOTHING",
        &[id.into(), ticket_id.into(), now.into()],
    )
    .await?;
    Ok(true)
}

/// Rapport's own Message-ID namespace: every ID whose left-hand side starts with
/// `rapport.`, and every ID whose right-hand side is the domain of one of Rapport's
/// mailboxes (or the `rapport.local`/`rapport.invalid` fallbacks), compared without angle
/// brackets and case. Rapport makes its IDs only in it, and inbound mail never gets to
/// claim one in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageIdNamespace {
    domains: Vec<String>,
}

impl MessageIdNamespace {
    /// The namespace for mailboxes at `addresses`.
    pub fn new<'a>(addresses: impl IntoIterator<Item = &'a str>) -> Self {
        let mut domains: Vec<String> = addresses
            .into_iter()
            .filter_map(|a| a.rsplit_once('@'))
            .map(|(_, d)| d.trim().to_ascii_lowercase())
            .chain(["rapport.local".to_owned(), "rapport.invalid".to_owned()])
            .collect();
        domains.sort();
        domains.dedup();
        Self { domains }
    }

    /// True when `message_id` (with or without angle brackets) is in the namespace.
    pub fn contains(&self, message_id: &str) -> bool {
        let id = normal_id(message_id);
        let (local, domain) = id.rsplit_once('@').unwrap_or((id.as_str(), ""));
        local.starts_with("rapport.") || self.domains.iter().any(|d| d == domain)
    }
}

/// A Message-ID as Rapport compares its own: no angle brackets or white space, lower case.
pub fn normal_id(message_id: &str) -> String {
    message_id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_ascii_lowercase()
}

/// The [`MessageIdNamespace`] of this installation's mailboxes.
pub async fn own_namespace(c: &mut dyn Conn) -> Result<MessageIdNamespace> {
    let addresses: Vec<String> = c
        .query("SELECT address FROM mailboxes", &[])
        .await?
        .iter()
        .map(|r| r.text("address"))
        .collect::<Result<_>>()?;
    Ok(MessageIdNamespace::new(
        addresses.iter().map(String::as_str),
    ))
}

/// Remembers a Message-ID Rapport sent, with the ticket it was sent from (and the reply it
/// carried, if any). A sent ID is never overwritten.
pub async fn remember_sent(
    c: &mut dyn Conn,
    message_id: &str,
    ticket_id: i64,
    reply_id: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "INSERT INTO mail_sent (message_id, ticket_id, reply_id, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        &[
            normal_id(message_id).into(),
            ticket_id.into(),
            reply_id.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The Message-ID of an agent's reply: the one stored with it, or else `fresh`, stored
/// now — so every retry of its delivery sends the same message.
pub async fn reply_message_id(
    c: &mut dyn Conn,
    reply_id: i64,
    ticket_id: i64,
    fresh: &str,
    now: Timestamp,
) -> Result<String> {
    remember_sent(c, fresh, ticket_id, Some(reply_id), now).await?;
    c.one(
        "SELECT message_id FROM mail_sent WHERE reply_id = $1",
        &[reply_id.into()],
    )
    .await?
    .text("message_id")
}

/// The ticket Rapport sent a Message-ID from, if it sent it.
pub async fn ticket_for_sent_id(c: &mut dyn Conn, message_id: &str) -> Result<Option<i64>> {
    c.opt(
        "SELECT ticket_id FROM mail_sent WHERE message_id = $1",
        &[normal_id(message_id).into()],
    )
    .await?
    .map(|r| r.int("ticket_id"))
    .transpose()
}

/// The ticket with a number, if any (for `[#1042]` in a subject).
pub async fn ticket_by_number(c: &mut dyn Conn, number: i64) -> Result<Option<i64>> {
    c.opt("SELECT id FROM tickets WHERE number = $1", &[number.into()])
        .await?
        .map(|r| r.int("id"))
        .transpose()
}

/// What automatic mail about a ticket needs: its number and subject, the customer, and
/// the mailbox to send from (the one the conversation came in on, else the first).
#[derive(Debug, Clone)]
pub struct TicketContext {
    /// The ticket id.
    pub ticket_id: i64,
    /// Its number.
    pub number: i64,
    /// Its subject.
    pub subject: String,
    /// The customer's address and name.
    pub customer: (String, String),
    /// True when mail to the customer bounces.
    pub customer_bouncing: bool,
    /// The mailbox's address and name.
    pub from: Option<(String, String)>,
}

/// Loads a ticket's [`TicketContext`].
pub async fn ticket_context(c: &mut dyn Conn, ticket_id: i64) -> Result<TicketContext> {
    let r = c
        .opt(
            "SELECT t.number, t.subject, cu.email, cu.name, cu.attributes
             FROM tickets t JOIN customers cu ON cu.id = t.customer_id WHERE t.id = $1",
            &[ticket_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("ticket"))?;
    let attrs: serde_json::Value = serde_json::from_str(&r.text("attributes")?).unwrap_or_default();
    Ok(TicketContext {
        ticket_id,
        number: r.int("number")?,
        subject: r.text("subject")?,
        customer: (r.text("email")?, r.text("name")?),
        customer_bouncing: attrs["email_bouncing"] == serde_json::Value::Bool(true),
        from: sender_for(c, Some(ticket_id)).await?,
    })
}

/// The mailbox automatic mail goes out from: the one a ticket's mail came in on, else
/// the first mailbox.
pub async fn sender_for(
    c: &mut dyn Conn,
    ticket_id: Option<i64>,
) -> Result<Option<(String, String)>> {
    if let Some(t) = ticket_id {
        let r = c
            .opt(
                "SELECT b.address, b.name FROM inbound_mail i JOIN mailboxes b ON b.id = i.mailbox_id
                 WHERE i.ticket_id = $1 ORDER BY i.id DESC LIMIT 1",
                &[t.into()],
            )
            .await?;
        if let Some(r) = r {
            return Ok(Some((r.text("address")?, r.text("name")?)));
        }
    }
    c.opt(
        "SELECT address, name FROM mailboxes ORDER BY id LIMIT 1",
        &[],
    )
    .await?
    .map(|r| Ok((r.text("address")?, r.text("name")?)))
    .transpose()
}

/// True when `address` is one of Rapport's own mailboxes (never auto-answer those: two
/// help desks would answer each other forever).
pub async fn is_own_address(c: &mut dyn Conn, address: &str) -> Result<bool> {
    Ok(c.opt(
        "SELECT id FROM mailboxes WHERE address = $1",
        &[address.to_ascii_lowercase().into()],
    )
    .await?
    .is_some())
}

/// Renames a mailbox (the name mail is sent under).
pub async fn rename_mailbox(c: &mut dyn Conn, id: i64, name: &str) -> Result<()> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "must be 1 to 100 characters").into());
    }
    c.execute(
        "UPDATE mailboxes SET name = $1 WHERE id = $2",
        &[name.into(), id.into()],
    )
    .await?;
    Ok(())
}
