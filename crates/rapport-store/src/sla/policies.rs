//! SLA policies: conditions (stored as JSON), targets in minutes, an optional calendar.

use rapport_domain::sla::policy::{Conditions, Minutes, Policy, Targets, policy_name};
use rapport_domain::{FieldError, Timestamp};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// A policy as written: everything but its id.
#[derive(Debug, Clone)]
pub struct PolicyInput {
    /// What agents call it.
    pub name: String,
    /// Tried in ascending order.
    pub position: i64,
    /// Off: never applies.
    pub enabled: bool,
    /// Which tickets it covers.
    pub conditions: Conditions,
    /// What it promises.
    pub targets: Targets,
    /// The calendar its targets are measured in; `None`: calendar hours.
    pub calendar_id: Option<i64>,
}

const COLS: &str = "id, name, position, enabled, conditions, first_response_minutes,
    next_response_minutes, resolution_minutes, calendar_id";

fn from_row(r: &Row) -> Result<Policy> {
    let minutes = |col: &str| -> Result<Option<Minutes>> {
        r.opt_int(col)?
            .map(|m| Minutes::new(m, col).map_err(StoreError::from))
            .transpose()
    };
    Ok(Policy {
        id: r.int("id")?,
        name: r.text("name")?,
        position: r.int("position")?,
        enabled: r.bool("enabled")?,
        conditions: serde_json::from_str(&r.text("conditions")?)?,
        targets: Targets {
            first_response: minutes("first_response_minutes")?,
            next_response: minutes("next_response_minutes")?,
            resolution: minutes("resolution_minutes")?,
        },
        calendar_id: r.opt_int("calendar_id")?,
    })
}

/// Every policy, in the order they are tried.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<Policy>> {
    c.query(
        &format!("SELECT {COLS} FROM sla_policies ORDER BY position, id"),
        &[],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// One policy.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Policy> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM sla_policies WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("SLA policy"))?;
    from_row(&r)
}

async fn check(
    c: &mut dyn Conn,
    p: &PolicyInput,
    id: Option<i64>,
    now: Timestamp,
) -> Result<String> {
    let name = policy_name(&p.name)?;
    if p.targets.is_empty() {
        return Err(FieldError::new("targets", "a policy needs at least one target").into());
    }
    if let Some(id) = p.calendar_id {
        let cal = match super::calendars::get(c, id).await {
            Ok(r) => r.calendar,
            Err(StoreError::NotFound(_)) => {
                return Err(FieldError::new("calendar_id", "no such calendar").into());
            }
            Err(e) => return Err(e),
        };
        // A target the calendar is not open for within its horizon could never run.
        let t = &p.targets;
        for (m, field) in [
            (t.first_response, "targets.first_response_minutes"),
            (t.next_response, "targets.next_response_minutes"),
            (t.resolution, "targets.resolution_minutes"),
        ] {
            if let Some(m) = m
                && cal.add_open(now, m.secs()).is_none()
            {
                return Err(FieldError::new(
                    field,
                    "the calendar is not open that long within three years",
                )
                .into());
            }
        }
    }
    for cat in &p.conditions.categories {
        if c.opt(
            "SELECT slug FROM categories WHERE slug = $1",
            &[cat.as_str().into()],
        )
        .await?
        .is_none()
        {
            return Err(FieldError::new(
                "conditions.categories",
                format!("no category '{}'", cat.as_str()),
            )
            .into());
        }
    }
    if p.conditions.tiers.len() > 50 || p.conditions.tiers.iter().any(|t| t.len() > 100) {
        return Err(
            FieldError::new("conditions.tiers", "at most 50 tiers of 100 characters").into(),
        );
    }
    let taken = c
        .opt(
            "SELECT id FROM sla_policies WHERE name = $1",
            &[name.clone().into()],
        )
        .await?
        .map(|r| r.int("id"))
        .transpose()?;
    if taken.is_some() && taken != id {
        return Err(FieldError::new("name", "a policy with this name already exists").into());
    }
    Ok(name)
}

fn minutes(m: Option<Minutes>) -> crate::value::Value {
    m.map(|m| i64::from(m.get())).into()
}

/// The stored columns of a policy, in the order of `INSERT` and `UPDATE` below: name,
/// position, enabled, conditions, the three targets, calendar, time.
fn columns(name: String, p: &PolicyInput, now: Timestamp) -> Result<Vec<crate::value::Value>> {
    Ok(vec![
        name.into(),
        p.position.into(),
        p.enabled.into(),
        serde_json::to_string(&p.conditions)?.into(),
        minutes(p.targets.first_response),
        minutes(p.targets.next_response),
        minutes(p.targets.resolution),
        p.calendar_id.into(),
        now.into(),
    ])
}

/// Adds a policy.
pub async fn create(c: &mut dyn Conn, p: &PolicyInput, now: Timestamp) -> Result<Policy> {
    let name = check(c, p, None, now).await?;
    let row = c
        .one(
            "INSERT INTO sla_policies (name, position, enabled, conditions, first_response_minutes,
                 next_response_minutes, resolution_minutes, calendar_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
            &columns(name, p, now)?,
        )
        .await?;
    get(c, row.int("id")?).await
}

/// Replaces a policy. Due times already computed stay; clocks started, paused or resumed
/// from now on (new tickets', and existing tickets' next ones) use the new terms.
pub async fn update(c: &mut dyn Conn, id: i64, p: &PolicyInput, now: Timestamp) -> Result<Policy> {
    get(c, id).await?;
    let name = check(c, p, Some(id), now).await?;
    c.execute(
        "UPDATE sla_policies SET name = $1, position = $2, enabled = $3, conditions = $4,
                first_response_minutes = $5, next_response_minutes = $6, resolution_minutes = $7,
                calendar_id = $8, updated_at = $9
         WHERE id = $10",
        &[columns(name, p, now)?, vec![id.into()]].concat(),
    )
    .await?;
    // The reports measure durations in the policy's (perhaps other) calendar.
    crate::reports::rollup::mark_measured_by(c, "id", id).await?;
    get(c, id).await
}

/// Deletes a policy (tickets measured by it keep their clocks).
pub async fn delete(c: &mut dyn Conn, id: i64) -> Result<()> {
    // Its tickets' durations are measured in calendar time from now on.
    crate::reports::rollup::mark_measured_by(c, "id", id).await?;
    let gone = c
        .execute("DELETE FROM sla_policies WHERE id = $1", &[id.into()])
        .await?;
    if gone == 0 {
        return Err(StoreError::NotFound("SLA policy"));
    }
    Ok(())
}
