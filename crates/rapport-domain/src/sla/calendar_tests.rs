use proptest::prelude::*;

use super::*;

const HOUR: i64 = 3_600;

fn at(zone: &str, local: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = local.parse().unwrap();
    let ts = TimeZone::get(zone).unwrap().to_timestamp(dt).unwrap();
    Timestamp(ts.as_microsecond())
}

fn local(zone: &str, t: Timestamp) -> String {
    jiff::Timestamp::from_microsecond(t.0)
        .unwrap()
        .to_zoned_datetime(TimeZone::get(zone).unwrap())
        .strftime("%a %Y-%m-%d %H:%M")
        .to_string()
}

fn blocks(spec: &str) -> Vec<Block> {
    spec.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Block::parse(s, "hours").unwrap())
        .collect()
}

/// Monday to Friday with `day`'s blocks, closed at weekends.
fn office(zone: &str, day: &str, holidays: &[&str], closures: Vec<Closure>) -> Calendar {
    let week = std::array::from_fn(|i| if i < 5 { blocks(day) } else { Vec::new() });
    Calendar::new(
        Zone::parse(zone).unwrap(),
        week,
        holidays.iter().map(|d| d.parse().unwrap()),
        closures,
    )
    .unwrap()
}

#[test]
fn blocks_parse_and_refuse_nonsense() {
    assert_eq!(
        Block::parse("09:00-17:30", "h").unwrap().to_string(),
        "09:00-17:30"
    );
    assert_eq!(Block::parse("22:00-24:00", "h").unwrap().end(), DAY_MINUTES);
    for bad in [
        "17:00-09:00",
        "9-17",
        "09:00",
        "25:00-26:00",
        "09:60-10:00",
        "09:00-24:01",
        "",
    ] {
        let e = Block::parse(bad, "hours.mon").unwrap_err();
        assert_eq!(e.field, "hours.mon", "{bad}");
    }
    let none = Calendar::new(Zone::utc(), Default::default(), [], []);
    assert_eq!(none.unwrap_err().field, "hours");
}

#[test]
fn friday_afternoon_rolls_over_the_weekend() {
    let z = "Europe/Berlin";
    let c = office(z, "09:00-17:00", &[], vec![]);
    let due = c.add_open(at(z, "2026-11-27T16:00"), 2 * HOUR).unwrap();
    assert_eq!(local(z, due), "Mon 2026-11-30 10:00");
    // Before opening, the clock starts at opening; exactly at closing it ends there.
    let due = c.add_open(at(z, "2026-11-30T06:00"), 8 * HOUR).unwrap();
    assert_eq!(local(z, due), "Mon 2026-11-30 17:00");
    assert_eq!(c.open_secs(at(z, "2026-11-27T16:00"), due), 9 * HOUR);
    assert!(c.is_open(at(z, "2026-11-30T09:00")));
    assert!(!c.is_open(at(z, "2026-11-30T17:00")));
    assert!(!c.is_open(at(z, "2026-11-28T12:00")));
}

#[test]
fn a_lunch_break_and_a_holiday_are_closed() {
    let z = "America/New_York";
    let c = office(z, "09:00-12:00,13:00-17:00", &["2026-12-25"], vec![]);
    let due = c.add_open(at(z, "2026-12-24T11:30"), HOUR).unwrap();
    assert_eq!(local(z, due), "Thu 2026-12-24 13:30");
    // Thursday 16:00 + 2 h: Christmas Friday and the weekend are closed.
    let due = c.add_open(at(z, "2026-12-24T16:00"), 2 * HOUR).unwrap();
    assert_eq!(local(z, due), "Mon 2026-12-28 10:00");
    assert_eq!(
        c.open_secs(at(z, "2026-12-21T00:00"), at(z, "2026-12-28T00:00")),
        4 * 7 * HOUR
    );
}

#[test]
fn a_closure_is_skipped_and_overlapping_ones_are_joined() {
    let z = "Europe/London";
    let closures = vec![
        Closure {
            from: at(z, "2026-12-31T12:00"),
            until: at(z, "2026-12-31T15:00"),
        },
        Closure {
            from: at(z, "2026-12-31T14:00"),
            until: at(z, "2027-01-04T10:00"),
        },
    ];
    let c = office(z, "09:00-17:00", &[], closures);
    assert_eq!(c.closures().len(), 1);
    let due = c.add_open(at(z, "2026-12-31T11:00"), 2 * HOUR).unwrap();
    assert_eq!(local(z, due), "Mon 2027-01-04 11:00");
}

#[test]
fn midnight_and_the_new_year() {
    let z = "Asia/Tokyo";
    let week = std::array::from_fn(|_| blocks("00:00-02:00,22:00-24:00"));
    let c = Calendar::new(Zone::parse(z).unwrap(), week, [], []).unwrap();
    let due = c.add_open(at(z, "2026-12-31T23:00"), 2 * HOUR).unwrap();
    assert_eq!(local(z, due), "Fri 2027-01-01 01:00");
    assert_eq!(
        c.open_secs(at(z, "2026-12-31T00:00"), at(z, "2027-01-01T00:00")),
        4 * HOUR
    );
}

#[test]
fn office_hours_stay_local_when_the_clocks_change() {
    // Spring forward in New York (8 March 2026): Monday 9–17 local is still 8 hours, and a
    // day's open time the Friday before and the Monday after are the same.
    for (z, sunday) in [
        ("America/New_York", "2026-03-08"),
        ("Europe/Berlin", "2026-03-29"),
        ("Australia/Sydney", "2026-04-05"),
        ("Europe/Berlin", "2026-10-25"),
    ] {
        let c = office(z, "09:00-17:00", &[], vec![]);
        let sun = at(z, &format!("{sunday}T00:00"));
        let mon_noon = c.add_open(sun, 3 * HOUR).unwrap();
        assert_eq!(&local(z, mon_noon)[..3], "Mon", "{z}");
        assert_eq!(&local(z, mon_noon)[15..], "12:00", "{z}");
        let week_before = at(z, &format!("{sunday}T12:00")).plus_secs(-7 * 24 * HOUR);
        assert_eq!(c.open_secs(week_before, sun), 40 * HOUR, "{z}");
    }
    // A day open all day is 23 hours long on the spring-forward day and 25 in autumn.
    let z = "Europe/Berlin";
    let week = std::array::from_fn(|_| blocks("00:00-24:00"));
    let c = Calendar::new(Zone::parse(z).unwrap(), week, [], []).unwrap();
    assert_eq!(
        c.open_secs(at(z, "2026-03-29T00:00"), at(z, "2026-03-30T00:00")),
        23 * HOUR
    );
    assert_eq!(
        c.open_secs(at(z, "2026-10-25T00:00"), at(z, "2026-10-26T00:00")),
        25 * HOUR
    );
    // A block across the skipped hour is an hour shorter; across the repeated one, longer.
    let week = std::array::from_fn(|_| blocks("01:30-03:30"));
    let c = Calendar::new(Zone::parse(z).unwrap(), week, [], []).unwrap();
    assert_eq!(
        c.open_secs(at(z, "2026-03-29T00:00"), at(z, "2026-03-30T00:00")),
        HOUR
    );
    assert_eq!(
        c.open_secs(at(z, "2026-10-25T00:00"), at(z, "2026-10-26T00:00")),
        3 * HOUR
    );
}

#[test]
fn never_open_again_is_none() {
    let z = "UTC";
    let c = office(
        z,
        "09:00-17:00",
        &[],
        vec![Closure {
            from: at(z, "2026-01-01T00:00"),
            until: at(z, "2036-01-01T00:00"),
        }],
    );
    assert_eq!(c.add_open(at(z, "2026-06-01T00:00"), HOUR), None);
    assert_eq!(
        c.add_open(at(z, "2026-06-01T00:00"), 0),
        Some(at(z, "2026-06-01T00:00"))
    );
}

const ZONES: [&str; 5] = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Santiago",
];

/// A random calendar: a zone, up to two blocks on each day (some days closed), up to 5
/// holidays within the two years the instants fall in.
fn calendars() -> impl Strategy<Value = Calendar> {
    let day = prop::collection::vec((0u16..1_440, 1u16..720), 0..3).prop_map(|v| {
        v.into_iter()
            .filter_map(|(s, len)| Block::new(s, (s + len).min(DAY_MINUTES)))
            .collect::<Vec<_>>()
    });
    (
        0..ZONES.len(),
        prop::array::uniform7(day),
        prop::collection::vec(0i32..730, 0..6),
    )
        .prop_filter_map("open some day", |(z, week, holidays)| {
            let base: Date = "2026-01-01".parse().unwrap();
            let holidays = holidays
                .into_iter()
                .map(move |d| base.checked_add(jiff::Span::new().days(d)).unwrap());
            Calendar::new(Zone::parse(ZONES[z]).unwrap(), week, holidays, []).ok()
        })
}

/// An instant in 2026–2027, to the second.
fn instants() -> impl Strategy<Value = Timestamp> {
    (1_767_225_600i64..1_830_297_600).prop_map(|s| Timestamp(s * 1_000_000))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn adding_open_time_comes_back_to_it(c in calendars(), from in instants(), secs in 1i64..400_000) {
        let Some(due) = c.add_open(from, secs) else {
            // Rarely open: then there is less than that within the horizon.
            let horizon = from.plus_secs(i64::from(HORIZON_DAYS - 2) * 86_400);
            prop_assert!(c.open_secs(from, horizon) < secs);
            return Ok(());
        };
        prop_assert!(due > from);
        prop_assert_eq!(c.open_secs(from, due), secs);
        // The earliest such instant: a microsecond before, it was not yet reached.
        prop_assert!(c.open_micros(from, Timestamp(due.0 - 1)) < secs * 1_000_000);
    }

    #[test]
    fn open_time_adds_up_over_any_split(c in calendars(), a in instants(), d1 in 0i64..2_000_000, d2 in 0i64..2_000_000) {
        let b = a.plus_secs(d1);
        let e = b.plus_secs(d2);
        prop_assert_eq!(c.open_micros(a, e), c.open_micros(a, b) + c.open_micros(b, e));
        prop_assert!(c.open_micros(a, e) <= e.0 - a.0);
    }

    #[test]
    fn a_calendar_open_all_week_is_plain_time_in_any_zone(z in 0..ZONES.len(), a in instants(), d in 0i64..40_000_000) {
        let week = std::array::from_fn(|_| vec![Block::new(0, DAY_MINUTES).unwrap()]);
        let c = Calendar::new(Zone::parse(ZONES[z]).unwrap(), week, [], []).unwrap();
        let b = a.plus_secs(d);
        prop_assert_eq!(c.open_micros(a, b), b.0 - a.0);
        prop_assert_eq!(c.add_open(a, d), Some(b));
        prop_assert_eq!(Calendar::always().add_open(a, d), Some(b));
    }
}
