//! New tickets go to an agent of their team when the team routes automatically: a ticket
//! created (or split off, or transferred or moved to such a team without an owner) is
//! routed; a ticket
//! solved, closed or taken from its owner may free a place, so the team's waiting queue
//! is looked through. Agents coming online or a capacity growing announce nothing: the
//! binary's minute loop looks through the queues too. The rules are
//! `rapport_domain::routing`; the writes `rapport_store::routing`.

use futures::future::BoxFuture;
use rapport_domain::{Channel, EventKind, Timestamp};
use rapport_store::events::Actor;
use rapport_store::routing;
use rapport_store::stream::StreamEvent;
use rapport_store::{Conn, StoreError};

use crate::subscribers::Subscriber;

/// The subscriber's durable name.
pub const ROUTING: &str = "routing.assign";

/// Tickets of the waiting queues looked through after an event frees a place.
const WAITING_PER_EVENT: i64 = 20;

/// Routes new and moved tickets, and the queues when a place frees up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Routing;

/// Whether the event leaves a ticket without an owner in a team (so it may need
/// routing): created, split off, transferred or moved to the team, or handed back to the
/// queue by its owner (who is then passed over for it: see [`handed_back`]).
fn needs_owner(event: &StreamEvent) -> bool {
    event.team_id.is_some()
        && event.assignee_id.is_none()
        && match event.kind {
            EventKind::TicketCreated | EventKind::SplitFrom | EventKind::Transferred => true,
            EventKind::FieldsChanged => {
                event.data.get("team_id").is_some() || handed_back(event).is_some()
            }
            _ => false,
        }
}

/// The agent a person took the ticket from, leaving it to nobody.
fn handed_back(event: &StreamEvent) -> Option<i64> {
    let change = &event.data["assignee_id"];
    (matches!(event.actor, Actor::User(_)) && change["to"].is_null())
        .then(|| change["from"].as_i64())
        .flatten()
}

impl Subscriber for Routing {
    fn name(&self) -> &'static str {
        ROUTING
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        event.channel.is_some_and(|c| c != Channel::Chat)
            && (needs_owner(event) || crate::subscribers::frees_an_agent(event))
    }

    fn handle<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        event: &'a StreamEvent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if needs_owner(event)
                && let Some(ticket) = event.ticket_id
            {
                if let Some(agent) = handed_back(event) {
                    routing::declined(c, ticket, agent).await?;
                }
                routing::route(c, ticket, now).await?;
            }
            if crate::subscribers::frees_an_agent(event) {
                routing::route_waiting(c, WAITING_PER_EVENT, now).await?;
            }
            Ok(())
        })
    }
}
