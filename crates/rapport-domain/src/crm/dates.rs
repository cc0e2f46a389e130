//! A customer's dates: their birthday (with or without the year) and the anniversary of
//! when they became a customer. Both come round once a year; 29 February is kept on
//! 28 February in years without it.

pub use jiff::civil::Date;

use crate::clock::Timestamp;
use crate::error::FieldError;

/// The UTC calendar day of an instant.
pub fn utc_date(t: Timestamp) -> Date {
    use chrono::Datelike;
    let d = t.to_datetime().date_naive();
    // chrono's years, months and days are always within jiff's ranges here (instants
    // are microseconds of an i64).
    Date::new(
        i16::try_from(d.year()).unwrap_or(i16::MAX),
        i8::try_from(d.month()).unwrap_or(1),
        i8::try_from(d.day()).unwrap_or(1),
    )
    .unwrap_or(Date::MAX)
}

/// `days` after `d` (saturating at the calendar's ends).
pub fn add_days(d: Date, days: i64) -> Date {
    d.checked_add(jiff::Span::new().days(days.clamp(-3_000_000, 3_000_000)))
        .unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

/// A birthday: a month and day, and the year when it is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Birthday {
    /// The year of birth, when known.
    pub year: Option<i16>,
    /// 1 to 12.
    pub month: i8,
    /// 1 to 31, valid for the month.
    pub day: i8,
}

impl Birthday {
    /// Reads `YYYY-MM-DD`, or `--MM-DD` (or `MM-DD`) without the year. A year must be
    /// from 1900 and not in the future of `today`.
    pub fn parse(field: &str, raw: &str, today: Date) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                field,
                "must be a date, YYYY-MM-DD, or --MM-DD without the year",
            )
        };
        let t = raw.trim();
        let md = t.strip_prefix("--").unwrap_or(t);
        if md.len() == 5 {
            let (m, d) = md.split_once('-').ok_or_else(bad)?;
            let month: i8 = m.parse().map_err(|_| bad())?;
            let day: i8 = d.parse().map_err(|_| bad())?;
            // A leap year, so that 29 February is a birthday.
            Date::new(2000, month, day).map_err(|_| bad())?;
            return Ok(Self {
                year: None,
                month,
                day,
            });
        }
        let d: Date = t.parse().map_err(|_| bad())?;
        if d.year() < 1900 || d > today {
            return Err(FieldError::new(
                field,
                "must be a date between 1900 and today",
            ));
        }
        Ok(Self {
            year: Some(d.year()),
            month: d.month(),
            day: d.day(),
        })
    }

    /// The stored form: `YYYY-MM-DD` or `--MM-DD`.
    pub fn written(&self) -> String {
        match self.year {
            Some(y) => format!("{y:04}-{:02}-{:02}", self.month, self.day),
            None => format!("--{:02}-{:02}", self.month, self.day),
        }
    }

    /// The next birthday on or after `today`.
    pub fn next(&self, today: Date) -> Date {
        next_yearly(self.month, self.day, today)
    }

    /// How old they turn on their next birthday, when the year is known.
    pub fn turning(&self, today: Date) -> Option<i16> {
        self.year.map(|y| self.next(today).year() - y)
    }
}

/// The next day on or after `today` that is `month`/`day` (28 February for 29 February
/// in a year without it).
pub fn next_yearly(month: i8, day: i8, today: Date) -> Date {
    let on = |year: i16| {
        Date::new(year, month, day)
            .or_else(|_| Date::new(year, month, day - 1))
            .unwrap_or(today)
    };
    let this_year = on(today.year());
    if this_year >= today {
        this_year
    } else {
        on(today.year() + 1)
    }
}

/// The next anniversary of `since` on or after `today`, and how many years it marks.
/// `None` before the first one.
pub fn next_anniversary(since: Date, today: Date) -> Option<(Date, i16)> {
    let next = next_yearly(since.month(), since.day(), today);
    let years = next.year() - since.year();
    (years >= 1).then_some((next, years))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn birthdays_read_with_or_without_the_year() {
        let today = date(2026, 11, 28);
        let b = Birthday::parse("birthday", "1990-12-03", today).unwrap();
        assert_eq!(b.written(), "1990-12-03");
        assert_eq!(b.next(today), date(2026, 12, 3));
        assert_eq!(b.turning(today), Some(36));
        let b = Birthday::parse("birthday", "--02-29", today).unwrap();
        assert_eq!(b.written(), "--02-29");
        assert_eq!(b.next(today), date(2027, 2, 28));
        assert_eq!(b.next(date(2028, 1, 1)), date(2028, 2, 29));
        assert_eq!(b.turning(today), None);
        assert_eq!(
            Birthday::parse("b", "03-15", today).unwrap().written(),
            "--03-15"
        );
        for bad in [
            "",
            "1990-02-30",
            "--13-01",
            "2030-01-01",
            "1850-01-01",
            "tomorrow",
            "--2-3",
        ] {
            assert!(Birthday::parse("b", bad, today).is_err(), "{bad}");
        }
    }

    #[test]
    fn anniversaries_come_yearly_after_the_first_year() {
        let since = date(2024, 11, 30);
        assert_eq!(
            next_anniversary(since, date(2026, 11, 28)),
            Some((date(2026, 11, 30), 2))
        );
        assert_eq!(
            next_anniversary(since, date(2026, 11, 30)),
            Some((date(2026, 11, 30), 2))
        );
        assert_eq!(
            next_anniversary(date(2026, 11, 1), date(2026, 11, 28)),
            Some((date(2027, 11, 1), 1))
        );
        assert_eq!(
            next_anniversary(date(2026, 11, 29), date(2026, 11, 28)),
            None
        );
    }
}
