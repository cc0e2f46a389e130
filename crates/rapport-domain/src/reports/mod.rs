//! What the reports compute, independent of where the numbers come from: the period a
//! report covers, and the statistics of durations (median and 90th percentile by the
//! nearest-rank method, so every figure is a measured duration, stated to three
//! significant figures), and the roll-ups that let them be read at scale.

pub mod rollup;
pub mod themes;

use crate::clock::Timestamp;
use crate::error::FieldError;

/// The longest period a report covers.
pub const MAX_DAYS: i64 = 366;

/// A report's period: whole days in UTC, `from` through `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first day (as written).
    pub from: chrono::NaiveDate,
    /// The last day.
    pub to: chrono::NaiveDate,
}

impl Period {
    /// Reads `from` and `to` (`YYYY-MM-DD`); errors name the field.
    pub fn parse(from: &str, to: &str) -> Result<Self, FieldError> {
        let day = |raw: &str, field: &str| {
            chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map_err(|_| FieldError::new(field, "must be a date, YYYY-MM-DD"))
        };
        let (f, t) = (day(from, "from")?, day(to, "to")?);
        use chrono::Datelike;
        if !(1970..=9998).contains(&f.year()) {
            return Err(FieldError::new("from", "must be a date from 1970 to 9998"));
        }
        if t < f {
            return Err(FieldError::new("to", "must not be before from"));
        }
        if (t - f).num_days() + 1 > MAX_DAYS {
            return Err(FieldError::new(
                "to",
                format!("a report covers at most {MAX_DAYS} days"),
            ));
        }
        Ok(Self { from: f, to: t })
    }

    /// The first instant of the period.
    pub fn start(&self) -> Timestamp {
        midnight(self.from)
    }

    /// The first instant after it.
    pub fn end(&self) -> Timestamp {
        midnight(self.to.succ_opt().unwrap_or(self.to))
    }

    /// The period of the same length just before it (for trends).
    pub fn previous(&self) -> Self {
        let days = (self.to - self.from).num_days() + 1;
        let to = self.from.pred_opt().unwrap_or(self.from);
        let from = to - chrono::Duration::days(days - 1);
        Self { from, to }
    }

    /// The days of the period, in order.
    pub fn days(&self) -> impl Iterator<Item = chrono::NaiveDate> {
        let from = self.from;
        let n = (self.to - self.from).num_days() + 1;
        (0..n).map(move |i| from + chrono::Duration::days(i))
    }
}

fn midnight(d: chrono::NaiveDate) -> Timestamp {
    let t = d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    Timestamp(t.timestamp_micros())
}

/// Median and 90th percentile of durations (seconds), by nearest rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    /// The 50th percentile.
    pub median: i64,
    /// The 90th percentile.
    pub p90: i64,
    /// How many durations.
    pub count: usize,
}

/// The `p`-th percentile (0 < p ≤ 100) of sorted values by nearest rank: the value at rank
/// ⌈p/100 · n⌉.
pub fn nearest_rank(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (n * p as usize).div_ceil(100).clamp(1, n);
    sorted.get(rank - 1).copied()
}

/// The spread of `durations` (any order), each stated to three significant figures (see
/// [`rollup::round_secs`]: the roll-ups keep them so); `None` without any.
pub fn spread(durations: Vec<i64>) -> Option<Spread> {
    let mut t = rollup::Tally::default();
    for d in durations {
        t.push(d);
    }
    t.spread()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_checked_and_cover_whole_days() {
        let p = Period::parse("2026-11-01", "2026-11-30").unwrap();
        assert_eq!(p.end().0 - p.start().0, 30 * 86_400_000_000);
        assert_eq!(
            p.previous(),
            Period::parse("2026-10-02", "2026-10-31").unwrap()
        );
        assert_eq!(p.days().count(), 30);
        assert_eq!(
            Period::parse("2026-11-31", "2026-12-01").unwrap_err().field,
            "from"
        );
        assert_eq!(
            Period::parse("2026-11-02", "2026-11-01").unwrap_err().field,
            "to"
        );
        assert_eq!(
            Period::parse("2025-01-01", "2026-11-01").unwrap_err().field,
            "to"
        );
        for bad in ["-262143-01-02", "1969-12-31"] {
            assert_eq!(Period::parse(bad, "1970-01-02").unwrap_err().field, "from");
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = spread(vec![50, 10, 40, 20, 30]).unwrap();
        assert_eq!((s.median, s.p90, s.count), (30, 50, 5));
        let s = spread((1..=10).collect()).unwrap();
        assert_eq!((s.median, s.p90), (5, 9));
        assert_eq!(spread(vec![7]).unwrap().p90, 7);
        assert_eq!(spread(Vec::new()), None);
    }
}
