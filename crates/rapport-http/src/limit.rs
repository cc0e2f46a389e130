//! Rate limits for what an attacker would hammer: guessing API tokens (and, with the web
//! UI, passwords). A fixed window per client address: past `max` failures in `window`,
//! that address gets 429 until the window ends. Time comes from the server's [`Clock`], so
//! tests move it instead of waiting.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rapport_domain::{Clock, Timestamp};

/// Counts failures per key: a client address, or an account.
pub struct FailureLimiter<K = IpAddr> {
    window_micros: i64,
    max: u32,
    clock: Arc<dyn Clock>,
    seen: Mutex<HashMap<K, (Timestamp, u32)>>,
}

impl<K> std::fmt::Debug for FailureLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("window_micros", &self.window_micros)
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq> FailureLimiter<K> {
    /// At most `max` failures per `window` per key, timed by `clock`.
    pub fn new(max: u32, window: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            window_micros: i64::try_from(window.as_micros()).unwrap_or(i64::MAX),
            max,
            clock,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// 20 failures a minute.
    pub fn per_minute(clock: Arc<dyn Clock>) -> Self {
        Self::new(20, Duration::from_secs(60), clock)
    }

    /// Whether a window that started at `start` is still open at `now`. A clock set back
    /// behind `start` ends the window rather than stretching it.
    fn open(&self, start: Timestamp, now: Timestamp) -> bool {
        let elapsed = now.micros().saturating_sub(start.micros());
        (0..self.window_micros).contains(&elapsed)
    }

    /// Whether `key` is currently blocked.
    pub fn is_blocked(&self, key: K) -> bool {
        let now = self.clock.now();
        let Ok(seen) = self.seen.lock() else {
            return false;
        };
        seen.get(&key)
            .is_some_and(|(start, n)| self.open(*start, now) && *n >= self.max)
    }

    /// Records one failure from `key`.
    pub fn fail(&self, key: K) {
        let now = self.clock.now();
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if seen.len() > 100_000 {
            seen.retain(|_, (start, _)| self.open(*start, now));
        }
        let entry = seen.entry(key).or_insert((now, 0));
        if !self.open(entry.0, now) {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use rapport_domain::ManualClock;

    use super::*;

    fn limiter(max: u32) -> (Arc<ManualClock>, FailureLimiter) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
        let l = FailureLimiter::new(max, Duration::from_secs(60), clock.clone());
        (clock, l)
    }

    #[test]
    fn blocks_after_max_failures_per_address() {
        let (_, l) = limiter(3);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..2 {
            l.fail(a);
        }
        assert!(!l.is_blocked(a));
        l.fail(a);
        assert!(l.is_blocked(a));
        assert!(!l.is_blocked(b));
    }

    #[test]
    fn the_window_ends() {
        let (clock, l) = limiter(1);
        let a: IpAddr = [10, 0, 0, 1].into();
        l.fail(a);
        assert!(l.is_blocked(a));
        clock.advance_secs(59);
        assert!(l.is_blocked(a), "still inside the window");
        clock.advance_secs(1);
        assert!(!l.is_blocked(a), "the window ended");
        l.fail(a);
        assert!(l.is_blocked(a), "a new window counts afresh");
    }

    #[test]
    fn failures_in_an_ended_window_do_not_count() {
        let (clock, l) = limiter(2);
        let a: IpAddr = [10, 0, 0, 1].into();
        l.fail(a);
        clock.advance_secs(61);
        l.fail(a);
        assert!(!l.is_blocked(a));
    }

    #[test]
    fn a_clock_set_back_ends_the_window() {
        let (clock, l) = limiter(1);
        let a: IpAddr = [10, 0, 0, 1].into();
        l.fail(a);
        clock.advance_secs(-3_600);
        assert!(!l.is_blocked(a));
    }
}
