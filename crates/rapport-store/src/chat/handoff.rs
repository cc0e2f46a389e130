//! The bot's side of a chat and its handoff to a person. While nobody has taken a chat
//! over, the assistant bot answers (its messages are public, authored `bot`, and leave the
//! ticket `pending`: a bot-only chat waits on the visitor, not on agents). A handoff gives
//! the ticket its team and an agent of that team who is `online` and under their limit of
//! concurrent chats — or, when nobody is free, leaves it `waiting` in the team's queue
//! until [`assign_waiting`] finds someone (an agent comes online, a chat ends, a limit
//! grows). Agents set their status and limit here; a transfer moves a chat with a note.
//!
//! Assignment reads every candidate's open chats and writes the choice in one transaction;
//! on PostgreSQL a transaction-scoped advisory lock makes concurrent handoffs take turns
//! (SQLite has one writer), so a burst of chats never pushes an agent over their limit.

use rapport_domain::chat::{AgentStatus, pick_agent};
use rapport_domain::{Body, EventKind, TicketStatus, Timestamp, Viewer};
use serde_json::json;

use crate::db::{Backend, Conn};
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::messages::{self, Message};
use crate::tickets;

/// The lock concurrent assignments take on PostgreSQL.
const ASSIGN_LOCK: &str = "SELECT pg_advisory_xact_lock(7242026)";

/// Where a handoff or a transfer put a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// The team (`None`: the general queue).
    pub team_id: Option<i64>,
    /// The agent (`None`: waiting in the team's queue).
    pub assignee_id: Option<i64>,
}

/// Whether a person has the chat on this ticket (handed over, or never a chat the bot
/// held: `true` for a ticket that is no chat).
pub async fn handed_over(c: &mut dyn Conn, ticket_id: i64) -> Result<bool> {
    Ok(c.opt(
        "SELECT handed_over_at FROM chat_conversations WHERE ticket_id = $1",
        &[ticket_id.into()],
    )
    .await?
    .map(|r| r.opt_int("handed_over_at"))
    .transpose()?
    .is_none_or(|at| at.is_some()))
}

/// Whether the bot keeps out of the chat on this ticket: it was handed over, or a person
/// of the team has already answered in it (an agent who steps in takes the chat, and the
/// visitor's "yes, thanks" is theirs, not the bot's).
pub async fn person_has_it(c: &mut dyn Conn, ticket_id: i64) -> Result<bool> {
    if handed_over(c, ticket_id).await? {
        return Ok(true);
    }
    Ok(c.opt(
        "SELECT id FROM messages
         WHERE ticket_id = $1 AND author_user_id IS NOT NULL AND internal = $2 LIMIT 1",
        &[ticket_id.into(), false.into()],
    )
    .await?
    .is_some())
}

/// Whether the bot may post in the chat on this ticket now, asked in the write that would
/// post: the ticket row is locked first, so an agent's reply or a handoff committed in the
/// meantime is seen (PostgreSQL's read-committed writes would otherwise miss one that was
/// still running when the transaction began).
///
/// Only the newest public message is answered: when one came after `message_id` (the
/// visitor wrote again, or the bot already answered — on another node, say), no.
pub async fn bot_may_answer(c: &mut dyn Conn, ticket_id: i64, message_id: i64) -> Result<bool> {
    tickets::get_unchecked(c, ticket_id, true).await?;
    let newer = c
        .opt(
            "SELECT id FROM messages WHERE ticket_id = $1 AND internal = $2 AND id > $3 LIMIT 1",
            &[ticket_id.into(), false.into(), message_id.into()],
        )
        .await?
        .is_some();
    Ok(!newer && super::settings::bot_enabled(c).await? && !person_has_it(c, ticket_id).await?)
}

/// Chats whose newest public message is the visitor's, written between `from` and `to`,
/// that the bot has not answered and no person has: what a crash between a message's
/// acknowledgement and the bot's answer leaves (at most 50, oldest first), as `(ticket,
/// message, text)`.
pub async fn unanswered(
    c: &mut dyn Conn,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(i64, i64, String)>> {
    let rows = c
        .query(
            "SELECT m.ticket_id, m.id, m.body FROM chat_conversations v
             JOIN tickets t ON t.id = v.ticket_id
             JOIN messages m ON m.ticket_id = v.ticket_id
             WHERE v.handed_over_at IS NULL AND t.status NOT IN ('solved', 'closed')
               AND m.internal = $1 AND m.author_kind = 'customer'
               AND m.created_at >= $2 AND m.created_at <= $3
               AND m.id = (SELECT MAX(n.id) FROM messages n
                           WHERE n.ticket_id = m.ticket_id AND n.internal = $1)
               AND NOT EXISTS (SELECT 1 FROM messages a WHERE a.ticket_id = m.ticket_id
                               AND a.author_user_id IS NOT NULL AND a.internal = $1)
             ORDER BY m.id LIMIT 50",
            &[false.into(), from.into(), to.into()],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.int("ticket_id")?, r.int("id")?, r.text("body")?)))
        .collect()
}

/// Adds the bot's public message to a chat. The ticket waits on the visitor (`pending`)
/// unless `solved` says the visitor confirmed the answer; no first response is counted
/// (that is a person's). Records `reply_added`, so the visitor's socket on any node
/// hears it.
pub async fn bot_message(
    c: &mut dyn Conn,
    ticket_id: i64,
    body: &Body,
    solved: bool,
    now: Timestamp,
) -> Result<Message> {
    let t = tickets::get_unchecked(c, ticket_id, true).await?;
    if t.status == TicketStatus::Closed {
        return Err(StoreError::Conflict("this ticket is closed".into()));
    }
    let msg = messages::insert(
        c,
        ticket_id,
        Actor::Bot,
        false,
        t.channel,
        body,
        Vec::new(),
        now,
    )
    .await?;
    let to = if solved {
        TicketStatus::Solved
    } else if handed_over(c, ticket_id).await? {
        t.status
    } else {
        TicketStatus::Pending
    };
    let solved_at = if to == TicketStatus::Solved && t.status != TicketStatus::Solved {
        Some(now)
    } else {
        t.solved_at
    };
    c.execute(
        "UPDATE tickets SET status = $1, message_count = message_count + 1, last_message_at = $2,
                updated_at = $2, solved_at = $3,
                status_since = CASE WHEN status = $1 THEN status_since ELSE $2 END
         WHERE id = $4",
        &[
            to.as_str().into(),
            now.into(),
            solved_at.into(),
            ticket_id.into(),
        ],
    )
    .await?;
    let mut data = json!({"message_id": msg.id, "bot": true});
    if to != t.status {
        data["status"] = json!({"from": t.status, "to": to});
    }
    events::record(c, ticket_id, Actor::Bot, EventKind::ReplyAdded, &data, now).await?;
    Ok(msg)
}

/// The online agents at work (see [`super::at_work`]) who may take a chat of `team` (its
/// members; any agent for no team), each with their open chats and limit: the same rule
/// the widget's "agents online" promise follows.
async fn candidates(
    c: &mut dyn Conn,
    team: Option<i64>,
    now: Timestamp,
) -> Result<Vec<(i64, i64, i64)>> {
    let open = "(SELECT COUNT(*) FROM tickets t JOIN chat_conversations v ON v.ticket_id = t.id
                 WHERE t.assignee_id = u.id AND t.channel = 'chat'
                   AND t.status NOT IN ('solved', 'closed'))";
    let at_work = super::at_work("$1", "$2");
    let (team_join, params) = match team {
        Some(team) => (
            "JOIN team_members m ON m.user_id = u.id AND m.team_id = $5",
            vec![team.into()],
        ),
        None => ("", Vec::new()),
    };
    let mut all = vec![
        now.into(),
        now.plus_secs(-super::AT_WORK_SECS).into(),
        true.into(),
        AgentStatus::Online.as_str().into(),
    ];
    all.extend(params);
    let rows = c
        .query(
            &format!(
                "SELECT u.id, {open} AS open, u.chat_limit FROM users u {team_join}
                 WHERE u.active = $3 AND u.chat_status = $4 AND {at_work}"
            ),
            &all,
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.int("id")?, r.int("open")?, r.int("chat_limit")?)))
        .collect()
}

async fn lock(c: &mut dyn Conn) -> Result<()> {
    if c.backend() == Backend::Postgres {
        c.batch(ASSIGN_LOCK).await?;
    }
    Ok(())
}

/// Puts the chat on `ticket_id` with `team` and the freest online agent of it (or waiting
/// in its queue), opens the ticket for people, and records `event` with `data` plus where
/// it went.
#[expect(clippy::too_many_arguments, reason = "one placement's parts")]
async fn place(
    c: &mut dyn Conn,
    ticket_id: i64,
    team: Option<i64>,
    agent: Option<i64>,
    actor: Actor,
    event: EventKind,
    mut data: serde_json::Value,
    now: Timestamp,
) -> Result<Placed> {
    let t = tickets::get_unchecked(c, ticket_id, true).await?;
    let status = if t.status.is_unsolved() || t.status == TicketStatus::Solved {
        TicketStatus::Open
    } else {
        t.status
    };
    c.execute(
        "UPDATE tickets SET team_id = $1, assignee_id = $2, status = $3, updated_at = $4,
                status_since = CASE WHEN status = $3 THEN status_since ELSE $4 END
         WHERE id = $5",
        &[
            team.into(),
            agent.into(),
            status.as_str().into(),
            now.into(),
            ticket_id.into(),
        ],
    )
    .await?;
    c.execute(
        "UPDATE chat_conversations SET handed_over_at = COALESCE(handed_over_at, $1), waiting = $2
         WHERE ticket_id = $3",
        &[now.into(), agent.is_none().into(), ticket_id.into()],
    )
    .await?;
    data["team_id"] = json!(team);
    data["assignee_id"] = json!(agent);
    data["from_team_id"] = json!(t.team_id);
    data["from_assignee_id"] = json!(t.assignee_id);
    if status != t.status {
        data["status"] = json!({"from": t.status, "to": status});
    }
    events::record(c, ticket_id, actor, event, &data, now).await?;
    Ok(Placed {
        team_id: team,
        assignee_id: agent,
    })
}

/// Hands the chat on `ticket_id` to a person: to `team` (from the detected category, or
/// `None`) and its freest online agent under their limit, else waiting in the team's
/// queue. `category` (a slug that exists) is set on the ticket. `reason` says why
/// (`customer_asked`, `no_confident_answer`, …). A chat already handed over stays where
/// it is.
pub async fn hand_over(
    c: &mut dyn Conn,
    ticket_id: i64,
    team: Option<i64>,
    category: Option<&str>,
    reason: &str,
    now: Timestamp,
) -> Result<Placed> {
    lock(c).await?;
    if handed_over(c, ticket_id).await? {
        let t = tickets::get_unchecked(c, ticket_id, true).await?;
        return Ok(Placed {
            team_id: t.team_id,
            assignee_id: t.assignee_id,
        });
    }
    if let Some(cat) = category {
        c.execute(
            "UPDATE tickets SET category = $1 WHERE id = $2 AND category IS NULL",
            &[cat.into(), ticket_id.into()],
        )
        .await?;
    }
    let agent = pick_agent(&candidates(c, team, now).await?);
    place(
        c,
        ticket_id,
        team,
        agent,
        Actor::Bot,
        EventKind::HandedOver,
        json!({"reason": reason}),
        now,
    )
    .await
}

/// Assigns the chats waiting in their teams' queues, oldest handoff first, to online
/// agents under their limits. Returns `(ticket, agent)` for each one assigned.
pub async fn assign_waiting(c: &mut dyn Conn, now: Timestamp) -> Result<Vec<(i64, i64)>> {
    lock(c).await?;
    let waiting = c
        .query(
            "SELECT v.ticket_id, t.team_id FROM chat_conversations v
             JOIN tickets t ON t.id = v.ticket_id
             WHERE v.waiting = $1 AND t.status NOT IN ('solved', 'closed')
             ORDER BY v.handed_over_at, v.ticket_id LIMIT 200",
            &[true.into()],
        )
        .await?;
    let mut out = Vec::new();
    for r in &waiting {
        let (ticket, team) = (r.int("ticket_id")?, r.opt_int("team_id")?);
        let Some(agent) = pick_agent(&candidates(c, team, now).await?) else {
            continue;
        };
        c.execute(
            "UPDATE tickets SET assignee_id = $1, updated_at = $2 WHERE id = $3",
            &[agent.into(), now.into(), ticket.into()],
        )
        .await?;
        c.execute(
            "UPDATE chat_conversations SET waiting = $1 WHERE ticket_id = $2",
            &[false.into(), ticket.into()],
        )
        .await?;
        events::record(
            c,
            ticket,
            Actor::System,
            EventKind::FieldsChanged,
            &json!({"assignee_id": {"from": null, "to": agent}}),
            now,
        )
        .await?;
        out.push((ticket, agent));
    }
    Ok(out)
}

/// An agent's chat status and limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Availability {
    /// Online, away or offline.
    pub status: AgentStatus,
    /// Their limit of concurrent chats.
    pub chat_limit: i64,
    /// The chats they have open now.
    pub open_chats: i64,
}

/// The acting agent's chat status, limit and open chats.
pub async fn availability(c: &mut dyn Conn, user_id: i64) -> Result<Availability> {
    let r = c
        .opt(
            "SELECT u.chat_status, u.chat_limit,
                    (SELECT COUNT(*) FROM tickets t JOIN chat_conversations v ON v.ticket_id = t.id
                     WHERE t.assignee_id = u.id AND t.channel = 'chat'
                       AND t.status NOT IN ('solved', 'closed')) AS open
             FROM users u WHERE u.id = $1",
            &[user_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    Ok(Availability {
        status: AgentStatus::parse(&r.text("chat_status")?)
            .map_err(|e| StoreError::Db(e.message))?,
        chat_limit: r.int("chat_limit")?,
        open_chats: r.int("open")?,
    })
}

/// Sets an agent's chat status and/or limit (their own; an admin may set anyone's limit),
/// then assigns waiting chats (someone may have become free).
pub async fn set_availability(
    c: &mut dyn Conn,
    viewer: &Viewer,
    user_id: i64,
    status: Option<AgentStatus>,
    chat_limit: Option<i64>,
    now: Timestamp,
) -> Result<Availability> {
    let admin = viewer.can(rapport_domain::Permission::ManageUsers);
    if user_id != viewer.user_id && !admin {
        return Err(StoreError::Forbidden(
            "only admins set another agent's chat settings",
        ));
    }
    if status.is_some() && user_id != viewer.user_id {
        return Err(StoreError::Forbidden("agents set their own status"));
    }
    if let Some(s) = status {
        c.execute(
            "UPDATE users SET chat_status = $1 WHERE id = $2",
            &[s.as_str().into(), user_id.into()],
        )
        .await?;
    }
    if let Some(l) = chat_limit {
        c.execute(
            "UPDATE users SET chat_limit = $1 WHERE id = $2",
            &[l.into(), user_id.into()],
        )
        .await?;
    }
    assign_waiting(c, now).await?;
    availability(c, user_id).await
}

/// Where a transfer sends a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTo {
    /// This agent: the ticket keeps its team if they are a member, else moves to the
    /// agent's first team (lowest id), or to no team if they have none.
    Agent(i64),
    /// This team's freest online agent, or its queue.
    Team(i64),
}

/// Moves the chat on `ticket_id` to another agent or team with `note` (already checked:
/// [`rapport_domain::chat::transfer_note`]), shown at the top of the ticket to the new
/// owner. The acting agent must see the ticket.
pub async fn transfer(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
    to: TransferTo,
    note: &str,
    now: Timestamp,
) -> Result<Placed> {
    let t = tickets::get_unchecked(c, ticket_id, true).await?;
    if !viewer.can_see_team(t.team_id) {
        return Err(StoreError::Forbidden(
            "this ticket belongs to a team you are not in",
        ));
    }
    if t.channel != rapport_domain::Channel::Chat {
        return Err(rapport_domain::FieldError::new("ticket", "is not a chat").into());
    }
    if t.status == TicketStatus::Closed {
        return Err(StoreError::Conflict("this ticket is closed".into()));
    }
    lock(c).await?;
    let (team, agent) = match to {
        TransferTo::Agent(a) => {
            let r = c
                .opt(
                    "SELECT u.id, u.chat_limit,
                            (SELECT COUNT(*) FROM team_members m
                             WHERE m.user_id = u.id AND m.team_id = $2) AS member,
                            (SELECT MIN(m.team_id) FROM team_members m WHERE m.user_id = u.id)
                                AS first_team
                     FROM users u WHERE u.id = $1 AND u.active = $3",
                    &[a.into(), t.team_id.into(), true.into()],
                )
                .await?
                .ok_or_else(|| {
                    rapport_domain::FieldError::new("assignee_id", "is no active agent")
                })?;
            let team = if r.int("member")? > 0 {
                t.team_id
            } else {
                r.opt_int("first_team")?
            };
            let open = availability(c, a).await?.open_chats;
            if open >= r.int("chat_limit")? && t.assignee_id != Some(a) {
                return Err(StoreError::Conflict(
                    "that agent has as many chats as their limit allows".into(),
                ));
            }
            (team, Some(a))
        }
        TransferTo::Team(team) => {
            c.opt("SELECT id FROM teams WHERE id = $1", &[team.into()])
                .await?
                .ok_or_else(|| rapport_domain::FieldError::new("team_id", "is no team"))?;
            (
                Some(team),
                pick_agent(&candidates(c, Some(team), now).await?),
            )
        }
    };
    c.execute(
        "UPDATE chat_conversations SET transfer_note = $1 WHERE ticket_id = $2",
        &[note.into(), ticket_id.into()],
    )
    .await?;
    let placed = place(
        c,
        ticket_id,
        team,
        agent,
        Actor::User(viewer.user_id),
        EventKind::Transferred,
        json!({"note": note}),
        now,
    )
    .await?;
    // Kept with every other ticket's transfers, whichever door it came through.
    let kept = crate::routing::Transfer {
        by_user_id: viewer.user_id,
        from_team_id: t.team_id,
        to_team_id: placed.team_id,
        from_assignee_id: t.assignee_id,
        to_assignee_id: placed.assignee_id,
        note: note.to_owned(),
        created_at: now,
    };
    crate::routing::save_transfer(c, ticket_id, &kept).await?;
    Ok(placed)
}

/// What sits at the top of a chat's ticket for the person who has it: the bot's handoff
/// summary and the last transfer's note.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Top {
    /// The bot's summary (plain text).
    pub summary: Option<String>,
    /// The last transfer's note (plain text).
    pub transfer_note: Option<String>,
    /// Whether the chat waits in its team's queue for a free agent.
    pub waiting: bool,
    /// Whether the bot still has it.
    pub with_bot: bool,
    /// Whether the ticket is a chat at all.
    pub is_chat: bool,
}

/// The top of a chat's ticket (empty for a ticket that is no chat).
pub async fn top(c: &mut dyn Conn, ticket_id: i64) -> Result<Top> {
    let Some(r) = c
        .opt(
            "SELECT transfer_note, waiting, handed_over_at FROM chat_conversations
             WHERE ticket_id = $1",
            &[ticket_id.into()],
        )
        .await?
    else {
        return Ok(Top::default());
    };
    Ok(Top {
        summary: crate::bot::summary_for_ticket(c, ticket_id).await?,
        transfer_note: r.opt_text("transfer_note")?,
        waiting: r.bool("waiting")?,
        with_bot: r.opt_int("handed_over_at")?.is_none(),
        is_chat: true,
    })
}
