//! How a ticket's SLA clocks read in the API: each target's state, its due time while it
//! runs, and whether it is (or ended) over.

use rapport_domain::Timestamp;
use rapport_domain::sla::clock::{Clock, TicketSla};
use serde::Serialize;
use utoipa::ToSchema;

/// One target's clock.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SlaClock)]
pub struct ClockView {
    /// `off` (not measured, or nothing awaited), `running`, `paused` (waiting on the
    /// customer) or `met`.
    pub state: &'static str,
    /// When it breaches, while it runs.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    /// When it was met.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub met_at: Option<Timestamp>,
    /// Open time left while paused, in seconds (negative: over by that much).
    pub left_secs: Option<i64>,
    /// Over its target (now, or when it was met).
    pub breached: bool,
}

impl ClockView {
    fn new(c: Clock, now: Timestamp) -> Self {
        let breached = c.breached(now);
        match c {
            Clock::Off => Self {
                state: "off",
                due_at: None,
                met_at: None,
                left_secs: None,
                breached,
            },
            Clock::Running { due_at } => Self {
                state: "running",
                due_at: Some(due_at),
                met_at: None,
                left_secs: None,
                breached,
            },
            Clock::Paused { left_micros, .. } => Self {
                state: "paused",
                due_at: None,
                met_at: None,
                left_secs: Some(left_micros.div_euclid(1_000_000)),
                breached,
            },
            Clock::Met { at, .. } => Self {
                state: "met",
                due_at: None,
                met_at: Some(at),
                left_secs: None,
                breached,
            },
        }
    }
}

/// A ticket's SLA: the due time of each running target, and whether any is breached.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TicketSla)]
pub struct SlaView {
    /// The policy that applies.
    pub policy_id: i64,
    /// When the first response is due (while awaited).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_response_due_at: Option<Timestamp>,
    /// When the next response is due (while a customer message awaits one).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_response_due_at: Option<Timestamp>,
    /// When the resolution is due (while open).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolution_due_at: Option<Timestamp>,
    /// The soonest of those.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due_at: Option<Timestamp>,
    /// Any target over (now, or when it was met).
    pub breached: bool,
    /// The clocks are stopped: the ticket waits on the customer.
    pub paused: bool,
    /// The first response's clock.
    pub first_response: ClockView,
    /// The next response's clock.
    pub next_response: ClockView,
    /// The resolution's clock.
    pub resolution: ClockView,
}

impl SlaView {
    /// The clocks as they stand at `now`.
    pub fn new(s: &TicketSla, now: Timestamp) -> Self {
        Self {
            policy_id: s.policy_id,
            first_response_due_at: s.first_response.due_at(),
            next_response_due_at: s.next_response.due_at(),
            resolution_due_at: s.resolution.due_at(),
            next_due_at: s.next_due(),
            breached: s.breached(now),
            paused: s.paused(),
            first_response: ClockView::new(s.first_response, now),
            next_response: ClockView::new(s.next_response, now),
            resolution: ClockView::new(s.resolution, now),
        }
    }
}
