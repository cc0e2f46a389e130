//! Chats waiting in a team's queue are assigned when someone frees up: a chat's ticket
//! was solved or closed, or moved to someone else, or was transferred — any of which may
//! leave an online agent under their limit. (An agent coming online or a larger limit
//! assigns at once, in the same write.) The assignment itself is
//! `rapport_store::chat::handoff::assign_waiting`.

use futures::future::BoxFuture;
use rapport_domain::{Channel, Timestamp};
use rapport_store::chat::handoff;
use rapport_store::stream::StreamEvent;
use rapport_store::{Conn, StoreError};

use crate::subscribers::Subscriber;

/// The subscriber's durable name.
pub const CHAT_QUEUE: &str = "chat.queue";

/// Assigns waiting chats when a chat frees an agent.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChatQueue;

/// Whether the event may have freed a chat agent's place.
fn frees_a_place(event: &StreamEvent) -> bool {
    event.channel == Some(Channel::Chat) && crate::subscribers::frees_an_agent(event)
}

impl Subscriber for ChatQueue {
    fn name(&self) -> &'static str {
        CHAT_QUEUE
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        frees_a_place(event)
    }

    fn handle<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        _event: &'a StreamEvent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            handoff::assign_waiting(c, now).await?;
            Ok(())
        })
    }
}
