//! The reports' figures over a period, read from the tickets, their SLA clocks and the
//! surveys: volume, first response and resolution times (in the business hours of the
//! ticket's SLA calendar, where its policy has one), SLA compliance, one-touch
//! resolution, CSAT, CES and NPS. Filters narrow them by team, channel, category or agent.

pub mod dashboard;
mod facts;
mod rolled;
pub mod rollup;
pub mod themes;

use std::collections::HashMap;

use rapport_domain::reports::{Period, Spread, spread};
use rapport_domain::sla::calendar::Calendar;
use rapport_domain::{Channel, Timestamp};

use crate::db::Conn;
use crate::error::Result;
use crate::value::Value;

/// What a report looks at.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// One team's tickets.
    pub team_id: Option<i64>,
    /// One channel's.
    pub channel: Option<Channel>,
    /// One category's (slug).
    pub category: Option<String>,
    /// One agent's (the ticket's owner; for surveys, the agent who had it).
    pub agent_id: Option<i64>,
}

impl Filter {
    /// ` AND …` conditions on tickets `t`, their values pushed onto `params`.
    pub(crate) fn on_tickets(&self, params: &mut Vec<Value>) -> String {
        self.conditions(params, "t.team_id", "t.assignee_id")
    }

    /// ` AND …` conditions: the team and the agent on the given columns, the channel and
    /// the category on the tickets `t` joined in; their values pushed onto `params`.
    pub(crate) fn conditions(&self, params: &mut Vec<Value>, team: &str, agent: &str) -> String {
        let mut sql = String::new();
        let mut add = |col: &str, v: Value| {
            params.push(v);
            sql.push_str(&format!(" AND {col} = ${}", params.len()));
        };
        if let Some(t) = self.team_id {
            add(team, t.into());
        }
        if let Some(c) = self.channel {
            add("t.channel", c.as_str().into());
        }
        if let Some(c) = &self.category {
            add("t.category", c.clone().into());
        }
        if let Some(a) = self.agent_id {
            add(agent, a.into());
        }
        sql
    }
}

/// The figures of one period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tickets created.
    pub volume: i64,
    /// Time to the first public reply of tickets created in the period (seconds).
    pub first_response: Option<Spread>,
    /// Time from creation to solving of tickets solved in the period (seconds).
    pub resolution: Option<Spread>,
    /// Of the tickets created in the period with SLA clocks: how many have no breached
    /// target, and how many there are.
    pub sla: (i64, i64),
    /// Of the tickets solved in the period: how many with exactly one public agent reply.
    pub one_touch: (i64, i64),
    /// CSAT ratings of ticket surveys answered in the period.
    pub csat: Vec<i64>,
    /// CES ratings.
    pub ces: Vec<i64>,
    /// NPS ratings.
    pub nps: Vec<i64>,
    /// Ticket surveys offered in the period.
    pub ticket_surveys_sent: i64,
    /// Of those, how many are answered by now (the response rate's cohort: an answer
    /// counts with the period its survey was sent in).
    pub ticket_surveys_answered: i64,
    /// NPS surveys offered in the period.
    pub nps_sent: i64,
    /// Of those, how many are answered by now.
    pub nps_answered: i64,
}

/// Every SLA policy's calendar (a policy without one counts calendar hours).
pub(crate) async fn calendars_by_policy(c: &mut dyn Conn) -> Result<HashMap<i64, Calendar>> {
    let cals: HashMap<i64, Calendar> = crate::sla::calendars::list(c)
        .await?
        .into_iter()
        .map(|r| (r.id, r.calendar))
        .collect();
    Ok(crate::sla::policies::list(c)
        .await?
        .into_iter()
        .filter_map(|p| Some((p.id, cals.get(&p.calendar_id?)?.clone())))
        .collect())
}

/// Seconds from `a` to `b` in the hours of the ticket's policy's calendar, or in calendar
/// hours.
pub(crate) fn duration(cals: &HashMap<i64, Calendar>, policy: Option<i64>, a: i64, b: i64) -> i64 {
    match policy.and_then(|p| cals.get(&p)) {
        Some(cal) => cal.open_secs(Timestamp(a), Timestamp(b)),
        None => (b - a).max(0) / 1_000_000,
    }
}

/// The figures of `period` under `filter`, as of `now` (an SLA target still running past
/// its due time counts as breached): from the roll-ups once they cover every ticket,
/// aggregated afresh until then.
pub async fn summary(
    c: &mut dyn Conn,
    period: &Period,
    filter: &Filter,
    now: Timestamp,
) -> Result<Summary> {
    if rollup::ready(c).await? {
        rolled::summary(c, period, filter, now).await
    } else {
        summary_fresh(c, period, filter, now).await
    }
}

/// [`summary`] aggregated afresh from the tables (what the roll-ups must equal).
pub async fn summary_fresh(
    c: &mut dyn Conn,
    period: &Period,
    filter: &Filter,
    now: Timestamp,
) -> Result<Summary> {
    let (start, end) = (period.start(), period.end());
    let cals = calendars_by_policy(c).await?;
    let mut s = Summary::default();

    let mut p: Vec<Value> = vec![start.into(), end.into()];
    let cond = filter.on_tickets(&mut p);
    s.volume = c
        .one(
            &format!(
                "SELECT COUNT(*) AS n FROM tickets t
                 WHERE t.created_at >= $1 AND t.created_at < $2{cond}"
            ),
            &p,
        )
        .await?
        .int("n")?;

    let rows = c
        .query(
            &format!(
                "SELECT t.created_at, t.first_response_at, ts.policy_id, ts.clocks
                 FROM tickets t LEFT JOIN ticket_sla ts ON ts.ticket_id = t.id
                 WHERE t.created_at >= $1 AND t.created_at < $2{cond}"
            ),
            &p,
        )
        .await?;
    let mut firsts = Vec::new();
    for r in &rows {
        let policy = r.opt_int("policy_id")?;
        if let Some(f) = r.opt_int("first_response_at")? {
            firsts.push(duration(&cals, policy, r.int("created_at")?, f));
        }
        if let Some(sla) = crate::sla::clocks::parse(r.opt_text("clocks")?)? {
            s.sla.1 += 1;
            if !sla.breached(now) {
                s.sla.0 += 1;
            }
        }
    }
    s.first_response = spread(firsts);

    let rows = c
        .query(
            &format!(
                "SELECT t.created_at, t.solved_at, ts.policy_id,
                        (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = t.id
                           AND m.author_kind = 'agent' AND m.internal = FALSE) AS replies
                 FROM tickets t LEFT JOIN ticket_sla ts ON ts.ticket_id = t.id
                 WHERE t.solved_at >= $1 AND t.solved_at < $2{cond}"
            ),
            &p,
        )
        .await?;
    let mut resolutions = Vec::new();
    for r in &rows {
        let (created, solved) = (r.int("created_at")?, r.int("solved_at")?);
        resolutions.push(duration(&cals, r.opt_int("policy_id")?, created, solved));
        s.one_touch.1 += 1;
        if r.int("replies")? == 1 {
            s.one_touch.0 += 1;
        }
    }
    s.resolution = spread(resolutions);

    // Surveys: by the agent and team who had the ticket, and the ticket's channel and
    // category.
    let mut p: Vec<Value> = vec![start.into(), end.into()];
    let cond = dashboard::survey_filter(filter, &mut p);
    let ticket_filtered = filter.channel.is_some() || filter.category.is_some();
    let rows = c
        .query(
            &format!(
                "SELECT s.kind, s.csat, s.ces, s.nps FROM surveys s
                 LEFT JOIN tickets t ON t.id = s.ticket_id
                 WHERE s.answered_at >= $1 AND s.answered_at < $2{cond}"
            ),
            &p,
        )
        .await?;
    for r in &rows {
        if let Some(v) = r.opt_int("csat")? {
            s.csat.push(v);
        }
        if let Some(v) = r.opt_int("ces")? {
            s.ces.push(v);
        }
        if let Some(v) = r.opt_int("nps")? {
            s.nps.push(v);
        }
    }
    let rows = c
        .query(
            &format!(
                "SELECT s.kind, COUNT(*) AS n,
                        COALESCE(SUM(CASE WHEN s.answered_at IS NOT NULL THEN 1 ELSE 0 END), 0)
                          AS answered
                 FROM surveys s
                 LEFT JOIN tickets t ON t.id = s.ticket_id
                 WHERE s.sent_at >= $1 AND s.sent_at < $2{cond}
                 GROUP BY s.kind"
            ),
            &p,
        )
        .await?;
    for r in &rows {
        let sent = (r.int("n")?, r.int("answered")?);
        match r.text("kind")?.as_str() {
            "ticket" => (s.ticket_surveys_sent, s.ticket_surveys_answered) = sent,
            _ if !ticket_filtered => (s.nps_sent, s.nps_answered) = sent,
            _ => {}
        }
    }
    for r in [&mut s.csat, &mut s.ces, &mut s.nps] {
        r.sort_unstable();
    }
    Ok(s)
}
