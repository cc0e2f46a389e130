//! What each ticket, and each ticketless (NPS) survey, contributes to the reports —
//! computed from the same tables and by the same rules as the fresh aggregation in
//! [`super::summary`] and [`super::dashboard`]: a ticket counts on the day it was created
//! (volume, first response, SLA), the day of its latest solve (resolution, reopens, one
//! touch), the day of each public agent reply (next response), under its current channel,
//! category, team and owner; a survey under the agent and team who had the ticket, on the
//! day it was sent (response rates) and answered (ratings); a promise under whoever made
//! it, on the day it fell due.

use std::collections::HashMap;

use rapport_domain::reports::rollup::{Dims, Facts};
use rapport_domain::sla::calendar::Calendar;

use super::dashboard::REOPENED;
use super::duration;
use crate::db::Conn;
use crate::error::Result;
use crate::value::{Row, Value};

/// `$1, $2, …` for `n` parameters.
fn list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The facts of the tickets `ids` (a ticket that no longer exists has none).
pub(crate) async fn tickets(
    c: &mut dyn Conn,
    cals: &HashMap<i64, Calendar>,
    ids: &[i64],
) -> Result<HashMap<i64, Facts>> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let p: Vec<Value> = ids.iter().map(|i| (*i).into()).collect();
    let ins = list(ids.len());
    let tickets = c
        .query(
            &format!(
                "SELECT t.id, t.channel, t.category, t.team_id, t.assignee_id, t.created_at,
                        t.first_response_at, t.solved_at, ts.policy_id, ts.clocks,
                        CASE WHEN t.solved_at IS NOT NULL AND {REOPENED} THEN 1 ELSE 0 END
                          AS reopened
                 FROM tickets t LEFT JOIN ticket_sla ts ON ts.ticket_id = t.id
                 WHERE t.id IN ({ins})"
            ),
            &p,
        )
        .await?;
    let messages = c
        .query(
            &format!(
                "SELECT m.ticket_id, m.author_kind, m.created_at FROM messages m
                 WHERE m.ticket_id IN ({ins}) AND m.internal = FALSE
                   AND m.author_kind IN ('agent', 'customer')
                 ORDER BY m.ticket_id, m.created_at, m.id"
            ),
            &p,
        )
        .await?;
    let mut by_ticket: HashMap<i64, Vec<&Row>> = HashMap::new();
    for m in &messages {
        by_ticket.entry(m.int("ticket_id")?).or_default().push(m);
    }
    let surveys = c
        .query(
            &format!(
                "SELECT ticket_id, kind, agent_id, team_id, sent_at, answered_at, csat, ces, nps
                 FROM surveys WHERE ticket_id IN ({ins}) AND kind = 'ticket' ORDER BY id"
            ),
            &p,
        )
        .await?;
    let promises = c
        .query(
            &format!(
                "SELECT ticket_id, user_id, team_id, due_at, state FROM promises
                 WHERE ticket_id IN ({ins}) AND state IN ('kept', 'broken') ORDER BY id"
            ),
            &p,
        )
        .await?;

    let mut dims_of: HashMap<i64, Dims> = HashMap::new();
    for t in &tickets {
        let id = t.int("id")?;
        let dims = Dims {
            channel: Some(t.text("channel")?),
            category: t.opt_text("category")?,
            team: t.opt_int("team_id")?,
            agent: t.opt_int("assignee_id")?,
        };
        let policy = t.opt_int("policy_id")?;
        let created = t.int("created_at")?;
        let mut f = Facts::default();
        let first = t
            .opt_int("first_response_at")?
            .map(|at| duration(cals, policy, created, at));
        let sla = crate::sla::clocks::parse(t.opt_text("clocks")?)?;
        f.add(created, &dims, |m| {
            m.created = 1;
            if let Some(secs) = first {
                m.first.push(secs);
            }
            if let Some(sla) = &sla {
                m.sla_total = 1;
                match breached_from(sla) {
                    Some(i64::MIN) => m.sla_breached = 1,
                    Some(due) => m.sla_due = vec![(due, 1)],
                    None => {}
                }
            }
        });
        let msgs = by_ticket.remove(&id).unwrap_or_default();
        if let Some(solved) = t.opt_int("solved_at")? {
            let secs = duration(cals, policy, created, solved);
            let replies = msgs
                .iter()
                .filter(|m| m.text("author_kind").is_ok_and(|k| k == "agent"))
                .count();
            let reopened = t.int("reopened")? != 0;
            f.add(solved, &dims, |m| {
                m.solved = 1;
                m.reopened = i64::from(reopened);
                m.one_touch = i64::from(replies == 1);
                m.resolution.push(secs);
            });
        }
        // Next responses: each public agent reply after the first, from the customer's
        // first message after the reply before.
        let (mut answered, mut waiting) = (false, None::<i64>);
        for m in msgs {
            let at = m.int("created_at")?;
            if m.text("author_kind")? == "customer" {
                if answered && waiting.is_none() {
                    waiting = Some(at);
                }
                continue;
            }
            if let Some(w) = waiting.take() {
                let secs = duration(cals, policy, w, at);
                f.add(at, &dims, |m| m.next.push(secs));
            }
            answered = true;
        }
        dims_of.insert(id, dims);
        out.insert(id, f);
    }
    for s in &surveys {
        let ticket = s.int("ticket_id")?;
        let (Some(f), Some(tdims)) = (out.get_mut(&ticket), dims_of.get(&ticket)) else {
            continue;
        };
        let dims = Dims {
            team: s.opt_int("team_id")?,
            agent: s.opt_int("agent_id")?,
            ..tdims.clone()
        };
        survey(f, s, dims)?;
    }
    for p in &promises {
        let ticket = p.int("ticket_id")?;
        let (Some(f), Some(tdims)) = (out.get_mut(&ticket), dims_of.get(&ticket)) else {
            continue;
        };
        let dims = Dims {
            team: p.opt_int("team_id")?,
            agent: Some(p.int("user_id")?),
            ..tdims.clone()
        };
        let kept = i64::from(p.text("state")? == "kept");
        f.add(p.int("due_at")?, &dims, |m| {
            m.promises_kept += kept;
            m.promises_due += 1;
        });
    }
    Ok(out)
}

/// The facts of the NPS surveys `ids` (about no ticket, even once a detractor's answer
/// opened one; a survey withdrawn since has none).
pub(crate) async fn surveys(c: &mut dyn Conn, ids: &[i64]) -> Result<HashMap<i64, Facts>> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let p: Vec<Value> = ids.iter().map(|i| (*i).into()).collect();
    let rows = c
        .query(
            &format!(
                "SELECT id, kind, agent_id, team_id, sent_at, answered_at, csat, ces, nps
                 FROM surveys WHERE id IN ({}) AND kind = 'nps'",
                list(ids.len())
            ),
            &p,
        )
        .await?;
    for s in &rows {
        let mut f = Facts::default();
        let dims = Dims {
            channel: None,
            category: None,
            team: s.opt_int("team_id")?,
            agent: s.opt_int("agent_id")?,
        };
        survey(&mut f, s, dims)?;
        out.insert(s.int("id")?, f);
    }
    Ok(out)
}

/// A survey's contribution: offered on the day it was sent (and answered by now, for the
/// response rate), its ratings on the day it was answered.
fn survey(f: &mut Facts, s: &Row, dims: Dims) -> Result<()> {
    let ticket = s.text("kind")? == "ticket";
    let answered = s.opt_int("answered_at")?;
    f.add(s.int("sent_at")?, &dims, |m| {
        let n = i64::from(answered.is_some());
        if ticket {
            (m.ticket_sent, m.ticket_answered) = (1, n);
        } else {
            (m.nps_sent, m.nps_answered) = (1, n);
        }
    });
    if let Some(at) = answered {
        let (csat, ces, nps) = (s.opt_int("csat")?, s.opt_int("ces")?, s.opt_int("nps")?);
        f.add(at, &dims, |m| {
            let count = |slots: &mut [i64], v: Option<i64>, low: i64| {
                if let Some(slot) = v
                    .and_then(|v| usize::try_from(v - low).ok())
                    .and_then(|i| slots.get_mut(i))
                {
                    *slot += 1;
                }
            };
            count(&mut m.csat, csat, 1);
            count(&mut m.ces, ces, 1);
            count(&mut m.nps, nps, 0);
        });
    }
    Ok(())
}

/// When a ticket's SLA counts as breached: `i64::MIN` if it already is whatever the time
/// (a target met late, or paused past its time); the instant after which a running target
/// is overdue; `None` if it cannot be breached without a change to the ticket (which
/// computes its facts again).
fn breached_from(sla: &rapport_domain::sla::clock::TicketSla) -> Option<i64> {
    use rapport_domain::sla::clock::Clock;
    if sla.breached(rapport_domain::Timestamp(i64::MIN)) {
        return Some(i64::MIN);
    }
    [sla.first_response, sla.next_response, sla.resolution]
        .iter()
        .filter_map(|c| match c {
            Clock::Running { due_at } => Some(due_at.0),
            _ => None,
        })
        .min()
}
