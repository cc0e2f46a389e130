//! Agents' notification emails, as a subscriber to the event stream: the customer wrote
//! again on a ticket (to its assignee; not for each line of a live chat), a ticket was assigned to an agent by someone
//! else, and reminders (a snoozed ticket woke; a promise comes due); and customers hear of
//! each step of their returns. The rules are `notify::queue`'s (a mailbox to send from, the agent's
//! preference); the ticket code only records the event.

use futures::future::BoxFuture;
use rapport_domain::{EventKind, Timestamp};
use rapport_jobs::Subscriber;
use rapport_store::events::Actor;
use rapport_store::notify::{self, Notice};
use rapport_store::stream::StreamEvent;
use rapport_store::{Conn, StoreError};

/// The notices subscriber's cursor name.
pub const NOTICES: &str = "email.notices";

/// Queues agents' notifications.
pub struct Notices;

/// The notice an event calls for, if any.
pub fn notice_for(event: &StreamEvent) -> Option<Notice> {
    // A return moved a step: its customer hears of it, ticket or not.
    if event.kind == EventKind::ReturnChanged {
        return Some(Notice::ReturnStep {
            return_id: event.data["return_id"].as_i64()?,
            state: event.data["state"].as_str()?.to_owned(),
        });
    }
    // Other events about no ticket (a knowledge-base article changed) notify no one.
    let ticket_id = event.ticket_id?;
    if event.kind == EventKind::ReplyAdded {
        // The customer replied: tell whoever has the ticket.
        let Actor::Customer(_) = event.actor else {
            return None;
        };
        // A live chat's lines reach its agent live (and in the workspace's alerts); a mail
        // for each would flood their inbox.
        if event.channel == Some(rapport_domain::Channel::Chat) {
            return None;
        }
        let user_id = event.assignee_id?;
        return Some(Notice::CustomerReplied { user_id, ticket_id });
    }
    if event.kind == EventKind::SnoozeEnded && event.data["reason"] == "time" {
        // A snoozed ticket woke: remind its owner (or whoever snoozed it).
        let user_id = event.assignee_id.or(event.data["user_id"].as_i64())?;
        let note = event.data["note"].as_str().unwrap_or_default();
        let text = if note.is_empty() {
            "the snooze ended; the ticket is open again.".to_owned()
        } else {
            format!("the snooze ended; the ticket is open again. Your note: {note}")
        };
        return Some(Notice::Reminder {
            user_id,
            ticket_id,
            text,
            subject: None,
        });
    }
    if event.kind == EventKind::PromiseDue {
        // A promise comes due: remind whoever made it.
        let user_id = event.data["user_id"].as_i64()?;
        let text = format!(
            "your promise \"{}\" is due at {} UTC.",
            event.data["text"].as_str().unwrap_or_default(),
            event.data["due_at"]
                .as_str()
                .map(|t| t.get(..16).unwrap_or(t).replace('T', " "))
                .unwrap_or_default()
        );
        return Some(Notice::Reminder {
            user_id,
            ticket_id,
            text,
            subject: None,
        });
    }
    if event.kind == EventKind::Transferred {
        // Handed over by someone else: the new owner hears of it (the note is on the
        // ticket).
        let Actor::User(by) = event.actor else {
            return None;
        };
        let user_id = event.data["assignee_id"].as_i64()?;
        return (user_id != by).then_some(Notice::Assigned {
            user_id,
            ticket_id,
            by,
        });
    }
    if event.kind == EventKind::FieldsChanged {
        // Assigned to someone by someone else (taking a ticket yourself tells no one).
        let Actor::User(by) = event.actor else {
            return None;
        };
        let user_id = event.data["assignee_id"]["to"].as_i64()?;
        return (user_id != by).then_some(Notice::Assigned {
            user_id,
            ticket_id,
            by,
        });
    }
    None
}

impl Subscriber for Notices {
    fn name(&self) -> &'static str {
        NOTICES
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        notice_for(event).is_some()
    }

    fn handle<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        event: &'a StreamEvent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if let Some(notice) = notice_for(event) {
                notify::queue(c, &notice, now).await?;
            }
            Ok(())
        })
    }
}
