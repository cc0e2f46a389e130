//! How much the SMTP listener takes from whom: sessions at once (overall and per client
//! address) and messages per client address per window. Recipients per envelope are
//! capped by the session itself (`SmtpLimits::max_recipients`).
//!
//! A client address is the peer's IP; IPv6 peers are counted per /64, the block one
//! host usually holds, so rotating through its own addresses gains nothing
//! ([`rapport_domain::net::client_key`], which the HTTP limits use too). Counters
//! live in the process: each node that listens limits what it receives. Time comes from
//! the [`Clock`], so tests move it instead of waiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rapport_domain::{Clock, Timestamp};

/// The limits, with defaults sized for a help desk's own mail (raise them for a busy
/// relay that delivers everything from one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmtpLimits {
    /// Recipients (RCPT commands) in one envelope; past it, `452 4.5.3`.
    pub max_recipients: usize,
    /// Sessions open at once; past it, `421` and close.
    pub max_sessions: usize,
    /// Sessions open at once from one client address; past it, `421` and close.
    pub max_sessions_per_client: usize,
    /// Messages one client address may send per `window`; past it, `450` to MAIL and
    /// `421` to a new session until the window ends.
    pub max_messages_per_client: u32,
    /// The window of `max_messages_per_client`.
    pub window: Duration,
    /// How long one command may take to arrive, whole (RFC 5321 §4.5.3.2 suggests five
    /// minutes); bytes trickling in do not extend it. During DATA it bounds each read.
    /// Past it, `421` and close.
    pub command_timeout: Duration,
    /// How long a session may last in all, however busy; past it, `421` and close. With
    /// `command_timeout`, a few addresses cannot hold every place forever.
    pub session_timeout: Duration,
}

impl Default for SmtpLimits {
    fn default() -> Self {
        Self {
            max_recipients: 50,
            max_sessions: 100,
            max_sessions_per_client: 10,
            max_messages_per_client: 300,
            window: Duration::from_secs(3600),
            command_timeout: Duration::from_secs(300),
            session_timeout: Duration::from_secs(20 * 60),
        }
    }
}

pub use rapport_domain::net::client_key;

/// Why a client may not go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many sessions open overall.
    Busy,
    /// Too many sessions open from this client.
    TooManySessions,
    /// This client sent its allowance of messages for now.
    TooManyMessages,
}

impl Refusal {
    /// The reply that closes the session.
    pub fn reply(self) -> &'static str {
        match self {
            Refusal::Busy => "421 4.3.2 Too busy, try again later\r\n",
            Refusal::TooManySessions => {
                "421 4.7.0 Too many connections from your address, try again later\r\n"
            }
            Refusal::TooManyMessages => {
                "421 4.7.0 Too many messages from your address, try again later\r\n"
            }
        }
    }
}

#[derive(Default)]
struct Counts {
    open: usize,
    per_client: HashMap<IpAddr, usize>,
    /// Per client: when its window started and how many messages it sent since.
    sent: HashMap<IpAddr, (Timestamp, u32)>,
}

/// The shared counters of one listener.
pub struct Admission {
    limits: SmtpLimits,
    clock: Arc<dyn Clock>,
    counts: Arc<Mutex<Counts>>,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Admission {
    /// Counters for `limits`, timed by `clock`.
    pub fn new(limits: SmtpLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            limits,
            clock,
            counts: Arc::new(Mutex::new(Counts::default())),
        }
    }

    fn window_micros(&self) -> i64 {
        i64::try_from(self.limits.window.as_micros()).unwrap_or(i64::MAX)
    }

    /// Whether a window that started at `start` is still open at `now` (a clock set back
    /// ends it rather than stretching it).
    fn open(&self, start: Timestamp, now: Timestamp) -> bool {
        (0..self.window_micros()).contains(&now.micros().saturating_sub(start.micros()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding the lock leaves plain counters behind: keep using them.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets a new session from `ip` in, holding its place until the [`Slot`] is dropped,
    /// or says why not.
    pub fn admit(&self, ip: IpAddr) -> Result<Slot, Refusal> {
        let key = client_key(ip);
        if self.over_message_allowance(key) {
            return Err(Refusal::TooManyMessages);
        }
        let mut counts = self.lock();
        if counts.open >= self.limits.max_sessions {
            return Err(Refusal::Busy);
        }
        let mine = counts.per_client.get(&key).copied().unwrap_or(0);
        if mine >= self.limits.max_sessions_per_client {
            return Err(Refusal::TooManySessions);
        }
        counts.open += 1;
        counts.per_client.insert(key, mine + 1);
        Ok(Slot {
            key,
            counts: Some(Arc::clone(&self.counts)),
        })
    }

    /// Whether `ip` has sent its allowance of messages in the current window.
    pub fn over_message_allowance(&self, ip: IpAddr) -> bool {
        let now = self.clock.now();
        let counts = self.lock();
        counts.sent.get(&client_key(ip)).is_some_and(|(start, n)| {
            self.open(*start, now) && *n >= self.limits.max_messages_per_client
        })
    }

    /// Counts one message (one DATA, whatever its recipients) from `ip`.
    pub fn count_message(&self, ip: IpAddr) {
        let now = self.clock.now();
        let mut counts = self.lock();
        if counts.sent.len() > 100_000 {
            counts.sent.retain(|_, (start, _)| self.open(*start, now));
        }
        let entry = counts.sent.entry(client_key(ip)).or_insert((now, 0));
        if !self.open(entry.0, now) {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// The limits in force.
    pub fn limits(&self) -> SmtpLimits {
        self.limits
    }
}

/// A session's place among the open ones; dropping it (or [`Slot::release`]) frees it.
pub struct Slot {
    key: IpAddr,
    counts: Option<Arc<Mutex<Counts>>>,
}

impl Slot {
    /// Frees the place now (before saying goodbye, so a client that reconnects at once
    /// finds it free).
    pub fn release(&mut self) {
        let Some(counts) = self.counts.take() else {
            return;
        };
        let mut counts = counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.open = counts.open.saturating_sub(1);
        if let Some(n) = counts.per_client.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_client.remove(&self.key);
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use rapport_domain::ManualClock;

    use super::*;

    fn admission(clock: Arc<ManualClock>) -> Admission {
        Admission::new(
            SmtpLimits {
                max_recipients: 50,
                max_sessions: 3,
                max_sessions_per_client: 2,
                max_messages_per_client: 2,
                window: Duration::from_secs(60),
                ..SmtpLimits::default()
            },
            clock,
        )
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sessions_are_capped_per_client_and_overall_and_freed_on_drop() {
        let a = admission(Arc::new(ManualClock::new(Timestamp(0))));
        let s1 = a.admit(ip("192.0.2.1")).unwrap();
        let _s2 = a.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(
            a.admit(ip("192.0.2.1")).err(),
            Some(Refusal::TooManySessions)
        );
        let _s3 = a.admit(ip("192.0.2.2")).unwrap();
        assert_eq!(a.admit(ip("192.0.2.3")).err(), Some(Refusal::Busy));
        drop(s1);
        assert!(a.admit(ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_v4_as_v4() {
        assert_eq!(
            client_key(ip("2001:db8:1:2:aaaa::1")),
            client_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            client_key(ip("2001:db8:1:2::1")),
            client_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(client_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        let a = admission(Arc::new(ManualClock::new(Timestamp(0))));
        let _s1 = a.admit(ip("2001:db8::1")).unwrap();
        let _s2 = a.admit(ip("2001:db8::2")).unwrap();
        assert_eq!(
            a.admit(ip("2001:db8::3")).err(),
            Some(Refusal::TooManySessions)
        );
    }

    #[test]
    fn messages_are_counted_per_client_per_window() {
        let clock = Arc::new(ManualClock::new(Timestamp(0)));
        let a = admission(Arc::clone(&clock));
        let (me, other) = (ip("192.0.2.1"), ip("192.0.2.2"));
        a.count_message(me);
        assert!(!a.over_message_allowance(me));
        a.count_message(me);
        assert!(a.over_message_allowance(me));
        assert!(!a.over_message_allowance(other));
        assert_eq!(a.admit(me).err(), Some(Refusal::TooManyMessages));
        clock.advance_secs(60);
        assert!(!a.over_message_allowance(me));
        assert!(a.admit(me).is_ok());
    }
}
