//! Segments: stored conditions (`rapport_domain::crm::segment`) and the customers who
//! meet them, found by reading each customer's facts — tickets, orders, points, latest
//! ratings — a batch at a time in id order, so a page of members costs the customers
//! scanned to fill it.

use rapport_domain::commerce::Currency;
use rapport_domain::crm::segment::{self, Condition, Facts};
use rapport_domain::{FieldError, Timestamp};
use serde_json::Value;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// A stored segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Its id.
    pub id: i64,
    /// Its name (unique).
    pub name: String,
    /// Its conditions (all must hold).
    pub conditions: Vec<Condition>,
    /// Who made it.
    pub created_by: Option<i64>,
    /// When.
    pub created_at: Timestamp,
}

fn of(r: &Row) -> Result<Segment> {
    Ok(Segment {
        id: r.int("id")?,
        name: r.text("name")?,
        conditions: serde_json::from_str(&r.text("conditions")?)?,
        created_by: r.opt_int("created_by")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// Checks a segment's name: 1 to 100 characters.
pub fn name(raw: &str) -> std::result::Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(FieldError::new("name", "must be 1 to 100 characters"));
    }
    Ok(t.to_owned())
}

/// Creates a segment (409 when the name is taken).
pub async fn create(
    c: &mut dyn Conn,
    name: &str,
    conditions: &[Condition],
    by: i64,
    now: Timestamp,
) -> Result<Segment> {
    segment::check(conditions)?;
    let r = c
        .opt(
            "INSERT INTO segments (name, conditions, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (name) DO NOTHING
             RETURNING id, name, conditions, created_by, created_at",
            &[
                name.into(),
                serde_json::to_string(conditions)?.into(),
                by.into(),
                now.into(),
            ],
        )
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("a segment is already named {name}")))?;
    of(&r)
}

/// Every segment, by name.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<Segment>> {
    c.query(
        "SELECT id, name, conditions, created_by, created_at FROM segments ORDER BY name",
        &[],
    )
    .await?
    .iter()
    .map(of)
    .collect()
}

/// One segment.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Segment> {
    let r = c
        .opt(
            "SELECT id, name, conditions, created_by, created_at FROM segments WHERE id = $1",
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("segment"))?;
    of(&r)
}

/// Deletes a segment.
pub async fn delete(c: &mut dyn Conn, id: i64) -> Result<()> {
    if c.execute("DELETE FROM segments WHERE id = $1", &[id.into()])
        .await?
        == 0
    {
        return Err(StoreError::NotFound("segment"));
    }
    Ok(())
}

/// A member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The customer.
    pub customer_id: i64,
    /// Their address.
    pub email: String,
    /// Their name.
    pub name: String,
}

const BATCH: i64 = 1000;
const DAY_MICROS: i64 = 86_400_000_000;

/// The customers (not erased) meeting `conditions`, by id after `after`, at most
/// `limit`; and whether more may follow.
pub async fn members(
    c: &mut dyn Conn,
    conditions: &[Condition],
    after: i64,
    limit: i64,
    now: Timestamp,
) -> Result<(Vec<Member>, bool)> {
    let currency = segment::currency(conditions);
    let exponent = currency
        .as_deref()
        .and_then(|c| Currency::parse("currency", c).ok())
        .map_or(2, |c| c.exponent());
    let mut out = Vec::new();
    let mut cursor = after;
    loop {
        let rows = c
            .query(
                "SELECT x.id, x.email, x.name, x.tier, x.organization_id, x.attributes,
                   (SELECT COUNT(*) FROM tickets t WHERE t.customer_id = x.id) AS tickets,
                   (SELECT COUNT(*) FROM tickets t WHERE t.customer_id = x.id
                      AND t.status NOT IN ('solved', 'closed')) AS open_tickets,
                   (SELECT MAX(t.created_at) FROM tickets t WHERE t.customer_id = x.id) AS last_contact,
                   (SELECT COUNT(*) FROM orders o WHERE o.customer_id = x.id
                      AND o.status NOT IN ('cancelled', 'refunded')) AS orders,
                   (SELECT MAX(o.placed_at) FROM orders o WHERE o.customer_id = x.id
                      AND o.status NOT IN ('cancelled', 'refunded')) AS last_order,
                   (SELECT CAST(SUM(o.total) AS BIGINT) FROM orders o WHERE o.customer_id = x.id
                      AND o.currency = $3 AND o.status NOT IN ('cancelled', 'refunded')) AS ltv,
                   (SELECT b.balance FROM points_balances b WHERE b.customer_id = x.id) AS points,
                   (SELECT s.csat FROM surveys s WHERE s.customer_id = x.id AND s.csat IS NOT NULL
                      ORDER BY s.answered_at DESC, s.id DESC LIMIT 1) AS last_csat,
                   (SELECT s.nps FROM surveys s WHERE s.customer_id = x.id AND s.nps IS NOT NULL
                      ORDER BY s.answered_at DESC, s.id DESC LIMIT 1) AS last_nps
                 FROM customers x
                 WHERE x.id > $1 AND x.erased_at IS NULL
                 ORDER BY x.id LIMIT $2",
                &[
                    cursor.into(),
                    BATCH.into(),
                    currency.clone().unwrap_or_default().into(),
                ],
            )
            .await?;
        let full = rows.len() as i64 == BATCH;
        for r in &rows {
            cursor = r.int("id")?;
            let attributes = match serde_json::from_str(&r.text("attributes")?)? {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            };
            let days = |t: Option<i64>| t.map(|t| (now.0 - t).div_euclid(DAY_MICROS));
            let facts = Facts {
                attributes,
                tier: r.opt_text("tier")?,
                organization_id: r.opt_int("organization_id")?,
                tickets: r.int("tickets")?,
                open_tickets: r.int("open_tickets")?,
                days_since_contact: days(r.opt_int("last_contact")?),
                orders: r.int("orders")?,
                days_since_order: days(r.opt_int("last_order")?),
                lifetime_value: currency.as_ref().map(|_| {
                    r.opt_int("ltv").ok().flatten().unwrap_or(0) as f64
                        / 10_f64.powi(i32::try_from(exponent).unwrap_or(2))
                }),
                points: r.opt_int("points")?.unwrap_or(0),
                last_csat: r.opt_int("last_csat")?,
                last_nps: r.opt_int("last_nps")?,
            };
            if segment::contains(conditions, &facts) {
                out.push(Member {
                    customer_id: cursor,
                    email: r.text("email")?,
                    name: r.text("name")?,
                });
                if out.len() as i64 >= limit {
                    return Ok((out, true));
                }
            }
        }
        if !full {
            return Ok((out, false));
        }
    }
}
