//! A ticket's SLA clocks: one per target of its policy, each running toward a due time,
//! paused while the ticket waits on the customer, or done. What happens to a ticket moves
//! them ([`TicketSla::on_agent_reply`], [`TicketSla::on_customer_message`],
//! [`TicketSla::on_status`]); the due times are computed once, when a clock starts or
//! resumes, so a million open tickets need no pass over them to know what is due.

use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::policy::{Minutes, Targets};
use crate::clock::Timestamp;
use crate::ticket::TicketStatus;

/// One target's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Clock {
    /// Not measured: no such target, or nothing waits for it (no customer message since
    /// the last reply).
    Off,
    /// Running: breached once `due_at` has passed.
    Running {
        /// When it breaches.
        due_at: Timestamp,
    },
    /// Stopped while the ticket waits on the customer, with the open time that was left
    /// (negative: it was already over by that much).
    Paused {
        /// Microseconds of open time left.
        left_micros: i64,
        /// The due time when it stopped (kept when it resumes already breached).
        due_at: Timestamp,
    },
    /// Done: the reply came or the ticket was solved, at `at`.
    Met {
        /// When.
        at: Timestamp,
        /// Whether that was after the due time.
        breached: bool,
    },
}

impl Clock {
    fn start(target: Option<Minutes>, cal: &Calendar, at: Timestamp) -> Clock {
        match target.and_then(|m| cal.add_open(at, m.secs())) {
            Some(due_at) => Clock::Running { due_at },
            None => Clock::Off,
        }
    }

    /// When it breaches, while it runs.
    pub fn due_at(&self) -> Option<Timestamp> {
        match self {
            Clock::Running { due_at } => Some(*due_at),
            _ => None,
        }
    }

    /// Whether it is (or ended) over its target at `now`.
    pub fn breached(&self, now: Timestamp) -> bool {
        match *self {
            Clock::Off => false,
            Clock::Running { due_at } => now > due_at,
            Clock::Paused { left_micros, .. } => left_micros < 0,
            Clock::Met { breached, .. } => breached,
        }
    }

    fn meet(self, at: Timestamp) -> Clock {
        match self {
            Clock::Running { due_at } => Clock::Met {
                at,
                breached: at > due_at,
            },
            Clock::Paused { left_micros, .. } => Clock::Met {
                at,
                breached: left_micros < 0,
            },
            other => other,
        }
    }

    fn pause(self, cal: &Calendar, at: Timestamp) -> Clock {
        match self {
            Clock::Running { due_at } => Clock::Paused {
                left_micros: if at <= due_at {
                    cal.open_micros(at, due_at)
                } else {
                    -cal.open_micros(due_at, at).max(1)
                },
                due_at,
            },
            other => other,
        }
    }

    fn resume(self, cal: &Calendar, at: Timestamp) -> Clock {
        match self {
            Clock::Paused { left_micros, .. } if left_micros >= 0 => {
                match cal.add_open_micros(at, left_micros) {
                    Some(due_at) => Clock::Running { due_at },
                    None => Clock::Off,
                }
            }
            Clock::Paused { due_at, .. } => Clock::Running { due_at },
            other => other,
        }
    }
}

/// The clocks of one ticket under its policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSla {
    /// The policy that applies.
    pub policy_id: i64,
    /// Until the first public reply.
    pub first_response: Clock,
    /// Until the reply to the customer's latest message.
    pub next_response: Clock,
    /// Until solved.
    pub resolution: Clock,
}

impl TicketSla {
    /// The clocks of a ticket created at `at` (in `status`) under a policy's targets.
    pub fn start(
        policy_id: i64,
        targets: &Targets,
        cal: &Calendar,
        at: Timestamp,
        status: TicketStatus,
    ) -> Self {
        let sla = Self {
            policy_id,
            first_response: Clock::start(targets.first_response, cal, at),
            next_response: Clock::Off,
            resolution: Clock::start(targets.resolution, cal, at),
        };
        match status {
            TicketStatus::Pending => sla.map(|c| c.pause(cal, at)),
            TicketStatus::Solved | TicketStatus::Closed => sla.map(|c| c.meet(at)),
            _ => sla,
        }
    }

    fn map(self, f: impl Fn(Clock) -> Clock) -> Self {
        Self {
            policy_id: self.policy_id,
            first_response: f(self.first_response),
            next_response: f(self.next_response),
            resolution: f(self.resolution),
        }
    }

    /// An agent's public reply at `at` meets the first and the next response.
    #[must_use]
    pub fn on_agent_reply(self, at: Timestamp) -> Self {
        Self {
            first_response: self.first_response.meet(at),
            next_response: self.next_response.meet(at),
            ..self
        }
    }

    /// A customer's message at `at` (after the first) starts the next-response clock,
    /// unless the first response is still awaited or a next response already runs.
    #[must_use]
    pub fn on_customer_message(self, targets: &Targets, cal: &Calendar, at: Timestamp) -> Self {
        let awaiting_first = matches!(
            self.first_response,
            Clock::Running { .. } | Clock::Paused { .. }
        );
        let running = matches!(
            self.next_response,
            Clock::Running { .. } | Clock::Paused { .. }
        );
        if awaiting_first || running {
            return self;
        }
        Self {
            next_response: Clock::start(targets.next_response, cal, at),
            ..self
        }
    }

    /// The status changed at `at`: waiting on the customer pauses every clock, leaving it
    /// resumes them; solving meets them; reopening a solved ticket starts a new resolution
    /// clock.
    #[must_use]
    pub fn on_status(
        self,
        targets: &Targets,
        cal: &Calendar,
        from: TicketStatus,
        to: TicketStatus,
        at: Timestamp,
    ) -> Self {
        use TicketStatus::{Closed, Pending, Solved};
        match (from, to) {
            (a, b) if a == b => self,
            (_, Solved | Closed) => self.map(|c| c.meet(at)),
            // Reopened straight into waiting on the customer: a new resolution clock,
            // stopped at once.
            (Solved | Closed, Pending) => Self {
                resolution: Clock::start(targets.resolution, cal, at),
                ..self
            }
            .map(|c| c.pause(cal, at)),
            (_, Pending) => self.map(|c| c.pause(cal, at)),
            (Solved | Closed, _) => Self {
                resolution: Clock::start(targets.resolution, cal, at),
                ..self
            },
            (Pending, _) => self.map(|c| c.resume(cal, at)),
            _ => self,
        }
    }

    /// The soonest due time of the clocks that run (what a view sorts by, and when the
    /// ticket next needs a look).
    pub fn next_due(&self) -> Option<Timestamp> {
        self.next_target().map(|(due, _)| due)
    }

    /// The soonest due time of a running clock with its target's name
    /// (`first-response`, `next-response`, `resolution`).
    pub fn next_target(&self) -> Option<(Timestamp, &'static str)> {
        [
            (self.first_response.due_at(), "first-response"),
            (self.next_response.due_at(), "next-response"),
            (self.resolution.due_at(), "resolution"),
        ]
        .into_iter()
        .filter_map(|(due, name)| due.map(|d| (d, name)))
        .min_by_key(|(d, _)| *d)
    }

    /// Whether any clock is (or ended) over its target at `now`.
    pub fn breached(&self, now: Timestamp) -> bool {
        self.first_response.breached(now)
            || self.next_response.breached(now)
            || self.resolution.breached(now)
    }

    /// Whether the clocks are stopped while the ticket waits on the customer.
    pub fn paused(&self) -> bool {
        [self.first_response, self.next_response, self.resolution]
            .iter()
            .any(|c| matches!(c, Clock::Paused { .. }))
    }
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;
