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

/// An automatic mail before it becomes a message.
struct Draft {
    from: (String, String),
    to: (String, String),
    subject: String,
    text: String,
    /// The `Auto-Submitted` value (RFC 3834).
    auto: &'static str,
    id: String,
    in_reply_to: Option<String>,
    thread: Option<(String, i64)>,
}

fn no_sender() -> String {
    "no mailbox to send from: add one with POST /api/v1/mailboxes".to_owned()
}

/// An agent's notification about one of their tickets: `what` says what happened.
async fn agent_notice(
    c: &mut dyn Conn,
    user_id: i64,
    ticket_id: i64,
    unique: i64,
    public_url: &str,
    what: impl FnOnce(&TicketContext) -> (String, String),
) -> Result<Draft, String> {
    let t = mail::ticket_context(c, ticket_id)
        .await
        .map_err(|e| e.to_string())?;
    let agent = people::get_user(c, user_id)
        .await
        .map_err(|e| e.to_string())?;
    let (headline, sentence) = what(&t);
    Ok(Draft {
        from: t.from.clone().ok_or_else(no_sender)?,
        subject: format!("[#{}] {headline}: {}", t.number, t.subject),
        text: format!(
            "Hello {},\n\n{sentence}\n\nOpen it: {public_url}/tickets/{}\n",
            agent.name, t.ticket_id
        ),
        to: (agent.email, agent.name),
        auto: "auto-generated",
        id: format!("rapport.notice.{}.{unique}@rapport.local", t.ticket_id),
        in_reply_to: None,
        thread: None,
    })
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
    let d = match notice {
        Notice::Ack {
            ticket_id,
            in_reply_to,
            expectation,
        } => {
            let t: TicketContext = mail::ticket_context(c, *ticket_id).await.map_err(db)?;
            let (from_addr, from_name) = t.from.clone().ok_or_else(no_sender)?;
            let greeting = if t.customer.1.trim().is_empty() {
                "Hello,".to_owned()
            } else {
                format!("Hello {},", t.customer.1.trim())
            };
            let id = format!("rapport.ack.{}@{}", t.ticket_id, domain_of(&from_addr));
            Draft {
                text: format!(
                    "{greeting}\n\nThank you for writing to us. Your request \"{}\" has the number #{}.\n\n{expectation}\n\nTo add anything, simply reply to this email.\n\n{from_name}",
                    t.subject, t.number
                ),
                from: (from_addr, from_name),
                to: t.customer.clone(),
                subject: format!("[#{}] We received your request: {}", t.number, t.subject),
                auto: "auto-replied",
                id: id.clone(),
                in_reply_to: in_reply_to.clone(),
                thread: Some((id, t.ticket_id)),
            }
        }
        Notice::Assigned {
            user_id,
            ticket_id,
            by,
        } => {
            let by = people::get_user(c, *by).await.map_err(db)?.name;
            agent_notice(c, *user_id, *ticket_id, unique, public_url, |t| {
                (
                    "Assigned to you".to_owned(),
                    format!(
                        "{by} assigned ticket #{} to you: \"{}\" from {}.",
                        t.number, t.subject, t.customer.0
                    ),
                )
            })
            .await?
        }
        Notice::CustomerReplied { user_id, ticket_id } => {
            agent_notice(c, *user_id, *ticket_id, unique, public_url, |t| {
                (
                    "The customer replied".to_owned(),
                    format!(
                        "{} replied on ticket #{} \"{}\", which is assigned to you.",
                        t.customer.0, t.number, t.subject
                    ),
                )
            })
            .await?
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
            let from = mail::sender_for(c, None)
                .await
                .map_err(db)?
                .ok_or_else(no_sender)?;
            Draft {
                text: format!(
                    "Hello,\n\nUse this link to see your requests with {}. It works once, for 30 minutes:\n\n{}\n\nIf you did not ask for it, ignore this email.\n",
                    from.1,
                    portal_link(public_url, &token)
                ),
                from,
                to: (r.text(0).map_err(db)?, r.text(1).map_err(db)?),
                subject: "Your sign-in link".to_owned(),
                auto: "auto-generated",
                id: format!("rapport.signin.{customer_id}.{unique}@rapport.local"),
                in_reply_to: None,
                thread: None,
            }
        }
    };
    let mut b = Message::builder()
        .from(mailbox(&d.from.0, &d.from.1)?)
        .to(mailbox(&d.to.0, &d.to.1)?)
        .subject(d.subject)
        .message_id(Some(format!("<{}>", d.id)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            d.auto.to_owned(),
        ));
    if let Some(parent) = d.in_reply_to {
        b = b
            .in_reply_to(format!("<{parent}>"))
            .references(format!("<{parent}>"));
    }
    let html = crate::send::html_of(&d.text);
    let message = b
        .multipart(MultiPart::alternative_plain_html(d.text, html))
        .map_err(|e| format!("building the message: {e}"))?;
    Ok(Rendered {
        message,
        thread: d.thread,
    })
}
