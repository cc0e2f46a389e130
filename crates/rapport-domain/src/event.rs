//! The append-only event log: every change to a ticket is one event (who, what, when).
//! It is the audit trail now, and later feeds reports and live updates. Self-service
//! content (knowledge-base articles, community topics) records events with no ticket,
//! which the search indexes follow.

use serde::{Deserialize, Serialize};

/// What happened. Stored by its snake-case name, with the details as JSON beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The ticket was created.
    TicketCreated,
    /// A public reply was added.
    ReplyAdded,
    /// An internal note was added.
    NoteAdded,
    /// One or more fields changed; the data lists each with its old and new value.
    FieldsChanged,
    /// This ticket was merged into another and closed.
    MergedInto,
    /// Another ticket was merged into this one.
    MergedFrom,
    /// A message of this ticket was split off into a new ticket.
    SplitInto,
    /// This ticket was split off another one.
    SplitFrom,
    /// An agent logged time spent.
    TimeLogged,
    /// This ticket follows up an older one the customer wrote to again.
    FollowUpOf,
    /// A knowledge-base article was created, changed, published, archived, restored or
    /// deleted (no ticket; the data names the article). Search indexes follow these.
    ArticleChanged,
    /// A community topic was asked, answered, moderated (hidden, shown, spam, not spam),
    /// locked or unlocked, or had an answer accepted (no ticket; the data names the
    /// topic). The community's search index follows these.
    TopicChanged,
    /// The assistant bot (or the visitor) handed a chat to a person: the data names the
    /// team and the agent it went to (`null`: waiting in the team's queue) and why.
    HandedOver,
    /// An agent moved a ticket (a chat or any other) to another agent or team with a note
    /// for the new owner (in the data).
    Transferred,
    /// An SLA target runs out within the hour (the data names the targets and the due
    /// time).
    SlaWarning,
    /// An SLA target's due time passed (the data names the targets and the due time).
    SlaBreached,
    /// An agent promised the customer something by a time (the data: the promise).
    PromiseMade,
    /// A promise comes due soon: its owner is reminded.
    PromiseDue,
    /// A promise was done by its due time.
    PromiseKept,
    /// A promise's due time passed before it was done.
    PromiseBroken,
    /// Routing gave a ticket to an agent of its team (the data: the agent, the team and
    /// why — `sticky`, `round_robin` or `least_loaded`).
    Routed,
    /// An agent snoozed the ticket (the data: until when, whether the customer's reply
    /// wakes it, the note).
    Snoozed,
    /// A snooze ended (the data: why — `time`, `reply` or `agent` — and its note); at
    /// `time` it reminds the ticket's owner.
    SnoozeEnded,
    /// An automation rule ran on the ticket (the data: the rule, whether it worked, and
    /// what it did or why it failed).
    AutomationRan,
    /// The customer answered (or changed their answer to) a survey about the ticket (the
    /// data: the survey, its ratings and comment, whether it calls for a follow-up).
    SurveyAnswered,
    /// The customer was offered the survey of the solved ticket (the data: the survey and
    /// the channel it went through). The chat widget asks its rating on this.
    SurveyOffered,
    /// The shop pushed a new order or a change to one (no ticket; the data names the
    /// order, its customer and status, and whether it is new).
    OrderChanged,
    /// A voucher was issued to a customer (the data: its code and worth, who approved).
    VoucherIssued,
    /// The shop redeemed a voucher (the data: the code and the shop's reference).
    VoucherRedeemed,
    /// An agent gave a customer reward points (the data: how many, the new balance).
    PointsGiven,
    /// A gift above its giver's limit waits for a supervisor (the data: the request).
    ApprovalRequested,
    /// A supervisor approved or declined a request (the data: which, and the note).
    ApprovalDecided,
    /// A return was requested or moved a step (the data: the return, the order, the
    /// action, the state it led to, the note).
    ReturnChanged,
    /// A customer's details were changed, set or imported (no ticket; the data: the
    /// customer and the fields).
    CustomerChanged,
    /// A duplicate customer was merged into another (the data: both, what moved).
    CustomersMerged,
    /// Everything about a customer was exported (the data: the customer).
    CustomerExported,
    /// A customer's personal data was erased (the data: the customer id, what was
    /// erased).
    CustomerErased,
    /// An organisation was created, changed or imported, or a member joined or left
    /// (the data: the organisation and what changed).
    OrganizationChanged,
    /// An agent recorded a refund on an order for the shop to pay back (the data: the
    /// refund, its order, amount and currency, who approved).
    RefundIssued,
    /// The shop marked a refund paid back (the data: the refund and its reference).
    RefundDone,
}

impl EventKind {
    /// Every kind, in the order they were introduced.
    pub const ALL: &'static [EventKind] = &[
        EventKind::TicketCreated,
        EventKind::ReplyAdded,
        EventKind::NoteAdded,
        EventKind::FieldsChanged,
        EventKind::MergedInto,
        EventKind::MergedFrom,
        EventKind::SplitInto,
        EventKind::SplitFrom,
        EventKind::TimeLogged,
        EventKind::FollowUpOf,
        EventKind::ArticleChanged,
        EventKind::TopicChanged,
        EventKind::HandedOver,
        EventKind::Transferred,
        EventKind::SlaWarning,
        EventKind::SlaBreached,
        EventKind::PromiseMade,
        EventKind::PromiseDue,
        EventKind::PromiseKept,
        EventKind::PromiseBroken,
        EventKind::Routed,
        EventKind::Snoozed,
        EventKind::SnoozeEnded,
        EventKind::AutomationRan,
        EventKind::SurveyAnswered,
        EventKind::SurveyOffered,
        EventKind::OrderChanged,
        EventKind::VoucherIssued,
        EventKind::VoucherRedeemed,
        EventKind::PointsGiven,
        EventKind::ApprovalRequested,
        EventKind::ApprovalDecided,
        EventKind::ReturnChanged,
        EventKind::CustomerChanged,
        EventKind::CustomersMerged,
        EventKind::CustomerExported,
        EventKind::CustomerErased,
        EventKind::OrganizationChanged,
        EventKind::RefundIssued,
        EventKind::RefundDone,
    ];

    /// Reads the stored spelling back; `None` for a spelling no kind has.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == raw)
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::TicketCreated => "ticket_created",
            EventKind::ReplyAdded => "reply_added",
            EventKind::NoteAdded => "note_added",
            EventKind::FieldsChanged => "fields_changed",
            EventKind::MergedInto => "merged_into",
            EventKind::MergedFrom => "merged_from",
            EventKind::SplitInto => "split_into",
            EventKind::SplitFrom => "split_from",
            EventKind::TimeLogged => "time_logged",
            EventKind::FollowUpOf => "follow_up_of",
            EventKind::ArticleChanged => "article_changed",
            EventKind::TopicChanged => "topic_changed",
            EventKind::HandedOver => "handed_over",
            EventKind::Transferred => "transferred",
            EventKind::SlaWarning => "sla_warning",
            EventKind::SlaBreached => "sla_breached",
            EventKind::PromiseMade => "promise_made",
            EventKind::PromiseDue => "promise_due",
            EventKind::PromiseKept => "promise_kept",
            EventKind::PromiseBroken => "promise_broken",
            EventKind::Routed => "routed",
            EventKind::Snoozed => "snoozed",
            EventKind::SnoozeEnded => "snooze_ended",
            EventKind::AutomationRan => "automation_ran",
            EventKind::SurveyAnswered => "survey_answered",
            EventKind::SurveyOffered => "survey_offered",
            EventKind::OrderChanged => "order_changed",
            EventKind::VoucherIssued => "voucher_issued",
            EventKind::VoucherRedeemed => "voucher_redeemed",
            EventKind::PointsGiven => "points_given",
            EventKind::ApprovalRequested => "approval_requested",
            EventKind::ApprovalDecided => "approval_decided",
            EventKind::ReturnChanged => "return_changed",
            EventKind::CustomerChanged => "customer_changed",
            EventKind::CustomersMerged => "customers_merged",
            EventKind::CustomerExported => "customer_exported",
            EventKind::CustomerErased => "customer_erased",
            EventKind::OrganizationChanged => "organization_changed",
            EventKind::RefundIssued => "refund_issued",
            EventKind::RefundDone => "refund_done",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_spelling_and_json() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
            assert_eq!(
                serde_json::to_string(k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(EventKind::parse("ticket_deleted"), None);
    }
}
