//! Business-hours calendars (stored as their written form, [`CalendarSpec`]).

use rapport_domain::sla::calendar::Calendar;
use rapport_domain::sla::spec::CalendarSpec;
use rapport_domain::{FieldError, Timestamp};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// A stored calendar.
#[derive(Debug, Clone)]
pub struct CalendarRecord {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its hours, holidays and closures.
    pub calendar: Calendar,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

const COLS: &str = "id, name, time_zone, hours, holidays, closures, created_at, updated_at";

fn from_row(r: &Row) -> Result<CalendarRecord> {
    let spec = CalendarSpec {
        time_zone: r.text("time_zone")?,
        hours: serde_json::from_str(&r.text("hours")?)?,
        holidays: serde_json::from_str(&r.text("holidays")?)?,
        closures: serde_json::from_str(&r.text("closures")?)?,
    };
    Ok(CalendarRecord {
        id: r.int("id")?,
        name: r.text("name")?,
        calendar: spec
            .parse()
            .map_err(|e| StoreError::Db(format!("stored calendar: {e}")))?,
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
    })
}

/// A calendar's name: 1 to 100 characters without control characters.
fn name(raw: &str) -> Result<String> {
    Ok(rapport_domain::sla::policy::policy_name(raw)?)
}

/// Every calendar, by name.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<CalendarRecord>> {
    c.query(
        &format!("SELECT {COLS} FROM calendars ORDER BY name, id"),
        &[],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// One calendar.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<CalendarRecord> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM calendars WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("calendar"))?;
    from_row(&r)
}

fn columns(cal: &Calendar) -> Result<(String, String, String, String)> {
    let spec = CalendarSpec::of(cal);
    Ok((
        spec.time_zone,
        serde_json::to_string(&spec.hours)?,
        serde_json::to_string(&spec.holidays)?,
        serde_json::to_string(&spec.closures)?,
    ))
}

/// Adds a calendar; a taken name is an error on `name`.
pub async fn create(
    c: &mut dyn Conn,
    raw_name: &str,
    cal: &Calendar,
    now: Timestamp,
) -> Result<CalendarRecord> {
    let name = name(raw_name)?;
    let (zone, hours, holidays, closures) = columns(cal)?;
    let row = c
        .opt(
            "INSERT INTO calendars (name, time_zone, hours, holidays, closures, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[
                name.into(),
                zone.into(),
                hours.into(),
                holidays.into(),
                closures.into(),
                now.into(),
            ],
        )
        .await?
        .ok_or_else(|| FieldError::new("name", "a calendar with this name already exists"))?;
    get(c, row.int("id")?).await
}

/// Replaces a calendar's name and hours. Due times already computed stay; clocks started,
/// paused or resumed from now on use the new hours.
pub async fn update(
    c: &mut dyn Conn,
    id: i64,
    raw_name: &str,
    cal: &Calendar,
    now: Timestamp,
) -> Result<CalendarRecord> {
    let name = name(raw_name)?;
    let (zone, hours, holidays, closures) = columns(cal)?;
    if c.opt(
        "SELECT id FROM calendars WHERE name = $1 AND id <> $2",
        &[name.clone().into(), id.into()],
    )
    .await?
    .is_some()
    {
        return Err(FieldError::new("name", "a calendar with this name already exists").into());
    }
    let changed = c
        .execute(
            "UPDATE calendars SET name = $1, time_zone = $2, hours = $3, holidays = $4,
                    closures = $5, updated_at = $6
             WHERE id = $7",
            &[
                name.into(),
                zone.into(),
                hours.into(),
                holidays.into(),
                closures.into(),
                now.into(),
                id.into(),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound("calendar"));
    }
    // The reports measure durations in the current hours.
    crate::reports::rollup::mark_measured_by(c, "calendar_id", id).await?;
    get(c, id).await
}

/// Deletes a calendar no policy uses.
pub async fn delete(c: &mut dyn Conn, id: i64) -> Result<()> {
    if c.opt(
        "SELECT id FROM sla_policies WHERE calendar_id = $1",
        &[id.into()],
    )
    .await?
    .is_some()
    {
        return Err(StoreError::Conflict(
            "an SLA policy measures in this calendar; change the policy first".into(),
        ));
    }
    let gone = c
        .execute("DELETE FROM calendars WHERE id = $1", &[id.into()])
        .await?;
    if gone == 0 {
        return Err(StoreError::NotFound("calendar"));
    }
    Ok(())
}
