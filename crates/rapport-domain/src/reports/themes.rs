//! Themes: the recurring topics in what customers wrote over a period — survey comments
//! and their messages — so a supervisor sees what people are unhappy about this week.
//! Keyphrases come from YAKE (the `yake-rust` crate) run over the period's texts; each
//! becomes a theme with how many texts mention it, how many did in the period before,
//! the share of those with a negative mood, and a few quotes.

use std::collections::HashSet;
use std::sync::LazyLock;

use crate::sentiment::{Label, Sentiment};

/// One text a customer wrote.
#[derive(Debug, Clone)]
pub struct Said {
    /// The ticket it belongs to (none for an NPS comment).
    pub ticket_id: Option<i64>,
    /// What they wrote.
    pub text: String,
    /// Its mood.
    pub sentiment: Sentiment,
}

/// A few words quoted from a text that mentions a theme.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    /// The ticket it comes from.
    pub ticket_id: Option<i64>,
    /// The sentence that mentions the theme (at most [`QUOTE_CHARS`] characters).
    pub text: String,
    /// The text's mood.
    pub sentiment: Sentiment,
}

/// A recurring topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// The keyphrase, lower-cased ("refund", "tracking number").
    pub phrase: String,
    /// Texts of the period that mention it.
    pub count: usize,
    /// Texts of the period before that mention it.
    pub previous: usize,
    /// Of this period's, how many have a negative mood.
    pub negative: usize,
    /// Up to three different quotes, the most negative first.
    pub quotes: Vec<Quote>,
}

impl Theme {
    /// The share of negative texts among those that mention it, 0…1.
    pub fn negative_share(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.negative as f64 / self.count as f64
        }
    }
}

/// The longest quote.
pub const QUOTE_CHARS: usize = 160;

/// How much text YAKE reads at most (the newest texts first), in bytes.
const CORPUS_BYTES: usize = 200_000;

/// The longest word YAKE reads, in characters.
const MAX_WORD: usize = 40;

/// The most of one text a theme report reads (the store cuts longer ones), in characters.
pub const TEXT_CHARS: usize = 4_000;

/// Words that say nothing about a topic in support mail, beside each language's own.
const SUPPORT_NOISE: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "dear",
    "thanks",
    "thank",
    "regards",
    "best",
    "kind",
    "cheers",
    "please",
    "team",
    "support",
    "sir",
    "madam",
    "ok",
    "okay",
    "yes",
    "no",
    "hallo",
    "danke",
    "bonjour",
    "merci",
    "hola",
    "gracias",
    "lol",
    "get",
    "got",
    "would",
    "could",
    // Words every support conversation has: a theme is what it is about.
    "time",
    "times",
    "work",
    "worked",
    "working",
    "works",
    "start",
    "started",
    "change",
    "changed",
    "need",
    "want",
    "know",
    "tried",
    "try",
    "use",
    "used",
    "using",
    "thing",
    "things",
    "problem",
    "issue",
    "help",
    "question",
    "still",
    "again",
    "since",
    "ago",
    "day",
    "days",
    "week",
    "weeks",
    "yesterday",
    "today",
    "every",
    "new",
    "last",
    "first",
];

/// The stop words: English, German, French and Spanish, greetings, and the words every
/// support conversation has — gathered once per process.
static STOP_WORDS: LazyLock<yake_rust::StopWords> = LazyLock::new(|| {
    let mut all: HashSet<String> = SUPPORT_NOISE.iter().map(|w| (*w).to_owned()).collect();
    for lang in ["en", "de", "fr", "es"] {
        if let Some(s) = yake_rust::StopWords::predefined(lang) {
            all.extend(s.iter().cloned());
        }
    }
    yake_rust::StopWords::custom(all)
});

/// A text's words, lower-cased (letters, digits and inner apostrophes or hyphens).
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’' || c == '-'))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether `phrase` (words) occurs in `text` (words) as a run.
fn mentions(text: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && text.windows(phrase.len()).any(|w| w == phrase)
}

/// The sentence of `text` that mentions `phrase`, cut to [`QUOTE_CHARS`].
fn quote(text: &str, phrase: &[String]) -> String {
    let sentence = text
        .split_inclusive(['.', '!', '?', '\n'])
        .find(|s| mentions(&words(s), phrase))
        .unwrap_or(text)
        .trim();
    let mut out: String = sentence.chars().take(QUOTE_CHARS).collect();
    if sentence.chars().count() > QUOTE_CHARS {
        out.push('…');
    }
    out
}

/// The keyphrases YAKE finds in `texts` (at most `n`), best first.
fn keyphrases(texts: &[Said], n: usize) -> Vec<String> {
    let mut corpus = String::new();
    for s in texts {
        // Words longer than any word people write are left out: the keyphrase
        // extraction compares candidates letter by letter, and one text of 100 KB with no
        // space must not cost minutes.
        let text: Vec<&str> = s
            .text
            .split_whitespace()
            .filter(|w| w.chars().count() <= MAX_WORD)
            .collect();
        let text = text.join(" ");
        if corpus.len() + text.len() > CORPUS_BYTES {
            // Too long for what is left: the next, shorter ones may still fit.
            continue;
        }
        corpus.push_str(&text);
        // Each text ends a sentence, so phrases do not run from one into the next.
        corpus.push_str(".\n");
    }
    if corpus.trim().is_empty() {
        return Vec::new();
    }
    let config = yake_rust::Config {
        ngrams: 2,
        ..yake_rust::Config::default()
    };
    // The crate sorts scores with `partial_cmp(..).unwrap()`: text from strangers must
    // not take a report down if a score ever comes out NaN.
    std::panic::catch_unwind(|| yake_rust::get_n_best(n, &corpus, &STOP_WORDS, &config))
        .map(|found| found.into_iter().map(|r| r.keyword).collect())
        .unwrap_or_default()
}

/// The themes of `now` (the period's texts, newest first) against `before` (the period
/// before): at most `max`, those mentioned by at least two texts, the most mentioned
/// first.
pub fn themes(now: &[Said], before: &[Said], max: usize) -> Vec<Theme> {
    let now_words: Vec<Vec<String>> = now.iter().map(|s| words(&s.text)).collect();
    let before_words: Vec<Vec<String>> = before.iter().map(|s| words(&s.text)).collect();
    let mut out: Vec<(usize, Theme)> = Vec::new();
    let mut taken: Vec<Vec<String>> = Vec::new();
    for (rank, phrase) in keyphrases(now, max * 4).into_iter().enumerate() {
        let p = words(&phrase);
        // A phrase inside one already taken ("refund" after "refund request") adds
        // nothing.
        if p.is_empty() || taken.iter().any(|t| mentions(t, &p) || mentions(&p, t)) {
            continue;
        }
        let hits: Vec<usize> = (0..now.len())
            .filter(|&i| mentions(&now_words[i], &p))
            .collect();
        if hits.len() < 2 {
            continue;
        }
        let mut by_mood = hits.clone();
        by_mood.sort_by(|a, b| now[*a].sentiment.score.total_cmp(&now[*b].sentiment.score));
        // Three different sentences: the same words from three customers say it once.
        let mut quotes: Vec<Quote> = Vec::new();
        for &i in &by_mood {
            if quotes.len() == 3 {
                break;
            }
            let text = quote(&now[i].text, &p);
            if quotes.iter().all(|q| q.text != text) {
                quotes.push(Quote {
                    ticket_id: now[i].ticket_id,
                    text,
                    sentiment: now[i].sentiment,
                });
            }
        }
        out.push((
            rank,
            Theme {
                phrase: p.join(" "),
                count: hits.len(),
                previous: before_words.iter().filter(|w| mentions(w, &p)).count(),
                negative: hits
                    .iter()
                    .filter(|&&i| now[i].sentiment.label == Label::Negative)
                    .count(),
                quotes,
            },
        ));
        taken.push(p);
    }
    out.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
    out.into_iter().take(max).map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentiment;

    fn said(t: &str) -> Said {
        Said {
            ticket_id: Some(1),
            text: t.into(),
            sentiment: sentiment::read(t),
        }
    }

    #[test]
    fn recurring_topics_become_themes_with_mood_and_quotes() {
        let now: Vec<Said> = [
            "My refund still has not arrived after three weeks.",
            "Where is my refund? This is ridiculous.",
            "The refund was promised last Monday and nothing happened.",
            "The tracking number does not work on the courier's site.",
            "Your tracking number gives an error.",
            "Thanks, the new password works.",
            "Can I change the delivery address?",
        ]
        .iter()
        .map(|t| said(t))
        .collect();
        let before: Vec<Said> = ["Refund please", "tracking number missing", "hello"]
            .iter()
            .map(|t| said(t))
            .collect();
        let found = themes(&now, &before, 5);
        let refund = found.iter().find(|t| t.phrase == "refund").expect("refund");
        assert_eq!((refund.count, refund.previous), (3, 1));
        assert!(refund.negative >= 2, "{refund:?}");
        assert_eq!(refund.quotes.len(), 3);
        assert!(refund.quotes[0].sentiment.score <= refund.quotes[2].sentiment.score);
        let tracking = found
            .iter()
            .find(|t| t.phrase.contains("tracking"))
            .expect("tracking");
        assert_eq!(tracking.count, 2);
        // Said once: not a theme. The most mentioned comes first.
        assert!(
            found
                .iter()
                .all(|t| t.count >= 2 && !t.phrase.contains("password"))
        );
        assert_eq!(found[0].phrase, "refund");
    }

    #[test]
    fn quotes_are_the_mentioning_sentence_cut_short() {
        let p = words("refund");
        assert_eq!(
            quote("Hello there. Where is my refund? Thanks.", &p),
            "Where is my refund?"
        );
        let long = format!("refund {}", "x".repeat(300));
        assert_eq!(quote(&long, &p).chars().count(), QUOTE_CHARS + 1);
        assert!(themes(&[], &[], 5).is_empty());
        // One huge text first (the newest) leaves room for the others; a word with no end
        // is left out rather than compared letter by letter.
        let mut texts = vec![said(&"refund ".repeat(40_000)), said(&"x".repeat(100_000))];
        texts.extend(["My refund is late.", "Where is the refund?"].map(said));
        let found = themes(&texts, &[], 3);
        assert_eq!(found.first().map(|t| t.phrase.as_str()), Some("refund"));
        // The same sentence from two texts is quoted once.
        let same: Vec<Said> = ["Where is my refund?", "Where is my refund?", "Refund late."]
            .map(said)
            .to_vec();
        let found = themes(&same, &[], 3);
        assert_eq!(found[0].count, 3);
        assert_eq!(found[0].quotes.len(), 2, "{:?}", found[0].quotes);
        assert!(themes(&[said("!!! ??? ...")], &[], 5).is_empty());
    }
}
