//! Snoozing a ticket: out of the working queue until a time, until the customer replies,
//! or whichever comes first — and back with a reminder to its owner when the time comes
//! (a follow-up reminder is a snooze with a note).

use crate::Timestamp;
use crate::error::FieldError;
use crate::text::has_control;
use crate::ticket::TicketStatus;

/// The longest snooze note, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// The furthest a ticket may be snoozed, in seconds (a year).
pub const MAX_SECS: i64 = 366 * 86_400;

/// Until when a ticket sleeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Until {
    /// Wake at this time, if any.
    pub at: Option<Timestamp>,
    /// Wake when the customer writes.
    pub reply: bool,
}

impl Until {
    /// Checks a snooze asked for at `now`: a time in the future within a year, the
    /// customer's reply, or both; errors name `until`.
    pub fn parse(at: Option<Timestamp>, reply: bool, now: Timestamp) -> Result<Self, FieldError> {
        if at.is_none() && !reply {
            return Err(FieldError::new(
                "until",
                "give a time to wake at, ask to wake on the customer's reply, or both",
            ));
        }
        if let Some(t) = at
            && (t <= now || t > now.plus_secs(MAX_SECS))
        {
            return Err(FieldError::new(
                "until",
                "must be in the future, within a year",
            ));
        }
        Ok(Self { at, reply })
    }

    /// The status a ticket sleeps in: `pending` (waiting on the customer, SLA clocks
    /// paused) when only their reply wakes it, `on-hold` otherwise (the clocks run: a
    /// snooze never hides a ticket from its SLA).
    pub fn status(self) -> TicketStatus {
        if self.at.is_none() {
            TicketStatus::Pending
        } else {
            TicketStatus::OnHold
        }
    }
}

/// A snooze's note to the owner ("call them back about the refund"): optional, up to 500
/// characters of one paragraph; errors name `note`.
pub fn note(raw: &str) -> Result<String, FieldError> {
    // A browser's textarea sends line breaks as CR LF.
    let unified = raw.replace("\r\n", "\n").replace('\r', "\n");
    let n = unified.trim();
    if n.chars().count() > MAX_NOTE_CHARS {
        return Err(FieldError::new(
            "note",
            format!("at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if has_control(&n.replace(['\n', '\t'], " ")) {
        return Err(FieldError::new("note", "must be plain text"));
    }
    Ok(n.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snooze_needs_a_future_time_or_the_reply() {
        let now = Timestamp(1_000_000_000_000);
        assert_eq!(Until::parse(None, false, now).unwrap_err().field, "until");
        assert_eq!(
            Until::parse(Some(now), false, now).unwrap_err().field,
            "until"
        );
        let far = now.plus_secs(MAX_SECS + 1);
        assert_eq!(
            Until::parse(Some(far), false, now).unwrap_err().field,
            "until"
        );
        let tomorrow = now.plus_secs(86_400);
        assert_eq!(
            Until::parse(Some(tomorrow), false, now).unwrap().status(),
            TicketStatus::OnHold
        );
        assert_eq!(
            Until::parse(None, true, now).unwrap().status(),
            TicketStatus::Pending
        );
        assert_eq!(
            Until::parse(Some(tomorrow), true, now).unwrap().status(),
            TicketStatus::OnHold
        );
    }

    #[test]
    fn notes_are_short_plain_text() {
        assert_eq!(note("  Call back \n").unwrap(), "Call back");
        assert_eq!(note("").unwrap(), "");
        assert_eq!(note(&"x".repeat(501)).unwrap_err().field, "note");
        assert_eq!(note("a\u{7}b").unwrap_err().field, "note");
        assert_eq!(note("one\r\ntwo").unwrap(), "one\ntwo");
    }
}
