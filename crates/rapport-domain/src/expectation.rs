//! How long a customer can expect to wait for a first answer, said honestly: from how
//! long the customers before them actually waited, and how many requests are ahead —
//! never a fixed promise. With too little history it says so instead of inventing one.

/// What an acknowledgement tells the customer about the wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// Most recent customers (the 80th percentile) got a first answer within this many
    /// seconds; `ahead` requests are waiting before this one.
    Within {
        /// Seconds.
        secs: i64,
        /// Unanswered requests that came in earlier.
        ahead: i64,
    },
    /// Not enough recent answers to estimate from.
    Unknown {
        /// Unanswered requests that came in earlier.
        ahead: i64,
    },
}

/// Fewer recent first answers than this and no estimate is given.
pub const MIN_SAMPLES: usize = 5;

impl Expectation {
    /// Estimates from recent first-answer times (seconds, any order) and the queue. The
    /// estimate is the 80th percentile, raised to the age of the oldest waiting request
    /// when the queue is already running behind it.
    pub fn estimate(mut waits: Vec<i64>, ahead: i64, oldest_waiting_secs: i64) -> Self {
        waits.retain(|w| *w >= 0);
        if waits.len() < MIN_SAMPLES {
            return Self::Unknown { ahead };
        }
        waits.sort_unstable();
        let idx = (waits.len() * 8).div_ceil(10).saturating_sub(1);
        let p80 = waits[idx.min(waits.len() - 1)];
        Self::Within {
            secs: p80.max(oldest_waiting_secs).max(60),
            ahead,
        }
    }

    /// The sentence the customer reads.
    pub fn sentence(&self) -> String {
        let queue = |ahead: i64| match ahead {
            0 => "No other request is waiting ahead of yours.".to_owned(),
            1 => "One request is waiting ahead of yours.".to_owned(),
            n => format!("{n} requests are waiting ahead of yours."),
        };
        match self {
            Self::Within { secs, ahead } => format!(
                "Most customers who wrote to us recently got a first answer within {}. {}",
                human_duration(*secs),
                queue(*ahead)
            ),
            Self::Unknown { ahead } => format!(
                "We answer in the order requests arrive and cannot yet say how long that takes. {}",
                queue(*ahead)
            ),
        }
    }
}

/// "45 minutes", "about 3 hours", "about 2 days": rounded up, never falsely precise.
pub fn human_duration(secs: i64) -> String {
    let minutes = (secs + 59) / 60;
    if minutes < 60 {
        let m = minutes.max(1);
        return format!("{m} minute{}", if m == 1 { "" } else { "s" });
    }
    let hours = (minutes + 59) / 60;
    if hours < 48 {
        return format!("about {hours} hour{}", if hours == 1 { "" } else { "s" });
    }
    format!("about {} days", (hours + 23) / 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_little_history_promises_nothing() {
        let e = Expectation::estimate(vec![60, 120], 3, 0);
        assert_eq!(e, Expectation::Unknown { ahead: 3 });
        assert!(e.sentence().contains("cannot yet say"));
        assert!(e.sentence().contains("3 requests are waiting"));
    }

    #[test]
    fn the_estimate_is_the_80th_percentile_or_the_queue_age() {
        let waits = vec![600, 1200, 1800, 2400, 3000, 3600, 4200, 4800, 5400, 36_000];
        assert_eq!(
            Expectation::estimate(waits.clone(), 0, 0),
            Expectation::Within {
                secs: 4800,
                ahead: 0
            }
        );
        // The queue is already older than usual: say so.
        assert_eq!(
            Expectation::estimate(waits, 4, 20_000),
            Expectation::Within {
                secs: 20_000,
                ahead: 4
            }
        );
        let s = Expectation::Within {
            secs: 4800,
            ahead: 1,
        }
        .sentence();
        assert!(
            s.contains("within about 2 hours") && s.contains("One request"),
            "{s}"
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(30), "1 minute");
        assert_eq!(human_duration(45 * 60), "45 minutes");
        assert_eq!(human_duration(3600), "about 1 hour");
        assert_eq!(human_duration(3 * 86_400), "about 3 days");
    }
}
