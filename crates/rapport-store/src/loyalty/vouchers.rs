//! Vouchers: issued with a fresh random code, listed per customer, and redeemed once by
//! the shop — one conditional update, so of any number of redemptions at once exactly
//! one succeeds.

use rand::RngCore;
use rapport_domain::loyalty::VoucherCode;
use rapport_domain::loyalty::voucher::CODE_CHARS;
use rapport_domain::{EventKind, Timestamp};
use serde_json::json;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::Actor;
use crate::value::Row;

/// A voucher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voucher {
    /// Its id.
    pub id: i64,
    /// The code the customer gives the shop.
    pub code: String,
    /// Whose.
    pub customer_id: i64,
    /// For an amount: the currency.
    pub currency: Option<String>,
    /// For an amount: minor units.
    pub amount: Option<i64>,
    /// For a percentage: how many percent.
    pub percent: Option<i64>,
    /// Why it was given.
    pub reason: String,
    /// Until when it may be used.
    pub expires_at: Option<Timestamp>,
    /// The ticket it was given on.
    pub ticket_id: Option<i64>,
    /// Who gave it.
    pub issued_by: Option<i64>,
    /// The approval it waited for, if it did.
    pub approval_id: Option<i64>,
    /// When the shop took it.
    pub redeemed_at: Option<Timestamp>,
    /// The shop's reference for that (an order id).
    pub redeemed_ref: Option<String>,
    /// When it was issued.
    pub created_at: Timestamp,
}

const COLS: &str = "id, code, customer_id, currency, amount, percent, reason, expires_at,
                    ticket_id, issued_by, approval_id, redeemed_at, redeemed_ref, created_at";

fn from_row(r: &Row) -> Result<Voucher> {
    Ok(Voucher {
        id: r.int("id")?,
        code: r.text("code")?,
        customer_id: r.int("customer_id")?,
        currency: r.opt_text("currency")?,
        amount: r.opt_int("amount")?,
        percent: r.opt_int("percent")?,
        reason: r.text("reason")?,
        expires_at: r.opt_int("expires_at")?.map(Timestamp),
        ticket_id: r.opt_int("ticket_id")?,
        issued_by: r.opt_int("issued_by")?,
        approval_id: r.opt_int("approval_id")?,
        redeemed_at: r.opt_int("redeemed_at")?.map(Timestamp),
        redeemed_ref: r.opt_text("redeemed_ref")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// What a new voucher is.
#[derive(Debug, Clone)]
pub struct NewVoucher<'a> {
    /// Whose.
    pub customer_id: i64,
    /// Currency and amount, or `None` for a percentage.
    pub amount: Option<(&'a str, i64)>,
    /// Percent, or `None` for an amount.
    pub percent: Option<i64>,
    /// Why.
    pub reason: &'a str,
    /// Until when.
    pub expires_at: Option<Timestamp>,
    /// On which ticket.
    pub ticket_id: Option<i64>,
    /// By whom.
    pub issued_by: i64,
    /// After which approval.
    pub approval_id: Option<i64>,
}

/// Issues a voucher with a fresh code.
pub(crate) async fn issue(c: &mut dyn Conn, v: &NewVoucher<'_>, now: Timestamp) -> Result<Voucher> {
    // 60 random bits: a clash is all but impossible; one is retried, not reported.
    for _ in 0..4 {
        let mut bytes = [0u8; CODE_CHARS];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let code = VoucherCode::from_random(bytes);
        let row = c
            .opt(
                &format!(
                    "INSERT INTO vouchers (code, customer_id, currency, amount, percent, reason,
                                           expires_at, ticket_id, issued_by, approval_id,
                                           created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                     ON CONFLICT (code) DO NOTHING RETURNING {COLS}"
                ),
                &[
                    code.as_str().into(),
                    v.customer_id.into(),
                    v.amount.map(|a| a.0).into(),
                    v.amount.map(|a| a.1).into(),
                    v.percent.into(),
                    v.reason.into(),
                    v.expires_at.into(),
                    v.ticket_id.into(),
                    v.issued_by.into(),
                    v.approval_id.into(),
                    now.into(),
                ],
            )
            .await?;
        if let Some(r) = row {
            return from_row(&r);
        }
    }
    Err(StoreError::Db("could not draw a free voucher code".into()))
}

/// One voucher by its code.
pub async fn by_code(c: &mut dyn Conn, code: &VoucherCode) -> Result<Voucher> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM vouchers WHERE code = $1"),
            &[code.as_str().into()],
        )
        .await?
        .ok_or(StoreError::NotFound("voucher"))?;
    from_row(&r)
}

/// Redeems a voucher: once (409 after that, or once it expired). Records
/// `VoucherRedeemed` (on the ticket it was given on, if any).
pub async fn redeem(
    c: &mut dyn Conn,
    actor: Actor,
    code: &VoucherCode,
    reference: Option<&str>,
    now: Timestamp,
) -> Result<Voucher> {
    let row = c
        .opt(
            &format!(
                "UPDATE vouchers SET redeemed_at = $2, redeemed_ref = $3
                 WHERE code = $1 AND redeemed_at IS NULL
                   AND (expires_at IS NULL OR expires_at > $2)
                 RETURNING {COLS}"
            ),
            &[code.as_str().into(), now.into(), reference.into()],
        )
        .await?;
    if let Some(r) = row {
        let v = from_row(&r)?;
        super::gifts::record(
            c,
            v.ticket_id,
            actor,
            EventKind::VoucherRedeemed,
            &json!({"voucher_id": v.id, "code": v.code, "customer_id": v.customer_id,
                    "reference": reference}),
            now,
        )
        .await?;
        return Ok(v);
    }
    let v = by_code(c, code).await?;
    Err(StoreError::Conflict(if v.redeemed_at.is_some() {
        "the voucher was already redeemed".into()
    } else {
        "the voucher has expired".into()
    }))
}

/// A customer's vouchers, newest first.
pub async fn for_customer(c: &mut dyn Conn, customer_id: i64) -> Result<Vec<Voucher>> {
    c.query(
        &format!(
            "SELECT {COLS} FROM vouchers WHERE customer_id = $1
             ORDER BY created_at DESC, id DESC LIMIT 200"
        ),
        &[customer_id.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}
