//! Returns and exchanges: requested for some of an order's items (by an agent, or by the
//! customer whose order it is), then moved through the RMA state machine — each step kept
//! with its time, who made it and their note, and recorded as `ReturnChanged`.

use rapport_domain::commerce::{ReturnMove, ReturnState};
use rapport_domain::{EventKind, FieldError, Timestamp, Viewer};
use serde_json::json;

use super::orders;
use crate::db::Conn;
use crate::dialect;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::value::{Row, Value};

/// One step of a return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `request` or the move made.
    pub action: String,
    /// The state it led to.
    pub state: ReturnState,
    /// The note given (a rejection's reason).
    pub note: Option<String>,
    /// The agent who made it.
    pub user_id: Option<i64>,
    /// The customer who made it.
    pub customer_id: Option<i64>,
    /// When.
    pub at: Timestamp,
}

/// A return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    /// Its id.
    pub id: i64,
    /// The order.
    pub order_id: i64,
    /// Whose.
    pub customer_id: i64,
    /// The ticket it was asked on.
    pub ticket_id: Option<i64>,
    /// Where it stands.
    pub state: ReturnState,
    /// Why the customer sends it back.
    pub reason: String,
    /// The order's currency.
    pub currency: String,
    /// What was paid back (minor units), once refunded.
    pub refund_amount: Option<i64>,
    /// Asked when.
    pub created_at: Timestamp,
    /// Last step when.
    pub updated_at: Timestamp,
    /// SKU and quantity of each item sent back.
    pub lines: Vec<(String, i64)>,
    /// Every step, oldest first.
    pub steps: Vec<Step>,
}

/// Who asks for or moves a return.
#[derive(Debug, Clone)]
pub enum By {
    /// An agent.
    Agent(Viewer),
    /// The customer, signed in to the portal.
    Customer(i64),
}

impl By {
    fn actor(&self) -> Actor {
        match self {
            By::Agent(v) => Actor::User(v.user_id),
            By::Customer(c) => Actor::Customer(*c),
        }
    }
}

const COLS: &str = "id, order_id, customer_id, ticket_id, state, reason, currency, refund_amount,
                    created_at, updated_at";

fn bad_state() -> StoreError {
    StoreError::Db("bad stored return state".into())
}

fn from_row(r: &Row) -> Result<Return> {
    Ok(Return {
        id: r.int("id")?,
        order_id: r.int("order_id")?,
        customer_id: r.int("customer_id")?,
        ticket_id: r.opt_int("ticket_id")?,
        state: ReturnState::parse(&r.text("state")?).map_err(|_| bad_state())?,
        reason: r.text("reason")?,
        currency: r.text("currency")?,
        refund_amount: r.opt_int("refund_amount")?,
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
        lines: Vec::new(),
        steps: Vec::new(),
    })
}

async fn with_parts(c: &mut dyn Conn, mut r: Return) -> Result<Return> {
    for l in c
        .query(
            "SELECT sku, quantity FROM return_lines WHERE return_id = $1 ORDER BY position",
            &[r.id.into()],
        )
        .await?
    {
        r.lines.push((l.text("sku")?, l.int("quantity")?));
    }
    for s in c
        .query(
            "SELECT action, state, note, user_id, customer_id, created_at FROM return_steps
             WHERE return_id = $1 ORDER BY id",
            &[r.id.into()],
        )
        .await?
    {
        r.steps.push(Step {
            action: s.text("action")?,
            state: ReturnState::parse(&s.text("state")?).map_err(|_| bad_state())?,
            note: s.opt_text("note")?,
            user_id: s.opt_int("user_id")?,
            customer_id: s.opt_int("customer_id")?,
            at: Timestamp(s.int("created_at")?),
        });
    }
    Ok(r)
}

/// One return (`customer`: only theirs — another's is not found).
pub async fn get(c: &mut dyn Conn, id: i64, customer: Option<i64>) -> Result<Return> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM returns WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("return"))?;
    let r = from_row(&r)?;
    if customer.is_some_and(|cu| cu != r.customer_id) {
        return Err(StoreError::NotFound("return"));
    }
    with_parts(c, r).await
}

/// A customer's returns, newest first.
pub async fn for_customer(c: &mut dyn Conn, customer_id: i64) -> Result<Vec<Return>> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLS} FROM returns WHERE customer_id = $1
                 ORDER BY created_at DESC, id DESC LIMIT 200"
            ),
            &[customer_id.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(with_parts(c, from_row(r)?).await?);
    }
    Ok(out)
}

async fn step(
    c: &mut dyn Conn,
    r: &Return,
    by: &By,
    action: &str,
    state: ReturnState,
    note: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let (user, customer) = match by {
        By::Agent(v) => (Some(v.user_id), None),
        By::Customer(cu) => (None, Some(*cu)),
    };
    c.execute(
        "INSERT INTO return_steps (return_id, action, state, note, user_id, customer_id,
                                   created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            r.id.into(),
            action.into(),
            state.as_str().into(),
            note.into(),
            user.into(),
            customer.into(),
            now.into(),
        ],
    )
    .await?;
    let data = json!({"return_id": r.id, "order_id": r.order_id, "customer_id": r.customer_id,
                      "action": action, "state": state.as_str(), "note": note});
    match r.ticket_id {
        Some(t) => events::record(c, t, by.actor(), EventKind::ReturnChanged, &data, now).await,
        None => events::record_order(c, by.actor(), EventKind::ReturnChanged, &data, now).await,
    }
}

/// Asks to send back `lines` (SKU and quantity) of an order: each SKU must be on the order
/// and its quantity within what was bought less what other returns (not rejected or
/// cancelled) already take back. A customer may only ask for their own orders; an agent's
/// ticket must be one they may work, of the order's customer.
pub async fn request(
    c: &mut dyn Conn,
    by: &By,
    order_id: i64,
    lines: &[(String, i64)],
    reason: &str,
    ticket_id: Option<i64>,
    now: Timestamp,
) -> Result<Return> {
    let order = orders::get(c, order_id).await?;
    if let By::Customer(cu) = by {
        if *cu != order.customer_id {
            return Err(StoreError::NotFound("order"));
        }
        // Customers send back what arrived; an agent may start a return at any point.
        if order.status != rapport_domain::commerce::OrderStatus::Delivered {
            return Err(StoreError::Conflict(
                "only a delivered order can be sent back".into(),
            ));
        }
    }
    if let (By::Agent(v), Some(t)) = (by, ticket_id) {
        let ticket = crate::tickets::get_for_agent(c, v, t).await?;
        if ticket.customer.id != order.customer_id {
            return Err(FieldError::new("ticket_id", "is another customer's ticket").into());
        }
    }
    if lines.is_empty() || lines.len() > 100 {
        return Err(FieldError::new("lines", "name 1 to 100 items to send back").into());
    }
    let taken = c
        .query(
            "SELECT l.sku, CAST(SUM(l.quantity) AS BIGINT) AS n
             FROM return_lines l JOIN returns r ON r.id = l.return_id
             WHERE r.order_id = $1 AND r.state NOT IN ('rejected', 'cancelled')
             GROUP BY l.sku",
            &[order_id.into()],
        )
        .await?
        .iter()
        .map(|r| Ok((r.text("sku")?, r.int("n")?)))
        .collect::<Result<Vec<(String, i64)>>>()?;
    for (i, (sku, qty)) in lines.iter().enumerate() {
        let bought: i64 = order
            .lines
            .iter()
            .filter(|l| l.sku == *sku)
            .map(|l| l.quantity)
            .sum();
        if bought == 0 {
            return Err(FieldError::new(format!("lines[{i}].sku"), "is not on the order").into());
        }
        let already: i64 = taken
            .iter()
            .filter(|(s, _)| s == sku)
            .map(|(_, n)| n)
            .sum::<i64>()
            + lines[..i]
                .iter()
                .filter(|(s, _)| s == sku)
                .map(|(_, n)| n)
                .sum::<i64>();
        if *qty < 1 || *qty > bought - already {
            return Err(FieldError::new(
                format!("lines[{i}].quantity"),
                format!("must be from 1 to {}", (bought - already).max(0)),
            )
            .into());
        }
    }
    let row = c
        .one(
            &format!(
                "INSERT INTO returns (order_id, customer_id, ticket_id, state, reason, currency,
                                      created_at, updated_at)
                 VALUES ($1, $2, $3, 'requested', $4, $5, $6, $6) RETURNING {COLS}"
            ),
            &[
                order_id.into(),
                order.customer_id.into(),
                ticket_id.into(),
                reason.into(),
                order.currency.as_str().into(),
                now.into(),
            ],
        )
        .await?;
    let r = from_row(&row)?;
    for (i, (sku, qty)) in lines.iter().enumerate() {
        c.execute(
            "INSERT INTO return_lines (return_id, position, sku, quantity) VALUES ($1, $2, $3, $4)",
            &[
                r.id.into(),
                (i as i64).into(),
                sku.as_str().into(),
                (*qty).into(),
            ],
        )
        .await?;
    }
    step(
        c,
        &r,
        by,
        "request",
        ReturnState::Requested,
        Some(reason),
        now,
    )
    .await?;
    get(c, r.id, None).await
}

/// Makes move `m` on return `id`: refused (409) when the state machine does not allow it;
/// a rejection needs a note; a refund records `amount` (minor units; default the value of
/// the items sent back), never more than the order's total. A customer may only cancel
/// their own return.
pub async fn advance(
    c: &mut dyn Conn,
    by: &By,
    id: i64,
    m: ReturnMove,
    note: Option<&str>,
    amount: Option<i64>,
    now: Timestamp,
) -> Result<Return> {
    let row = c
        .opt(
            &format!(
                "SELECT {COLS} FROM returns rt WHERE id = $1{}",
                dialect::row_lock(c.backend(), "rt")
            ),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("return"))?;
    let mut r = with_parts(c, from_row(&row)?).await?;
    if let By::Customer(cu) = by {
        if *cu != r.customer_id {
            return Err(StoreError::NotFound("return"));
        }
        if m != ReturnMove::Cancel {
            return Err(StoreError::Forbidden("customers may only cancel a return"));
        }
    }
    let next = r
        .state
        .after(m)
        .map_err(|e| StoreError::Conflict(e.message))?;
    if m == ReturnMove::Reject && note.is_none() {
        return Err(FieldError::new("note", "say why the return is rejected").into());
    }
    let refund = if m == ReturnMove::Refund {
        super::billing::lock_order(c, r.order_id).await?;
        let order = orders::get(c, r.order_id).await?;
        let left = order.total - super::billing::refunded(c, r.order_id).await?;
        let value: i64 = r
            .lines
            .iter()
            .map(|(sku, qty)| {
                order
                    .lines
                    .iter()
                    .find(|l| l.sku == *sku)
                    .map_or(0, |l| l.unit_price.saturating_mul(*qty))
            })
            .sum();
        let a = amount.unwrap_or(value.min(left.max(0)));
        if a < 0 || a > left {
            return Err(FieldError::new(
                "refund_amount",
                "must be from zero to what is left to refund on the order",
            )
            .into());
        }
        Some(a)
    } else {
        r.refund_amount
    };
    let p: Vec<Value> = vec![id.into(), next.as_str().into(), refund.into(), now.into()];
    c.execute(
        "UPDATE returns SET state = $2, refund_amount = $3, updated_at = $4 WHERE id = $1",
        &p,
    )
    .await?;
    r.state = next;
    step(c, &r, by, m.as_str(), next, note, now).await?;
    get(c, id, None).await
}
