//! Messages as the API returns them: the thread of a ticket (served under
//! `/api/v1/tickets/{id}/messages`).

use rapport_domain::{Channel, Timestamp};
use rapport_store::messages;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::attachments::AttachmentMetaView;
use crate::api::sentiment::SentimentView;

/// Who wrote a message.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Author)]
pub struct AuthorView {
    /// `customer`, `agent` or `system`.
    pub kind: String,
    /// The agent, when an agent wrote it.
    pub user_id: Option<i64>,
    /// The customer, when the customer wrote it.
    pub customer_id: Option<i64>,
}

impl From<messages::Author> for AuthorView {
    fn from(a: messages::Author) -> Self {
        Self {
            kind: a.kind.as_str().to_owned(),
            user_id: a.user_id,
            customer_id: a.customer_id,
        }
    }
}

/// A message in a ticket's thread.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Message)]
pub struct MessageView {
    /// Database id.
    pub id: i64,
    /// Its ticket.
    pub ticket_id: i64,
    /// Who wrote it.
    pub author: AuthorView,
    /// True for an internal note the customer never sees.
    pub internal: bool,
    /// The channel it came or went through.
    #[schema(value_type = String, example = "email")]
    pub channel: Channel,
    /// The text.
    pub body: String,
    /// For email: the message's own HTML, sanitised (inline images as `cid:` links).
    pub html: Option<String>,
    /// Attached files.
    pub attachments: Vec<AttachmentMetaView>,
    /// For replies sent by email: `queued`, `retrying`, `sent` or `failed`.
    pub delivery: Option<String>,
    /// Why the last delivery attempt failed.
    pub delivery_error: Option<String>,
    /// For a received email: the address it really came from (its From header).
    pub from_address: Option<String>,
    /// When it was written.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// A customer's message: its mood, read as it arrived (`null` for the messages of
    /// agents, Rapport and the bot).
    pub sentiment: Option<SentimentView>,
}

impl From<messages::Message> for MessageView {
    fn from(m: messages::Message) -> Self {
        Self {
            id: m.id,
            ticket_id: m.ticket_id,
            author: m.author.into(),
            internal: m.internal,
            channel: m.channel,
            body: m.body,
            html: m.html,
            attachments: m.attachments.into_iter().map(Into::into).collect(),
            delivery: m.delivery.as_ref().map(|d| d.as_str().to_owned()),
            delivery_error: m.delivery_error,
            from_address: m.from_address,
            created_at: m.created_at,
            sentiment: m.sentiment.map(Into::into),
        }
    }
}
