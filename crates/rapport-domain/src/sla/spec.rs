//! A business-hours calendar as people write it and as it is stored: a time zone, hours
//! per weekday (`"mon": ["09:00-12:00", "13:00-17:00"]`), holidays (`"2026-12-25"`) and
//! one-off closures (`{"from": …, "until": …}`), checked into a [`Calendar`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::calendar::{Block, Calendar, Closure, WEEKDAYS};
use crate::clock::Timestamp;
use crate::error::FieldError;
use crate::zone::Zone;

/// The most holidays and closures a calendar holds (each).
pub const MAX_DAYS_OFF: usize = 1_000;

/// A one-off closure as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosureSpec {
    /// When it starts.
    pub from: Timestamp,
    /// When it ends.
    pub until: Timestamp,
}

/// A calendar as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    /// The IANA zone its hours are read in.
    pub time_zone: String,
    /// Blocks per weekday (`mon` … `sun`); a day left out is closed.
    pub hours: BTreeMap<String, Vec<String>>,
    /// Closed local days, `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Closed from one instant to another.
    #[serde(default)]
    pub closures: Vec<ClosureSpec>,
}

impl CalendarSpec {
    /// Checks it: a known zone, weekdays by their three-letter names, blocks such as
    /// `09:00-17:00`, real dates, closures that end after they start; errors name the
    /// field (`hours.mon`, `holidays`, `closures`).
    pub fn parse(&self) -> Result<Calendar, FieldError> {
        let zone = Zone::parse(&self.time_zone)?;
        let mut week: [Vec<Block>; 7] = Default::default();
        let mut seen = [false; 7];
        for (day, blocks) in &self.hours {
            let key = day.to_ascii_lowercase();
            let i = WEEKDAYS.iter().position(|d| *d == key).ok_or_else(|| {
                FieldError::new(
                    "hours",
                    format!("'{day}' is not a weekday; use mon, tue, wed, thu, fri, sat, sun"),
                )
            })?;
            if std::mem::replace(&mut seen[i], true) {
                return Err(FieldError::new("hours", format!("'{key}' is given twice")));
            }
            if blocks.len() > 24 {
                return Err(FieldError::new(
                    format!("hours.{key}"),
                    "at most 24 blocks a day",
                ));
            }
            for b in blocks {
                week[i].push(Block::parse(b, &format!("hours.{key}"))?);
            }
        }
        if self.holidays.len() > MAX_DAYS_OFF || self.closures.len() > MAX_DAYS_OFF {
            return Err(FieldError::new(
                if self.holidays.len() > MAX_DAYS_OFF {
                    "holidays"
                } else {
                    "closures"
                },
                format!("at most {MAX_DAYS_OFF}"),
            ));
        }
        let mut holidays = Vec::with_capacity(self.holidays.len());
        for h in &self.holidays {
            holidays.push(h.trim().parse().map_err(|_| {
                FieldError::new(
                    "holidays",
                    format!("'{h}' is not a date such as 2026-12-25"),
                )
            })?);
        }
        let closures = self.closures.iter().map(|c| Closure {
            from: c.from,
            until: c.until,
        });
        Calendar::new(zone, week, holidays, closures)
    }

    /// How a calendar is written.
    pub fn of(cal: &Calendar) -> Self {
        let mut hours = BTreeMap::new();
        for (i, blocks) in cal.week().iter().enumerate() {
            if !blocks.is_empty() {
                hours.insert(
                    WEEKDAYS[i].to_owned(),
                    blocks.iter().map(ToString::to_string).collect(),
                );
            }
        }
        Self {
            time_zone: cal.zone().name().to_owned(),
            hours,
            holidays: cal.holidays().map(|d| d.to_string()).collect(),
            closures: cal
                .closures()
                .iter()
                .map(|c| ClosureSpec {
                    from: c.from,
                    until: c.until,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> CalendarSpec {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_written_calendar_round_trips() {
        let s = spec(serde_json::json!({
            "time_zone": "europe/berlin",
            "hours": {"mon": ["13:00-17:00", "09:00-12:00"], "Fri": ["09:00-15:00"]},
            "holidays": ["2026-12-25"],
            "closures": [{"from": "2026-12-31T12:00:00Z", "until": "2027-01-01T00:00:00Z"}]
        }));
        let cal = s.parse().unwrap();
        let back = CalendarSpec::of(&cal);
        assert_eq!(back.time_zone, "Europe/Berlin");
        assert_eq!(back.hours["mon"], ["09:00-12:00", "13:00-17:00"]);
        assert_eq!(back.hours["fri"], ["09:00-15:00"]);
        assert_eq!(back.holidays, ["2026-12-25"]);
        assert_eq!(back.parse().unwrap().week(), cal.week());
    }

    #[test]
    fn mistakes_name_their_field() {
        let field = |j: serde_json::Value| spec(j).parse().unwrap_err().field;
        let hours = serde_json::json!({"mon": ["09:00-17:00"]});
        assert_eq!(
            field(serde_json::json!({"time_zone": "Mars/Base", "hours": hours})),
            "time_zone"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "hours": {"monday": ["09:00-17:00"]}})),
            "hours"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "hours": {"tue": ["17:00-09:00"]}})),
            "hours.tue"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "hours": {}})),
            "hours"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC",
                "hours": {"mon": ["09:00-10:00"], "Mon": ["11:00-12:00"]}})),
            "hours"
        );
        assert_eq!(
            field(
                serde_json::json!({"time_zone": "UTC", "hours": hours, "holidays": ["2026-02-30"]})
            ),
            "holidays"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "hours": hours,
                "closures": [{"from": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}]})),
            "closures"
        );
    }
}
