//! Building outgoing messages: agents' replies and automatic mail. Every address header
//! goes through [`mailbox`], so display names are cleaned one way everywhere; lettre
//! quotes and encodes what remains. Every Message-ID comes from [`new_message_id`].

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use rapport_domain::text::escape_html;
use rapport_store::mail::Outgoing;
use rapport_store::secrets::random_hex;

/// Where a mail without a mailbox to send from tells the admin to add one.
pub const NO_SENDER: &str = "no mailbox to send from: add one with POST /api/v1/mailboxes";

/// The mailbox header value for `address` with display name `name`. The name keeps what
/// the person is called — commas, quotes, angle brackets, any script — and lettre
/// quotes or encodes it (RFC 5322 quoted-string, RFC 2047 for non-ASCII) so that it can
/// never read as a second address or smuggle in a header line; only control characters
/// go, and runs of white space become one space (`rapport_domain::text::fold_controls`).
/// A blank name gives the bare address.
pub fn mailbox(address: &str, name: &str) -> Result<Mailbox, String> {
    let email = address
        .parse()
        .map_err(|e| format!("address {address:?}: {e}"))?;
    let clean = rapport_domain::text::fold_controls(name);
    Ok(Mailbox::new((!clean.is_empty()).then_some(clean), email))
}

/// The domain part of an address (for Message-IDs), `rapport.invalid` without one.
pub fn domain_of(address: &str) -> &str {
    address
        .rsplit_once('@')
        .map_or("rapport.invalid", |(_, d)| d)
}

/// The HTML part of a plain-text mail: paragraphs, line breaks, everything escaped.
pub fn html_of(text: &str) -> String {
    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", escape_html(p).replace('\n', "<br>")))
        .collect();
    format!(
        "<!doctype html><html><body>{}</body></html>",
        paragraphs.join("")
    )
}

/// A new Message-ID in Rapport's namespace (see
/// [`MessageIdNamespace`](rapport_store::mail::MessageIdNamespace)):
/// `rapport.<32 hex digits>@<domain>`, the digits 128 bits from the operating system's
/// CSPRNG — nobody can guess the ID of a mail before Rapport sends it.
pub fn new_message_id(domain: &str) -> String {
    format!("rapport.{}@{}", random_hex(16), domain.to_ascii_lowercase())
}

/// The domain new Message-IDs of mail from `from` are made in.
pub fn id_domain(from: Option<&(String, String)>) -> &str {
    from.map_or("rapport.invalid", |(a, _)| domain_of(a))
}

/// Builds the email for an agent's reply with the Message-ID `id` (without the angle
/// brackets), stored with the reply so a retried delivery is the same message.
pub fn reply(out: &Outgoing, id: &str) -> Result<Message, String> {
    let (from_addr, from_name) = out.from.clone().ok_or(NO_SENDER)?;
    let from = mailbox(&from_addr, &from_name).map_err(|e| format!("mailbox {e}"))?;
    let to = mailbox(&out.to.0, &out.to.1).map_err(|e| format!("customer {e}"))?;
    let tag = format!("[#{}]", out.number);
    let subject = if out.subject.contains(&tag) {
        format!("Re: {}", out.subject)
    } else {
        format!("Re: {tag} {}", out.subject)
    };
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(format!("<{id}>")));
    if out.automatic {
        b = b.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            AutoSubmitted::Generated.as_str().to_owned(),
        ));
    }
    if let Some(last) = out.thread.last() {
        b = b.in_reply_to(format!("<{last}>"));
        let refs: Vec<String> = out.thread.iter().map(|r| format!("<{r}>")).collect();
        b = b.references(refs.join(" "));
    }
    let text = MultiPart::alternative_plain_html(out.body.clone(), html_of(&out.body));
    let body = if out.attachments.is_empty() {
        text
    } else {
        out.attachments
            .iter()
            .fold(MultiPart::mixed().multipart(text), |m, (name, ct, data)| {
                let ct = ContentType::parse(ct).unwrap_or(ContentType::TEXT_PLAIN);
                m.singlepart(Attachment::new(name.clone()).body(data.clone(), ct))
            })
    };
    b.multipart(body)
        .map_err(|e| format!("building the message: {e}"))
}

/// Why a mail was sent without a person writing it (RFC 3834's `Auto-Submitted`), so
/// other robots know not to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoSubmitted {
    /// An answer to a message (the acknowledgement of a new ticket).
    Replied,
    /// Mail of our own making (notifications, sign-in links).
    Generated,
}

impl AutoSubmitted {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Replied => "auto-replied",
            Self::Generated => "auto-generated",
        }
    }
}

/// An automatic mail before it becomes a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The mailbox it goes out from: address and name.
    pub from: (String, String),
    /// The recipient: address and name.
    pub to: (String, String),
    /// The subject.
    pub subject: String,
    /// The text; the HTML part is made from it.
    pub text: String,
    /// Its `Auto-Submitted` header.
    pub auto: AutoSubmitted,
    /// Its Message-ID, without angle brackets.
    pub id: String,
    /// The Message-ID it answers, if any.
    pub in_reply_to: Option<String>,
}

/// Builds the message for an automatic mail.
pub fn automatic(d: Draft) -> Result<Message, String> {
    let mut b = Message::builder()
        .from(mailbox(&d.from.0, &d.from.1)?)
        .to(mailbox(&d.to.0, &d.to.1)?)
        .subject(d.subject)
        .message_id(Some(format!("<{}>", d.id)))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            d.auto.as_str().to_owned(),
        ));
    if let Some(parent) = d.in_reply_to {
        b = b
            .in_reply_to(format!("<{parent}>"))
            .references(format!("<{parent}>"));
    }
    let html = html_of(&d.text);
    b.multipart(MultiPart::alternative_plain_html(d.text, html))
        .map_err(|e| format!("building the message: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(m: &Message) -> String {
        String::from_utf8(m.formatted()).unwrap()
    }

    #[test]
    fn mailboxes_are_cleaned_one_way() {
        let m = mailbox("a@example.com", "Shop Help").unwrap();
        assert_eq!(m.name.as_deref(), Some("Shop Help"));
        let m = mailbox("a@example.com", "  \t ").unwrap();
        assert_eq!(m.name, None);
        let m = mailbox("a@example.com", "Eve\r\nBcc: x@evil.example").unwrap();
        assert_eq!(m.name.as_deref(), Some("Eve Bcc: x@evil.example"));
        let m = mailbox("a@example.com", "\"Boss\" <boss@example.com>").unwrap();
        assert_eq!(m.name.as_deref(), Some("\"Boss\" <boss@example.com>"));
        assert_eq!(m.email.to_string(), "a@example.com");
        assert!(mailbox("not an address", "Name").is_err());
    }

    #[test]
    fn names_are_quoted_or_encoded_never_split() {
        for name in [
            "Smith, John",
            "Jane \"JJ\" Doe",
            "Zoë Ünal",
            "名前",
            "A <b@evil.example>, c",
        ] {
            let m = Message::builder()
                .from(mailbox("s@example.com", "Support").unwrap())
                .to(mailbox("c@example.org", name).unwrap())
                .subject("S")
                .body(String::from("x"))
                .unwrap();
            assert_eq!(m.envelope().to().len(), 1, "{name}");
            let raw = formatted(&m);
            let read = mail_parser::MessageParser::default()
                .parse(raw.as_bytes())
                .unwrap();
            let to = read.to().unwrap().first().unwrap();
            assert_eq!(read.to().unwrap().iter().count(), 1, "{raw}");
            assert_eq!(
                (to.name(), to.address()),
                (Some(name), Some("c@example.org")),
                "{raw}"
            );
        }
    }

    #[test]
    fn message_ids_are_unguessable_and_ours() {
        let a = new_message_id("Shop.Example");
        let b = new_message_id("shop.example");
        assert_ne!(a, b);
        assert!(
            a.starts_with("rapport.") && a.ends_with("@shop.example"),
            "{a}"
        );
        assert_eq!(a.len(), "rapport.@shop.example".len() + 32);
        let ns = rapport_store::mail::MessageIdNamespace::new(["help@shop.example"]);
        assert!(ns.contains(&a) && ns.contains(&format!("<{}>", a.to_uppercase())));
        assert!(ns.contains("anything@SHOP.example") && ns.contains("Rapport.1.2@elsewhere"));
        assert!(!ns.contains("m1@customer.example"));
    }

    #[test]
    fn replies_thread_and_carry_the_number() {
        let out = Outgoing {
            message_id: 9,
            body: "Hello <you>\n\nSecond paragraph".into(),
            number: 1042,
            subject: "Broken zipper".into(),
            ticket_id: 3,
            to: ("c@example.org".into(), "Casey".into()),
            from: Some(("support@example.com".into(), "Support".into())),
            thread: vec!["a@x".into(), "b@x".into()],
            automatic: false,
            attachments: vec![(
                "label.pdf".into(),
                "application/pdf".into(),
                b"%PDF".to_vec(),
            )],
        };
        let msg = reply(&out, "rapport.3.9@example.com").unwrap();
        let raw = formatted(&msg);
        assert!(raw.contains("Subject: Re: [#1042] Broken zipper"), "{raw}");
        assert!(raw.contains("In-Reply-To: <b@x>"), "{raw}");
        assert!(raw.contains("References: <a@x> <b@x>"), "{raw}");
        assert!(
            raw.contains("Message-ID: <rapport.3.9@example.com>"),
            "{raw}"
        );
        assert!(raw.contains("From: Support <support@example.com>"), "{raw}");
        assert!(raw.contains("To: Casey <c@example.org>"), "{raw}");
        assert!(
            raw.contains("text/html") && raw.contains("&lt;you&gt;"),
            "{raw}"
        );
        assert!(
            raw.contains("multipart/mixed") && raw.contains("label.pdf"),
            "{raw}"
        );
    }

    #[test]
    fn rapports_own_replies_say_they_are_automatic() {
        let out = Outgoing {
            message_id: 2,
            body: "Is everything working?".into(),
            number: 7,
            subject: "Check-in".into(),
            ticket_id: 2,
            to: ("c@example.org".into(), "Casey".into()),
            from: Some(("support@example.com".into(), "Support".into())),
            thread: Vec::new(),
            attachments: Vec::new(),
            automatic: true,
        };
        let raw = formatted(&reply(&out, "rapport.y@example.com").unwrap());
        assert!(raw.contains("Auto-Submitted: auto-generated"), "{raw}");
        let by_person = formatted(
            &reply(
                &Outgoing {
                    automatic: false,
                    ..out
                },
                "rapport.z@example.com",
            )
            .unwrap(),
        );
        assert!(!by_person.contains("Auto-Submitted"), "{by_person}");
    }

    #[test]
    fn a_header_cannot_be_injected_through_a_name() {
        let out = Outgoing {
            message_id: 1,
            body: "Hi".into(),
            number: 1,
            subject: "S".into(),
            ticket_id: 1,
            to: (
                "c@example.org".into(),
                "Casey\r\nBcc: x@evil.example".into(),
            ),
            from: Some(("s@example.com".into(), "Su\"pport".into())),
            thread: Vec::new(),
            attachments: Vec::new(),
            automatic: false,
        };
        let raw = formatted(&reply(&out, "rapport.x@example.com").unwrap());
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
        assert!(
            raw.contains("From: \"Su\\\"pport\" <s@example.com>"),
            "{raw}"
        );
        assert!(
            reply(&Outgoing { from: None, ..out }, "rapport.x@example.com")
                .unwrap_err()
                .contains("mailbox")
        );
    }

    #[test]
    fn automatic_mail_is_marked_and_threaded() {
        let m = automatic(Draft {
            from: ("s@example.com".into(), "Support".into()),
            to: ("c@example.org".into(), String::new()),
            subject: "[#7] We received your request: Hi".into(),
            text: "Thanks".into(),
            auto: AutoSubmitted::Replied,
            id: "rapport.ack.7@example.com".into(),
            in_reply_to: Some("m1@example.org".into()),
        })
        .unwrap();
        let raw = formatted(&m);
        assert!(raw.contains("Auto-Submitted: auto-replied"), "{raw}");
        assert!(raw.contains("In-Reply-To: <m1@example.org>"), "{raw}");
        assert!(raw.contains("To: c@example.org"), "{raw}");
    }
}
