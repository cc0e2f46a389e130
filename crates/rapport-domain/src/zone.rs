//! Time zones: each agent reads times in their own zone. Zones are IANA names (such as
//! `America/New_York`) looked up in the time-zone database bundled into the binary, so
//! every node converts the same way whatever its operating system has installed.

use std::fmt;
use std::sync::LazyLock;

use jiff::tz::{TimeZone, TimeZoneDatabase};

use crate::clock::Timestamp;
use crate::error::FieldError;

static DB: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// Every zone name the bundled database knows, sorted.
static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut names: Vec<String> = DB.available().map(|n| n.as_str().to_owned()).collect();
    names.sort_unstable();
    names.dedup();
    names
});

/// An IANA time zone, by its canonical spelling.
#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// Coordinated Universal Time, the default.
    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    /// Parses an IANA zone name (without regard to ASCII case); an unknown one is a
    /// [`FieldError`] on `time_zone`.
    pub fn parse(name: &str) -> Result<Self, FieldError> {
        let name = name.trim();
        let unknown = || {
            FieldError::new(
                "time_zone",
                format!("unknown time zone '{name}'; use an IANA name such as 'Europe/Paris'"),
            )
        };
        if name.is_empty() {
            return Err(unknown());
        }
        if name.eq_ignore_ascii_case("UTC") {
            return Ok(Self::utc());
        }
        let tz = DB.get(name).map_err(|_| unknown())?;
        let canonical = tz
            .iana_name()
            .filter(|n| NAMES.iter().any(|k| k == n))
            .ok_or_else(unknown)?
            .to_owned();
        Ok(Self {
            name: canonical,
            tz,
        })
    }

    /// Reads a stored zone name, falling back to UTC if the database no longer knows it.
    pub fn from_stored(name: &str) -> Self {
        Self::parse(name).unwrap_or_else(|_| Self::utc())
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads a local date and time as a form sends it (`2026-11-28T15:00`, seconds
    /// optional) in this zone; `None` when it is no such time.
    pub fn parse_local(&self, raw: &str) -> Option<Timestamp> {
        let dt: jiff::civil::DateTime = raw.trim().parse().ok()?;
        let ts = self.tz.to_timestamp(dt).ok()?;
        Some(Timestamp(ts.as_microsecond()))
    }

    /// The zone's rules, for arithmetic in local time (business hours).
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// Every zone an agent may choose, sorted by name.
    pub fn names() -> &'static [String] {
        &NAMES
    }

    /// `t` as people read it in this zone: `2026-11-23 09:05 EST` (the zone's
    /// abbreviation, or its offset where the zone has none, such as `-03`).
    pub fn local(&self, t: Timestamp) -> String {
        let Ok(ts) = jiff::Timestamp::from_microsecond(t.micros()) else {
            return t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string();
        };
        ts.to_zoned_datetime(self.tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }
}

impl Default for Zone {
    fn default() -> Self {
        Self::utc()
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Zone").field(&self.name).finish()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_times_are_read_in_the_zone() {
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(
            ny.parse_local("2023-11-14T17:13"),
            Some(Timestamp(1_699_999_980_000_000))
        );
        assert_eq!(ny.parse_local("tomorrow"), None);
    }

    #[test]
    fn utc_is_the_default_and_reads_as_before() {
        let t = Timestamp(1_700_000_000_123_456);
        assert_eq!(Zone::default().local(t), "2023-11-14 22:13 UTC");
        assert_eq!(Zone::parse("utc").unwrap(), Zone::utc());
    }

    #[test]
    fn converts_with_the_zones_abbreviation() {
        let ny = Zone::parse("america/new_york").unwrap();
        assert_eq!(ny.name(), "America/New_York");
        assert_eq!(
            ny.local(Timestamp(1_700_000_000_000_000)),
            "2023-11-14 17:13 EST"
        );
        // Summer time.
        assert_eq!(
            ny.local(Timestamp(1_690_000_000_000_000)),
            "2023-07-22 00:26 EDT"
        );
        let kolkata = Zone::parse("Asia/Kolkata").unwrap();
        assert_eq!(
            kolkata.local(Timestamp(1_700_000_000_000_000)),
            "2023-11-15 03:43 IST"
        );
    }

    #[test]
    fn unknown_zones_name_the_field() {
        for bad in [
            "",
            "Mars/Olympus_Mons",
            "../etc/passwd",
            "EST5EDT,M3.2.0,M11.1.0",
        ] {
            assert_eq!(Zone::parse(bad).unwrap_err().field, "time_zone", "{bad}");
        }
        assert_eq!(Zone::from_stored("Nowhere/Else"), Zone::utc());
    }

    #[test]
    fn the_choice_lists_every_zone_once() {
        let names = Zone::names();
        assert!(names.len() > 300, "{}", names.len());
        assert!(names.iter().any(|n| n == "America/New_York"));
        assert!(names.iter().any(|n| n == "UTC"));
        assert!(names.windows(2).all(|w| w[0] < w[1]));
    }
}
