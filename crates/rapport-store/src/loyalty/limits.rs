//! Goodwill limits: set per role or agent, read for a gift, and summed over what the
//! giver gave the same customer this month.

use rapport_domain::loyalty::{GoodwillKind, limits, month_start};
use rapport_domain::{Role, Timestamp, Viewer};

use crate::db::Conn;
use crate::dialect;
use crate::error::Result;

/// One limit as set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// `role:agent`, `role:supervisor`, `role:admin` or `user:{id}`.
    pub scope: String,
    /// What it caps.
    pub kind: GoodwillKind,
    /// For amounts, the currency (`""` for points and percentages).
    pub currency: String,
    /// The most per customer per calendar month (minor units, points or percent).
    pub max_per_month: i64,
}

/// Every limit set, by scope, kind and currency.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<Limit>> {
    c.query(
        "SELECT scope, kind, currency, max_per_month FROM goodwill_limits
         ORDER BY scope, kind, currency",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Limit {
            scope: r.text("scope")?,
            kind: GoodwillKind::parse(&r.text("kind")?)
                .map_err(|_| crate::StoreError::Db("bad stored goodwill kind".into()))?,
            currency: r.text("currency")?,
            max_per_month: r.int("max_per_month")?,
        })
    })
    .collect()
}

/// Replaces every limit with `limits` (the caller checked each).
pub async fn replace(c: &mut dyn Conn, limits: &[Limit]) -> Result<()> {
    c.execute("DELETE FROM goodwill_limits", &[]).await?;
    for l in limits {
        c.execute(
            "INSERT INTO goodwill_limits (scope, kind, currency, max_per_month)
             VALUES ($1, $2, $3, $4)",
            &[
                l.scope.as_str().into(),
                l.kind.as_str().into(),
                l.currency.as_str().into(),
                l.max_per_month.into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The scope name of a role.
pub fn role_scope(role: Role) -> String {
    format!("role:{}", role.as_str())
}

/// Whether `viewer` may give `customer_id` a gift of `asked` (minor units of `currency`,
/// points or percent) of `kind` without approval, after what they gave them this month.
/// Locks the customer's row first (PostgreSQL), so two gifts at once are summed in turn.
pub async fn allows(
    c: &mut dyn Conn,
    viewer: &Viewer,
    kind: GoodwillKind,
    currency: &str,
    customer_id: i64,
    asked: i64,
    now: Timestamp,
) -> Result<bool> {
    c.opt(
        &format!(
            "SELECT id FROM customers cu WHERE id = $1{}",
            dialect::row_lock(c.backend(), "cu")
        ),
        &[customer_id.into()],
    )
    .await?;
    // The agent's own limits of this kind win over their role's; a scope with limits of
    // this kind in other currencies only allows nothing in this one.
    let mut limit = None;
    for scope in [format!("user:{}", viewer.user_id), role_scope(viewer.role)] {
        let rows = c
            .query(
                "SELECT currency, max_per_month FROM goodwill_limits
                 WHERE scope = $1 AND kind = $2",
                &[scope.into(), kind.as_str().into()],
            )
            .await?;
        if rows.is_empty() {
            continue;
        }
        let mut max = 0;
        for r in &rows {
            if r.text("currency")? == currency {
                max = r.int("max_per_month")?;
            }
        }
        limit = Some(Some(max));
        break;
    }
    let limit = limit.unwrap_or_else(|| limits::unset_limit(viewer.role));
    let used = c
        .one(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS used FROM goodwill
             WHERE user_id = $1 AND customer_id = $2 AND kind = $3 AND currency = $4
               AND created_at >= $5",
            &[
                viewer.user_id.into(),
                customer_id.into(),
                kind.as_str().into(),
                currency.into(),
                month_start(now).into(),
            ],
        )
        .await?
        .int("used")?;
    Ok(limits::within(limit, kind, used, asked))
}

/// Records a gift given (at once, or once `approved_by` approved it).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record(
    c: &mut dyn Conn,
    kind: GoodwillKind,
    user_id: i64,
    approved_by: Option<i64>,
    customer_id: i64,
    ticket_id: Option<i64>,
    currency: &str,
    amount: i64,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "INSERT INTO goodwill (kind, user_id, approved_by, customer_id, ticket_id, currency,
                               amount, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            kind.as_str().into(),
            user_id.into(),
            approved_by.into(),
            customer_id.into(),
            ticket_id.into(),
            currency.into(),
            amount.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// (PostgreSQL sums a BIGINT column as NUMERIC: the sums are cast back.)
///
/// Goodwill given in `[since, until)`: per agent, kind and currency, the number of gifts
/// and their sum.
pub async fn report(
    c: &mut dyn Conn,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<(i64, GoodwillKind, String, i64, i64)>> {
    c.query(
        "SELECT user_id, kind, currency, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS total
         FROM goodwill
         WHERE created_at >= $1 AND created_at < $2
         GROUP BY user_id, kind, currency ORDER BY user_id, kind, currency",
        &[since.into(), until.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.int("user_id")?,
            GoodwillKind::parse(&r.text("kind")?)
                .map_err(|_| crate::StoreError::Db("bad stored goodwill kind".into()))?,
            r.text("currency")?,
            r.int("n")?,
            r.int("total")?,
        ))
    })
    .collect()
}
