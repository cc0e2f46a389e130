//! Goodwill given from a ticket or the API: a voucher, reward points or a refund on an
//! order (a record for the shop to pay back). Within the
//! giver's limit it is given at once; above it, it waits as an approval request that a
//! supervisor approves (then it is given, counted as the requester's) or declines.

use rapport_domain::loyalty::{GoodwillKind, VoucherValue};
use rapport_domain::{EventKind, FieldError, Permission, Timestamp, Viewer};
use serde_json::{Value as Json, json};

use super::approvals::{self, Approval};
use super::limits;
use super::points::{self, About, Entry};
use super::vouchers::{self, NewVoucher, Voucher};
use crate::commerce::billing::{self, NewRefund, Refund};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};

/// What an agent gives a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gift {
    /// A voucher.
    Voucher {
        /// Whose.
        customer_id: i64,
        /// Worth.
        value: VoucherValue,
        /// Until.
        expires_at: Option<Timestamp>,
        /// Why.
        reason: String,
        /// On which ticket.
        ticket_id: Option<i64>,
    },
    /// Reward points.
    Points {
        /// Whose.
        customer_id: i64,
        /// How many (positive).
        points: i64,
        /// Why.
        reason: String,
        /// On which ticket.
        ticket_id: Option<i64>,
    },
    /// Money back on an order, in the order's currency.
    Refund {
        /// Whose.
        customer_id: i64,
        /// Which order.
        order_id: i64,
        /// How much (minor units, positive).
        amount: i64,
        /// The order's currency.
        currency: String,
        /// Why.
        reason: String,
        /// On which ticket.
        ticket_id: Option<i64>,
    },
}

impl Gift {
    /// Whose gift.
    pub fn customer_id(&self) -> i64 {
        match self {
            Gift::Voucher { customer_id, .. }
            | Gift::Points { customer_id, .. }
            | Gift::Refund { customer_id, .. } => *customer_id,
        }
    }

    /// On which ticket.
    pub fn ticket_id(&self) -> Option<i64> {
        match self {
            Gift::Voucher { ticket_id, .. }
            | Gift::Points { ticket_id, .. }
            | Gift::Refund { ticket_id, .. } => *ticket_id,
        }
    }

    /// The limit it falls under, in which currency, and how much of it it uses.
    fn measure(&self) -> (GoodwillKind, String, i64) {
        match self {
            Gift::Voucher {
                value: VoucherValue::Amount(m),
                ..
            } => (GoodwillKind::Voucher, m.currency.code().to_owned(), m.minor),
            Gift::Voucher {
                value: VoucherValue::Percent(p),
                ..
            } => (GoodwillKind::VoucherPercent, String::new(), *p),
            Gift::Points { points, .. } => (GoodwillKind::Points, String::new(), *points),
            Gift::Refund {
                amount, currency, ..
            } => (GoodwillKind::Refund, currency.clone(), *amount),
        }
    }

    /// The request as an approval keeps it.
    pub(crate) fn to_json(&self) -> Json {
        match self {
            Gift::Voucher {
                customer_id,
                value,
                expires_at,
                reason,
                ticket_id,
            } => {
                let (amount, currency, percent) = match value {
                    VoucherValue::Amount(m) => (Some(m.minor), Some(m.currency.code()), None),
                    VoucherValue::Percent(p) => (None, None, Some(*p)),
                };
                json!({"kind": "voucher", "customer_id": customer_id, "amount_minor": amount,
                       "currency": currency, "percent": percent,
                       "expires_at": expires_at.map(|t| t.micros()), "reason": reason,
                       "ticket_id": ticket_id})
            }
            Gift::Points {
                customer_id,
                points,
                reason,
                ticket_id,
            } => json!({"kind": "points", "customer_id": customer_id, "points": points,
                        "reason": reason, "ticket_id": ticket_id}),
            Gift::Refund {
                customer_id,
                order_id,
                amount,
                currency,
                reason,
                ticket_id,
            } => json!({"kind": "refund", "customer_id": customer_id, "order_id": order_id,
                        "amount_minor": amount, "currency": currency, "reason": reason,
                        "ticket_id": ticket_id}),
        }
    }

    /// Reads a request an approval kept.
    pub(crate) fn from_json(v: &Json) -> Result<Self> {
        let bad = || StoreError::Db("bad stored approval request".into());
        let customer_id = v["customer_id"].as_i64().ok_or_else(bad)?;
        let reason = v["reason"].as_str().ok_or_else(bad)?.to_owned();
        let ticket_id = v["ticket_id"].as_i64();
        match v["kind"].as_str() {
            Some("voucher") => {
                let value = match (v["percent"].as_i64(), v["amount_minor"].as_i64()) {
                    (Some(p), _) => VoucherValue::percent(p)?,
                    (None, Some(minor)) => {
                        let cur = rapport_domain::commerce::Currency::parse(
                            "currency",
                            v["currency"].as_str().ok_or_else(bad)?,
                        )?;
                        VoucherValue::amount(rapport_domain::commerce::Money::new(minor, cur))?
                    }
                    (None, None) => return Err(bad()),
                };
                Ok(Gift::Voucher {
                    customer_id,
                    value,
                    expires_at: v["expires_at"].as_i64().map(Timestamp),
                    reason,
                    ticket_id,
                })
            }
            Some("points") => Ok(Gift::Points {
                customer_id,
                points: v["points"].as_i64().ok_or_else(bad)?,
                reason,
                ticket_id,
            }),
            Some("refund") => Ok(Gift::Refund {
                customer_id,
                order_id: v["order_id"].as_i64().ok_or_else(bad)?,
                amount: v["amount_minor"].as_i64().ok_or_else(bad)?,
                currency: v["currency"].as_str().ok_or_else(bad)?.to_owned(),
                reason,
                ticket_id,
            }),
            _ => Err(bad()),
        }
    }
}

/// What giving did.
#[derive(Debug, Clone)]
pub enum Given {
    /// A voucher was issued.
    Voucher(Voucher),
    /// Points were credited.
    Points(Entry),
    /// A refund was recorded.
    Refund(Refund),
    /// It waits for a supervisor.
    Pending(Approval),
}

/// Gives `gift` as `viewer`: at once within their limit, else as an approval request.
/// The customer must exist; a ticket named must be one the viewer may work, of that
/// customer.
pub async fn give(c: &mut dyn Conn, viewer: &Viewer, gift: &Gift, now: Timestamp) -> Result<Given> {
    crate::customers::get(c, gift.customer_id()).await?;
    match gift.ticket_id() {
        Some(t) => check_ticket(c, viewer, t, gift.customer_id()).await?,
        // An agent gives from a ticket they work: never to any customer they name.
        None if !viewer.can(Permission::SeeAllTeams) => {
            return Err(FieldError::new(
                "ticket_id",
                "agents give goodwill from a ticket they work: name it",
            )
            .into());
        }
        None => {}
    }
    if let Gift::Refund {
        order_id,
        amount,
        customer_id,
        ..
    } = gift
    {
        // Checked before asking anyone: a refund above what is left is never approved.
        let (left, _) = billing::refundable(c, *order_id, *customer_id).await?;
        if *amount > left {
            return Err(
                FieldError::new("amount", "is more than is left to refund on the order").into(),
            );
        }
    }
    let (kind, currency, asked) = gift.measure();
    if limits::allows(c, viewer, kind, &currency, gift.customer_id(), asked, now).await? {
        carry_out(c, gift, viewer.user_id, None, None, now).await
    } else {
        Ok(Given::Pending(
            approvals::request(c, viewer, gift, now).await?,
        ))
    }
}

/// Checks that `viewer` may work ticket `t` and that it is `customer_id`'s.
pub(crate) async fn check_ticket(
    c: &mut dyn Conn,
    viewer: &Viewer,
    t: i64,
    customer_id: i64,
) -> Result<()> {
    let ticket = crate::tickets::get_for_agent(c, viewer, t).await?;
    if ticket.customer.id != customer_id {
        return Err(FieldError::new("ticket_id", "is another customer's ticket").into());
    }
    Ok(())
}

/// Gives `gift` on behalf of `user_id` (after `approved_by`'s approval, when it waited):
/// issues or credits, counts it against the giver's limit, and records the event.
pub(crate) async fn carry_out(
    c: &mut dyn Conn,
    gift: &Gift,
    user_id: i64,
    approved_by: Option<i64>,
    approval_id: Option<i64>,
    now: Timestamp,
) -> Result<Given> {
    let (kind, currency, asked) = gift.measure();
    let (given, event, data) = match gift {
        Gift::Voucher {
            customer_id,
            value,
            expires_at,
            reason,
            ticket_id,
        } => {
            let v = vouchers::issue(
                c,
                &NewVoucher {
                    customer_id: *customer_id,
                    amount: match value {
                        VoucherValue::Amount(m) => Some((m.currency.code(), m.minor)),
                        VoucherValue::Percent(_) => None,
                    },
                    percent: match value {
                        VoucherValue::Percent(p) => Some(*p),
                        VoucherValue::Amount(_) => None,
                    },
                    reason,
                    expires_at: *expires_at,
                    ticket_id: *ticket_id,
                    issued_by: user_id,
                    approval_id,
                },
                now,
            )
            .await?;
            let data = json!({"voucher_id": v.id, "code": v.code, "customer_id": customer_id,
                              "currency": v.currency, "amount_minor": v.amount,
                              "percent": v.percent, "approved_by": approved_by});
            (Given::Voucher(v), EventKind::VoucherIssued, data)
        }
        Gift::Points {
            customer_id,
            points,
            reason,
            ticket_id,
        } => {
            let e = points::apply(
                c,
                *customer_id,
                *points,
                points::GOODWILL,
                reason,
                About {
                    order_id: None,
                    ticket_id: *ticket_id,
                    user_id: Some(user_id),
                },
                now,
            )
            .await?;
            let data = json!({"customer_id": customer_id, "points": points,
                              "balance": e.balance_after, "approved_by": approved_by});
            (Given::Points(e), EventKind::PointsGiven, data)
        }
        Gift::Refund {
            customer_id,
            order_id,
            amount,
            reason,
            ticket_id,
            ..
        } => {
            let r = billing::record_refund(
                c,
                &NewRefund {
                    customer_id: *customer_id,
                    order_id: *order_id,
                    amount: *amount,
                    reason,
                    ticket_id: *ticket_id,
                    issued_by: user_id,
                    approval_id,
                },
                now,
            )
            .await?;
            let data = json!({"refund_id": r.id, "order_id": order_id, "customer_id": customer_id,
                              "currency": r.currency, "amount_minor": r.amount,
                              "approved_by": approved_by});
            (Given::Refund(r), EventKind::RefundIssued, data)
        }
    };
    limits::record(
        c,
        kind,
        user_id,
        approved_by,
        gift.customer_id(),
        gift.ticket_id(),
        &currency,
        asked,
        now,
    )
    .await?;
    record(c, gift.ticket_id(), Actor::User(user_id), event, &data, now).await?;
    Ok(given)
}

/// Records a loyalty event: on the ticket's history when there is one.
pub(crate) async fn record(
    c: &mut dyn Conn,
    ticket_id: Option<i64>,
    actor: Actor,
    kind: EventKind,
    data: &Json,
    now: Timestamp,
) -> Result<()> {
    match ticket_id {
        Some(t) => events::record(c, t, actor, kind, data, now).await,
        None => events::record_order(c, actor, kind, data, now).await,
    }
}
