//! The dashboard's breakdowns of a period, beside the summary's figures: volume by day,
//! channel and category; next response time; the backlog and its age (now); the reopen
//! rate; promises kept; self-service deflection; and the per-agent and per-team tables
//! that put quality (CSAT, reopens, promises kept) beside speed.
//!
//! [`dashboard_fresh`] aggregates everything from the tickets, their messages, events,
//! surveys and promises, in the business hours of each ticket's SLA calendar where it has
//! one; [`dashboard`] reads the same from the roll-ups (see [`super::rollup`]).

use std::collections::{BTreeMap, HashMap};

use rapport_domain::Timestamp;
use rapport_domain::reports::{Period, Spread, spread};

use super::{Filter, calendars_by_policy, duration};
use crate::db::Conn;
use crate::error::Result;
use crate::value::Value;

const DAY_MICROS: i64 = 86_400_000_000;

/// The backlog's age groups: under a day, 1–3 days, 3–7 days, 7–30 days, older.
pub const AGE_GROUPS: [&str; 5] = ["< 1 day", "1–3 days", "3–7 days", "7–30 days", "> 30 days"];

/// The lower bounds of [`AGE_GROUPS`] after the first, in days.
const AGE_BOUNDS: [i64; 4] = [1, 3, 7, 30];

/// One day's volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    /// The day (UTC).
    pub day: chrono::NaiveDate,
    /// Tickets created on it.
    pub created: i64,
    /// Tickets solved on it (their latest solve).
    pub solved: i64,
}

/// One agent's or team's row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The agent's or team's id (`None`: nobody's — unassigned tickets).
    pub id: Option<i64>,
    /// Their name ("Unassigned" for nobody).
    pub name: String,
    /// Tickets solved in the period.
    pub solved: i64,
    /// Of those, how many had been reopened.
    pub reopened: i64,
    /// First response time of the tickets created in the period.
    pub first_response: Option<Spread>,
    /// Resolution time of the tickets solved.
    pub resolution: Option<Spread>,
    /// CSAT ratings answered in the period about their tickets.
    pub csat: Vec<i64>,
    /// Promises due in the period that were kept.
    pub promises_kept: i64,
    /// Promises due in the period that were kept or broken.
    pub promises_due: i64,
}

/// The dashboard's breakdowns of one period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dashboard {
    /// Every day of the period, in order.
    pub days: Vec<Day>,
    /// Tickets created by channel, most first.
    pub channels: Vec<(String, i64)>,
    /// Tickets created by category (`None`: none), most first.
    pub categories: Vec<(Option<String>, i64)>,
    /// Time from a customer's message after an agent's reply to the next agent reply, for
    /// the replies in the period (the first reply is the first response, not here).
    pub next_response: Option<Spread>,
    /// Unsolved tickets now (new, open, pending, on hold) by [`AGE_GROUPS`].
    pub backlog: [i64; 5],
    /// Of the tickets solved in the period: how many had been reopened, and how many.
    pub reopened: (i64, i64),
    /// Promises due in the period: kept, and kept or broken.
    pub promises: (i64, i64),
    /// Self-service: visits shown suggestions that ended without a request, and those
    /// plus the ones that sent a request anyway (not narrowed by the filters).
    pub deflection: (i64, i64),
    /// One row per agent with tickets in the period, the unassigned last.
    pub agents: Vec<Row>,
    /// One row per team, the team-less last.
    pub teams: Vec<Row>,
}

impl Dashboard {
    /// An empty dashboard with every day of `period`.
    pub(crate) fn of_days(period: &Period) -> Self {
        Self {
            days: period
                .days()
                .map(|day| Day {
                    day,
                    created: 0,
                    solved: 0,
                })
                .collect(),
            ..Self::default()
        }
    }
}

/// A reopen in the event stream: a status change away from `solved` (but not to
/// `closed`), as every path that changes a ticket's status records it.
pub(crate) const REOPENED: &str = "EXISTS (SELECT 1 FROM events e WHERE e.ticket_id = t.id
     AND e.data LIKE '%\"status\":{\"from\":\"solved\",\"to\":\"%'
     AND e.data NOT LIKE '%\"status\":{\"from\":\"solved\",\"to\":\"closed\"%')";

#[derive(Default)]
struct Acc {
    solved: i64,
    reopened: i64,
    firsts: Vec<i64>,
    resolutions: Vec<i64>,
    csat: Vec<i64>,
    promises_kept: i64,
    promises_due: i64,
}

impl Acc {
    fn row(mut self, id: Option<i64>, name: String) -> Row {
        self.csat.sort_unstable();
        Row {
            id,
            name,
            solved: self.solved,
            reopened: self.reopened,
            first_response: spread(self.firsts),
            resolution: spread(self.resolutions),
            csat: self.csat,
            promises_kept: self.promises_kept,
            promises_due: self.promises_due,
        }
    }
}

/// Rows by agent and by team, filled as the queries go.
#[derive(Default)]
struct People {
    agents: HashMap<Option<i64>, Acc>,
    teams: HashMap<Option<i64>, Acc>,
}

impl People {
    fn both(&mut self, agent: Option<i64>, team: Option<i64>, f: impl Fn(&mut Acc)) {
        f(self.agents.entry(agent).or_default());
        f(self.teams.entry(team).or_default());
    }
}

/// Names the rows and sorts them busiest first (by tickets solved, then first responses),
/// nobody's last.
fn named(mut out: Vec<Row>, names: &HashMap<i64, String>, nobody: &str) -> Vec<Row> {
    for r in &mut out {
        r.name = match r.id {
            Some(i) => names.get(&i).cloned().unwrap_or_else(|| format!("#{i}")),
            None => nobody.to_owned(),
        };
    }
    out.sort_by(|a, b| {
        (
            a.id.is_none(),
            -a.solved,
            -(a.first_response.map_or(0, |s| s.count as i64)),
        )
            .cmp(&(
                b.id.is_none(),
                -b.solved,
                -(b.first_response.map_or(0, |s| s.count as i64)),
            ))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// The dashboard of `period` under `filter`, as of `now`: from the roll-ups once they
/// cover every ticket, aggregated afresh until then. The backlog (now) and deflection are
/// always read fresh.
pub async fn dashboard(
    c: &mut dyn Conn,
    period: &Period,
    filter: &Filter,
    now: Timestamp,
) -> Result<Dashboard> {
    if super::rollup::ready(c).await? {
        let d = super::rolled::dashboard(c, period, filter).await?;
        finish(c, d, period, filter, now).await
    } else {
        dashboard_fresh(c, period, filter, now).await
    }
}

/// The breakdowns' order, the backlog, deflection and the rows' names.
async fn finish(
    c: &mut dyn Conn,
    mut d: Dashboard,
    period: &Period,
    filter: &Filter,
    now: Timestamp,
) -> Result<Dashboard> {
    d.channels
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    d.categories.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.is_none().cmp(&b.0.is_none()))
            .then_with(|| a.0.cmp(&b.0))
    });
    d.backlog = backlog(c, filter, now).await?;
    let (_, total) = crate::kb::reports::deflection(
        c,
        period.start(),
        period.end(),
        crate::kb::reports::Period::Week,
        now,
    )
    .await?;
    d.deflection = (total.deflected, total.deflected + total.submitted);
    let names = |rows: Vec<crate::value::Row>| -> Result<HashMap<i64, String>> {
        rows.iter()
            .map(|r| Ok((r.int("id")?, r.text("name")?)))
            .collect()
    };
    let users = names(c.query("SELECT id, name FROM users", &[]).await?)?;
    let teams = names(c.query("SELECT id, name FROM teams", &[]).await?)?;
    d.agents = named(std::mem::take(&mut d.agents), &users, "Unassigned");
    d.teams = named(std::mem::take(&mut d.teams), &teams, "No team");
    Ok(d)
}

/// The dashboard of `period` under `filter`, as of `now`, aggregated afresh from the
/// tables (what the roll-ups must equal).
pub async fn dashboard_fresh(
    c: &mut dyn Conn,
    period: &Period,
    filter: &Filter,
    now: Timestamp,
) -> Result<Dashboard> {
    let (start, end) = (period.start(), period.end());
    let cals = calendars_by_policy(c).await?;
    let mut d = Dashboard::of_days(period);
    let day_of = |at: i64| usize::try_from((at - start.0).div_euclid(DAY_MICROS)).ok();
    let mut people = People::default();

    let mut p: Vec<Value> = vec![start.into(), end.into()];
    let cond = filter.on_tickets(&mut p);
    let created = c
        .query(
            &format!(
                "SELECT t.created_at, t.first_response_at, t.channel, t.category, t.team_id,
                        t.assignee_id, ts.policy_id
                 FROM tickets t LEFT JOIN ticket_sla ts ON ts.ticket_id = t.id
                 WHERE t.created_at >= $1 AND t.created_at < $2{cond}"
            ),
            &p,
        )
        .await?;
    let mut channels: BTreeMap<String, i64> = BTreeMap::new();
    let mut categories: BTreeMap<Option<String>, i64> = BTreeMap::new();
    for r in &created {
        let at = r.int("created_at")?;
        if let Some(day) = day_of(at).and_then(|i| d.days.get_mut(i)) {
            day.created += 1;
        }
        *channels.entry(r.text("channel")?).or_default() += 1;
        *categories.entry(r.opt_text("category")?).or_default() += 1;
        let (agent, team) = (r.opt_int("assignee_id")?, r.opt_int("team_id")?);
        if let Some(f) = r.opt_int("first_response_at")? {
            let secs = duration(&cals, r.opt_int("policy_id")?, at, f);
            people.both(agent, team, |a| a.firsts.push(secs));
        } else {
            people.both(agent, team, |_| {});
        }
    }
    d.channels = channels.into_iter().collect();
    d.categories = categories.into_iter().collect();

    let solved = c
        .query(
            &format!(
                "SELECT t.created_at, t.solved_at, t.team_id, t.assignee_id, ts.policy_id,
                        CASE WHEN {REOPENED} THEN 1 ELSE 0 END AS reopened
                 FROM tickets t LEFT JOIN ticket_sla ts ON ts.ticket_id = t.id
                 WHERE t.solved_at >= $1 AND t.solved_at < $2{cond}"
            ),
            &p,
        )
        .await?;
    for r in &solved {
        let at = r.int("solved_at")?;
        if let Some(day) = day_of(at).and_then(|i| d.days.get_mut(i)) {
            day.solved += 1;
        }
        let secs = duration(&cals, r.opt_int("policy_id")?, r.int("created_at")?, at);
        let reopened = r.int("reopened")? != 0;
        d.reopened.1 += 1;
        d.reopened.0 += i64::from(reopened);
        people.both(r.opt_int("assignee_id")?, r.opt_int("team_id")?, |a| {
            a.solved += 1;
            a.reopened += i64::from(reopened);
            a.resolutions.push(secs);
        });
    }

    d.next_response = spread(next_responses(c, &cals, start, end, filter).await?);

    // Surveys: the agent and team who had the ticket.
    let mut p: Vec<Value> = vec![start.into(), end.into()];
    let cond = survey_filter(filter, &mut p);
    for r in &c
        .query(
            &format!(
                "SELECT s.agent_id, s.team_id, s.csat FROM surveys s
                 LEFT JOIN tickets t ON t.id = s.ticket_id
                 WHERE s.answered_at >= $1 AND s.answered_at < $2 AND s.csat IS NOT NULL{cond}"
            ),
            &p,
        )
        .await?
    {
        let v = r.int("csat")?;
        people.both(r.opt_int("agent_id")?, r.opt_int("team_id")?, |a| {
            a.csat.push(v)
        });
    }

    // Promises: whoever made them, due in the period and settled.
    let mut p: Vec<Value> = vec![start.into(), end.into()];
    let cond = promise_filter(filter, &mut p);
    for r in &c
        .query(
            &format!(
                "SELECT p.user_id, p.team_id, p.state FROM promises p
                 JOIN tickets t ON t.id = p.ticket_id
                 WHERE p.due_at >= $1 AND p.due_at < $2 AND p.state IN ('kept', 'broken'){cond}"
            ),
            &p,
        )
        .await?
    {
        let kept = i64::from(r.text("state")? == "kept");
        d.promises.0 += kept;
        d.promises.1 += 1;
        people.both(Some(r.int("user_id")?), r.opt_int("team_id")?, |a| {
            a.promises_kept += kept;
            a.promises_due += 1;
        });
    }

    d.agents = people
        .agents
        .into_iter()
        .map(|(id, acc)| acc.row(id, String::new()))
        .collect();
    d.teams = people
        .teams
        .into_iter()
        .map(|(id, acc)| acc.row(id, String::new()))
        .collect();
    finish(c, d, period, filter, now).await
}

/// Unsolved tickets now (new, open, pending, on hold) under `filter`, by [`AGE_GROUPS`].
async fn backlog(c: &mut dyn Conn, filter: &Filter, now: Timestamp) -> Result<[i64; 5]> {
    let mut p: Vec<Value> = Vec::new();
    // `+`: the team and agent are checked in the `tickets_backlog` index, which holds the
    // unsolved tickets only, rather than looked up through their own indexes.
    let cond = filter.conditions(&mut p, "+t.team_id", "+t.assignee_id");
    let mut sums = String::new();
    for (i, days) in AGE_BOUNDS.iter().enumerate() {
        p.push((now.0 - days * DAY_MICROS).into());
        sums.push_str(&format!(
            ", COALESCE(SUM(CASE WHEN t.created_at <= ${} THEN 1 ELSE 0 END), 0) AS older{i}",
            p.len()
        ));
    }
    let r = c
        .one(
            &format!(
                "SELECT COUNT(*) AS n{sums} FROM tickets t{index}
                 WHERE t.status IN ('new', 'open', 'pending', 'on-hold'){cond}",
                // SQLite's planner, from its plain statistics (built without STAT4: see
                // ARCHITECTURE), would take a status index and look up every row.
                index = crate::dialect::indexed_by(c.backend(), "tickets_backlog"),
            ),
            &p,
        )
        .await?;
    // `older{i}`: at least AGE_BOUNDS[i] days old; each group is the difference.
    let mut at_least = [r.int("n")?, 0, 0, 0, 0, 0];
    for i in 0..AGE_BOUNDS.len() {
        at_least[i + 1] = r.int(format!("older{i}").as_str())?;
    }
    let mut out = [0; 5];
    for (i, group) in out.iter_mut().enumerate() {
        *group = at_least[i] - at_least[i + 1];
    }
    Ok(out)
}

/// ` AND …` conditions on surveys `s` joined to their tickets `t` (the summary's, the
/// dashboard's and the themes'): the agent and team who had the ticket.
pub(crate) fn survey_filter(filter: &Filter, p: &mut Vec<Value>) -> String {
    let mut sql = filter.conditions(p, "s.team_id", "s.agent_id");
    // An NPS survey is about no ticket's channel or category (a detractor's follow-up
    // ticket is not what they rated).
    if filter.channel.is_some() || filter.category.is_some() {
        sql.push_str(" AND s.kind = 'ticket'");
    }
    sql
}

/// ` AND …` conditions on promises `p` joined to their tickets `t`: who made them.
fn promise_filter(filter: &Filter, p: &mut Vec<Value>) -> String {
    filter.conditions(p, "p.team_id", "p.user_id")
}

/// The next response times of the agents' public replies in `[start, end)`: each from
/// the customer's first message after the agent's previous public reply. (A ticket with a
/// reply in the period was updated since its start: `tickets_updated` finds them.)
async fn next_responses(
    c: &mut dyn Conn,
    cals: &HashMap<i64, rapport_domain::sla::calendar::Calendar>,
    start: Timestamp,
    end: Timestamp,
    filter: &Filter,
) -> Result<Vec<i64>> {
    let mut p: Vec<Value> = vec![start.into(), end.into()];
    let cond = filter.on_tickets(&mut p);
    let rows = c
        .query(
            &format!(
                "SELECT m.ticket_id, m.author_kind, m.created_at, ts.policy_id
                 FROM messages m JOIN tickets t ON t.id = m.ticket_id
                 LEFT JOIN ticket_sla ts ON ts.ticket_id = t.id
                 WHERE m.internal = FALSE AND m.created_at < $2
                   AND m.author_kind IN ('agent', 'customer')
                   AND t.updated_at >= $1
                   AND t.id IN (SELECT r.ticket_id FROM messages r
                                WHERE r.created_at >= $1 AND r.created_at < $2
                                  AND r.author_kind = 'agent' AND r.internal = FALSE){cond}
                 ORDER BY m.ticket_id, m.created_at, m.id"
            ),
            &p,
        )
        .await?;
    let mut out = Vec::new();
    let mut ticket = None;
    let (mut answered, mut waiting) = (false, None::<i64>);
    for r in &rows {
        let id = r.int("ticket_id")?;
        if ticket != Some(id) {
            (ticket, answered, waiting) = (Some(id), false, None);
        }
        let at = r.int("created_at")?;
        if r.text("author_kind")? == "customer" {
            if answered && waiting.is_none() {
                waiting = Some(at);
            }
            continue;
        }
        if let Some(w) = waiting.take()
            && at >= start.0
        {
            out.push(duration(cals, r.opt_int("policy_id")?, w, at));
        }
        answered = true;
    }
    Ok(out)
}
