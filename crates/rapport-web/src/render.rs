//! Turning stored data into safe HTML for the pages: customer text is escaped, agents'
//! markdown is rendered and then sanitised, times are shown the way people read them.

use rapport_domain::kb::{self, Section};
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

/// An article rendered for a page: sanitised HTML and its table of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleHtml {
    /// Safe HTML; each heading carries `id` = its section's anchor.
    pub html: String,
    /// The headings, in order, as [`rapport_domain::kb::sections`] cuts the article: the
    /// table of contents, linking to `#anchor`.
    pub toc: Vec<Section>,
}

/// Renders an article's markdown (tables, strikethrough; the dialect
/// [`kb::markdown_options`] names) and sanitises it: no scripts, styles, event handlers,
/// `javascript:` or `data:` URLs; images only from `https://` URLs (what the article
/// page's Content-Security-Policy, `rapport_http::csp::HTTPS_IMAGES`, lets load), with
/// their plain attributes (`alt`, `title`, `width`, `height`, `align`) and
/// `loading="lazy"`; links open nothing with the page's privileges
/// (`rel="noopener noreferrer"`). Headings get `id` attributes equal
/// to the anchors [`kb::sections`] gives them — the same anchors search hits and the bot
/// cite — and no other element (nor raw HTML in the markdown) may set an `id`.
pub fn article_html(markdown: &str) -> ArticleHtml {
    use pulldown_cmark::{CowStr, Event, Parser, Tag};
    use std::collections::HashSet;

    let toc: Vec<Section> = kb::sections(markdown)
        .into_iter()
        .filter(|s| s.level > 0)
        .collect();
    let mut anchors = toc.iter().map(|s| s.anchor.clone());
    let events = Parser::new_ext(markdown, kb::markdown_options()).map(|ev| match ev {
        Event::Start(Tag::Heading {
            level,
            classes,
            attrs,
            ..
        }) => Event::Start(Tag::Heading {
            level,
            id: anchors.next().map(CowStr::from),
            classes,
            attrs,
        }),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    let ids: HashSet<String> = toc.iter().map(|s| s.anchor.clone()).collect();
    let mut b = ammonia::Builder::default();
    for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        b.add_tag_attributes(h, &["id"]);
    }
    b.set_tag_attribute_value("img", "loading", "lazy");
    b.link_rel(Some("noopener noreferrer")).attribute_filter(
        move |element, attribute, value| match (element, attribute) {
            ("img", "src") => {
                let v = value.trim_start().to_ascii_lowercase();
                v.starts_with("https://").then(|| value.into())
            }
            (_, "id") => ids.contains(value).then(|| value.into()),
            _ => Some(value.into()),
        },
    );
    ArticleHtml {
        html: b.clean(&html).to_string(),
        toc,
    }
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
    /// (ticket id, message id) when it may be made into a knowledge-base article (an
    /// agent's public reply).
    pub make_article: Option<(i64, i64)>,
    /// Where an emailed reply stands, in words.
    pub delivery: Option<String>,
    /// `ok`, `pending` or `failed`, for styling.
    pub delivery_class: &'static str,
    /// A customer's message on the agents' page: its mood marker (CSS class, words).
    pub mood: Option<(&'static str, String)>,
}

/// The mood marker of a customer's message: a class for its colour and the words that
/// say it (never colour alone): "upset −0.72", "negative −0.31", "neutral",
/// "positive 0.54".
pub fn mood_marker(s: &rapport_domain::sentiment::Sentiment) -> (&'static str, String) {
    use rapport_domain::sentiment::Label;
    let score = format!("{:.2}", s.score).replace('-', "−");
    match s.label {
        _ if s.upset() => ("mood-upset", format!("upset {score}")),
        Label::Negative => ("mood-negative", format!("negative {score}")),
        Label::Neutral => ("mood-neutral", "neutral".to_owned()),
        Label::Positive => ("mood-positive", format!("positive {score}")),
    }
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
        (AuthorKind::Bot, _) => (
            "agent bot",
            "assistant bot",
            "Assistant bot".to_owned(),
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
        make_article: None,
        mood: None,
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
    fn article_headings_carry_the_sections_anchors() {
        let md = "Intro\n\n## Reset your password\n\nText\n\n## Reset your password\n\n### `Code` *here*\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```\n";
        let a = article_html(md);
        let anchors: Vec<&str> = a.toc.iter().map(|s| s.anchor.as_str()).collect();
        assert_eq!(
            anchors,
            ["reset-your-password", "reset-your-password-2", "code-here"]
        );
        let expected: Vec<String> = rapport_domain::kb::sections(md)
            .into_iter()
            .filter(|s| s.level > 0)
            .map(|s| s.anchor)
            .collect();
        assert_eq!(anchors, expected);
        assert!(
            a.html.contains("<h2 id=\"reset-your-password\">"),
            "{}",
            a.html
        );
        assert!(a.html.contains("<h2 id=\"reset-your-password-2\">"));
        assert!(
            a.html
                .contains("<h3 id=\"code-here\"><code>Code</code> <em>here</em></h3>")
        );
        assert!(a.html.contains("<table>"), "tables render: {}", a.html);
        assert!(a.html.contains("<td>1</td>"));
        assert!(a.html.contains("<pre><code"));
        assert!(a.html.contains("fn main() {}"));
    }

    #[test]
    fn article_scripts_are_removed() {
        let a = article_html("Hi <script>alert(1)</script>\n\n<script src=\"x.js\"></script>\n");
        assert!(!a.html.contains("<script"), "{}", a.html);
        assert!(!a.html.contains("alert(1)"), "{}", a.html);
        assert!(a.html.contains("Hi"));
    }

    #[test]
    fn article_javascript_urls_are_removed() {
        let a = article_html(
            "[x](javascript:alert(1)) <a href=\"JaVaScRiPt:alert(2)\">y</a> [z](  javascript:alert(3))",
        );
        assert!(!a.html.to_lowercase().contains("javascript"), "{}", a.html);
        let ok = article_html("[site](https://example.com/a?b=1)");
        assert!(
            ok.html.contains("href=\"https://example.com/a?b=1\""),
            "{}",
            ok.html
        );
        assert!(ok.html.contains("rel=\"noopener noreferrer\""));
    }

    #[test]
    fn article_event_handlers_and_styles_are_removed() {
        let a = article_html(
            "<img src=\"https://x.test/a.png\" onerror=\"alert(1)\"> <p onclick=\"alert(2)\" style=\"color:red\">p</p> <svg onload=alert(3)></svg>",
        );
        assert!(!a.html.contains("onerror"), "{}", a.html);
        assert!(!a.html.contains("onclick"), "{}", a.html);
        assert!(!a.html.contains("onload"), "{}", a.html);
        assert!(!a.html.contains("style="), "{}", a.html);
        assert!(
            a.html.contains("src=\"https://x.test/a.png\""),
            "{}",
            a.html
        );
    }

    #[test]
    fn article_data_urls_and_other_image_sources_are_removed() {
        let a = article_html(
            "![a](data:image/png;base64,AAAA) ![b](data:text/html,<script>alert(1)</script>) [c](data:text/html;base64,PHNjcmlwdD4=) ![d](/local.png) ![e](ftp://x.test/e.png) ![f](https://x.test/f.png)",
        );
        assert!(!a.html.contains("data:"), "{}", a.html);
        assert!(!a.html.contains("/local.png"), "{}", a.html);
        assert!(!a.html.contains("ftp:"), "{}", a.html);
        assert!(
            a.html.contains("src=\"https://x.test/f.png\""),
            "{}",
            a.html
        );
    }

    #[test]
    fn article_images_come_from_https_only_with_plain_attributes() {
        let a = article_html(
            "![Diagram](https://x.test/d.png \"The diagram\") ![old](http://x.test/o.png) \
             <img src=\"//x.test/p.png\"> <img src=\"https://x.test/u.png\" width=\"40\" height=\"30\" \
             alt=\"U\" srcset=\"http://x.test/s.png 2x\" referrerpolicy=\"unsafe-url\" \
             crossorigin=\"use-credentials\" usemap=\"#m\">",
        );
        assert!(
            a.html.contains(
                "<img src=\"https://x.test/d.png\" alt=\"Diagram\" title=\"The diagram\" loading=\"lazy\">"
            ),
            "{}",
            a.html
        );
        assert!(
            a.html.contains("src=\"https://x.test/u.png\""),
            "{}",
            a.html
        );
        assert!(
            a.html.contains("width=\"40\"") && a.html.contains("height=\"30\""),
            "{}",
            a.html
        );
        for gone in [
            "http://",
            "//x.test/p.png",
            "srcset",
            "referrerpolicy",
            "crossorigin",
            "usemap",
        ] {
            assert!(!a.html.contains(gone), "{gone} in {}", a.html);
        }
        assert_eq!(a.html.matches("<img").count(), 4, "{}", a.html);
    }

    #[test]
    fn article_raw_html_cannot_set_ids() {
        let a = article_html(
            "<h2 id=\"csrf\">x</h2>\n\n<div id=\"main\">y</div>\n\n## Real\n\n<span id=\"real\">z</span>",
        );
        assert!(!a.html.contains("id=\"csrf\""), "{}", a.html);
        assert!(!a.html.contains("id=\"main\""), "{}", a.html);
        assert!(a.html.contains("<h2 id=\"real\">Real</h2>"), "{}", a.html);
        assert!(!a.html.contains("<span id"), "{}", a.html);
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
