//! The ticket classifier: a multinomial naive Bayes over word, word-pair and character
//! n-gram counts, trained on the help desk's own tickets whose category an agent set.
//!
//! This module holds the rules — what a text's features are ([`features`]) and how counts
//! become a category with a confidence ([`Model::predict`]); the store keeps the counts
//! (so every node predicts from the same model, and an agent's correction counts at once)
//! and reads only the counts of the features a ticket has. The arithmetic is scikit-learn's
//! `MultinomialNB(alpha=1)` over a vocabulary of every feature seen in training (a feature
//! never seen is ignored); a test checks it against scikit-learn on the same data.

use std::collections::{BTreeMap, HashMap};

use crate::bot::fold;

/// Laplace smoothing.
pub const ALPHA: f64 = 1.0;

/// The confidence below which a prediction is only suggested: the ticket stays
/// uncategorised for triage.
pub const DEFAULT_THRESHOLD: f64 = 0.6;

/// The most characters of a text that are read (a long thread adds little).
const MAX_CHARS: usize = 4_000;

/// Words longer than this are no words (a pasted key, a base64 blob): they are skipped,
/// so a feature stays short enough to be an index key anywhere.
pub const MAX_WORD_CHARS: usize = 40;

/// The features of a text with their counts: folded words (`w:`), adjacent word pairs
/// (`b:`) and the character 3-grams of each word padded with `^` and `$` (`c:`), which
/// carry typos, plurals and compound words.
pub fn features(text: &str) -> BTreeMap<String, u32> {
    let cut: String = text.chars().take(MAX_CHARS).collect();
    let folded = fold(&cut);
    let words: Vec<&str> = folded
        .split_whitespace()
        .filter(|w| w.chars().count() <= MAX_WORD_CHARS)
        .collect();
    let mut out: BTreeMap<String, u32> = BTreeMap::new();
    // Each key is written into one buffer and copied only when it is new.
    let mut key = String::new();
    let mut add = |key: &String| match out.get_mut(key.as_str()) {
        Some(n) => *n += 1,
        None => {
            out.insert(key.clone(), 1);
        }
    };
    let mut padded: Vec<char> = Vec::new();
    for w in &words {
        key.clear();
        key.push_str("w:");
        key.push_str(w);
        add(&key);
        padded.clear();
        padded.push('^');
        padded.extend(w.chars());
        padded.push('$');
        for g in padded.windows(3) {
            key.clear();
            key.push_str("c:");
            key.extend(g);
            add(&key);
        }
    }
    for pair in words.windows(2) {
        key.clear();
        key.push_str("b:");
        key.push_str(pair[0]);
        key.push(' ');
        key.push_str(pair[1]);
        add(&key);
    }
    out
}

/// What the store read for one prediction: the classes with their document and feature
/// totals, the vocabulary's size, and each class's counts of the ticket's features.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// Per category: (training documents, total feature count).
    pub classes: BTreeMap<String, (u64, u64)>,
    /// Distinct features seen in training.
    pub vocabulary: u64,
    /// Per feature (of the ticket being classified): per category, its count.
    pub counts: HashMap<String, HashMap<String, u64>>,
    /// Features of the ticket that were seen in training at all (others are ignored).
    pub known: std::collections::HashSet<String>,
}

/// A prediction: the likeliest category and how sure the model is (0–1), and every
/// category's probability.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The likeliest category.
    pub category: String,
    /// Its probability.
    pub confidence: f64,
    /// Every category's probability, likeliest first.
    pub probabilities: Vec<(String, f64)>,
}

impl Model {
    /// The classes' log-likelihoods of a document with these feature counts.
    pub fn log_likelihoods(&self, doc: &BTreeMap<String, u32>) -> Vec<(String, f64)> {
        let docs: u64 = self.classes.values().map(|(d, _)| d).sum();
        let v = self.vocabulary as f64;
        self.classes
            .iter()
            .map(|(class, (n_docs, total))| {
                let mut ll = (*n_docs as f64 / docs as f64).ln();
                let denom = (*total as f64 + ALPHA * v).ln();
                for (f, tf) in doc {
                    if !self.known.contains(f) {
                        continue;
                    }
                    let n = self
                        .counts
                        .get(f)
                        .and_then(|per| per.get(class))
                        .copied()
                        .unwrap_or(0);
                    ll += f64::from(*tf) * ((n as f64 + ALPHA).ln() - denom);
                }
                (class.clone(), ll)
            })
            .collect()
    }

    /// The likeliest category for a document, with probabilities (`None` when fewer than
    /// two categories have examples: there is nothing to choose between).
    pub fn predict(&self, doc: &BTreeMap<String, u32>) -> Option<Prediction> {
        if self.classes.len() < 2 || self.vocabulary == 0 {
            return None;
        }
        let lls = self.log_likelihoods(doc);
        let max = lls
            .iter()
            .map(|(_, l)| *l)
            .fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = lls.iter().map(|(_, l)| (l - max).exp()).sum();
        let mut probabilities: Vec<(String, f64)> = lls
            .into_iter()
            .map(|(c, l)| (c, (l - max).exp() / sum))
            .collect();
        probabilities.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let (category, confidence) = probabilities.first().cloned()?;
        Some(Prediction {
            category,
            confidence,
            probabilities,
        })
    }
}

/// Parses a confidence threshold (0.0–1.0); errors name `threshold`.
pub fn threshold(raw: f64) -> Result<f64, crate::FieldError> {
    if (0.0..=1.0).contains(&raw) {
        Ok(raw)
    } else {
        Err(crate::FieldError::new(
            "threshold",
            "must be between 0 and 1",
        ))
    }
}

/// Trains a model in memory from labelled documents (what the store does with its
/// counts, for tests and the accuracy report), keeping the counts of every feature.
pub fn train<'a>(examples: impl IntoIterator<Item = (&'a str, &'a str)>) -> Model {
    let mut m = Model::default();
    for (text, class) in examples {
        let f = features(text);
        let entry = m.classes.entry(class.to_owned()).or_insert((0, 0));
        entry.0 += 1;
        for (feat, tf) in f {
            entry.1 += u64::from(tf);
            *m.counts
                .entry(feat.clone())
                .or_default()
                .entry(class.to_owned())
                .or_insert(0) += u64::from(tf);
            m.known.insert(feat);
        }
    }
    m.vocabulary = m.known.len() as u64;
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_words_pairs_and_trigrams() {
        let f = features("Can't log-in!");
        assert_eq!(f.get("w:cant"), Some(&1));
        assert_eq!(f.get("b:cant log"), Some(&1));
        assert_eq!(f.get("c:^ca"), Some(&1));
        assert_eq!(f.get("c:nt$"), Some(&1));
        assert!(f.keys().all(|k| !k.contains('!')));
        assert_eq!(features("refund refund").get("w:refund"), Some(&2));
        // A blob is no word: every feature stays short.
        let blob = format!("refund {} now", "q".repeat(3_000));
        let f = features(&blob);
        assert!(
            f.keys().all(|k| k.len() < 100),
            "{:?}",
            f.keys().max_by_key(|k| k.len())
        );
        assert_eq!(f.get("b:refund now"), Some(&1));
        assert!(features("").is_empty());
    }

    #[test]
    fn a_trained_model_tells_categories_apart() {
        let m = train([
            ("I was charged twice for my subscription", "billing"),
            ("Please send me the invoice for March", "billing"),
            ("Refund the double charge on my card", "billing"),
            ("The app crashes when I log in", "technical"),
            ("Error 500 when uploading a file", "technical"),
            ("Login page shows an error after the update", "technical"),
        ]);
        let p = m
            .predict(&features("why was my card charged twice"))
            .unwrap();
        assert_eq!(p.category, "billing");
        assert!(p.confidence > 0.5 && p.confidence <= 1.0);
        let total: f64 = p.probabilities.iter().map(|(_, x)| x).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert_eq!(
            m.predict(&features("the app shows an error"))
                .unwrap()
                .category,
            "technical"
        );
        // Nothing known: the priors decide, evenly here.
        let unknown = m.predict(&features("zzzz qqqq")).unwrap();
        assert!((unknown.confidence - 0.5).abs() < 1e-9);
    }

    #[test]
    fn one_category_is_no_choice() {
        let m = train([("hello", "billing")]);
        assert_eq!(m.predict(&features("hello")), None);
        assert_eq!(Model::default().predict(&features("hello")), None);
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(threshold(0.6).is_ok());
        assert_eq!(threshold(1.5).unwrap_err().field, "threshold");
        assert!(threshold(f64::NAN).is_err());
    }
}
