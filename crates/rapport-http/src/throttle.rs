//! The sign-in throttle. Wrong passwords slow down the pair that sent them — one account
//! from one client address — instead of locking the account: after
//! [`SignInThrottle::FREE`] failures, each further attempt from that address for that
//! account must wait a delay that doubles with every failure (1 s, 2 s, 4 s … up to
//! [`SignInThrottle::MAX_DELAY`]). The owner signing in from another address is not
//! affected, so nobody can lock anyone out; a right password resets the pair. Each
//! address also has an overall cap on failures across all accounts (password spraying),
//! which slows only that address. Every check of an agent's password counts here under
//! the one key of the account (`crate::password_check`): sign-in, re-authentication, the
//! preferences form and the API's password change. API token failures are counted apart
//! (`AppState::auth_failures`), so one cannot eat the other's budget. Addresses arrive as
//! `ClientIp` keys (IPv6 per /64). Time comes from the server's clock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rapport_domain::{Clock, Timestamp};

use crate::limit::FailureLimiter;

/// Failures of one account from one address: how many, and when the last was.
#[derive(Debug, Clone, Copy)]
struct Strikes {
    count: u32,
    last: Timestamp,
}

/// Sign-in failures per (account, client address), with a cap per address.
pub struct SignInThrottle {
    clock: Arc<dyn Clock>,
    pairs: Mutex<HashMap<(String, IpAddr), Strikes>>,
    per_address: FailureLimiter,
}

impl std::fmt::Debug for SignInThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInThrottle").finish_non_exhaustive()
    }
}

impl SignInThrottle {
    /// Failures of a pair that cost nothing (typos).
    pub const FREE: u32 = 5;
    /// The longest wait between two attempts of one pair.
    pub const MAX_DELAY: Duration = Duration::from_secs(60);
    /// A pair with no failure for this long starts afresh.
    pub const FORGET_AFTER: Duration = Duration::from_secs(3600);
    /// Failures one address may make across all accounts in [`Self::ADDRESS_WINDOW`].
    pub const ADDRESS_CAP: u32 = 100;
    /// The window of [`Self::ADDRESS_CAP`].
    pub const ADDRESS_WINDOW: Duration = Duration::from_secs(600);

    /// A throttle timed by `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            per_address: FailureLimiter::new(
                Self::ADDRESS_CAP,
                Self::ADDRESS_WINDOW,
                clock.clone(),
            ),
            clock,
            pairs: Mutex::new(HashMap::new()),
        }
    }

    /// The delay owed after `count` failures.
    pub fn delay_after(count: u32) -> Duration {
        let Some(over) = count.checked_sub(Self::FREE) else {
            return Duration::ZERO;
        };
        Duration::from_secs(1u64 << over.min(16)).min(Self::MAX_DELAY)
    }

    fn micros(d: Duration) -> i64 {
        i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
    }

    /// `None` when `account` may try from `ip` now; otherwise how long to wait.
    pub fn wait(&self, account: &str, ip: IpAddr) -> Option<Duration> {
        if self.per_address.is_blocked(ip) {
            return Some(Self::ADDRESS_WINDOW);
        }
        let now = self.clock.now();
        let pairs = self.pairs.lock().ok()?;
        let s = pairs.get(&(account.to_owned(), ip))?;
        let elapsed = now.micros().saturating_sub(s.last.micros());
        let owed = Self::micros(Self::delay_after(s.count));
        // A clock set back behind the last failure owes nothing rather than forever.
        (elapsed >= 0 && elapsed < owed).then(|| {
            let left = u64::try_from(owed - elapsed).unwrap_or(0);
            Duration::from_micros(left).max(Duration::from_secs(1))
        })
    }

    /// Records a failed attempt of `account` from `ip`.
    pub fn fail(&self, account: &str, ip: IpAddr) {
        self.per_address.fail(ip);
        let now = self.clock.now();
        let Ok(mut pairs) = self.pairs.lock() else {
            return;
        };
        let forget = Self::micros(Self::FORGET_AFTER);
        if pairs.len() > 100_000 {
            pairs.retain(|_, s| now.micros().saturating_sub(s.last.micros()) < forget);
        }
        let s = pairs.entry((account.to_owned(), ip)).or_insert(Strikes {
            count: 0,
            last: now,
        });
        if now.micros().saturating_sub(s.last.micros()) >= forget {
            s.count = 0;
        }
        s.count = s.count.saturating_add(1);
        s.last = now;
    }

    /// A right password from `ip`: the pair starts afresh.
    pub fn succeed(&self, account: &str, ip: IpAddr) {
        if let Ok(mut pairs) = self.pairs.lock() {
            pairs.remove(&(account.to_owned(), ip));
        }
    }
}

#[cfg(test)]
mod tests {
    use rapport_domain::ManualClock;

    use super::*;

    fn throttle() -> (Arc<ManualClock>, SignInThrottle) {
        let clock = Arc::new(ManualClock::new(Timestamp(1_800_000_000_000_000)));
        (clock.clone(), SignInThrottle::new(clock))
    }

    #[test]
    fn the_delay_grows_and_is_capped() {
        assert_eq!(SignInThrottle::delay_after(0), Duration::ZERO);
        assert_eq!(SignInThrottle::delay_after(5), Duration::from_secs(1));
        assert_eq!(SignInThrottle::delay_after(6), Duration::from_secs(2));
        assert_eq!(SignInThrottle::delay_after(8), Duration::from_secs(8));
        assert_eq!(SignInThrottle::delay_after(40), SignInThrottle::MAX_DELAY);
    }

    #[test]
    fn failures_slow_down_one_pair_and_never_lock() {
        let (clock, t) = throttle();
        let (attacker, owner): (IpAddr, IpAddr) = ([10, 0, 0, 2].into(), [10, 0, 0, 3].into());
        for _ in 0..5 {
            assert_eq!(t.wait("admin@x", attacker), None, "typos are free");
            t.fail("admin@x", attacker);
        }
        assert_eq!(t.wait("admin@x", attacker), Some(Duration::from_secs(1)));
        assert_eq!(
            t.wait("admin@x", owner),
            None,
            "the owner elsewhere is not slowed"
        );
        assert_eq!(
            t.wait("other@x", attacker),
            None,
            "another account is not slowed"
        );
        clock.advance_secs(1);
        assert_eq!(t.wait("admin@x", attacker), None, "slowed, not locked");
        t.fail("admin@x", attacker);
        assert_eq!(t.wait("admin@x", attacker), Some(Duration::from_secs(2)));
        for _ in 0..30 {
            clock.advance_secs(61);
            t.fail("admin@x", attacker);
        }
        assert_eq!(t.wait("admin@x", attacker), Some(SignInThrottle::MAX_DELAY));
        clock.advance_secs(60);
        assert_eq!(
            t.wait("admin@x", attacker),
            None,
            "never longer than the cap"
        );
        t.succeed("admin@x", attacker);
        t.fail("admin@x", attacker);
        assert_eq!(
            t.wait("admin@x", attacker),
            None,
            "a right password starts afresh"
        );
    }

    #[test]
    fn an_address_spraying_many_accounts_hits_its_cap() {
        let (_, t) = throttle();
        let sprayer: IpAddr = [10, 0, 0, 9].into();
        for i in 0..SignInThrottle::ADDRESS_CAP {
            t.fail(&format!("user{i}@x"), sprayer);
        }
        assert!(t.wait("fresh@x", sprayer).is_some());
        assert_eq!(t.wait("fresh@x", [10, 0, 0, 8].into()), None);
    }

    #[test]
    fn a_quiet_pair_is_forgotten() {
        let (clock, t) = throttle();
        let ip: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..8 {
            t.fail("a@x", ip);
        }
        clock.advance_secs(3600);
        t.fail("a@x", ip);
        assert_eq!(
            t.wait("a@x", ip),
            None,
            "counted afresh after an hour of quiet"
        );
    }
}
