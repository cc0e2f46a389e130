//! Each ticket's SLA clocks (`ticket_sla`): started from the policy that applies when the
//! ticket is created, moved by what happens to it (the `sla` subscriber of the event
//! stream decides how), and read with the ticket.

use rapport_domain::sla::calendar::Calendar;
use rapport_domain::sla::clock::TicketSla;
use rapport_domain::sla::policy::{Targets, TicketFacts, pick};
use rapport_domain::{Category, Channel, Priority, TicketStatus, Timestamp};

use crate::db::Conn;
use crate::error::{Result, StoreError};

/// What a ticket's clocks are measured by: its policy's targets and calendar.
#[derive(Debug, Clone)]
pub struct Terms {
    /// The policy's id.
    pub policy_id: i64,
    /// Its targets.
    pub targets: Targets,
    /// Its calendar ([`Calendar::always`] for calendar hours).
    pub calendar: Calendar,
}

/// The terms of policy `policy_id` (gone: `None`).
pub async fn terms_of(c: &mut dyn Conn, policy_id: i64) -> Result<Option<Terms>> {
    let policy = match super::policies::get(c, policy_id).await {
        Ok(p) => p,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let calendar = match policy.calendar_id {
        Some(id) => super::calendars::get(c, id).await?.calendar,
        None => Calendar::always(),
    };
    Ok(Some(Terms {
        policy_id: policy.id,
        targets: policy.targets,
        calendar,
    }))
}

/// The columns [`facts_of`] reads (tickets `t`, customers `cu`).
const FACT_COLS: &str = "t.id, t.priority, t.category, t.channel, t.created_at, t.sla_due_at,
                         cu.organization_id, cu.attributes, cu.tier";

/// The facts a policy's conditions are checked against, from a row of [`FACT_COLS`].
fn facts_of(r: &crate::value::Row) -> Result<TicketFacts> {
    let attributes: serde_json::Value =
        serde_json::from_str(&r.text("attributes")?).unwrap_or_default();
    Ok(TicketFacts {
        priority: Priority::from_rank(r.int("priority")?)
            .ok_or_else(|| StoreError::Db("bad stored priority".into()))?,
        category: r
            .opt_text("category")?
            .and_then(|c| Category::parse(&c).ok()),
        channel: Channel::parse(&r.text("channel")?)?,
        organization: r.opt_int("organization_id")?,
        // The tier set on the customer, else their `tier` attribute.
        tier: r
            .opt_text("tier")?
            .or_else(|| attributes["tier"].as_str().map(str::to_owned)),
    })
}

/// The facts a policy's conditions are checked against, with the ticket's creation time.
async fn facts(c: &mut dyn Conn, ticket_id: i64) -> Result<(TicketFacts, Timestamp)> {
    let r = c
        .opt(
            &format!(
                "SELECT {FACT_COLS}
                 FROM tickets t JOIN customers cu ON cu.id = t.customer_id WHERE t.id = $1"
            ),
            &[ticket_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("ticket"))?;
    Ok((facts_of(&r)?, Timestamp(r.int("created_at")?)))
}

/// A new ticket's clocks as [`started_all`] works them out.
#[derive(Debug, Clone)]
pub struct Started {
    /// The clocks (none: no policy applies).
    pub sla: Option<TicketSla>,
    /// The `tickets.sla_due_at` the ticket was written with (its creator may have worked
    /// the clocks out already, so the row need not be written again).
    pub due_stored: i64,
}

/// Tickets per read or write of [`started_all`] and [`save_started`].
const CHUNK: usize = 200;

/// [`started`] for a batch of new tickets: their facts in one read per [`CHUNK`], the
/// policies and calendars once. A ticket gone is left out.
pub async fn started_all(
    c: &mut dyn Conn,
    ticket_ids: &[i64],
) -> Result<std::collections::HashMap<i64, Started>> {
    let mut out = std::collections::HashMap::with_capacity(ticket_ids.len());
    if ticket_ids.is_empty() {
        return Ok(out);
    }
    let policies = super::policies::list(c).await?;
    let mut calendars: std::collections::HashMap<i64, Calendar> = Default::default();
    if policies.iter().any(|p| p.calendar_id.is_some()) {
        for cal in super::calendars::list(c).await? {
            calendars.insert(cal.id, cal.calendar);
        }
    }
    let always = Calendar::always();
    for chunk in ticket_ids.chunks(CHUNK) {
        let marks = crate::dialect::placeholders(1, chunk.len());
        let params: Vec<crate::value::Value> = chunk.iter().map(|id| (*id).into()).collect();
        let rows = c
            .query(
                &format!(
                    "SELECT {FACT_COLS}
                     FROM tickets t JOIN customers cu ON cu.id = t.customer_id
                     WHERE t.id IN ({})",
                    marks
                ),
                &params,
            )
            .await?;
        for r in rows {
            let facts = facts_of(&r)?;
            let created_at = Timestamp(r.int("created_at")?);
            let sla = pick(&policies, &facts).map(|policy| {
                let calendar = match policy.calendar_id {
                    // A calendar deleted under its policy: calendar hours, as `terms_of`.
                    Some(id) => calendars.get(&id).unwrap_or(&always),
                    None => &always,
                };
                TicketSla::start(
                    policy.id,
                    &policy.targets,
                    calendar,
                    created_at,
                    TicketStatus::New,
                )
            });
            out.insert(
                r.int("id")?,
                Started {
                    sla,
                    due_stored: r.int("sla_due_at")?,
                },
            );
        }
    }
    Ok(out)
}

/// Stores the clocks of tickets that had none ([`save`] for a batch): their `ticket_sla`
/// rows in one statement per [`CHUNK`], and `tickets.sla_due_at` only where the ticket
/// was not written with it already (`due_stored`).
pub async fn save_started(
    c: &mut dyn Conn,
    started: &[(i64, &TicketSla, i64)],
    now: Timestamp,
) -> Result<()> {
    for chunk in started.chunks(CHUNK) {
        let mut params: Vec<crate::value::Value> = Vec::with_capacity(chunk.len() * 6);
        let rows: Vec<String> = chunk
            .iter()
            .map(|(id, sla, _)| {
                let due = sla.next_due().map(|d| d.micros());
                let clocks = serde_json::to_string(sla)?;
                let at = params.len();
                params.extend([
                    (*id).into(),
                    sla.policy_id.into(),
                    clocks.into(),
                    due.into(),
                    now.into(),
                    due.map(|d| d - WARN_BEFORE_SECS * 1_000_000).into(),
                ]);
                Ok(format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    at + 1,
                    at + 2,
                    at + 3,
                    at + 4,
                    at + 5,
                    at + 6,
                    at + 4
                ))
            })
            .collect::<Result<_>>()?;
        c.execute(
            &format!(
                "INSERT INTO ticket_sla (ticket_id, policy_id, clocks, next_due_at, updated_at,
                                         warn_at, breach_at)
                 VALUES {}
                 ON CONFLICT (ticket_id) DO UPDATE SET policy_id = excluded.policy_id,
                     clocks = excluded.clocks, next_due_at = excluded.next_due_at,
                     updated_at = excluded.updated_at, warn_at = excluded.warn_at,
                     breach_at = excluded.breach_at, warned_due_at = NULL,
                     breached_due_at = NULL",
                rows.join(", ")
            ),
            &params,
        )
        .await?;
    }
    // The reports count tickets with clocks (SLA compliance).
    let ids: Vec<i64> = started.iter().map(|(id, _, _)| *id).collect();
    crate::reports::rollup::mark_tickets(c, &ids).await?;
    for (id, sla, due_stored) in started {
        let due = sla.next_due().map_or(NO_DUE, |d| d.micros());
        if due != *due_stored {
            c.execute(
                "UPDATE tickets SET sla_due_at = $1 WHERE id = $2",
                &[due.into(), (*id).into()],
            )
            .await?;
        }
    }
    Ok(())
}

/// The clocks a ticket starts with: as of its creation (when every ticket is `new`; later
/// status changes follow as their events come), under the first policy that applies to it
/// now (none: `None`). Stores nothing.
pub async fn started(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<TicketSla>> {
    let (facts, created_at) = facts(c, ticket_id).await?;
    let status = TicketStatus::New;
    let policies = super::policies::list(c).await?;
    let Some(policy) = pick(&policies, &facts) else {
        return Ok(None);
    };
    let calendar = match policy.calendar_id {
        Some(id) => super::calendars::get(c, id).await?.calendar,
        None => Calendar::always(),
    };
    Ok(Some(TicketSla::start(
        policy.id,
        &policy.targets,
        &calendar,
        created_at,
        status,
    )))
}

/// The terms of the policy that applies to a ticket now (its priority or category may
/// have changed since its clocks started), with its creation time; `None` when no policy
/// applies.
pub async fn terms_now(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<(Terms, Timestamp)>> {
    let (facts, created_at) = facts(c, ticket_id).await?;
    let policies = super::policies::list(c).await?;
    let Some(policy) = pick(&policies, &facts) else {
        return Ok(None);
    };
    let calendar = match policy.calendar_id {
        Some(id) => super::calendars::get(c, id).await?.calendar,
        None => Calendar::always(),
    };
    Ok(Some((
        Terms {
            policy_id: policy.id,
            targets: policy.targets,
            calendar,
        },
        created_at,
    )))
}

/// A ticket's stored clocks.
pub async fn load(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<TicketSla>> {
    let raw = c
        .opt(
            "SELECT clocks FROM ticket_sla WHERE ticket_id = $1",
            &[ticket_id.into()],
        )
        .await?
        .map(|r| r.text("clocks"))
        .transpose()?;
    parse(raw)
}

/// Stores a ticket's clocks (with their soonest due time, which views sort by).
pub async fn save(c: &mut dyn Conn, ticket_id: i64, sla: &TicketSla, now: Timestamp) -> Result<()> {
    // With the warning and the breach of the soonest due time, unless that due time was
    // announced already (`warned_due_at`, `breached_due_at`): one statement.
    let due = sla.next_due().map(|d| d.micros());
    c.execute(
        "INSERT INTO ticket_sla (ticket_id, policy_id, clocks, next_due_at, updated_at,
                                 warn_at, breach_at)
         VALUES ($1, $2, $3, $4, $5, $6, $4)
         ON CONFLICT (ticket_id) DO UPDATE SET policy_id = excluded.policy_id,
             clocks = excluded.clocks, next_due_at = excluded.next_due_at,
             updated_at = excluded.updated_at,
             warn_at = CASE WHEN excluded.next_due_at IS NULL
                                 OR ticket_sla.warned_due_at = excluded.next_due_at
                            THEN NULL ELSE excluded.warn_at END,
             breach_at = CASE WHEN excluded.next_due_at IS NULL
                                   OR ticket_sla.breached_due_at = excluded.next_due_at
                              THEN NULL ELSE excluded.breach_at END",
        &[
            ticket_id.into(),
            sla.policy_id.into(),
            serde_json::to_string(sla)?.into(),
            due.into(),
            now.into(),
            due.map(|d| d - WARN_BEFORE_SECS * 1_000_000).into(),
        ],
    )
    .await?;
    c.execute(
        "UPDATE tickets SET sla_due_at = $1 WHERE id = $2",
        &[
            sla.next_due().map_or(NO_DUE, |d| d.micros()).into(),
            ticket_id.into(),
        ],
    )
    .await?;
    crate::reports::rollup::mark_ticket(c, ticket_id).await?;
    Ok(())
}

/// Takes the due time off tickets that have no clocks (`sla_due_at` back to [`NO_DUE`]).
pub async fn clear_due(c: &mut dyn Conn, ticket_ids: &[i64]) -> Result<()> {
    for id in ticket_ids {
        c.execute(
            "UPDATE tickets SET sla_due_at = $1 WHERE id = $2",
            &[NO_DUE.into(), (*id).into()],
        )
        .await?;
    }
    Ok(())
}

/// How long before a target is due its warning goes out.
pub const WARN_BEFORE_SECS: i64 = 3_600;

/// Which of a ticket's running targets are due at `due` (their names).
fn targets_due(sla: &TicketSla, due: Timestamp) -> Vec<&'static str> {
    [
        ("first_response", sla.first_response.due_at()),
        ("next_response", sla.next_response.due_at()),
        ("resolution", sla.resolution.due_at()),
    ]
    .into_iter()
    .filter(|(_, d)| *d == Some(due))
    .map(|(n, _)| n)
    .collect()
}

/// Announces what came due by `now`, at most `limit` of each kind: a `sla_breached` event
/// for every ticket whose soonest target passed, a `sla_warning` for every one due within
/// [`WARN_BEFORE_SECS`] (not for one already breached). Each due time is announced once;
/// a clock that starts again is announced again. Reads only the rows the `warn_at` and
/// `breach_at` indexes say are due; on PostgreSQL rows another node is announcing are
/// skipped. Returns how many events it recorded.
pub async fn announce_due(c: &mut dyn Conn, now: Timestamp, limit: i64) -> Result<usize> {
    let lock = crate::dialect::claim_lock(c.backend());
    let mut recorded = 0;
    for (column, kind) in [
        ("breach_at", rapport_domain::EventKind::SlaBreached),
        ("warn_at", rapport_domain::EventKind::SlaWarning),
    ] {
        let rows = c
            .query(
                &format!(
                    "SELECT ticket_id, clocks, next_due_at FROM ticket_sla
                     WHERE {column} IS NOT NULL AND {column} <= $1
                     ORDER BY {column} LIMIT $2 {lock}"
                ),
                &[now.into(), limit.into()],
            )
            .await?;
        for r in rows {
            let ticket_id = r.int("ticket_id")?;
            let due = r.opt_int("next_due_at")?;
            let sla = parse(Some(r.text("clocks")?))?;
            let (announce, due) = match (due, sla) {
                // A warning for a target already over is left to its breach.
                (Some(d), Some(sla))
                    if kind == rapport_domain::EventKind::SlaBreached || d > now.0 =>
                {
                    (Some(targets_due(&sla, Timestamp(d))), Some(d))
                }
                (d, _) => (None, d),
            };
            if let Some(targets) = announce {
                let data = serde_json::json!({
                    "targets": targets,
                    "due_at": due.map(Timestamp),
                });
                crate::events::record(c, ticket_id, crate::events::Actor::System, kind, &data, now)
                    .await?;
                recorded += 1;
            }
            let sql = if column == "breach_at" {
                "UPDATE ticket_sla SET breach_at = NULL, breached_due_at = $1,
                        warn_at = NULL, warned_due_at = $1 WHERE ticket_id = $2"
            } else {
                "UPDATE ticket_sla SET warn_at = NULL, warned_due_at = $1 WHERE ticket_id = $2"
            };
            c.execute(sql, &[due.into(), ticket_id.into()]).await?;
        }
    }
    Ok(recorded)
}

/// `tickets.sla_due_at` of a ticket with no running clock: after every real due time.
pub const NO_DUE: i64 = i64::MAX;

/// The subscriber that keeps the clocks (its cursor says which events it has handled).
pub const SUBSCRIBER: &str = "sla.clocks";

/// Parses the clocks a ticket read carries (`ticket_sla.clocks`, or none). Clocks that do
/// not parse (a newer release's, read by an older node) read as none, so a ticket is never
/// unreadable because of them.
pub(crate) fn parse(raw: Option<String>) -> Result<Option<TicketSla>> {
    Ok(raw.and_then(|s| match serde_json::from_str(&s) {
        Ok(sla) => Some(sla),
        Err(e) => {
            tracing::warn!(error = %e, "stored SLA clocks do not parse; shown as none");
            None
        }
    }))
}

/// The clocks a ticket will start with while the subscriber has not handled its creation
/// yet (a moment after it commits). `None` once it has — a ticket it gave no clocks (no
/// policy applied, or created before SLAs existed) has none.
pub async fn started_unless_stored(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<TicketSla>> {
    if let Some(sla) = load(c, ticket_id).await? {
        return Ok(Some(sla));
    }
    let pending = c
        .opt(
            "SELECT e.id FROM events e
             WHERE e.ticket_id = $1 AND e.kind IN ('ticket_created', 'split_from')
               AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.name = $2
                               AND (s.tx > e.tx OR (s.tx = e.tx AND s.event_id >= e.id)))",
            &[ticket_id.into(), SUBSCRIBER.into()],
        )
        .await?;
    if pending.is_none() {
        return Ok(None);
    }
    started(c, ticket_id).await
}

/// For a ticket page or the API's read of one ticket: fills in the clocks the subscriber
/// is about to store ([`started_unless_stored`]). Never fails the read: a failure leaves
/// the clocks out and is logged.
pub async fn fill_in(c: &mut dyn Conn, t: &mut crate::tickets::Ticket) {
    if t.sla.is_some() {
        return;
    }
    match started_unless_stored(c, t.id).await {
        Ok(sla) => t.sla = sla,
        Err(e) => tracing::warn!(error = %e, ticket = t.id, "could not work out the SLA clocks"),
    }
}
