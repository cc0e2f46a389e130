//! Text that ends up in HTML. Customer-written text is always escaped before it reaches a
//! page or a snippet; this is the one escaper every layer uses.

/// Appends `text` to `out` with `& < > " '` escaped and control characters (but line
/// breaks) turned into spaces.
pub fn escape_html_into(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(ch),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// Whether `text` holds a control character (C0, DEL or C1 — line breaks, tabs and NUL
/// included).
pub fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// `text` on one line: every control character (line breaks, tabs and NUL included)
/// becomes a space, runs of white space become one space, and the ends are trimmed.
/// For text that arrives by mail, which is cleaned rather than refused.
pub fn fold_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `text` escaped for HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    escape_html_into(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_controls() {
        assert_eq!(
            escape_html("<a href='x'>&\"\u{7}\nok"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot; \nok"
        );
    }

    #[test]
    fn controls_fold_to_single_spaces() {
        assert_eq!(fold_controls(" a\0b\r\n\t c\u{85}d \u{7f}"), "a b c d");
        assert!(has_control("a\tb") && has_control("\0") && !has_control("a b é"));
    }
}
