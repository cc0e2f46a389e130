//! The mood of what a customer writes: a score in −1…1 and a label, computed as a message
//! or a survey comment arrives.
//!
//! The baseline is VADER (Hutto and Gilbert, ICWSM-14; the `vader-parity` crate, which
//! scores exactly as the Python package does): a word list with rules for negation,
//! intensity, "but", capitals and exclamation marks. Support text needs more than a word
//! list — "I've waited three weeks and nobody answers" has no negative word, and a polite
//! "Thanks!" under a question is not praise — so [`read`] adds the support cues of
//! [`cues`] (waiting, repeating oneself, cancelling, escalating, things that fail,
//! gratitude for help, a problem solved) to VADER's sum, after taking greetings and
//! sign-offs out of what VADER reads. [`vader`] is the plain baseline, kept for the
//! comparison in the tests and in docs/BENCHMARKS.md.

mod cues;
pub mod trend;

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use vader_parity::SentimentIntensityAnalyzer;

pub use cues::{Cue, CueKind};

/// A mood's three classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Unhappy: complaining, waiting, leaving.
    Negative,
    /// Neither: a question, a request, a fact.
    Neutral,
    /// Pleased: thanks for help, praise.
    Positive,
}

impl Label {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Positive => "positive",
        }
    }

    /// From its stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "negative" => Some(Self::Negative),
            "neutral" => Some(Self::Neutral),
            "positive" => Some(Self::Positive),
            _ => None,
        }
    }

    /// The class of a score: VADER's usual cut-offs (±0.05).
    pub fn of(score: f64) -> Self {
        if score >= CUT {
            Self::Positive
        } else if score <= -CUT {
            Self::Negative
        } else {
            Self::Neutral
        }
    }
}

/// Where neutral ends (VADER's documented threshold).
pub const CUT: f64 = 0.05;

/// A score at or below this is "upset": an input to priority and to the bot's handoff.
pub const UPSET: f64 = -0.6;

/// The mood of one text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    /// −1 (most negative) … 1 (most positive), three decimals.
    pub score: f64,
    /// Its class.
    pub label: Label,
}

impl Sentiment {
    /// A sentiment from a score (clamped to −1…1, rounded to three decimals).
    pub fn from_score(score: f64) -> Self {
        let score = if score.is_finite() {
            (score.clamp(-1.0, 1.0) * 1000.0).round() / 1000.0
        } else {
            0.0
        };
        Self {
            score,
            label: Label::of(score),
        }
    }

    /// Whether the writer is upset ([`UPSET`]).
    pub fn upset(&self) -> bool {
        self.score <= UPSET
    }
}

/// VADER's normalisation constant: `compound = sum / sqrt(sum² + ALPHA)`.
const ALPHA: f64 = 15.0;

/// At most this much of a text is read: the opening of a message is where a customer's
/// newest words are (a long mail's rest is mostly quoted history and signatures), and the
/// cost stays within the 0.2 ms a message may add (`rapport-bench --sentiment`).
pub const MAX_CHARS: usize = 800;

static VADER: LazyLock<SentimentIntensityAnalyzer> = LazyLock::new(SentimentIntensityAnalyzer::new);

/// The first [`MAX_CHARS`] characters of `text`.
fn bounded(text: &str) -> &str {
    match text.char_indices().nth(MAX_CHARS) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Plain VADER's reading of `text`: the baseline.
pub fn vader(text: &str) -> Sentiment {
    Sentiment::from_score(VADER.polarity_scores(bounded(text)).compound)
}

/// VADER's sum of valences behind a compound score (the inverse of its normalisation).
fn unnormalised(compound: f64) -> f64 {
    let c = compound.clamp(-0.9999, 0.9999);
    c * (ALPHA / (1.0 - c * c)).sqrt()
}

/// How much of VADER's praise counts in a question or a request ("How do I invite a guest
/// to a shared folder?" is not praise of anything).
const ASKING: f64 = 0.25;

/// The mood of what a customer wrote: VADER, sentence by sentence, on the text without its
/// greetings, polite formulas and sign-offs (the positive part of a question or a request
/// discounted to [`ASKING`]), plus the support cues it carries, normalised as VADER
/// normalises.
pub fn read(text: &str) -> Sentiment {
    let text = bounded(text);
    let found = cues::find(text);
    let plain = cues::without_courtesies(text);
    let base: f64 = cues::sentences(&plain)
        .map(|s| {
            let v = unnormalised(VADER.polarity_scores(s).compound);
            if v > 0.0 && cues::asks(s) {
                v * ASKING
            } else {
                v
            }
        })
        .sum();
    let sum = base + found.iter().map(|c| c.valence).sum::<f64>();
    Sentiment::from_score(sum / (sum * sum + ALPHA).sqrt())
}

/// The support cues found in `text` (for explaining a score).
pub fn cues_in(text: &str) -> Vec<Cue> {
    cues::find(bounded(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_without_a_negative_word_is_negative() {
        let text = "I've waited three weeks and nobody answers";
        assert_eq!(vader(text).label, Label::Neutral);
        assert_eq!(read(text).label, Label::Negative);
        assert!(read(text).upset(), "{:?}", read(text));
    }

    #[test]
    fn a_polite_question_is_neutral_and_thanks_for_help_positive() {
        let q = "Could you send me a copy of my invoice? Thanks in advance!";
        assert_eq!(vader(q).label, Label::Positive);
        assert_eq!(read(q).label, Label::Neutral);
        assert_eq!(
            read("Thank you so much, that fixed it!").label,
            Label::Positive
        );
    }

    #[test]
    fn scores_stay_in_range_and_are_rounded() {
        let s = read(&"AWFUL!!! still waiting, cancel my account. ".repeat(300));
        assert!((-1.0..=-0.9).contains(&s.score), "{s:?}");
        assert_eq!(s.score, (s.score * 1000.0).round() / 1000.0);
        assert_eq!(read("").score, 0.0);
        assert_eq!(Sentiment::from_score(f64::NAN).score, 0.0);
        let neutral = read("My new address is 12 Elm Street.").label;
        assert_eq!(Label::parse(neutral.as_str()), Some(Label::Neutral));
    }

    #[test]
    fn a_long_text_is_read_to_its_bound() {
        let long = "é".repeat(MAX_CHARS * 2);
        assert_eq!(bounded(&long).chars().count(), MAX_CHARS);
    }
}
