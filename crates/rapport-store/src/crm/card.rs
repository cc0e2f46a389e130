//! The customer card beside every ticket: what they are worth (lifetime value from their
//! orders, per currency), how they rated us (CSAT, CES, NPS over time), and what the
//! churn-risk signal reads from (recent contacts, ratings, mood, orders).

use rapport_domain::crm::ChurnSignals;
use rapport_domain::{Principal, Timestamp, Viewer};

use crate::db::Conn;
use crate::error::Result;
use crate::sentiment;

/// Lifetime value in one currency: what their orders came to, less what was refunded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// ISO 4217 code.
    pub currency: String,
    /// The sum of their orders' totals (minor units), cancelled and refunded orders left
    /// out.
    pub total: i64,
    /// How many orders it is.
    pub orders: i64,
    /// Their first order.
    pub first_at: Timestamp,
    /// Their latest order.
    pub last_at: Timestamp,
}

/// Lifetime value per currency, largest first.
pub async fn value(c: &mut dyn Conn, customer: i64) -> Result<Vec<Value>> {
    c.query(
        "SELECT currency, CAST(SUM(total) AS BIGINT) AS total, COUNT(*) AS orders,
                MIN(placed_at) AS first_at, MAX(placed_at) AS last_at
         FROM orders WHERE customer_id = $1 AND status NOT IN ('cancelled', 'refunded')
         GROUP BY currency ORDER BY total DESC, currency",
        &[customer.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Value {
            currency: r.text("currency")?,
            total: r.int("total")?,
            orders: r.int("orders")?,
            first_at: Timestamp(r.int("first_at")?),
            last_at: Timestamp(r.int("last_at")?),
        })
    })
    .collect()
}

/// One survey answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    /// The survey.
    pub survey_id: i64,
    /// `ticket` or `nps`.
    pub kind: String,
    /// The ticket it was about.
    pub ticket_id: Option<i64>,
    /// CSAT 1–5.
    pub csat: Option<i64>,
    /// CES 1–7.
    pub ces: Option<i64>,
    /// NPS 0–10.
    pub nps: Option<i64>,
    /// When they answered.
    pub at: Timestamp,
}

/// Their survey answers `viewer` may see (not about other teams' tickets), newest first
/// (at most `limit`).
pub async fn ratings(
    c: &mut dyn Conn,
    viewer: &Viewer,
    customer: i64,
    limit: i64,
) -> Result<Vec<Rating>> {
    let seen = super::timeline::team_filter(viewer);
    c.query(
        &format!(
            "SELECT s.id, s.kind, s.ticket_id, s.csat, s.ces, s.nps, s.answered_at
             FROM surveys s LEFT JOIN tickets t ON t.id = s.ticket_id
             WHERE s.customer_id = $1 AND s.answered_at IS NOT NULL{seen}
             ORDER BY s.answered_at DESC, s.id DESC LIMIT $2"
        ),
        &[customer.into(), limit.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Rating {
            survey_id: r.int("id")?,
            kind: r.text("kind")?,
            ticket_id: r.opt_int("ticket_id")?,
            csat: r.opt_int("csat")?,
            ces: r.opt_int("ces")?,
            nps: r.opt_int("nps")?,
            at: Timestamp(r.int("answered_at")?),
        })
    })
    .collect()
}

const DAY: i64 = 86_400;

/// What the churn-risk signal reads, as of `now`. Ratings and mood are read from the
/// tickets `viewer` may see; the count of contacts is every ticket's.
pub async fn signals(
    c: &mut dyn Conn,
    viewer: &Viewer,
    customer: i64,
    now: Timestamp,
) -> Result<ChurnSignals> {
    let who = Principal::Agent(viewer.clone());
    let contacts = c
        .one(
            "SELECT COUNT(*) AS n FROM tickets WHERE customer_id = $1 AND created_at >= $2",
            &[customer.into(), now.plus_secs(-7 * DAY).into()],
        )
        .await?
        .int("n")?;
    let answers = ratings(c, viewer, customer, 50).await?;
    let latest = |pick: fn(&Rating) -> Option<i64>, days: i64| {
        answers
            .iter()
            .filter(|r| r.at >= now.plus_secs(-days * DAY))
            .find_map(pick)
    };
    let mood = sentiment::of_customer(c, &who, customer).await?;
    let month = now.plus_secs(-30 * DAY);
    let recent: Vec<_> = mood.iter().filter(|p| p.at >= month).collect();
    let orders = c
        .one(
            "SELECT COUNT(*) AS n, MAX(placed_at) AS last FROM orders
             WHERE customer_id = $1 AND status <> 'cancelled'",
            &[customer.into()],
        )
        .await?;
    let last_order = orders.opt_int("last")?.map(Timestamp);
    Ok(ChurnSignals {
        contacts_7d: u32::try_from(contacts).unwrap_or(u32::MAX),
        last_csat: latest(|r| r.csat, 90),
        last_nps: latest(|r| r.nps, 180),
        last_ces: latest(|r| r.ces, 90),
        messages_30d: u32::try_from(recent.len()).unwrap_or(u32::MAX),
        negative_30d: u32::try_from(recent.iter().filter(|p| p.sentiment.upset()).count())
            .unwrap_or(u32::MAX),
        orders: u32::try_from(orders.int("n")?).unwrap_or(u32::MAX),
        days_since_order: last_order.map(|t| (now.0 - t.0).div_euclid(DAY * 1_000_000)),
    })
}
