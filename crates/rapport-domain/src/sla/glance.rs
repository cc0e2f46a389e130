//! A ticket's SLA as an agent reads it at a glance: "1 h 20 min left", "40 min over",
//! "paused", "met" — the soonest running target decides.

use super::clock::TicketSla;
use crate::clock::Timestamp;

/// The state a glance shows (also its CSS class).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlanceState {
    /// Running, more than an hour left.
    Running,
    /// Running, an hour or less left.
    Soon,
    /// Running and past its due time.
    Breached,
    /// Stopped while the ticket waits on the customer.
    Paused,
    /// Every target met in time.
    Met,
    /// Done, but at least one target was missed.
    Missed,
}

impl GlanceState {
    /// Its name (`running`, `soon`, `breached`, `paused`, `met`, `missed`).
    pub fn as_str(self) -> &'static str {
        match self {
            GlanceState::Running => "running",
            GlanceState::Soon => "soon",
            GlanceState::Breached => "breached",
            GlanceState::Paused => "paused",
            GlanceState::Met => "met",
            GlanceState::Missed => "missed",
        }
    }
}

/// What the clock shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glance {
    /// The words ("2 h 5 min left").
    pub text: String,
    /// The state.
    pub state: GlanceState,
}

/// A duration in seconds, short: `45 min`, `2 h 5 min`, `3 d 4 h`.
pub fn short_duration(secs: i64) -> String {
    let minutes = (secs.max(0) + 59) / 60;
    if minutes < 60 {
        return format!("{} min", minutes.max(1));
    }
    let (h, m) = (minutes / 60, minutes % 60);
    if h < 48 {
        return if m == 0 {
            format!("{h} h")
        } else {
            format!("{h} h {m} min")
        };
    }
    let (d, h) = (h / 24, h % 24);
    if h == 0 {
        format!("{d} d")
    } else {
        format!("{d} d {h} h")
    }
}

impl TicketSla {
    /// The clock as it reads at `now`; `None` when nothing is measured.
    pub fn glance(&self, now: Timestamp) -> Option<Glance> {
        if let Some(due) = self.next_due() {
            let secs = (due.0 - now.0) / 1_000_000;
            return Some(if now > due {
                Glance {
                    text: format!("{} over", short_duration((now.0 - due.0) / 1_000_000)),
                    state: GlanceState::Breached,
                }
            } else {
                Glance {
                    text: format!("{} left", short_duration(secs)),
                    state: if secs <= 3_600 {
                        GlanceState::Soon
                    } else {
                        GlanceState::Running
                    },
                }
            });
        }
        if self.paused() {
            return Some(Glance {
                text: "paused".into(),
                state: GlanceState::Paused,
            });
        }
        let clocks = [self.first_response, self.next_response, self.resolution];
        if clocks.iter().all(|c| matches!(c, super::clock::Clock::Off)) {
            return None;
        }
        Some(if self.breached(now) {
            Glance {
                text: "missed".into(),
                state: GlanceState::Missed,
            }
        } else {
            Glance {
                text: "met".into(),
                state: GlanceState::Met,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::calendar::Calendar;
    use super::super::policy::{Minutes, Targets};
    use super::*;
    use crate::ticket::TicketStatus;

    #[test]
    fn durations_read_short() {
        assert_eq!(short_duration(0), "1 min");
        assert_eq!(short_duration(59 * 60 + 1), "1 h");
        assert_eq!(short_duration(2 * 3_600 + 300), "2 h 5 min");
        assert_eq!(short_duration(3 * 86_400 + 4 * 3_600), "3 d 4 h");
        assert_eq!(short_duration(2 * 86_400), "2 d");
    }

    #[test]
    fn the_soonest_running_target_decides() {
        let t = Targets {
            first_response: Some(Minutes::new(120, "m").unwrap()),
            resolution: Some(Minutes::new(600, "m").unwrap()),
            ..Targets::default()
        };
        let start = Timestamp(1_800_000_000_000_000);
        let cal = Calendar::always();
        let sla = TicketSla::start(1, &t, &cal, start, TicketStatus::Open);
        let g = sla.glance(start.plus_secs(600)).unwrap();
        assert_eq!(
            (g.text.as_str(), g.state),
            ("1 h 50 min left", GlanceState::Running)
        );
        assert_eq!(
            sla.glance(start.plus_secs(5_400)).unwrap().state,
            GlanceState::Soon
        );
        let g = sla.glance(start.plus_secs(3 * 3_600)).unwrap();
        assert_eq!(
            (g.text.as_str(), g.state),
            ("1 h over", GlanceState::Breached)
        );
        let paused = sla.on_status(&t, &cal, TicketStatus::Open, TicketStatus::Pending, start);
        assert_eq!(paused.glance(start).unwrap().state, GlanceState::Paused);
        let done = sla.on_agent_reply(start.plus_secs(7_200 + 60)).on_status(
            &t,
            &cal,
            TicketStatus::Open,
            TicketStatus::Solved,
            start.plus_secs(7_300),
        );
        assert_eq!(
            done.glance(start.plus_secs(9_000)).unwrap().state,
            GlanceState::Missed
        );
        let none = TicketSla::start(1, &Targets::default(), &cal, start, TicketStatus::Open);
        assert_eq!(none.glance(start), None);
    }
}
