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
}

impl AuthorKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorKind::Agent => "agent",
            AuthorKind::Customer => "customer",
            AuthorKind::System => "system",
        }
    }

    /// Reads the stored spelling back; `None` for anything else.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "agent" => Some(AuthorKind::Agent),
            "customer" => Some(AuthorKind::Customer),
            "system" => Some(AuthorKind::System),
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

    /// Whether they may read a message on a ticket they can see: a customer only public
    /// messages that an agent or the customer wrote (never an internal note, never a note
    /// of Rapport's); agents and Rapport every message.
    pub fn can_see_message(&self, internal: bool, author: AuthorKind) -> bool {
        match self {
            Principal::Customer(_) => !internal && author != AuthorKind::System,
            Principal::Agent(_) | Principal::System => true,
        }
    }
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

    #[test]
    fn customers_never_see_notes() {
        let c = Principal::Customer(7);
        assert!(c.can_see_message(false, AuthorKind::Agent));
        assert!(c.can_see_message(false, AuthorKind::Customer));
        assert!(!c.can_see_message(true, AuthorKind::Agent));
        assert!(!c.can_see_message(true, AuthorKind::System));
        assert!(!c.can_see_message(false, AuthorKind::System));
        assert!(Principal::System.can_see_message(true, AuthorKind::System));
    }

    #[test]
    fn author_kinds_round_trip() {
        for k in [AuthorKind::Agent, AuthorKind::Customer, AuthorKind::System] {
            assert_eq!(AuthorKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(AuthorKind::parse("robot"), None);
    }
}
