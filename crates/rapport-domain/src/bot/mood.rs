//! The customer's mood, from a small lexicon and a few rules (shouting, "!!!", "third
//! time"). It is deliberately one function, [`mood`], so a real sentiment scorer can
//! replace it without touching the rules that use it.

use serde::Serialize;

use super::words::{fold, has};

/// How the customer sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mood {
    /// Nothing says otherwise.
    Calm,
    /// Annoyed, but asking (the bot still answers).
    Frustrated,
    /// Angry: the bot hands over instead of answering.
    Upset,
}

impl Mood {
    /// As shown in a handoff summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Mood::Calm => "calm",
            Mood::Frustrated => "frustrated",
            Mood::Upset => "upset",
        }
    }
}

/// Words and phrases that say the customer is angry (weight 2 each).
const STRONG: &[&str] = &[
    "angry",
    "furious",
    "livid",
    "outraged",
    "outrageous",
    "ridiculous",
    "unacceptable",
    "disgusting",
    "disgrace",
    "disgraceful",
    "pathetic",
    "incompetent",
    "worst",
    "scam",
    "scammers",
    "fraud",
    "rip off",
    "ripoff",
    "lawyer",
    "sue you",
    "chargeback",
    "never again",
    "fed up",
    "sick of",
    "sick and tired",
    "wtf",
    "fuck*",
    "shit*",
    "bullshit",
    "crap",
    "damn",
    "bloody",
    "third time",
    "fourth time",
    "so many times",
    "how many times",
    // German, French, Spanish
    "wutend",
    "unverschamt",
    "frechheit",
    "betrug",
    "scheisse",
    "inacceptable",
    "arnaque",
    "honteux",
    "estafa",
    "inaceptable",
    "vergonzoso",
];

/// Words that say the customer is annoyed (weight 1 each).
const MILD: &[&str] = &[
    "annoying",
    "annoyed",
    "frustrated",
    "frustrating",
    "disappointed",
    "terrible",
    "horrible",
    "awful",
    "useless",
    "joke",
    "still not",
    "still havent",
    "still hasnt",
    "again",
    "seriously",
    "come on",
    "unbelievable",
    "ridiculously",
    "argerlich",
    "enttauscht",
    "decu",
    "molesto",
];

/// The customer's mood in `text`: the worse of two readings. Words (in several
/// languages): strong words weigh two, mild ones one, shouting (most letters capitals, at
/// least twelve of them) and "!!" one each; three or more is [`Mood::Upset`], one or two
/// [`Mood::Frustrated`]. And the sentiment score (`crate::sentiment::read`, which hears
/// waiting, repetition and cancelling in English): at or below
/// [`crate::sentiment::UPSET`] upset, below [`FRUSTRATED`] frustrated.
pub fn mood(text: &str) -> Mood {
    worse(mood_of_words(text), crate::sentiment::read(text))
}

/// The worse of a mood by words and one by a sentiment score (see [`mood`]).
pub fn worse(by_words: Mood, s: crate::sentiment::Sentiment) -> Mood {
    let by_score = if s.upset() {
        Mood::Upset
    } else if s.score < FRUSTRATED {
        Mood::Frustrated
    } else {
        Mood::Calm
    };
    let rank = |m: Mood| match m {
        Mood::Calm => 0,
        Mood::Frustrated => 1,
        Mood::Upset => 2,
    };
    if rank(by_score) > rank(by_words) {
        by_score
    } else {
        by_words
    }
}

/// A sentiment score below this reads as frustrated.
pub const FRUSTRATED: f64 = -0.3;

/// The mood by words alone (see [`mood`]).
pub fn mood_of_words(text: &str) -> Mood {
    let folded = fold(text);
    let mut score = 0;
    score += 2 * STRONG.iter().filter(|w| has(&folded, w)).count();
    score += MILD.iter().filter(|w| has(&folded, w)).count();
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    if letters.len() >= 12 && upper * 10 >= letters.len() * 7 {
        score += 1;
    }
    if text.contains("!!") || text.contains("?!") {
        score += 1;
    }
    match score {
        0 => Mood::Calm,
        1 | 2 => Mood::Frustrated,
        _ => Mood::Upset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calm_questions_are_calm() {
        assert_eq!(mood("How do I reset my password?"), Mood::Calm);
        assert_eq!(mood("Where is my parcel"), Mood::Calm);
    }

    #[test]
    fn annoyance_is_not_anger() {
        assert_eq!(
            mood("This is annoying, my order is late. Where is it?"),
            Mood::Frustrated
        );
    }

    #[test]
    fn anger_is_upset() {
        assert_eq!(
            mood("This is RIDICULOUS, third time I write and nobody answers!!"),
            Mood::Upset
        );
        assert_eq!(mood("WHERE IS MY REFUND YOU SCAMMERS"), Mood::Upset);
        assert_eq!(mood("Das ist eine Frechheit und Betrug"), Mood::Upset);
    }
}
