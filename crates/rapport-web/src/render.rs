//! Turning stored data into safe HTML for the pages: customer text is escaped, agents'
//! markdown is rendered and then sanitised, times are shown the way people read them.

use rapport_domain::{AuthorKind, Timestamp, Zone};
use rapport_store::messages::{Delivery, Message};

/// Escapes text for HTML.
pub use rapport_domain::text::escape_html as escape;

/// Customer text as HTML: escaped, paragraphs kept (the page shows line breaks).
pub fn plain(text: &str) -> String {
    format!("<p class=\"plain\">{}</p>", escape(text))
}

/// Agent markdown as sanitised HTML: no scripts, no event handlers, no styles.
pub fn markdown(text: &str) -> String {
    let parser =
        pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::clean(&html)
}

/// An email's stored HTML for the workspace: `cid:` images point to their attachments,
/// and it is sanitised once more on the way out (only our own attachment URLs may be
/// images).
pub fn email_html(html: &str, attachments: &[rapport_store::messages::AttachmentMeta]) -> String {
    let mut html = html.to_owned();
    for a in attachments {
        if let Some(cid) = &a.content_id {
            html = html.replace(
                &format!("\"cid:{cid}\""),
                &format!("\"/attachments/{}\"", a.id),
            );
        }
    }
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(|element, attribute, value| {
            if element == "img" && attribute == "src" && !value.starts_with("/attachments/") {
                None
            } else {
                Some(value.into())
            }
        });
    b.clean(&html).to_string()
}

/// `t` in the reader's zone with its abbreviation (`2026-11-23 09:05 EST`), and the ISO
/// form of the instant for `<time datetime>`.
pub fn when(t: Timestamp, zone: &Zone) -> (String, String) {
    (zone.local(t), t.to_datetime().to_rfc3339())
}

/// A message of the thread, ready for the template.
pub struct MessageView {
    /// CSS class: `customer`, `agent` or `note`.
    pub class: &'static str,
    /// Accessible label of the article.
    pub label: String,
    /// Who wrote it.
    pub author: String,
    /// "reply", "note" or "message".
    pub kind: &'static str,
    /// Channel name.
    pub channel: String,
    /// Shown time.
    pub at: String,
    /// ISO time.
    pub at_iso: String,
    /// Safe HTML body.
    pub html: String,
    /// An email's own formatting (sanitised), with its inline images in place.
    pub rich: Option<String>,
    /// (download URL, file name) pairs.
    pub attachments: Vec<(String, String)>,
    /// The message id when it may be split off into its own ticket.
    pub split: Option<i64>,
    /// Where an emailed reply stands, in words.
    pub delivery: Option<String>,
    /// `ok`, `pending` or `failed`, for styling.
    pub delivery_class: &'static str,
}

/// Builds the view of one message, its time in UTC; `agent_name` names agents by id.
pub fn message_view(
    m: &Message,
    customer_name: &str,
    agent_name: &dyn Fn(i64) -> String,
) -> MessageView {
    message_view_in(m, customer_name, agent_name, &Zone::utc())
}

/// Builds the view of one message with its time in `zone`.
pub fn message_view_in(
    m: &Message,
    customer_name: &str,
    agent_name: &dyn Fn(i64) -> String,
    zone: &Zone,
) -> MessageView {
    let (at, at_iso) = when(m.created_at, zone);
    let (class, kind, author, html) = match (m.author.kind, m.internal) {
        // A received email shows the address it really came from.
        (AuthorKind::Customer, _) => (
            "customer",
            "message",
            match &m.from_address {
                Some(from) => format!("{customer_name} <{from}>"),
                None => customer_name.to_owned(),
            },
            plain(&m.body),
        ),
        (_, true) => (
            "note",
            "internal note",
            m.author
                .user_id
                .map_or_else(|| "Rapport".into(), agent_name),
            markdown(&m.body),
        ),
        _ => (
            "agent",
            "reply",
            m.author
                .user_id
                .map_or_else(|| "Rapport".into(), agent_name),
            markdown(&m.body),
        ),
    };
    MessageView {
        class,
        label: format!("{kind} from {author}"),
        author,
        kind,
        channel: m.channel.as_str().to_owned(),
        at,
        at_iso,
        html,
        rich: m.html.as_deref().map(|h| email_html(h, &m.attachments)),
        attachments: m
            .attachments
            .iter()
            .map(|a| (format!("/attachments/{}", a.id), a.filename.clone()))
            .collect(),
        split: None,
        delivery: m.delivery.map(|d| {
            let why = m.delivery_error.clone().unwrap_or_default();
            match d {
                Delivery::Sent => "Sent by email".to_owned(),
                Delivery::Queued => "Queued to send by email".to_owned(),
                Delivery::Retrying => format!("Not yet delivered — retrying ({why})"),
                Delivery::Failed => format!("Delivery failed: {why}"),
            }
        }),
        delivery_class: match m.delivery {
            Some(Delivery::Sent) => "ok",
            Some(Delivery::Failed) => "failed",
            _ => "pending",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_text_is_escaped() {
        assert_eq!(
            plain("<img src=x onerror=alert(1)> & hi"),
            "<p class=\"plain\">&lt;img src=x onerror=alert(1)&gt; &amp; hi</p>"
        );
    }

    #[test]
    fn times_read_in_the_readers_zone() {
        let t = Timestamp(1_700_000_000_000_000);
        let (utc, iso) = when(t, &Zone::utc());
        assert_eq!(utc, "2023-11-14 22:13 UTC");
        assert_eq!(iso, "2023-11-14T22:13:20+00:00");
        let (ny, iso_ny) = when(t, &Zone::parse("America/New_York").unwrap());
        assert_eq!(ny, "2023-11-14 17:13 EST");
        assert_eq!(iso_ny, iso, "the machine-readable instant stays the same");
    }

    #[test]
    fn agent_markdown_is_sanitised() {
        let html = markdown(
            "**bold** <script>alert(1)</script> <a href=\"javascript:x\" onclick=\"y\">l</a>",
        );
        assert!(html.contains("<strong>bold</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("onclick"));
    }
}
