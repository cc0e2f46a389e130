//! Business hours: when a help desk is open, and how much open time lies between two
//! instants. SLA targets in business hours are measured with this; a target in calendar
//! hours uses [`Calendar::always`].
//!
//! Opening hours are local times of a time zone (the bundled database, so every node agrees):
//! a week of blocks (several a day: a lunch break is the gap between two), holidays (whole
//! local days) and one-off closures (from one instant to another). A block is read in the
//! zone on each day it applies, so "09:00–17:00" stays 09:00–17:00 on the days the clocks
//! change. A local time inside a spring-forward gap is moved forward by the gap (02:30
//! reads as 03:30: jiff's "compatible" reading), a repeated local time of a fall-back
//! change is its first occurrence, and open time is counted as it passes: a block across
//! the skipped hour lasts an hour less, one across the repeated hour an hour more.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::clock::Timestamp;
use crate::error::FieldError;
use crate::zone::Zone;

/// Minutes in a day: the latest a block may end (24:00).
pub const DAY_MINUTES: u16 = 1_440;

/// How far ahead an open moment is looked for before a calendar counts as never open
/// again (holidays or closures covering everything).
pub const HORIZON_DAYS: i32 = 3 * 366;

const MICROS_A_SECOND: i64 = 1_000_000;

/// The weekdays in the order a week is given, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One opening on a day: from `start` to `end`, in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Block {
    start: u16,
    end: u16,
}

impl Block {
    /// A block from `start` to `end` minutes after midnight; it must end after it starts
    /// and no later than 24:00.
    pub fn new(start: u16, end: u16) -> Option<Self> {
        (start < end && end <= DAY_MINUTES).then_some(Self { start, end })
    }

    /// Parses `09:00-12:30` (24:00 is the end of the day); `field` names it in the error.
    pub fn parse(text: &str, field: &str) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                field,
                format!("'{text}' is not opening hours such as 09:00-17:00"),
            )
        };
        let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            if h.is_empty() || h.len() > 2 || m.len() != 2 {
                return None;
            }
            let h: u16 = h.parse().ok()?;
            let m: u16 = m.parse().ok()?;
            (m < 60 && h * 60 + m <= DAY_MINUTES).then_some(h * 60 + m)
        };
        let (start, end) = (minutes(a).ok_or_else(bad)?, minutes(b).ok_or_else(bad)?);
        Self::new(start, end)
            .ok_or_else(|| FieldError::new(field, format!("'{text}' must end after it starts")))
    }

    /// Minutes after midnight it opens.
    pub fn start(self) -> u16 {
        self.start
    }

    /// Minutes after midnight it closes.
    pub fn end(self) -> u16 {
        self.end
    }
}

impl std::fmt::Display for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
        write!(f, "{}-{}", hm(self.start), hm(self.end))
    }
}

/// A one-off closure: closed from `from` until `until` (instants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Closure {
    /// When it starts.
    pub from: Timestamp,
    /// When it ends (after `from`).
    pub until: Timestamp,
}

/// When a help desk is open. Build one with [`Calendar::new`] or [`Calendar::always`].
#[derive(Debug, Clone)]
pub struct Calendar {
    zone: Zone,
    /// Monday first; each day's blocks sorted and not overlapping.
    week: [Vec<Block>; 7],
    holidays: BTreeSet<Date>,
    /// Sorted, merged.
    closures: Vec<Closure>,
    /// Open every moment (calendar hours): the arithmetic is plain addition.
    always: bool,
}

impl Calendar {
    /// Every hour of every day: SLA targets in calendar hours.
    pub fn always() -> Self {
        Self {
            zone: Zone::utc(),
            week: std::array::from_fn(|_| {
                vec![Block {
                    start: 0,
                    end: DAY_MINUTES,
                }]
            }),
            holidays: BTreeSet::new(),
            closures: Vec::new(),
            always: true,
        }
    }

    /// Opening hours in `zone`: `week` holds each weekday's blocks, Monday first (blocks
    /// that overlap or touch are joined); at least one block in the week. Closures must end
    /// after they start.
    pub fn new(
        zone: Zone,
        week: [Vec<Block>; 7],
        holidays: impl IntoIterator<Item = Date>,
        closures: impl IntoIterator<Item = Closure>,
    ) -> Result<Self, FieldError> {
        if week.iter().all(Vec::is_empty) {
            return Err(FieldError::new(
                "hours",
                "a calendar needs opening hours on at least one day",
            ));
        }
        let week = week.map(|mut blocks| {
            blocks.sort_unstable();
            let mut joined: Vec<Block> = Vec::with_capacity(blocks.len());
            for b in blocks {
                match joined.last_mut() {
                    Some(last) if b.start <= last.end => last.end = last.end.max(b.end),
                    _ => joined.push(b),
                }
            }
            joined
        });
        let mut list: Vec<Closure> = closures.into_iter().collect();
        if list.iter().any(|c| c.until <= c.from) {
            return Err(FieldError::new(
                "closures",
                "a closure must end after it starts",
            ));
        }
        list.sort_unstable();
        let mut closures: Vec<Closure> = Vec::with_capacity(list.len());
        for c in list {
            match closures.last_mut() {
                Some(last) if c.from <= last.until => last.until = last.until.max(c.until),
                _ => closures.push(c),
            }
        }
        Ok(Self {
            zone,
            week,
            holidays: holidays.into_iter().collect(),
            closures,
            always: false,
        })
    }

    /// Whether this is [`Calendar::always`] (calendar hours).
    pub fn is_always(&self) -> bool {
        self.always
    }

    /// The zone its hours are read in.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// Each weekday's blocks, Monday first.
    pub fn week(&self) -> &[Vec<Block>; 7] {
        &self.week
    }

    /// Its holidays, in order.
    pub fn holidays(&self) -> impl Iterator<Item = Date> + '_ {
        self.holidays.iter().copied()
    }

    /// Its closures, in order (joined where they overlap).
    pub fn closures(&self) -> &[Closure] {
        &self.closures
    }

    /// The instant `secs` seconds of open time after `from` have passed: `from` itself for
    /// none, else the earliest instant with that much open time between. `None` when the
    /// calendar is not open that long within [`HORIZON_DAYS`].
    pub fn add_open(&self, from: Timestamp, secs: i64) -> Option<Timestamp> {
        self.add_open_micros(from, secs.max(0).saturating_mul(MICROS_A_SECOND))
    }

    /// [`Calendar::add_open`] in microseconds.
    pub fn add_open_micros(&self, from: Timestamp, micros: i64) -> Option<Timestamp> {
        let mut left = micros.max(0);
        if left == 0 || self.always {
            return Some(Timestamp(from.0.saturating_add(left)));
        }
        for (start, end) in self.periods(from) {
            let len = end - start;
            if len >= left {
                return Some(Timestamp(start + left));
            }
            left -= len;
        }
        None
    }

    /// Seconds of open time from `a` to `b` (none when `b` is not after `a`), rounded down.
    pub fn open_secs(&self, a: Timestamp, b: Timestamp) -> i64 {
        self.open_micros(a, b) / MICROS_A_SECOND
    }

    /// Microseconds of open time from `a` to `b` (none when `b` is not after `a`).
    pub fn open_micros(&self, a: Timestamp, b: Timestamp) -> i64 {
        if b <= a {
            return 0;
        }
        if self.always {
            return b.0 - a.0;
        }
        let mut sum = 0i64;
        for (start, end) in self.periods(a) {
            if start >= b.0 {
                break;
            }
            sum += end.min(b.0) - start;
            if end >= b.0 {
                break;
            }
        }
        sum
    }

    /// Whether the calendar is open at `t`.
    pub fn is_open(&self, t: Timestamp) -> bool {
        self.always
            || self
                .periods(t)
                .next()
                .is_some_and(|(start, _)| start <= t.0)
    }

    /// The open periods from `from` on, in order, as microsecond instants `[start, end)`;
    /// the first may be cut to begin at `from`. Ends at [`HORIZON_DAYS`].
    fn periods(&self, from: Timestamp) -> impl Iterator<Item = (i64, i64)> + '_ {
        let tz = self.zone.tz().clone();
        let first = local_date(&tz, from)
            .checked_sub(jiff::Span::new().days(1))
            .ok();
        let mut day = first;
        let mut days = 0;
        let mut floor = from.0;
        let mut pending: std::collections::VecDeque<(i64, i64)> = Default::default();
        std::iter::from_fn(move || {
            loop {
                if let Some(p) = pending.pop_front() {
                    return Some(p);
                }
                let date = day?;
                if days > HORIZON_DAYS + 1 {
                    return None;
                }
                days += 1;
                day = date.tomorrow().ok();
                if self.holidays.contains(&date) {
                    continue;
                }
                let weekday = date.weekday().to_monday_zero_offset() as usize;
                for block in &self.week[weekday] {
                    let (Some(s), Some(e)) = (
                        instant(&tz, date, block.start),
                        instant(&tz, date, block.end),
                    ) else {
                        continue;
                    };
                    let s = s.max(floor);
                    if e <= s {
                        continue;
                    }
                    for piece in self.without_closures(s, e) {
                        pending.push_back(piece);
                    }
                    floor = floor.max(e);
                }
            }
        })
    }

    /// `[s, e)` with the closures taken out.
    fn without_closures(&self, s: i64, e: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut at = s;
        let from = self.closures.partition_point(|c| c.until.0 <= s);
        for c in &self.closures[from..] {
            if c.from.0 >= e {
                break;
            }
            if c.from.0 > at {
                out.push((at, c.from.0));
            }
            at = at.max(c.until.0);
            if at >= e {
                break;
            }
        }
        if at < e {
            out.push((at, e));
        }
        out
    }
}

/// The local date of `t` in `tz`.
fn local_date(tz: &TimeZone, t: Timestamp) -> Date {
    tz.to_datetime(jiff::Timestamp::from_microsecond(t.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
        .date()
}

/// The instant (microseconds) of `minutes` after local midnight on `date` (1,440: the
/// next midnight), read the "compatible" way across clock changes.
fn instant(tz: &TimeZone, date: Date, minutes: u16) -> Option<i64> {
    let (date, minutes) = if minutes >= DAY_MINUTES {
        (date.tomorrow().ok()?, 0)
    } else {
        (date, minutes)
    };
    let time = Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).ok()?;
    Some(
        tz.to_timestamp(date.to_datetime(time))
            .ok()?
            .as_microsecond(),
    )
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
