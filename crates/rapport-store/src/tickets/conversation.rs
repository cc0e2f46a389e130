//! The conversation on a ticket: agents' replies and notes, the customer's replies, and
//! notes written by Rapport itself.

use rapport_domain::score::{self, Signals};
use rapport_domain::{Body, Channel, EventKind, Principal, TicketStatus, Timestamp, Viewer};
use serde_json::json;

use super::{agent_may_see, check_visible, get_unchecked};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::messages::{self, Delivery, Message, NewAttachment};

/// A reply or note from an agent.
#[derive(Debug, Clone)]
pub struct NewReply {
    /// The text.
    pub body: Body,
    /// A note instead of a public reply.
    pub internal: bool,
    /// Files.
    pub attachments: Vec<NewAttachment>,
    /// A status to set in the same step ("reply and solve"); a public reply on a new or
    /// open ticket otherwise leaves it pending on the customer.
    pub status: Option<TicketStatus>,
    /// Send a public reply to the customer through the ticket's channel, when the channel
    /// delivers replies ([`Channel::delivers_replies`]). False only for replies that are
    /// history, such as imported or generated ones.
    pub deliver: bool,
}

/// Adds an agent's reply or note. A public reply counts as the first response if none
/// came before, and moves the ticket to `pending` (waiting on the customer) unless a
/// status is given; a note changes no status.
pub async fn reply(
    c: &mut dyn Conn,
    viewer: &Viewer,
    id: i64,
    r: NewReply,
    now: Timestamp,
) -> Result<Message> {
    let t = get_unchecked(c, id, true).await?;
    agent_may_see(viewer, &t)?;
    if t.status == TicketStatus::Closed {
        return Err(StoreError::Conflict(
            "this ticket is closed; open a follow-up ticket instead".into(),
        ));
    }
    NewAttachment::check_all(&r.attachments)?;
    let to = match (r.status, r.internal) {
        (Some(s), _) => t.status.transition(s)?,
        (None, true) => t.status,
        (None, false) => TicketStatus::Pending,
    };
    let mut msg = messages::insert(
        c,
        id,
        Actor::User(viewer.user_id),
        r.internal,
        t.channel,
        &r.body,
        r.attachments,
        now,
    )
    .await?;
    let first_response = t
        .first_response_at
        .or(if r.internal { None } else { Some(now) });
    let solved_at = if to == TicketStatus::Solved && t.status != TicketStatus::Solved {
        Some(now)
    } else {
        t.solved_at
    };
    c.execute(
        "UPDATE tickets SET status = $1, message_count = message_count + 1, last_message_at = $2,
                updated_at = $2, first_response_at = $3, solved_at = $4,
                status_since = CASE WHEN status = $1 THEN status_since ELSE $2 END
         WHERE id = $5",
        &[
            to.as_str().into(),
            now.into(),
            first_response.into(),
            solved_at.into(),
            id.into(),
        ],
    )
    .await?;
    // The channel's outbox (a subscriber to the event stream) sends it; the reply is
    // "queued" from now on, so the answer and the thread say so at once.
    let deliver = r.deliver && !r.internal && t.channel.delivers_replies();
    if deliver {
        messages::set_delivery(c, msg.id, Delivery::Queued, None).await?;
        msg.delivery = Some(Delivery::Queued);
    }
    let kind = if r.internal {
        EventKind::NoteAdded
    } else {
        EventKind::ReplyAdded
    };
    let mut data = json!({"message_id": msg.id});
    if to != t.status {
        data["status"] = json!({"from": t.status, "to": to});
    }
    if deliver {
        data["deliver"] = json!(true);
    }
    events::record(c, id, Actor::User(viewer.user_id), kind, &data, now).await?;
    Ok(msg)
}

/// Adds a message the customer wrote (a reply by email, chat or the portal). A solved
/// ticket reopens; a closed one refuses, so the channel can open a follow-up instead.
/// `who` is the customer (only on their own tickets) or Rapport (a channel that threaded
/// the customer's message to this ticket); an agent answers with [`reply`] instead.
pub async fn customer_reply(
    c: &mut dyn Conn,
    who: &Principal,
    id: i64,
    body: &Body,
    channel: Channel,
    attachments: Vec<NewAttachment>,
    now: Timestamp,
) -> Result<Message> {
    if who.agent().is_some() {
        return Err(StoreError::Forbidden(
            "agents answer with a reply, not as the customer",
        ));
    }
    let t = get_unchecked(c, id, true).await?;
    check_visible(who, &t)?;
    if t.status == TicketStatus::Closed {
        return Err(StoreError::Conflict(
            "this ticket is closed; open a follow-up ticket instead".into(),
        ));
    }
    NewAttachment::check_all(&attachments)?;
    let customer = Actor::Customer(t.customer.id);
    let msg = messages::insert(c, id, customer, false, channel, body, attachments, now).await?;
    let to = t.status.on_customer_reply();
    // What they wrote now joins what they wrote before (the worst mood, the weightiest
    // words), with their tier as it is today.
    let tier = crate::score::tier(c, t.customer.id).await?;
    let signals = t
        .signals
        .clone()
        .with(&Signals::read(&[body.as_str()], tier.as_deref()).felt(body.sentiment()));
    c.execute(
        "UPDATE tickets SET status = $1, message_count = message_count + 1, last_message_at = $2,
                updated_at = $2, score_standing = $4, score_signals = $5,
                status_since = CASE WHEN status = $1 THEN status_since ELSE $2 END
         WHERE id = $3",
        &[
            to.as_str().into(),
            now.into(),
            id.into(),
            score::standing(&signals, t.priority).into(),
            crate::score::stored(&signals)?.into(),
        ],
    )
    .await?;
    let mut data = json!({"message_id": msg.id});
    if to != t.status {
        data["status"] = json!({"from": t.status, "to": to});
    }
    events::record(c, id, customer, EventKind::ReplyAdded, &data, now).await?;
    Ok(msg)
}

/// Adds a note written by Rapport itself (a bounce, an automation), visible to agents only.
pub async fn system_note(
    c: &mut dyn Conn,
    id: i64,
    body: &Body,
    now: Timestamp,
) -> Result<Message> {
    by_rapport(c, id, body, true, None, now).await
}

/// Adds a message written by an automation rule: a note (`internal`) or a reply to the
/// customer, sent through the ticket's channel like an agent's. The status stays as it is
/// (a check-in on a solved ticket leaves it solved; the customer's answer reopens it).
/// `provenance` (the rule and its chain) goes into the event.
pub async fn by_rule(
    c: &mut dyn Conn,
    id: i64,
    body: &Body,
    internal: bool,
    provenance: serde_json::Value,
    now: Timestamp,
) -> Result<Message> {
    by_rapport(c, id, body, internal, Some(provenance), now).await
}

async fn by_rapport(
    c: &mut dyn Conn,
    id: i64,
    body: &Body,
    internal: bool,
    provenance: Option<serde_json::Value>,
    now: Timestamp,
) -> Result<Message> {
    let t = get_unchecked(c, id, true).await?;
    if !internal && t.status == TicketStatus::Closed {
        return Err(StoreError::Conflict(
            "this ticket is closed; a reply cannot be added".into(),
        ));
    }
    let mut msg = messages::insert(
        c,
        id,
        Actor::System,
        internal,
        t.channel,
        body,
        Vec::new(),
        now,
    )
    .await?;
    c.execute(
        "UPDATE tickets SET message_count = message_count + 1, updated_at = $1 WHERE id = $2",
        &[now.into(), id.into()],
    )
    .await?;
    let deliver = !internal && t.channel.delivers_replies();
    if deliver && provenance.is_some() {
        // A rule's mail counts against the customer's automatic-mail allowance (like an
        // acknowledgement), so no rule can flood an address or answer a robot for ever.
        if !crate::notify::take_auto_allowance(c, &t.customer.email, "rule", now).await? {
            return Err(StoreError::Conflict(
                "this customer had as many automatic messages as allowed for now".into(),
            ));
        }
    }
    if deliver {
        messages::set_delivery(c, msg.id, Delivery::Queued, None).await?;
        msg.delivery = Some(Delivery::Queued);
    }
    let mut data = json!({"message_id": msg.id});
    if deliver {
        data["deliver"] = json!(true);
    }
    if let Some(p) = provenance {
        data["automation"] = p;
    }
    let kind = if internal {
        EventKind::NoteAdded
    } else {
        EventKind::ReplyAdded
    };
    events::record(c, id, Actor::System, kind, &data, now).await?;
    Ok(msg)
}
