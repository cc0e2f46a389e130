//! Promises on tickets: made by an agent with a due time, the owner reminded before it,
//! kept when done by then, broken when it passes first; counted per agent and team.

use rapport_domain::promise::{PromiseState, PromiseText, reminder_at};
use rapport_domain::{EventKind, FieldError, Timestamp, Viewer};
use serde_json::json;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::value::Row;

/// A promise.
#[derive(Debug, Clone)]
pub struct Promise {
    /// Its id.
    pub id: i64,
    /// The ticket it was made on.
    pub ticket_id: i64,
    /// Who made it (and keeps it).
    pub user_id: i64,
    /// What was promised.
    pub text: String,
    /// By when.
    pub due_at: Timestamp,
    /// Open, kept or broken.
    pub state: PromiseState,
    /// When it was done.
    pub done_at: Option<Timestamp>,
    /// When it was made.
    pub created_at: Timestamp,
}

const COLS: &str = "id, ticket_id, user_id, text, due_at, state, done_at, created_at";

fn from_row(r: &Row) -> Result<Promise> {
    Ok(Promise {
        id: r.int("id")?,
        ticket_id: r.int("ticket_id")?,
        user_id: r.int("user_id")?,
        text: r.text("text")?,
        due_at: Timestamp(r.int("due_at")?),
        state: PromiseState::parse(&r.text("state")?)
            .ok_or_else(|| StoreError::Db("bad stored promise state".into()))?,
        done_at: r.opt_int("done_at")?.map(Timestamp),
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// Records a promise the agent makes on a ticket they may work, due after now and within
/// a year.
pub async fn make(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
    text: &PromiseText,
    due_at: Timestamp,
    now: Timestamp,
) -> Result<Promise> {
    let t = crate::tickets::get_for_agent(c, viewer, ticket_id).await?;
    if due_at <= now || due_at > now.plus_secs(366 * 86_400) {
        return Err(FieldError::new("due_at", "must be in the future, within a year").into());
    }
    let row = c
        .one(
            "INSERT INTO promises (ticket_id, user_id, team_id, text, due_at, remind_at, state,
                                   created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) RETURNING id",
            &[
                ticket_id.into(),
                viewer.user_id.into(),
                t.team_id.into(),
                text.as_str().into(),
                due_at.into(),
                reminder_at(now, due_at).into(),
                now.into(),
            ],
        )
        .await?;
    let id = row.int("id")?;
    events::record(
        c,
        ticket_id,
        Actor::User(viewer.user_id),
        EventKind::PromiseMade,
        &json!({"promise_id": id, "text": text.as_str(), "due_at": due_at}),
        now,
    )
    .await?;
    get(c, id).await
}

async fn get(c: &mut dyn Conn, id: i64) -> Result<Promise> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM promises WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("promise"))?;
    from_row(&r)
}

/// A ticket's promises, oldest first.
pub async fn for_ticket(c: &mut dyn Conn, viewer: &Viewer, ticket_id: i64) -> Result<Vec<Promise>> {
    crate::tickets::get_for_agent(c, viewer, ticket_id).await?;
    c.query(
        &format!("SELECT {COLS} FROM promises WHERE ticket_id = $1 ORDER BY id"),
        &[ticket_id.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Marks a promise done at `now`: kept when by its due time, else broken (an open one past
/// its due time that the pass has not reached yet is broken too). Done twice is a conflict.
pub async fn done(c: &mut dyn Conn, viewer: &Viewer, id: i64, now: Timestamp) -> Result<Promise> {
    let p = get(c, id).await?;
    crate::tickets::get_for_agent(c, viewer, p.ticket_id).await?;
    if p.done_at.is_some() {
        return Err(StoreError::Conflict(
            "this promise was already marked done".into(),
        ));
    }
    let state = match p.state {
        PromiseState::Open => PromiseState::when_done(p.due_at, now),
        other => other,
    };
    c.execute(
        "UPDATE promises SET state = $1, done_at = $2, remind_at = NULL WHERE id = $3",
        &[state.as_str().into(), now.into(), id.into()],
    )
    .await?;
    if p.state == PromiseState::Open {
        let kind = if state == PromiseState::Kept {
            EventKind::PromiseKept
        } else {
            EventKind::PromiseBroken
        };
        events::record(
            c,
            p.ticket_id,
            Actor::User(viewer.user_id),
            kind,
            &json!({"promise_id": id, "text": p.text, "due_at": p.due_at}),
            now,
        )
        .await?;
    }
    get(c, id).await
}

/// Reminds owners of promises coming due (a `promise_due` event) and breaks open promises
/// whose due time passed (`promise_broken`), at most `limit` of each; reads only what the
/// `remind_at` and open-due indexes say is due. Returns how many events it recorded.
pub async fn settle_due(c: &mut dyn Conn, now: Timestamp, limit: i64) -> Result<usize> {
    let lock = crate::dialect::claim_lock(c.backend());
    let mut n = 0;
    let due = c
        .query(
            &format!(
                "SELECT {COLS} FROM promises WHERE remind_at IS NOT NULL AND remind_at <= $1
                 ORDER BY remind_at LIMIT $2 {lock}"
            ),
            &[now.into(), limit.into()],
        )
        .await?;
    for r in &due {
        let p = from_row(r)?;
        c.execute(
            "UPDATE promises SET remind_at = NULL WHERE id = $1",
            &[p.id.into()],
        )
        .await?;
        if p.state == PromiseState::Open && p.due_at > now {
            events::record(
                c,
                p.ticket_id,
                Actor::System,
                EventKind::PromiseDue,
                &json!({"promise_id": p.id, "text": p.text, "due_at": p.due_at, "user_id": p.user_id}),
                now,
            )
            .await?;
            n += 1;
        }
    }
    let broken = c
        .query(
            &format!(
                "SELECT {COLS} FROM promises WHERE state = 'open' AND due_at < $1
                 ORDER BY due_at LIMIT $2 {lock}"
            ),
            &[now.into(), limit.into()],
        )
        .await?;
    for r in &broken {
        let p = from_row(r)?;
        c.execute(
            "UPDATE promises SET state = 'broken', remind_at = NULL WHERE id = $1",
            &[p.id.into()],
        )
        .await?;
        events::record(
            c,
            p.ticket_id,
            Actor::System,
            EventKind::PromiseBroken,
            &json!({"promise_id": p.id, "text": p.text, "due_at": p.due_at, "user_id": p.user_id}),
            now,
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

/// Kept, broken and open promises of one agent or team.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Done by their due time.
    pub kept: i64,
    /// Due time passed first.
    pub broken: i64,
    /// Not yet due nor done.
    pub open: i64,
}

/// Promises made from `since` to `until`, counted per agent (`user_id`) and per team
/// (`team_id`, the ticket's team when it was made; `None`: no team).
pub async fn report(
    c: &mut dyn Conn,
    since: Timestamp,
    until: Timestamp,
) -> Result<(Vec<(i64, Tally)>, Vec<(Option<i64>, Tally)>)> {
    let tally = |rows: Vec<Row>, key: &str| -> Result<Vec<(Option<i64>, Tally)>> {
        let mut out: Vec<(Option<i64>, Tally)> = Vec::new();
        for r in rows {
            let k = r.opt_int(key)?;
            let n = r.int("n")?;
            let idx = match out.iter().position(|(x, _)| *x == k) {
                Some(i) => i,
                None => {
                    out.push((k, Tally::default()));
                    out.len() - 1
                }
            };
            let t = &mut out[idx].1;
            match r.text("state")?.as_str() {
                "kept" => t.kept += n,
                "broken" => t.broken += n,
                _ => t.open += n,
            }
        }
        Ok(out)
    };
    let by_user = c
        .query(
            "SELECT user_id, state, COUNT(*) AS n FROM promises
             WHERE created_at >= $1 AND created_at < $2 GROUP BY user_id, state ORDER BY user_id",
            &[since.into(), until.into()],
        )
        .await?;
    let by_team = c
        .query(
            "SELECT team_id, state, COUNT(*) AS n FROM promises
             WHERE created_at >= $1 AND created_at < $2 GROUP BY team_id, state ORDER BY team_id",
            &[since.into(), until.into()],
        )
        .await?;
    let users = tally(by_user, "user_id")?
        .into_iter()
        .filter_map(|(k, t)| k.map(|k| (k, t)))
        .collect();
    Ok((users, tally(by_team, "team_id")?))
}
