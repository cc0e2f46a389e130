//! From what someone typed to a tantivy query. The text is cut into **concepts** — a word,
//! a quoted phrase, or a run of words that is a synonym-group member (`money back`) — and
//! each concept becomes, in each language the index holds, a disjunction of:
//!
//! - the exact term (stemmed) in the title, tags, headings and text, weighted by field;
//! - the other members of its synonym group, a little below;
//! - when the word is unknown to the index (a misspelling: `refnd`, `pasword`), the terms
//!   within one edit (words of 4–7 letters) or two (8 or more), well below exact;
//! - for the last word of an as-you-type query, the terms it begins.
//!
//! Quoted phrases must match, as phrases; every other concept is optional (ranked by
//! BM25, and the share of concepts a hit covers decides whether it is confident).

use tantivy::Term;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

use crate::analyzer::{Lang, analyzer, plain, stem, terms};
use crate::synonyms::Synonyms;

/// The most concepts one query is cut into (the rest of a long query is ignored).
pub const MAX_CONCEPTS: usize = 16;

/// Field weights: a word in the title counts most.
pub const TITLE_BOOST: f32 = 3.0;
/// Tags are chosen words: almost a title.
pub const TAGS_BOOST: f32 = 2.0;
/// A section's heading.
pub const HEADING_BOOST: f32 = 1.5;
/// The passage's text.
pub const TEXT_BOOST: f32 = 1.0;
/// Synonyms, relative to the word typed.
pub const SYNONYM_BOOST: f32 = 0.8;
/// Misspelling corrections: a constant score (not BM25), relative to the field's weight.
pub const FUZZY_BOOST: f32 = 0.6;
/// Completions of the word being typed: a constant score, relative to the field's weight.
pub const PREFIX_BOOST: f32 = 0.8;

/// The fields of one language.
#[derive(Debug, Clone, Copy)]
pub struct LangFields {
    /// The article's (or topic's) title.
    pub title: Field,
    /// Its tags.
    pub tags: Field,
    /// The passage's heading.
    pub heading: Field,
    /// The passage's text.
    pub text: Field,
}

impl LangFields {
    /// Each field with its weight.
    pub fn weighted(&self) -> [(Field, f32); 4] {
        [
            (self.title, TITLE_BOOST),
            (self.tags, TAGS_BOOST),
            (self.heading, HEADING_BOOST),
            (self.text, TEXT_BOOST),
        ]
    }
}

/// One concept of a query, before any language looks at it.
#[derive(Debug, Clone, PartialEq)]
pub struct Concept {
    /// The words typed (lower-cased, not folded: each language's analyzer folds after
    /// dropping its stop words), one for a word, several for a phrase or a multi-word
    /// synonym.
    pub words: Vec<String>,
    /// A quoted phrase: it must match, in order.
    pub phrase: bool,
    /// Other members of its synonym group.
    pub synonyms: Vec<Vec<String>>,
    /// The last word of an as-you-type query: terms it begins also match.
    pub prefix: bool,
}

/// A concept in one language: the terms to look for.
#[derive(Debug, Clone)]
pub struct LangConcept {
    /// Each alternative (the words typed first, then synonyms) as `(position, term)`
    /// lists, with its boost.
    pub alts: Vec<(Vec<(usize, String)>, f32)>,
    /// The term to correct and how far, when the word is unknown.
    pub fuzzy: Option<(String, u8)>,
    /// The beginning of a term, for the word being typed.
    pub prefix: Option<String>,
}

/// A query cut into concepts.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// The concepts, in the order typed.
    pub concepts: Vec<Concept>,
}

impl Parsed {
    /// Cuts `text` into concepts: quoted phrases, synonym-group members found among the
    /// words (compared as stems of `primary`), and the remaining words that are not stop
    /// words of `primary`. With `suggest`, the last word also matches the terms it begins
    /// unless the text ends in a space.
    pub fn parse(text: &str, synonyms: &Synonyms, primary: Lang, suggest: bool) -> Self {
        let mut an = analyzer(primary);
        let mut concepts = Vec::new();
        let quotes = text.matches('"').count();
        for (i, seg) in text.split('"').enumerate() {
            // Odd segments are quoted, unless the last quote is unmatched.
            let quoted = i % 2 == 1 && (i < quotes || quotes.is_multiple_of(2));
            let ws = crate::analyzer::typed_words(seg);
            if ws.is_empty() {
                continue;
            }
            if quoted {
                concepts.push(Concept {
                    words: ws,
                    phrase: true,
                    synonyms: Vec::new(),
                    prefix: false,
                });
                continue;
            }
            let stems: Vec<Option<String>> = ws.iter().map(|w| stem(&mut an, w)).collect();
            let found = synonyms.matches(&stems, &mut |w| stem(&mut an, w));
            let mut next = 0;
            let push_words = |from: usize, to: usize, concepts: &mut Vec<Concept>| {
                for k in from..to {
                    if stems[k].is_some() {
                        concepts.push(Concept {
                            words: vec![ws[k].clone()],
                            phrase: false,
                            synonyms: Vec::new(),
                            prefix: false,
                        });
                    }
                }
            };
            for (start, len, others) in found {
                push_words(next, start, &mut concepts);
                concepts.push(Concept {
                    words: ws[start..start + len].to_vec(),
                    phrase: false,
                    synonyms: others,
                    prefix: false,
                });
                next = start + len;
            }
            push_words(next, ws.len(), &mut concepts);
            // The last word being typed, even a stop word's beginning (`or` → order).
            let last = ws.len() - 1;
            let typing = suggest
                && i == text.split('"').count() - 1
                && !text.ends_with(|c: char| c.is_whitespace() || c == '"');
            if typing && ws[last].chars().count() >= 2 {
                match concepts.last_mut() {
                    Some(c) if c.words.last() == Some(&ws[last]) && c.synonyms.is_empty() => {
                        c.prefix = true;
                    }
                    _ if stems[last].is_none() && ws[last].chars().count() >= 3 => {
                        concepts.push(Concept {
                            words: vec![ws[last].clone()],
                            phrase: false,
                            synonyms: Vec::new(),
                            prefix: true,
                        });
                    }
                    _ => {}
                }
            }
        }
        concepts.truncate(MAX_CONCEPTS);
        Self { concepts }
    }

    /// The query as comparable text (folded words, single spaces): how the search log
    /// groups what people asked.
    pub fn normalized(text: &str) -> String {
        crate::analyzer::words(text).join(" ")
    }
}

impl Concept {
    /// This concept in `lang`, given how many passages hold a term (`doc_freq`), to decide
    /// whether a word is unknown.
    pub fn in_lang(
        &self,
        an: &mut TextAnalyzer,
        doc_freq: &mut dyn FnMut(&str) -> u64,
    ) -> Option<LangConcept> {
        let mut alts = Vec::new();
        let typed = terms(an, &self.words.join(" "));
        let mut fuzzy = None;
        let mut prefix = None;
        if self.prefix {
            // The beginning of a word has no stem of its own: use the plain folded word
            // and, when it differs, its stem (`configura` → `configur`).
            let typed = self.words.last().cloned().unwrap_or_default();
            let w = crate::analyzer::words(&typed).concat();
            let s = stem(an, &typed).unwrap_or_else(|| w.clone());
            prefix = Some(if s.len() < w.len() { s } else { w });
        }
        if !typed.is_empty() {
            if !self.phrase && typed.len() == 1 && !self.prefix {
                let (_, t) = &typed[0];
                let letters = self.words[0].chars().count();
                if letters >= 4 && doc_freq(t) == 0 {
                    fuzzy = Some((t.clone(), if letters >= 8 { 2 } else { 1 }));
                }
            }
            alts.push((typed, 1.0));
        }
        for syn in &self.synonyms {
            let t = terms(an, &syn.join(" "));
            if !t.is_empty() {
                alts.push((t, SYNONYM_BOOST));
            }
        }
        (!alts.is_empty() || prefix.is_some()).then_some(LangConcept {
            alts,
            fuzzy,
            prefix,
        })
    }
}

impl LangConcept {
    /// The clauses of this concept over `fields`.
    pub fn clauses(&self, fields: &LangFields, phrase: bool) -> Vec<Box<dyn Query>> {
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        for (field, weight) in fields.weighted() {
            for (terms, boost) in &self.alts {
                let q: Box<dyn Query> = if terms.len() == 1 {
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, &terms[0].1),
                        IndexRecordOption::WithFreqs,
                    ))
                } else {
                    let base = terms[0].0;
                    let t = terms
                        .iter()
                        .map(|(p, s)| (p - base, Term::from_field_text(field, s)))
                        .collect();
                    Box::new(PhraseQuery::new_with_offset(t))
                };
                out.push(Box::new(BoostQuery::new(q, weight * boost)));
            }
            if phrase {
                continue;
            }
            if let Some((t, d)) = &self.fuzzy {
                let q = FuzzyTermQuery::new(Term::from_field_text(field, t), *d, true);
                out.push(Box::new(BoostQuery::new(Box::new(q), weight * FUZZY_BOOST)));
            }
            if let Some(p) = &self.prefix {
                let q = FuzzyTermQuery::new_prefix(Term::from_field_text(field, p), 0, true);
                out.push(Box::new(BoostQuery::new(
                    Box::new(q),
                    weight * PREFIX_BOOST,
                )));
            }
        }
        out
    }

    /// How well a text's terms satisfy this concept: 1 for an exact word or synonym, 0.9
    /// for a correction (a term within the edit distance) or a completion (a term the
    /// word being typed begins), 0 for nothing.
    pub fn satisfied_by(&self, held: &dyn TermSet) -> f32 {
        let mut best: f32 = 0.0;
        for (terms, _) in &self.alts {
            if terms.iter().all(|(_, t)| held.contains(t)) {
                return 1.0;
            }
        }
        if let Some((t, d)) = &self.fuzzy
            && held.any(&mut |h| strsim::damerau_levenshtein(h, t) <= usize::from(*d))
        {
            best = best.max(0.9);
        }
        if let Some(p) = &self.prefix
            && held.any(&mut |h| h.starts_with(p.as_str()))
        {
            best = best.max(0.9);
        }
        best
    }

    /// The terms of `held` to highlight for this concept.
    pub fn highlights(&self, held: &dyn TermSet) -> Vec<String> {
        let exact: std::collections::HashSet<&str> = self
            .alts
            .iter()
            .flat_map(|(t, _)| t.iter().map(|(_, s)| s.as_str()))
            .collect();
        let mut out = Vec::new();
        held.any(&mut |h| {
            let mark = exact.contains(h)
                || self
                    .fuzzy
                    .as_ref()
                    .is_some_and(|(t, d)| strsim::damerau_levenshtein(h, t) <= usize::from(*d))
                || self
                    .prefix
                    .as_ref()
                    .is_some_and(|p| h.starts_with(p.as_str()));
            if mark {
                out.push(h.to_owned());
            }
            false
        });
        out
    }
}

/// The terms a text holds, as a concept asks about them ([`LangConcept::satisfied_by`]).
pub trait TermSet {
    /// Whether the text holds `term`.
    fn contains(&self, term: &str) -> bool;
    /// Whether `f` holds for any of its terms (each asked once at most, stopping at the
    /// first that holds).
    fn any(&self, f: &mut dyn FnMut(&str) -> bool) -> bool;
}

impl TermSet for std::collections::HashSet<String> {
    fn contains(&self, term: &str) -> bool {
        std::collections::HashSet::contains(self, term)
    }

    fn any(&self, f: &mut dyn FnMut(&str) -> bool) -> bool {
        self.iter().any(|t| f(t))
    }
}

/// The whole query: each concept a disjunction (phrases required), across `langs`.
pub fn build(
    concepts: &[(Concept, Vec<(Lang, LangConcept)>)],
    fields: &dyn Fn(Lang) -> LangFields,
) -> Option<Box<dyn Query>> {
    let mut top: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (concept, langs) in concepts {
        let clauses: Vec<(Occur, Box<dyn Query>)> = langs
            .iter()
            .flat_map(|(l, lc)| lc.clauses(&fields(*l), concept.phrase))
            .map(|q| (Occur::Should, q))
            .collect();
        if clauses.is_empty() {
            continue;
        }
        let occur = if concept.phrase {
            Occur::Must
        } else {
            Occur::Should
        };
        top.push((occur, Box::new(BooleanQuery::new(clauses))));
    }
    (!top.is_empty()).then(|| Box::new(BooleanQuery::new(top)) as Box<dyn Query>)
}

/// The plain words of `text` (for callers that only need to know whether anything is
/// left to look for).
pub fn has_words(text: &str) -> bool {
    !terms(&mut plain(), text).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str, suggest: bool) -> Vec<Concept> {
        let syn = Synonyms::parse(["invoice, bill", "refund, money back"]);
        Parsed::parse(q, &syn, Lang::En, suggest).concepts
    }

    #[test]
    fn words_phrases_and_synonyms() {
        let c = parse(r#"how do I get my money back for "damaged item""#, false);
        let words: Vec<Vec<String>> = c.iter().map(|c| c.words.clone()).collect();
        assert_eq!(
            words,
            vec![
                vec!["money".to_owned(), "back".to_owned()],
                vec!["damaged".to_owned(), "item".to_owned()],
            ]
        );
        assert_eq!(c[0].synonyms, vec![vec!["refund".to_owned()]]);
        assert!(c[1].phrase);
        assert!(!c[0].prefix);
        // An unmatched quote is just a word.
        let c = parse(r#"bill "late"#, false);
        assert_eq!(c.len(), 2);
        assert!(!c[1].phrase);
        assert_eq!(c[0].synonyms, vec![vec!["invoice".to_owned()]]);
    }

    #[test]
    fn the_word_being_typed_is_a_prefix() {
        let c = parse("reset my passw", true);
        assert!(c.last().is_some_and(|c| c.prefix && c.words == ["passw"]));
        let c = parse("reset my password ", true);
        assert!(c.iter().all(|c| !c.prefix));
        let c = parse("cancel my or", true);
        assert!(c.last().is_some_and(|c| !c.prefix && c.words == ["cancel"]));
        let c = parse("cancel my ord", true);
        assert!(c.last().is_some_and(|c| c.prefix && c.words == ["ord"]));
    }

    #[test]
    fn unknown_words_are_corrected() {
        let mut an = analyzer(Lang::En);
        let c = &parse("refnd", false)[0];
        let lc = c.in_lang(&mut an, &mut |_| 0).unwrap();
        assert_eq!(lc.fuzzy, Some(("refnd".to_owned(), 1)));
        let lc = c.in_lang(&mut an, &mut |_| 3).unwrap();
        assert_eq!(lc.fuzzy, None, "a known word is not corrected");
        let c = &parse("subscripton", false)[0];
        let lc = c.in_lang(&mut an, &mut |_| 0).unwrap();
        assert_eq!(lc.fuzzy.as_ref().map(|f| f.1), Some(2));
        let held: std::collections::HashSet<String> =
            ["subscript".to_owned()].into_iter().collect();
        assert!(lc.satisfied_by(&held) > 0.5);
    }
}
