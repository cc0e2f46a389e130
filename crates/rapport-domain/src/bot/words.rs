//! What the bot reads in a customer's words without understanding them: a folded form of
//! the text (lower case, accents off, punctuation as spaces) and whole-phrase matching on
//! it, so "Talk to a HUMAN!!" and "talk to a human" are the same request.

/// `text` lower-cased, common Latin accents removed, every run of characters that are
/// not letters, digits or apostrophes made one space, with a space at each end (so a
/// phrase matches as `" phrase "`). Apostrophes are dropped ("didn't" → "didnt").
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for ch in text.chars().flat_map(char::to_lowercase) {
        let ch = unaccent(ch);
        if ch == '\'' || ch == '’' {
            continue;
        }
        if ch.is_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

fn unaccent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'å' => 'a',
        'ä' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ß' => 's',
        c => c,
    }
}

/// Whether the folded text `folded` (from [`fold`]) holds one of `phrases` (each already
/// folded-style: lower case, single spaces, no punctuation) as whole words.
pub fn has_any(folded: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| has(folded, p))
}

/// Whether `folded` holds `phrase` as whole words. A phrase ending in `*` matches any
/// word that begins with it (`fuck*`).
pub fn has(folded: &str, phrase: &str) -> bool {
    if let Some(stem) = phrase.strip_suffix('*') {
        return folded.contains(&format!(" {stem}"));
    }
    folded.contains(&format!(" {phrase} "))
}

/// How many words `folded` has.
pub fn word_count(folded: &str) -> usize {
    folded.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_makes_spellings_meet() {
        assert_eq!(fold("Talk to a HUMAN!!"), " talk to a human ");
        assert_eq!(fold("didn't  help…"), " didnt help ");
        assert_eq!(
            fold("Ich möchte einen Menschen"),
            " ich mochte einen menschen "
        );
        assert!(has(&fold("Can I talk to a human?"), "talk to a human"));
        assert!(!has(&fold("humane"), "human"));
        assert!(has(&fold("what the fucking hell"), "fuck*"));
    }
}
