//! Automations: rules a supervisor writes once and Rapport keeps — "when a ticket comes
//! in about billing, tag it and hand it to the billing team", "when an SLA is breached,
//! raise the priority and tell the supervisors", "pending more than three days → remind
//! the customer; seven days → solve".
//!
//! A rule is either an **event rule** (runs when one of its [`Trigger`]s happens on a
//! ticket) or a **time rule** (runs when a ticket crosses the time mark of its
//! [`Condition`] `hours_… at_least N`: once per crossing, so a ticket pending three days is
//! reminded once, not every minute). Its conditions must all hold on the ticket as it is
//! then; its [`Action`]s run in order.
//!
//! **Loop safety**: what a rule changes is recorded with the chain of rules that led to it
//! ([`Chain`]). A rule never runs on a change its own chain made, and a chain stops after
//! [`MAX_CHAIN`] changes deep — two rules setting the priority back and forth stop at once.

pub mod action;
pub mod condition;

pub use action::{Action, Recipient, Template};
pub use condition::{Condition, Facts, Field, Op, Operand};

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The longest rule name, in characters.
pub const MAX_NAME_CHARS: usize = 120;
/// The most conditions a rule may have.
pub const MAX_CONDITIONS: usize = 30;
/// The most actions a rule may have.
pub const MAX_ACTIONS: usize = 20;
/// The most changes deep a chain of rules goes (a rule's change setting off a rule whose
/// change sets off a rule …).
pub const MAX_CHAIN: usize = 5;

/// The most times one rule runs on one ticket in a day: a backstop against loops through
/// what rules cannot see (routing, a customer's auto-reply, a mark a rule's own change
/// moves).
pub const MAX_RUNS_PER_DAY: i64 = 10;

/// What sets an event rule off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Trigger {
    /// A ticket was created (any channel).
    #[serde(rename = "ticket.created")]
    TicketCreated,
    /// A ticket's fields changed (status, priority, assignee, tags, …).
    #[serde(rename = "ticket.updated")]
    TicketUpdated,
    /// The customer wrote on the ticket.
    #[serde(rename = "customer.replied")]
    CustomerReplied,
    /// An agent (or Rapport) replied to the customer.
    #[serde(rename = "agent.replied")]
    AgentReplied,
    /// An internal note was added (named as the webhook event is).
    #[serde(rename = "note.created")]
    NoteAdded,
    /// An SLA target is about to be breached.
    #[serde(rename = "sla.warning")]
    SlaWarning,
    /// An SLA target was breached.
    #[serde(rename = "sla.breached")]
    SlaBreached,
    /// A promise to the customer comes due.
    #[serde(rename = "promise.due")]
    PromiseDue,
    /// A promise to the customer was broken.
    #[serde(rename = "promise.broken")]
    PromiseBroken,
    /// A snoozed ticket woke.
    #[serde(rename = "snooze.ended")]
    SnoozeEnded,
    /// The customer answered a survey about the ticket (or changed their answer).
    #[serde(rename = "survey.answered")]
    SurveyAnswered,
}

impl Trigger {
    /// Every trigger.
    pub const ALL: &'static [Trigger] = &[
        Trigger::TicketCreated,
        Trigger::TicketUpdated,
        Trigger::CustomerReplied,
        Trigger::AgentReplied,
        Trigger::NoteAdded,
        Trigger::SlaWarning,
        Trigger::SlaBreached,
        Trigger::PromiseDue,
        Trigger::PromiseBroken,
        Trigger::SnoozeEnded,
        Trigger::SurveyAnswered,
    ];

    /// Its wire name (`ticket.created`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::TicketCreated => "ticket.created",
            Trigger::TicketUpdated => "ticket.updated",
            Trigger::CustomerReplied => "customer.replied",
            Trigger::AgentReplied => "agent.replied",
            Trigger::NoteAdded => "note.created",
            Trigger::SlaWarning => "sla.warning",
            Trigger::SlaBreached => "sla.breached",
            Trigger::PromiseDue => "promise.due",
            Trigger::PromiseBroken => "promise.broken",
            Trigger::SnoozeEnded => "snooze.ended",
            Trigger::SurveyAnswered => "survey.answered",
        }
    }

    /// Reads a wire name; the error names `field` and lists the triggers.
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == raw.trim())
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                FieldError::new(field, format!("must be one of: {}", all.join(", ")))
            })
    }
}

/// When a rule runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum When {
    /// On any of these events.
    Events(Vec<Trigger>),
    /// When a ticket crosses the time mark of the rule's [`Rule::mark`] condition.
    Time,
}

/// A rule, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// What people call it.
    pub name: String,
    /// Whether it runs at all.
    pub enabled: bool,
    /// When it runs.
    pub when: When,
    /// What must hold on the ticket (all of them).
    pub conditions: Vec<Condition>,
    /// What it does, in order.
    pub actions: Vec<Action>,
}

impl Rule {
    /// Checks a rule as written: a name of 1–120 characters; an event rule names at least
    /// one trigger; a time rule has a time mark (a condition `hours_… at_least N`); up to
    /// 30 conditions and 1–20 actions, each checked. Errors name the field as the API
    /// spells it (`conditions[2].value`).
    pub fn check(self) -> Result<Self, FieldError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(FieldError::new(
                "name",
                format!("name the rule in 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        if crate::text::has_control(&name) {
            return Err(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        match &self.when {
            When::Events(events) if events.is_empty() => {
                return Err(FieldError::new(
                    "events",
                    "an event rule needs at least one event to run on",
                ));
            }
            _ => {}
        }
        if self.conditions.len() > MAX_CONDITIONS {
            return Err(FieldError::new(
                "conditions",
                format!("at most {MAX_CONDITIONS} conditions"),
            ));
        }
        if self.actions.is_empty() || self.actions.len() > MAX_ACTIONS {
            return Err(FieldError::new(
                "actions",
                format!("give 1 to {MAX_ACTIONS} actions"),
            ));
        }
        let conditions = self
            .conditions
            .into_iter()
            .enumerate()
            .map(|(i, c)| c.check().map_err(|e| e.within(&format!("conditions[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        let s = Self { conditions, ..self };
        for (i, a) in s.actions.iter().enumerate() {
            a.check().map_err(|e| e.within(&format!("actions[{i}]")))?;
        }
        let rule = Self { name, ..s };
        if rule.when == When::Time {
            let marks: Vec<(Field, i64)> =
                rule.conditions.iter().filter_map(Condition::mark).collect();
            match marks.as_slice() {
                [] => {
                    return Err(FieldError::new(
                        "conditions",
                        "a time rule needs a time mark: a condition like hours_in_status at_least 72",
                    ));
                }
                [(_, 0)] => {
                    return Err(FieldError::new(
                        "conditions",
                        "a time rule's mark is at least 1 hour",
                    ));
                }
                [_] => {}
                _ => {
                    return Err(FieldError::new(
                        "conditions",
                        "a time rule has one time mark (one hours_… at_least condition)",
                    ));
                }
            }
        }
        Ok(rule)
    }

    /// A time rule's mark: its `hours_… at_least N` condition (it has exactly one) — the
    /// rule runs on a ticket when that many hours have passed since the field's time.
    pub fn mark(&self) -> Option<(Field, i64)> {
        self.conditions.iter().find_map(Condition::mark)
    }

    /// Whether every condition holds on the ticket.
    pub fn holds(&self, facts: &Facts, now: crate::Timestamp) -> bool {
        self.conditions.iter().all(|c| c.holds(facts, now))
    }

    /// Whether this event rule runs on `trigger`.
    pub fn runs_on(&self, trigger: Trigger) -> bool {
        matches!(&self.when, When::Events(t) if t.contains(&trigger))
    }
}

/// Where a change came from: the rules that ran on the way to it, and how many changes
/// deep the chain is (a person's change is 0 deep). Carried with the change's event, so
/// the rules it sets off know where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    /// The rules that ran, first to last.
    pub rules: Vec<i64>,
    /// Changes made by rules, one after another, that led here.
    pub depth: usize,
}

impl Chain {
    /// Whether rule `id` may run on a change this chain made: not one it made itself (or
    /// set off, or ran on already), and not deeper than [`MAX_CHAIN`] changes. Any number
    /// of rules may run on one person's change, each once.
    pub fn allows(&self, id: i64) -> bool {
        self.depth < MAX_CHAIN && !self.rules.contains(&id)
    }

    /// The chain after rule `id` ran on this change (for the rules after it on the same
    /// change).
    #[must_use]
    pub fn with(&self, id: i64) -> Chain {
        let mut rules = self.rules.clone();
        rules.push(id);
        Chain {
            rules,
            depth: self.depth,
        }
    }

    /// The chain the changes a rule makes carry: one deeper.
    #[must_use]
    pub fn deeper(&self) -> Chain {
        Chain {
            rules: self.rules.clone(),
            depth: self.depth + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_stops_a_rule_on_its_own_change_and_after_five_changes() {
        let c = Chain::default();
        assert!(c.allows(1));
        let c = c.with(1);
        assert!(!c.allows(1));
        assert!(c.allows(2));
        // Many rules on one change: each once.
        let wide = (2..40).fold(c.clone(), |c, id| c.with(id));
        assert!(wide.allows(40) && !wide.allows(39));
        // Changes set off by changes: five deep at most.
        let deep = (0..5).fold(Chain::default(), |c, _| c.deeper());
        assert!(!deep.allows(99));
    }

    #[test]
    fn triggers_read_their_wire_names() {
        for t in Trigger::ALL {
            assert_eq!(Trigger::parse(t.as_str(), "events[0]"), Ok(*t));
        }
        let e = Trigger::parse("ticket.deleted", "events[0]").unwrap_err();
        assert_eq!(e.field, "events[0]");
    }
}
