//! The community forum's rules: what a topic title and a post body may be, where a post
//! stands (shown, held for review, hidden, spam), how many posts a customer may write an
//! hour (fewer while their account is new), and the spam filter's arithmetic — a naive
//! Bayes over word tokens whose counts moderators' decisions keep (the store holds the
//! counts; the scoring here is pure).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::text::has_control;
use crate::{FieldError, Timestamp};

/// A topic's title: the question in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTitle(String);

impl TopicTitle {
    /// The fewest characters a title may have.
    pub const MIN: usize = 5;
    /// The most characters a title may have.
    pub const MAX: usize = 200;

    /// Trims and checks a title: 5 to 200 characters, no control characters.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let t = raw.trim();
        let n = t.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(FieldError::new(
                "title",
                format!("must be {} to {} characters", Self::MIN, Self::MAX),
            ));
        }
        if has_control(t) {
            return Err(FieldError::new(
                "title",
                "must not contain control characters",
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A post's text (the question's details or an answer), in markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostBody(String);

impl PostBody {
    /// The most characters a post may have.
    pub const MAX: usize = 20_000;

    /// Trims and checks a body: 1 to 20,000 characters; the error names `field`.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(FieldError::new(field, "must not be empty"));
        }
        if t.chars().count() > Self::MAX {
            return Err(FieldError::new(
                field,
                format!("must be at most {} characters", Self::MAX),
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a post stands. A topic stands where its question post does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostState {
    /// Shown to everyone.
    Visible,
    /// Held by the spam filter until a moderator decides: shown only to its author
    /// ("awaiting review") and to agents.
    Held,
    /// Hidden by a moderator: agents only.
    Hidden,
    /// Flagged as spam by a moderator: agents only; its words taught the filter.
    Spam,
}

impl PostState {
    /// Every state.
    pub const ALL: &'static [Self] = &[Self::Visible, Self::Held, Self::Hidden, Self::Spam];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Visible => "visible",
            Self::Held => "held",
            Self::Hidden => "hidden",
            Self::Spam => "spam",
        }
    }

    /// Reads the stored spelling back.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == raw)
    }
}

/// The name the forum shows for a customer: their first name and the initial of their
/// last name ("Maria S."), or "Customer" when no name is stored. Only words with a letter
/// count, and never one with an `@` or a `://` in it, so an address, a phone number or a
/// link typed as a name is never shown to the public. (Agents keep their own name.)
pub fn public_name(stored: Option<&str>) -> String {
    /// The longest first name shown, in characters.
    const FIRST_MAX: usize = 40;
    let words: Vec<&str> = stored
        .unwrap_or_default()
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic) && !w.contains('@') && !w.contains("://"))
        .collect();
    let Some(first) = words.first() else {
        return "Customer".to_owned();
    };
    let mut name: String = first
        .chars()
        .filter(|c| !c.is_control())
        .take(FIRST_MAX)
        .collect();
    if words.len() > 1
        && let Some(initial) = words
            .last()
            .and_then(|w| w.chars().find(|c| c.is_alphabetic()))
    {
        name.push(' ');
        name.extend(initial.to_uppercase());
        name.push('.');
    }
    name
}

/// How a customer's posting is limited: an account is new while its first post is less
/// than a day old or fewer than [`ESTABLISHED_POSTS`] of its posts are shown; a new
/// account may post [`NEW_PER_HOUR`] times an hour, an established one [`PER_HOUR`].
pub const NEW_PER_HOUR: i64 = 3;
/// Posts an hour for an established account.
pub const PER_HOUR: i64 = 20;
/// Shown posts (not held, hidden or spam) that make an account established.
pub const ESTABLISHED_POSTS: i64 = 3;
/// How old an account's first post must be for the account to be established.
pub const ESTABLISHED_AFTER_SECS: i64 = 86_400;

/// How many posts a customer may write in the hour before `now`, given when their first
/// post was written and how many of their posts are shown.
pub fn posts_per_hour(first_post: Option<Timestamp>, shown_posts: i64, now: Timestamp) -> i64 {
    let old_enough = first_post.is_some_and(|t| t.plus_secs(ESTABLISHED_AFTER_SECS) <= now);
    if old_enough && shown_posts >= ESTABLISHED_POSTS {
        PER_HOUR
    } else {
        NEW_PER_HOUR
    }
}

/// A forum post's markdown made fit to start an article draft: its images become plain
/// links (`!` escaped) and its raw HTML becomes text (`<` escaped). The forum never shows a
/// stranger's images, but an article does (https ones), and so does the editor's live
/// preview an agent opens on the draft: without this, a post's image would be fetched by
/// the agent's browser — a tracking pixel from a stranger. The rest of the markdown is kept
/// as written.
pub fn draft_markdown(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag};
    // Byte offsets where a `\` goes (before an image's `!`) or where `<` becomes `&lt;`.
    let mut bang: Vec<usize> = Vec::new();
    let mut html: Vec<std::ops::Range<usize>> = Vec::new();
    for (event, range) in
        Parser::new_ext(markdown, crate::kb::markdown_options()).into_offset_iter()
    {
        match event {
            Event::Start(Tag::Image { .. }) if markdown[range.clone()].starts_with('!') => {
                bang.push(range.start);
            }
            Event::Html(_) | Event::InlineHtml(_) => html.push(range),
            _ => {}
        }
    }
    let mut out = String::with_capacity(markdown.len() + 16);
    for (i, ch) in markdown.char_indices() {
        if bang.contains(&i) {
            out.push('\\');
        }
        if ch == '<' && html.iter().any(|r| r.contains(&i)) {
            out.push_str("&lt;");
        } else {
            out.push(ch);
        }
    }
    out
}

/// The spam filter's arithmetic.
pub mod spam {
    use super::BTreeSet;

    /// The score at or above which a new post is held for review.
    pub const HOLD_AT: f64 = 0.95;
    /// Spam examples the filter needs before it holds anything.
    pub const MIN_SPAM_DOCS: i64 = 2;
    /// The most distinct tokens a post contributes.
    const MAX_TOKENS: usize = 300;
    /// How many of the most telling tokens decide the score.
    const TELLING: usize = 15;

    /// Words too common to tell anything.
    const STOP: &[&str] = &[
        "the", "and", "for", "are", "but", "not", "you", "your", "with", "this", "that", "have",
        "from", "was", "can", "all", "any", "our", "has", "had", "its", "into", "out", "get",
        "just", "how", "what", "when", "who", "why", "will", "would", "there", "their", "them",
        "they", "then", "than", "been", "were", "she", "him", "her", "his", "does", "did",
    ];

    /// The distinct tokens of a text: lower-cased runs of letters and digits, 3 to 30
    /// characters, without the commonest words; at most 300.
    pub fn tokens(text: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for w in text.split(|c: char| !c.is_alphanumeric()) {
            let n = w.chars().count();
            if !(3..=30).contains(&n) {
                continue;
            }
            let w = w.to_lowercase();
            if STOP.contains(&w.as_str()) {
                continue;
            }
            out.insert(w);
            if out.len() >= MAX_TOKENS {
                break;
            }
        }
        out
    }

    /// What the filter has learned: how many posts moderators called spam and how many
    /// were good, and for each token of the post being scored, in how many of each it
    /// appeared.
    #[derive(Debug, Clone, Default)]
    pub struct Counts {
        /// Posts learned as spam.
        pub spam_docs: i64,
        /// Posts learned as good.
        pub ham_docs: i64,
        /// Per token of the scored post: (spam posts with it, good posts with it).
        pub tokens: Vec<(i64, i64)>,
    }

    /// The probability that a post is spam, from 0 to 1, combining its most telling
    /// tokens by naive Bayes (each token's estimate pulled towards 0.5 while it has been
    /// seen rarely). Without at least [`MIN_SPAM_DOCS`] spam examples it is 0.5.
    #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
    pub fn score(counts: &Counts) -> f64 {
        if counts.spam_docs < MIN_SPAM_DOCS {
            return 0.5;
        }
        let spam_docs = counts.spam_docs.max(1) as f64;
        let ham_docs = counts.ham_docs.max(1) as f64;
        let mut probs: Vec<f64> = counts
            .tokens
            .iter()
            .filter(|(s, h)| s + h > 0)
            .map(|&(s, h)| {
                let s_rate = (s as f64 / spam_docs).min(1.0);
                let h_rate = (h as f64 / ham_docs).min(1.0);
                let p = s_rate / (s_rate + h_rate);
                let n = (s + h) as f64;
                // Robinson's correction: a rarely seen token says little.
                let strength = 1.0;
                ((strength * 0.5 + n * p) / (strength + n)).clamp(0.01, 0.99)
            })
            .collect();
        probs.sort_by(|a, b| {
            (b - 0.5)
                .abs()
                .partial_cmp(&(a - 0.5).abs())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        probs.truncate(TELLING);
        if probs.is_empty() {
            return 0.5;
        }
        // Combined in log space so many tokens do not underflow.
        let log_odds: f64 = probs.iter().map(|p| (p / (1.0 - p)).ln()).sum();
        1.0 / (1.0 + (-log_odds).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::spam::{Counts, score, tokens};
    use super::*;

    #[test]
    fn a_draft_from_a_post_shows_no_stranger_images() {
        let md = "Look: ![pixel](https://evil.example/p.gif) and [a link](https://ok.example).\n\n\
                  <img src=\"https://evil.example/q.gif\">\n\n\
                  Inline <img src=https://evil.example/r.gif> too, ![ref][x] and `![code](u)`.\n\n\
                  [x]: https://evil.example/s.gif\n";
        let out = draft_markdown(md);
        let images = |m: &str| {
            pulldown_cmark::Parser::new_ext(m, crate::kb::markdown_options())
                .filter(|e| {
                    matches!(
                        e,
                        pulldown_cmark::Event::Start(pulldown_cmark::Tag::Image { .. })
                            | pulldown_cmark::Event::Html(_)
                            | pulldown_cmark::Event::InlineHtml(_)
                    )
                })
                .count()
        };
        assert_eq!(images(md), 4, "the example has images and raw HTML");
        assert_eq!(images(&out), 0, "{out}");
        assert!(
            out.contains("\\![pixel](https://evil.example/p.gif)"),
            "{out}"
        );
        assert!(out.contains("[a link](https://ok.example)"), "{out}");
        assert!(
            out.contains("`![code](u)`"),
            "code is left as written: {out}"
        );
        assert_eq!(draft_markdown("Plain *text*.\n"), "Plain *text*.\n");
    }

    #[test]
    fn titles_and_bodies_are_checked() {
        assert_eq!(TopicTitle::parse("  Hi ").unwrap_err().field, "title");
        assert_eq!(
            TopicTitle::parse(&"x".repeat(201)).unwrap_err().field,
            "title"
        );
        assert!(TopicTitle::parse("bad\u{7}title here").is_err());
        assert_eq!(
            TopicTitle::parse("  How do I reset?  ").unwrap().as_str(),
            "How do I reset?"
        );
        assert_eq!(PostBody::parse("   ", "body").unwrap_err().field, "body");
        assert_eq!(
            PostBody::parse(&"x".repeat(20_001), "answer")
                .unwrap_err()
                .field,
            "answer"
        );
        assert!(PostBody::parse("ok", "body").is_ok());
    }

    #[test]
    fn new_accounts_post_less() {
        let now = Timestamp(10_000_000_000_000);
        assert_eq!(posts_per_hour(None, 0, now), NEW_PER_HOUR);
        let day_ago = Timestamp(now.0 - 86_400_000_000);
        assert_eq!(posts_per_hour(Some(day_ago), 3, now), PER_HOUR);
        assert_eq!(posts_per_hour(Some(day_ago), 2, now), NEW_PER_HOUR);
        let hour_ago = Timestamp(now.0 - 3_600_000_000);
        assert_eq!(posts_per_hour(Some(hour_ago), 10, now), NEW_PER_HOUR);
    }

    #[test]
    fn the_public_sees_a_first_name_and_an_initial() {
        assert_eq!(public_name(Some("Maria Schmidt")), "Maria S.");
        assert_eq!(public_name(Some("  Ludwig van beethoven ")), "Ludwig B.");
        assert_eq!(public_name(Some("Fern")), "Fern");
        assert_eq!(public_name(Some("Émile Zola")), "Émile Z.");
        assert_eq!(public_name(None), "Customer");
        assert_eq!(public_name(Some("   ")), "Customer");
        // Addresses, numbers and links typed as names are never shown.
        assert_eq!(public_name(Some("maria@example.com")), "Customer");
        assert_eq!(public_name(Some("Maria maria@example.com")), "Maria");
        assert_eq!(public_name(Some("+49 170 1234567")), "Customer");
        assert_eq!(public_name(Some("Bob https://spam.example")), "Bob");
        assert_eq!(public_name(Some(&"a".repeat(100))).chars().count(), 40);
    }

    #[test]
    fn states_round_trip() {
        for s in PostState::ALL {
            assert_eq!(PostState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(PostState::parse("gone"), None);
    }

    #[test]
    fn tokens_drop_short_and_common_words() {
        let t = tokens("The CHEAP watches, cheap! at x.biz and 50% off");
        assert!(t.contains("cheap") && t.contains("watches") && t.contains("biz"));
        assert!(!t.contains("the") && !t.contains("at") && !t.contains("x"));
    }

    #[test]
    fn spammy_tokens_score_high_and_unknown_ones_neutral() {
        let base = Counts {
            spam_docs: 3,
            ham_docs: 5,
            tokens: vec![],
        };
        let spammy = Counts {
            tokens: vec![(3, 0), (3, 0), (2, 0), (3, 0)],
            ..base.clone()
        };
        assert!(score(&spammy) > spam::HOLD_AT, "{}", score(&spammy));
        let unknown = Counts {
            tokens: vec![(0, 0), (0, 0)],
            ..base.clone()
        };
        assert!((score(&unknown) - 0.5).abs() < 1e-9);
        let hammy = Counts {
            tokens: vec![(0, 4), (0, 3), (1, 2)],
            ..base
        };
        assert!(score(&hammy) < 0.2, "{}", score(&hammy));
        let untrained = Counts {
            spam_docs: 1,
            ham_docs: 0,
            tokens: vec![(1, 0)],
        };
        assert!((score(&untrained) - 0.5).abs() < 1e-9);
    }
}
