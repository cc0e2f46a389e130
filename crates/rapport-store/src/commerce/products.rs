//! Per product (SKU): how many were sold, how many came back, and how many tickets were
//! about orders holding it — the return rate and the ticket rate, over a period and week
//! by week, for supervisors now and the proactive insights later.

use rapport_domain::Timestamp;

use crate::db::Conn;
use crate::error::Result;

/// One product's figures over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductRates {
    /// Its SKU.
    pub sku: String,
    /// Its name (as on its latest order line).
    pub name: String,
    /// Orders placed holding it (cancelled ones left out).
    pub orders: i64,
    /// Units sold.
    pub units: i64,
    /// Units asked back in returns made in the period (rejected and cancelled ones left
    /// out).
    pub returned: i64,
    /// Tickets opened in the period linked to an order holding it.
    pub tickets: i64,
}

/// A week of one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    /// The week's first instant (weeks count from the period's start).
    pub start: Timestamp,
    /// Units sold.
    pub units: i64,
    /// Units asked back.
    pub returned: i64,
    /// Tickets about it.
    pub tickets: i64,
}

const WEEK: i64 = 7 * 86_400 * 1_000_000;

/// The products sold in `[since, until)`, best-selling first (at most `limit`), with
/// their returns and tickets in the same period.
pub async fn rates(
    c: &mut dyn Conn,
    since: Timestamp,
    until: Timestamp,
    limit: i64,
) -> Result<Vec<ProductRates>> {
    let sold = c
        .query(
            "SELECT l.sku, MAX(l.name) AS name, COUNT(DISTINCT o.id) AS orders,
                    CAST(SUM(l.quantity) AS BIGINT) AS units
             FROM order_lines l JOIN orders o ON o.id = l.order_id
             WHERE o.placed_at >= $1 AND o.placed_at < $2 AND o.status <> 'cancelled'
             GROUP BY l.sku ORDER BY units DESC, l.sku LIMIT $3",
            &[since.into(), until.into(), limit.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(sold.len());
    for r in &sold {
        out.push(ProductRates {
            sku: r.text("sku")?,
            name: r.text("name")?,
            orders: r.int("orders")?,
            units: r.int("units")?,
            ..ProductRates::default()
        });
    }
    for (sql, returned) in [(RETURNED, true), (TICKETS, false)] {
        for r in c.query(sql, &[since.into(), until.into()]).await? {
            let sku = r.text("sku")?;
            if let Some(p) = out.iter_mut().find(|p| p.sku == sku) {
                if returned {
                    p.returned = r.int("n")?;
                } else {
                    p.tickets = r.int("n")?;
                }
            }
        }
    }
    Ok(out)
}

const RETURNED: &str = "SELECT rl.sku, CAST(SUM(rl.quantity) AS BIGINT) AS n
     FROM return_lines rl JOIN returns r ON r.id = rl.return_id
     WHERE r.created_at >= $1 AND r.created_at < $2 AND r.state NOT IN ('rejected', 'cancelled')
     GROUP BY rl.sku";

const TICKETS: &str = "SELECT l.sku, COUNT(DISTINCT t.id) AS n
     FROM ticket_orders x JOIN tickets t ON t.id = x.ticket_id
     JOIN order_lines l ON l.order_id = x.order_id
     WHERE t.created_at >= $1 AND t.created_at < $2
     GROUP BY l.sku";

/// One product week by week over `[since, until)`.
pub async fn weekly(
    c: &mut dyn Conn,
    sku: &str,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<Week>> {
    let weeks = usize::try_from((until.0 - since.0 + WEEK - 1).div_euclid(WEEK)).unwrap_or(0);
    let mut out: Vec<Week> = (0..weeks.min(520))
        .map(|i| Week {
            start: Timestamp(since.0 + i as i64 * WEEK),
            units: 0,
            returned: 0,
            tickets: 0,
        })
        .collect();
    let queries = [
        "SELECT (o.placed_at - $1) / $4 AS w, CAST(SUM(l.quantity) AS BIGINT) AS n
         FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE l.sku = $3 AND o.placed_at >= $1 AND o.placed_at < $2 AND o.status <> 'cancelled'
         GROUP BY w",
        "SELECT (r.created_at - $1) / $4 AS w, CAST(SUM(rl.quantity) AS BIGINT) AS n
         FROM return_lines rl JOIN returns r ON r.id = rl.return_id
         WHERE rl.sku = $3 AND r.created_at >= $1 AND r.created_at < $2
           AND r.state NOT IN ('rejected', 'cancelled')
         GROUP BY w",
        "SELECT (t.created_at - $1) / $4 AS w, COUNT(DISTINCT t.id) AS n
         FROM ticket_orders x JOIN tickets t ON t.id = x.ticket_id
         JOIN order_lines l ON l.order_id = x.order_id
         WHERE l.sku = $3 AND t.created_at >= $1 AND t.created_at < $2
         GROUP BY w",
    ];
    for (i, sql) in queries.iter().enumerate() {
        let rows = c
            .query(sql, &[since.into(), until.into(), sku.into(), WEEK.into()])
            .await?;
        for r in rows {
            let w = usize::try_from(r.int("w")?).unwrap_or(usize::MAX);
            if let Some(week) = out.get_mut(w) {
                let n = r.int("n")?;
                match i {
                    0 => week.units = n,
                    1 => week.returned = n,
                    _ => week.tickets = n,
                }
            }
        }
    }
    Ok(out)
}
