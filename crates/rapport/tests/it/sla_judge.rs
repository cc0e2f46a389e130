//! Business-hours arithmetic judged by an independent implementation: the PyPI packages
//! `businesstimedelta` (working days, lunch breaks, holidays, in a pytz zone) and
//! `holidays` (each country's public holidays). Thousands of random calendars and instants
//! across 2026–2027 — zones with daylight-saving changes in both hemispheres and one
//! without, holidays, year ends — must give the same due time and the same open time as
//! `sla::calendar`. (Night-time clock changes themselves are covered by the property tests
//! in `rapport-domain`, where the answer does not depend on `pytz`.)
//!
//! Hours are kept between 06:00 and 21:00, where `businesstimedelta` is exact: it reads a
//! holiday as 24 hours from local midnight and a working day's hours with `pytz.localize`,
//! which differ from a calendar day only within a clock change's hour at night.

use rand::{Rng, SeedableRng};
use rapport_domain::Timestamp;
use rapport_domain::sla::calendar::{Block, Calendar};
use rapport_domain::zone::Zone;
use serde_json::{Value, json};

const CASES: usize = 3_000;

/// The zones and the country whose holidays apply there.
const PLACES: [(&str, &str); 5] = [
    ("America/New_York", "US"),
    ("Europe/Berlin", "DE"),
    ("Australia/Sydney", "AU"),
    ("Asia/Kolkata", "IN"),
    ("Europe/London", "GB"),
];

const JUDGE: &str = r#"
import datetime, json, sys
import holidays, pytz
from businesstimedelta import WorkDayRule, LunchTimeRule, HolidayRule, Rules, BusinessTimeDelta

cases = json.loads(sys.stdin.read())
days = {}
for cc in {c["country"] for c in cases}:
    days[cc] = sorted(holidays.country_holidays(cc, years=range(2025, 2032)).keys())
out = []
for c in cases:
    tz = pytz.timezone(c["zone"])
    t = lambda m: datetime.time(m // 60, m % 60)
    rules = [WorkDayRule(start_time=t(c["start"]), end_time=t(c["end"]),
                         working_days=c["days"], tz=tz),
             HolidayRule(set(days[c["country"]]), tz=tz)]
    if c["lunch"]:
        rules.append(LunchTimeRule(start_time=t(c["lunch"][0]), end_time=t(c["lunch"][1]),
                                   working_days=c["days"], tz=tz))
    rules = Rules(rules)
    start = datetime.datetime.fromtimestamp(c["from"], tz=pytz.utc)
    due = start + BusinessTimeDelta(rules, seconds=c["secs"])
    to = datetime.datetime.fromtimestamp(c["to"], tz=pytz.utc)
    diff = rules.difference(start, to).timedelta.total_seconds()
    out.append({"due": round(due.timestamp()), "diff": round(diff)})
print(json.dumps({"holidays": {cc: [d.isoformat() for d in ds] for cc, ds in days.items()},
                  "results": out}))
"#;

#[tokio::test]
async fn business_hours_agree_with_businesstimedelta() {
    let seed: u64 = rand::random();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut cases = Vec::with_capacity(CASES);
    for _ in 0..CASES {
        let (zone, country) = PLACES[rng.gen_range(0..PLACES.len())];
        let mut days: Vec<u8> = (0..7).filter(|_| rng.gen_bool(0.6)).collect();
        if days.is_empty() {
            days.push(rng.gen_range(0..7));
        }
        let start = rng.gen_range(12..25) * 30; // 06:00–12:00
        let end = rng.gen_range(26..43) * 30; // 13:00–21:00
        // A lunch break of 30 or 60 minutes, at least 30 minutes after opening and
        // before closing.
        let lunch = (end - start >= 150 && rng.gen_bool(0.5)).then(|| {
            let s = rng.gen_range((start / 30 + 1)..(end / 30 - 2)) * 30;
            let len = if s + 60 < end { rng.gen_range(1..3) } else { 1 };
            (s, s + len * 30)
        });
        let from = rng.gen_range(1_767_225_600i64..1_830_297_600);
        // Up to 60 open hours: with one open hour a week at the least, within two years.
        let secs = rng.gen_range(1i64..60 * 3_600);
        let to = from + rng.gen_range(0i64..30 * 86_400);
        cases.push(json!({
            "zone": zone, "country": country, "days": days, "start": start, "end": end,
            "lunch": lunch.map(|(a, b)| vec![a, b]), "from": from, "secs": secs, "to": to,
        }));
    }
    let input = serde_json::to_vec(&cases).unwrap();
    let out = crate::harness::python(JUDGE, &[], &input).await;
    let judged: Value = serde_json::from_slice(&out).unwrap();
    let results = judged["results"].as_array().unwrap();
    assert_eq!(results.len(), CASES);
    let mut checked = 0;
    for (case, want) in cases.iter().zip(results) {
        let country = case["country"].as_str().unwrap();
        let holidays = judged["holidays"][country]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap().parse().unwrap());
        let start = case["start"].as_u64().unwrap() as u16;
        let end = case["end"].as_u64().unwrap() as u16;
        let day = match case["lunch"].as_array() {
            Some(l) => {
                let (a, b) = (l[0].as_u64().unwrap() as u16, l[1].as_u64().unwrap() as u16);
                vec![Block::new(start, a).unwrap(), Block::new(b, end).unwrap()]
            }
            None => vec![Block::new(start, end).unwrap()],
        };
        let open: Vec<u64> = case["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap())
            .collect();
        let week = std::array::from_fn(|i| {
            if open.contains(&(i as u64)) {
                day.clone()
            } else {
                Vec::new()
            }
        });
        let zone = Zone::parse(case["zone"].as_str().unwrap()).unwrap();
        let cal = Calendar::new(zone, week, holidays, []).unwrap();
        let from = Timestamp(case["from"].as_i64().unwrap() * 1_000_000);
        let to = Timestamp(case["to"].as_i64().unwrap() * 1_000_000);
        let secs = case["secs"].as_i64().unwrap();
        let due = cal.add_open(from, secs).unwrap();
        assert_eq!(
            due.0 / 1_000_000,
            want["due"].as_i64().unwrap(),
            "due time differs (seed {seed}): {case}"
        );
        assert_eq!(
            cal.open_secs(from, to),
            want["diff"].as_i64().unwrap(),
            "open time differs (seed {seed}): {case}"
        );
        checked += 1;
    }
    assert_eq!(checked, CASES);
}
