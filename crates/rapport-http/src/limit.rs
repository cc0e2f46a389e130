//! Rate limits for what an attacker would hammer: guessing API tokens (and, with the web
//! UI, passwords). A fixed window per client address: past `max` failures in `window`,
//! that address gets 429 until the window ends.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts failures per key: a client address, or an account.
#[derive(Debug)]
pub struct FailureLimiter<K = IpAddr> {
    window: Duration,
    max: u32,
    seen: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq> FailureLimiter<K> {
    /// At most `max` failures per `window` per address.
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            window,
            max,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `ip` is currently blocked.
    pub fn is_blocked(&self, ip: K) -> bool {
        let now = Instant::now();
        let Ok(seen) = self.seen.lock() else {
            return false;
        };
        seen.get(&ip)
            .is_some_and(|(start, n)| now.duration_since(*start) < self.window && *n >= self.max)
    }

    /// Records one failure from `ip`.
    pub fn fail(&self, ip: K) {
        let now = Instant::now();
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if seen.len() > 100_000 {
            let window = self.window;
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = seen.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

impl<K: Hash + Eq> Default for FailureLimiter<K> {
    /// 20 failures a minute.
    fn default() -> Self {
        Self::new(20, Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_per_address() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
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
        let l = FailureLimiter::new(1, Duration::from_millis(0));
        let a: IpAddr = [10, 0, 0, 1].into();
        l.fail(a);
        assert!(!l.is_blocked(a));
    }
}
