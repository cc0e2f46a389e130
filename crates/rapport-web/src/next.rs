//! Where a page sends someone back to after signing in (`next`): only ever a page of
//! this site, so a link carrying `next` cannot become an open redirect. The agents'
//! sign-in and the portal's emailed sign-in link share this one rule.

/// Whether `next` can only lead to a page of this site: an absolute path that starts with
/// exactly one `/`, with no backslash and no control character (browsers drop tabs and
/// newlines, and read `\` as `/`, so `/\t/evil.example` or `/\\evil.example` would leave)
/// — as given and after every round of percent-decoding.
pub fn is_local_path(next: &str) -> bool {
    const ROUNDS: usize = 4;
    if next.len() > 2048 {
        return false;
    }
    let safe = |p: &str| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.contains('\\')
            && !p.chars().any(|c| c.is_control() || c == '\u{FEFF}')
    };
    let mut current = next.to_owned();
    for _ in 0..ROUNDS {
        if !safe(&current) {
            return false;
        }
        let decoded = percent_encoding::percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == current {
            return true;
        }
        current = decoded;
    }
    // Still decoding after several rounds: nothing legitimate looks like that.
    false
}

/// `next` when it is a page of this site ([`is_local_path`]), else `None`.
pub fn local(next: Option<&str>) -> Option<String> {
    next.map(str::trim)
        .filter(|n| !n.is_empty() && is_local_path(n))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_kept() {
        for ok in [
            "/community",
            "/community/topics/12#post-3",
            "/community?sort=votes&q=kettle%20light",
        ] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/%2Fevil.example",
            "/%5Cevil.example",
            "/%252F%252Fevil.example",
            "javascript:alert(1)",
            "community",
            "",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
        assert_eq!(local(Some(" /community ")).as_deref(), Some("/community"));
        assert_eq!(local(Some("//evil.example")), None);
        assert_eq!(local(None), None);
    }
}
