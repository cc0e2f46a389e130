//! Routing: each team's method of handing out new tickets, each agent's capacity and
//! skills, routing one ticket ([`route`]) or a team's waiting queue ([`route_waiting`]),
//! and transfers with a handoff note ([`transfer`]).
//!
//! The choice is the domain's ([`rapport_domain::routing::pick`]); this room reads the
//! candidates and writes the choice in one transaction. On PostgreSQL a
//! transaction-scoped advisory lock makes concurrent routings take turns (SQLite has one
//! writer), so a burst of new tickets — and the waiting-queue pass running beside it on
//! another node — never counts an agent's load before another routing's write: nobody
//! goes over their capacity.

use rapport_domain::chat::{AgentStatus, transfer_note};
use rapport_domain::routing::{Candidate, Need, Reason, RoutingMethod, Skills, pick};
use rapport_domain::{Channel, EventKind, FieldError, TicketStatus, Timestamp, Viewer};
use serde_json::json;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::tickets;

/// The condition "ticket `t` still needs work" that load and the waiting queue use.
const OPEN: &str = "t.status NOT IN ('solved', 'closed')";

async fn lock(c: &mut dyn Conn) -> Result<()> {
    if let Some(sql) = crate::dialect::routing_lock(c.backend()) {
        c.batch(sql).await?;
    }
    Ok(())
}

/// A team's routing method.
pub async fn team_method(c: &mut dyn Conn, team_id: i64) -> Result<RoutingMethod> {
    let r = c
        .opt("SELECT routing FROM teams WHERE id = $1", &[team_id.into()])
        .await?
        .ok_or(StoreError::NotFound("team"))?;
    method_of(&r.text("routing")?)
}

fn method_of(raw: &str) -> Result<RoutingMethod> {
    RoutingMethod::parse(raw).map_err(|_| StoreError::Db("bad stored routing method".into()))
}

/// Sets a team's routing method. Tickets already waiting in its queue are handed out by
/// the next [`route_waiting`] pass.
pub async fn set_team_method(c: &mut dyn Conn, team_id: i64, method: RoutingMethod) -> Result<()> {
    let n = c
        .execute(
            "UPDATE teams SET routing = $1 WHERE id = $2",
            &[method.as_str().into(), team_id.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("team"));
    }
    Ok(())
}

/// An agent's routing settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRouting {
    /// User id.
    pub user_id: i64,
    /// Their capacity of open tickets.
    pub ticket_limit: i64,
    /// Their skills.
    pub skills: Skills,
    /// Their status (shared with chat).
    pub status: AgentStatus,
    /// Open tickets they own now.
    pub open_tickets: i64,
}

fn skills_of(categories: &str, languages: &str) -> Result<Skills> {
    let cats: Vec<String> = serde_json::from_str(categories)?;
    let langs: Vec<String> = serde_json::from_str(languages)?;
    Ok(Skills {
        categories: cats,
        languages: langs,
    })
}

/// An agent's routing settings and load.
pub async fn agent(c: &mut dyn Conn, user_id: i64) -> Result<AgentRouting> {
    let r = c
        .opt(
            &format!(
                "SELECT u.ticket_limit, u.skill_categories, u.skill_languages, u.chat_status,
                        (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = u.id AND {OPEN})
                            AS open
                 FROM users u WHERE u.id = $1"
            ),
            &[user_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    Ok(AgentRouting {
        user_id,
        ticket_limit: r.int("ticket_limit")?,
        skills: skills_of(&r.text("skill_categories")?, &r.text("skill_languages")?)?,
        status: AgentStatus::parse(&r.text("chat_status")?).unwrap_or_default(),
        open_tickets: r.int("open")?,
    })
}

/// Changes an agent's capacity and skills (`None` leaves one alone). Skill categories
/// must exist.
pub async fn set_agent(
    c: &mut dyn Conn,
    user_id: i64,
    ticket_limit: Option<i64>,
    skills: Option<&Skills>,
) -> Result<AgentRouting> {
    agent(c, user_id).await?;
    if let Some(limit) = ticket_limit {
        c.execute(
            "UPDATE users SET ticket_limit = $1 WHERE id = $2",
            &[limit.into(), user_id.into()],
        )
        .await?;
    }
    if let Some(s) = skills {
        for cat in &s.categories {
            if c.opt("SELECT slug FROM categories WHERE slug = $1", &[cat.into()])
                .await?
                .is_none()
            {
                return Err(FieldError::new(
                    "skills.categories",
                    format!("no category {cat:?} exists"),
                )
                .into());
            }
        }
        c.execute(
            "UPDATE users SET skill_categories = $1, skill_languages = $2 WHERE id = $3",
            &[
                serde_json::to_string(&s.categories)?.into(),
                serde_json::to_string(&s.languages)?.into(),
                user_id.into(),
            ],
        )
        .await?;
    }
    agent(c, user_id).await
}

/// The members of a team who could be routed a ticket (active ones), with their load.
async fn candidates(c: &mut dyn Conn, team_id: i64) -> Result<Vec<Candidate>> {
    let rows = c
        .query(
            &format!(
                "SELECT u.id, u.chat_status, u.ticket_limit, u.skill_categories,
                        u.skill_languages, u.last_routed_at,
                        (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = u.id AND {OPEN})
                            AS open
                 FROM users u JOIN team_members m ON m.user_id = u.id AND m.team_id = $1
                 WHERE u.active = $2"
            ),
            &[team_id.into(), true.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Candidate {
                id: r.int("id")?,
                status: AgentStatus::parse(&r.text("chat_status")?).unwrap_or_default(),
                open: r.int("open")?,
                limit: r.int("ticket_limit")?,
                skills: skills_of(&r.text("skill_categories")?, &r.text("skill_languages")?)?,
                last_assigned: r.int("last_routed_at")?,
            })
        })
        .collect()
}

/// Who routing gave a ticket to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed {
    /// The agent.
    pub assignee_id: i64,
    /// Why them.
    pub reason: Reason,
}

/// Routes one ticket, if it needs it: it is open, in a team whose method is automatic,
/// and nobody owns it. Gives it to the customer's last agent when they can take it,
/// otherwise to the agent the team's method picks, and records `routed`; leaves it in the
/// team's queue (`None`) when nobody can take it now.
pub async fn route(c: &mut dyn Conn, ticket_id: i64, now: Timestamp) -> Result<Option<Routed>> {
    // Most teams route by hand: found out before taking the lock every routing waits on.
    let automatic = c
        .opt(
            "SELECT tm.routing FROM tickets t JOIN teams tm ON tm.id = t.team_id
             WHERE t.id = $1",
            &[ticket_id.into()],
        )
        .await?
        .map(|r| r.text("routing"))
        .transpose()?
        .map(|m| method_of(&m))
        .transpose()?
        .is_some_and(|m| m.is_automatic());
    if !automatic {
        return Ok(None);
    }
    lock(c).await?;
    let Some(r) = c
        .opt(
            "SELECT t.team_id, t.assignee_id, t.status, t.category, t.customer_id, t.channel,
                    tm.routing, tm.last_routed_user_id
             FROM tickets t JOIN teams tm ON tm.id = t.team_id
             WHERE t.id = $1",
            &[ticket_id.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let status = r.text("status")?;
    // Chats have their own queue and limits (`chat::handoff`).
    if r.opt_int("assignee_id")?.is_some()
        || status == TicketStatus::Solved.as_str()
        || status == TicketStatus::Closed.as_str()
        || r.text("channel")? == Channel::Chat.as_str()
    {
        return Ok(None);
    }
    let method = method_of(&r.text("routing")?)?;
    if !method.is_automatic() {
        return Ok(None);
    }
    let team_id = r.int("team_id")?;
    let customer_id = r.int("customer_id")?;
    let opening = tickets::opening_text(c, ticket_id)
        .await?
        .unwrap_or_default();
    let need = Need::of(r.opt_text("category")?.as_deref(), &opening);
    let sticky = c
        .opt(
            "SELECT assignee_id FROM tickets
             WHERE customer_id = $1 AND id <> $2 AND assignee_id IS NOT NULL
             ORDER BY created_at DESC, id DESC LIMIT 1",
            &[customer_id.into(), ticket_id.into()],
        )
        .await?
        .map(|s| s.int("assignee_id"))
        .transpose()?;
    let declined: Vec<i64> = c
        .query(
            "SELECT user_id FROM routing_declined WHERE ticket_id = $1",
            &[ticket_id.into()],
        )
        .await?
        .iter()
        .map(|r| r.int("user_id"))
        .collect::<Result<_>>()?;
    let all: Vec<Candidate> = candidates(c, team_id)
        .await?
        .into_iter()
        .filter(|a| !declined.contains(&a.id))
        .collect();
    let Some((assignee, reason)) = pick(
        method,
        &all,
        &need,
        sticky,
        r.opt_int("last_routed_user_id")?,
    ) else {
        return Ok(None);
    };
    let n = c
        .execute(
            "UPDATE tickets SET assignee_id = $1, updated_at = $2
             WHERE id = $3 AND assignee_id IS NULL",
            &[assignee.into(), now.into(), ticket_id.into()],
        )
        .await?;
    if n == 0 {
        return Ok(None);
    }
    c.execute(
        "UPDATE users SET last_routed_at = $1 WHERE id = $2",
        &[now.into(), assignee.into()],
    )
    .await?;
    if reason != Reason::Sticky {
        c.execute(
            "UPDATE teams SET last_routed_user_id = $1 WHERE id = $2",
            &[assignee.into(), team_id.into()],
        )
        .await?;
    }
    events::record(
        c,
        ticket_id,
        Actor::System,
        EventKind::Routed,
        &json!({"assignee_id": assignee, "team_id": team_id, "reason": reason.as_str()}),
        now,
    )
    .await?;
    Ok(Some(Routed {
        assignee_id: assignee,
        reason,
    }))
}

/// An agent handed a ticket back to the queue: routing gives it to someone else.
pub async fn declined(c: &mut dyn Conn, ticket_id: i64, user_id: i64) -> Result<()> {
    c.execute(
        "INSERT INTO routing_declined (ticket_id, user_id) VALUES ($1, $2)
         ON CONFLICT (ticket_id, user_id) DO NOTHING",
        &[ticket_id.into(), user_id.into()],
    )
    .await?;
    Ok(())
}

/// Waiting tickets looked at per team and pass at most (those nobody can take — a
/// language nobody speaks — are passed over, not looked at again and again).
const SCAN_PER_TEAM: i64 = 1_000;

/// Hands out tickets waiting in the queues of teams with automatic routing, team by team,
/// oldest first, at most `max` in all: what an agent coming online, a ticket being solved
/// or a capacity growing makes possible. A team with nobody free is skipped at once, and
/// tickets nobody can take are paged past, so they never hold up the ones behind them.
/// Returns how many were routed.
pub async fn route_waiting(c: &mut dyn Conn, max: i64, now: Timestamp) -> Result<usize> {
    let teams: Vec<i64> = c
        .query(
            "SELECT id FROM teams WHERE routing <> $1 ORDER BY id",
            &[RoutingMethod::Manual.as_str().into()],
        )
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect::<Result<_>>()?;
    let mut routed = 0usize;
    for team in teams {
        let mut after = 0i64;
        let mut scanned = 0i64;
        'team: while (routed as i64) < max && scanned < SCAN_PER_TEAM {
            let free = candidates(c, team)
                .await?
                .iter()
                .any(|a| a.status == AgentStatus::Online && a.open < a.limit);
            if !free {
                break;
            }
            let ids: Vec<i64> = c
                .query(
                    &format!(
                        "SELECT t.id FROM tickets t
                         WHERE t.team_id = $1 AND t.assignee_id IS NULL AND {OPEN}
                           AND t.id > $2 AND t.channel <> $3
                         ORDER BY t.id LIMIT 50"
                    ),
                    &[team.into(), after.into(), Channel::Chat.as_str().into()],
                )
                .await?
                .iter()
                .map(|r| r.int("id"))
                .collect::<Result<_>>()?;
            if ids.is_empty() {
                break;
            }
            for id in ids {
                after = id;
                scanned += 1;
                if route(c, id, now).await?.is_some() {
                    routed += 1;
                    if (routed as i64) >= max {
                        break 'team;
                    }
                }
            }
        }
    }
    Ok(routed)
}

/// Where a transfer sends a ticket: an agent, a team, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferTo {
    /// The new owner (`None`: the team's queue, or its routing, picks).
    pub assignee_id: Option<i64>,
    /// The new team (`None`: it stays in its team).
    pub team_id: Option<i64>,
}

/// A ticket's transfer and its handoff note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Who handed it over.
    pub by_user_id: i64,
    /// The team before and after.
    pub from_team_id: Option<i64>,
    /// The team after.
    pub to_team_id: Option<i64>,
    /// The owner before.
    pub from_assignee_id: Option<i64>,
    /// The owner after.
    pub to_assignee_id: Option<i64>,
    /// The note to the new owner.
    pub note: String,
    /// When.
    pub created_at: Timestamp,
}

/// Moves a ticket to another agent or team with a note for the new owner (required: an
/// owner who is handed a customer is told where things stand). The agent must be active
/// and, when the ticket has a team, a member of it; a transfer to a team alone leaves the
/// ticket to that team's routing. Records `transferred` with the note.
pub async fn transfer(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
    to: TransferTo,
    note: &str,
    now: Timestamp,
) -> Result<Transfer> {
    let note = transfer_note(note)?;
    if to.assignee_id.is_none() && to.team_id.is_none() {
        return Err(
            FieldError::new("assignee_id", "name an agent or a team to transfer to").into(),
        );
    }
    let t = tickets::get_for_agent(c, viewer, ticket_id).await?;
    if t.status == TicketStatus::Closed {
        return Err(StoreError::Conflict("this ticket is closed".into()));
    }
    if t.channel == Channel::Chat {
        return transfer_chat(c, viewer, &t, to, note, now).await;
    }
    lock(c).await?;
    let team = match to.team_id {
        Some(team) => {
            c.opt("SELECT id FROM teams WHERE id = $1", &[team.into()])
                .await?
                .ok_or_else(|| FieldError::new("team_id", "no team has this id"))?;
            Some(team)
        }
        None => t.team_id,
    };
    if let Some(a) = to.assignee_id {
        let r = c
            .opt(
                "SELECT u.id, (SELECT COUNT(*) FROM team_members m
                               WHERE m.user_id = u.id AND m.team_id = $2) AS member
                 FROM users u WHERE u.id = $1 AND u.active = $3",
                &[a.into(), team.into(), true.into()],
            )
            .await?
            .ok_or_else(|| FieldError::new("assignee_id", "no active agent has this id"))?;
        if team.is_some() && r.int("member")? == 0 {
            return Err(FieldError::new("assignee_id", "is not a member of that team").into());
        }
        if Some(a) == t.assignee_id && team == t.team_id {
            return Err(FieldError::new("assignee_id", "already owns this ticket").into());
        }
    }
    c.execute(
        "UPDATE tickets SET team_id = $1, assignee_id = $2, updated_at = $3 WHERE id = $4",
        &[
            team.into(),
            to.assignee_id.into(),
            now.into(),
            ticket_id.into(),
        ],
    )
    .await?;
    let done = Transfer {
        by_user_id: viewer.user_id,
        from_team_id: t.team_id,
        to_team_id: team,
        from_assignee_id: t.assignee_id,
        to_assignee_id: to.assignee_id,
        note,
        created_at: now,
    };
    save_transfer(c, ticket_id, &done).await?;
    let note = done.note.clone();
    events::record(
        c,
        ticket_id,
        Actor::User(viewer.user_id),
        EventKind::Transferred,
        &json!({
            "note": note,
            "assignee_id": to.assignee_id,
            "team_id": team,
            "from_assignee_id": t.assignee_id,
            "from_team_id": t.team_id,
        }),
        now,
    )
    .await?;
    Ok(done)
}

/// A chat moves with its own rules (its agents' chat limits, its queue): the chat's
/// transfer does the move, records the event and keeps the note.
async fn transfer_chat(
    c: &mut dyn Conn,
    viewer: &Viewer,
    t: &tickets::Ticket,
    to: TransferTo,
    note: String,
    now: Timestamp,
) -> Result<Transfer> {
    let target = match (to.assignee_id, to.team_id) {
        (Some(a), _) => crate::chat::handoff::TransferTo::Agent(a),
        (None, Some(team)) => crate::chat::handoff::TransferTo::Team(team),
        (None, None) => {
            return Err(FieldError::new("assignee_id", "name an agent or a team").into());
        }
    };
    let placed = crate::chat::handoff::transfer(c, viewer, t.id, target, &note, now).await?;
    Ok(Transfer {
        by_user_id: viewer.user_id,
        from_team_id: t.team_id,
        to_team_id: placed.team_id,
        from_assignee_id: t.assignee_id,
        to_assignee_id: placed.assignee_id,
        note,
        created_at: now,
    })
}

/// Keeps a transfer and its note (the chat's transfer keeps its own through here too).
pub(crate) async fn save_transfer(c: &mut dyn Conn, ticket_id: i64, t: &Transfer) -> Result<()> {
    c.execute(
        "INSERT INTO transfers (ticket_id, by_user_id, from_team_id, to_team_id,
                                from_assignee_id, to_assignee_id, note, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            ticket_id.into(),
            t.by_user_id.into(),
            t.from_team_id.into(),
            t.to_team_id.into(),
            t.from_assignee_id.into(),
            t.to_assignee_id.into(),
            t.note.clone().into(),
            t.created_at.into(),
        ],
    )
    .await?;
    Ok(())
}

/// A ticket's latest transfer, if it had one.
pub async fn last_transfer(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<Transfer>> {
    let Some(r) = c
        .opt(
            "SELECT by_user_id, from_team_id, to_team_id, from_assignee_id, to_assignee_id,
                    note, created_at
             FROM transfers WHERE ticket_id = $1 ORDER BY id DESC LIMIT 1",
            &[ticket_id.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Transfer {
        by_user_id: r.int("by_user_id")?,
        from_team_id: r.opt_int("from_team_id")?,
        to_team_id: r.opt_int("to_team_id")?,
        from_assignee_id: r.opt_int("from_assignee_id")?,
        to_assignee_id: r.opt_int("to_assignee_id")?,
        note: r.text("note")?,
        created_at: Timestamp(r.int("created_at")?),
    }))
}

/// A ticket's latest transfer, for an agent who may see the ticket.
pub async fn last_transfer_for(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
) -> Result<Option<Transfer>> {
    tickets::get_for_agent(c, viewer, ticket_id).await?;
    last_transfer(c, ticket_id).await
}
