//! The priority score in the ticket JSON (`score`): its value, level and the reasons in
//! words. Queues sort by it with `GET /api/v1/tickets?sort=score`.

use rapport_domain::Timestamp;
use rapport_store::tickets::Ticket;
use serde::Serialize;
use utoipa::ToSchema;

/// How pressing a ticket is now, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TicketScore)]
pub struct ScoreView {
    /// 0–100: higher is more pressing.
    pub value: i64,
    /// `low`, `normal`, `high` or `urgent`.
    pub level: &'static str,
    /// The reasons, weightiest first ("first-response SLA breaches in 40 min").
    pub reasons: Vec<String>,
    /// Level and reasons in one line: "high: first-response SLA breaches in 40 min;
    /// customer upset".
    pub explanation: String,
}

impl ScoreView {
    /// The score of `t` at `now`.
    pub fn of(t: &Ticket, now: Timestamp) -> Self {
        let s = rapport_store::score::of(t, now);
        Self {
            value: s.value,
            level: s.level.as_str(),
            explanation: s.explanation(),
            reasons: s.reasons,
        }
    }
}
