//! SLA policies: which tickets a policy covers (its conditions) and what it promises (its
//! targets). Policies are tried in order; the first enabled one whose conditions all hold
//! applies. A default policy — first response within 24 calendar hours — ships enabled.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::ticket::{Category, Channel, Priority};

/// The longest target: a year, in minutes.
pub const MAX_TARGET_MINUTES: u32 = 366 * 24 * 60;

/// A target's length in minutes (1 minute to a year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Minutes(u32);

impl Minutes {
    /// Checks a length; `field` names it in the error.
    pub fn new(minutes: i64, field: &str) -> Result<Self, FieldError> {
        u32::try_from(minutes)
            .ok()
            .filter(|m| (1..=MAX_TARGET_MINUTES).contains(m))
            .map(Self)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    format!("must be between 1 and {MAX_TARGET_MINUTES} minutes"),
                )
            })
    }

    /// The minutes.
    pub fn get(self) -> u32 {
        self.0
    }

    /// In seconds.
    pub fn secs(self) -> i64 {
        i64::from(self.0) * 60
    }
}

impl TryFrom<u32> for Minutes {
    type Error = FieldError;
    fn try_from(m: u32) -> Result<Self, FieldError> {
        Self::new(i64::from(m), "minutes")
    }
}

impl From<Minutes> for u32 {
    fn from(m: Minutes) -> u32 {
        m.0
    }
}

/// What a policy promises; a target left out is not measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// From the ticket's creation to the first public reply by an agent.
    pub first_response: Option<Minutes>,
    /// From each later customer message to the agent's next public reply.
    pub next_response: Option<Minutes>,
    /// From creation (or reopening) to solved.
    pub resolution: Option<Minutes>,
}

impl Targets {
    /// Whether there is anything to measure.
    pub fn is_empty(&self) -> bool {
        self.first_response.is_none() && self.next_response.is_none() && self.resolution.is_none()
    }
}

/// Which tickets a policy covers: every list that is not empty must hold the ticket's
/// value (an empty list: any).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conditions {
    /// Priorities.
    #[serde(default)]
    pub priorities: Vec<Priority>,
    /// Categories.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Channels the ticket came through.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// The customer's organisation (ids).
    #[serde(default)]
    pub organizations: Vec<i64>,
    /// The customer's tier (their `tier` attribute, such as `vip`).
    #[serde(default)]
    pub tiers: Vec<String>,
}

/// What a policy's conditions are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts {
    /// The ticket's priority.
    pub priority: Priority,
    /// Its category, if set.
    pub category: Option<Category>,
    /// The channel it came through.
    pub channel: Channel,
    /// The customer's organisation.
    pub organization: Option<i64>,
    /// The customer's tier attribute.
    pub tier: Option<String>,
}

impl Conditions {
    /// Whether a ticket with these facts is covered.
    pub fn hold_for(&self, t: &TicketFacts) -> bool {
        fn any_or<T: PartialEq>(list: &[T], v: Option<&T>) -> bool {
            list.is_empty() || v.is_some_and(|v| list.contains(v))
        }
        any_or(&self.priorities, Some(&t.priority))
            && any_or(&self.categories, t.category.as_ref())
            && any_or(&self.channels, Some(&t.channel))
            && any_or(&self.organizations, t.organization.as_ref())
            && (self.tiers.is_empty()
                || t.tier
                    .as_deref()
                    .is_some_and(|x| self.tiers.iter().any(|y| y.eq_ignore_ascii_case(x))))
    }
}

/// An SLA policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its id.
    pub id: i64,
    /// What agents call it.
    pub name: String,
    /// Tried in ascending order.
    pub position: i64,
    /// Off: never applies.
    pub enabled: bool,
    /// Which tickets it covers.
    pub conditions: Conditions,
    /// What it promises.
    pub targets: Targets,
    /// The business-hours calendar its targets are measured in; `None`: calendar hours.
    pub calendar_id: Option<i64>,
}

/// The policy that applies to a ticket: the first enabled one (by position, then id)
/// whose conditions hold.
pub fn pick<'a>(policies: &'a [Policy], facts: &TicketFacts) -> Option<&'a Policy> {
    let mut ordered: Vec<&Policy> = policies.iter().filter(|p| p.enabled).collect();
    ordered.sort_by_key(|p| (p.position, p.id));
    ordered.into_iter().find(|p| p.conditions.hold_for(facts))
}

/// A policy's name: 1 to 100 characters, no control characters.
pub fn policy_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "must be 1 to 100 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(priority: Priority, channel: Channel, tier: Option<&str>) -> TicketFacts {
        TicketFacts {
            priority,
            category: Some(Category::parse("billing").unwrap()),
            channel,
            organization: Some(7),
            tier: tier.map(str::to_owned),
        }
    }

    fn policy(id: i64, position: i64, conditions: Conditions) -> Policy {
        Policy {
            id,
            name: format!("p{id}"),
            position,
            enabled: true,
            conditions,
            targets: Targets {
                first_response: Some(Minutes::new(60, "m").unwrap()),
                ..Targets::default()
            },
            calendar_id: None,
        }
    }

    #[test]
    fn the_first_enabled_policy_whose_conditions_all_hold_applies() {
        let urgent_vip = Conditions {
            priorities: vec![Priority::Urgent],
            tiers: vec!["VIP".into()],
            ..Conditions::default()
        };
        let chat = Conditions {
            channels: vec![Channel::Chat],
            ..Conditions::default()
        };
        let mut policies = vec![
            policy(3, 30, Conditions::default()),
            policy(1, 10, urgent_vip),
            policy(2, 20, chat),
        ];
        let pick_id = |ps: &[Policy], f: &TicketFacts| pick(ps, f).map(|p| p.id);
        assert_eq!(
            pick_id(
                &policies,
                &facts(Priority::Urgent, Channel::Email, Some("vip"))
            ),
            Some(1)
        );
        assert_eq!(
            pick_id(&policies, &facts(Priority::Urgent, Channel::Chat, None)),
            Some(2)
        );
        assert_eq!(
            pick_id(
                &policies,
                &facts(Priority::Low, Channel::Email, Some("vip"))
            ),
            Some(3)
        );
        policies[0].enabled = false;
        assert_eq!(
            pick_id(&policies, &facts(Priority::Low, Channel::Email, None)),
            None
        );
        let other_org = Conditions {
            organizations: vec![8],
            ..Conditions::default()
        };
        assert!(!other_org.hold_for(&facts(Priority::Low, Channel::Email, None)));
    }

    #[test]
    fn targets_and_names_are_checked() {
        assert!(Minutes::new(0, "targets.first_response").is_err());
        assert_eq!(Minutes::new(-5, "x").unwrap_err().field, "x");
        assert!(Minutes::new(i64::from(MAX_TARGET_MINUTES) + 1, "x").is_err());
        assert_eq!(Minutes::new(90, "x").unwrap().secs(), 5_400);
        assert!(policy_name(" ").is_err());
        assert!(policy_name("a\u{0}b").is_err());
        assert_eq!(policy_name(" VIP ").unwrap(), "VIP");
    }
}
