//! Who is acting: an agent (with role and teams), a customer, or Rapport itself — and what
//! each may read. The store takes a [`Principal`] on every operation a customer can reach
//! (a ticket, its thread, its attachments, the customer's requests, a customer's reply) and
//! asks the rules here, so no page or API can show a customer an internal note or another
//! customer's conversation.

use serde::{Deserialize, Serialize};

use crate::Viewer;

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in agent (or an API token of one): sees the tickets of their teams.
    Agent(Viewer),
    /// A customer (portal, help center, chat widget): sees only their own tickets and
    /// only the public messages on them.
    Customer(i64),
    /// Rapport itself (jobs, channels, automations): sees everything.
    System,
}

/// Who wrote a message. Stored (and sent in the API) as `agent`, `customer` or `system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthorKind {
    /// An agent.
    Agent,
    /// The ticket's customer.
    Customer,
    /// Rapport itself (a bounce, an automation).
    System,
    /// The assistant bot answering in live chat (public: the visitor reads it).
    Bot,
}

impl AuthorKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorKind::Agent => "agent",
            AuthorKind::Customer => "customer",
            AuthorKind::System => "system",
            AuthorKind::Bot => "bot",
        }
    }

    /// Reads the stored spelling back; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "agent" => Some(AuthorKind::Agent),
            "customer" => Some(AuthorKind::Customer),
            "system" => Some(AuthorKind::System),
            "bot" => Some(AuthorKind::Bot),
            _ => None,
        }
    }
}

impl From<Viewer> for Principal {
    fn from(v: Viewer) -> Self {
        Principal::Agent(v)
    }
}

impl Principal {
    /// The agent acting, if an agent is.
    pub fn agent(&self) -> Option<&Viewer> {
        match self {
            Principal::Agent(v) => Some(v),
            _ => None,
        }
    }

    /// The customer acting, if a customer is.
    pub fn customer(&self) -> Option<i64> {
        match self {
            Principal::Customer(id) => Some(*id),
            _ => None,
        }
    }

    /// Whether they may read a ticket owned by `team` (`None`: no team) and asked by
    /// `customer`: an agent by team (see [`Viewer::can_see_team`]), a customer only
    /// their own, Rapport every one.
    pub fn can_see_ticket(&self, team: Option<i64>, customer: i64) -> bool {
        match self {
            Principal::Agent(v) => v.can_see_team(team),
            Principal::Customer(id) => *id == customer,
            Principal::System => true,
        }
    }

    /// Whether they may read a message on a ticket they can see. A customer reads only
    /// public messages (never an internal note, never a note of Rapport's), and of those
    /// only what they wrote and the replies sent to them (an agent's, the bot's, an
    /// automation's): after a merge across
    /// customers the moved messages stay the first customer's conversation, so neither
    /// customer reads the other's; a message another customer wrote is never shown.
    /// Agents and Rapport read every message.
    pub fn can_see_message(&self, m: &MessageSight) -> bool {
        match self {
            Principal::Customer(me) => {
                !m.internal
                    && match m.author {
                        // Rows from before authors were recorded belong to the conversation.
                        AuthorKind::Customer => m
                            .author_customer
                            .map_or(m.conversation_of == *me, |a| a == *me),
                        // Rapport's public messages are an automation's replies to
                        // the customer (its notes are internal).
                        AuthorKind::Agent | AuthorKind::Bot | AuthorKind::System => {
                            m.conversation_of == *me
                        }
                    }
            }
            Principal::Agent(_) | Principal::System => true,
        }
    }
}

/// What decides who may read a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSight {
    /// An internal note.
    pub internal: bool,
    /// Who wrote it.
    pub author: AuthorKind,
    /// The customer who wrote it, if one did.
    pub author_customer: Option<i64>,
    /// The customer whose conversation it belongs to: the one it was written to or by —
    /// the ticket's customer, unless a merge brought it from another customer's ticket.
    pub conversation_of: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    #[test]
    fn customers_see_only_their_own_tickets() {
        let c = Principal::Customer(7);
        assert!(c.can_see_ticket(None, 7));
        assert!(c.can_see_ticket(Some(3), 7));
        assert!(!c.can_see_ticket(None, 8));
        assert!(Principal::System.can_see_ticket(Some(3), 8));
    }

    #[test]
    fn agents_see_by_team_whoever_asked() {
        let a = Principal::from(Viewer {
            user_id: 1,
            role: Role::Agent,
            team_ids: vec![2],
        });
        assert!(a.can_see_ticket(Some(2), 99));
        assert!(!a.can_see_ticket(Some(3), 99));
        assert_eq!(a.agent().map(|v| v.user_id), Some(1));
        assert_eq!(a.customer(), None);
    }

    fn sight(internal: bool, author: AuthorKind) -> MessageSight {
        MessageSight {
            internal,
            author,
            author_customer: (author == AuthorKind::Customer).then_some(7),
            conversation_of: 7,
        }
    }

    #[test]
    fn customers_never_see_notes() {
        let c = Principal::Customer(7);
        assert!(c.can_see_message(&sight(false, AuthorKind::Agent)));
        assert!(c.can_see_message(&sight(false, AuthorKind::Customer)));
        assert!(!c.can_see_message(&sight(true, AuthorKind::Agent)));
        assert!(!c.can_see_message(&sight(true, AuthorKind::System)));
        // An automation's reply to the customer.
        assert!(c.can_see_message(&sight(false, AuthorKind::System)));
        assert!(!Principal::Customer(8).can_see_message(&sight(false, AuthorKind::System)));
        assert!(c.can_see_message(&sight(false, AuthorKind::Bot)));
        assert!(!c.can_see_message(&sight(true, AuthorKind::Bot)));
        assert!(!Principal::Customer(8).can_see_message(&sight(false, AuthorKind::Bot)));
        assert!(Principal::System.can_see_message(&sight(true, AuthorKind::System)));
    }

    #[test]
    fn customers_see_only_their_own_conversation() {
        // Customer 8's ticket got customer 7's thread by a merge.
        let moved_reply = MessageSight {
            conversation_of: 7,
            ..sight(false, AuthorKind::Agent)
        };
        let moved_question = sight(false, AuthorKind::Customer);
        let new_reply = MessageSight {
            conversation_of: 8,
            ..sight(false, AuthorKind::Agent)
        };
        let (a, b) = (Principal::Customer(7), Principal::Customer(8));
        assert!(!b.can_see_message(&moved_reply));
        assert!(!b.can_see_message(&moved_question));
        assert!(b.can_see_message(&new_reply));
        assert!(a.can_see_message(&moved_question));
        assert!(!a.can_see_message(&new_reply));
        // Another customer's message on a customer's own ticket stays hidden from them.
        let stranger = MessageSight {
            author_customer: Some(9),
            ..sight(false, AuthorKind::Customer)
        };
        assert!(!a.can_see_message(&stranger));
    }

    #[test]
    fn author_kinds_round_trip() {
        for k in [
            AuthorKind::Agent,
            AuthorKind::Customer,
            AuthorKind::System,
            AuthorKind::Bot,
        ] {
            assert_eq!(AuthorKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(AuthorKind::parse("robot"), None);
    }
}
