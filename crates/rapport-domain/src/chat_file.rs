//! Files a chat visitor sends. What a file is comes from its first bytes, never from the
//! name or type the browser claimed: only a short list of kinds is accepted (images,
//! PDF, plain text), the stored type is the one the bytes show, and the stored name is
//! cleaned and ends with that kind's extension — so an HTML page (by any name) or a program
//! renamed `photo.png` is refused, and `notes.html` holding plain text is kept as
//! `notes.html.txt`.
//! Whatever the kind, the server only ever serves it as a download.

use crate::FieldError;

/// The largest file a visitor may send (a chat is not a file transfer).
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// A visitor's file, checked: its cleaned name and its real type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatFile {
    /// The name to store and show (no path, no control characters, the right extension).
    pub filename: String,
    /// The MIME type its bytes show.
    pub content_type: &'static str,
}

/// The kinds accepted: MIME type, the extensions that fit it (the first is added when
/// the name has none of them).
const KINDS: &[(&str, &[&str])] = &[
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/gif", &["gif"]),
    ("image/webp", &["webp"]),
    ("application/pdf", &["pdf"]),
    ("text/plain", &["txt", "log", "csv", "md"]),
];

/// The MIME type the bytes show, among the accepted kinds: a binary kind as the `infer`
/// crate reads its signature, otherwise UTF-8 text without NUL bytes. Bytes of any other
/// kind `infer` knows (a program, an archive, a page it recognises) are refused.
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(data) {
        let mime = kind.mime_type();
        return KINDS.iter().map(|(m, _)| *m).find(|m| *m == mime);
    }
    (!data.contains(&0) && std::str::from_utf8(data).is_ok()).then_some("text/plain")
}

/// The name as given, cleaned: the part after the last slash, control characters and
/// bidirectional overrides and leading dots dropped, at most 100 characters; "file" when nothing is left.
fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = base
        .chars()
        .filter(|c| {
            // Bidirectional overrides would show `exe.png` for `gnp.exe`.
            !c.is_control()
                && !('\u{202A}'..='\u{202E}').contains(c)
                && !('\u{2066}'..='\u{2069}').contains(c)
        })
        .collect();
    let kept = kept.trim().trim_start_matches('.').trim();
    let cut: String = kept.chars().take(100).collect();
    if cut.is_empty() {
        "file".to_owned()
    } else {
        cut
    }
}

/// Checks a visitor's file: not empty, not over [`MAX_FILE_BYTES`], of an accepted kind
/// by its bytes. Errors name the field `file`.
pub fn classify(claimed_name: &str, data: &[u8]) -> Result<ChatFile, FieldError> {
    if data.is_empty() {
        return Err(FieldError::new("file", "is empty"));
    }
    if data.len() > MAX_FILE_BYTES {
        return Err(FieldError::new("file", "is larger than 5 MiB"));
    }
    let Some(content_type) = sniff(data) else {
        return Err(FieldError::new(
            "file",
            "must be an image (PNG, JPEG, GIF, WebP), a PDF or plain text",
        ));
    };
    let exts = KINDS
        .iter()
        .find(|(t, _)| *t == content_type)
        .map_or(&[][..], |(_, e)| *e);
    let mut filename = clean_name(claimed_name);
    let fits = filename
        .rsplit_once('.')
        .is_some_and(|(_, ext)| exts.iter().any(|e| e.eq_ignore_ascii_case(ext)));
    if !fits && let Some(ext) = exts.first() {
        filename = format!("{filename}.{ext}");
    }
    Ok(ChatFile {
        filename,
        content_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::has_control;
    use proptest::prelude::*;

    #[test]
    fn the_bytes_decide_the_type_and_the_extension() {
        let png = b"\x89PNG\r\n\x1a\n rest";
        let f = classify("../../etc/photo.png", png).unwrap();
        assert_eq!(
            (f.filename.as_str(), f.content_type),
            ("photo.png", "image/png")
        );
        let f = classify("invoice.html", png).unwrap();
        assert_eq!(f.filename, "invoice.html.png");
        let f = classify("notes.html", b"plain words, no markup").unwrap();
        assert_eq!(
            (f.filename.as_str(), f.content_type),
            ("notes.html.txt", "text/plain")
        );
        // A page is not plain text, whatever its name says.
        let e = classify("notes.txt", b"<script>alert(1)</script>").unwrap_err();
        assert_eq!(e.field, "file");
        let f = classify("C:\\Users\\a\\report.PDF", b"%PDF-1.7").unwrap();
        assert_eq!(
            (f.filename.as_str(), f.content_type),
            ("report.PDF", "application/pdf")
        );
        assert_eq!(classify("", b"hello").unwrap().filename, "file.txt");
        assert_eq!(classify("...\u{7}", b"hello").unwrap().filename, "file.txt");
    }

    #[test]
    fn programs_empty_and_big_files_are_refused_naming_the_field() {
        for data in [&b"MZ\x90\x00\x03"[..], b"", b"\x7fELF\x02\x01\x01\x00"] {
            assert_eq!(classify("a.png", data).unwrap_err().field, "file");
        }
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert_eq!(classify("a.txt", &big).unwrap_err().field, "file");
    }

    proptest! {
        #[test]
        fn any_name_comes_out_clean(name in "\\PC*", data in proptest::collection::vec(any::<u8>(), 1..64)) {
            if let Ok(f) = classify(&name, &data) {
                prop_assert!(!f.filename.is_empty() && f.filename.chars().count() <= 105);
                prop_assert!(!f.filename.contains(['/', '\\']) && !has_control(&f.filename));
                prop_assert!(!f.filename.starts_with('.'));
            }
        }
    }
}
