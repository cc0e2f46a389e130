//! Approval requests: a gift above its giver's limit waits here until a supervisor
//! approves it (it is then given, as the requester's) or declines it, once.

use rapport_domain::{EventKind, Timestamp, Viewer};
use serde_json::{Value as Json, json};

use super::gifts::{self, Gift, Given};
use crate::db::Conn;
use crate::dialect;
use crate::error::{Result, StoreError};
use crate::events::Actor;
use crate::value::Row;

/// Waiting for a decision.
pub const PENDING: &str = "pending";
/// Approved: the gift was given.
pub const APPROVED: &str = "approved";
/// Declined: nothing was given.
pub const DECLINED: &str = "declined";

/// An approval request.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    /// Its id.
    pub id: i64,
    /// `voucher` or `points`.
    pub kind: String,
    /// For whom.
    pub customer_id: i64,
    /// On which ticket.
    pub ticket_id: Option<i64>,
    /// Who asked.
    pub requested_by: i64,
    /// What was asked, as given.
    pub request: Json,
    /// `pending`, `approved` or `declined`.
    pub state: String,
    /// Who decided.
    pub decided_by: Option<i64>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// The decider's note.
    pub note: Option<String>,
    /// What approving made (the voucher's id and code, or the points entry).
    pub result: Option<Json>,
    /// When it was asked.
    pub created_at: Timestamp,
}

const COLS: &str = "id, kind, customer_id, ticket_id, requested_by, request, state, decided_by,
                    decided_at, note, result, created_at";

fn from_row(r: &Row) -> Result<Approval> {
    Ok(Approval {
        id: r.int("id")?,
        kind: r.text("kind")?,
        customer_id: r.int("customer_id")?,
        ticket_id: r.opt_int("ticket_id")?,
        requested_by: r.int("requested_by")?,
        request: serde_json::from_str(&r.text("request")?)?,
        state: r.text("state")?,
        decided_by: r.opt_int("decided_by")?,
        decided_at: r.opt_int("decided_at")?.map(Timestamp),
        note: r.opt_text("note")?,
        result: r
            .opt_text("result")?
            .map(|t| serde_json::from_str(&t))
            .transpose()?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// Files a request for `gift`.
pub(crate) async fn request(
    c: &mut dyn Conn,
    viewer: &Viewer,
    gift: &Gift,
    now: Timestamp,
) -> Result<Approval> {
    let req = gift.to_json();
    let row = c
        .one(
            &format!(
                "INSERT INTO approvals (kind, customer_id, ticket_id, requested_by, request, state,
                                        created_at)
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING {COLS}"
            ),
            &[
                req["kind"].as_str().unwrap_or("").into(),
                gift.customer_id().into(),
                gift.ticket_id().into(),
                viewer.user_id.into(),
                req.to_string().into(),
                now.into(),
            ],
        )
        .await?;
    let a = from_row(&row)?;
    gifts::record(
        c,
        a.ticket_id,
        Actor::User(viewer.user_id),
        EventKind::ApprovalRequested,
        &json!({"approval_id": a.id, "request": a.request}),
        now,
    )
    .await?;
    Ok(a)
}

/// One request.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Approval> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM approvals WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("approval"))?;
    from_row(&r)
}

/// Requests in a state (all when `None`), oldest first for pending, newest otherwise.
pub async fn list(c: &mut dyn Conn, state: Option<&str>) -> Result<Vec<Approval>> {
    let rows = match state {
        Some(s) => {
            c.query(
                &format!(
                    "SELECT {COLS} FROM approvals WHERE state = $1
                     ORDER BY created_at, id LIMIT 500"
                ),
                &[s.into()],
            )
            .await?
        }
        None => {
            c.query(
                &format!(
                    "SELECT {COLS} FROM approvals ORDER BY created_at DESC, id DESC LIMIT 500"
                ),
                &[],
            )
            .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Approves (the gift is given, counted as the requester's) or declines a pending
/// request, once: a request already decided is a conflict.
pub async fn decide(
    c: &mut dyn Conn,
    viewer: &Viewer,
    id: i64,
    approve: bool,
    note: Option<&str>,
    now: Timestamp,
) -> Result<Approval> {
    let row = c
        .opt(
            &format!(
                "SELECT {COLS} FROM approvals a WHERE id = $1{}",
                dialect::row_lock(c.backend(), "a")
            ),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("approval"))?;
    let a = from_row(&row)?;
    if a.state != PENDING {
        return Err(StoreError::Conflict(format!(
            "the request was already {}",
            a.state
        )));
    }
    if a.requested_by == viewer.user_id {
        return Err(StoreError::Forbidden(
            "a request is approved or declined by someone other than who asked",
        ));
    }
    let result = if approve {
        let gift = Gift::from_json(&a.request)?;
        // What held when it was asked must hold now: the ticket is still the customer's,
        // the voucher not already expired.
        if let Some(t) = gift.ticket_id() {
            let still = c
                .opt("SELECT customer_id FROM tickets WHERE id = $1", &[t.into()])
                .await?
                .map(|r| r.int("customer_id"))
                .transpose()?;
            if still != Some(gift.customer_id()) {
                return Err(StoreError::Conflict(
                    "the ticket is no longer this customer's: decline it".into(),
                ));
            }
        }
        if let Gift::Voucher {
            expires_at: Some(e),
            ..
        } = &gift
            && *e <= now
        {
            return Err(StoreError::Conflict(
                "the voucher would already have expired: decline it".into(),
            ));
        }
        let given = gifts::carry_out(
            c,
            &gift,
            a.requested_by,
            Some(viewer.user_id),
            Some(a.id),
            now,
        )
        .await?;
        Some(match given {
            Given::Voucher(v) => json!({"voucher_id": v.id, "code": v.code}),
            Given::Points(e) => json!({"points_entry_id": e.id, "balance": e.balance_after}),
            Given::Refund(r) => json!({"refund_id": r.id}),
            Given::Pending(_) => Json::Null,
        })
    } else {
        None
    };
    let state = if approve { APPROVED } else { DECLINED };
    let row = c
        .one(
            &format!(
                "UPDATE approvals SET state = $2, decided_by = $3, decided_at = $4, note = $5,
                        result = $6
                 WHERE id = $1 RETURNING {COLS}"
            ),
            &[
                id.into(),
                state.into(),
                viewer.user_id.into(),
                now.into(),
                note.into(),
                result.map(|r| r.to_string()).into(),
            ],
        )
        .await?;
    let decided = from_row(&row)?;
    gifts::record(
        c,
        decided.ticket_id,
        Actor::User(viewer.user_id),
        EventKind::ApprovalDecided,
        &json!({"approval_id": id, "state": state, "requested_by": decided.requested_by,
                "note": note}),
        now,
    )
    .await?;
    Ok(decided)
}
