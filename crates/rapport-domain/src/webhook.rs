//! Outbound webhooks: which events a receiver can subscribe to, and the secret it verifies
//! signatures with (the Standard Webhooks form, `whsec_` and base64 of 24 to 64 bytes).

use base64::Engine;

use crate::error::FieldError;
use crate::event::EventKind;

/// An event a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    /// A ticket was created (or split off another).
    TicketCreated,
    /// A ticket's fields changed (status, priority, assignee, …).
    TicketUpdated,
    /// A public message was added: an agent's reply or the customer's message.
    MessageCreated,
    /// An internal note was added.
    NoteCreated,
    /// A ticket was merged into another.
    TicketMerged,
    /// An SLA target runs out within the hour.
    SlaWarning,
    /// An SLA target's due time passed.
    SlaBreached,
    /// A voucher was issued to a customer (for the shop to honour).
    VoucherIssued,
    /// The shop redeemed a voucher.
    VoucherRedeemed,
    /// An agent recorded a refund for the shop to pay back.
    RefundCreated,
    /// The shop marked a refund paid back.
    RefundDone,
}

impl WebhookEvent {
    /// Every event, in the order they are listed.
    pub const ALL: [WebhookEvent; 11] = [
        WebhookEvent::TicketCreated,
        WebhookEvent::TicketUpdated,
        WebhookEvent::MessageCreated,
        WebhookEvent::NoteCreated,
        WebhookEvent::TicketMerged,
        WebhookEvent::SlaWarning,
        WebhookEvent::SlaBreached,
        WebhookEvent::VoucherIssued,
        WebhookEvent::VoucherRedeemed,
        WebhookEvent::RefundCreated,
        WebhookEvent::RefundDone,
    ];

    /// Its name (`ticket.created`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::TicketCreated => "ticket.created",
            WebhookEvent::TicketUpdated => "ticket.updated",
            WebhookEvent::MessageCreated => "message.created",
            WebhookEvent::NoteCreated => "note.created",
            WebhookEvent::TicketMerged => "ticket.merged",
            WebhookEvent::SlaWarning => "sla.warning",
            WebhookEvent::SlaBreached => "sla.breached",
            WebhookEvent::VoucherIssued => "voucher.issued",
            WebhookEvent::VoucherRedeemed => "voucher.redeemed",
            WebhookEvent::RefundCreated => "refund.created",
            WebhookEvent::RefundDone => "refund.done",
        }
    }

    /// Reads a name; `field` names it in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == raw.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|e| e.as_str()).collect();
                FieldError::new(
                    field,
                    format!("unknown event '{raw}'; one of: {}", names.join(", ")),
                )
            })
    }

    /// Whether it is about a ticket (the payload carries the ticket) rather than a
    /// customer's vouchers and refunds (the payload may name a ticket, or none).
    pub fn needs_ticket(self) -> bool {
        !matches!(
            self,
            WebhookEvent::VoucherIssued
                | WebhookEvent::VoucherRedeemed
                | WebhookEvent::RefundCreated
                | WebhookEvent::RefundDone
        )
    }

    /// The webhook event an event is, if any.
    pub fn of(kind: EventKind) -> Option<Self> {
        match kind {
            EventKind::TicketCreated | EventKind::SplitFrom => Some(WebhookEvent::TicketCreated),
            EventKind::FieldsChanged | EventKind::Routed | EventKind::Transferred => {
                Some(WebhookEvent::TicketUpdated)
            }
            EventKind::ReplyAdded => Some(WebhookEvent::MessageCreated),
            EventKind::NoteAdded => Some(WebhookEvent::NoteCreated),
            EventKind::MergedInto => Some(WebhookEvent::TicketMerged),
            EventKind::SlaWarning => Some(WebhookEvent::SlaWarning),
            EventKind::SlaBreached => Some(WebhookEvent::SlaBreached),
            EventKind::VoucherIssued => Some(WebhookEvent::VoucherIssued),
            EventKind::VoucherRedeemed => Some(WebhookEvent::VoucherRedeemed),
            EventKind::RefundIssued => Some(WebhookEvent::RefundCreated),
            EventKind::RefundDone => Some(WebhookEvent::RefundDone),
            _ => None,
        }
    }
}

/// The prefix of a secret's written form.
pub const SECRET_PREFIX: &str = "whsec_";

/// A webhook's signing secret: 24 to 64 bytes, written `whsec_<base64>`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// Reads `whsec_<base64>`; `field` names it in the error.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                field,
                "must be 'whsec_' followed by the base64 of 24 to 64 random bytes",
            )
        };
        let b64 = raw.trim().strip_prefix(SECRET_PREFIX).ok_or_else(bad)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| bad())?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(bad());
        }
        Ok(Self(bytes))
    }

    /// A secret from random bytes (the caller's source of randomness).
    pub fn from_random(bytes: [u8; 32]) -> Self {
        Self(bytes.to_vec())
    }

    /// The key HMAC is keyed with.
    pub fn key(&self) -> &[u8] {
        &self.0
    }

    /// Its written form.
    pub fn written(&self) -> String {
        format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(&self.0)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_names_and_come_from_ticket_events() {
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.as_str(), "events").unwrap(), e);
        }
        assert_eq!(
            WebhookEvent::parse("ticket.deleted", "events")
                .unwrap_err()
                .field,
            "events"
        );
        assert_eq!(
            WebhookEvent::of(EventKind::ReplyAdded),
            Some(WebhookEvent::MessageCreated)
        );
        assert_eq!(WebhookEvent::of(EventKind::TimeLogged), None);
    }

    #[test]
    fn secrets_are_whsec_and_24_to_64_bytes() {
        let s = WebhookSecret::from_random([7; 32]);
        assert_eq!(WebhookSecret::parse(&s.written(), "secret").unwrap(), s);
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=", "secret").is_err());
        assert!(WebhookSecret::parse("hunter2hunter2hunter2hunter2", "secret").is_err());
        assert!(WebhookSecret::parse("whsec_!!!", "secret").is_err());
        assert!(!format!("{s:?}").contains("whsec"));
    }
}
