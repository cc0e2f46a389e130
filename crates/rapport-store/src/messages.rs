//! Messages on a ticket — public replies and internal notes — and their attachments.

use rapport_domain::sentiment::Sentiment;
use rapport_domain::{AuthorKind, Body, Channel, FieldError, MessageSight, Principal, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::Actor;
use crate::search;

/// The largest single attachment accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// The most attachments on one message.
pub const MAX_ATTACHMENTS: usize = 10;
/// The largest total size of one message's attachments.
pub const MAX_ATTACHMENTS_TOTAL: usize = 25 * 1024 * 1024;

/// A file to attach, already decoded.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    /// The name shown to people (no path).
    pub filename: String,
    /// The MIME type as given.
    pub content_type: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// The Content-ID of an inline image (`cid:` references in the HTML point to it).
    pub content_id: Option<String>,
}

impl NewAttachment {
    /// Checks one message's attachments against the limits; errors name the field
    /// (`attachments[2].data`).
    pub fn check_all(list: &[NewAttachment]) -> Result<(), FieldError> {
        if list.len() > MAX_ATTACHMENTS {
            return Err(FieldError::new(
                "attachments",
                format!("at most {MAX_ATTACHMENTS} attachments per message"),
            ));
        }
        let mut total = 0;
        for (i, a) in list.iter().enumerate() {
            let f = |name: &str| format!("attachments[{i}].{name}");
            let name = a.filename.trim();
            if name.is_empty()
                || name.chars().count() > 255
                || name.contains(['/', '\\', '\0'])
                || name == ".."
            {
                return Err(FieldError::new(
                    f("filename"),
                    "must be a file name of 1 to 255 characters without slashes",
                ));
            }
            let ct = a.content_type.trim();
            if ct.is_empty()
                || ct.len() > 127
                || !ct.contains('/')
                || ct.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(FieldError::new(
                    f("content_type"),
                    "must be a MIME type like image/png",
                ));
            }
            if a.data.is_empty() {
                return Err(FieldError::new(f("data"), "is empty"));
            }
            if a.data.len() > MAX_ATTACHMENT_BYTES {
                return Err(FieldError::new(f("data"), "is larger than 10 MiB"));
            }
            total += a.data.len();
        }
        if total > MAX_ATTACHMENTS_TOTAL {
            return Err(FieldError::new(
                "attachments",
                "together are larger than 25 MiB",
            ));
        }
        Ok(())
    }
}

/// What is known of an attachment without its bytes.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentMeta {
    /// Database id; download at `/api/v1/attachments/{id}`.
    pub id: i64,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// The Content-ID of an inline image in an email.
    pub content_id: Option<String>,
}

/// An attachment with its bytes and the ticket it belongs to (for the permission check).
#[derive(Debug, Clone)]
pub struct AttachmentFile {
    /// Metadata.
    pub meta: AttachmentMeta,
    /// The ticket whose message carries it.
    pub ticket_id: i64,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Serialize)]
pub struct Author {
    /// `customer`, `agent` or `system`.
    pub kind: AuthorKind,
    /// The agent, when an agent wrote it.
    pub user_id: Option<i64>,
    /// The customer, when the customer wrote it.
    pub customer_id: Option<i64>,
}

/// A message in a ticket's thread.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// Database id.
    pub id: i64,
    /// Its ticket.
    pub ticket_id: i64,
    /// Who wrote it.
    pub author: Author,
    /// True for an internal note the customer never sees.
    pub internal: bool,
    /// The channel it came or went through.
    pub channel: Channel,
    /// The text.
    pub body: String,
    /// For email: the message's own HTML, sanitised (inline images as `cid:` links).
    pub html: Option<String>,
    /// Attached files.
    pub attachments: Vec<AttachmentMeta>,
    /// For replies sent by email: `queued`, `retrying`, `sent` or `failed`.
    pub delivery: Option<Delivery>,
    /// Why the last delivery attempt failed.
    pub delivery_error: Option<String>,
    /// For a received email: the address in its From header, the one it really came from.
    pub from_address: Option<String>,
    /// When it was written.
    pub created_at: Timestamp,
    /// A customer's message: its mood (read as it arrived, or now for one stored before).
    pub sentiment: Option<Sentiment>,
}

/// A score as stored: thousandths.
fn milli(s: Sentiment) -> i64 {
    (s.score * 1000.0).round() as i64
}

/// A message's mood: as stored, or read now from a customer's message stored before
/// moods were.
fn sentiment_of(kind: AuthorKind, stored: Option<i64>, body: &str) -> Option<Sentiment> {
    match (kind, stored) {
        (_, Some(m)) => Some(Sentiment::from_score(m as f64 / 1000.0)),
        (AuthorKind::Customer, None) => Some(rapport_domain::sentiment::read(body)),
        _ => None,
    }
}

/// Inserts a message with its attachments and search entry.
#[expect(clippy::too_many_arguments, reason = "one row's columns")]
pub(crate) async fn insert(
    c: &mut dyn Conn,
    ticket_id: i64,
    author: Actor,
    internal: bool,
    channel: Channel,
    body: &Body,
    attachments: Vec<NewAttachment>,
    now: Timestamp,
) -> Result<Message> {
    let (kind, user_id, customer_id) = match author {
        Actor::User(u) => (AuthorKind::Agent, Some(u), None),
        Actor::Customer(cu) => (AuthorKind::Customer, None, Some(cu)),
        Actor::System => (AuthorKind::System, None, None),
        Actor::Bot => (AuthorKind::Bot, None, None),
    };
    // Read before the transaction by callers that ask the body first (kept in it).
    let sentiment = (kind == AuthorKind::Customer).then(|| body.sentiment());
    let id = c
        .one(
            "INSERT INTO messages (ticket_id, author_kind, author_user_id, author_customer_id,
                                   internal, channel, body, created_at, sentiment)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                ticket_id.into(),
                kind.as_str().into(),
                user_id.into(),
                customer_id.into(),
                internal.into(),
                channel.as_str().into(),
                body.as_str().into(),
                now.into(),
                sentiment.map(milli).into(),
            ],
        )
        .await?
        .int("id")?;
    let mut metas = Vec::with_capacity(attachments.len());
    for a in attachments {
        let sha = hex::encode(Sha256::digest(&a.data));
        let size = i64::try_from(a.data.len()).unwrap_or(i64::MAX);
        let aid = c
            .one(
                "INSERT INTO attachments (message_id, filename, content_type, size, sha256, data, created_at, content_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    id.into(),
                    a.filename.trim().into(),
                    a.content_type.trim().into(),
                    size.into(),
                    sha.clone().into(),
                    a.data.into(),
                    now.into(),
                    a.content_id.clone().into(),
                ],
            )
            .await?
            .int("id")?;
        metas.push(AttachmentMeta {
            id: aid,
            filename: a.filename.trim().to_owned(),
            content_type: a.content_type.trim().to_owned(),
            size,
            sha256: sha,
            content_id: a.content_id,
        });
    }
    search::index_message(c, id, ticket_id, body.as_str()).await?;
    Ok(Message {
        id,
        ticket_id,
        author: Author {
            kind,
            user_id,
            customer_id,
        },
        internal,
        channel,
        body: body.as_str().to_owned(),
        html: None,
        attachments: metas,
        delivery: None,
        delivery_error: None,
        from_address: None,
        created_at: now,
        sentiment,
    })
}

/// A ticket's thread, oldest first, as `who` may read it: the ticket must be one they
/// can see (see [`tickets::get`](crate::tickets::get)), and a customer gets only the
/// public messages of their own conversation — never an internal note or a note of
/// Rapport's, nor their files, nor what a merge brought from another customer's ticket
/// (see [`Principal::can_see_message`]).
pub async fn for_ticket(c: &mut dyn Conn, who: &Principal, ticket_id: i64) -> Result<Vec<Message>> {
    crate::tickets::get(c, who, ticket_id).await?;
    let rows = c
        .query(
            "SELECT m.id, m.ticket_id, m.author_kind, m.author_user_id, m.author_customer_id,
                    m.internal, m.channel, m.body, m.created_at, m.delivery, m.delivery_error,
                    m.html, m.from_address, m.sentiment,
                    COALESCE(m.recipient_customer_id, t.customer_id) AS conversation_of
             FROM messages m JOIN tickets t ON t.id = m.ticket_id
             WHERE m.ticket_id = $1 ORDER BY m.id",
            &[ticket_id.into()],
        )
        .await?;
    let atts = c
        .query(
            "SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256, a.content_id
             FROM attachments a JOIN messages m ON m.id = a.message_id
             WHERE m.ticket_id = $1 ORDER BY a.id",
            &[ticket_id.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = r.int("id")?;
        let body = r.text("body")?;
        let kind = author_kind(&r.text("author_kind")?)?;
        let internal = r.bool("internal")?;
        let sight = MessageSight {
            internal,
            author: kind,
            author_customer: r.opt_int("author_customer_id")?,
            conversation_of: r.int("conversation_of")?,
        };
        if !who.can_see_message(&sight) {
            continue;
        }
        let mut attachments = Vec::new();
        for a in atts.iter().filter(|a| a.int("message_id").ok() == Some(id)) {
            attachments.push(AttachmentMeta {
                id: a.int("id")?,
                filename: a.text("filename")?,
                content_type: a.text("content_type")?,
                size: a.int("size")?,
                sha256: a.text("sha256")?,
                content_id: a.opt_text("content_id")?,
            });
        }
        out.push(Message {
            id,
            ticket_id: r.int("ticket_id")?,
            author: Author {
                kind,
                user_id: r.opt_int("author_user_id")?,
                customer_id: r.opt_int("author_customer_id")?,
            },
            internal,
            channel: Channel::parse(&r.text("channel")?)?,
            html: r.opt_text("html")?,
            attachments,
            delivery: r
                .opt_text("delivery")?
                .map(|d| {
                    Delivery::parse(&d)
                        .ok_or_else(|| StoreError::Db(format!("unknown delivery state {d:?}")))
                })
                .transpose()?,
            delivery_error: r.opt_text("delivery_error")?,
            from_address: r.opt_text("from_address")?,
            created_at: Timestamp(r.int("created_at")?),
            sentiment: sentiment_of(kind, r.opt_int("sentiment")?, &body),
            body,
        });
    }
    Ok(out)
}

fn author_kind(raw: &str) -> Result<AuthorKind> {
    AuthorKind::parse(raw).ok_or_else(|| StoreError::Db(format!("unknown author kind {raw:?}")))
}

/// One attachment with its bytes, if `who` may read the message that carries it: the
/// ticket must be one they can see, and a customer never gets the file of an internal
/// note ("not found", as if it did not exist).
pub async fn visible_attachment(
    c: &mut dyn Conn,
    who: &Principal,
    id: i64,
) -> Result<AttachmentFile> {
    let r = c
        .opt(
            "SELECT a.id, a.filename, a.content_type, a.size, a.sha256, m.ticket_id, a.data,
                    a.content_id, m.internal, m.author_kind, m.author_customer_id,
                    COALESCE(m.recipient_customer_id, t.customer_id) AS conversation_of
             FROM attachments a JOIN messages m ON m.id = a.message_id
             JOIN tickets t ON t.id = m.ticket_id WHERE a.id = $1",
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("attachment"))?;
    let ticket_id = r.int("ticket_id")?;
    crate::tickets::get(c, who, ticket_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => StoreError::NotFound("attachment"),
            e => e,
        })?;
    let sight = MessageSight {
        internal: r.bool("internal")?,
        author: author_kind(&r.text("author_kind")?)?,
        author_customer: r.opt_int("author_customer_id")?,
        conversation_of: r.int("conversation_of")?,
    };
    if !who.can_see_message(&sight) {
        return Err(StoreError::NotFound("attachment"));
    }
    Ok(AttachmentFile {
        meta: AttachmentMeta {
            id: r.int("id")?,
            filename: r.text("filename")?,
            content_type: r.text("content_type")?,
            size: r.int("size")?,
            sha256: r.text("sha256")?,
            content_id: r.opt_text("content_id")?,
        },
        ticket_id,
        data: r.blob("data")?,
    })
}

/// Records the address a received email really came from (its From header).
pub async fn set_from_address(c: &mut dyn Conn, message_id: i64, address: &str) -> Result<()> {
    c.execute(
        "UPDATE messages SET from_address = $1 WHERE id = $2",
        &[address.into(), message_id.into()],
    )
    .await?;
    Ok(())
}

/// Keeps the sanitised HTML of an email message beside its text.
pub async fn set_html(c: &mut dyn Conn, message_id: i64, html: &str) -> Result<()> {
    c.execute(
        "UPDATE messages SET html = $1 WHERE id = $2",
        &[html.into(), message_id.into()],
    )
    .await?;
    Ok(())
}

/// Where the email delivery of a public reply stands, for the agent to see. Stored (and
/// sent in the API) as `queued`, `retrying`, `sent` or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// Waiting for its first attempt.
    Queued,
    /// An attempt failed; it will be tried again.
    Retrying,
    /// The relay took it.
    Sent,
    /// It will not be sent: refused for good, or out of attempts.
    Failed,
}

impl Delivery {
    /// The stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Retrying => "retrying",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// Reads the stored name back; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Queued, Self::Retrying, Self::Sent, Self::Failed]
            .into_iter()
            .find(|d| d.as_str() == raw)
    }
}

/// Records where a reply's delivery stands, with why the last attempt failed (cut to
/// 1,000 characters).
pub async fn set_delivery(
    c: &mut dyn Conn,
    message_id: i64,
    state: Delivery,
    error: Option<&str>,
) -> Result<()> {
    c.execute(
        "UPDATE messages SET delivery = $1, delivery_error = $2 WHERE id = $3",
        &[
            state.as_str().into(),
            error
                .map(|e| e.chars().take(1_000).collect::<String>())
                .into(),
            message_id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The id of a ticket's newest message (the one an operation just added).
pub async fn latest_id(c: &mut dyn Conn, ticket_id: i64) -> Result<i64> {
    c.opt(
        "SELECT MAX(id) AS id FROM messages WHERE ticket_id = $1",
        &[ticket_id.into()],
    )
    .await?
    .and_then(|r| r.opt_int("id").transpose())
    .transpose()?
    .ok_or(StoreError::NotFound("message"))
}
