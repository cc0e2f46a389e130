//! Reading an email: who wrote it, about what, the new text (quoted history cut off),
//! attachments, the headers that thread it, and whether a machine sent it. MIME, charsets
//! and transfer encodings are mail-parser's job.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};
use rapport_store::messages::NewAttachment;

/// An email as the help desk needs it.
#[derive(Debug, Clone, Default)]
pub struct ParsedMail {
    /// The sender's address (From — never Reply-To), if there is a usable one.
    pub from: Option<String>,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// The subject, or empty.
    pub subject: String,
    /// The text the sender wrote, without the quoted history.
    pub text: String,
    /// The message's own HTML, sanitised: no scripts, styles, event handlers or remote
    /// images (tracking pixels); inline images stay as `cid:` links.
    pub html: Option<String>,
    /// Its Message-ID, without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To and References, nearest first.
    pub refs: Vec<String>,
    /// True when a machine sent it (auto-replies, bounces, lists): never answer it
    /// automatically.
    pub automated: bool,
    /// Attached files, inline images included.
    pub attachments: Vec<NewAttachment>,
    /// A delivery-status report of a failure (a real bounce): it is about another
    /// message. Mail from mailer-daemon or postmaster that is not one is ordinary mail.
    pub is_bounce: bool,
    /// The Message-IDs quoted inside the message (for a bounce: the undelivered one).
    pub quoted_ids: Vec<String>,
}

/// Every `Message-ID:` header value found anywhere in the raw text, including in quoted
/// originals and `text/rfc822-headers` parts of bounces.
fn quoted_message_ids(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("message-id") {
            continue;
        }
        let v = value.trim();
        let id = v
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap_or("")
            .trim();
        if !id.is_empty() && !out.iter().any(|x| x == id) {
            out.push(id.to_owned());
        }
    }
    out
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Cuts the quoted history from a reply: from a line such as "On Mon, … wrote:", an
/// "-----Original Message-----" marker, or the first line of a trailing block of `>`
/// lines. What is left is what the sender wrote now.
pub fn strip_quoted(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let next = lines.get(i + 1).map_or("", |l| l.trim());
        // A forwarded message is what the sender is sharing: never cut inside it.
        if is_forward_marker(t) {
            return text.trim_end().to_owned();
        }
        // "On Mon, 3 Mar 2025 at 10:00, Ana <ana@example.com> wrote:" — on one line, or
        // wrapped onto the next by the mail client.
        let attribution =
            t.starts_with("On ") && (t.ends_with("wrote:") || next.ends_with("wrote:"));
        // Outlook: "-----Original Message-----", or a rule of underscores, or a
        // "From: … / Sent: …" header block.
        let outlook = t.starts_with("-----Original Message-----")
            || (t.len() >= 10 && t.chars().all(|c| c == '_') && next.starts_with("From:"))
            || (t.starts_with("From:") && next.starts_with("Sent:"));
        if attribution || outlook {
            end = i;
            break;
        }
    }
    // A trailing run of quoted lines (and blank lines between them) goes too.
    while end > 0 {
        let t = lines[end - 1].trim();
        if t.starts_with('>') || (t.is_empty() && end < lines.len()) {
            end -= 1;
        } else {
            break;
        }
    }
    let kept = lines[..end].join("\n");
    let kept = kept.trim_end();
    if kept.trim().is_empty() {
        text.trim_end().to_owned()
    } else {
        kept.to_owned()
    }
}

fn is_forward_marker(line: &str) -> bool {
    let l = line.trim_matches(|c: char| c == '-' || c.is_whitespace());
    l.eq_ignore_ascii_case("Forwarded message")
        || l.eq_ignore_ascii_case("Begin forwarded message:")
        || l.eq_ignore_ascii_case("Original Message") && line.starts_with("--------")
}

/// Sanitises an email's HTML for showing beside its text: ammonia's safe defaults
/// (no scripts, styles or event handlers), links opened safely, and images only from
/// the message itself (`cid:`), never remote ones that would tell the sender the
/// message was read. Relative links go too: an email has no base to resolve them
/// against, and shown in Rapport they would point into Rapport itself.
pub fn sanitize_html(html: &str) -> String {
    let mut b = ammonia::Builder::default();
    b.url_schemes(["http", "https", "mailto", "cid"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(|element, attribute, value| {
            if element == "img" && attribute == "src" && !value.starts_with("cid:") {
                None
            } else {
                Some(value.into())
            }
        });
    b.clean(html).to_string()
}

/// The text of a plain-text part that declares no charset yet carries 8-bit bytes that
/// are not UTF-8 (old clients and scripts): read as Windows-1252, what such mail nearly
/// always is, rather than as replacement characters.
fn undeclared_8bit<'x>(
    raw: &[u8],
    msg: &mail_parser::Message<'_>,
    i: usize,
) -> Option<std::borrow::Cow<'x, str>> {
    let part = msg.text_part(u32::try_from(i).ok()?)?;
    if part.is_text_html() || part.encoding != mail_parser::Encoding::None {
        return None;
    }
    if part
        .content_type()
        .and_then(|ct| ct.attribute("charset"))
        .is_some()
    {
        return None;
    }
    let body = raw.get(part.raw_body_offset() as usize..part.raw_end_offset() as usize)?;
    if std::str::from_utf8(body).is_ok() {
        return None;
    }
    let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
    Some(std::borrow::Cow::Owned(text.into_owned()))
}

/// The Message-ID alone, from the headers only: what deduplication needs before a
/// message is acknowledged, without parsing its body.
pub fn message_id(raw: &[u8]) -> Option<String> {
    std::panic::catch_unwind(|| {
        MessageParser::default()
            .parse_headers(raw)
            .and_then(|m| m.message_id().map(str::to_owned))
    })
    .ok()
    .flatten()
}

/// The address and display name of a From header. A name with a comma that the sending
/// program forgot to quote (`From: Smith, John <john@example.com>`) reads as an empty
/// group "Smith" before "John <john@…>": such address-less words before the first
/// address are the start of its name, not a sender of their own.
fn sender_of(list: &mail_parser::Address<'_>) -> (Option<String>, Option<String>) {
    let all: Vec<&mail_parser::Addr<'_>> = list.iter().collect();
    let Some(i) = all
        .iter()
        .position(|a| a.address().is_some_and(|x| x.contains('@')))
    else {
        return (None, None);
    };
    let words: Vec<&str> = all[..i]
        .iter()
        .filter_map(|a| a.name())
        .chain(all[i].name())
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect();
    let name = (!words.is_empty()).then(|| words.join(", "));
    (all[i].address().map(str::to_owned), name)
}

/// True for a real delivery-status report of a failure (RFC 3464): the message is
/// `multipart/report; report-type=delivery-status` and its `message/delivery-status` part
/// says `Action: failed` for a recipient. Whoever sent it, nothing else is a bounce.
fn is_failure_report(msg: &mail_parser::Message<'_>) -> bool {
    let is_dsn = msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    is_dsn
        && msg.parts.iter().any(|part| {
            let status = part.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("message")
                    && ct
                        .subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"))
            });
            status
                && String::from_utf8_lossy(part.contents()).lines().any(|l| {
                    l.split_once(':').is_some_and(|(name, value)| {
                        name.trim().eq_ignore_ascii_case("action")
                            && value.trim().eq_ignore_ascii_case("failed")
                    })
                })
        })
}

/// Parses a raw message. Never fails: what cannot be read is left empty.
pub fn parse(raw: &[u8]) -> ParsedMail {
    // mail-parser can panic on some malformed input (found by our fuzz target:
    // "Invalid part ID, could not find multipart"); such a message is unreadable, not fatal.
    let parsed = std::panic::catch_unwind(|| MessageParser::default().parse(raw));
    let Some(msg) = parsed.ok().flatten() else {
        return ParsedMail {
            text: String::from_utf8_lossy(raw).chars().take(20_000).collect(),
            ..ParsedMail::default()
        };
    };
    // The sender is the From header, never Reply-To: anyone can name any address there,
    // and Rapport files, threads and answers mail as its sender's.
    let (from, from_name) = msg.from().map_or((None, None), sender_of);
    let mut text = (0..msg.text_body_count())
        .filter_map(|i| undeclared_8bit(raw, &msg, i).or_else(|| msg.body_text(i)))
        .map(|t| t.trim_end().to_owned())
        .filter(|t| !t.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
        // One kind of line ending, and no byte-order mark left at the start.
        .replace('\r', "")
        .trim_start_matches('\u{feff}')
        .to_owned();
    let html_parts: Vec<String> = (0..msg.html_body_count())
        .filter(|i| {
            u32::try_from(*i)
                .ok()
                .and_then(|i| msg.html_part(i))
                .is_some_and(|p| p.is_text_html())
        })
        .filter_map(|i| msg.body_html(i).map(|h| h.into_owned()))
        .collect();
    let html = (!html_parts.is_empty())
        .then(|| sanitize_html(&html_parts.join("\n")))
        .filter(|h| !h.trim().is_empty());
    let mut refs = ids(msg.in_reply_to());
    let mut older = ids(msg.references());
    older.reverse();
    for r in older {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    let header = |name: &str| {
        msg.header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default()
    };
    let auto_submitted = header("Auto-Submitted");
    let precedence = header("Precedence");
    // Machines are recognised by the real From, whatever Reply-To says.
    let sender = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let local = sender.split('@').next().unwrap_or("");
    let automated = (!auto_submitted.is_empty() && auto_submitted != "no")
        || matches!(precedence.as_str(), "bulk" | "junk" | "list")
        || msg.header_raw("List-Id").is_some()
        || local == "mailer-daemon"
        || local.replace(['-', '_', '.'], "") == "noreply"
        || local == "postmaster";
    let mut attachments = Vec::new();
    for a in msg.attachments() {
        let data = a.contents().to_vec();
        if data.is_empty() {
            continue;
        }
        if let Some(inner) = a.message() {
            // A forwarded message: its text joins the body, its source stays attached.
            let from = inner
                .from()
                .and_then(|f| f.first())
                .and_then(|f| f.address())
                .unwrap_or("unknown sender");
            let subject = inner.subject().unwrap_or("(no subject)");
            let inner_text = inner
                .body_text(0)
                .map(|t| t.into_owned())
                .unwrap_or_default();
            text.push_str(&format!(
                "\n\n---------- Forwarded message ----------\nFrom: {from}\nSubject: {subject}\n\n{}",
                inner_text.trim()
            ));
            let name: String = subject
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == ' ' {
                        c
                    } else {
                        '_'
                    }
                })
                .take(80)
                .collect();
            attachments.push(NewAttachment {
                filename: format!("{}.eml", name.trim()),
                content_type: "message/rfc822".into(),
                data,
                content_id: None,
            });
            continue;
        }
        let content_type = a
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        let filename = a
            .attachment_name()
            .map(|n| n.replace(['/', '\\', '\0'], "_"))
            .filter(|n| !n.trim().is_empty() && n != "..")
            .unwrap_or_else(|| "attachment".into());
        let content_id = a
            .content_id()
            .map(|id| id.trim_matches(['<', '>', ' ']).to_owned())
            .filter(|id| !id.is_empty());
        attachments.push(NewAttachment {
            filename,
            content_type,
            data,
            content_id,
        });
    }
    let is_bounce = is_failure_report(&msg);
    let own_id = msg.message_id().map(str::to_owned);
    let quoted_ids = quoted_message_ids(raw)
        .into_iter()
        .filter(|id| Some(id) != own_id.as_ref())
        .collect();
    let new_text = strip_quoted(&text);
    // Plain-text mail whose quoted history was cut keeps the whole text beside it, so the
    // thread shows what is new and the history is one click away.
    let html = html.or_else(|| {
        (new_text.trim_end() != text.trim_end()).then(|| {
            format!(
                "<pre class=\"whole-text\">{}</pre>",
                rapport_domain::text::escape_html(text.trim_end())
            )
        })
    });
    ParsedMail {
        is_bounce,
        quoted_ids,
        from,
        from_name,
        subject: msg.subject().unwrap_or("").to_owned(),
        text: new_text,
        html,
        message_id: msg.message_id().map(str::to_owned),
        refs,
        automated,
        attachments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links_are_dropped() {
        let html = sanitize_html(
            "<a href=\"#javascript:alert(1)\">a</a><a href=\"/tickets/1\">b</a><a href=\"https://example.com/\">c</a><img src=\"cid:p@x\">",
        );
        assert!(
            !html.contains("javascript") && !html.contains("/tickets/1"),
            "{html}"
        );
        assert!(html.contains("href=\"https://example.com/\""), "{html}");
        assert!(html.contains("src=\"cid:p@x\""), "{html}");
    }

    #[test]
    fn quoted_history_is_cut() {
        let t = "Thanks, that worked!\n\nOn Mon, 3 Mar 2025 at 10:00, Support <s@example.com> wrote:\n> Try again\n> please";
        assert_eq!(strip_quoted(t), "Thanks, that worked!");
        assert_eq!(strip_quoted("Yes.\n\n> earlier\n> text"), "Yes.");
        assert_eq!(strip_quoted("> only quotes"), "> only quotes");
        assert_eq!(strip_quoted("Plain\nmessage"), "Plain\nmessage");
    }

    #[test]
    fn a_plain_message_parses() {
        let raw = b"From: Ana Garcia <Ana@Example.com>\r\nTo: support@example.com\r\nSubject: =?UTF-8?B?Q2Fmw6k=?= order\r\nMessage-ID: <abc@mail.example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMy caf\xc3\xa9 order is late.\r\n";
        let p = parse(raw);
        assert_eq!(p.from.as_deref(), Some("Ana@Example.com"));
        assert_eq!(p.from_name.as_deref(), Some("Ana Garcia"));
        assert_eq!(p.subject, "Café order");
        assert_eq!(p.text.trim(), "My café order is late.");
        assert_eq!(p.message_id.as_deref(), Some("abc@mail.example.com"));
        assert!(!p.automated);
    }

    #[test]
    fn the_sender_is_from_with_its_whole_name() {
        let read = |from: &str| {
            let raw = format!(
                "From: {from}\r\nReply-To: other@example.net\r\nSubject: s\r\n\r\nbody\r\n"
            );
            let p = parse(raw.as_bytes());
            (p.from, p.from_name)
        };
        let john = (
            Some("john@x.example".to_owned()),
            Some("Smith, John".to_owned()),
        );
        assert_eq!(read("\"Smith, John\" <john@x.example>"), john);
        assert_eq!(read("Smith, John <john@x.example>"), john, "unquoted");
        assert_eq!(read("=?utf-8?b?U21pdGgsIEpvaG4=?= <john@x.example>"), john);
        assert_eq!(
            read("\"Jane \\\"JJ\\\" Doe\" <j@x.example>").1.as_deref(),
            Some("Jane \"JJ\" Doe")
        );
        assert_eq!(read("ann@x.example").1, None);
        assert_eq!(read("undisclosed-recipients:;"), (None, None));
    }

    #[test]
    fn machines_are_recognised() {
        for h in [
            "Auto-Submitted: auto-replied\r\n",
            "Precedence: bulk\r\n",
            "List-Id: <news.example.com>\r\n",
        ] {
            let raw = format!("From: a@example.com\r\n{h}Subject: x\r\n\r\nbody\r\n");
            assert!(parse(raw.as_bytes()).automated, "{h}");
        }
        let raw = b"From: MAILER-DAEMON@example.com\r\nSubject: Undelivered\r\n\r\nx\r\n";
        assert!(parse(raw).automated);
        let raw = b"From: a@example.com\r\nAuto-Submitted: no\r\n\r\nx\r\n";
        assert!(!parse(raw).automated);
    }

    #[test]
    fn replies_carry_their_references() {
        let raw = b"From: a@example.com\r\nIn-Reply-To: <r2@x>\r\nReferences: <r1@x> <r2@x>\r\nSubject: Re: [#1042] Late\r\n\r\nStill late\r\n";
        let p = parse(raw);
        assert_eq!(p.refs, vec!["r2@x".to_owned(), "r1@x".to_owned()]);
    }

    #[test]
    fn bounces_name_the_undelivered_message() {
        let raw = b"From: MAILER-DAEMON@mx.example.org\r\nMessage-ID: <dsn1@mx>\r\nSubject: Undelivered Mail\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nUser unknown\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; kim@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <rapport.3.9@example.com>\r\nSubject: Re: [#1042] x\r\n--b--\r\n";
        let p = parse(raw);
        assert!(p.is_bounce && p.automated);
        assert_eq!(p.quoted_ids, vec!["rapport.3.9@example.com".to_owned()]);
        // A delayed-delivery report, or a plain message from a mailer daemon quoting an
        // ID, is not a bounce.
        let delayed = String::from_utf8_lossy(raw).replace("Action: failed", "Action: delayed");
        assert!(!parse(delayed.as_bytes()).is_bounce);
        let forged = b"From: postmaster@mx.example.org\r\nSubject: Undelivered Mail\r\n\r\nMessage-ID: <rapport.3.9@example.com>\r\nmailbox full\r\n";
        let p = parse(forged);
        assert!(!p.is_bounce && p.automated);
    }

    #[test]
    fn the_message_id_is_read_from_the_headers() {
        let raw = b"From: a@example.com\r\nMessage-ID: <x1@example.com>\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
        assert_eq!(message_id(raw).as_deref(), Some("x1@example.com"));
        assert_eq!(message_id(raw), parse(raw).message_id);
        assert_eq!(message_id(b"Subject: none\r\n\r\nx"), None);
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00",
            b"From:\r\n\r\n",
            b"Subject: only\r\n",
        ] {
            let _ = parse(raw);
        }
    }
}
