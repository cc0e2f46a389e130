//! The email outbox: a subscriber to the event stream that queues the `email.send` job
//! for every public reply marked for delivery (`"deliver": true` in its `reply_added`
//! event) on an email ticket. `tickets::reply` names no channel; it marks the reply
//! queued and records the event, and this turns it into mail — in the transaction that
//! moves the outbox's cursor, so each reply is queued once.

use futures::future::BoxFuture;
use rapport_domain::{Channel, EventKind, Timestamp};
use rapport_jobs::Subscriber;
use rapport_store::stream::StreamEvent;
use rapport_store::{Conn, StoreError, mail};

/// The outbox's cursor name.
pub const OUTBOX: &str = "email.outbox";

/// Queues email for replies to deliver on email tickets.
pub struct Outbox;

/// The reply an event asks the email channel to send, if any.
pub fn reply_to_send(event: &StreamEvent) -> Option<i64> {
    let wanted = event.kind == EventKind::ReplyAdded
        && event.channel == Some(Channel::Email)
        && event.data["deliver"] == true;
    wanted.then(|| event.data["message_id"].as_i64()).flatten()
}

impl Subscriber for Outbox {
    fn name(&self) -> &'static str {
        OUTBOX
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        reply_to_send(event).is_some()
    }

    fn handle<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        event: &'a StreamEvent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            match reply_to_send(event) {
                Some(message_id) => mail::queue_send(c, message_id, now).await,
                None => Ok(()),
            }
        })
    }
}
