//! Promises an agent makes to a customer ("call back by Friday 15:00", "refund within
//! 3 days"): recorded on the ticket with a due time, the owner reminded before it, and
//! counted kept or broken — a promise not kept by its due time is broken, even if done
//! later.

use crate::clock::Timestamp;
use crate::error::FieldError;

/// The longest promise text.
pub const MAX_PROMISE_CHARS: usize = 500;

/// What was promised: 1 to 500 characters, no control characters but line breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseText(String);

impl PromiseText {
    /// Checks a promise's words.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let t = raw.trim();
        if t.is_empty() || t.chars().count() > MAX_PROMISE_CHARS {
            return Err(FieldError::new(
                "text",
                format!("say what was promised in 1 to {MAX_PROMISE_CHARS} characters"),
            ));
        }
        if t.chars().any(|c| c.is_control() && c != '\n') {
            return Err(FieldError::new("text", "no control characters"));
        }
        Ok(Self(t.to_owned()))
    }

    /// The words.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a promise stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromiseState {
    /// Not yet due, not yet done.
    Open,
    /// Done by its due time.
    Kept,
    /// Its due time passed before it was done.
    Broken,
}

impl PromiseState {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PromiseState::Open => "open",
            PromiseState::Kept => "kept",
            PromiseState::Broken => "broken",
        }
    }

    /// Reads a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        [PromiseState::Open, PromiseState::Kept, PromiseState::Broken]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// A promise due at `due` and done at `done`: kept when done by then.
    pub fn when_done(due: Timestamp, done: Timestamp) -> Self {
        if done <= due {
            PromiseState::Kept
        } else {
            PromiseState::Broken
        }
    }
}

/// When the owner is reminded of a promise made at `made` and due at `due`: an hour
/// before, or halfway when it is due sooner than two hours after it was made.
pub fn reminder_at(made: Timestamp, due: Timestamp) -> Timestamp {
    let span = due.0 - made.0;
    if span >= 2 * 3_600_000_000 {
        due.plus_secs(-3_600)
    } else {
        Timestamp(made.0 + span / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_checked() {
        assert_eq!(
            PromiseText::parse("  Call back  ").unwrap().as_str(),
            "Call back"
        );
        assert_eq!(PromiseText::parse("").unwrap_err().field, "text");
        assert!(PromiseText::parse(&"x".repeat(501)).is_err());
        assert!(PromiseText::parse("a\u{0}b").is_err());
        assert!(PromiseText::parse("line\nnext").is_ok());
    }

    #[test]
    fn kept_only_by_the_due_time_and_reminded_before_it() {
        let due = Timestamp(10_000_000_000);
        assert_eq!(PromiseState::when_done(due, due), PromiseState::Kept);
        assert_eq!(
            PromiseState::when_done(due, due.plus_secs(1)),
            PromiseState::Broken
        );
        let made = due.plus_secs(-86_400);
        assert_eq!(reminder_at(made, due), due.plus_secs(-3_600));
        let soon = due.plus_secs(-1_800);
        assert_eq!(reminder_at(soon, due), due.plus_secs(-900));
        for s in [PromiseState::Open, PromiseState::Kept, PromiseState::Broken] {
            assert_eq!(PromiseState::parse(s.as_str()), Some(s));
        }
    }
}
