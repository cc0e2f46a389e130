//! Goodwill limits: how much an agent gives one customer in a calendar month (UTC) on
//! their own authority. A limit is set per role or per agent (the agent's own wins); with
//! none set, agents ask for approval and supervisors and administrators do not.

use chrono::{Datelike, TimeZone, Utc};

use crate::clock::Timestamp;
use crate::people::Role;
use crate::ticket::wire_enum;

wire_enum!(
    /// What kind of goodwill a limit caps.
    GoodwillKind, "kind" {
        /// Vouchers worth an amount (in the limit's currency).
        Voucher = "voucher",
        /// Vouchers worth a percentage (the largest percentage, not a sum).
        VoucherPercent = "voucher-percent",
        /// Reward points credited.
        Points = "points",
        /// Refunds recorded on orders (in the limit's currency).
        Refund = "refund",
    }
);

impl GoodwillKind {
    /// Whether the kind's limit is a sum over the month (not the largest single gift).
    pub fn sums(self) -> bool {
        self != GoodwillKind::VoucherPercent
    }
}

/// What a role may give when no limit is set: agents nothing without approval,
/// supervisors and administrators anything.
pub fn unset_limit(role: Role) -> Option<i64> {
    match role {
        Role::Agent => Some(0),
        _ => None,
    }
}

/// Whether a gift of `asked` fits under `limit` (`None`: no limit) after `used` this month.
pub fn within(limit: Option<i64>, kind: GoodwillKind, used: i64, asked: i64) -> bool {
    match limit {
        None => true,
        Some(max) if kind.sums() => used.saturating_add(asked) <= max,
        Some(max) => asked <= max,
    }
}

/// The start of the calendar month (UTC) of `now`.
pub fn month_start(now: Timestamp) -> Timestamp {
    let d = now.to_datetime();
    Utc.with_ymd_and_hms(d.year(), d.month(), 1, 0, 0, 0)
        .single()
        .map_or(now, |s| Timestamp(s.timestamp_micros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_cap_a_month_of_gifts() {
        assert!(within(Some(2000), GoodwillKind::Voucher, 1500, 500));
        assert!(!within(Some(2000), GoodwillKind::Voucher, 1500, 501));
        assert!(within(None, GoodwillKind::Points, i64::MAX, 1));
        // A percentage caps each voucher, not the month.
        assert!(within(Some(10), GoodwillKind::VoucherPercent, 50, 10));
        assert!(!within(Some(10), GoodwillKind::VoucherPercent, 0, 11));
        assert_eq!(unset_limit(Role::Agent), Some(0));
        assert_eq!(unset_limit(Role::Supervisor), None);
    }

    #[test]
    fn months_start_on_the_first_at_midnight_utc() {
        let at = |s: &str| {
            Timestamp(
                chrono::DateTime::parse_from_rfc3339(s)
                    .unwrap()
                    .timestamp_micros(),
            )
        };
        assert_eq!(
            month_start(at("2026-11-28T04:40:00Z")),
            at("2026-11-01T00:00:00Z")
        );
        assert_eq!(
            month_start(at("2026-12-01T00:00:00Z")),
            at("2026-12-01T00:00:00Z")
        );
    }
}
