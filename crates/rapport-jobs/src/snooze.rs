//! A snoozed ticket waiting on the customer wakes when they write: the customer's reply
//! ends its snooze (`rapport_store::snooze::end_on_reply`). Snoozes until a time are woken
//! by the binary's minute loop (`snooze::wake_due`).

use futures::future::BoxFuture;
use rapport_domain::{EventKind, Timestamp};
use rapport_store::events::Actor;
use rapport_store::snooze;
use rapport_store::stream::StreamEvent;
use rapport_store::{Conn, StoreError};

use crate::subscribers::Subscriber;

/// The subscriber's durable name.
pub const SNOOZE: &str = "snooze.replies";

/// Ends snoozes on the customer's reply.
#[derive(Debug, Clone, Copy, Default)]
pub struct SnoozeReplies;

impl Subscriber for SnoozeReplies {
    fn name(&self) -> &'static str {
        SNOOZE
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        event.kind == EventKind::ReplyAdded && matches!(event.actor, Actor::Customer(_))
    }

    fn handle<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        event: &'a StreamEvent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if let Some(ticket) = event.ticket_id {
                snooze::end_on_reply(c, ticket, now).await?;
            }
            Ok(())
        })
    }
}
