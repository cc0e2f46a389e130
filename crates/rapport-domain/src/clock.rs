//! Time is a parameter. SLAs, job retries and snoozes all depend on "now"; code asks a
//! [`Clock`] for it so tests can move time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A point in time, microseconds since the Unix epoch (UTC). Stored as a plain integer in
/// both databases so that sorting and arithmetic are the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "DateTime<Utc>", try_from = "DateTime<Utc>")]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// This instant plus `secs` seconds (negative goes back).
    #[must_use]
    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1_000_000)))
    }

    /// This instant plus `ms` milliseconds.
    #[must_use]
    pub fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms.saturating_mul(1_000)))
    }

    /// The calendar form, for display and JSON.
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_micros(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }

    /// The UTC day this instant falls on, as days since the epoch (for daily roll-ups).
    pub fn day(self) -> i64 {
        self.0.div_euclid(86_400_000_000)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.to_datetime()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(d: DateTime<Utc>) -> Self {
        Self(d.timestamp_micros())
    }
}

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that reads the wall clock"
    )]
    fn now(&self) -> Timestamp {
        Timestamp(Utc::now().timestamp_micros())
    }
}

/// A clock that only moves when told to: for tests of anything time-dependent.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.0))
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1_000_000, Ordering::SeqCst);
    }

    /// Moves the clock to `t` (forward only: an earlier `t` leaves it where it is).
    pub fn set(&self, t: Timestamp) {
        self.0.fetch_max(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp(1_000_000));
        assert_eq!(c.now(), Timestamp(1_000_000));
        c.advance_secs(5);
        assert_eq!(c.now(), Timestamp(6_000_000));
    }

    #[test]
    fn timestamps_serialise_as_rfc3339() {
        let t = Timestamp(1_700_000_000_123_456);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2023-11-14T22:13:20.123456Z\"");
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let offset: Timestamp =
            serde_json::from_str("\"2023-11-14T17:13:20.123456-05:00\"").unwrap();
        assert_eq!(offset, t);
        assert!(serde_json::from_str::<Timestamp>("1700000000123456").is_err());
    }

    #[test]
    fn day_floors_negative_instants() {
        assert_eq!(Timestamp(-1).day(), -1);
        assert_eq!(Timestamp(0).day(), 0);
    }
}
