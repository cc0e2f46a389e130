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
}
