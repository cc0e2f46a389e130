//! Billing: invoices and payments the shop pushes (created once per shop id, updated
//! after), and refunds — records an agent makes (within their goodwill limit, or after a
//! supervisor's approval; see `loyalty::gifts`) for the shop to pay back and mark done.

use rapport_domain::commerce::billing::{NewRecord, RefundState};
use rapport_domain::{EventKind, FieldError, Timestamp};
use serde_json::json;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::value::Row;

/// An invoice or a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its id here.
    pub id: i64,
    /// The shop's id.
    pub external_id: String,
    /// Whose.
    pub customer_id: i64,
    /// The order it is for.
    pub order_id: Option<i64>,
    /// A payment's invoice.
    pub invoice_id: Option<i64>,
    /// An invoice's number, a payment's method.
    pub label: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Minor units.
    pub amount: i64,
    /// An invoice's status (`paid` for a payment).
    pub status: String,
    /// Issued or paid when.
    pub at: Timestamp,
    /// An invoice's due date.
    pub due_at: Option<Timestamp>,
}

/// Which record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An invoice.
    Invoice,
    /// A payment.
    Payment,
}

const INVOICE_COLS: &str =
    "id, external_id, customer_id, order_id, CAST(NULL AS BIGINT) AS invoice_id,
     number AS label, currency, amount, status, issued_at AS at, due_at";
const PAYMENT_COLS: &str = "id, external_id, customer_id, order_id, invoice_id, method AS label,
     currency, amount, 'paid' AS status, paid_at AS at, CAST(NULL AS BIGINT) AS due_at";

fn record_of(r: &Row) -> Result<Record> {
    Ok(Record {
        id: r.int("id")?,
        external_id: r.text("external_id")?,
        customer_id: r.int("customer_id")?,
        order_id: r.opt_int("order_id")?,
        invoice_id: r.opt_int("invoice_id")?,
        label: r.text("label")?,
        currency: r.text("currency")?,
        amount: r.int("amount")?,
        status: r.text("status")?,
        at: Timestamp(r.int("at")?),
        due_at: r.opt_int("due_at")?.map(Timestamp),
    })
}

async fn order_id(c: &mut dyn Conn, rec: &NewRecord, customer: i64) -> Result<Option<i64>> {
    let Some(ext) = &rec.order_external_id else {
        return Ok(None);
    };
    let r = c
        .opt(
            "SELECT id, customer_id FROM orders WHERE external_id = $1",
            &[ext.as_str().into()],
        )
        .await?
        .ok_or_else(|| FieldError::new("order_external_id", "no order has this id"))?;
    if r.int("customer_id")? != customer {
        return Err(FieldError::new("order_external_id", "is another customer's order").into());
    }
    Ok(Some(r.int("id")?))
}

/// Stores an invoice or payment the shop pushed: created the first time its id is seen
/// (true), updated after (false).
pub async fn push(
    c: &mut dyn Conn,
    kind: Kind,
    rec: &NewRecord,
    now: Timestamp,
) -> Result<(Record, bool)> {
    let customer = crate::customers::find_or_create(c, &rec.email, rec.name.as_ref(), now).await?;
    let order = order_id(c, rec, customer).await?;
    let (table, cols) = match kind {
        Kind::Invoice => ("invoices", INVOICE_COLS),
        Kind::Payment => ("payments", PAYMENT_COLS),
    };
    let invoice = match (&rec.invoice_external_id, kind) {
        (Some(ext), Kind::Payment) => Some(
            c.opt(
                "SELECT id FROM invoices WHERE external_id = $1 AND customer_id = $2",
                &[ext.as_str().into(), customer.into()],
            )
            .await?
            .ok_or_else(|| {
                FieldError::new(
                    "invoice_external_id",
                    "no invoice of this customer has this id",
                )
            })?
            .int("id")?,
        ),
        _ => None,
    };
    let existing = c
        .opt(
            &format!("SELECT id FROM {table} WHERE external_id = $1"),
            &[rec.external_id.as_str().into()],
        )
        .await?
        .map(|r| r.int("id"))
        .transpose()?;
    let created = existing.is_none();
    let id = match (existing, kind) {
        (None, Kind::Invoice) => c
            .one(
                "INSERT INTO invoices (external_id, customer_id, order_id, number, currency, amount,
                                       status, issued_at, due_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                &[
                    rec.external_id.as_str().into(),
                    customer.into(),
                    order.into(),
                    rec.label.as_str().into(),
                    rec.currency.code().into(),
                    rec.amount.into(),
                    rec.status.as_str().into(),
                    rec.at.into(),
                    rec.due_at.into(),
                    now.into(),
                ],
            )
            .await?
            .int("id")?,
        (Some(id), Kind::Invoice) => {
            c.execute(
                "UPDATE invoices SET customer_id = $2, order_id = $3, number = $4, currency = $5,
                        amount = $6, status = $7, issued_at = $8, due_at = $9, updated_at = $10
                 WHERE id = $1",
                &[
                    id.into(),
                    customer.into(),
                    order.into(),
                    rec.label.as_str().into(),
                    rec.currency.code().into(),
                    rec.amount.into(),
                    rec.status.as_str().into(),
                    rec.at.into(),
                    rec.due_at.into(),
                    now.into(),
                ],
            )
            .await?;
            id
        }
        (None, Kind::Payment) => c
            .one(
                "INSERT INTO payments (external_id, customer_id, order_id, invoice_id, method,
                                       currency, amount, paid_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
                &[
                    rec.external_id.as_str().into(),
                    customer.into(),
                    order.into(),
                    invoice.into(),
                    rec.label.as_str().into(),
                    rec.currency.code().into(),
                    rec.amount.into(),
                    rec.at.into(),
                    now.into(),
                ],
            )
            .await?
            .int("id")?,
        (Some(id), Kind::Payment) => {
            c.execute(
                "UPDATE payments SET customer_id = $2, order_id = $3, invoice_id = $4, method = $5,
                        currency = $6, amount = $7, paid_at = $8, updated_at = $9
                 WHERE id = $1",
                &[
                    id.into(),
                    customer.into(),
                    order.into(),
                    invoice.into(),
                    rec.label.as_str().into(),
                    rec.currency.code().into(),
                    rec.amount.into(),
                    rec.at.into(),
                    now.into(),
                ],
            )
            .await?;
            id
        }
    };
    let stored = record_of(
        &c.one(
            &format!("SELECT {cols} FROM {table} WHERE id = $1"),
            &[id.into()],
        )
        .await?,
    )?;
    Ok((stored, created))
}

/// A customer's invoices and payments, newest first (at most 100 each).
pub async fn for_customer(c: &mut dyn Conn, customer: i64) -> Result<(Vec<Record>, Vec<Record>)> {
    let mut out = Vec::new();
    for (table, cols, order) in [
        ("invoices", INVOICE_COLS, "issued_at"),
        ("payments", PAYMENT_COLS, "paid_at"),
    ] {
        out.push(
            c.query(
                &format!(
                    "SELECT {cols} FROM {table} WHERE customer_id = $1
                     ORDER BY {order} DESC, id DESC LIMIT 100"
                ),
                &[customer.into()],
            )
            .await?
            .iter()
            .map(record_of)
            .collect::<Result<Vec<_>>>()?,
        );
    }
    let payments = out.pop().unwrap_or_default();
    let invoices = out.pop().unwrap_or_default();
    Ok((invoices, payments))
}

/// A refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// Its id.
    pub id: i64,
    /// Whose.
    pub customer_id: i64,
    /// The order paid back.
    pub order_id: i64,
    /// ISO 4217 code (the order's).
    pub currency: String,
    /// Minor units.
    pub amount: i64,
    /// Why.
    pub reason: String,
    /// The ticket it was given on.
    pub ticket_id: Option<i64>,
    /// Who gave it.
    pub issued_by: Option<i64>,
    /// The approval it waited for.
    pub approval_id: Option<i64>,
    /// Open until the shop marks it done.
    pub state: RefundState,
    /// The shop's reference for the payment back.
    pub reference: Option<String>,
    /// When the shop marked it done.
    pub done_at: Option<Timestamp>,
    /// When it was recorded.
    pub created_at: Timestamp,
}

const REFUND_COLS: &str = "id, customer_id, order_id, currency, amount, reason, ticket_id,
     issued_by, approval_id, state, reference, done_at, created_at";

fn refund_of(r: &Row) -> Result<Refund> {
    Ok(Refund {
        id: r.int("id")?,
        customer_id: r.int("customer_id")?,
        order_id: r.int("order_id")?,
        currency: r.text("currency")?,
        amount: r.int("amount")?,
        reason: r.text("reason")?,
        ticket_id: r.opt_int("ticket_id")?,
        issued_by: r.opt_int("issued_by")?,
        approval_id: r.opt_int("approval_id")?,
        state: RefundState::parse(&r.text("state")?)
            .map_err(|_| StoreError::Db("bad stored refund state".into()))?,
        reference: r.opt_text("reference")?,
        done_at: r.opt_int("done_at")?.map(Timestamp),
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// Locks an order's row until the transaction ends (PostgreSQL; SQLite's one writer
/// already serialises), so two refunds of one order are summed in turn.
pub async fn lock_order(c: &mut dyn Conn, order_id: i64) -> Result<()> {
    let lock = crate::dialect::row_lock(c.backend(), "orders");
    c.opt(
        &format!("SELECT id FROM orders WHERE id = $1{lock}"),
        &[order_id.into()],
    )
    .await?
    .ok_or(StoreError::NotFound("order"))?;
    Ok(())
}

/// What was paid back on an order so far: refunds recorded, and returns refunded.
pub async fn refunded(c: &mut dyn Conn, order_id: i64) -> Result<i64> {
    c.one(
        "SELECT CAST(COALESCE((SELECT SUM(amount) FROM refunds WHERE order_id = $1), 0)
                   + COALESCE((SELECT SUM(refund_amount) FROM returns
                               WHERE order_id = $1 AND state = 'refunded'), 0) AS BIGINT) AS s",
        &[order_id.into()],
    )
    .await?
    .int("s")
}

/// How much of an order is still refundable (its total less the refunds recorded and the
/// returns refunded), and its currency, with the order locked. 422 when the order is not
/// the customer's.
pub async fn refundable(c: &mut dyn Conn, order_id: i64, customer: i64) -> Result<(i64, String)> {
    lock_order(c, order_id).await?;
    let o = crate::commerce::orders::get(c, order_id).await?;
    if o.customer_id != customer {
        return Err(FieldError::new("order_id", "is another customer's order").into());
    }
    let done = refunded(c, order_id).await?;
    Ok((o.total - done, o.currency))
}

/// The details of a refund to record.
pub struct NewRefund<'a> {
    /// Whose.
    pub customer_id: i64,
    /// Which order.
    pub order_id: i64,
    /// Minor units of the order's currency.
    pub amount: i64,
    /// Why.
    pub reason: &'a str,
    /// On which ticket.
    pub ticket_id: Option<i64>,
    /// By whom.
    pub issued_by: i64,
    /// After which approval.
    pub approval_id: Option<i64>,
}

/// Records a refund (never more than what is left of the order: 422).
pub async fn record_refund(c: &mut dyn Conn, r: &NewRefund<'_>, now: Timestamp) -> Result<Refund> {
    let (left, currency) = refundable(c, r.order_id, r.customer_id).await?;
    if r.amount > left {
        return Err(FieldError::new(
            "amount",
            format!(
                "is more than is left to refund on the order ({})",
                rapport_domain::commerce::format_minor(left.max(0), &currency)
            ),
        )
        .into());
    }
    let row = c
        .one(
            &format!(
                "INSERT INTO refunds (customer_id, order_id, currency, amount, reason, ticket_id,
                                      issued_by, approval_id, state, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9) RETURNING {REFUND_COLS}"
            ),
            &[
                r.customer_id.into(),
                r.order_id.into(),
                currency.as_str().into(),
                r.amount.into(),
                r.reason.into(),
                r.ticket_id.into(),
                r.issued_by.into(),
                r.approval_id.into(),
                now.into(),
            ],
        )
        .await?;
    refund_of(&row)
}

/// One refund.
pub async fn refund(c: &mut dyn Conn, id: i64) -> Result<Refund> {
    let r = c
        .opt(
            &format!("SELECT {REFUND_COLS} FROM refunds WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("refund"))?;
    refund_of(&r)
}

/// A customer's refunds `viewer` may see (given on tickets of their teams, or on none),
/// oldest first.
pub async fn refunds_seen(
    c: &mut dyn Conn,
    viewer: &rapport_domain::Viewer,
    customer: i64,
) -> Result<Vec<Refund>> {
    let seen = crate::crm::timeline::team_filter(viewer);
    let cols: Vec<String> = REFUND_COLS
        .split(',')
        .map(|c| format!("r.{}", c.trim()))
        .collect();
    c.query(
        &format!(
            "SELECT {} FROM refunds r LEFT JOIN tickets t ON t.id = r.ticket_id
             WHERE r.customer_id = $1{seen} ORDER BY r.id LIMIT 500",
            cols.join(", ")
        ),
        &[customer.into()],
    )
    .await?
    .iter()
    .map(refund_of)
    .collect()
}

/// Refunds, oldest first: a customer's, or those in `state` (the shop's queue).
pub async fn refunds(
    c: &mut dyn Conn,
    customer: Option<i64>,
    state: Option<RefundState>,
    limit: i64,
) -> Result<Vec<Refund>> {
    c.query(
        &format!(
            "SELECT {REFUND_COLS} FROM refunds
             WHERE ($1 = 0 OR customer_id = $1) AND ($2 = '' OR state = $2)
             ORDER BY id LIMIT $3"
        ),
        &[
            customer.unwrap_or(0).into(),
            state.map_or("", |s| s.as_str()).into(),
            limit.into(),
        ],
    )
    .await?
    .iter()
    .map(refund_of)
    .collect()
}

/// The shop marks a refund paid back: once (409 after).
pub async fn mark_done(
    c: &mut dyn Conn,
    actor: Actor,
    id: i64,
    reference: Option<&str>,
    now: Timestamp,
) -> Result<Refund> {
    let n = c
        .execute(
            "UPDATE refunds SET state = 'done', reference = $2, done_at = $3
             WHERE id = $1 AND state = 'open'",
            &[id.into(), reference.into(), now.into()],
        )
        .await?;
    let r = refund(c, id).await?;
    if n == 0 {
        return Err(StoreError::Conflict(
            "this refund was already marked done".into(),
        ));
    }
    let data = json!({"refund_id": id, "order_id": r.order_id, "customer_id": r.customer_id,
                      "currency": r.currency, "amount_minor": r.amount, "reference": reference});
    match r.ticket_id {
        Some(t) => events::record(c, t, actor, EventKind::RefundDone, &data, now).await?,
        None => events::record_order(c, actor, EventKind::RefundDone, &data, now).await?,
    }
    Ok(r)
}
