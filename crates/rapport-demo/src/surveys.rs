//! The demo's surveys: every solved conversation was offered one and about two in five
//! were rated, hours after the solve — mostly well, some badly, some with a comment — so the reports, the
//! mood trends and the themes have something true-looking to show.

use rand::Rng;
use rand::rngs::StdRng;
use rapport_domain::Timestamp;
use rapport_store::surveys::Answer;

/// Comments: what pleased people, and what did not.
const GOOD: &[&str] = &[
    "Quick and friendly help, thank you!",
    "The refund came the same day. Great service.",
    "Clear answer, problem solved.",
    "Very patient with my questions about the invoice.",
];
const BAD: &[&str] = &[
    "I waited four days for an answer about my refund.",
    "Had to explain the problem three times.",
    "The tracking number still does not work.",
    "Nobody answered my first two emails.",
    "The refund took far too long.",
];

/// A planned answer: hours after the solve, and what was said.
#[derive(Debug, Clone)]
pub struct PlannedAnswer {
    /// Hours after the solve the survey was answered.
    pub after_hours: i64,
    /// The ratings and the comment.
    pub answer: Answer,
}

/// Draws whether (two in five) and how a solved conversation was rated.
pub fn plan(rng: &mut StdRng) -> Option<PlannedAnswer> {
    if !rng.gen_bool(0.4) {
        return None;
    }
    let csat = match rng.gen_range(0..100) {
        0..=54 => 5,
        55..=77 => 4,
        78..=86 => 3,
        87..=93 => 2,
        _ => 1,
    };
    let ces = match csat {
        5 => rng.gen_range(6..=7),
        4 => rng.gen_range(5..=6),
        3 => 4,
        _ => rng.gen_range(1..=3),
    };
    let comment = if rng.gen_bool(0.35) {
        let list = if csat >= 4 { GOOD } else { BAD };
        Some(list[rng.gen_range(0..list.len())].to_owned())
    } else {
        None
    };
    Some(PlannedAnswer {
        after_hours: rng.gen_range(1..48),
        answer: Answer {
            csat: Some(csat),
            ces: Some(ces),
            nps: None,
            comment,
        },
    })
}

/// When the answer came: `after_hours` after `solved`, never after `now`.
pub fn answered_at(solved: Timestamp, p: &PlannedAnswer, now: Timestamp) -> Timestamp {
    Timestamp((solved.0 + p.after_hours * 3_600_000_000).min(now.0))
}
