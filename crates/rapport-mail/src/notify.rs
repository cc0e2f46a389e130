//! Rendering automatic mail ([`rapport_store::notify::Notice`]) into messages: the
//! acknowledgement of a new ticket (threaded under the customer's message, marked
//! `Auto-Submitted: auto-replied` so other robots stay quiet), agents' notifications and
//! portal sign-in links (`Auto-Submitted: auto-generated`). Sent by the `mail.notify`
//! job through the same relay connection as replies.

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use rapport_store::mail::{self, TicketContext};
use rapport_store::notify::Notice;
use rapport_store::people;
use rapport_store::secrets::Sealer;
use rapport_store::{Conn, StoreError};

/// A rendered automatic mail, and the Message-ID to remember for threading (if any).
pub struct Rendered {
    /// The message.
    pub message: Message,
    /// A Message-ID a reply to this mail should thread by, with its ticket.
    pub thread: Option<(String, i64)>,
}

fn mailbox(address: &str, name: &str) -> Result<Mailbox, String> {
    let clean = name.replace(['"', '<', '>', '\r', '\n'], "");
    if clean.trim().is_empty() {
        address.parse()
    } else {
        format!("\"{clean}\" <{address}>").parse()
    }
    .map_err(|e| format!("address {address:?}: {e}"))
}

fn domain_of(address: &str) -> &str {
    address
        .rsplit_once('@')
        .map_or("rapport.invalid", |(_, d)| d)
}

/// The sign-in page a portal link opens.
pub fn portal_link(public_url: &str, token: &str) -> String {
    format!("{public_url}/portal/signin/{token}")
}

/// Builds the message for a notice, reading what it needs in `c`. `unique` (the job's
/// id) makes its Message-ID unique and stable across retries.
pub async fn render(
    c: &mut dyn Conn,
    notice: &Notice,
    unique: i64,
    public_url: &str,
    sealer: &Sealer,
) -> Result<Rendered, String> {
    let db = |e: StoreError| e.to_string();
    let sender = |from: Option<(String, String)>| {
        from.ok_or_else(|| {
            "no mailbox to send from: add one with POST /api/v1/mailboxes".to_owned()
        })
    };
    let (from, to, subject, text, auto, id, in_reply_to, thread) = match notice {
        Notice::Ack {
            ticket_id,
            in_reply_to,
            expectation,
        } => {
            let t: TicketContext = mail::ticket_context(c, *ticket_id).await.map_err(db)?;
            let (from_addr, from_name) = sender(t.from.clone())?;
            let greeting = if t.customer.1.trim().is_empty() {
                "Hello,".to_owned()
            } else {
                format!("Hello {},", t.customer.1.trim())
            };
            let text = format!(
                "{greeting}\n\nThank you for writing to us. Your request \"{}\" has the number #{}.\n\n{expectation}\n\nTo add anything, simply reply to this email.\n\n{from_name}",
                t.subject, t.number
            );
            let id = format!("rapport.ack.{}@{}", t.ticket_id, domain_of(&from_addr));
            (
                (from_addr, from_name),
                t.customer.clone(),
                format!("[#{}] We received your request: {}", t.number, t.subject),
                text,
                "auto-replied",
                id.clone(),
                in_reply_to.clone(),
                Some((id, t.ticket_id)),
            )
        }
        Notice::Assigned {
            user_id,
            ticket_id,
            by,
        } => {
            let t = mail::ticket_context(c, *ticket_id).await.map_err(db)?;
            let agent = people::get_user(c, *user_id).await.map_err(db)?;
            let by = people::get_user(c, *by).await.map_err(db)?;
            let text = format!(
                "Hello {},\n\n{} assigned ticket #{} to you: \"{}\" from {}.\n\nOpen it: {public_url}/tickets/{}\n",
                agent.name, by.name, t.number, t.subject, t.customer.0, t.ticket_id
            );
            (
                sender(t.from.clone())?,
                (agent.email, agent.name),
                format!("[#{}] Assigned to you: {}", t.number, t.subject),
                text,
                "auto-generated",
                format!("rapport.notice.{}.{unique}@rapport.local", t.ticket_id),
                None,
                None,
            )
        }
        Notice::CustomerReplied { user_id, ticket_id } => {
            let t = mail::ticket_context(c, *ticket_id).await.map_err(db)?;
            let agent = people::get_user(c, *user_id).await.map_err(db)?;
            let text = format!(
                "Hello {},\n\n{} replied on ticket #{} \"{}\", which is assigned to you.\n\nOpen it: {public_url}/tickets/{}\n",
                agent.name, t.customer.0, t.number, t.subject, t.ticket_id
            );
            (
                sender(t.from.clone())?,
                (agent.email, agent.name),
                format!("[#{}] The customer replied: {}", t.number, t.subject),
                text,
                "auto-generated",
                format!("rapport.notice.{}.{unique}@rapport.local", t.ticket_id),
                None,
                None,
            )
        }
        Notice::PortalLink {
            customer_id,
            sealed_token,
        } => {
            let token = sealer.open(sealed_token)?;
            let r = c
                .one(
                    "SELECT email, name FROM customers WHERE id = $1",
                    &[(*customer_id).into()],
                )
                .await
                .map_err(db)?;
            let to = (r.text(0).map_err(db)?, r.text(1).map_err(db)?);
            let from = sender(mail::sender_for(c, None).await.map_err(db)?)?;
            let text = format!(
                "Hello,\n\nUse this link to see your requests with {}. It works once, for 30 minutes:\n\n{}\n\nIf you did not ask for it, ignore this email.\n",
                from.1,
                portal_link(public_url, &token)
            );
            (
                from,
                to,
                "Your sign-in link".to_owned(),
                text,
                "auto-generated",
                format!("rapport.signin.{customer_id}.{unique}@rapport.local"),
                None,
                None,
            )
        }
    };
    let mut b = Message::builder()
        .from(mailbox(&from.0, &from.1)?)
        .to(mailbox(&to.0, &to.1)?)
        .subject(subject)
        .message_id(Some(format!("<{id}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            auto.to_owned(),
        ));
    if let Some(parent) = in_reply_to {
        b = b
            .in_reply_to(format!("<{parent}>"))
            .references(format!("<{parent}>"));
    }
    let html = crate::send::html_of(&text);
    let message = b
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| format!("building the message: {e}"))?;
    Ok(Rendered { message, thread })
}
