//! Per-language text analysis: how a passage's words become the terms the index holds,
//! and how a query's words become the terms it looks for — the same chain on both sides.
//!
//! Words are split on non-alphanumerics, lower-cased, stop words of the language dropped,
//! folded to ASCII (`é` → `e`, `ß` → `ss`) and stemmed (`refunds`, `refunded` → `refund`).
//! Languages without a stemmer here get everything but the stemming.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, TokenStream,
};

use rapport_domain::kb::Locale;

/// The languages the engine analyses with their own stemmer and stop words; every other
/// language is [`Lang::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    /// English.
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// Italian.
    It,
    /// Dutch.
    Nl,
    /// Portuguese.
    Pt,
    /// Any other language: split, lower-cased and folded, not stemmed.
    Other,
}

impl Lang {
    /// Every language, in a fixed order (the schema's field order).
    pub const ALL: [Lang; 8] = [
        Lang::En,
        Lang::De,
        Lang::Fr,
        Lang::Es,
        Lang::It,
        Lang::Nl,
        Lang::Pt,
        Lang::Other,
    ];

    /// The language of a locale's text (`de-ch` → German).
    pub fn of(locale: &Locale) -> Lang {
        match locale.language() {
            "en" => Lang::En,
            "de" => Lang::De,
            "fr" => Lang::Fr,
            "es" => Lang::Es,
            "it" => Lang::It,
            "nl" => Lang::Nl,
            "pt" => Lang::Pt,
            _ => Lang::Other,
        }
    }

    /// The short name used in field and tokenizer names.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::It => "it",
            Lang::Nl => "nl",
            Lang::Pt => "pt",
            Lang::Other => "xx",
        }
    }

    /// The position of this language in [`Lang::ALL`].
    pub fn index(self) -> usize {
        Lang::ALL.iter().position(|l| *l == self).unwrap_or(0)
    }

    fn tantivy(self) -> Option<Language> {
        Some(match self {
            Lang::En => Language::English,
            Lang::De => Language::German,
            Lang::Fr => Language::French,
            Lang::Es => Language::Spanish,
            Lang::It => Language::Italian,
            Lang::Nl => Language::Dutch,
            Lang::Pt => Language::Portuguese,
            Lang::Other => return None,
        })
    }

    /// The name the analyzer is registered under in the index.
    pub fn tokenizer_name(self) -> String {
        format!("rapport_{}", self.code())
    }
}

/// The analysis chain of `lang`.
pub fn analyzer(lang: Lang) -> TextAnalyzer {
    let base = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser);
    match lang.tantivy() {
        Some(l) => base
            .filter(StopWordFilter::new(l).unwrap_or_else(|| StopWordFilter::remove(Vec::new())))
            .filter(StopWordFilter::remove(
                extra_stop_words(lang).iter().map(|w| (*w).to_owned()),
            ))
            .filter(AsciiFoldingFilter)
            .filter(Stemmer::new(l))
            .build(),
        None => base.filter(AsciiFoldingFilter).build(),
    }
}

/// Words that carry no meaning in a help-center question, beyond tantivy's list for the
/// language (whose English list is Lucene's short one: it keeps `how`, `my`, `can`).
fn extra_stop_words(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &[
            "i",
            "me",
            "my",
            "mine",
            "myself",
            "we",
            "us",
            "our",
            "ours",
            "you",
            "your",
            "yours",
            "he",
            "him",
            "his",
            "she",
            "her",
            "hers",
            "its",
            "them",
            "what",
            "which",
            "who",
            "whom",
            "whose",
            "when",
            "where",
            "why",
            "how",
            "am",
            "been",
            "being",
            "have",
            "has",
            "had",
            "having",
            "do",
            "does",
            "did",
            "doing",
            "done",
            "would",
            "should",
            "could",
            "can",
            "cannot",
            "may",
            "might",
            "must",
            "shall",
            "from",
            "about",
            "than",
            "too",
            "very",
            "so",
            "just",
            "also",
            "any",
            "some",
            "all",
            "each",
            "there",
            "here",
            "those",
            "im",
            "ive",
            "dont",
            "doesnt",
            "didnt",
            "cant",
            "s",
            "t",
            "d",
            "ll",
            "m",
            "re",
            "ve",
            "please",
            "hi",
            "hello",
            "thanks",
            "get",
            "got",
            "want",
            "need",
            "help",
            "way",
            "were",
            "because",
            "while",
            "again",
            "other",
            "only",
            "own",
            "same",
            "both",
            "few",
            "more",
            "most",
            "nor",
            "anyone",
            "someone",
            "something",
            "thing",
            "things",
        ],
        _ => &[],
    }
}

/// The analysis without stop words and stemming: how query words are split and folded
/// before each language looks at them.
pub fn plain() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The terms of `text` under `analyzer`, with their positions.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push((t.position, t.text.clone()));
    }
    out
}

/// The words of `text`: split, lower-cased and folded (no stop words removed, no
/// stemming).
pub fn words(text: &str) -> Vec<String> {
    terms(&mut plain(), text)
        .into_iter()
        .map(|(_, w)| w)
        .collect()
}

/// The words of `text` split and lower-cased but not folded, as a language's analyzer
/// must see them: it drops its stop words before folding (German `ändern`, a word, folds
/// to `andern`, a stop word).
pub fn typed_words(text: &str) -> Vec<String> {
    let mut lower = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .build();
    terms(&mut lower, text)
        .into_iter()
        .map(|(_, w)| w)
        .collect()
}

/// One word's term in `lang`: its stem, or `None` when the word is a stop word there.
pub fn stem(analyzer: &mut TextAnalyzer, word: &str) -> Option<String> {
    terms(analyzer, word).into_iter().next().map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_stems_folds_and_drops_stop_words() {
        let mut a = analyzer(Lang::En);
        let t: Vec<String> = terms(&mut a, "The Refunds were REFUNDED to my café")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(t, ["refund", "refund", "cafe"]);
    }

    #[test]
    fn german_stems() {
        let mut a = analyzer(Lang::De);
        assert_eq!(stem(&mut a, "Rechnungen"), stem(&mut a, "Rechnung"));
        assert_eq!(stem(&mut a, "und"), None, "a German stop word");
    }

    #[test]
    fn other_languages_are_folded_not_stemmed() {
        let mut a = analyzer(Lang::of(&Locale::parse("pl").unwrap()));
        assert_eq!(stem(&mut a, "Zażółć"), Some("zazolc".into()));
        assert_eq!(words("Hello, Wörld!"), ["hello", "world"]);
    }
}
