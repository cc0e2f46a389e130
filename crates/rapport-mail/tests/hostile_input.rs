//! Property tests of the parsing and threading entry point on hostile input: any bytes,
//! and corpus messages with bytes flipped, cut or spliced — never a panic, and what
//! comes out is always usable (a body that fits, sanitised HTML). The same entry point
//! is the cargo-fuzz target in `fuzz/`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use proptest::prelude::*;
use rapport_mail::ingest::{Prepared, prepare, thread_keys};
use rapport_mail::parse::parse;
use rapport_store::messages::NewAttachment;

fn corpus() -> Vec<Vec<u8>> {
    let dir = format!("{}/tests/corpus", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn check(raw: &[u8]) {
    // What the listener reads before answering 250 must never panic either.
    let _ = rapport_mail::parse::message_id(raw);
    let p = parse(raw);
    let keys = thread_keys(&p);
    assert!(keys.message_ids.len() <= 100);
    if let Some(h) = &p.html {
        let lower = h.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{h}");
        // "javascript:" as visible text is harmless; inside a tag it is not.
        for tag in tags(&lower) {
            assert!(!tag.contains("javascript:"), "{tag} in {h}");
        }
    }
    for a in &p.attachments {
        assert!(!a.filename.contains('/') && !a.filename.is_empty());
    }
    // What the ingest job hands to its write is within every limit the store checks.
    if let Prepared::Mail(m) = prepare(raw) {
        let fits = NewAttachment::check_all(&m.attachments);
        assert!(fits.is_ok(), "{fits:?}");
        assert!(m.keys.message_ids.len() <= 100);
    }
}

/// The tags of serialised, sanitised HTML: text never holds a raw `<` (the serialiser
/// writes `&lt;`), and attribute values are double-quoted with `"` written as `&quot;`,
/// so a `>` inside quotes does not end the tag.
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in html.char_indices() {
        match (start, c) {
            (None, '<') => start = Some(i),
            (Some(_), '"') => quoted = !quoted,
            (Some(s), '>') if !quoted => {
                out.push(&html[s..=i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(&html[s..]);
    }
    out
}

#[test]
fn the_tag_scanner_sees_attributes_and_not_text() {
    let text = r#"<p>a href="javascript:alert(1)"&gt;x</p>"#;
    assert!(tags(text).iter().all(|t| !t.contains("javascript:")));
    let attr = r#"<p>x</p><a title="a>b" href="javascript:alert(1)">x</a>"#;
    assert!(tags(attr).iter().any(|t| t.contains("javascript:")));
    // The case a CI run found: a flipped byte left the link as visible text.
    let raw = b"From: a@example.it\r\nTo: b@example.it\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<p>x</p><img>a href=\"javascript:alert(1)\">x <a href=\"javascript:alert(1)\">y</a>";
    check(raw);
    let p = parse(raw);
    assert!(p.html.unwrap().contains("javascript:alert(1)\"&gt;x"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check(&raw);
    }

    #[test]
    fn corpus_messages_damaged(
        which in 0usize..64,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..24),
        cut in any::<prop::sample::Index>(),
        splice in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let all = corpus();
        let mut raw = all[which % all.len()].clone();
        for (at, byte) in flips {
            let i = at.index(raw.len());
            raw[i] = byte;
        }
        let at = cut.index(raw.len() + 1);
        raw.splice(at..at, splice);
        check(&raw);
        raw.truncate(at);
        check(&raw);
    }

    #[test]
    fn header_soup(lines in proptest::collection::vec("[ -~]{0,80}", 0..40), body in "[ -~\\n]{0,400}") {
        let raw = format!("{}\r\n\r\n{body}", lines.join("\r\n"));
        check(raw.as_bytes());
    }
}

#[test]
fn deep_nesting_and_huge_headers_do_not_hurt() {
    let mut raw = String::from(
        "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n",
    );
    for i in 0..200 {
        raw.push_str(&format!(
            "--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{}\"\r\n\r\n",
            i + 1
        ));
    }
    check(raw.as_bytes());
    let refs: String = (0..5000).map(|i| format!("<r{i}@x> ")).collect();
    let raw = format!(
        "From: a@example.com\r\nReferences: {refs}\r\nSubject: [#12] {}\r\n\r\nx",
        "y".repeat(100_000)
    );
    let p = parse(raw.as_bytes());
    let k = thread_keys(&p);
    assert_eq!(k.number, Some(12));
    assert_eq!(k.message_ids.len(), 100);
}

/// Inputs the fuzz target found crashing, kept so they never come back.
#[test]
fn past_fuzz_crashes_stay_fixed() {
    let dir = format!("{}/tests/crashes", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let raw = std::fs::read(e.unwrap().path()).unwrap();
        check(&raw);
        n += 1;
    }
    assert!(n >= 1);
}
