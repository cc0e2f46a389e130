use super::*;
use crate::sla::calendar::Block;
use crate::zone::Zone;
use TicketStatus::{Open, Pending, Solved};

const H: i64 = 3_600;

fn utc(local: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = local.parse().unwrap();
    Timestamp(
        jiff::tz::TimeZone::UTC
            .to_timestamp(dt)
            .unwrap()
            .as_microsecond(),
    )
}

fn targets(first: i64, next: i64, resolution: i64) -> Targets {
    let m = |v: i64| (v > 0).then(|| Minutes::new(v, "t").unwrap());
    Targets {
        first_response: m(first),
        next_response: m(next),
        resolution: m(resolution),
    }
}

/// Monday to Friday 09:00–17:00 UTC.
fn office() -> Calendar {
    let day = vec![Block::new(9 * 60, 17 * 60).unwrap()];
    let week = std::array::from_fn(|i| if i < 5 { day.clone() } else { Vec::new() });
    Calendar::new(Zone::utc(), week, [], []).unwrap()
}

#[test]
fn the_first_reply_meets_the_first_response_in_time_or_late() {
    let t = targets(60, 0, 0);
    let cal = Calendar::always();
    let created = utc("2026-11-27T10:00");
    let sla = TicketSla::start(1, &t, &cal, created, Open);
    assert_eq!(
        sla.first_response,
        Clock::Running {
            due_at: created.plus_secs(H)
        }
    );
    assert_eq!(sla.next_due(), Some(created.plus_secs(H)));
    assert!(!sla.breached(created.plus_secs(H)));
    assert!(sla.breached(created.plus_secs(H + 1)));
    let met = sla.on_agent_reply(created.plus_secs(30 * 60));
    assert_eq!(
        met.first_response,
        Clock::Met {
            at: created.plus_secs(1_800),
            breached: false
        }
    );
    assert_eq!(met.next_due(), None);
    let late = sla.on_agent_reply(created.plus_secs(2 * H));
    assert!(late.breached(created.plus_secs(2 * H)));
    // Resolution and next response were not targets: they stay off.
    assert_eq!(late.resolution, Clock::Off);
}

#[test]
fn waiting_on_the_customer_pauses_and_business_hours_resume_it() {
    // 4 business hours to resolve, created Friday 15:00 (due Monday 11:00); pending from
    // 16:00 with 3 h left, over the weekend; the customer answers Monday 08:00, before
    // opening, so the 3 h run 09:00–12:00.
    let t = targets(0, 0, 4 * 60);
    let cal = office();
    let created = utc("2026-11-27T15:00");
    let sla = TicketSla::start(9, &t, &cal, created, Open);
    assert_eq!(sla.resolution.due_at(), Some(utc("2026-11-30T11:00")));
    let paused = sla.on_status(&t, &cal, Open, Pending, utc("2026-11-27T16:00"));
    assert!(paused.paused());
    assert_eq!(paused.next_due(), None);
    assert!(
        !paused.breached(utc("2026-12-25T00:00")),
        "no breach while paused"
    );
    let resumed = paused.on_status(&t, &cal, Pending, Open, utc("2026-11-30T08:00"));
    assert_eq!(resumed.resolution.due_at(), Some(utc("2026-11-30T12:00")));
    let solved = resumed.on_status(&t, &cal, Open, Solved, utc("2026-11-30T11:59"));
    assert_eq!(
        solved.resolution,
        Clock::Met {
            at: utc("2026-11-30T11:59"),
            breached: false
        }
    );
    // Reopened: a new resolution clock from then.
    let reopened = solved.on_status(&t, &cal, Solved, Open, utc("2026-12-01T09:00"));
    assert_eq!(reopened.resolution.due_at(), Some(utc("2026-12-01T13:00")));
    // Reopened straight into pending: a new clock, stopped with its whole target left,
    // that runs once the customer answers.
    let waiting = solved.on_status(&t, &cal, Solved, Pending, utc("2026-12-01T09:00"));
    assert_eq!(
        waiting.resolution,
        Clock::Paused {
            left_micros: 4 * H * 1_000_000,
            due_at: utc("2026-12-01T13:00")
        }
    );
    let resumed = waiting.on_status(&t, &cal, Pending, Open, utc("2026-12-02T09:00"));
    assert_eq!(resumed.resolution.due_at(), Some(utc("2026-12-02T13:00")));
}

#[test]
fn a_clock_already_over_stays_breached_through_a_pause() {
    let t = targets(60, 0, 0);
    let cal = office();
    let created = utc("2026-11-30T09:00");
    let sla = TicketSla::start(1, &t, &cal, created, Open);
    let paused = sla.on_status(&t, &cal, Open, Pending, utc("2026-11-30T11:00"));
    assert!(paused.breached(utc("2026-11-30T11:00")));
    let resumed = paused.on_status(&t, &cal, Pending, Open, utc("2026-12-01T09:00"));
    assert_eq!(
        resumed.first_response.due_at(),
        Some(utc("2026-11-30T10:00"))
    );
    assert!(
        resumed
            .on_agent_reply(utc("2026-12-01T09:05"))
            .breached(utc("2026-12-01T09:05"))
    );
}

#[test]
fn next_response_runs_from_each_customer_message_after_the_first_reply() {
    let t = targets(60, 30, 0);
    let cal = Calendar::always();
    let created = utc("2026-11-27T10:00");
    let sla = TicketSla::start(1, &t, &cal, created, Open);
    // A second message before any reply changes nothing: the first response is awaited.
    let sla = sla.on_customer_message(&t, &cal, utc("2026-11-27T10:10"));
    assert_eq!(sla.next_response, Clock::Off);
    let sla = sla.on_agent_reply(utc("2026-11-27T10:20"));
    let sla = sla.on_customer_message(&t, &cal, utc("2026-11-27T11:00"));
    assert_eq!(sla.next_response.due_at(), Some(utc("2026-11-27T11:30")));
    // A further message does not push the running clock back.
    let sla = sla.on_customer_message(&t, &cal, utc("2026-11-27T11:20"));
    assert_eq!(sla.next_response.due_at(), Some(utc("2026-11-27T11:30")));
    let sla = sla.on_agent_reply(utc("2026-11-27T11:25"));
    assert_eq!(
        sla.next_response,
        Clock::Met {
            at: utc("2026-11-27T11:25"),
            breached: false
        }
    );
    assert_eq!(sla.next_due(), None);
}

#[test]
fn a_ticket_created_pending_or_solved_starts_paused_or_met() {
    let t = targets(60, 0, 120);
    let cal = Calendar::always();
    let at = utc("2026-11-27T10:00");
    assert!(TicketSla::start(1, &t, &cal, at, Pending).paused());
    let solved = TicketSla::start(1, &t, &cal, at, Solved);
    assert_eq!(
        solved.first_response,
        Clock::Met {
            at,
            breached: false
        }
    );
    assert_eq!(solved.next_due(), None);
}

#[test]
fn clocks_serialise_with_their_state() {
    let c = Clock::Running {
        due_at: utc("2026-11-27T10:00"),
    };
    let json = serde_json::to_value(c).unwrap();
    assert_eq!(json["state"], "running");
    assert_eq!(serde_json::from_value::<Clock>(json).unwrap(), c);
}
