//! The durable job queue. Email delivery, SLA timers, surveys and webhooks all run on it.
//!
//! A job is claimed with a lease: its state becomes `running` until `lease_until`. A
//! worker that dies mid-job simply lets the lease run out, and the job is claimed again
//! — attempts are counted at claim time, so a job that kills its worker every time still
//! ends in the dead-letter state. On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`
//! so many nodes can pull from one queue without blocking each other; on SQLite the
//! single writer serialises claims.

use rapport_domain::Timestamp;
use rapport_domain::job::{JobState, after_failure, retry_delay_secs};
use serde::Serialize;

use crate::db::Conn;
use crate::dialect;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// A job as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// Database id.
    pub id: i64,
    /// Which handler runs it.
    pub kind: String,
    /// Handler input, JSON.
    pub payload: serde_json::Value,
    /// `queued`, `running`, `done` or `dead`.
    pub state: JobState,
    /// Earliest time to run.
    pub run_at: Timestamp,
    /// Claims so far.
    pub attempts: i64,
    /// Claims allowed before it is dead.
    pub max_attempts: i64,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// Deduplicates enqueues.
    pub idempotency_key: Option<String>,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Handler name.
    pub kind: String,
    /// Handler input.
    pub payload: serde_json::Value,
    /// Earliest time to run.
    pub run_at: Timestamp,
    /// Claims allowed.
    pub max_attempts: i64,
    /// If set, a second enqueue with the same key is a no-op returning the first job.
    pub idempotency_key: Option<String>,
}

const JOB_COLS: &str =
    "id, kind, payload, state, run_at, attempts, max_attempts, last_error, idempotency_key";

fn job_from(r: &Row) -> Result<Job> {
    Ok(Job {
        id: r.int("id")?,
        kind: r.text("kind")?,
        payload: serde_json::from_str(&r.text("payload")?)?,
        state: JobState::parse(&r.text("state")?)
            .ok_or_else(|| StoreError::Db("bad stored job state".into()))?,
        run_at: Timestamp(r.int("run_at")?),
        attempts: r.int("attempts")?,
        max_attempts: r.int("max_attempts")?,
        last_error: r.opt_text("last_error")?,
        idempotency_key: r.opt_text("idempotency_key")?,
    })
}

/// Enqueues a job (or returns the existing one with the same idempotency key).
pub async fn enqueue(c: &mut dyn Conn, j: NewJob, now: Timestamp) -> Result<Job> {
    let inserted = c
        .opt(
            &format!(
                "INSERT INTO jobs (kind, payload, state, run_at, attempts, max_attempts,
                                   idempotency_key, created_at, updated_at)
                 VALUES ($1, $2, 'queued', $3, 0, $4, $5, $6, $6)
                 ON CONFLICT (idempotency_key) DO NOTHING RETURNING {JOB_COLS}"
            ),
            &[
                j.kind.into(),
                j.payload.to_string().into(),
                j.run_at.into(),
                j.max_attempts.max(1).into(),
                j.idempotency_key.clone().into(),
                now.into(),
            ],
        )
        .await?;
    match inserted {
        Some(r) => job_from(&r),
        None => {
            let r = c
                .one(
                    &format!("SELECT {JOB_COLS} FROM jobs WHERE idempotency_key = $1"),
                    &[j.idempotency_key.into()],
                )
                .await?;
            job_from(&r)
        }
    }
}

/// Claims the next runnable job for `worker` with a lease of `lease_secs`: a queued job
/// whose time has come, or a running one whose lease ran out (its worker died).
pub async fn claim(
    c: &mut dyn Conn,
    worker: &str,
    lease_secs: i64,
    now: Timestamp,
) -> Result<Option<Job>> {
    let lock = dialect::claim_lock(c.backend());
    let sql = format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1,
                locked_by = $2, updated_at = $3
         WHERE id = (SELECT id FROM jobs
                     WHERE (state = 'queued' AND run_at <= $3)
                        OR (state = 'running' AND lease_until < $3)
                     ORDER BY run_at, id LIMIT 1 {lock})
         RETURNING {JOB_COLS}"
    );
    let row = c
        .opt(
            &sql,
            &[now.plus_secs(lease_secs).into(), worker.into(), now.into()],
        )
        .await?;
    row.as_ref().map(job_from).transpose()
}

/// The workers holding a lease whose name starts with `prefix` (a node's host name).
pub async fn lease_holders(c: &mut dyn Conn, prefix: &str) -> Result<Vec<String>> {
    c.query(
        "SELECT DISTINCT locked_by FROM jobs WHERE state = 'running' AND locked_by LIKE $1",
        &[format!("{}%", prefix.replace(['%', '_'], "")).into()],
    )
    .await?
    .iter()
    .map(|r| r.text("locked_by"))
    .collect()
}

/// Puts the jobs leased by a worker known to be dead back in the queue now, instead of
/// waiting for their lease to run out. Returns how many were released.
pub async fn release_leases(c: &mut dyn Conn, worker: &str, now: Timestamp) -> Result<u64> {
    c.execute(
        "UPDATE jobs SET state = 'queued', run_at = $1, lease_until = NULL, locked_by = NULL,
                updated_at = $1
         WHERE state = 'running' AND locked_by = $2",
        &[now.into(), worker.into()],
    )
    .await
}

/// Marks a claimed job done. Returns false if this worker no longer holds it (its lease
/// ran out and someone else took it).
pub async fn complete(c: &mut dyn Conn, id: i64, worker: &str, now: Timestamp) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = $1
             WHERE id = $2 AND state = 'running' AND locked_by = $3",
            &[now.into(), id.into(), worker.into()],
        )
        .await?;
    Ok(n == 1)
}

/// Records a failure: back to the queue after a growing delay, or dead after the last
/// allowed attempt.
pub async fn fail(
    c: &mut dyn Conn,
    id: i64,
    worker: &str,
    error: &str,
    now: Timestamp,
) -> Result<Option<Job>> {
    let Some(row) = c
        .opt(
            &format!(
                "SELECT {JOB_COLS} FROM jobs WHERE id = $1 AND state = 'running' AND locked_by = $2"
            ),
            &[id.into(), worker.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let job = job_from(&row)?;
    let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
    let max = u32::try_from(job.max_attempts).unwrap_or(u32::MAX);
    let state = after_failure(attempts, max);
    let run_at = now.plus_secs(retry_delay_secs(attempts));
    let error: String = error.chars().take(2_000).collect();
    let row = c
        .one(
            &format!(
                "UPDATE jobs SET state = $1, run_at = $2, last_error = $3, lease_until = NULL,
                        locked_by = NULL, updated_at = $4
                 WHERE id = $5 RETURNING {JOB_COLS}"
            ),
            &[
                state.as_str().into(),
                run_at.into(),
                error.into(),
                now.into(),
                id.into(),
            ],
        )
        .await?;
    Ok(Some(job_from(&row)?))
}

/// One job.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Job> {
    let row = c
        .opt(
            &format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("job"))?;
    job_from(&row)
}

/// The newest jobs, for the admin view.
pub async fn recent(c: &mut dyn Conn, limit: i64) -> Result<Vec<Job>> {
    c.query(
        &format!("SELECT {JOB_COLS} FROM jobs ORDER BY id DESC LIMIT $1"),
        &[limit.clamp(1, 500).into()],
    )
    .await?
    .iter()
    .map(job_from)
    .collect()
}

/// How many jobs are in each state (for `/metrics`), by state name.
pub async fn count_by_state(c: &mut dyn Conn) -> Result<Vec<(String, i64)>> {
    c.query(
        "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state ORDER BY state",
        &[],
    )
    .await?
    .iter()
    .map(|r| Ok((r.text("state")?, r.int("n")?)))
    .collect()
}
