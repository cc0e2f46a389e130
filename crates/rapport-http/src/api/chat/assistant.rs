//! The assistant bot inside a live chat. After a visitor's message is committed (and
//! acknowledged), and while no person has the chat and the bot is enabled, the bot
//! answers through the same code as `POST /api/v1/bot/ask` ([`crate::api::bot::think`]):
//! the turn, the bot's public message (author `bot`, with its sources) and — when it does
//! not know, is told "no" twice, the visitor is upset or asks for a person — the handoff
//! commit in one write. The visitor's socket hears the bot's message through the event
//! stream like an agent's reply. The visitor's "Talk to a person" (`handoff` frame) comes
//! here too.
//!
//! A handoff puts the bot's summary on the ticket (`bot_conversations.summary`, shown at
//! the top of the ticket page), sets the category detected from the text, routes to the
//! team named like it ([`team_for_category`]), assigns the freest online agent under their
//! limit (or leaves it waiting in the team's queue), records `handed_over`, and tells the
//! visitor a person is coming and roughly when (`notify::expectation`).

use rapport_domain::bot::summary::intent;
use rapport_domain::bot::{HANDOFF_TEXT, Outcome};
use rapport_domain::chat::team_for_category;
use rapport_domain::{Body, Principal, Timestamp};
use rapport_store::bot as bot_store;
use rapport_store::chat::handoff::{self, Placed};
use rapport_store::chat::settings as chat_settings;
use rapport_store::{Conn, op};

use crate::api::bot::{categories, summary_text, think};
use crate::error::ApiResult;
use crate::state::AppState;

/// What a handoff told the visitor.
#[derive(Debug, Clone)]
pub struct HandedOver {
    /// Where the chat went.
    pub placed: Placed,
    /// The expected reply sentence.
    pub expected_reply: String,
}

/// The visitor's recent other tickets, for the summary (`#1234 Subject (status)`).
async fn recent_tickets(c: &mut dyn Conn, ticket_id: i64) -> rapport_store::Result<Vec<String>> {
    let customer = rapport_store::tickets::customer_of(c, ticket_id).await?;
    let mut list = rapport_store::tickets::for_customer(c, &Principal::System, customer).await?;
    list.retain(|t| t.id != ticket_id);
    list.sort_by_key(|t| std::cmp::Reverse(t.created_at));
    Ok(list
        .iter()
        .take(3)
        .map(|t| format!("#{} {} ({})", t.number, t.subject, t.status))
        .collect())
}

/// The team a chat about `text` goes to, and the category detected.
pub(crate) async fn route(st: &AppState, text: &str) -> ApiResult<(Option<i64>, Option<String>)> {
    let cats = categories(st).await?;
    let slug = intent(text, &cats);
    let Some((slug, name)) = cats.iter().find(|(s, _)| *s == slug).cloned() else {
        return Ok((None, None));
    };
    let teams: Vec<(i64, String)> = st
        .db
        .read(op!(c => rapport_store::people::list_teams(c).await))
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    Ok((team_for_category((&slug, &name), &teams), Some(slug)))
}

/// The message the visitor reads at a handoff: the bot's words and the expected reply.
fn coming(expected: &str, assigned: bool) -> String {
    let who = if assigned {
        "A person on our team has your conversation now."
    } else {
        "Everyone on the team is busy right now; the next free person will take your conversation."
    };
    format!("{HANDOFF_TEXT} {who} {expected}")
}

/// Answers the visitor's message `body` (stored as message `message_id`) when the bot has
/// the chat. Returns the handoff when this message caused one.
pub async fn answer(
    st: &AppState,
    ticket_id: i64,
    message_id: i64,
    body: &str,
) -> ApiResult<Option<HandedOver>> {
    let (enabled, with_person, conv, turns, recent) = st
        .db
        .read(op!(c => {
            let enabled = chat_settings::bot_enabled(c).await?;
            let with_person = handoff::person_has_it(c, ticket_id).await?;
            let conv = bot_store::for_ticket(c, ticket_id).await?;
            let turns = match &conv {
                Some(v) => bot_store::turns(c, v.id).await?,
                None => Vec::new(),
            };
            let recent = recent_tickets(c, ticket_id).await?;
            Ok((enabled, with_person, conv, turns, recent))
        }))
        .await?;
    if !enabled || with_person {
        return Ok(None);
    }
    let (reply, turn) = think(st, body, conv.as_ref(), &turns).await;
    let handing = turn.handoff;
    let (summary, team, category) = if handing {
        let everything: String = turns
            .iter()
            .map(|t| t.turn.question.as_str())
            .chain([body])
            .collect::<Vec<_>>()
            .join(" ");
        let (team, category) = route(st, &everything).await?;
        let summary = summary_text(st, &turns, Some(&reply), recent).await?;
        (Some(summary), team, category)
    } else {
        (None, None, None)
    };
    let solved = reply.outcome == Outcome::Confirmed;
    let reason = turn.reason.clone().unwrap_or_default();
    let now = st.now();
    let text = reply.text.clone();
    let done = st
        .db
        .write(op!(c => {
            // Looked at again where it counts: a person may have taken the chat (or the
            // bot been turned off) while the bot was thinking.
            if !handoff::bot_may_answer(c, ticket_id, message_id).await? {
                return Ok(None);
            }
            let conv = match bot_store::for_ticket(c, ticket_id).await? {
                Some(v) => v,
                None => bot_store::start_for_ticket(c, ticket_id, now).await?,
            };
            let turn_id = bot_store::record(c, &conv, &turn, summary.as_deref(), now).await?;
            let placed = if handing {
                Some(place(c, ticket_id, team, category.as_deref(), &reason, now).await?)
            } else {
                None
            };
            let text = match &placed {
                Some((p, expected)) => coming(expected, p.assignee_id.is_some()),
                None => text,
            };
            let body = Body::parse(&text)?;
            let msg = handoff::bot_message(c, ticket_id, &body, solved, now).await?;
            bot_store::set_turn_message(c, turn_id, msg.id).await?;
            Ok(Some(placed))
        }))
        .await?;
    tracing::debug!(
        ticket_id,
        message_id,
        handed_over = handing,
        "chat: the bot answered"
    );
    Ok(done.flatten().map(|(placed, expected_reply)| HandedOver {
        placed,
        expected_reply,
    }))
}

async fn place(
    c: &mut dyn Conn,
    ticket_id: i64,
    team: Option<i64>,
    category: Option<&str>,
    reason: &str,
    now: Timestamp,
) -> rapport_store::Result<(Placed, String)> {
    let placed = handoff::hand_over(c, ticket_id, team, category, reason, now).await?;
    let expected = rapport_store::notify::expectation(c, ticket_id, now)
        .await?
        .sentence();
    Ok((placed, expected))
}

/// Answers what a crash left unanswered: visitors' messages acknowledged between 30 s and
/// an hour ago that the bot never answered (the server died after the acknowledgement).
/// The 30 s leave a live answer time to land; the bot's write answers only the newest
/// message, so two nodes sweeping at once answer once. Returns how many it answered (a failing one is logged and skipped).
pub async fn answer_unanswered(st: &AppState) -> ApiResult<usize> {
    let now = st.now();
    let (from, to) = (now.plus_secs(-3_600), now.plus_secs(-30));
    let list = st
        .db
        .read(op!(c => {
            if !chat_settings::bot_enabled(c).await? {
                return Ok(Vec::new());
            }
            handoff::unanswered(c, from, to).await
        }))
        .await?;
    let mut answered = 0;
    for (ticket, message, body) in list {
        // One failing chat does not hold the others back.
        if let Err(e) = answer(st, ticket, message, &body).await {
            tracing::warn!(error = ?e, ticket_id = ticket, "chat: the sweep could not answer");
            continue;
        }
        answered += 1;
    }
    Ok(answered)
}

/// The visitor's "Talk to a person": hands the chat over (once; asking again says the
/// same), with the summary of what the bot tried.
pub async fn hand_over(st: &AppState, ticket_id: i64) -> ApiResult<HandedOver> {
    let (conv, turns, recent, first) = st
        .db
        .read(op!(c => {
            let conv = bot_store::for_ticket(c, ticket_id).await?;
            let turns = match &conv {
                Some(v) => bot_store::turns(c, v.id).await?,
                None => Vec::new(),
            };
            let recent = recent_tickets(c, ticket_id).await?;
            let who = Principal::System;
            let first = rapport_store::messages::for_ticket(c, &who, ticket_id)
                .await?
                .into_iter()
                .filter(|m| m.author.kind == rapport_domain::AuthorKind::Customer)
                .map(|m| m.body)
                .collect::<Vec<_>>()
                .join(" ");
            Ok((conv, turns, recent, first))
        }))
        .await?;
    let (team, category) = route(st, &first).await?;
    let summary = if turns.is_empty() {
        // The bot never spoke (it is off): the summary is the visitor's words.
        let ex = [rapport_domain::bot::summary::Exchange {
            question: first.clone(),
            tried: Vec::new(),
            reaction: None,
        }];
        let mood = rapport_domain::bot::mood(&first);
        rapport_domain::bot::summary::summarize(
            &ex,
            mood,
            &categories(st).await?,
            recent,
            Vec::new(),
        )
        .text()
    } else {
        summary_text(st, &turns, None, recent).await?
    };
    let now = st.now();
    let already = conv.as_ref().is_some_and(|v| v.handed_over);
    let (placed, expected, fresh) = st
        .db
        .write(op!(c => {
            let fresh = !handoff::handed_over(c, ticket_id).await?;
            let conv = match bot_store::for_ticket(c, ticket_id).await? {
                Some(v) => v,
                None => bot_store::start_for_ticket(c, ticket_id, now).await?,
            };
            if fresh && !already {
                bot_store::mark_handed_over(c, conv.id, &summary, now).await?;
            }
            let (placed, expected) =
                place(c, ticket_id, team, category.as_deref(), "customer_asked", now).await?;
            if fresh {
                let body = Body::parse(&coming(&expected, placed.assignee_id.is_some()))?;
                handoff::bot_message(c, ticket_id, &body, false, now).await?;
            }
            Ok((placed, expected, fresh))
        }))
        .await?;
    tracing::debug!(
        ticket_id,
        fresh,
        "chat: handed over on the visitor's request"
    );
    Ok(HandedOver {
        placed,
        expected_reply: expected,
    })
}
