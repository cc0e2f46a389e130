//! SLA clocks follow the event stream: a new ticket starts its clocks under the policy
//! that applies; an agent's public reply meets the first and next response; a customer's
//! message starts the next response; waiting on the customer pauses every clock and
//! leaving it resumes them; solving meets them; reopening starts a new resolution clock.
//! A ticket split off another starts its clocks like a new one. Each event's own time is
//! used, not the time the subscriber runs; clocks start as of the ticket's creation (status
//! `new`), the later status changes following as their events come. The policy is picked
//! from the ticket's priority, category and customer as they are when the subscriber
//! starts the clocks (a moment after creation), and again when a change of priority or
//! category makes another policy apply: the ticket's history is then replayed under the
//! new policy's terms (a target already breached stays breached). The rules are the
//! domain's (`rapport_domain::sla::clock`); this says which event is which.

use std::collections::HashMap;

use futures::future::BoxFuture;
use rapport_domain::sla::calendar::Calendar;
use rapport_domain::sla::clock::{Clock, TicketSla};
use rapport_domain::sla::policy::Targets;
use rapport_domain::{EventKind, TicketStatus, Timestamp};
use rapport_store::events::Actor;
use rapport_store::sla::clocks::{self, Terms};
use rapport_store::stream::StreamEvent;
use rapport_store::{Conn, StoreError};

use crate::subscribers::Subscriber;

/// The subscriber's durable name.
pub const SLA_CLOCKS: &str = clocks::SUBSCRIBER;

/// Keeps every ticket's SLA clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SlaClocks;

/// What the clocks react to in an event (from the stream, or from a ticket's history when
/// it is replayed).
struct Happening<'a> {
    kind: EventKind,
    actor: Actor,
    data: &'a serde_json::Value,
    created_at: Timestamp,
}

impl<'a> From<&'a StreamEvent> for Happening<'a> {
    fn from(e: &'a StreamEvent) -> Self {
        Self {
            kind: e.kind,
            actor: e.actor,
            data: &e.data,
            created_at: e.created_at,
        }
    }
}

/// The status change an event records (`data.status.{from,to}`), if any.
fn status_change(event: &Happening<'_>) -> Option<(TicketStatus, TicketStatus)> {
    let s = &event.data["status"];
    let from = TicketStatus::parse(s["from"].as_str()?).ok()?;
    let to = TicketStatus::parse(s["to"].as_str()?).ok()?;
    Some((from, to))
}

/// The clocks after `event`.
fn after(sla: TicketSla, terms: &Terms, event: &Happening<'_>) -> TicketSla {
    let at = event.created_at;
    let (targets, cal) = (&terms.targets, &terms.calendar);
    let status = |sla: TicketSla| match status_change(event) {
        Some((from, to)) => sla.on_status(targets, cal, from, to, at),
        None => sla,
    };
    match (event.kind, event.actor) {
        // The reply counts before the status it set (reply and solve: met in time).
        (EventKind::ReplyAdded, Actor::User(_)) => status(sla.on_agent_reply(at)),
        // A customer reopening a solved ticket: its new resolution clock first, then the
        // next response the message asks for.
        (EventKind::ReplyAdded, Actor::Customer(_)) => {
            status(sla).on_customer_message(targets, cal, at)
        }
        (EventKind::MergedInto, _) => {
            sla.on_status(targets, cal, TicketStatus::Open, TicketStatus::Closed, at)
        }
        _ => status(sla),
    }
}

/// The clocks as they would stand had `terms` applied from the ticket's creation: its
/// history up to event `upto` (the one being handled) replayed under them — pauses,
/// replies, reopenings and all.
async fn replayed(
    c: &mut dyn Conn,
    ticket: i64,
    terms: &Terms,
    created: Timestamp,
    upto: i64,
) -> Result<TicketSla, StoreError> {
    let (targets, cal) = (&terms.targets, &terms.calendar);
    let mut sla = TicketSla::start(terms.policy_id, targets, cal, created, TicketStatus::New);
    for e in rapport_store::events::for_ticket(c, ticket).await? {
        if e.id > upto {
            break;
        }
        if matches!(e.kind, EventKind::TicketCreated | EventKind::SplitFrom) {
            continue;
        }
        let actor = match (e.actor_user_id, e.actor_customer_id) {
            (Some(u), _) => Actor::User(u),
            (None, Some(cu)) => Actor::Customer(cu),
            (None, None) => Actor::System,
        };
        let h = Happening {
            kind: e.kind,
            actor,
            data: &e.data,
            created_at: e.created_at,
        };
        sla = after(sla, terms, &h);
    }
    Ok(sla)
}

/// A target already over at `now` stays as it was: a breach is not undone, nor announced
/// again, by a change of policy.
fn keep_breached(old: TicketSla, new: TicketSla, now: Timestamp) -> TicketSla {
    let keep = |o: Clock, n: Clock| if o.breached(now) { o } else { n };
    TicketSla {
        policy_id: new.policy_id,
        first_response: keep(old.first_response, new.first_response),
        next_response: keep(old.next_response, new.next_response),
        resolution: keep(old.resolution, new.resolution),
    }
}

/// Whether a field change may make another policy apply (its priority or category).
fn repicks(event: &StreamEvent) -> bool {
    event.kind == EventKind::FieldsChanged
        && (event.data.get("priority").is_some() || event.data.get("category").is_some())
}

impl Subscriber for SlaClocks {
    fn name(&self) -> &'static str {
        SLA_CLOCKS
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        event.ticket_id.is_some()
            && match event.kind {
                EventKind::TicketCreated
                | EventKind::SplitFrom
                | EventKind::ReplyAdded
                | EventKind::MergedInto => true,
                // A note or a field change that also set the status.
                EventKind::NoteAdded => status_change(&event.into()).is_some(),
                // A change of status, or of what picks the policy.
                EventKind::FieldsChanged => {
                    status_change(&event.into()).is_some() || repicks(event)
                }
                _ => false,
            }
    }

    /// The batch's new tickets start their clocks together (their facts in one read, the
    /// policies once); what happens to them later in the same batch moves those clocks in
    /// memory, and they are stored together at the end.
    fn handle_batch<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let created: Vec<i64> = events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::TicketCreated | EventKind::SplitFrom))
                .filter_map(|e| e.ticket_id)
                .collect();
            // A ticket's creation is handled once (the cursor moves in this same
            // transaction), so nothing is stored for these yet.
            let started = clocks::started_all(c, &created).await?;
            // A ticket its creator wrote with a due time no policy gives it now (a policy
            // changed meanwhile) has it taken off again.
            let mut stale: Vec<i64> = started
                .iter()
                .filter(|(_, s)| s.sla.is_none() && s.due_stored != clocks::NO_DUE)
                .map(|(id, _)| *id)
                .collect();
            stale.sort_unstable();
            clocks::clear_due(c, &stale).await?;
            let mut fresh: HashMap<i64, (TicketSla, i64)> = started
                .into_iter()
                .filter_map(|(id, s)| Some((id, (s.sla?, s.due_stored))))
                .collect();
            for event in events {
                let Some(id) = event.ticket_id else {
                    continue;
                };
                if matches!(event.kind, EventKind::TicketCreated | EventKind::SplitFrom) {
                    continue;
                }
                if let Some((sla, _)) = fresh.get_mut(&id) {
                    if let Some(next) = moved(c, id, *sla, event).await? {
                        *sla = next;
                    }
                    continue;
                }
                let Some(stored) = clocks::load(c, id).await? else {
                    continue;
                };
                if let Some(next) = moved(c, id, stored, event).await? {
                    clocks::save(c, id, &next, now).await?;
                }
            }
            let mut started: Vec<(i64, &TicketSla, i64)> = fresh
                .iter()
                .map(|(id, (sla, due))| (*id, sla, *due))
                .collect();
            // In ticket order, so two writers would meet rows in the same order.
            started.sort_by_key(|(id, _, _)| *id);
            clocks::save_started(c, &started, now).await?;
            Ok(())
        })
    }
}

/// The clocks after `event` when it moves them (`None`: unchanged).
async fn moved(
    c: &mut dyn Conn,
    id: i64,
    stored: TicketSla,
    event: &StreamEvent,
) -> Result<Option<TicketSla>, StoreError> {
    // Another policy may apply now: the ticket's history so far is replayed under its
    // terms, and that is the clocks (this event included).
    if repicks(event)
        && let Some((terms, created)) = clocks::terms_now(c, id).await?
        && terms.policy_id != stored.policy_id
    {
        let next = replayed(c, id, &terms, created, event.position.id).await?;
        let next = keep_breached(stored, next, event.created_at);
        return Ok((next != stored).then_some(next));
    }
    let sla = stored;
    // Only a status change or a customer's message starts, pauses or resumes a clock; a
    // reply or a merge only meets them, which needs no terms (no reads on the busiest
    // events). A deleted policy's clocks can still be met, paused and resumed (in
    // calendar hours), not started anew.
    let none = || Terms {
        policy_id: sla.policy_id,
        targets: Targets::default(),
        calendar: Calendar::always(),
    };
    let happening = Happening::from(event);
    let needs_terms =
        status_change(&happening).is_some() || matches!(event.actor, Actor::Customer(_));
    let terms = if needs_terms {
        clocks::terms_of(c, sla.policy_id)
            .await?
            .unwrap_or_else(none)
    } else {
        none()
    };
    let next = after(sla, &terms, &happening);
    Ok((next != stored).then_some(next))
}
