//! The reward points ledger: append-only entries, and a balance moved by one conditional
//! update so that it never goes below zero, however many debits run at once.

use rapport_domain::Timestamp;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// Why points moved.
pub const EARN: &str = "earn";
/// An agent's goodwill credit.
pub const GOODWILL: &str = "goodwill";
/// Spent at the shop.
pub const REDEEM: &str = "redeem";
/// Points taken back from a cancelled or refunded order.
pub const UNEARN: &str = "unearn";
/// Points that expired unused.
pub const EXPIRE: &str = "expire";

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its id.
    pub id: i64,
    /// Whose points.
    pub customer_id: i64,
    /// Points added (positive) or taken (negative).
    pub delta: i64,
    /// The balance after it.
    pub balance_after: i64,
    /// `earn`, `goodwill` or `redeem`.
    pub kind: String,
    /// Why, in words.
    pub reason: String,
    /// The order it is for.
    pub order_id: Option<i64>,
    /// The ticket it was given on.
    pub ticket_id: Option<i64>,
    /// Who gave it.
    pub user_id: Option<i64>,
    /// When.
    pub created_at: Timestamp,
    /// When a credit expires (none: never, or a debit).
    pub expires_at: Option<Timestamp>,
}

const COLS: &str = "id, customer_id, delta, balance_after, kind, reason, order_id, ticket_id,
                    user_id, created_at, expires_at";

fn from_row(r: &Row) -> Result<Entry> {
    Ok(Entry {
        id: r.int("id")?,
        customer_id: r.int("customer_id")?,
        delta: r.int("delta")?,
        balance_after: r.int("balance_after")?,
        kind: r.text("kind")?,
        reason: r.text("reason")?,
        order_id: r.opt_int("order_id")?,
        ticket_id: r.opt_int("ticket_id")?,
        user_id: r.opt_int("user_id")?,
        created_at: Timestamp(r.int("created_at")?),
        expires_at: r.opt_int("expires_at")?.map(Timestamp),
    })
}

/// A customer's balance (0 before any entry).
pub async fn balance(c: &mut dyn Conn, customer_id: i64) -> Result<i64> {
    Ok(c.opt(
        "SELECT balance FROM points_balances WHERE customer_id = $1",
        &[customer_id.into()],
    )
    .await?
    .map(|r| r.int("balance"))
    .transpose()?
    .unwrap_or(0))
}

/// A customer's latest entries, newest first.
pub async fn ledger(c: &mut dyn Conn, customer_id: i64, limit: i64) -> Result<Vec<Entry>> {
    c.query(
        &format!(
            "SELECT {COLS} FROM points_ledger WHERE customer_id = $1 ORDER BY id DESC LIMIT $2"
        ),
        &[customer_id.into(), limit.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// What an entry is about.
#[derive(Debug, Clone, Copy, Default)]
pub struct About {
    /// The order.
    pub order_id: Option<i64>,
    /// The ticket.
    pub ticket_id: Option<i64>,
    /// Who moved the points.
    pub user_id: Option<i64>,
}

/// Moves `delta` points and appends the entry; refused (409) when the balance would go
/// below zero — then nothing is written.
pub async fn apply(
    c: &mut dyn Conn,
    customer_id: i64,
    delta: i64,
    kind: &str,
    reason: &str,
    about: About,
    now: Timestamp,
) -> Result<Entry> {
    c.execute(
        "INSERT INTO points_balances (customer_id, balance) VALUES ($1, 0)
         ON CONFLICT (customer_id) DO NOTHING",
        &[customer_id.into()],
    )
    .await?;
    let Some(r) = c
        .opt(
            "UPDATE points_balances SET balance = balance + $2
             WHERE customer_id = $1 AND balance + $2 >= 0 RETURNING balance",
            &[customer_id.into(), delta.into()],
        )
        .await?
    else {
        let have = balance(c, customer_id).await?;
        return Err(StoreError::Conflict(format!(
            "not enough points: the balance is {have}"
        )));
    };
    let after = r.int("balance")?;
    // A credit expires after the days the settings say (none: never).
    let expires_at = if delta > 0 {
        super::rules::settings(c)
            .await?
            .expiry_days
            .map(|d| now.plus_secs(d.saturating_mul(86_400)))
    } else {
        None
    };
    let row = c
        .one(
            &format!(
                "INSERT INTO points_ledger (customer_id, delta, balance_after, kind, reason,
                                            order_id, ticket_id, user_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLS}"
            ),
            &[
                customer_id.into(),
                delta.into(),
                after.into(),
                kind.into(),
                reason.into(),
                about.order_id.into(),
                about.ticket_id.into(),
                about.user_id.into(),
                now.into(),
                expires_at.into(),
            ],
        )
        .await?;
    from_row(&row)
}
