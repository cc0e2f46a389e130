//! The loyalty programme's rules: points earned on orders (so many per whole unit of the
//! order's total, once the order is paid; taken back, as far as the balance allows, when
//! it is cancelled or refunded) and points that expire unused after so many days — the
//! oldest credits are spent first, so what expires is what was never spent.

use rapport_domain::commerce::Currency;
use rapport_domain::{FieldError, Timestamp};

use super::points::{self, About, EARN, EXPIRE, UNEARN};
use crate::db::Conn;
use crate::error::Result;

/// The settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// Points per whole unit of an order's total (0: orders earn nothing).
    pub earn_per_unit: i64,
    /// Days after which a credit expires (none: never).
    pub expiry_days: Option<i64>,
}

impl Settings {
    /// Checks settings: 0 to 1,000 points a unit, 1 to 3,650 days.
    pub fn new(
        earn_per_unit: i64,
        expiry_days: Option<i64>,
    ) -> std::result::Result<Self, FieldError> {
        if !(0..=1000).contains(&earn_per_unit) {
            return Err(FieldError::new("earn_per_unit", "must be from 0 to 1000"));
        }
        if expiry_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            return Err(FieldError::new(
                "expiry_days",
                "must be from 1 to 3650, or null for never",
            ));
        }
        Ok(Self {
            earn_per_unit,
            expiry_days,
        })
    }
}

/// The settings as stored (none earned, none expire, before any are set).
pub async fn settings(c: &mut dyn Conn) -> Result<Settings> {
    Ok(c.opt(
        "SELECT earn_per_unit, expiry_days FROM loyalty_settings",
        &[],
    )
    .await?
    .map(|r| -> Result<Settings> {
        Ok(Settings {
            earn_per_unit: r.int("earn_per_unit")?,
            expiry_days: r.opt_int("expiry_days")?,
        })
    })
    .transpose()?
    .unwrap_or_default())
}

/// Sets the settings (for credits from now on; earlier credits keep their expiry).
pub async fn set_settings(c: &mut dyn Conn, s: Settings, now: Timestamp) -> Result<()> {
    c.execute(
        "INSERT INTO loyalty_settings (one, earn_per_unit, expiry_days, updated_at)
         VALUES (TRUE, $1, $2, $3)
         ON CONFLICT (one) DO UPDATE SET earn_per_unit = excluded.earn_per_unit,
             expiry_days = excluded.expiry_days, updated_at = excluded.updated_at",
        &[s.earn_per_unit.into(), s.expiry_days.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// What an order earns under `rate`: so many points per whole unit of its total, once it
/// is paid (pending, cancelled and refunded orders earn nothing).
pub fn earns(status: &str, total_minor: i64, currency: &str, rate: i64) -> i64 {
    if rate <= 0 || matches!(status, "pending" | "cancelled" | "refunded") || total_minor <= 0 {
        return 0;
    }
    let exp = Currency::parse("currency", currency).map_or(2, |c| c.exponent());
    let units = total_minor / 10_i64.pow(exp);
    units.saturating_mul(rate)
}

/// Brings an order's points to what it earns now: credits the difference when it earns
/// more (a new paid order, a larger total), takes back the difference when it earns less
/// (cancelled, refunded) as far as the balance allows — the balance never goes below
/// zero. Returns the points moved.
pub async fn settle_order(c: &mut dyn Conn, order_id: i64, now: Timestamp) -> Result<i64> {
    let rate = settings(c).await?.earn_per_unit;
    let o = crate::commerce::orders::get(c, order_id).await?;
    let net = c
        .one(
            "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) AS n FROM points_ledger
             WHERE order_id = $1 AND kind IN ('earn', 'unearn')",
            &[order_id.into()],
        )
        .await?
        .int("n")?;
    // With no rule set, what was earned stays (turning the rule off takes nothing back).
    if rate == 0 {
        return Ok(0);
    }
    let target = earns(o.status.as_str(), o.total, &o.currency, rate);
    let about = About {
        order_id: Some(order_id),
        ..About::default()
    };
    let delta = target - net;
    if delta > 0 {
        let reason = format!("Order {}", o.external_id);
        points::apply(c, o.customer_id, delta, EARN, &reason, about, now).await?;
        Ok(delta)
    } else if delta < 0 {
        let take = (-delta).min(points::balance(c, o.customer_id).await?);
        if take > 0 {
            let reason = format!("Order {} {}", o.external_id, o.status.as_str());
            points::apply(c, o.customer_id, -take, UNEARN, &reason, about, now).await?;
        }
        Ok(-take)
    } else {
        Ok(0)
    }
}

/// What of a customer's credits is past its expiry and unspent at `now`, from their ledger
/// in order (`(delta, kind, expires_at, created_at)`): debits spend the oldest credits
/// first; an expiry spends the credits that had expired when it ran.
pub fn unspent_expired(entries: &[(i64, &str, Option<i64>, i64)], now: i64) -> i64 {
    // (amount left, expires at)
    let mut credits: Vec<(i64, Option<i64>)> = Vec::new();
    for &(delta, kind, expires_at, at) in entries {
        if delta > 0 {
            credits.push((delta, expires_at));
            continue;
        }
        let mut owed = -delta;
        for credit in credits.iter_mut() {
            if owed == 0 {
                break;
            }
            let expired_then = credit.1.is_some_and(|e| e <= at);
            if kind == EXPIRE && !expired_then {
                continue;
            }
            let take = owed.min(credit.0);
            credit.0 -= take;
            owed -= take;
        }
    }
    credits
        .iter()
        .filter(|c| c.1.is_some_and(|e| e <= now))
        .map(|c| c.0)
        .sum()
}

/// Expires the points credited that are past their expiry at `now` and were never spent
/// (see [`unspent_expired`]), for customers with a credit newly past its expiry, at most
/// `limit` of them. Each customer's balance row is locked first, so two nodes sweeping
/// at once, or a redemption meanwhile, are taken in turn. Returns how many lost points.
pub async fn expire_due(c: &mut dyn Conn, now: Timestamp, limit: i64) -> Result<usize> {
    let customers: Vec<i64> = c
        .query(
            "SELECT DISTINCT customer_id FROM points_ledger
             WHERE expires_at IS NOT NULL AND expires_at <= $1 AND NOT swept
             ORDER BY customer_id LIMIT $2",
            &[now.into(), limit.into()],
        )
        .await?
        .iter()
        .map(|r| r.int("customer_id"))
        .collect::<Result<_>>()?;
    let lock = crate::dialect::row_lock(c.backend(), "points_balances");
    let mut touched = 0;
    for customer in customers {
        let Some(b) = c
            .opt(
                &format!("SELECT balance FROM points_balances WHERE customer_id = $1{lock}"),
                &[customer.into()],
            )
            .await?
        else {
            continue;
        };
        let balance = b.int("balance")?;
        let rows = c
            .query(
                "SELECT delta, kind, expires_at, created_at FROM points_ledger
                 WHERE customer_id = $1 ORDER BY id",
                &[customer.into()],
            )
            .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for r in &rows {
            entries.push((
                r.int("delta")?,
                r.text("kind")?,
                r.opt_int("expires_at")?,
                r.int("created_at")?,
            ));
        }
        let view: Vec<(i64, &str, Option<i64>, i64)> = entries
            .iter()
            .map(|(d, k, e, a)| (*d, k.as_str(), *e, *a))
            .collect();
        let take = unspent_expired(&view, now.0).min(balance);
        if take > 0 {
            points::apply(
                c,
                customer,
                -take,
                EXPIRE,
                "Points expired",
                About::default(),
                now,
            )
            .await?;
            touched += 1;
        }
        c.execute(
            "UPDATE points_ledger SET swept = TRUE
             WHERE customer_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2",
            &[customer.into(), now.into()],
        )
        .await?;
    }
    Ok(touched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_earn_per_whole_unit_once_paid() {
        assert_eq!(earns("paid", 12_999, "EUR", 1), 129);
        assert_eq!(earns("delivered", 12_999, "EUR", 2), 258);
        assert_eq!(earns("delivered", 5_000, "JPY", 1), 5_000);
        assert_eq!(earns("pending", 12_999, "EUR", 1), 0);
        assert_eq!(earns("cancelled", 12_999, "EUR", 1), 0);
        assert_eq!(earns("refunded", 12_999, "EUR", 1), 0);
        assert_eq!(earns("paid", 12_999, "EUR", 0), 0);
        assert!(Settings::new(1001, None).is_err());
        assert!(Settings::new(1, Some(0)).is_err());
        assert_eq!(Settings::new(1, Some(365)).unwrap().expiry_days, Some(365));
    }

    #[test]
    fn the_oldest_credits_are_spent_first() {
        // 100 that never expire, then 50 expiring at 10; 120 spent at 5: the 100 first,
        // then 20 of the 50 — 30 expire.
        let e = [
            (100, "goodwill", None, 0),
            (50, "earn", Some(10), 1),
            (-120, "redeem", None, 5),
        ];
        assert_eq!(unspent_expired(&e, 9), 0);
        assert_eq!(unspent_expired(&e, 10), 30);
        // Once expired, the same 30 are not due again.
        let mut e2 = e.to_vec();
        e2.push((-30, "expire", None, 11));
        assert_eq!(unspent_expired(&e2, 20), 0);
        // A later credit expires in its own time, and a spend after the expiry takes the
        // newer credit.
        e2.push((40, "goodwill", Some(30), 12));
        e2.push((-15, "redeem", None, 13));
        assert_eq!(unspent_expired(&e2, 29), 0);
        assert_eq!(unspent_expired(&e2, 30), 25);
    }
}
