//! Surveys: how satisfied a customer was (CSAT, 1–5) and how easy it was (CES, 1–7) when a
//! ticket is solved, and how likely they are to recommend us (NPS, 0–10) on a schedule.
//! What a rating means, how the figures are computed, and what a survey says in the
//! customer's language ([`wording`]).

pub mod wording;

use crate::error::FieldError;

/// A survey question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Question {
    /// Customer satisfaction, 1 (very dissatisfied) to 5 (very satisfied).
    Csat,
    /// Customer effort, 1 (very difficult) to 7 (very easy).
    Ces,
    /// Net promoter, 0 (not at all likely) to 10 (extremely likely).
    Nps,
}

impl Question {
    /// Every question.
    pub const ALL: [Self; 3] = [Self::Csat, Self::Ces, Self::Nps];

    /// Its name (as in the API and the links).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csat => "csat",
            Self::Ces => "ces",
            Self::Nps => "nps",
        }
    }

    /// The lowest and highest rating.
    pub fn range(self) -> (i64, i64) {
        match self {
            Self::Csat => (1, 5),
            Self::Ces => (1, 7),
            Self::Nps => (0, 10),
        }
    }

    /// Checks a rating of this question (`field` names it in the error).
    pub fn rating(self, value: i64, field: &str) -> Result<i64, FieldError> {
        let (lo, hi) = self.range();
        if (lo..=hi).contains(&value) {
            Ok(value)
        } else {
            Err(FieldError::new(
                field,
                format!("must be a whole number from {lo} to {hi}"),
            ))
        }
    }
}

/// What a survey is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SurveyKind {
    /// A solved ticket: CSAT, then CES.
    Ticket,
    /// The relationship: NPS, sent on a schedule.
    Nps,
}

impl SurveyKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ticket => "ticket",
            Self::Nps => "nps",
        }
    }

    /// From its stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ticket" => Some(Self::Ticket),
            "nps" => Some(Self::Nps),
            _ => None,
        }
    }

    /// The question its links answer with one click.
    pub fn first_question(self) -> Question {
        match self {
            Self::Ticket => Question::Csat,
            Self::Nps => Question::Nps,
        }
    }
}

/// An NPS answer's group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpsGroup {
    /// 9 or 10.
    Promoter,
    /// 7 or 8.
    Passive,
    /// 0 to 6.
    Detractor,
}

impl NpsGroup {
    /// The group of an NPS rating.
    pub fn of(rating: i64) -> Self {
        match rating {
            9.. => Self::Promoter,
            7 | 8 => Self::Passive,
            _ => Self::Detractor,
        }
    }

    /// As shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Promoter => "promoter",
            Self::Passive => "passive",
            Self::Detractor => "detractor",
        }
    }
}

/// A CSAT rating at or below this (or an NPS detractor) opens a follow-up for a
/// supervisor.
pub const LOW_CSAT: i64 = 2;

/// Whether an answer calls for a follow-up: a low CSAT or an NPS detractor.
pub fn needs_follow_up(csat: Option<i64>, nps: Option<i64>) -> bool {
    csat.is_some_and(|c| c <= LOW_CSAT)
        || nps.is_some_and(|n| NpsGroup::of(n) == NpsGroup::Detractor)
}

/// CSAT as a percentage: the share of ratings of 4 or 5 (`None` without ratings).
pub fn csat_score(ratings: &[i64]) -> Option<f64> {
    share(ratings, |r| r >= 4)
}

/// CES as the mean rating, 1–7 (`None` without ratings).
pub fn ces_score(ratings: &[i64]) -> Option<f64> {
    if ratings.is_empty() {
        return None;
    }
    let sum: i64 = ratings.iter().sum();
    Some(round2(sum as f64 / ratings.len() as f64))
}

/// NPS: the percentage of promoters minus the percentage of detractors, −100…100.
pub fn nps_score(ratings: &[i64]) -> Option<f64> {
    if ratings.is_empty() {
        return None;
    }
    let count = |g: NpsGroup| ratings.iter().filter(|r| NpsGroup::of(**r) == g).count() as f64;
    let net = count(NpsGroup::Promoter) - count(NpsGroup::Detractor);
    Some(round2(net * 100.0 / ratings.len() as f64))
}

fn share(ratings: &[i64], pred: impl Fn(i64) -> bool) -> Option<f64> {
    if ratings.is_empty() {
        return None;
    }
    let n = ratings.iter().filter(|r| pred(**r)).count();
    Some(round2(n as f64 * 100.0 / ratings.len() as f64))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The longest survey comment.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// A comment left with a rating: at most [`MAX_COMMENT_CHARS`], no control characters but
/// line breaks; blank is none.
pub fn comment(raw: &str) -> Result<Option<String>, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > MAX_COMMENT_CHARS {
        return Err(FieldError::new(
            "comment",
            format!("must be at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(
            "comment",
            "must not contain control characters",
        ));
    }
    Ok(Some(t.replace("\r\n", "\n")))
}

/// Days between two NPS surveys to one customer, unless configured otherwise.
pub const NPS_INTERVAL_DAYS: i64 = 90;

/// The fewest and most days an NPS interval may be set to.
pub const NPS_INTERVAL_RANGE: (i64, i64) = (30, 730);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_are_checked_against_their_scale() {
        assert!(Question::Csat.rating(0, "csat").is_err());
        assert!(Question::Csat.rating(5, "csat").is_ok());
        assert!(Question::Ces.rating(7, "ces").is_ok());
        assert!(Question::Ces.rating(8, "ces").is_err());
        assert!(Question::Nps.rating(0, "nps").is_ok());
        assert_eq!(Question::Nps.rating(11, "nps").unwrap_err().field, "nps");
    }

    #[test]
    fn figures() {
        assert_eq!(csat_score(&[5, 4, 3, 1]), Some(50.0));
        assert_eq!(csat_score(&[]), None);
        assert_eq!(ces_score(&[7, 6, 2]), Some(5.0));
        // 3 promoters, 1 passive, 2 detractors of 6: 50% − 33.33%.
        assert_eq!(nps_score(&[10, 9, 9, 7, 6, 0]), Some(16.67));
        // (2 − 1) / 3, not 66.67 − 33.33 rounded apart.
        assert_eq!(nps_score(&[10, 9, 3]), Some(33.33));
        assert_eq!(NpsGroup::of(8), NpsGroup::Passive);
        assert!(needs_follow_up(Some(2), None));
        assert!(!needs_follow_up(Some(3), Some(7)));
        assert!(needs_follow_up(None, Some(6)));
    }

    #[test]
    fn comments() {
        assert_eq!(comment("  ").unwrap(), None);
        assert_eq!(
            comment(" Slow\r\nbut ok ").unwrap().unwrap(),
            "Slow\nbut ok"
        );
        assert!(comment("a\u{0}b").is_err());
        assert!(comment(&"x".repeat(MAX_COMMENT_CHARS + 1)).is_err());
    }
}
