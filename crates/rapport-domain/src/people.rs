//! Agents: their role and what it lets them do. A [`Viewer`] is the agent's side of a
//! [`Principal`](crate::Principal); every API handler asks it before it touches data, and
//! the rules live here so they are the same on every channel.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// An agent's role. Roles nest: a supervisor can do all an agent can, an admin all a
/// supervisor can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works tickets in their teams.
    Agent,
    /// Sees every team, manages teams, categories and (later) SLAs and routing.
    Supervisor,
    /// Everything, including people and security.
    Admin,
}

impl Role {
    /// Every role, least powerful first.
    pub const ALL: &'static [Role] = &[Role::Agent, Role::Supervisor, Role::Admin];

    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Parses `admin`, `supervisor` or `agent`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Role::Agent),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            _ => Err(FieldError::new(
                "role",
                "must be one of: admin, supervisor, agent",
            )),
        }
    }

    /// Whether this role grants `p`.
    pub fn can(self, p: Permission) -> bool {
        self >= p.least_role()
    }
}

/// Something a person might try to do. Each maps to the least role allowed to do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read and work tickets (replies, notes, field changes, merges) in one's teams.
    WorkTickets,
    /// Read customers and their history.
    ReadCustomers,
    /// See and work tickets of every team, not only one's own.
    SeeAllTeams,
    /// Create and change teams and their members.
    ManageTeams,
    /// Create custom categories.
    ManageCategories,
    /// See the job queue.
    ViewJobs,
    /// Create agents and change roles.
    ManageUsers,
    /// Read the knowledge base's reports (articles, deflection, content gaps) and start
    /// articles from its gaps.
    ViewKbReports,
    /// Set the public help center's name, colour and logo.
    ManageBranding,
    /// Write knowledge-base articles: create, edit, publish, archive, restore a version.
    WriteArticles,
    /// Delete knowledge-base articles and create, change or delete their categories.
    ManageKb,
    /// Set the live chat's verified-identity secret and the sites that may embed it.
    ManageChat,
    /// Create and change SLA policies and business-hours calendars.
    ManageSla,
    /// Create and change outbound webhooks (they send ticket data out of the help desk).
    ManageWebhooks,
    /// Create and change automation rules (they change tickets and write to customers).
    ManageAutomations,
    /// Set whether and how often surveys go out.
    ManageSurveys,
    /// Read the reports and dashboards (every agent's and team's figures).
    ViewReports,
    /// Push the shop's orders and shipments, redeem vouchers and points (an
    /// integration's API token).
    ManageOrders,
    /// Approve or decline gifts above an agent's goodwill limit; read the limits.
    ApproveGoodwill,
    /// Set the goodwill limits of roles and agents.
    ManageGoodwillLimits,
    /// Change a customer's contact details, organisation, birthday and attributes.
    EditCustomers,
    /// Create and change organisations and attribute definitions, set tiers, merge
    /// duplicate customers, import customers and organisations from CSV.
    ManageCustomers,
    /// Export everything about a customer, or erase them (GDPR).
    ManagePrivacy,
}

impl Permission {
    /// The least role that holds this permission.
    pub fn least_role(self) -> Role {
        match self {
            Permission::WorkTickets
            | Permission::ReadCustomers
            | Permission::WriteArticles
            | Permission::EditCustomers => Role::Agent,
            Permission::SeeAllTeams
            | Permission::ManageKb
            | Permission::ManageTeams
            | Permission::ManageCategories
            | Permission::ManageSla
            | Permission::ManageAutomations
            | Permission::ManageSurveys
            | Permission::ViewReports
            | Permission::ViewJobs
            | Permission::ViewKbReports
            | Permission::ApproveGoodwill
            | Permission::ManageCustomers => Role::Supervisor,
            Permission::ManageUsers
            | Permission::ManageBranding
            | Permission::ManageChat
            | Permission::ManageWebhooks
            | Permission::ManageOrders
            | Permission::ManageGoodwillLimits
            | Permission::ManagePrivacy => Role::Admin,
        }
    }
}

/// A signed-in agent as the rules need them: who, which role, which teams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The agent's user id.
    pub user_id: i64,
    /// Their role.
    pub role: Role,
    /// The teams they belong to.
    pub team_ids: Vec<i64>,
}

impl Viewer {
    /// Whether the role grants `p`.
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }

    /// Whether they may open a ticket owned by `team` (`None`: no team yet). Agents see
    /// tickets without a team and tickets of their own teams; supervisors and admins see
    /// all.
    pub fn can_see_team(&self, team: Option<i64>) -> bool {
        match team {
            None => true,
            Some(t) => self.can(Permission::SeeAllTeams) || self.team_ids.contains(&t),
        }
    }

    /// The teams a listing must be restricted to, or `None` when the viewer sees all.
    pub fn team_scope(&self) -> Option<&[i64]> {
        if self.can(Permission::SeeAllTeams) {
            None
        } else {
            Some(&self.team_ids)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role, teams: &[i64]) -> Viewer {
        Viewer {
            user_id: 1,
            role,
            team_ids: teams.to_vec(),
        }
    }

    #[test]
    fn roles_nest() {
        for p in [
            Permission::WorkTickets,
            Permission::ReadCustomers,
            Permission::SeeAllTeams,
            Permission::ManageTeams,
            Permission::ManageCategories,
            Permission::ViewJobs,
            Permission::ViewKbReports,
            Permission::ManageUsers,
            Permission::ManageBranding,
        ] {
            if Role::Agent.can(p) {
                assert!(Role::Supervisor.can(p));
            }
            if Role::Supervisor.can(p) {
                assert!(Role::Admin.can(p));
            }
        }
        assert!(!Role::Agent.can(Permission::ManageTeams));
        assert!(!Role::Supervisor.can(Permission::ManageUsers));
        assert!(Role::Admin.can(Permission::ManageUsers));
        assert!(!Role::Supervisor.can(Permission::ManageBranding));
    }

    #[test]
    fn agents_see_their_teams_and_unowned_tickets() {
        let a = viewer(Role::Agent, &[2]);
        assert!(a.can_see_team(None));
        assert!(a.can_see_team(Some(2)));
        assert!(!a.can_see_team(Some(3)));
        assert_eq!(a.team_scope(), Some(&[2][..]));
        let s = viewer(Role::Supervisor, &[]);
        assert!(s.can_see_team(Some(3)));
        assert_eq!(s.team_scope(), None);
    }

    #[test]
    fn role_parse_names_the_field() {
        assert_eq!(Role::parse("Admin").unwrap(), Role::Admin);
        assert_eq!(Role::parse("root").unwrap_err().field, "role");
    }
}
