//! A conversation's messages as its visitor sends and reads them. What the visitor sends
//! is stored once per client id: a resend after a reconnect answers with the message
//! already stored, so nothing doubles; the answer comes after the commit, so a message
//! the visitor was told is stored survives a crash.

use rapport_domain::chat::ClientId;
use rapport_domain::{AuthorKind, Body, Channel, MessageSight, Principal, Timestamp};

use super::Conversation;
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::tickets;

/// A message as the visitor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Message id (increases along the thread).
    pub id: i64,
    /// `agent`, `visitor` or `bot`.
    pub author: &'static str,
    /// The agent's name, or the visitor's (may be empty).
    pub name: String,
    /// The text.
    pub body: String,
    /// When it was written.
    pub at: Timestamp,
    /// Its files (the visitor downloads them with their token, [`super::files`]).
    pub files: Vec<super::files::FileMeta>,
    /// A bot answer's sources `(title, url)`.
    pub sources: Vec<(String, String)>,
    /// Whether it is a bot answer awaiting the visitor's verdict ("Did that solve it?").
    pub asks_verdict: bool,
}

/// A stored visitor message: its id and time, and whether this call stored it (false: a
/// resend of a message stored before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    /// Message id.
    pub id: i64,
    /// When it was stored.
    pub at: Timestamp,
    /// Whether this call stored it.
    pub new: bool,
}

async fn already(
    c: &mut dyn Conn,
    conv: &Conversation,
    client_id: &ClientId,
) -> Result<Option<Stored>> {
    let r = c
        .opt(
            "SELECT m.id, m.created_at FROM chat_sent s JOIN messages m ON m.id = s.message_id
             WHERE s.ticket_id = $1 AND s.client_id = $2",
            &[conv.ticket_id.into(), client_id.as_str().into()],
        )
        .await?;
    r.map(|r| {
        Ok(Stored {
            id: r.int("id")?,
            at: Timestamp(r.int("created_at")?),
            new: false,
        })
    })
    .transpose()
}

/// Stores a visitor's message once per `client_id`. The claim on the client id is taken
/// first (`ON CONFLICT DO NOTHING`), so two sockets sending the same message at once
/// store it once: the second waits for the first's commit and answers with its message.
pub async fn post(
    c: &mut dyn Conn,
    conv: &Conversation,
    client_id: &ClientId,
    body: &Body,
    now: Timestamp,
) -> Result<Stored> {
    post_with(c, conv, client_id, body, Vec::new(), now).await
}

/// [`post`] with attachments (a file the visitor sent, [`super::files::post`]).
pub(super) async fn post_with(
    c: &mut dyn Conn,
    conv: &Conversation,
    client_id: &ClientId,
    body: &Body,
    attachments: Vec<crate::messages::NewAttachment>,
    now: Timestamp,
) -> Result<Stored> {
    if let Some(s) = already(c, conv, client_id).await? {
        return Ok(s);
    }
    let claimed = c
        .opt(
            "INSERT INTO chat_sent (ticket_id, client_id) VALUES ($1, $2)
             ON CONFLICT (ticket_id, client_id) DO NOTHING RETURNING ticket_id",
            &[conv.ticket_id.into(), client_id.as_str().into()],
        )
        .await?;
    if claimed.is_none() {
        return already(c, conv, client_id).await?.ok_or_else(|| {
            StoreError::Conflict("this message is being stored; send it again".into())
        });
    }
    let who = Principal::Customer(conv.customer_id);
    let msg = tickets::customer_reply(
        c,
        &who,
        conv.ticket_id,
        body,
        Channel::Chat,
        attachments,
        now,
    )
    .await?;
    c.execute(
        "UPDATE chat_sent SET message_id = $1 WHERE ticket_id = $2 AND client_id = $3",
        &[
            msg.id.into(),
            conv.ticket_id.into(),
            client_id.as_str().into(),
        ],
    )
    .await?;
    Ok(Stored {
        id: msg.id,
        at: now,
        new: true,
    })
}

/// The messages after `after` that the visitor may read (their own and the agents'
/// public replies — never a note), oldest first, at most `limit`. Reads only what is newer
/// (the thread's index), so a long conversation costs no more per new message; who may
/// read what is [`Principal::can_see_message`], as everywhere.
pub async fn after(
    c: &mut dyn Conn,
    conv: &Conversation,
    after: i64,
    limit: usize,
) -> Result<Vec<ChatMessage>> {
    let who = Principal::Customer(conv.customer_id);
    tickets::get(c, &who, conv.ticket_id).await?;
    let mut out = Vec::new();
    let mut from = after;
    while out.len() < limit {
        let (page, scanned) = page(c, &who, conv, from, limit - out.len()).await?;
        out.extend(page);
        match scanned {
            Some(last) => from = last,
            None => break,
        }
    }
    Ok(out)
}

/// One page of rows after `after`: the readable ones, and the last id scanned (`None`
/// when the thread has no more).
async fn page(
    c: &mut dyn Conn,
    who: &Principal,
    conv: &Conversation,
    after: i64,
    limit: usize,
) -> Result<(Vec<ChatMessage>, Option<i64>)> {
    let rows = c
        .query(
            "SELECT m.id, m.author_kind, m.author_customer_id, m.internal, m.body, m.created_at,
                    COALESCE(u.name, '') AS agent_name, bt.sources AS bot_sources,
                    bt.kind AS bot_kind,
                    COALESCE(m.recipient_customer_id, t.customer_id) AS conversation_of
             FROM messages m JOIN tickets t ON t.id = m.ticket_id
             LEFT JOIN users u ON u.id = m.author_user_id
             LEFT JOIN bot_turns bt ON bt.message_id = m.id
             WHERE m.ticket_id = $1 AND m.id > $2 AND m.internal = $3
             ORDER BY m.id LIMIT $4",
            &[
                conv.ticket_id.into(),
                after.into(),
                false.into(),
                i64::try_from(limit).unwrap_or(i64::MAX).into(),
            ],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = r.int("id")?;
        let raw = r.text("author_kind")?;
        let kind = AuthorKind::parse(&raw)
            .ok_or_else(|| StoreError::Db(format!("unknown author kind {raw:?}")))?;
        let sight = MessageSight {
            internal: r.bool("internal")?,
            author: kind,
            author_customer: r.opt_int("author_customer_id")?,
            conversation_of: r.int("conversation_of")?,
        };
        if !who.can_see_message(&sight) {
            continue;
        }
        let (author, name) = match kind {
            AuthorKind::Agent => ("agent", r.text("agent_name")?),
            AuthorKind::Customer => ("visitor", String::new()),
            AuthorKind::Bot => ("bot", String::new()),
            AuthorKind::System => continue,
        };
        let sources: Vec<crate::bot::TurnSource> = match r.opt_text("bot_sources")? {
            Some(raw) => serde_json::from_str(&raw)
                .map_err(|e| StoreError::Db(format!("bot turn sources: {e}")))?,
            None => Vec::new(),
        };
        let asks_verdict =
            r.opt_text("bot_kind")?.as_deref() == Some("answer") && !sources.is_empty();
        out.push(ChatMessage {
            id,
            author,
            name,
            body: r.text("body")?,
            at: Timestamp(r.int("created_at")?),
            files: Vec::new(),
            sources: sources.into_iter().map(|s| (s.title, s.url)).collect(),
            asks_verdict,
        });
    }
    if let (Some(first), Some(last)) = (out.first().map(|m| m.id), out.last().map(|m| m.id)) {
        let files = super::files::of_messages(c, conv.ticket_id, first, last).await?;
        for m in &mut out {
            m.files = files
                .iter()
                .filter(|(id, _)| *id == m.id)
                .map(|(_, f)| f.clone())
                .collect();
        }
    }
    let more = rows.len() == limit;
    let scanned = match rows.last() {
        Some(r) if more => Some(r.int("id")?),
        _ => None,
    };
    Ok((out, scanned))
}

/// The newest message id the visitor may read (0: none).
pub async fn last_id(c: &mut dyn Conn, conv: &Conversation) -> Result<i64> {
    let mut last = 0;
    loop {
        let batch = after(c, conv, last, 500).await?;
        let Some(m) = batch.last() else {
            return Ok(last);
        };
        last = m.id;
        if batch.len() < 500 {
            return Ok(last);
        }
    }
}
