//! The `email.send` job (queued by the [`outbox`](crate::outbox); formerly `mail.send`,
//! still accepted): emails an agent's public reply on an email ticket through the
//! relay, from the mailbox the conversation came in on, and records where its delivery
//! stands on the message (queued, retrying, sent, failed) for the agent to see. A relay
//! that is down is retried with backoff; a permanent refusal, or the last attempt
//! failing, ends in "failed" with the reason.

use std::sync::Arc;

use futures::future::BoxFuture;
use rapport_domain::Clock;
use rapport_jobs::Handler;
use rapport_store::Db;
use rapport_store::jobs::Job;
use rapport_store::mail::{self, SendPayload};
use rapport_store::messages::{self, Delivery};
use rapport_store::op;

use crate::compose;
use crate::transport::{SendError, Transport};

/// The `email.send` job: payload [`SendPayload`].
pub struct SendHandler {
    transport: Arc<Transport>,
    clock: Arc<dyn Clock>,
}

impl SendHandler {
    /// Sends through `transport`; without a relay, every delivery fails visibly.
    pub fn new(transport: Arc<Transport>, clock: Arc<dyn Clock>) -> Self {
        Self { transport, clock }
    }

    /// Stores the reply's Message-ID (so the customer's answer threads back), builds and
    /// hands over the reply, then marks it sent.
    async fn deliver(&self, db: &Db, message_id: i64) -> Result<(), SendError> {
        if !self.transport.has_relay() {
            return Err(SendError::NoRelay);
        }
        let out = db
            .read(op!(c => mail::outgoing(c, message_id).await))
            .await
            .map_err(|e| SendError::Transient(e.to_string()))?;
        // The reply's Message-ID is stored before it goes out, with the ticket it is
        // sent from: a retry sends the same ID, and the customer's answer finds its
        // ticket whatever inbound mail claimed meanwhile.
        let fresh = compose::new_message_id(compose::id_domain(out.from.as_ref()));
        let ticket = out.ticket_id;
        let now = self.clock.now();
        let id = db
            .write(op!(c => mail::reply_message_id(c, message_id, ticket, &fresh, now).await))
            .await
            .map_err(|e| SendError::Transient(e.to_string()))?;
        let email = compose::reply(&out, &id).map_err(SendError::Permanent)?;
        self.transport.send(&email).await?;
        db.write(op!(c => messages::set_delivery(c, message_id, Delivery::Sent, None).await))
            .await
            .map_err(|e| SendError::Transient(e.to_string()))
    }
}

/// Records a delivery state; a failure to record it is logged (the job's own outcome
/// still stands).
async fn set_state(db: &Db, message_id: i64, state: Delivery, error: String) {
    let r = db
        .write(op!(c => messages::set_delivery(c, message_id, state, Some(&error)).await))
        .await;
    if let Err(e) = r {
        tracing::warn!(error = %e, message = message_id, "could not record the delivery state");
    }
}

impl Handler for SendHandler {
    fn run<'a>(&'a self, db: &'a Db, job: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let SendPayload { message_id } = rapport_jobs::payload(job)?;
            match self.deliver(db, message_id).await {
                Ok(()) => Ok(()),
                // A permanent refusal (5xx) will not get better: fail now and tell the agent.
                Err(SendError::Permanent(e)) => {
                    set_state(db, message_id, Delivery::Failed, e).await;
                    Ok(())
                }
                Err(e) => {
                    let e = e.to_string();
                    set_state(db, message_id, Delivery::Retrying, e.clone()).await;
                    Err(e)
                }
            }
        })
    }

    /// Out of attempts: the reply will not go out, and the agent sees why.
    fn gave_up<'a>(&'a self, db: &'a Db, job: &'a Job, error: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Ok(SendPayload { message_id }) = rapport_jobs::payload(job) {
                set_state(db, message_id, Delivery::Failed, error.to_owned()).await;
            }
        })
    }
}
