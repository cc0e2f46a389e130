//! The reports' roll-ups: what each ticket (or ticketless NPS survey) adds to the figures
//! of each day, so a dashboard over a million tickets reads a few thousand summed cells
//! instead of every ticket.
//!
//! A subject's [`Facts`] are its contributions — one [`Item`] per day and set of
//! dimensions (channel, category, team, agent) it counts under. Each item is added to the
//! sixteen [`CellKey`]s of its day that leave any of the dimensions open ("any channel"),
//! so every combination of filters, and every breakdown under them, is a sum of cells.
//! When a subject changes, its facts are computed again and the difference is applied
//! ([`changes`]): the cells always equal the sum of every subject's current facts, which is
//! what a fresh aggregation computes.
//!
//! Durations are kept in [`Hist`]ograms at three significant figures (seconds below 1,000
//! exact; at most 1% under the measured value above), and every report — fresh or rolled
//! up — states them so: the two agree to the second.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Spread;

const DAY_MICROS: i64 = 86_400_000_000;

/// The last place [`ordinal`] gives (for `i64::MAX`); a stored place beyond it is not one.
const MAX_ORDINAL: usize = 1_000 + 15 * 900 + 899;

/// Seconds to their place in a histogram: exact below 1,000; above, the first three
/// significant figures (900 places per power of ten). Negative durations count as 0.
pub fn ordinal(secs: i64) -> u32 {
    let v = secs.max(0);
    if v < 1_000 {
        return v as u32;
    }
    let (mut lead, mut k) = (v, 0u32);
    while lead >= 1_000 {
        lead /= 10;
        k += 1;
    }
    1_000 + (k - 1) * 900 + (lead as u32 - 100)
}

/// The duration a histogram place stands for: the least value that falls in it.
pub fn of_ordinal(o: u32) -> i64 {
    if o < 1_000 {
        return i64::from(o);
    }
    let (k, lead) = ((o - 1_000) / 900 + 1, i64::from((o - 1_000) % 900 + 100));
    lead.saturating_mul(10i64.saturating_pow(k))
}

/// A duration as the reports state it: to three significant figures.
pub fn round_secs(secs: i64) -> i64 {
    of_ordinal(ordinal(secs))
}

/// Adds `sign` × `b` into the sorted, zero-free `a`.
fn merge_sorted<K: Ord + Copy>(a: &mut Vec<(K, i64)>, b: &[(K, i64)], sign: i64) {
    if b.is_empty() {
        return;
    }
    // One or a few entries into many (a ticket's due time into a day's cell, ticket after
    // ticket): each found by bisection and added in place, not the whole list written
    // again. More than a few are merged in one pass (shifting the tail once per entry would
    // cost more).
    if b.len() <= 4 && b.len() * 8 < a.len() {
        for (k, n) in b {
            match a.binary_search_by(|(x, _)| x.cmp(k)) {
                Ok(i) => {
                    a[i].1 += sign * n;
                    if a[i].1 == 0 {
                        a.remove(i);
                    }
                }
                Err(i) if *n != 0 => a.insert(i, (*k, sign * n)),
                Err(_) => {}
            }
        }
        return;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                i += 1;
                j += 1;
                (x.0, x.1 + sign * y.1)
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                i += 1;
                *x
            }
            (Some(x), None) => {
                i += 1;
                *x
            }
            (_, Some(y)) => {
                j += 1;
                (y.0, sign * y.1)
            }
            (None, None) => break,
        };
        if next.1 != 0 {
            out.push(next);
        }
    }
    *a = out;
}

/// Durations counted by [`ordinal`]: sorted places with their (non-zero) counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hist(pub Vec<(u32, i64)>);

impl Hist {
    /// Counts one duration (seconds).
    pub fn push(&mut self, secs: i64) {
        merge_sorted(&mut self.0, &[(ordinal(secs), 1)], 1);
    }

    /// Adds `sign` × `other`.
    pub fn merge(&mut self, other: &Hist, sign: i64) {
        merge_sorted(&mut self.0, &other.0, sign);
    }

    /// How many durations.
    pub fn count(&self) -> i64 {
        self.0.iter().map(|(_, n)| n).sum()
    }
}

/// Many histograms summed into one array (reading a period's cells).
#[derive(Debug, Clone, Default)]
pub struct Tally(Vec<i64>);

impl Tally {
    /// Adds a histogram.
    pub fn add(&mut self, h: &Hist) {
        for &(o, n) in &h.0 {
            let i = o as usize;
            if i > MAX_ORDINAL {
                continue;
            }
            if self.0.len() <= i {
                self.0.resize(i + 1, 0);
            }
            if let Some(slot) = self.0.get_mut(i) {
                *slot += n;
            }
        }
    }

    /// Counts one duration.
    pub fn push(&mut self, secs: i64) {
        self.add(&Hist(vec![(ordinal(secs), 1)]));
    }

    /// Median and 90th percentile by nearest rank (see [`super::nearest_rank`]), stated to
    /// three significant figures; `None` without any duration.
    pub fn spread(&self) -> Option<Spread> {
        let n: i64 = self.0.iter().sum();
        if n <= 0 {
            return None;
        }
        let at_rank = |p: i64| {
            let rank = ((n * p + 99) / 100).clamp(1, n);
            let mut seen = 0;
            for (o, c) in self.0.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return of_ordinal(o as u32);
                }
            }
            0
        };
        Some(Spread {
            median: at_rank(50),
            p90: at_rank(90),
            count: n as usize,
        })
    }
}

/// What one subject adds to one cell.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Tickets created.
    pub created: i64,
    /// Their first response times.
    pub first: Hist,
    /// Of them, those with SLA clocks.
    pub sla_total: i64,
    /// Of those, the ones whose targets are breached whatever the time.
    pub sla_breached: i64,
    /// And the ones with a target still running: breached once the time passes these
    /// instants (micros; sorted, with counts).
    pub sla_due: Vec<(i64, i64)>,
    /// Tickets solved (their latest solve).
    pub solved: i64,
    /// Of them, those reopened at some time.
    pub reopened: i64,
    /// Of them, those solved with one public agent reply.
    pub one_touch: i64,
    /// Their resolution times.
    pub resolution: Hist,
    /// Next response times of public agent replies.
    pub next: Hist,
    /// CSAT ratings answered, by rating 1–5.
    pub csat: [i64; 5],
    /// CES ratings, 1–7.
    pub ces: [i64; 7],
    /// NPS ratings, 0–10.
    pub nps: [i64; 11],
    /// Ticket surveys offered.
    pub ticket_sent: i64,
    /// Of them, answered by now.
    pub ticket_answered: i64,
    /// NPS surveys offered.
    pub nps_sent: i64,
    /// Of them, answered by now.
    pub nps_answered: i64,
    /// Promises due and kept.
    pub promises_kept: i64,
    /// Promises due and kept or broken.
    pub promises_due: i64,
}

impl Metrics {
    /// Adds `sign` × `o`.
    pub fn merge(&mut self, o: &Metrics, sign: i64) {
        self.first.merge(&o.first, sign);
        self.resolution.merge(&o.resolution, sign);
        self.next.merge(&o.next, sign);
        self.merge_counts(o, sign);
    }

    /// Adds `sign` × `o`, but for the three histograms (a reader sums those in a
    /// [`Tally`]).
    pub fn merge_counts(&mut self, o: &Metrics, sign: i64) {
        self.created += sign * o.created;
        self.sla_total += sign * o.sla_total;
        self.sla_breached += sign * o.sla_breached;
        merge_sorted(&mut self.sla_due, &o.sla_due, sign);
        self.solved += sign * o.solved;
        self.reopened += sign * o.reopened;
        self.one_touch += sign * o.one_touch;
        for (a, b) in self.csat.iter_mut().zip(o.csat) {
            *a += sign * b;
        }
        for (a, b) in self.ces.iter_mut().zip(o.ces) {
            *a += sign * b;
        }
        for (a, b) in self.nps.iter_mut().zip(o.nps) {
            *a += sign * b;
        }
        self.ticket_sent += sign * o.ticket_sent;
        self.ticket_answered += sign * o.ticket_answered;
        self.nps_sent += sign * o.nps_sent;
        self.nps_answered += sign * o.nps_answered;
        self.promises_kept += sign * o.promises_kept;
        self.promises_due += sign * o.promises_due;
    }

    /// Whether it adds nothing.
    pub fn is_empty(&self) -> bool {
        *self == Metrics::default()
    }

    /// Of the tickets with SLA clocks, those breached as of `now` (micros).
    pub fn sla_breached_at(&self, now: i64) -> i64 {
        self.sla_breached
            + self
                .sla_due
                .iter()
                .filter(|(due, _)| now > *due)
                .map(|(_, n)| n)
                .sum::<i64>()
    }

    /// Whether an agent or team row shows it: tickets created or solved, CSAT answers or
    /// promises due.
    pub fn makes_a_row(&self) -> bool {
        self.created != 0
            || self.solved != 0
            || self.csat.iter().any(|n| *n != 0)
            || self.promises_due != 0
    }
}

/// The dimensions a contribution counts under. `None` team or agent: nobody's; `None`
/// category: uncategorised. A ticketless contribution (an NPS answer) has no channel or
/// category: it counts only where those are left open.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dims {
    /// The ticket's channel (`None`: ticketless).
    pub channel: Option<String>,
    /// The ticket's category slug.
    pub category: Option<String>,
    /// The team.
    pub team: Option<i64>,
    /// The agent.
    pub agent: Option<i64>,
}

/// "Any channel" or "any category" in a cell's key.
pub const ANY_TEXT: &str = "*";
/// "Any team" or "any agent".
pub const ANY_ID: i64 = -1;
/// No team, no agent.
pub const NO_ID: i64 = 0;

/// One cell: a day and the dimensions, each a value or [`ANY_TEXT`]/[`ANY_ID`] (open).
/// An uncategorised ticket's category is the empty text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellKey {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// A channel, or any.
    pub channel: String,
    /// A category slug, "" (none), or any.
    pub category: String,
    /// A team id, [`NO_ID`], or any.
    pub team: i64,
    /// An agent id, [`NO_ID`], or any.
    pub agent: i64,
}

impl CellKey {
    /// Which dimensions the cell fixes, as bits: 1 channel, 2 category, 4 team, 8 agent.
    /// Cells of one grain and day are stored together, so a read of a period under some
    /// filters, broken down by one more dimension, scans only the cells it sums.
    pub fn grain(&self) -> i64 {
        grain_of(
            self.channel != ANY_TEXT,
            self.category != ANY_TEXT,
            self.team != ANY_ID,
            self.agent != ANY_ID,
        )
    }
}

/// The grain (see [`CellKey::grain`]) of cells that fix the dimensions given as `true`.
pub fn grain_of(channel: bool, category: bool, team: bool, agent: bool) -> i64 {
    i64::from(channel) | i64::from(category) << 1 | i64::from(team) << 2 | i64::from(agent) << 3
}

/// The day of an instant (micros): days since the Unix epoch, UTC.
pub fn day_of(micros: i64) -> i64 {
    micros.div_euclid(DAY_MICROS)
}

/// One contribution: a day, dimensions, and what they add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Days since the epoch.
    pub day: i64,
    /// Under which dimensions.
    pub dims: Dims,
    /// What it adds.
    pub m: Metrics,
}

/// Everything one subject contributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// Its items, one per day and dimensions.
    pub items: Vec<Item>,
}

impl Facts {
    /// Adds to the item of the day of `at` (micros) under `dims`.
    pub fn add(&mut self, at: i64, dims: &Dims, f: impl FnOnce(&mut Metrics)) {
        let day = day_of(at);
        let i = match self
            .items
            .iter()
            .position(|it| it.day == day && it.dims == *dims)
        {
            Some(i) => i,
            None => {
                self.items.push(Item {
                    day,
                    dims: dims.clone(),
                    m: Metrics::default(),
                });
                self.items.len() - 1
            }
        };
        if let Some(it) = self.items.get_mut(i) {
            f(&mut it.m);
        }
    }

    /// The cells its items count in, with what they add there.
    pub fn cells(&self) -> impl Iterator<Item = (CellKey, &Metrics)> {
        self.items.iter().flat_map(|it| {
            (0u8..16).filter_map(move |mask| {
                let open = |bit: u8| mask & bit == 0;
                let channel = match (&it.dims.channel, open(1)) {
                    (_, true) => ANY_TEXT.to_owned(),
                    (Some(c), false) => c.clone(),
                    (None, false) => return None,
                };
                let category = match (open(2), &it.dims.channel, &it.dims.category) {
                    (true, _, _) => ANY_TEXT.to_owned(),
                    (false, None, _) => return None,
                    (false, Some(_), c) => c.clone().unwrap_or_default(),
                };
                let id = |v: Option<i64>, bit: u8| {
                    if open(bit) {
                        ANY_ID
                    } else {
                        v.unwrap_or(NO_ID)
                    }
                };
                Some((
                    CellKey {
                        day: it.day,
                        channel,
                        category,
                        team: id(it.dims.team, 4),
                        agent: id(it.dims.agent, 8),
                    },
                    &it.m,
                ))
            })
        })
    }
}

/// What the cells must gain when a subject's facts go from `old` to `new` (cells whose
/// change is nothing left out).
pub fn changes(old: Option<&Facts>, new: Option<&Facts>) -> BTreeMap<CellKey, Metrics> {
    let mut out: BTreeMap<CellKey, Metrics> = BTreeMap::new();
    if old == new {
        return out;
    }
    for (facts, sign) in [(old, -1), (new, 1)] {
        for (key, m) in facts.into_iter().flat_map(|f| f.cells()) {
            out.entry(key).or_default().merge(m, sign);
        }
    }
    out.retain(|_, m| !m.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Adding sorted counts into sorted counts, in place (a few into many) or by a
        /// merge, gives what adding key by key in a map gives, with no zero left.
        #[test]
        fn sorted_counts_add_up(
            a in proptest::collection::btree_map(0i64..60, -3i64..4, 0..50),
            b in proptest::collection::btree_map(0i64..60, -3i64..4, 0..12),
            sign in proptest::sample::select(vec![-1i64, 1]),
        ) {
            let zero_free = |m: &BTreeMap<i64, i64>| -> Vec<(i64, i64)> {
                m.iter().filter(|(_, n)| **n != 0).map(|(k, n)| (*k, *n)).collect()
            };
            let (mut got, add) = (zero_free(&a), zero_free(&b));
            merge_sorted(&mut got, &add, sign);
            let mut want: BTreeMap<i64, i64> = got_map(&zero_free(&a));
            for (k, n) in &add {
                *want.entry(*k).or_default() += sign * n;
            }
            proptest::prop_assert_eq!(got, zero_free(&want));
        }
    }

    fn got_map(v: &[(i64, i64)]) -> BTreeMap<i64, i64> {
        v.iter().copied().collect()
    }

    #[test]
    fn durations_keep_three_significant_figures() {
        for (secs, kept) in [
            (0, 0),
            (-5, 0),
            (999, 999),
            (1_000, 1_000),
            (1_009, 1_000),
            (7_261, 7_260),
            (14_400, 14_400),
            (345_678, 345_000),
            (i64::MAX, 9_220_000_000_000_000_000),
        ] {
            assert_eq!(round_secs(secs), kept, "{secs}");
        }
        // Every place stands for the least value in it, and places keep the order.
        let mut last = 0;
        for o in 1..20_000 {
            let v = of_ordinal(o);
            if v == i64::MAX {
                break;
            }
            assert!(v > last, "{o}");
            assert_eq!(ordinal(v), o);
            assert_eq!(ordinal(v - 1), o - 1);
            last = v;
        }
    }

    #[test]
    fn a_tally_reads_percentiles_by_nearest_rank() {
        let mut t = Tally::default();
        for v in [50, 10, 40, 20, 30] {
            t.push(v);
        }
        let s = t.spread().unwrap();
        assert_eq!((s.median, s.p90, s.count), (30, 50, 5));
        assert_eq!(Tally::default().spread(), None);
    }

    #[test]
    fn changes_undo_the_old_facts_and_add_the_new() {
        let dims = Dims {
            channel: Some("email".into()),
            category: None,
            team: Some(3),
            agent: None,
        };
        let mut old = Facts::default();
        old.add(0, &dims, |m| {
            m.created = 1;
            m.first.push(60);
        });
        assert_eq!(old.cells().count(), 16);
        // Each of the sixteen fixes a different set of dimensions.
        let grains: std::collections::BTreeSet<i64> = old.cells().map(|(k, _)| k.grain()).collect();
        assert_eq!(grains, (0..16).collect());
        let both = old
            .cells()
            .find(|(k, _)| {
                k.channel == "email" && k.team == 3 && k.category == ANY_TEXT && k.agent == ANY_ID
            })
            .map(|(k, _)| k.grain());
        assert_eq!(both, Some(grain_of(true, false, true, false)));
        assert_eq!(both, Some(5));
        let mut new = old.clone();
        new.items[0].dims.agent = Some(7);
        let c = changes(Some(&old), Some(&new));
        // The cells that leave the agent open do not change; the eight that name it do
        // (nobody loses one, agent 7 gains one).
        assert_eq!(c.len(), 16);
        assert!(c.keys().all(|k| k.agent != ANY_ID));
        assert!(changes(Some(&old), Some(&old)).is_empty());
        let nps = Facts {
            items: vec![Item {
                day: 1,
                dims: Dims::default(),
                m: Metrics {
                    nps_sent: 1,
                    ..Metrics::default()
                },
            }],
        };
        // A ticketless answer counts only where channel and category are open.
        assert_eq!(nps.cells().count(), 4);
        assert!(
            nps.cells()
                .all(|(k, _)| k.channel == ANY_TEXT && k.category == ANY_TEXT)
        );
    }

    #[test]
    fn merging_back_leaves_nothing() {
        let mut h = Hist::default();
        for v in [5, 1_234, 5, 99_999] {
            h.push(v);
        }
        assert_eq!(h.count(), 4);
        let copy = h.clone();
        h.merge(&copy, -1);
        assert_eq!(h, Hist::default());
    }
}
