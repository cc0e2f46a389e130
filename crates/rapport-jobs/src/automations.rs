//! The automation engine. Event rules follow the stream (`automations.events`): for each
//! ticket event that is a [`Trigger`], the enabled rules that run on it and whose
//! conditions hold on the ticket as it is now run in id order, each seeing what the ones
//! before it did. Time rules run from the minute pass ([`run_time_rules`]): each reads
//! only the tickets that crossed its mark since its watermark.
//!
//! A rule's actions run inside a savepoint: all of them or, when one fails (a closed
//! ticket cannot be replied to, an agent left), none — the failure is logged, never
//! retried forever. Every run is logged and recorded on the ticket (`automation_ran`).
//! What a rule changes carries its chain ([`Chain`]) so rules never loop. The rules are
//! `rapport_domain::automation`; the storage `rapport_store::automations`.

use futures::future::BoxFuture;
use rapport_domain::automation::action::literal;
use rapport_domain::automation::condition::SurveyFacts;
use rapport_domain::automation::{
    Action, Chain, MAX_RUNS_PER_DAY, Recipient, Rule, Template, Trigger,
};
use rapport_domain::{Body, EventKind, Timestamp};
use rapport_store::automations::{self, Seen, Stored};
use rapport_store::events::Actor;
use rapport_store::notify::{self, Notice};
use rapport_store::stream::StreamEvent;
use rapport_store::tickets::{self, TicketPatch};
use rapport_store::{Conn, Db, StoreError, op, routing, webhooks};
use serde_json::{Value as Json, json};

use crate::subscribers::Subscriber;
use crate::webhooks::DeliverPayload;

/// The subscriber's durable name.
pub const AUTOMATIONS: &str = "automations.events";

/// Tickets one time rule goes through per pass at most (the rest wait for the next pass).
pub const TIME_PAGE: i64 = 200;

/// The trigger an event is, if any.
pub fn trigger_of(event: &StreamEvent) -> Option<Trigger> {
    event.ticket_id?;
    Some(match (event.kind, event.actor) {
        (EventKind::TicketCreated | EventKind::SplitFrom, _) => Trigger::TicketCreated,
        (EventKind::FieldsChanged, _) => Trigger::TicketUpdated,
        (EventKind::ReplyAdded, Actor::Customer(_)) => Trigger::CustomerReplied,
        (EventKind::ReplyAdded, _) => Trigger::AgentReplied,
        (EventKind::NoteAdded, _) => Trigger::NoteAdded,
        (EventKind::SlaWarning, _) => Trigger::SlaWarning,
        (EventKind::SlaBreached, _) => Trigger::SlaBreached,
        (EventKind::PromiseDue, _) => Trigger::PromiseDue,
        (EventKind::PromiseBroken, _) => Trigger::PromiseBroken,
        (EventKind::SnoozeEnded, _) => Trigger::SnoozeEnded,
        (EventKind::SurveyAnswered, _) => Trigger::SurveyAnswered,
        _ => return None,
    })
}

/// The survey answer a `survey_answered` event records.
fn answer_in(event: &StreamEvent) -> SurveyFacts {
    SurveyFacts {
        csat: event.data["csat"].as_i64(),
        ces: event.data["ces"].as_i64(),
        nps: event.data["nps"].as_i64(),
        comment: event.data["comment"].as_str().map(str::to_owned),
    }
}

/// The chain of rules that made the change an event records (empty for people's changes).
pub fn chain_of(event: &StreamEvent) -> Chain {
    serde_json::from_value(event.data["automation"]["chain"].clone()).unwrap_or_default()
}

/// Runs event rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Automations;

impl Subscriber for Automations {
    fn name(&self) -> &'static str {
        AUTOMATIONS
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        trigger_of(event).is_some()
    }

    /// The rules are read once per batch.
    fn handle_batch<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let rules = automations::event_rules(c).await?;
            if rules.is_empty() {
                return Ok(());
            }
            for event in events {
                let (Some(trigger), Some(ticket)) = (trigger_of(event), event.ticket_id) else {
                    continue;
                };
                // Each rule that runs joins the chain of the ones after it on this event
                // too: they see what it did, so they act on its change.
                let mut chain = chain_of(event);
                for stored in &rules {
                    if !stored.rule.runs_on(trigger) || !chain.allows(stored.id) {
                        continue;
                    }
                    // Read again for each rule: it sees what the rules before it did.
                    let Some(mut seen) = automations::ticket(c, ticket).await? else {
                        break;
                    };
                    // A survey's answer is judged as it was given (a later change is
                    // its own event).
                    if trigger == Trigger::SurveyAnswered {
                        seen.facts.survey = answer_in(event);
                    }
                    if !stored.rule.holds(&seen.facts, now)
                        || too_often(c, stored, ticket, now).await?
                    {
                        continue;
                    }
                    chain = chain.with(stored.id);
                    let run = Run {
                        ticket,
                        event_id: Some(event.position.id),
                        chain: chain.deeper(),
                        occasion: format!("e{}", event.position.id),
                    };
                    execute(c, stored, &seen, &run, now).await?;
                }
            }
            Ok(())
        })
    }
}

/// Whether a rule already ran [`MAX_RUNS_PER_DAY`] times on the ticket in the last day
/// (a loop through something rules cannot see; logged, not run again).
async fn too_often(
    c: &mut dyn Conn,
    stored: &Stored,
    ticket: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = automations::runs_since(c, stored.id, ticket, now.plus_secs(-86_400)).await?;
    if n >= MAX_RUNS_PER_DAY {
        tracing::warn!(
            rule = stored.id,
            ticket,
            "an automation rule ran too often on one ticket today; skipped"
        );
    }
    Ok(n >= MAX_RUNS_PER_DAY)
}

/// Runs the enabled time rules once: each goes through the tickets that crossed its
/// mark since its watermark (at most [`TIME_PAGE`] per rule, one transaction per rule,
/// the rule's row locked so one node does it), runs on those whose conditions hold and
/// that it did not already run on since the mark, and moves its watermark. A rule that
/// fails is logged and the others still run. Returns how many runs it made.
pub async fn run_time_rules(db: &Db, now: Timestamp) -> Result<usize, StoreError> {
    let rules = db.read(op!(c => automations::time_rules(c).await)).await?;
    let mut ran = 0;
    for stored in rules {
        let id = stored.id;
        match db.write(op!(c => time_rule_page(c, id, now).await)).await {
            Ok(n) => ran += n,
            Err(e) => tracing::warn!(rule = id, error = %e, "a time rule failed; the others ran"),
        }
    }
    Ok(ran)
}

async fn time_rule_page(
    c: &mut dyn Conn,
    rule_id: i64,
    now: Timestamp,
) -> Result<usize, StoreError> {
    // Locked (passed over while another node has it) and read afresh inside the
    // transaction, so an edit made since the list was read counts.
    let Some((stored, crossed)) = automations::crossed(c, rule_id, now, TIME_PAGE).await? else {
        return Ok(0);
    };
    let mut ran = 0;
    for (ticket, mark) in &crossed {
        if let Some(seen) = automations::ticket(c, *ticket).await?
            && stored.rule.holds(&seen.facts, now)
            && !automations::ran_since(c, stored.id, *ticket, *mark).await?
            && !too_often(c, &stored, *ticket, now).await?
        {
            let run = Run {
                ticket: *ticket,
                event_id: None,
                chain: Chain::default().with(stored.id).deeper(),
                occasion: format!("t{}", mark.0),
            };
            execute(c, &stored, &seen, &run, now).await?;
            ran += 1;
        }
    }
    if let Some((ticket, mark)) = crossed.last() {
        automations::advance(c, stored.id, *mark, *ticket).await?;
    }
    Ok(ran)
}

/// Whether an error is the database's own trouble (the batch is retried) rather than the
/// rule's (logged as a failed run): a value or constraint the database refused
/// (PostgreSQL's SQLSTATE classes 22 and 23, SQLite's constraint failures) is the rule's.
fn is_database(e: &StoreError) -> bool {
    match e {
        StoreError::Db(m) => {
            !(m.starts_with("22") || m.starts_with("23") || m.contains("constraint failed"))
        }
        _ => false,
    }
}

/// One run of a rule: on which ticket, set off by which event, with which chain (what
/// its changes carry), and a key for what it sends out (`e<event>` or `t<mark>`), unique
/// per rule and ticket.
struct Run {
    ticket: i64,
    event_id: Option<i64>,
    chain: Chain,
    occasion: String,
}

/// Runs one rule's actions on a ticket, all or none, and logs the run.
async fn execute(
    c: &mut dyn Conn,
    stored: &Stored,
    seen: &Seen,
    run: &Run,
    now: Timestamp,
) -> Result<(), StoreError> {
    let provenance = json!({"rule_id": stored.id, "rule": stored.rule.name, "chain": run.chain});
    automations::savepoint(c).await?;
    let mut done = Vec::new();
    let mut failure = None;
    for action in &stored.rule.actions {
        match act(c, &stored.rule, run, seen, action, &provenance, now).await {
            Ok(what) => done.push(what),
            Err(e) if is_database(&e) => return Err(e),
            Err(e) => {
                failure = Some(format!("{}: {e}", action.kind()));
                break;
            }
        }
    }
    let (ok, detail) = match failure {
        None => {
            automations::release(c).await?;
            (true, json!({"done": done}))
        }
        Some(error) => {
            automations::roll_back(c).await?;
            (false, json!({"error": error}))
        }
    };
    automations::record_run(
        c,
        stored.id,
        &stored.rule.name,
        run.ticket,
        run.event_id,
        ok,
        &detail,
        now,
    )
    .await
}

/// A rating as a template shows it ("–" when not given).
fn rating(r: Option<i64>) -> String {
    r.map_or_else(|| "–".to_owned(), |n| n.to_string())
}

/// Fills a template for this ticket. For a message shown as markdown (a note, a reply),
/// what strangers wrote (the subject, the customer's name) goes in as text, its link and
/// HTML characters escaped; an agent's notification is plain text and takes it as is.
fn fill(t: &Template, rule: &Rule, seen: &Seen, markdown: bool) -> String {
    let text = |v: &str| if markdown { literal(v) } else { v.to_owned() };
    t.render(|p| match p {
        "ticket.number" => seen.number.to_string(),
        "ticket.subject" => text(&seen.facts.subject),
        "customer.name" => text(&seen.customer_name),
        "agent.name" => seen
            .assignee_name
            .as_deref()
            .map_or_else(|| "The support team".to_owned(), text),
        "rule.name" => text(&rule.name),
        "survey.csat" => rating(seen.facts.survey.csat),
        "survey.ces" => rating(seen.facts.survey.ces),
        "survey.nps" => rating(seen.facts.survey.nps),
        "survey.comment" => seen
            .facts
            .survey
            .comment
            .as_deref()
            .map_or_else(|| "(no comment)".to_owned(), text),
        _ => String::new(),
    })
}

/// Does one action; returns what it did, in words.
async fn act(
    c: &mut dyn Conn,
    rule: &Rule,
    run: &Run,
    seen: &Seen,
    action: &Action,
    provenance: &Json,
    now: Timestamp,
) -> Result<String, StoreError> {
    let ticket = run.ticket;
    let (p, what) = match action {
        Action::SetStatus { status } => (
            TicketPatch {
                status: Some(*status),
                ..TicketPatch::default()
            },
            format!("set status to {status}"),
        ),
        Action::SetPriority { priority } => (
            TicketPatch {
                priority: Some(*priority),
                ..TicketPatch::default()
            },
            format!("set priority to {priority}"),
        ),
        Action::SetCategory { category } => (
            TicketPatch {
                category: Some(category.clone()),
                ..TicketPatch::default()
            },
            match category {
                Some(c) => format!("set category to {}", c.as_str()),
                None => "cleared the category".to_owned(),
            },
        ),
        Action::SetTeam { team_id } => (
            TicketPatch {
                team_id: Some(*team_id),
                ..TicketPatch::default()
            },
            match team_id {
                Some(t) => format!("handed it to team {t}"),
                None => "took it out of its team".to_owned(),
            },
        ),
        Action::Assign { assignee_id } => (
            TicketPatch {
                assignee_id: Some(*assignee_id),
                ..TicketPatch::default()
            },
            match assignee_id {
                Some(a) => format!("assigned it to agent {a}"),
                None => "unassigned it".to_owned(),
            },
        ),
        Action::AddTags { tags } | Action::RemoveTags { tags } => {
            let add = matches!(action, Action::AddTags { .. });
            let mut now_tags: Vec<String> = seen.facts.tags.clone();
            for t in tags {
                let has = now_tags.iter().any(|x| x == t.as_str());
                if add && !has {
                    now_tags.push(t.as_str().to_owned());
                } else if !add {
                    now_tags.retain(|x| x != t.as_str());
                }
            }
            let parsed = rapport_domain::Tag::parse_list(&now_tags)?;
            let names: Vec<&str> = tags.iter().map(|t| t.as_str()).collect();
            (
                TicketPatch {
                    tags: Some(parsed),
                    ..TicketPatch::default()
                },
                format!(
                    "{} {}",
                    if add { "tagged" } else { "untagged" },
                    names.join(", ")
                ),
            )
        }
        Action::Route => {
            return Ok(match routing::route(c, ticket, now).await? {
                Some(r) => format!("routed it to agent {}", r.assignee_id),
                None => "asked routing (nobody could take it now)".to_owned(),
            });
        }
        Action::Note { text } | Action::Reply { text } => {
            let internal = matches!(action, Action::Note { .. });
            let body = Body::parse(&fill(text, rule, seen, true))?;
            tickets::conversation::by_rule(c, ticket, &body, internal, provenance.clone(), now)
                .await?;
            return Ok(if internal {
                "added a note".to_owned()
            } else {
                "replied to the customer".to_owned()
            });
        }
        Action::Notify { to, text } => {
            let mut users = Vec::new();
            if to.contains(&Recipient::Assignee)
                && let Some(a) = seen.facts.assignee_id
            {
                users.push(a);
            }
            if to.contains(&Recipient::Supervisors) {
                users.extend(automations::supervisors(c).await?);
            }
            users.sort_unstable();
            users.dedup();
            let text = fill(text, rule, seen, false);
            let mut sent = 0;
            for user_id in &users {
                let notice = Notice::Reminder {
                    user_id: *user_id,
                    ticket_id: ticket,
                    text: text.clone(),
                    subject: Some(format!("Automation: {}", rule.name)),
                };
                if notify::queue(c, &notice, now).await? {
                    sent += 1;
                }
            }
            return Ok(format!("notified {sent} agent(s)"));
        }
        Action::Webhook { webhook_id } => {
            let hook = webhooks::get(c, *webhook_id).await?;
            if !hook.active {
                return Err(StoreError::Conflict(format!(
                    "webhook {webhook_id} is turned off"
                )));
            }
            let body = json!({
                "type": "automation.fired",
                "timestamp": now,
                "data": {
                    "ticket": webhooks::ticket_summary(c, ticket).await?,
                    "rule": {"id": provenance["rule_id"], "name": rule.name},
                }
            })
            .to_string();
            let payload = DeliverPayload {
                webhook_id: *webhook_id,
                msg_id: format!(
                    "msg_rule_{}_{ticket}_{}",
                    provenance["rule_id"], run.occasion
                ),
                event_type: "automation.fired".to_owned(),
                body,
            };
            crate::webhooks::enqueue(c, &payload, now).await?;
            return Ok(format!("sent it to webhook {webhook_id}"));
        }
    };
    tickets::lifecycle::update_by_rule(c, ticket, p, provenance.clone(), now).await?;
    Ok(what)
}
