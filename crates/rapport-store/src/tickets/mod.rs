//! Tickets: the read model ([`Ticket`]) and reading one. The rest lives by concept:
//! [`lifecycle`] (create, update, merge), [`inbox`] (filters, keyset-paginated lists,
//! counts) and [`conversation`] (replies, customer replies, system notes). Every write
//! records its events and updates the search index in the same transaction.

use rapport_domain::score::Signals;
use rapport_domain::sla::clock::TicketSla;
use rapport_domain::{Channel, Principal, Priority, TicketStatus, Timestamp, Viewer};
use serde::Serialize;
use serde_json::Value as Json;

use crate::db::Conn;
use crate::dialect;
use crate::error::{Result, StoreError};
use crate::value::Row;

pub mod conversation;
pub mod inbox;
pub mod lifecycle;

pub use conversation::{NewReply, customer_reply, reply, system_note};
pub use inbox::{PageRequest, SortField, TicketFilter, TicketPage, count, list};
pub(crate) use lifecycle::next_number;
pub use lifecycle::{
    CrossCustomer, NewTicket, TicketPatch, create, create_expecting, merge, parse_custom_fields,
    update,
};

/// The customer as shown on a ticket.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerRef {
    /// Customer id.
    pub id: i64,
    /// Their address.
    pub email: String,
    /// Their name (may be empty).
    pub name: String,
}

/// A ticket as the API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    /// Database id.
    pub id: i64,
    /// Human-readable number, quoted as `#1042`.
    pub number: i64,
    /// Subject line.
    pub subject: String,
    /// `new`, `open`, `pending`, `on-hold`, `solved` or `closed`.
    pub status: TicketStatus,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: Priority,
    /// Category slug, if categorised.
    pub category: Option<String>,
    /// Channel of origin.
    pub channel: Channel,
    /// Tags, normalised.
    pub tags: Vec<String>,
    /// Custom fields.
    pub custom_fields: Json,
    /// Who asked.
    pub customer: CustomerRef,
    /// Owning team.
    pub team_id: Option<i64>,
    /// Assigned agent.
    pub assignee_id: Option<i64>,
    /// Set when this ticket was merged into another.
    pub merged_into_id: Option<i64>,
    /// Messages in the thread (replies and notes).
    pub message_count: i64,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed in any way.
    pub updated_at: Timestamp,
    /// Last message.
    pub last_message_at: Timestamp,
    /// First public reply by an agent.
    pub first_response_at: Option<Timestamp>,
    /// Last time it was solved.
    pub solved_at: Option<Timestamp>,
    /// Its SLA clocks (none: no policy applies, or not yet started).
    pub sla: Option<TicketSla>,
    /// What the customer's words, mood and tier say about its urgency (the priority
    /// score's stored part).
    #[serde(skip)]
    pub signals: Signals,
    /// The classifier's verdict, if it gave one.
    #[serde(skip)]
    pub classification: Option<crate::classify::Classification>,
}

const TICKET_COLS: &str = "t.id, t.number, t.subject, t.status, t.priority, t.category, t.channel,
    t.tags, t.custom_fields, t.customer_id, c.email AS customer_email, c.name AS customer_name, t.team_id, t.assignee_id,
    t.merged_into_id, t.message_count, t.created_at, t.updated_at, t.last_message_at,
    t.first_response_at, t.solved_at, sla.clocks AS sla_clocks, t.score_signals,
    tc.category AS tc_category, tc.confidence_permille AS tc_confidence, tc.applied AS tc_applied";
const TICKET_FROM: &str = "FROM tickets t JOIN customers c ON c.id = t.customer_id
    LEFT JOIN ticket_sla sla ON sla.ticket_id = t.id
    LEFT JOIN ticket_classification tc ON tc.ticket_id = t.id";

fn ticket_from(r: &Row) -> Result<Ticket> {
    Ok(Ticket {
        id: r.int("id")?,
        number: r.int("number")?,
        subject: r.text("subject")?,
        status: TicketStatus::parse(&r.text("status")?)?,
        priority: Priority::from_rank(r.int("priority")?)
            .ok_or_else(|| StoreError::Db("bad stored priority".into()))?,
        category: r.opt_text("category")?,
        channel: Channel::parse(&r.text("channel")?)?,
        tags: serde_json::from_str(&r.text("tags")?)?,
        custom_fields: serde_json::from_str(&r.text("custom_fields")?)?,
        customer: CustomerRef {
            id: r.int("customer_id")?,
            email: r.text("customer_email")?,
            name: r.text("customer_name")?,
        },
        team_id: r.opt_int("team_id")?,
        assignee_id: r.opt_int("assignee_id")?,
        merged_into_id: r.opt_int("merged_into_id")?,
        message_count: r.int("message_count")?,
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
        last_message_at: Timestamp(r.int("last_message_at")?),
        first_response_at: r.opt_int("first_response_at")?.map(Timestamp),
        solved_at: r.opt_int("solved_at")?.map(Timestamp),
        sla: crate::sla::clocks::parse(r.opt_text("sla_clocks")?)?,
        signals: crate::score::parse(&r.text("score_signals")?),
        classification: match r.opt_text("tc_category")? {
            Some(category) => Some(crate::classify::Classification {
                category,
                confidence: r.int("tc_confidence")? as f64 / 1000.0,
                applied: r.bool("tc_applied")?,
            }),
            None => None,
        },
    })
}

/// What a ticket opened with: its category now, and its subject and first message as one
/// text (which the classifier and routing's language read).
#[derive(Debug, Clone)]
pub(crate) struct Opening {
    /// The ticket's category, if it has one.
    pub category: Option<String>,
    /// The subject, a line break, then the first message.
    pub text: String,
}

/// The opening text of a ticket (`None`: no such ticket).
pub(crate) async fn opening_text(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<String>> {
    Ok(openings(c, &[ticket_id])
        .await?
        .remove(&ticket_id)
        .map(|o| o.text))
}

/// What each of `ids` that still exists opened with, in one read per 500 tickets.
pub(crate) async fn openings(
    c: &mut dyn Conn,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, Opening>> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let params: Vec<crate::value::Value> = chunk.iter().map(|id| (*id).into()).collect();
        let rows = c
            .query(
                &format!(
                    "SELECT t.id, t.category, t.subject,
                            (SELECT m.body FROM messages m WHERE m.ticket_id = t.id
                             ORDER BY m.id LIMIT 1) AS body
                     FROM tickets t WHERE t.id IN ({})",
                    crate::dialect::placeholders(1, chunk.len())
                ),
                &params,
            )
            .await?;
        for r in rows {
            let text = format!(
                "{}\n{}",
                r.text("subject")?,
                r.opt_text("body")?.unwrap_or_default()
            );
            out.insert(
                r.int("id")?,
                Opening {
                    category: r.opt_text("category")?,
                    text,
                },
            );
        }
    }
    Ok(out)
}

/// One ticket, if `who` may see it: an agent a ticket of their teams (or of no team), a
/// customer only their own — another customer's ticket is "not found", as if it did not
/// exist.
pub async fn get(c: &mut dyn Conn, who: &Principal, id: i64) -> Result<Ticket> {
    let t = get_unchecked(c, id, false).await?;
    check_visible(who, &t)?;
    Ok(t)
}

/// One ticket, if the agent may see it (for operations only agents perform).
pub(crate) async fn get_for_agent(c: &mut dyn Conn, viewer: &Viewer, id: i64) -> Result<Ticket> {
    let t = get_unchecked(c, id, false).await?;
    agent_may_see(viewer, &t)?;
    Ok(t)
}

/// Refuses unless `who` may see the ticket.
pub(crate) fn check_visible(who: &Principal, t: &Ticket) -> Result<()> {
    match who {
        Principal::Agent(v) => agent_may_see(v, t),
        _ if who.can_see_ticket(t.team_id, t.customer.id) => Ok(()),
        _ => Err(StoreError::NotFound("ticket")),
    }
}

/// Refuses unless the agent's teams cover the ticket.
pub(crate) fn agent_may_see(viewer: &Viewer, t: &Ticket) -> Result<()> {
    if viewer.can_see_team(t.team_id) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "this ticket belongs to a team you are not in",
        ))
    }
}

/// The customer who asked a ticket: whom a private portal link lets its holder act as.
pub async fn customer_of(c: &mut dyn Conn, id: i64) -> Result<i64> {
    c.opt(
        "SELECT customer_id FROM tickets WHERE id = $1",
        &[id.into()],
    )
    .await?
    .ok_or(StoreError::NotFound("ticket"))?
    .int("customer_id")
}

pub(crate) async fn get_unchecked(c: &mut dyn Conn, id: i64, for_update: bool) -> Result<Ticket> {
    let lock = if for_update {
        dialect::row_lock(c.backend(), "t")
    } else {
        String::new()
    };
    let row = c
        .opt(
            &format!("SELECT {TICKET_COLS} {TICKET_FROM} WHERE t.id = $1{lock}"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("ticket"))?;
    ticket_from(&row)
}

/// The id of the ticket with this human-readable number.
pub async fn id_by_number(c: &mut dyn Conn, number: i64) -> Result<i64> {
    c.opt("SELECT id FROM tickets WHERE number = $1", &[number.into()])
        .await?
        .ok_or(StoreError::NotFound("ticket"))?
        .int("id")
}

/// A customer's tickets that `who` may see, newest first: an agent those of their teams,
/// the customer all of them, another customer none.
pub async fn for_customer(c: &mut dyn Conn, who: &Principal, customer: i64) -> Result<Vec<Ticket>> {
    if who.customer().is_some_and(|me| me != customer) {
        return Ok(Vec::new());
    }
    let rows = c
        .query(
            &format!(
                "SELECT {TICKET_COLS} {TICKET_FROM} WHERE t.customer_id = $1
                 ORDER BY t.created_at DESC, t.id DESC LIMIT 500"
            ),
            &[customer.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let t = ticket_from(r)?;
        if who.can_see_ticket(t.team_id, t.customer.id) {
            out.push(t);
        }
    }
    Ok(out)
}
