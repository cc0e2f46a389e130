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
    let (body, stem) = match phrase.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (phrase, false),
    };
    if body.is_empty() {
        // As the padded search: " " is in any folded text, "  " in none.
        return stem && folded.contains(' ');
    }
    // Only where a word starts (after a space) can the phrase begin: each such place is
    // compared, with no searcher built and no copy made — the lexicons are read phrase by
    // phrase against every message, so this is hot.
    let bytes = folded.as_bytes();
    let first = body.as_bytes()[0];
    bytes.windows(2).enumerate().any(|(i, w)| {
        if w[0] != b' ' || w[1] != first {
            return false;
        }
        // After an ASCII space: a character boundary.
        let rest = &folded[i + 1..];
        rest.starts_with(body) && (stem || rest[body.len()..].starts_with(' '))
    })
}

/// Short words that say which language a message is in (folded).
const LANGUAGE_WORDS: &[(&str, &[&str])] = &[
    (
        "de",
        &[
            "ich", "mein", "meine", "meinen", "wie", "ist", "nicht", "und", "der", "die", "das",
            "wurde", "habe", "kann", "wo", "mir", "zuruck", "bitte", "eine", "ein",
        ],
    ),
    (
        "fr",
        &[
            "je", "mon", "ma", "mes", "est", "pas", "comment", "ou", "les", "une", "commande",
            "pourquoi", "il", "elle",
        ],
    ),
    (
        "es",
        &[
            "mi", "mis", "como", "donde", "por", "que", "los", "las", "una", "pedido", "es", "esta",
        ],
    ),
];

/// The language of `text` when its short words say so clearly (at least two of one
/// language's, more than any other's and more than its English ones): `de`, `fr` or
/// `es`; `None` for English or when unsure.
pub fn language(text: &str) -> Option<&'static str> {
    const ENGLISH: &[&str] = &[
        "i", "my", "the", "is", "how", "do", "where", "and", "not", "can", "what", "a", "to",
    ];
    let folded = fold(text);
    let count = |ws: &[&str]| ws.iter().filter(|w| has(&folded, w)).count();
    let english = count(ENGLISH);
    let mut best: Option<(usize, &'static str)> = None;
    for (lang, ws) in LANGUAGE_WORDS {
        let n = count(ws);
        if n >= 2 && n > english && best.is_none_or(|(b, _)| n > b) {
            best = Some((n, lang));
        }
    }
    best.map(|(_, l)| l)
}

/// How many words `folded` has.
pub fn word_count(folded: &str) -> usize {
    folded.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clear_language_is_recognised() {
        assert_eq!(language("Wie setze ich mein Passwort zurück?"), Some("de"));
        assert_eq!(language("Où est ma commande ?"), Some("fr"));
        assert_eq!(language("¿Dónde está mi pedido?"), Some("es"));
        assert_eq!(language("How do I reset my password?"), None);
        assert_eq!(language("Alexa"), None);
    }

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
        assert!(has(&fold("down, down and out"), "down and"));
        assert!(!has(&fold("sundown"), "down*"));
    }

    proptest::proptest! {
        /// Whole-word matching without copies finds exactly what looking for the phrase
        /// padded with spaces finds, for phrases and stems, at any place in the text.
        #[test]
        fn matching_is_the_padded_search(
            text in "[a-c ,!]{0,24}",
            phrase in "[a-c]{1,3}( [a-c]{1,2})?\\*?",
        ) {
            let folded = fold(&text);
            let padded = match phrase.strip_suffix('*') {
                Some(stem) => folded.contains(&format!(" {stem}")),
                None => folded.contains(&format!(" {phrase} ")),
            };
            proptest::prop_assert_eq!(has(&folded, &phrase), padded);
        }
    }
}
