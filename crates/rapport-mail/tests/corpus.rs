//! The corpus of real-world messages in `tests/corpus/` (charsets, transfer encodings,
//! nested multiparts, Apple Mail and Outlook replies, forwards, bounces, auto-replies,
//! malformed headers, a missing Content-Type, attachment-only and HTML-only mail): each
//! is parsed and what the help desk would take from it is compared with its snapshot
//! in `tests/snapshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use rapport_mail::parse::parse;
use serde::Serialize;

#[derive(Serialize)]
struct Seen {
    from: Option<String>,
    from_name: Option<String>,
    subject: String,
    text: String,
    html: Option<String>,
    message_id: Option<String>,
    refs: Vec<String>,
    automated: bool,
    is_bounce: bool,
    quoted_ids: Vec<String>,
    attachments: Vec<String>,
}

fn seen(name: &str) -> Seen {
    let path = format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read(&path).unwrap();
    let p = parse(&raw);
    Seen {
        from: p.from,
        from_name: p.from_name,
        subject: p.subject,
        text: p.text,
        html: p.html,
        message_id: p.message_id,
        refs: p.refs,
        automated: p.automated,
        is_bounce: p.is_bounce,
        quoted_ids: p.quoted_ids,
        attachments: p
            .attachments
            .iter()
            .map(|a| {
                format!(
                    "{} ({}, {} bytes{})",
                    a.filename,
                    a.content_type,
                    a.data.len(),
                    a.content_id
                        .as_deref()
                        .map(|c| format!(", cid {c}"))
                        .unwrap_or_default()
                )
            })
            .collect(),
    }
}

#[test]
fn every_corpus_message_has_a_snapshot() {
    let dir = format!("{}/tests/corpus", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    assert!(names.len() >= 16, "{names:?}");
    for name in names {
        insta::assert_yaml_snapshot!(name.trim_end_matches(".eml"), seen(&name));
    }
}

#[test]
fn the_corpus_reads_as_a_person_would() {
    // Spot checks that do not depend on the snapshots being reviewed.
    let latin = seen("iso-8859-1-quoted-printable.eml");
    assert_eq!(latin.subject, "Commande abîmée");
    assert!(latin.text.contains("arrivée abîmée"));
    assert_eq!(latin.from_name.as_deref(), Some("André Müller"));
    let cp = seen("windows-1252-8bit.eml");
    assert!(
        cp.text.contains("\u{201c}\u{20ac}49.90\u{201d}"),
        "{}",
        cp.text
    );
    let sjis = seen("shift-jis-base64.eml");
    assert_eq!(sjis.subject, "配送について");
    assert!(sjis.text.contains("注文した商品がまだ届いていません"));
    let bom = seen("utf-8-bom.eml");
    assert!(bom.text.starts_with("Здравствуйте") || bom.text.starts_with('\u{feff}'));
    let apple = seen("apple-mail-reply.eml");
    assert_eq!(apple.text, "That worked, thank you!\n\nTom");
    assert_eq!(apple.refs[0], "rapport.12.40@example.com");
    let outlook = seen("outlook-reply.eml");
    assert!(
        outlook.text.ends_with("IT Operations | Corp"),
        "{}",
        outlook.text
    );
    let nested = seen("nested-multipart-inline-image.eml");
    let html = nested.html.unwrap();
    assert!(html.contains("cid:photo1@example.it"), "{html}");
    assert!(!html.contains("script") && !html.contains("onclick") && !html.contains("tracker"));
    assert!(!html.contains("javascript:"));
    assert!(
        nested
            .attachments
            .iter()
            .any(|a| a.contains("cid photo1@example.it"))
    );
    assert!(
        nested
            .attachments
            .iter()
            .any(|a| a.starts_with("receipt.pdf"))
    );
    let fwd = seen("forwarded-inline.eml");
    assert!(
        fwd.text.contains("Your order 8812 has shipped."),
        "forwards are kept whole"
    );
    let att = seen("forwarded-as-attachment.eml");
    assert!(
        att.text.contains("We could not deliver parcel 55-AB"),
        "{}",
        att.text
    );
    let bounce = seen("bounce-dsn.eml");
    assert!(bounce.is_bounce && bounce.automated);
    assert_eq!(
        bounce.quoted_ids,
        vec!["rapport.31.99@example.com".to_owned()]
    );
    assert!(seen("auto-reply-out-of-office.eml").automated);
    let only = seen("attachment-only.eml");
    assert!(only.text.is_empty() && only.attachments.len() == 1);
    let html_only = seen("html-only.eml");
    assert!(html_only.text.contains("crushed"), "{}", html_only.text);
    assert_eq!(
        html_only.from.as_deref(),
        Some("webform@shop.example"),
        "the sender is From, whatever Reply-To says"
    );
    let h = html_only.html.unwrap();
    assert!(
        !h.contains("iframe") && !h.contains("<form") && !h.contains("track.example"),
        "{h}"
    );
    let old = seen("no-content-type.eml");
    assert!(
        old.text.contains("stray byte é"),
        "undeclared 8-bit text reads as Windows-1252"
    );
    let broken = seen("malformed-headers.eml");
    assert!(broken.text.contains("Body with a bad soft break"));
}
