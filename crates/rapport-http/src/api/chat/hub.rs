//! What every chat socket of this node shares: the limits on strangers (conversations
//! started and sockets opened per client address, messages per address and per
//! conversation) and the relay of typing and read signals between the two sides — to the
//! sockets of this node at once, and on PostgreSQL to every other node's as a
//! notification (`Db::shout`, heard by `Db::hear_other_nodes`).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rapport_domain::Clock;
use rapport_store::Db;
use tokio::sync::broadcast;

use crate::limit::FailureLimiter;
use crate::live::Live;

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
    /// The signal as another node reads it, stamped with the sending node.
    fn to_wire(&self, node: &str) -> String {
        let side = |s: &Side| match s {
            Side::Visitor => "visitor",
            Side::Agent => "agent",
        };
        let v = match self {
            Signal::Typing {
                ticket_id,
                side: s,
                name,
            } => serde_json::json!({"node": node, "kind": "typing", "ticket_id": ticket_id,
                "side": side(s), "name": name.chars().take(100).collect::<String>()}),
            Signal::Read {
                ticket_id,
                side: s,
                up_to,
            } => serde_json::json!({"node": node, "kind": "read", "ticket_id": ticket_id,
                "side": side(s), "up_to": up_to}),
        };
        v.to_string()
    }

    /// A signal another node sent, with that node; `None` for anything else.
    fn from_wire(payload: &str) -> Option<(String, Signal)> {
        let v: serde_json::Value = serde_json::from_str(payload).ok()?;
        let node = v["node"].as_str()?.to_owned();
        let ticket_id = v["ticket_id"].as_i64()?;
        let side = match v["side"].as_str()? {
            "visitor" => Side::Visitor,
            "agent" => Side::Agent,
            _ => return None,
        };
        let signal = match v["kind"].as_str()? {
            "typing" => Signal::Typing {
                ticket_id,
                side,
                name: v["name"].as_str().unwrap_or_default().to_owned(),
            },
            "read" => Signal::Read {
                ticket_id,
                side,
                up_to: v["up_to"].as_i64()?,
            },
            _ => return None,
        };
        Some((node, signal))
    }

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

/// What wakes a socket: its conversation changed (read it again), or a signal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// A new event about the conversation (a message, a status change).
    Changed,
    /// Its survey was offered (the conversation was solved): ask the visitor.
    SurveyOffered,
    /// A passing signal.
    Signal(Signal),
}

/// Wakes a conversation's room holds for a slow socket. Small: a tokio broadcast channel
/// allocates every slot up front (64 took about 5 KB a conversation), and a socket that
/// falls behind loses nothing — it reads the thread again (`Lagged`); only passing
/// typing and read signals may be dropped.
const ROOM_WAKES: usize = 8;

/// The receivers of one conversation's wakes; the entry goes when its last socket does.
type Rooms = std::collections::HashMap<i64, broadcast::Sender<Wake>>;

/// A socket's place in its conversation's room; leaving the room on drop.
pub struct Membership {
    hub: Arc<ChatHub>,
    ticket_id: i64,
    /// The room's wakes.
    pub rx: broadcast::Receiver<Wake>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut rooms = self.hub.rooms.lock().unwrap_or_else(|p| p.into_inner());
        if rooms
            .get(&self.ticket_id)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            rooms.remove(&self.ticket_id);
        }
    }
}

/// One open socket counted against its client address; uncounted on drop.
pub struct OpenSocket {
    hub: Arc<ChatHub>,
    ip: IpAddr,
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
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
    /// Other frames (typing, read, resume, …) per client address: 1,200 a minute (visitors
    /// behind one office address share it).
    pub frames_by_address: FailureLimiter,
    /// A verified site user's history asked for, per client address: 30 a minute.
    pub histories: FailureLimiter,
    /// Mail a visitor asks for (transcripts, going on by email) per client address: 10 an
    /// hour.
    pub mail_by_address: FailureLimiter,
    /// The same per conversation: 3 an hour.
    pub mail_by_conversation: FailureLimiter<i64>,
    /// Conversations started in the last ten minutes, by client address and first
    /// message's client id: a start sent again (its answer lost) gets the same one.
    recent_starts: std::sync::Mutex<std::collections::HashMap<(IpAddr, String), (i64, i64)>>,
    /// The time, for the above.
    clock: Arc<dyn Clock>,
    /// The open conversations' rooms: a socket hears only its own conversation, so a
    /// message wakes its few sockets rather than every socket of the node.
    rooms: std::sync::Mutex<Rooms>,
    /// Open sockets per client address on this node.
    open: std::sync::Mutex<std::collections::HashMap<IpAddr, u32>>,
    /// Whether the task that feeds the rooms from the event stream is running.
    following: std::sync::OnceLock<()>,
    /// The database, for signals to other nodes.
    db: Db,
    /// This node's mark on the signals it sends (it hears its own too).
    node: String,
}

impl std::fmt::Debug for ChatHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatHub").finish_non_exhaustive()
    }
}

impl ChatHub {
    /// The hub with the default limits, timed by `clock`.
    pub fn new(clock: Arc<dyn Clock>, db: Db) -> Self {
        let minute = Duration::from_secs(60);
        Self {
            starts: FailureLimiter::new(10, Duration::from_secs(600), clock.clone()),
            connects: FailureLimiter::new(60, minute, clock.clone()),
            messages_by_address: FailureLimiter::new(60, minute, clock.clone()),
            messages_by_visitor: FailureLimiter::new(20, minute, clock.clone()),
            frames_by_address: FailureLimiter::new(1200, minute, clock.clone()),
            histories: FailureLimiter::new(30, minute, clock.clone()),
            mail_by_address: FailureLimiter::new(10, Duration::from_secs(3_600), clock.clone()),
            mail_by_conversation: FailureLimiter::new(3, Duration::from_secs(3_600), clock.clone()),
            recent_starts: std::sync::Mutex::default(),
            clock,
            rooms: std::sync::Mutex::default(),
            open: std::sync::Mutex::default(),
            following: std::sync::OnceLock::new(),
            db,
            node: rapport_store::secrets::random_hex(8),
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

    /// Whether mail `ip` asks for in conversation `ticket_id` may be considered now.
    pub fn take_mail(&self, ip: IpAddr, ticket_id: i64) -> bool {
        Self::take(&self.mail_by_conversation, ticket_id) && Self::take(&self.mail_by_address, ip)
    }

    /// How long a start may be sent again and get the same conversation.
    const RESTART_WINDOW_MICROS: i64 = 600_000_000;

    /// Remembers that `ip` started conversation `ticket_id` with a first message of
    /// `client_id` (only ids of 16 characters or more: a short one could be guessed by
    /// someone behind the same address).
    pub fn started(&self, ip: IpAddr, client_id: &str, ticket_id: i64) {
        if client_id.len() < 16 {
            return;
        }
        let now = self.clock.now().micros();
        let mut m = self.recent_starts.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= 10_000 {
            m.retain(|_, (_, at)| now - *at < Self::RESTART_WINDOW_MICROS);
            if m.len() >= 10_000 {
                m.clear();
            }
        }
        m.insert((ip, client_id.to_owned()), (ticket_id, now));
    }

    /// The conversation `ip` started in the last ten minutes with this first message's
    /// `client_id`, if any (on this node).
    pub fn started_before(&self, ip: IpAddr, client_id: &str) -> Option<i64> {
        let now = self.clock.now().micros();
        let m = self.recent_starts.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&(ip, client_id.to_owned()))
            .filter(|(_, at)| (0..Self::RESTART_WINDOW_MICROS).contains(&(now - *at)))
            .map(|(t, _)| *t)
    }

    /// The most sockets one client address may hold open on a node.
    pub const MAX_OPEN_PER_ADDRESS: u32 = 50;

    /// Counts a socket opened from `ip`; `None` when the address holds too many already.
    pub fn open_socket(self: &Arc<Self>, ip: IpAddr) -> Option<OpenSocket> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= Self::MAX_OPEN_PER_ADDRESS {
            return None;
        }
        *n += 1;
        Some(OpenSocket {
            hub: Arc::clone(self),
            ip,
        })
    }

    fn wake(&self, ticket_id: i64, w: Wake) {
        let rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = rooms.get(&ticket_id) {
            // No socket listening is fine.
            let _ = tx.send(w);
        }
    }

    /// Passes a signal to the sockets of this node in its conversation, and (PostgreSQL)
    /// to the other nodes'.
    pub fn signal(&self, s: Signal) {
        // Only agents' signals cross nodes (agents read the visitor's typing and read mark
        // from the database on any node): nothing a stranger sends makes a notification.
        if s.side() == Side::Agent && self.db.backend() == rapport_store::Backend::Postgres {
            let (db, payload) = (self.db.clone(), s.to_wire(&self.node));
            tokio::spawn(async move {
                if let Err(e) = db.shout(payload).await {
                    tracing::debug!(error = %e, "chat: a signal did not reach the other nodes");
                }
            });
        }
        self.wake(s.ticket_id(), Wake::Signal(s));
    }

    /// Joins a conversation's room: every wake from now on.
    pub fn join(self: &Arc<Self>, ticket_id: i64) -> Membership {
        let mut rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        let rx = rooms
            .entry(ticket_id)
            .or_insert_with(|| broadcast::channel(ROOM_WAKES).0)
            .subscribe();
        Membership {
            hub: Arc::clone(self),
            ticket_id,
            rx,
        }
    }

    /// Starts (once per process) the task that wakes each conversation's room when the
    /// event stream — fed by every node — brings an event about its ticket.
    pub fn follow(self: &Arc<Self>, live: &Arc<Live>, db: &Db) {
        if self.following.set(()).is_err() {
            return;
        }
        // Other nodes' signals (PostgreSQL): to this node's sockets of their conversation.
        let mut signals = db.signals();
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let payload = match signals.recv().await {
                    Ok(p) => p,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(hub) = weak.upgrade() else { return };
                if let Some((node, s)) = Signal::from_wire(&payload)
                    && node != hub.node
                {
                    hub.wake(s.ticket_id(), Wake::Signal(s));
                }
            }
        });
        let events = live.events_for(db.clone(), |_| true, None);
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut events = std::pin::pin!(events);
            while let Some(e) = events.next().await {
                let Some(hub) = hub.upgrade() else { return };
                if let Some(t) = e.ticket_id {
                    let w = if e.kind == rapport_domain::EventKind::SurveyOffered.as_str() {
                        Wake::SurveyOffered
                    } else {
                        Wake::Changed
                    };
                    hub.wake(t, w);
                }
            }
        });
    }
}
