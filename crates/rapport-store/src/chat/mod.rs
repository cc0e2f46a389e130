//! Live chat: a conversation is a ticket of channel `chat` that a visitor's browser
//! reaches with a random token bound to it (stored as its SHA-256, like every token).
//! [`start`] opens one; [`authenticate`] turns a token into the [`Conversation`] it is
//! bound to — and that conversation is all its holder can ever read or write.
//! [`messages`] stores what the visitor sends (once per client id) and reads the thread
//! as the visitor may see it; [`email`] carries a conversation on by email;
//! [`settings`] holds the admin's settings; [`profile`] sets the visitor's name and
//! address later; [`files`] carries files both ways; [`history`] lists a verified site
//! user's earlier conversations; [`preview`] keeps the visitor's unsent text when the
//! admin turned the typing preview on.
//!
//! A visitor without an address gets a customer of their own with a placeholder address
//! under `chat.invalid` (a reserved name that can never receive mail), so every chat has a
//! customer like every other ticket; giving an address later moves the conversation to
//! the customer with that address.

pub mod email;
pub mod files;
pub mod handoff;
pub mod history;
pub mod messages;
pub mod preview;
pub mod profile;
pub mod settings;

use rapport_domain::chat::{ClientId, ExternalId};
use rapport_domain::{Body, Channel, CustomerName, EmailAddress, Priority, Subject, Timestamp};
use serde_json::Map;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::secrets::{random_hex, token_hash};
use crate::{customers, tickets};

/// The domain of placeholder addresses (RFC 2606: never delivered).
pub const PLACEHOLDER_DOMAIN: &str = "chat.invalid";

/// A conversation, as its token's holder acts in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// The ticket.
    pub ticket_id: i64,
    /// The customer the visitor acts as (only ever in this conversation).
    pub customer_id: i64,
    /// Whether the customer is a placeholder (no address given).
    pub anonymous: bool,
    /// The address the visitor gave, if any.
    pub email: Option<String>,
    /// Whether the conversation goes on by email.
    pub by_email: bool,
}

/// What a visitor gives to start a conversation, already parsed.
#[derive(Debug, Clone)]
pub struct NewChat {
    /// Their name, if given.
    pub name: Option<CustomerName>,
    /// Their address, if given (unverified, like an email's From).
    pub email: Option<EmailAddress>,
    /// A site user's id whose signature was checked ([`settings::verify_identity`]).
    pub identity: Option<ExternalId>,
    /// The first message.
    pub body: Body,
    /// Its client id, if the browser gave one (a resend over the socket is then a no-op).
    pub client_id: Option<ClientId>,
}

/// A started conversation: the ticket and the token (shown once, never stored).
#[derive(Debug, Clone)]
pub struct Started {
    /// The conversation.
    pub conversation: Conversation,
    /// The first message's id.
    pub message_id: i64,
    /// The visitor's token.
    pub token: String,
}

/// A new visitor token.
pub fn new_token() -> String {
    format!("rchat_{}", random_hex(32))
}

fn placeholder_email() -> Result<EmailAddress> {
    Ok(EmailAddress::parse(&format!(
        "visitor-{}@{PLACEHOLDER_DOMAIN}",
        random_hex(8)
    ))?)
}

/// Whether an address is a chat placeholder.
pub fn is_placeholder(email: &str) -> bool {
    email
        .rsplit_once('@')
        .is_some_and(|(_, d)| d.eq_ignore_ascii_case(PLACEHOLDER_DOMAIN))
}

/// Opens a conversation: finds the customer (a verified site user's, the one with the
/// given address, or a new placeholder), opens the ticket with the first message, and
/// binds a new token to it.
pub async fn start(c: &mut dyn Conn, chat: NewChat, now: Timestamp) -> Result<Started> {
    let linked = match &chat.identity {
        Some(id) => c
            .opt(
                "SELECT customer_id FROM chat_identities WHERE external_id = $1",
                &[id.as_str().into()],
            )
            .await?
            .map(|r| r.int("customer_id"))
            .transpose()?,
        None => None,
    };
    let (customer_email, anonymous) = match (linked, &chat.email) {
        (Some(id), _) => {
            let email = customers::get(c, id).await?.email;
            let anonymous = is_placeholder(&email);
            (EmailAddress::parse(&email)?, anonymous)
        }
        (None, Some(e)) => (e.clone(), false),
        (None, None) => (placeholder_email()?, true),
    };
    // A verified site user is linked for good only to a customer with no typed address:
    // an address typed in the widget proves nothing, so neither a customer that already
    // has it (from email, the portal, another chat) nor one created with it now is ever
    // tied to the site's user id (or anyone could claim an address nobody has used yet).
    let link = chat.identity.is_some() && linked.is_none() && chat.email.is_none();
    let subject = Subject::from_mail(&format!("Chat: {}", chat.body.preview(80)));
    let ticket = tickets::create(
        c,
        None,
        tickets::NewTicket {
            subject,
            body: chat.body,
            customer_email,
            customer_name: chat.name,
            channel: Channel::Chat,
            priority: Priority::Normal,
            category: None,
            tags: Vec::new(),
            custom_fields: Map::new(),
            team_id: None,
            assignee_id: None,
            attachments: Vec::new(),
        },
        now,
    )
    .await?;
    let customer_id = ticket.customer.id;
    if let (true, Some(id)) = (link, &chat.identity) {
        c.execute(
            "INSERT INTO chat_identities (external_id, customer_id, created_at) VALUES ($1, $2, $3)",
            &[id.as_str().into(), customer_id.into(), now.into()],
        )
        .await?;
    }
    let token = new_token();
    let email = chat.email.map(|e| e.as_str().to_owned());
    let external = chat.identity.as_ref().map(|i| i.as_str().to_owned());
    c.execute(
        "INSERT INTO chat_conversations (ticket_id, token_hash, customer_id, anonymous, email, by_email, created_at, external_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            ticket.id.into(),
            token_hash(&token).into(),
            customer_id.into(),
            anonymous.into(),
            email.clone().into(),
            false.into(),
            now.into(),
            external.into(),
        ],
    )
    .await?;
    let message_id = crate::messages::latest_id(c, ticket.id).await?;
    if let Some(client_id) = &chat.client_id {
        c.execute(
            "INSERT INTO chat_sent (ticket_id, client_id, message_id) VALUES ($1, $2, $3)",
            &[
                ticket.id.into(),
                client_id.as_str().into(),
                message_id.into(),
            ],
        )
        .await?;
    }
    Ok(Started {
        conversation: Conversation {
            ticket_id: ticket.id,
            customer_id,
            anonymous,
            email,
            by_email: false,
        },
        message_id,
        token,
    })
}

/// The conversation a token is bound to; `NotFound` for any other string.
pub async fn authenticate(c: &mut dyn Conn, token: &str) -> Result<Conversation> {
    if !token.starts_with("rchat_") || token.len() > 100 {
        return Err(StoreError::NotFound("conversation"));
    }
    let r = c
        .opt(
            "SELECT v.ticket_id, v.customer_id, v.anonymous, v.email, v.by_email
             FROM chat_conversations v WHERE v.token_hash = $1",
            &[token_hash(token).into()],
        )
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    conversation(&r)
}

/// The start of conversation `ticket_id` sent again (its answer was lost): the same
/// conversation, whose first message carried `client_id` and `body`, with a new token (the
/// old one never reached the visitor; it stops working). `None` when that conversation did
/// not start with this message.
pub async fn restart(
    c: &mut dyn Conn,
    ticket_id: i64,
    client_id: &ClientId,
    body: &Body,
) -> Result<Option<Started>> {
    let first = c
        .opt(
            "SELECT s.message_id, m.body FROM chat_sent s JOIN messages m ON m.id = s.message_id
             WHERE s.ticket_id = $1 AND s.client_id = $2",
            &[ticket_id.into(), client_id.as_str().into()],
        )
        .await?;
    let Some(first) = first else { return Ok(None) };
    if first.text("body")? != body.as_str() {
        return Ok(None);
    }
    let conversation = current(c, ticket_id).await?;
    let token = new_token();
    c.execute(
        "UPDATE chat_conversations SET token_hash = $1 WHERE ticket_id = $2",
        &[token_hash(&token).into(), ticket_id.into()],
    )
    .await?;
    Ok(Some(Started {
        conversation,
        message_id: first.int("message_id")?,
        token,
    }))
}

/// Whether the ticket is a live chat's (it has a conversation and a visitor's token).
pub async fn exists(c: &mut dyn Conn, ticket_id: i64) -> Result<bool> {
    Ok(c.opt(
        "SELECT ticket_id FROM chat_conversations WHERE ticket_id = $1",
        &[ticket_id.into()],
    )
    .await?
    .is_some())
}

/// The conversation as it is now, refused with `this ticket is closed` (a `closed` frame)
/// once its ticket is closed: what a visitor's frames other than reading act on.
pub async fn open(c: &mut dyn Conn, ticket_id: i64) -> Result<Conversation> {
    let t = tickets::get_unchecked(c, ticket_id, true).await?;
    if t.status == rapport_domain::TicketStatus::Closed {
        return Err(StoreError::Conflict("this ticket is closed".into()));
    }
    current(c, ticket_id).await
}

/// The conversation on a ticket as it is now (another socket of the same visitor may
/// have moved it to a customer with an address since this one authenticated).
pub async fn current(c: &mut dyn Conn, ticket_id: i64) -> Result<Conversation> {
    let r = c
        .opt(
            "SELECT ticket_id, customer_id, anonymous, email, by_email
             FROM chat_conversations WHERE ticket_id = $1",
            &[ticket_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("conversation"))?;
    conversation(&r)
}

fn conversation(r: &crate::value::Row) -> Result<Conversation> {
    Ok(Conversation {
        ticket_id: r.int("ticket_id")?,
        customer_id: r.int("customer_id")?,
        anonymous: r.bool("anonymous")?,
        email: r.opt_text("email")?,
        by_email: r.bool("by_email")?,
    })
}

/// Whether any active agent is online for chats: they set their chat status to online
/// and are at work ([`at_work`]: the rule assignment follows too) — a browser session of
/// theirs was used, or they were on a ticket page (presence), within the last five
/// minutes. An agent who went home still "online" does not make the widget promise an
/// answer in seconds.
pub async fn agents_online(c: &mut dyn Conn, now: Timestamp) -> Result<bool> {
    let r = c
        .opt(
            &format!(
                "SELECT u.id FROM users u
                 WHERE u.active = $3 AND u.chat_status = $4 AND {} LIMIT 1",
                at_work("$1", "$2")
            ),
            &[
                now.into(),
                now.plus_secs(-AT_WORK_SECS).into(),
                true.into(),
                "online".into(),
            ],
        )
        .await?;
    Ok(r.is_some())
}

/// How recently an agent must have been seen to count as at work (5 minutes).
pub(crate) const AT_WORK_SECS: i64 = 300;

/// The SQL condition "agent `u` is at work": a signed-in session of theirs seen since
/// `since` (a parameter like `$2`), or their presence on a ticket since then. Who may
/// take a chat and whether the widget says agents are online follow this one rule.
pub(crate) fn at_work(now: &str, since: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id AND s.expires_at > {now}
                  AND COALESCE(s.last_seen_at, s.created_at) > {since})
          OR EXISTS (SELECT 1 FROM presence p WHERE p.user_id = u.id AND p.seen_at > {since}))"
    )
}

/// Records that the visitor has read the thread up to message `up_to` (never moves back).
pub async fn mark_read(c: &mut dyn Conn, conv: &Conversation, up_to: i64) -> Result<()> {
    c.execute(
        "UPDATE chat_conversations SET visitor_read_up_to = $1
         WHERE ticket_id = $2 AND visitor_read_up_to < $1
           AND $1 <= (SELECT COALESCE(MAX(id), 0) FROM messages WHERE ticket_id = $2)",
        &[up_to.into(), conv.ticket_id.into()],
    )
    .await?;
    Ok(())
}

/// Records that the visitor is typing (agents' ticket pages on every node read it).
pub async fn visitor_typing(c: &mut dyn Conn, conv: &Conversation, now: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE chat_conversations SET visitor_typing_at = $1 WHERE ticket_id = $2",
        &[now.into(), conv.ticket_id.into()],
    )
    .await?;
    Ok(())
}

/// Whether the visitor of the chat on this ticket typed in the last few seconds (false
/// for a ticket that is no chat).
pub async fn visitor_is_typing(c: &mut dyn Conn, ticket_id: i64, now: Timestamp) -> Result<bool> {
    Ok(c.opt(
        "SELECT ticket_id FROM chat_conversations WHERE ticket_id = $1 AND visitor_typing_at > $2",
        &[ticket_id.into(), now.plus_secs(-VISITOR_TYPING_SECS).into()],
    )
    .await?
    .is_some())
}

/// How long a visitor counts as typing after their last `typing` frame.
pub const VISITOR_TYPING_SECS: i64 = 6;

/// Records that an agent has the chat on this ticket open, so has seen it up to its newest
/// message; returns that message's id when this moved the agents' read mark (`None` for a
/// ticket that is no chat, or nothing new).
pub async fn agent_saw(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<i64>> {
    let Some(latest) = c
        .opt(
            "SELECT MAX(id) AS id FROM messages WHERE ticket_id = $1 AND internal = $2",
            &[ticket_id.into(), false.into()],
        )
        .await?
        .map(|r| r.opt_int("id"))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    let moved = c
        .execute(
            "UPDATE chat_conversations SET agent_read_up_to = $1
             WHERE ticket_id = $2 AND agent_read_up_to < $1",
            &[latest.into(), ticket_id.into()],
        )
        .await?;
    Ok((moved > 0).then_some(latest))
}

/// The agents' read mark on a conversation: the newest message an agent has seen (0: none).
pub async fn agent_read_up_to(c: &mut dyn Conn, ticket_id: i64) -> Result<i64> {
    Ok(c.opt(
        "SELECT agent_read_up_to FROM chat_conversations WHERE ticket_id = $1",
        &[ticket_id.into()],
    )
    .await?
    .map(|r| r.int("agent_read_up_to"))
    .transpose()?
    .unwrap_or(0))
}

/// The subject of a chat that now waits for a person (the agents' new-chat alert), given
/// the kind of event about its ticket: only `handed_over` (the bot passed it on, the
/// visitor asked, or the bot is off and the start placed it).
pub async fn new_chat_subject(
    c: &mut dyn Conn,
    ticket_id: i64,
    kind: &str,
) -> Result<Option<String>> {
    // A chat waits for a person from its handoff: the bot's, the visitor's, or at the
    // start while the bot is off.
    if kind != "handed_over" {
        return Ok(None);
    }
    c.opt(
        "SELECT t.subject FROM chat_conversations v JOIN tickets t ON t.id = v.ticket_id
         WHERE v.ticket_id = $1",
        &[ticket_id.into()],
    )
    .await?
    .map(|r| r.text("subject"))
    .transpose()
}
