//! The reports read from the roll-ups' cells (see [`super::rollup`]): the same figures as
//! the fresh aggregation, summed over a period's days from the cells that fix the filtered
//! dimensions and leave the others open.

use std::collections::BTreeMap;

use rapport_domain::Timestamp;
use rapport_domain::reports::Period;
use rapport_domain::reports::rollup::{CellKey, Metrics, NO_ID, Tally, day_of, grain_of};

use super::dashboard::{Dashboard, Row};
use super::rollup::decode;
use super::{Filter, Summary};
use crate::db::Conn;
use crate::error::Result;
use crate::value::Value;

/// Which dimension a read breaks the figures down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Day,
    Channel,
    Category,
    Team,
    Agent,
}

/// The cells of `period` under `filter`, one per day and value of `by`.
async fn cells(
    c: &mut dyn Conn,
    period: &Period,
    filter: &Filter,
    by: By,
) -> Result<Vec<(CellKey, Metrics)>> {
    // Ids are positive; the cells keep 0 and -1 for "nobody" and "any".
    if filter.team_id.is_some_and(|t| t <= 0) || filter.agent_id.is_some_and(|a| a <= 0) {
        return Ok(Vec::new());
    }
    // The cells that fix the filtered dimensions and the broken-down one, and leave the
    // others open: one grain, so one range of the primary key per period.
    let grain = grain_of(
        filter.channel.is_some() || by == By::Channel,
        filter.category.is_some() || by == By::Category,
        filter.team_id.is_some() || by == By::Team,
        filter.agent_id.is_some() || by == By::Agent,
    );
    let mut p: Vec<Value> = vec![
        grain.into(),
        day_of(period.start().0).into(),
        day_of(period.end().0).into(),
    ];
    let mut sql = String::from(
        "SELECT channel, category, team_id, agent_id, day, m FROM report_cells
         WHERE grain = $1 AND day >= $2 AND day < $3",
    );
    let fixed = [
        ("channel", filter.channel.map(|c| c.as_str().into())),
        (
            "category",
            filter.category.as_ref().map(|c| c.as_str().into()),
        ),
        ("team_id", filter.team_id.map(Value::from)),
        ("agent_id", filter.agent_id.map(Value::from)),
    ];
    for (col, value) in fixed {
        if let Some(v) = value {
            p.push(v);
            sql.push_str(&format!(" AND {col} = ${}", p.len()));
        }
    }
    c.query(&sql, &p)
        .await?
        .iter()
        .map(|r| {
            Ok((
                CellKey {
                    day: r.int("day")?,
                    channel: r.text("channel")?,
                    category: r.text("category")?,
                    team: r.int("team_id")?,
                    agent: r.int("agent_id")?,
                },
                decode(&r.blob("m")?)?,
            ))
        })
        .collect()
}

/// Cells summed: the counts, and the durations in tallies (no histogram is merged).
#[derive(Default)]
struct Sum {
    m: Metrics,
    first: Tally,
    resolution: Tally,
    next: Tally,
}

impl Sum {
    fn add(&mut self, m: &Metrics) {
        self.m.merge_counts(m, 1);
        self.first.add(&m.first);
        self.resolution.add(&m.resolution);
        self.next.add(&m.next);
    }
}

/// Ratings counted by value, as the list of ratings.
fn ratings(counts: &[i64], low: i64) -> Vec<i64> {
    counts
        .iter()
        .enumerate()
        .flat_map(|(i, n)| std::iter::repeat_n(low + i as i64, usize::try_from(*n).unwrap_or(0)))
        .collect()
}

fn total(cells: &[(CellKey, Metrics)]) -> Sum {
    let mut sum = Sum::default();
    for (_, cell) in cells {
        sum.add(cell);
    }
    sum
}

/// The summary's figures from a period's totals.
fn summary_of(sum: &Sum, now: Timestamp, filter: &Filter) -> Summary {
    let ticket_filtered = filter.channel.is_some() || filter.category.is_some();
    let m = &sum.m;
    Summary {
        volume: m.created,
        first_response: sum.first.spread(),
        resolution: sum.resolution.spread(),
        sla: (m.sla_total - m.sla_breached_at(now.0), m.sla_total),
        one_touch: (m.one_touch, m.solved),
        csat: ratings(&m.csat, 1),
        ces: ratings(&m.ces, 1),
        nps: ratings(&m.nps, 0),
        ticket_surveys_sent: m.ticket_sent,
        ticket_surveys_answered: m.ticket_answered,
        nps_sent: if ticket_filtered { 0 } else { m.nps_sent },
        nps_answered: if ticket_filtered { 0 } else { m.nps_answered },
    }
}

/// The summary of `period` under `filter`, from the cells.
pub(crate) async fn summary(
    c: &mut dyn Conn,
    period: &Period,
    filter: &Filter,
    now: Timestamp,
) -> Result<Summary> {
    let cells = cells(c, period, filter, By::Day).await?;
    Ok(summary_of(&total(&cells), now, filter))
}

/// The dashboard's rolled-up parts (the backlog, deflection and names are read fresh by
/// the caller).
pub(crate) async fn dashboard(
    c: &mut dyn Conn,
    period: &Period,
    filter: &Filter,
) -> Result<Dashboard> {
    let daily = cells(c, period, filter, By::Day).await?;
    let first_day = day_of(period.start().0);
    let mut d = Dashboard::of_days(period);
    for (k, m) in &daily {
        if let Some(day) = usize::try_from(k.day - first_day)
            .ok()
            .and_then(|i| d.days.get_mut(i))
        {
            day.created += m.created;
            day.solved += m.solved;
        }
    }
    let t = total(&daily);
    d.next_response = t.next.spread();
    d.reopened = (t.m.reopened, t.m.solved);
    d.promises = (t.m.promises_kept, t.m.promises_due);

    let mut channels: BTreeMap<String, i64> = BTreeMap::new();
    for (k, m) in cells(c, period, filter, By::Channel).await? {
        *channels.entry(k.channel).or_default() += m.created;
    }
    d.channels = channels.into_iter().filter(|(_, n)| *n > 0).collect();
    let mut categories: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for (k, m) in cells(c, period, filter, By::Category).await? {
        let cat = Some(k.category).filter(|s| !s.is_empty());
        *categories.entry(cat).or_default() += m.created;
    }
    d.categories = categories.into_iter().filter(|(_, n)| *n > 0).collect();

    for (by, out) in [(By::Agent, &mut d.agents), (By::Team, &mut d.teams)] {
        let mut groups: BTreeMap<i64, Sum> = BTreeMap::new();
        for (k, m) in cells(c, period, filter, by).await? {
            let id = if by == By::Agent { k.agent } else { k.team };
            groups.entry(id).or_default().add(&m);
        }
        *out = groups
            .into_iter()
            .filter(|(_, s)| s.m.makes_a_row())
            .map(|(id, s)| Row {
                id: Some(id).filter(|i| *i != NO_ID),
                name: String::new(),
                solved: s.m.solved,
                reopened: s.m.reopened,
                first_response: s.first.spread(),
                resolution: s.resolution.spread(),
                csat: ratings(&s.m.csat, 1),
                promises_kept: s.m.promises_kept,
                promises_due: s.m.promises_due,
            })
            .collect();
    }
    Ok(d)
}
