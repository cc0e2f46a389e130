//! Rules of the background job queue that do not depend on where jobs are stored:
//! how long to wait before a retry, and when to give up.

use serde::{Deserialize, Serialize};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for its `run_at`.
    Queued,
    /// Claimed by a worker whose lease has not run out.
    Running,
    /// Finished.
    Done,
    /// Failed too often; kept for a person to look at.
    Dead,
}

impl JobState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// Seconds to wait before attempt `attempts + 1`, after `attempts` failures: 2, 4, 8 …
/// seconds, capped at one hour, so a broken mail relay is retried often at first and
/// patiently later.
pub fn retry_delay_secs(attempts: u32) -> i64 {
    let exp = attempts.clamp(1, 12);
    (1_i64 << exp).min(3_600)
}

/// What to do with a job that just failed on its `attempts`-th try.
pub fn after_failure(attempts: u32, max_attempts: u32) -> JobState {
    if attempts >= max_attempts {
        JobState::Dead
    } else {
        JobState::Queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(retry_delay_secs(1), 2);
        assert_eq!(retry_delay_secs(2), 4);
        assert_eq!(retry_delay_secs(3), 8);
        assert_eq!(retry_delay_secs(40), 3_600);
        for a in 1..30 {
            assert!(retry_delay_secs(a + 1) >= retry_delay_secs(a));
        }
    }

    #[test]
    fn dead_letter_after_max_attempts() {
        assert_eq!(after_failure(1, 3), JobState::Queued);
        assert_eq!(after_failure(3, 3), JobState::Dead);
        assert_eq!(JobState::parse("dead"), Some(JobState::Dead));
        assert_eq!(JobState::parse("x"), None);
    }
}
