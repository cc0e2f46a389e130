//! Keeping the reports' roll-ups (see `rapport_domain::reports::rollup`): each subject's
//! facts are computed again when it changes, and the difference from the facts stored
//! before is applied to the cells, so the cells equal a fresh aggregation whatever order
//! the changes come in and however often a subject is refreshed.
//!
//! Who refreshes: the `reports` subscriber, for every ticket an event of the stream names;
//! and the writes that change what a report counts without a ticket event (SLA clocks
//! started, surveys offered, answered or withdrawn, NPS surveys) [`mark`] their subject,
//! drained by the subscriber and before every rolled-up read ([`drain`]). Every writer
//! first locks the one `report_rollup` row, so on PostgreSQL two nodes never apply the
//! same difference twice.
//!
//! A database that had tickets before the roll-ups existed is covered by [`rebuild_step`]
//! (the server runs it at start until done); until then the reports aggregate afresh.

use std::collections::{BTreeMap, HashMap};

use rapport_domain::reports::rollup::{CellKey, Facts, Metrics, changes};

use super::{calendars_by_policy, facts};
use crate::db::{Conn, Db};
use crate::dialect::row_lock;
use crate::error::{Result, StoreError};
use crate::op;
use crate::value::Value;

/// Subjects refreshed per rebuild step.
const REBUILD_CHUNK: i64 = 2_000;
/// Cells read or written per statement.
const CELL_CHUNK: usize = 300;
/// Dirty subjects taken per drain.
const DRAIN_CHUNK: i64 = 2_000;

/// What a roll-up refresh is about: tickets, and ticketless surveys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subjects {
    /// Ticket ids.
    pub tickets: Vec<i64>,
    /// Ids of NPS surveys (about no ticket).
    pub surveys: Vec<i64>,
}

impl Subjects {
    fn keys(&self) -> Vec<String> {
        self.tickets
            .iter()
            .map(|t| format!("t{t}"))
            .chain(self.surveys.iter().map(|s| format!("s{s}")))
            .collect()
    }
}

fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    postcard::to_allocvec(v).map_err(|e| StoreError::Db(format!("encoding a roll-up: {e}")))
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T> {
    postcard::from_bytes(b).map_err(|e| StoreError::Db(format!("decoding a roll-up: {e}")))
}

/// Locks the roll-up's state for this transaction and says whether the cells cover every
/// subject.
async fn lock(c: &mut dyn Conn) -> Result<bool> {
    let lock = row_lock(c.backend(), "r");
    c.one(
        &format!("SELECT r.built FROM report_rollup r WHERE r.id = 1{lock}"),
        &[],
    )
    .await?
    .bool("built")
}

/// Whether the reports can read the cells (every subject rolled up).
pub async fn ready(c: &mut dyn Conn) -> Result<bool> {
    c.one("SELECT built FROM report_rollup WHERE id = 1", &[])
        .await?
        .bool("built")
}

/// Marks a ticket to be refreshed (a write that changes what the reports count records
/// no event of its own).
pub async fn mark_ticket(c: &mut dyn Conn, ticket_id: i64) -> Result<()> {
    mark(c, &format!("t{ticket_id}")).await
}

/// Marks tickets to be refreshed, in one statement per 500 (in the order of their ids, as
/// every writer takes mark rows).
pub async fn mark_tickets(c: &mut dyn Conn, ids: &[i64]) -> Result<()> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(500) {
        let p: Vec<Value> = chunk.iter().map(|id| format!("t{id}").into()).collect();
        let rows: Vec<String> = (1..=p.len()).map(|i| format!("(${i})")).collect();
        c.execute(
            &format!(
                "INSERT INTO report_dirty (subject) VALUES {} {MARK}",
                rows.join(", ")
            ),
            &p,
        )
        .await?;
    }
    Ok(())
}

/// Marks a ticketless survey to be refreshed.
pub async fn mark_survey(c: &mut dyn Conn, survey_id: i64) -> Result<()> {
    mark(c, &format!("s{survey_id}")).await
}

/// A mark's insert. A subject marked already is touched, not left: the write then holds
/// the mark's row lock until it commits, and a drain — which takes only marks no write is
/// holding (`SKIP LOCKED`) — cannot take it away before the write's change is readable.
/// A write that marks after a drain took the mark waits for that drain to commit, then
/// marks afresh. (The drain never waits on a write, so the two cannot deadlock.)
const MARK: &str = "ON CONFLICT (subject) DO UPDATE SET subject = excluded.subject";

async fn mark(c: &mut dyn Conn, subject: &str) -> Result<()> {
    c.execute(
        &format!("INSERT INTO report_dirty (subject) VALUES ($1) {MARK}"),
        &[subject.into()],
    )
    .await?;
    Ok(())
}

/// Marks every ticket measured by the SLA policies whose `column` (`id` or
/// `calendar_id`) is `id`: their durations change with the calendar.
pub async fn mark_measured_by(c: &mut dyn Conn, column: &str, id: i64) -> Result<()> {
    let column = if column == "calendar_id" {
        "calendar_id"
    } else {
        "id"
    };
    c.execute(
        &format!(
            "INSERT INTO report_dirty (subject)
             SELECT 't' || CAST(m.ticket_id AS TEXT) FROM (
               SELECT DISTINCT ts.ticket_id FROM ticket_sla ts
               WHERE ts.policy_id IN (SELECT p.id FROM sla_policies p WHERE p.{column} = $1)
             ) m ORDER BY m.ticket_id
             {MARK}"
        ),
        &[id.into()],
    )
    .await?;
    Ok(())
}

/// Whether any subject is marked.
pub async fn any_dirty(c: &mut dyn Conn) -> Result<bool> {
    Ok(c.opt("SELECT subject FROM report_dirty LIMIT 1", &[])
        .await?
        .is_some())
}

/// Refreshes the marked subjects (a batch of them); returns how many. The marks are taken
/// away before the facts are read, and only marks no write in flight holds (see
/// [`MARK`]): a write's change is always read by the drain that takes its mark.
pub async fn drain(c: &mut dyn Conn) -> Result<usize> {
    lock(c).await?;
    let s = take_marks(c).await?;
    let n = s.tickets.len() + s.surveys.len();
    if n > 0 {
        apply(c, &s).await?;
    }
    Ok(n)
}

/// [`refresh`] and [`drain`] in one: `subjects` and a batch of the marked ones are
/// refreshed together, so a ticket both named by an event and marked (a new ticket whose
/// SLA clocks started) is computed once, not twice.
pub async fn refresh_and_drain(c: &mut dyn Conn, subjects: &Subjects) -> Result<()> {
    lock(c).await?;
    let marked = take_marks(c).await?;
    let mut tickets: std::collections::BTreeSet<i64> = subjects.tickets.iter().copied().collect();
    tickets.extend(marked.tickets);
    let mut surveys: std::collections::BTreeSet<i64> = subjects.surveys.iter().copied().collect();
    surveys.extend(marked.surveys);
    if tickets.is_empty() && surveys.is_empty() {
        return Ok(());
    }
    apply(
        c,
        &Subjects {
            tickets: tickets.into_iter().collect(),
            surveys: surveys.into_iter().collect(),
        },
    )
    .await
}

/// Takes away a batch of marks (those no write in flight holds) and says whose they were.
/// The caller holds the roll-up's lock and refreshes them in the same transaction.
async fn take_marks(c: &mut dyn Conn) -> Result<Subjects> {
    let rows = c
        .query(
            &format!(
                "SELECT subject FROM report_dirty ORDER BY subject LIMIT $1 {}",
                crate::dialect::skip_locked(c.backend())
            ),
            &[DRAIN_CHUNK.into()],
        )
        .await?;
    let mut s = Subjects::default();
    let mut taken: Vec<Value> = Vec::new();
    for r in &rows {
        let subject = r.text("subject")?;
        let id = subject.get(1..).and_then(|n| n.parse::<i64>().ok());
        match (subject.chars().next(), id) {
            (Some('t'), Some(id)) => s.tickets.push(id),
            (Some('s'), Some(id)) => s.surveys.push(id),
            _ => {}
        }
        taken.push(subject.into());
    }
    if taken.is_empty() {
        return Ok(s);
    }
    c.execute(
        &format!(
            "DELETE FROM report_dirty WHERE subject IN ({})",
            crate::dialect::placeholders(1, taken.len())
        ),
        &taken,
    )
    .await?;
    Ok(s)
}

/// Computes the facts of `subjects` again and applies the difference to the cells.
pub async fn refresh(c: &mut dyn Conn, subjects: &Subjects) -> Result<()> {
    if subjects.tickets.is_empty() && subjects.surveys.is_empty() {
        return Ok(());
    }
    lock(c).await?;
    apply(c, subjects).await
}

/// [`refresh`], the state already locked.
async fn apply(c: &mut dyn Conn, subjects: &Subjects) -> Result<()> {
    let cals = calendars_by_policy(c).await?;
    let mut new: HashMap<String, Facts> = HashMap::new();
    for chunk in subjects.tickets.chunks(500) {
        for (id, f) in facts::tickets(c, &cals, chunk).await? {
            new.insert(format!("t{id}"), f);
        }
    }
    for chunk in subjects.surveys.chunks(500) {
        for (id, f) in facts::surveys(c, chunk).await? {
            new.insert(format!("s{id}"), f);
        }
    }
    let keys = subjects.keys();
    let mut old: HashMap<String, Facts> = HashMap::new();
    for chunk in keys.chunks(500) {
        let p: Vec<Value> = chunk.iter().map(|k| k.as_str().into()).collect();
        for r in &c
            .query(
                &format!(
                    "SELECT subject, facts FROM report_facts WHERE subject IN ({})",
                    crate::dialect::placeholders(1, p.len())
                ),
                &p,
            )
            .await?
        {
            old.insert(r.text("subject")?, decode(&r.blob("facts")?)?);
        }
    }
    let mut delta: BTreeMap<CellKey, Metrics> = BTreeMap::new();
    let (mut upserts, mut gone) = (Vec::new(), Vec::new());
    for k in &keys {
        let (o, n) = (old.get(k), new.get(k));
        if o == n {
            continue;
        }
        for (cell, m) in changes(o, n) {
            delta.entry(cell).or_default().merge(&m, 1);
        }
        match n {
            Some(f) => upserts.push((k.clone(), encode(f)?)),
            None => gone.push(k.clone()),
        }
    }
    for chunk in upserts.chunks(200) {
        let mut p: Vec<Value> = Vec::new();
        let mut rows = Vec::new();
        for (k, b) in chunk {
            p.push(k.as_str().into());
            p.push(b.clone().into());
            rows.push(format!("(${}, ${})", p.len() - 1, p.len()));
        }
        c.execute(
            &format!(
                "INSERT INTO report_facts (subject, facts) VALUES {}
                 ON CONFLICT (subject) DO UPDATE SET facts = excluded.facts",
                rows.join(", ")
            ),
            &p,
        )
        .await?;
    }
    for chunk in gone.chunks(500) {
        let p: Vec<Value> = chunk.iter().map(|k| k.as_str().into()).collect();
        c.execute(
            &format!(
                "DELETE FROM report_facts WHERE subject IN ({})",
                crate::dialect::placeholders(1, p.len())
            ),
            &p,
        )
        .await?;
    }
    add_to_cells(c, delta).await
}

/// The key's columns in the order of `KEY`, as parameters, and their placeholders.
fn key_params(k: &CellKey, p: &mut Vec<Value>) -> String {
    p.push(k.grain().into());
    p.push(k.day.into());
    p.push(k.channel.as_str().into());
    p.push(k.category.as_str().into());
    p.push(k.team.into());
    p.push(k.agent.into());
    let n = p.len();
    format!(
        "(${}, ${}, ${}, ${}, ${}, ${}",
        n - 5,
        n - 4,
        n - 3,
        n - 2,
        n - 1,
        n
    )
}

/// A cell's key columns, in the order of the primary key.
const KEY: &str = "grain, day, channel, category, team_id, agent_id";

/// Adds `delta` to the cells (a cell left with nothing is removed).
async fn add_to_cells(c: &mut dyn Conn, delta: BTreeMap<CellKey, Metrics>) -> Result<()> {
    let delta: Vec<(CellKey, Metrics)> = delta.into_iter().collect();
    for chunk in delta.chunks(CELL_CHUNK) {
        let mut p: Vec<Value> = Vec::new();
        let keys: Vec<String> = chunk
            .iter()
            .map(|(k, _)| key_params(k, &mut p) + ")")
            .collect();
        let mut current: HashMap<CellKey, Metrics> = HashMap::new();
        for r in &c
            .query(
                &format!(
                    "SELECT {KEY}, m FROM report_cells WHERE ({KEY}) IN ({})",
                    keys.join(", ")
                ),
                &p,
            )
            .await?
        {
            let key = CellKey {
                day: r.int("day")?,
                channel: r.text("channel")?,
                category: r.text("category")?,
                team: r.int("team_id")?,
                agent: r.int("agent_id")?,
            };
            current.insert(key, decode(&r.blob("m")?)?);
        }
        let (mut put, mut put_p, mut drop, mut drop_p) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (k, d) in chunk {
            let mut m = current.remove(k).unwrap_or_default();
            m.merge(d, 1);
            if m.is_empty() {
                drop.push(key_params(k, &mut drop_p) + ")");
            } else {
                let row = key_params(k, &mut put_p);
                put_p.push(encode(&m)?.into());
                put.push(format!("{row}, ${})", put_p.len()));
            }
        }
        if !put.is_empty() {
            c.execute(
                &format!(
                    "INSERT INTO report_cells ({KEY}, m) VALUES {}
                     ON CONFLICT ({KEY}) DO UPDATE SET m = excluded.m",
                    put.join(", ")
                ),
                &put_p,
            )
            .await?;
        }
        if !drop.is_empty() {
            c.execute(
                &format!(
                    "DELETE FROM report_cells WHERE ({KEY}) IN ({})",
                    drop.join(", ")
                ),
                &drop_p,
            )
            .await?;
        }
    }
    Ok(())
}

/// One step of covering what existed before the roll-ups: refreshes the next tickets, then
/// the next ticketless surveys, and marks the roll-ups ready when none are left. Returns
/// whether it is done. Safe on several nodes at once (the state row is locked) and to
/// repeat (a refresh only applies differences).
pub async fn rebuild_step(c: &mut dyn Conn) -> Result<bool> {
    if lock(c).await? {
        return Ok(true);
    }
    // Tickets first, then NPS surveys: each kind's next ids after where the last step
    // stopped.
    for (kind, after, next) in [
        (
            "tickets",
            "ticket_after",
            "SELECT id FROM tickets WHERE id > $1 ORDER BY id LIMIT $2",
        ),
        (
            "surveys",
            "survey_after",
            "SELECT id FROM surveys WHERE kind = 'nps' AND id > $1 ORDER BY id LIMIT $2",
        ),
    ] {
        let from = c
            .one(
                &format!("SELECT {after} AS after FROM report_rollup WHERE id = 1"),
                &[],
            )
            .await?
            .int("after")?;
        let ids = c
            .query(next, &[from.into(), REBUILD_CHUNK.into()])
            .await?
            .iter()
            .map(|r| r.int("id"))
            .collect::<Result<Vec<i64>>>()?;
        let Some(last) = ids.last().copied() else {
            continue;
        };
        let subjects = if kind == "tickets" {
            Subjects {
                tickets: ids,
                surveys: Vec::new(),
            }
        } else {
            Subjects {
                tickets: Vec::new(),
                surveys: ids,
            }
        };
        apply(c, &subjects).await?;
        c.execute(
            &format!("UPDATE report_rollup SET {after} = $1 WHERE id = 1"),
            &[last.into()],
        )
        .await?;
        return Ok(false);
    }
    c.execute("UPDATE report_rollup SET built = TRUE WHERE id = 1", &[])
        .await?;
    Ok(true)
}

/// Throws the roll-ups away so they are built again from the tables (the benchmark,
/// after writing tickets straight into them; an operator, after repairing data by hand).
pub async fn reset(c: &mut dyn Conn) -> Result<()> {
    lock(c).await?;
    for sql in [
        "DELETE FROM report_cells",
        "DELETE FROM report_facts",
        "DELETE FROM report_dirty",
        "UPDATE report_rollup SET built = FALSE, ticket_after = 0, survey_after = 0 WHERE id = 1",
    ] {
        c.execute(sql, &[]).await?;
    }
    Ok(())
}

/// Covers every ticket and survey that existed before the roll-ups, a step per
/// transaction (the server runs it at start; the reports aggregate afresh until done).
pub async fn build(db: &Db) -> Result<()> {
    while !db.write(op!(c => rebuild_step(c).await)).await? {}
    Ok(())
}

/// Refreshes what writes marked since the stream last moved (one batch at most, so a
/// read never waits on a flood of marks — the background drain takes the rest): called
/// before a rolled-up read, so a survey answered a moment ago counts.
pub async fn catch_up(db: &Db) -> Result<()> {
    if db.read(op!(c => any_dirty(c).await)).await? {
        db.write(op!(c => drain(c).await)).await?;
    }
    Ok(())
}
