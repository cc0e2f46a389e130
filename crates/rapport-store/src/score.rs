//! The priority score's stored part: the signals a ticket's customer gave (urgent words,
//! mood, tier) and the standing score they make with its priority, written with the
//! ticket when it is created, when the customer writes again and when its priority
//! changes — in the statements that already write the ticket, so no extra write. The
//! clock part (SLA, waiting) is added when read ([`order_sql`] for queues, the domain's
//! `score::score` for one ticket).

use rapport_domain::score::{SLA_POINTS, Signals, WAIT_MAX_POINTS, WAIT_SECS_PER_POINT};
use serde_json::Value as Json;

use crate::db::Conn;
use crate::error::Result;
use crate::value::Row;

/// The customer's tier: the one set on them (`customers.tier`), else their own `tier`
/// attribute, else their organisation's.
pub(crate) async fn tier(c: &mut dyn Conn, customer_id: i64) -> Result<Option<String>> {
    let Some(r) = c
        .opt(
            "SELECT c.tier, c.attributes AS ca, o.attributes AS oa FROM customers c
             LEFT JOIN organizations o ON o.id = c.organization_id WHERE c.id = $1",
            &[customer_id.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    tier_of(&r)
}

/// The tier from a row with the customer's `tier` and the `attributes` of the customer
/// (`ca`) and of their organisation (`oa`): the one set on the customer, else a `tier`
/// attribute of theirs, else of their organisation.
pub(crate) fn tier_of(r: &Row) -> Result<Option<String>> {
    let read = |raw: Option<String>| -> Option<String> {
        let v: Json = serde_json::from_str(&raw?).ok()?;
        v.get("tier")?.as_str().map(str::to_owned)
    };
    let set = r.opt_text("tier")?;
    let own = read(r.opt_text("ca")?);
    let org = read(r.opt_text("oa")?);
    Ok(set.or(own).or(org))
}

/// Signals as stored.
pub(crate) fn stored(s: &Signals) -> Result<String> {
    Ok(serde_json::to_string(s)?)
}

/// Signals read back (an unreadable value counts as none: the score is advice).
pub(crate) fn parse(raw: &str) -> Signals {
    serde_json::from_str(raw).unwrap_or_default()
}

/// The SQL expression of a ticket's score (on `t`) at `now` (a placeholder such as `$3`),
/// unclamped: the stored standing part plus the clock part, computed as the domain's
/// `score::clock_points` does. Queues sort by it.
pub(crate) fn order_sql(now: &str) -> String {
    let hour = 3_600_000_000_i64;
    let per_point = WAIT_SECS_PER_POINT * 1_000_000;
    let waited = format!("(({now} - t.last_message_at) / {per_point})");
    format!(
        "(t.score_standing
          + CASE WHEN t.sla_due_at <= {now} THEN {breached}
                 WHEN t.sla_due_at <= {now} + {hour} THEN {soon}
                 WHEN t.sla_due_at <= {now} + {four} THEN {later}
                 ELSE 0 END
          + CASE WHEN t.status NOT IN ('new', 'open') THEN 0
                 WHEN {waited} > {max} THEN {max}
                 WHEN {waited} < 0 THEN 0
                 ELSE {waited} END)",
        breached = SLA_POINTS[0],
        soon = SLA_POINTS[1],
        later = SLA_POINTS[2],
        four = 4 * hour,
        max = WAIT_MAX_POINTS,
    )
}

/// A ticket's priority score at `now`, with its reasons.
pub fn of(
    t: &crate::tickets::Ticket,
    now: rapport_domain::Timestamp,
) -> rapport_domain::score::Score {
    use rapport_domain::score::{Inputs, score, waiting_since};
    score(
        &Inputs {
            signals: &t.signals,
            priority: t.priority,
            sla_due: t.sla.as_ref().and_then(|s| s.next_target()),
            waiting_since: waiting_since(t.status, t.last_message_at),
        },
        now,
    )
}
