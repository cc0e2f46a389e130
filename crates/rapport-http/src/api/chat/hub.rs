//! What every chat socket of this node shares: the limits on strangers (conversations
//! started and sockets opened per client address, messages per address and per
//! conversation) and the relay of typing and read signals between the two sides.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rapport_domain::Clock;
use tokio::sync::broadcast;

use crate::limit::FailureLimiter;

/// Which side a signal comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The visitor (the widget).
    Visitor,
    /// An agent (the workspace).
    Agent,
}

/// A passing signal about one conversation: nothing stored, nothing replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Someone is typing.
    Typing {
        /// The conversation's ticket.
        ticket_id: i64,
        /// Who.
        side: Side,
        /// An agent's name (empty for the visitor).
        name: String,
    },
    /// Someone has read the thread up to a message.
    Read {
        /// The conversation's ticket.
        ticket_id: i64,
        /// Who.
        side: Side,
        /// The last message read.
        up_to: i64,
    },
}

impl Signal {
    /// The conversation it is about.
    pub fn ticket_id(&self) -> i64 {
        match self {
            Signal::Typing { ticket_id, .. } | Signal::Read { ticket_id, .. } => *ticket_id,
        }
    }

    /// Who sent it.
    pub fn side(&self) -> Side {
        match self {
            Signal::Typing { side, .. } | Signal::Read { side, .. } => *side,
        }
    }
}

/// The chat's shared state on one node.
pub struct ChatHub {
    /// Conversations started per client address: 10 per 10 minutes.
    pub starts: FailureLimiter,
    /// Sockets opened per client address: 60 a minute.
    pub connects: FailureLimiter,
    /// Messages per client address: 60 a minute.
    pub messages_by_address: FailureLimiter,
    /// Messages per conversation: 20 a minute.
    pub messages_by_visitor: FailureLimiter<i64>,
    /// Other frames (typing, read, resume, …) per client address: 300 a minute.
    pub frames_by_address: FailureLimiter,
    signals: broadcast::Sender<Signal>,
}

impl std::fmt::Debug for ChatHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatHub").finish_non_exhaustive()
    }
}

impl ChatHub {
    /// The hub with the default limits, timed by `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let minute = Duration::from_secs(60);
        Self {
            starts: FailureLimiter::new(10, Duration::from_secs(600), clock.clone()),
            connects: FailureLimiter::new(60, minute, clock.clone()),
            messages_by_address: FailureLimiter::new(60, minute, clock.clone()),
            messages_by_visitor: FailureLimiter::new(20, minute, clock.clone()),
            frames_by_address: FailureLimiter::new(300, minute, clock),
            signals: broadcast::channel(1024).0,
        }
    }

    /// Counts one use against `limiter` for `key`; false when the key is over its limit.
    pub fn take<K: std::hash::Hash + Eq + Copy>(limiter: &FailureLimiter<K>, key: K) -> bool {
        if limiter.is_blocked(key) {
            return false;
        }
        limiter.fail(key);
        true
    }

    /// Whether a message from `ip` in conversation `ticket_id` may go through now.
    pub fn take_message(&self, ip: IpAddr, ticket_id: i64) -> bool {
        Self::take(&self.messages_by_visitor, ticket_id)
            && Self::take(&self.messages_by_address, ip)
    }

    /// Passes a signal to the sockets of this node.
    pub fn signal(&self, s: Signal) {
        // No socket listening is fine.
        let _ = self.signals.send(s);
    }

    /// Every signal sent from now on.
    pub fn signals(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }
}
