//! A visitor's name and address, given with the first message or later on an open
//! conversation. An address attaches the conversation to the customer with that address
//! — found or created, as an email with that From or a portal request would be (it is
//! unverified, so it grants no access to that customer's other tickets). A name fills in
//! the visitor's own placeholder customer, or a blank name, and never overwrites one.

use rapport_domain::{CustomerName, EmailAddress, EventKind, Timestamp};

use super::Conversation;
use crate::customers;
use crate::db::Conn;
use crate::error::Result;
use crate::events::{self, Actor};

/// Moves the conversation (its ticket and the visitor's messages) from its customer to
/// the customer with `email`; returns that customer's id. A verified site user's link
/// (`chat_identities`) stays: an address typed in a chat proves nothing.
pub(super) async fn move_to(
    c: &mut dyn Conn,
    conv: &Conversation,
    email: &EmailAddress,
    now: Timestamp,
) -> Result<i64> {
    let current = customers::get(c, conv.customer_id).await?;
    if current.email.eq_ignore_ascii_case(email.as_str()) {
        return Ok(conv.customer_id);
    }
    let name = CustomerName::parse(&current.name).ok().flatten();
    let to = customers::find_or_create(c, email, name.as_ref(), now).await?;
    c.execute(
        "UPDATE messages SET author_customer_id = $1 WHERE ticket_id = $2 AND author_customer_id = $3",
        &[to.into(), conv.ticket_id.into(), conv.customer_id.into()],
    )
    .await?;
    c.execute(
        "UPDATE tickets SET customer_id = $1, updated_at = $2 WHERE id = $3",
        &[to.into(), now.into(), conv.ticket_id.into()],
    )
    .await?;
    c.execute(
        "UPDATE chat_conversations SET customer_id = $1, anonymous = $2, email = $3 WHERE ticket_id = $4",
        &[
            to.into(),
            false.into(),
            email.as_str().into(),
            conv.ticket_id.into(),
        ],
    )
    .await?;
    Ok(to)
}

/// Sets the visitor's name and/or address on an open conversation; returns the
/// conversation as it is now. An address moves an anonymous visitor's conversation to
/// the customer with that address; a visitor who already gave one only changes the
/// address transcripts go to (their customer stays). Records the change for agents' live
/// views.
pub async fn set(
    c: &mut dyn Conn,
    conv: &Conversation,
    name: Option<&CustomerName>,
    email: Option<&EmailAddress>,
    now: Timestamp,
) -> Result<Conversation> {
    let mut next = conv.clone();
    if let Some(email) = email {
        if conv.anonymous {
            next.customer_id = move_to(c, conv, email, now).await?;
            next.anonymous = false;
        } else {
            c.execute(
                "UPDATE chat_conversations SET email = $1 WHERE ticket_id = $2",
                &[email.as_str().into(), conv.ticket_id.into()],
            )
            .await?;
        }
        next.email = Some(email.as_str().to_owned());
    }
    if let Some(name) = name {
        let customer = customers::get(c, next.customer_id).await?;
        if next.anonymous || customer.name.is_empty() {
            c.execute(
                "UPDATE customers SET name = $1, updated_at = $2 WHERE id = $3",
                &[name.as_str().into(), now.into(), next.customer_id.into()],
            )
            .await?;
            crate::search::reindex_customer(c, next.customer_id, name.as_str(), &customer.email)
                .await?;
        }
    }
    events::record(
        c,
        conv.ticket_id,
        Actor::Customer(next.customer_id),
        EventKind::FieldsChanged,
        &serde_json::json!({"customer": {"from": conv.customer_id, "to": next.customer_id}}),
        now,
    )
    .await?;
    Ok(next)
}
