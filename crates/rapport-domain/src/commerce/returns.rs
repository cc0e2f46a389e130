//! Returns and exchanges (RMA): a request for an order's items, moved step by step —
//! approved or rejected with a reason, instructions sent, the parcel received, refunded or
//! exchanged — each step timestamped by the store. The moves form a state machine that
//! refuses impossible steps (a refund before the parcel is back, anything after the end).

use crate::error::FieldError;
use crate::ticket::wire_enum;

wire_enum!(
    /// Where a return stands.
    ReturnState, "state" {
        /// Asked for by the customer or an agent.
        Requested = "requested",
        /// Accepted; instructions not yet sent.
        Approved = "approved",
        /// Refused (final).
        Rejected = "rejected",
        /// The customer has the label and the steps.
        InstructionsSent = "instructions-sent",
        /// The parcel came back.
        Received = "received",
        /// Money paid back (final).
        Refunded = "refunded",
        /// A replacement sent (final).
        Exchanged = "exchanged",
        /// Called off before the parcel came back (final).
        Cancelled = "cancelled",
    }
);

wire_enum!(
    /// A step of a return.
    ReturnMove, "action" {
        /// Accept the request.
        Approve = "approve",
        /// Refuse it (a reason is required).
        Reject = "reject",
        /// Send the customer the label and the steps.
        SendInstructions = "send-instructions",
        /// Record that the parcel came back.
        Receive = "receive",
        /// Pay back (an amount is recorded).
        Refund = "refund",
        /// Send a replacement.
        Exchange = "exchange",
        /// Call it off.
        Cancel = "cancel",
    }
);

impl ReturnState {
    /// Where the return stands, in words for the customer (the portal, the emails).
    pub fn for_customer(self) -> &'static str {
        match self {
            ReturnState::Requested => "requested — we will look at it shortly",
            ReturnState::Approved => "approved",
            ReturnState::Rejected => "not accepted",
            ReturnState::InstructionsSent => "instructions sent — please send the items back",
            ReturnState::Received => "received — we are checking the items",
            ReturnState::Refunded => "refunded",
            ReturnState::Exchanged => "exchanged",
            ReturnState::Cancelled => "cancelled",
        }
    }
}

impl ReturnState {
    /// Whether no move leaves this state.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ReturnState::Rejected
                | ReturnState::Refunded
                | ReturnState::Exchanged
                | ReturnState::Cancelled
        )
    }

    /// The state `m` leads to from here, or why it cannot be made.
    pub fn after(self, m: ReturnMove) -> Result<ReturnState, FieldError> {
        use ReturnMove as M;
        use ReturnState as S;
        let next = match (self, m) {
            (S::Requested, M::Approve) => S::Approved,
            (S::Requested, M::Reject) => S::Rejected,
            (S::Approved, M::SendInstructions) => S::InstructionsSent,
            // A parcel may come back before the instructions were recorded as sent.
            (S::Approved | S::InstructionsSent, M::Receive) => S::Received,
            (S::Received, M::Refund) => S::Refunded,
            (S::Received, M::Exchange) => S::Exchanged,
            (S::Requested | S::Approved | S::InstructionsSent, M::Cancel) => S::Cancelled,
            _ => {
                return Err(FieldError::new(
                    "action",
                    format!("a return that is {} cannot {}", self.as_str(), m.as_str()),
                ));
            }
        };
        Ok(next)
    }

    /// The moves that can be made from here, in order.
    pub fn moves(self) -> Vec<ReturnMove> {
        ReturnMove::ALL
            .iter()
            .copied()
            .filter(|m| self.after(*m).is_ok())
            .collect()
    }
}

/// Checks a return's reason or a decision's note: 1 to 1,000 characters.
pub fn return_text(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 1_000 {
        return Err(FieldError::new(field, "write 1 to 1,000 characters"));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(field, "no control characters"));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_paths() {
        let s = ReturnState::Requested;
        let s = s.after(ReturnMove::Approve).unwrap();
        let s = s.after(ReturnMove::SendInstructions).unwrap();
        let s = s.after(ReturnMove::Receive).unwrap();
        assert_eq!(s.after(ReturnMove::Refund), Ok(ReturnState::Refunded));
        assert_eq!(s.after(ReturnMove::Exchange), Ok(ReturnState::Exchanged));
        assert_eq!(
            ReturnState::Requested.after(ReturnMove::Reject),
            Ok(ReturnState::Rejected)
        );
    }

    #[test]
    fn impossible_moves_are_refused_naming_the_action() {
        let e = ReturnState::Requested
            .after(ReturnMove::Refund)
            .unwrap_err();
        assert_eq!(e.field, "action");
        assert!(e.message.contains("requested"), "{}", e.message);
        assert!(ReturnState::Received.after(ReturnMove::Cancel).is_err());
        assert!(ReturnState::Approved.after(ReturnMove::Approve).is_err());
        assert_eq!(
            ReturnState::Requested.moves(),
            [ReturnMove::Approve, ReturnMove::Reject, ReturnMove::Cancel]
        );
    }

    fn any_move() -> impl Strategy<Value = ReturnMove> {
        (0..ReturnMove::ALL.len()).prop_map(|i| ReturnMove::ALL[i])
    }

    proptest! {
        /// Whatever is tried, in any order: a final state accepts nothing, money is paid
        /// back only after the parcel came back, and a refused move changes nothing.
        #[test]
        fn no_sequence_breaks_the_rules(moves in proptest::collection::vec(any_move(), 0..40)) {
            let mut s = ReturnState::Requested;
            let mut received = false;
            for m in moves {
                match s.after(m) {
                    Ok(next) => {
                        prop_assert!(!s.is_final(), "{s:?} moved on");
                        if next == ReturnState::Refunded || next == ReturnState::Exchanged {
                            prop_assert!(received, "paid back before the parcel came back");
                        }
                        if next == ReturnState::Received {
                            received = true;
                        }
                        prop_assert!(s.moves().contains(&m));
                        s = next;
                    }
                    Err(e) => {
                        prop_assert_eq!(e.field, "action");
                        prop_assert!(!s.moves().contains(&m));
                    }
                }
            }
            prop_assert_eq!(s.moves().is_empty(), s.is_final());
        }

        /// Every state can be reached from a request.
        #[test]
        fn every_state_is_reachable(target in 0..ReturnState::ALL.len()) {
            let target = ReturnState::ALL[target];
            let mut seen = vec![ReturnState::Requested];
            let mut frontier = vec![ReturnState::Requested];
            while let Some(s) = frontier.pop() {
                for m in s.moves() {
                    let n = s.after(m).unwrap();
                    if !seen.contains(&n) {
                        seen.push(n);
                        frontier.push(n);
                    }
                }
            }
            prop_assert!(seen.contains(&target));
        }
    }
}
