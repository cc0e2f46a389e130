//! Who gets a new ticket: a team's routing method, an agent's skills and capacity, and
//! the choice among the agents who may take it.
//!
//! The rules, in order: only agents who are `online` (their [`AgentStatus`]), active,
//! members of the ticket's team and under their capacity of open tickets are candidates;
//! an agent who lists skills takes only tickets that match them (a ticket with no category
//! or no detected language matches any list; an agent with no list takes everything);
//! the customer's last agent gets the ticket back when they are a candidate (sticky
//! ownership); otherwise the team's method picks — round-robin (the next candidate after
//! the one who got the team's last ticket) or least-loaded (fewest open tickets, then the
//! longest without a new one). `manual` routes nothing.

use crate::chat::AgentStatus;
use crate::error::FieldError;
use crate::ticket::Category;

/// How a team hands out new tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RoutingMethod {
    /// Nobody is chosen: agents take tickets from the queue (the default).
    #[default]
    Manual,
    /// Each candidate in turn.
    RoundRobin,
    /// The candidate with the fewest open tickets.
    LeastLoaded,
}

impl RoutingMethod {
    /// All methods, in the order forms list them.
    pub const ALL: [RoutingMethod; 3] = [
        RoutingMethod::Manual,
        RoutingMethod::RoundRobin,
        RoutingMethod::LeastLoaded,
    ];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingMethod::Manual => "manual",
            RoutingMethod::RoundRobin => "round_robin",
            RoutingMethod::LeastLoaded => "least_loaded",
        }
    }

    /// Parses `manual`, `round_robin` or `least_loaded`; errors name `routing`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "manual" => Ok(RoutingMethod::Manual),
            "round_robin" => Ok(RoutingMethod::RoundRobin),
            "least_loaded" => Ok(RoutingMethod::LeastLoaded),
            _ => Err(FieldError::new(
                "routing",
                "must be manual, round_robin or least_loaded",
            )),
        }
    }

    /// Whether tickets are handed out at all.
    pub fn is_automatic(self) -> bool {
        self != RoutingMethod::Manual
    }
}

/// The most open tickets an agent's capacity may be set to.
pub const MAX_TICKET_LIMIT: i64 = 1000;

/// Parses an agent's capacity of open tickets (0–1,000; 0 takes no new tickets); errors
/// name `ticket_limit`.
pub fn ticket_limit(raw: i64) -> Result<i64, FieldError> {
    if (0..=MAX_TICKET_LIMIT).contains(&raw) {
        Ok(raw)
    } else {
        Err(FieldError::new(
            "ticket_limit",
            format!("must be 0 to {MAX_TICKET_LIMIT}"),
        ))
    }
}

/// The most skills of one kind an agent may list.
pub const MAX_SKILLS: usize = 50;

/// What an agent is good at: ticket categories and languages (ISO 639-1 codes such as
/// `en`, `de`). An empty list means "any".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Skills {
    /// Category slugs.
    pub categories: Vec<String>,
    /// Two-letter language codes, lower case.
    pub languages: Vec<String>,
}

impl Skills {
    /// Parses both lists (duplicates dropped, order kept); errors name
    /// `skills.categories` or `skills.languages`. Whether a category exists is the store's
    /// question.
    pub fn parse<S: AsRef<str>>(categories: &[S], languages: &[S]) -> Result<Self, FieldError> {
        if categories.len() > MAX_SKILLS || languages.len() > MAX_SKILLS {
            return Err(FieldError::new(
                if categories.len() > MAX_SKILLS {
                    "skills.categories"
                } else {
                    "skills.languages"
                },
                format!("at most {MAX_SKILLS} entries"),
            ));
        }
        let mut cats: Vec<String> = Vec::new();
        for c in categories {
            let slug = Category::parse(c.as_ref())
                .map_err(|e| FieldError::new("skills.categories", e.message))?;
            let slug = slug.as_str().to_owned();
            if !cats.contains(&slug) {
                cats.push(slug);
            }
        }
        let mut langs: Vec<String> = Vec::new();
        for l in languages {
            let code = l.as_ref().trim().to_ascii_lowercase();
            if code.len() != 2 || !code.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(FieldError::new(
                    "skills.languages",
                    "must be two-letter language codes such as en or de",
                ));
            }
            if !langs.contains(&code) {
                langs.push(code);
            }
        }
        Ok(Self {
            categories: cats,
            languages: langs,
        })
    }

    /// Whether an agent with these skills takes a ticket of this category and language.
    pub fn covers(&self, need: &Need) -> bool {
        let category = match &need.category {
            Some(c) if !self.categories.is_empty() => self.categories.iter().any(|s| s == c),
            _ => true,
        };
        let language = match &need.language {
            Some(l) if !self.languages.is_empty() => self.languages.iter().any(|s| s == l),
            _ => true,
        };
        category && language
    }
}

/// What a ticket asks of the agent who takes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Need {
    /// Its category, if it has one.
    pub category: Option<String>,
    /// The language its text is in, when it is clearly not English (`de`, `fr`, `es`);
    /// English is everybody's, so it asks nothing.
    pub language: Option<String>,
}

impl Need {
    /// The need of a ticket with this category and first message.
    pub fn of(category: Option<&str>, text: &str) -> Self {
        Self {
            category: category.map(str::to_owned),
            language: crate::bot::language(text).map(str::to_owned),
        }
    }
}

/// An agent who might take a ticket, as the store found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// User id.
    pub id: i64,
    /// Their status.
    pub status: AgentStatus,
    /// Open tickets they own now.
    pub open: i64,
    /// Their capacity of open tickets.
    pub limit: i64,
    /// Their skills.
    pub skills: Skills,
    /// When they were last given a ticket by routing (microseconds; 0: never).
    pub last_assigned: i64,
}

impl Candidate {
    /// Whether they may take this ticket now.
    pub fn can_take(&self, need: &Need) -> bool {
        self.status == AgentStatus::Online && self.open < self.limit && self.skills.covers(need)
    }
}

/// Why routing chose an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The customer's last agent took it back.
    Sticky,
    /// The team's turn order.
    RoundRobin,
    /// The least-loaded candidate.
    LeastLoaded,
}

impl Reason {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Sticky => "sticky",
            Reason::RoundRobin => "round_robin",
            Reason::LeastLoaded => "least_loaded",
        }
    }
}

/// Chooses the agent for a ticket among a team's members (`candidates`, in any order):
/// `sticky` is the customer's last agent, `last` the agent who got the team's previous
/// ticket (for round-robin). `None` leaves the ticket in the team's queue.
pub fn pick(
    method: RoutingMethod,
    candidates: &[Candidate],
    need: &Need,
    sticky: Option<i64>,
    last: Option<i64>,
) -> Option<(i64, Reason)> {
    if !method.is_automatic() {
        return None;
    }
    let able: Vec<&Candidate> = candidates.iter().filter(|c| c.can_take(need)).collect();
    if let Some(s) = sticky
        && able.iter().any(|c| c.id == s)
    {
        return Some((s, Reason::Sticky));
    }
    match method {
        RoutingMethod::Manual => None,
        RoutingMethod::RoundRobin => {
            let after = last.unwrap_or(i64::MIN);
            able.iter()
                .map(|c| c.id)
                .filter(|id| *id > after)
                .min()
                .or_else(|| able.iter().map(|c| c.id).min())
                .map(|id| (id, Reason::RoundRobin))
        }
        RoutingMethod::LeastLoaded => able
            .iter()
            .min_by_key(|c| (c.open, c.last_assigned, c.id))
            .map(|c| (c.id, Reason::LeastLoaded)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: i64, open: i64, limit: i64) -> Candidate {
        Candidate {
            id,
            status: AgentStatus::Online,
            open,
            limit,
            skills: Skills::default(),
            last_assigned: 0,
        }
    }

    #[test]
    fn methods_parse_and_name_the_field() {
        for m in RoutingMethod::ALL {
            assert_eq!(RoutingMethod::parse(m.as_str()), Ok(m));
        }
        assert_eq!(RoutingMethod::parse("random").unwrap_err().field, "routing");
        assert_eq!(ticket_limit(-1).unwrap_err().field, "ticket_limit");
        assert_eq!(ticket_limit(1001).unwrap_err().field, "ticket_limit");
        assert_eq!(ticket_limit(0), Ok(0));
    }

    #[test]
    fn skills_are_checked_and_deduplicated() {
        let s = Skills::parse(&["Billing", "billing", "technical"], &["DE", "de", "fr"]).unwrap();
        assert_eq!(s.categories, ["billing", "technical"]);
        assert_eq!(s.languages, ["de", "fr"]);
        assert_eq!(
            Skills::parse(&["no spaces"], &[]).unwrap_err().field,
            "skills.categories"
        );
        assert_eq!(
            Skills::parse::<&str>(&[], &["deu"]).unwrap_err().field,
            "skills.languages"
        );
    }

    #[test]
    fn skills_cover_what_they_list_and_lists_left_empty_cover_all() {
        let billing_de = Skills::parse(&["billing"], &["de"]).unwrap();
        let need = |c: Option<&str>, l: Option<&str>| Need {
            category: c.map(str::to_owned),
            language: l.map(str::to_owned),
        };
        assert!(billing_de.covers(&need(Some("billing"), Some("de"))));
        assert!(billing_de.covers(&need(None, None)));
        assert!(!billing_de.covers(&need(Some("technical"), None)));
        assert!(!billing_de.covers(&need(Some("billing"), Some("fr"))));
        assert!(Skills::default().covers(&need(Some("technical"), Some("fr"))));
    }

    #[test]
    fn the_need_reads_the_language_of_the_text() {
        let de = Need::of(
            Some("billing"),
            "Ich habe eine Frage zu meiner Rechnung, die ist nicht richtig",
        );
        assert_eq!(de.language.as_deref(), Some("de"));
        assert_eq!(Need::of(None, "My invoice is wrong").language, None);
    }

    #[test]
    fn nobody_goes_over_capacity_or_gets_tickets_when_not_online() {
        let mut away = agent(1, 0, 5);
        away.status = AgentStatus::Away;
        let full = agent(2, 5, 5);
        let free = agent(3, 4, 5);
        let all = [away, full, free];
        for m in [RoutingMethod::RoundRobin, RoutingMethod::LeastLoaded] {
            assert_eq!(
                pick(m, &all, &Need::default(), None, None).map(|p| p.0),
                Some(3)
            );
        }
        assert_eq!(
            pick(RoutingMethod::Manual, &all, &Need::default(), None, None),
            None
        );
        let none_free = [agent(1, 5, 5), agent(2, 0, 0)];
        assert_eq!(
            pick(
                RoutingMethod::LeastLoaded,
                &none_free,
                &Need::default(),
                None,
                None
            ),
            None
        );
    }

    #[test]
    fn round_robin_goes_in_turn_and_wraps() {
        let all = [agent(4, 0, 9), agent(7, 0, 9), agent(9, 0, 9)];
        let n = Need::default();
        let mut last = None;
        let mut got = Vec::new();
        for _ in 0..5 {
            let (id, why) = pick(RoutingMethod::RoundRobin, &all, &n, None, last).unwrap();
            assert_eq!(why, Reason::RoundRobin);
            got.push(id);
            last = Some(id);
        }
        assert_eq!(got, [4, 7, 9, 4, 7]);
    }

    #[test]
    fn least_loaded_takes_the_fewest_then_the_longest_idle() {
        let mut a = agent(1, 3, 9);
        a.last_assigned = 10;
        let mut b = agent(2, 2, 9);
        b.last_assigned = 50;
        let mut c = agent(3, 2, 9);
        c.last_assigned = 20;
        let got = pick(
            RoutingMethod::LeastLoaded,
            &[a, b, c],
            &Need::default(),
            None,
            None,
        );
        assert_eq!(got, Some((3, Reason::LeastLoaded)));
    }

    #[test]
    fn the_last_agent_gets_the_customer_back_when_they_can_take_it() {
        let all = [agent(1, 0, 9), agent(2, 8, 9), agent(3, 9, 9)];
        let n = Need::default();
        assert_eq!(
            pick(RoutingMethod::LeastLoaded, &all, &n, Some(2), None),
            Some((2, Reason::Sticky))
        );
        // Full, or not in the team: the method decides.
        assert_eq!(
            pick(RoutingMethod::LeastLoaded, &all, &n, Some(3), None),
            Some((1, Reason::LeastLoaded))
        );
        assert_eq!(
            pick(RoutingMethod::LeastLoaded, &all, &n, Some(42), None),
            Some((1, Reason::LeastLoaded))
        );
    }

    #[test]
    fn specialists_take_only_what_they_cover() {
        let mut billing = agent(1, 0, 9);
        billing.skills = Skills::parse(&["billing"], &[]).unwrap();
        let mut german = agent(2, 0, 9);
        german.skills = Skills::parse::<&str>(&[], &["de"]).unwrap();
        let all = [billing, german];
        let tech_de = Need {
            category: Some("technical".into()),
            language: Some("de".into()),
        };
        assert_eq!(
            pick(RoutingMethod::RoundRobin, &all, &tech_de, None, None).map(|p| p.0),
            Some(2)
        );
        let tech_fr = Need {
            category: Some("technical".into()),
            language: Some("fr".into()),
        };
        assert_eq!(
            pick(RoutingMethod::RoundRobin, &all, &tech_fr, None, None),
            None
        );
    }
}
