//! What a rule asks of a ticket: a [`Field`], an [`Op`] and an [`Operand`], checked once
//! when the rule is written so a running rule never meets a condition it cannot read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::{Channel, Priority, TicketStatus, Timestamp};

/// The most hours a time condition may name (ten years).
pub const MAX_HOURS: i64 = 87_600;

/// A ticket as rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Its status.
    pub status: TicketStatus,
    /// Its priority.
    pub priority: Priority,
    /// Its category slug.
    pub category: Option<String>,
    /// Where it came in.
    pub channel: Channel,
    /// Its team.
    pub team_id: Option<i64>,
    /// Its owner.
    pub assignee_id: Option<i64>,
    /// The customer's organisation.
    pub organization_id: Option<i64>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its subject.
    pub subject: String,
    /// The customer's email address.
    pub customer_email: Option<String>,
    /// The customer's tier (their `tier` attribute, or their organisation's).
    pub customer_tier: Option<String>,
    /// Whether the customer takes check-in messages.
    pub customer_check_ins: bool,
    /// Custom field values, as text.
    pub custom: BTreeMap<String, String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When its status last changed.
    pub status_since: Timestamp,
    /// When it was last solved.
    pub solved_at: Option<Timestamp>,
    /// The latest survey answer about it: CSAT, CES, NPS and the comment.
    pub survey: SurveyFacts,
}

/// The latest survey answer about a ticket (none: all `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SurveyFacts {
    /// CSAT, 1–5.
    pub csat: Option<i64>,
    /// CES, 1–7.
    pub ces: Option<i64>,
    /// NPS, 0–10.
    pub nps: Option<i64>,
    /// The comment.
    pub comment: Option<String>,
}

/// What a condition reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Field {
    /// `status`.
    Status,
    /// `priority` (ordered: `at_least high`).
    Priority,
    /// `category` (a slug).
    Category,
    /// `channel`.
    Channel,
    /// `team_id`.
    TeamId,
    /// `assignee_id`.
    AssigneeId,
    /// `organization_id` (the customer's).
    OrganizationId,
    /// `tags` (`contains` any of the values).
    Tags,
    /// `subject`.
    Subject,
    /// `customer_email`.
    CustomerEmail,
    /// `customer_tier`.
    CustomerTier,
    /// `customer_check_ins` (`is "on"` / `is "off"`).
    CustomerCheckIns,
    /// `hours_since_created`.
    HoursSinceCreated,
    /// `hours_since_updated`.
    HoursSinceUpdated,
    /// `hours_in_status`: since the status last changed.
    HoursInStatus,
    /// `hours_since_solved`.
    HoursSinceSolved,
    /// `survey_csat`: the latest survey's CSAT, 1–5.
    SurveyCsat,
    /// `survey_ces`: its CES, 1–7.
    SurveyCes,
    /// `survey_nps`: its NPS, 0–10.
    SurveyNps,
    /// `field.<key>`: a custom field.
    Custom(String),
}

impl Field {
    /// The fields with fixed names.
    pub const NAMED: &'static [(&'static str, Field)] = &[
        ("status", Field::Status),
        ("priority", Field::Priority),
        ("category", Field::Category),
        ("channel", Field::Channel),
        ("team_id", Field::TeamId),
        ("assignee_id", Field::AssigneeId),
        ("organization_id", Field::OrganizationId),
        ("tags", Field::Tags),
        ("subject", Field::Subject),
        ("customer_email", Field::CustomerEmail),
        ("customer_tier", Field::CustomerTier),
        ("customer_check_ins", Field::CustomerCheckIns),
        ("hours_since_created", Field::HoursSinceCreated),
        ("hours_since_updated", Field::HoursSinceUpdated),
        ("hours_in_status", Field::HoursInStatus),
        ("hours_since_solved", Field::HoursSinceSolved),
        ("survey_csat", Field::SurveyCsat),
        ("survey_ces", Field::SurveyCes),
        ("survey_nps", Field::SurveyNps),
    ];

    /// Its name in a rule.
    pub fn name(&self) -> String {
        match self {
            Field::Custom(k) => format!("field.{k}"),
            f => Self::NAMED
                .iter()
                .find(|(_, g)| g == f)
                .map(|(n, _)| (*n).to_owned())
                .unwrap_or_default(),
        }
    }

    /// Reads a field name.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if let Some(key) = raw.strip_prefix("field.") {
            let ok = !key.is_empty()
                && key.len() <= 40
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            return if ok {
                Ok(Field::Custom(key.to_owned()))
            } else {
                Err(FieldError::new("field", "a custom field is field.<key>"))
            };
        }
        Self::NAMED
            .iter()
            .find(|(n, _)| *n == raw)
            .map(|(_, f)| f.clone())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMED.iter().map(|(n, _)| *n).collect();
                FieldError::new(
                    "field",
                    format!("must be one of: {}, or field.<key>", names.join(", ")),
                )
            })
    }

    /// Whether it is a time since something, in hours.
    pub fn is_hours(&self) -> bool {
        matches!(
            self,
            Field::HoursSinceCreated
                | Field::HoursSinceUpdated
                | Field::HoursInStatus
                | Field::HoursSinceSolved
        )
    }

    /// A survey rating field's question.
    pub fn scale(&self) -> Option<crate::survey::Question> {
        use crate::survey::Question;
        match self {
            Field::SurveyCsat => Some(Question::Csat),
            Field::SurveyCes => Some(Question::Ces),
            Field::SurveyNps => Some(Question::Nps),
            _ => None,
        }
    }

    /// A survey rating field's value on this ticket (`None`: not a rating field; `Some(None)`:
    /// not rated).
    pub fn rating(&self, f: &Facts) -> Option<Option<i64>> {
        match self {
            Field::SurveyCsat => Some(f.survey.csat),
            Field::SurveyCes => Some(f.survey.ces),
            Field::SurveyNps => Some(f.survey.nps),
            _ => None,
        }
    }

    /// Whether it is a survey rating.
    fn is_rating(&self) -> bool {
        self.scale().is_some()
    }

    /// The time an hours field counts from, on this ticket.
    pub fn since(&self, f: &Facts) -> Option<Timestamp> {
        match self {
            Field::HoursSinceCreated => Some(f.created_at),
            Field::HoursSinceUpdated => Some(f.updated_at),
            Field::HoursInStatus => Some(f.status_since),
            Field::HoursSinceSolved => f.solved_at,
            _ => None,
        }
    }

    fn ops(&self) -> &'static [Op] {
        use Op::*;
        match self {
            Field::Status | Field::Channel | Field::CustomerCheckIns => &[Is, IsNot, In, NotIn],
            Field::Priority => &[Is, IsNot, In, NotIn, AtLeast, AtMost],
            Field::TeamId | Field::AssigneeId | Field::OrganizationId => {
                &[Is, IsNot, In, NotIn, Set, NotSet]
            }
            Field::Tags => &[Contains, NotContains, Set, NotSet],
            Field::SurveyCsat | Field::SurveyCes | Field::SurveyNps => {
                &[Is, IsNot, AtLeast, AtMost, Set, NotSet]
            }
            Field::Category
            | Field::Subject
            | Field::CustomerEmail
            | Field::CustomerTier
            | Field::Custom(_) => &[Is, IsNot, In, NotIn, Contains, NotContains, Set, NotSet],
            _ => &[AtLeast, AtMost],
        }
    }
}

impl TryFrom<String> for Field {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Field::parse(&s)
    }
}

impl From<Field> for String {
    fn from(f: Field) -> String {
        f.name()
    }
}

/// How a condition compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal to the value (case-insensitive for text).
    Is,
    /// Not equal.
    IsNot,
    /// Equal to one of a list.
    In,
    /// Equal to none of a list.
    NotIn,
    /// Text containing the value; tags including any of the values.
    Contains,
    /// The opposite of `contains`.
    NotContains,
    /// At least (hours, priority).
    AtLeast,
    /// At most.
    AtMost,
    /// Has a value.
    Set,
    /// Has none.
    NotSet,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Is => "is",
            Op::IsNot => "is_not",
            Op::In => "in",
            Op::NotIn => "not_in",
            Op::Contains => "contains",
            Op::NotContains => "not_contains",
            Op::AtLeast => "at_least",
            Op::AtMost => "at_most",
            Op::Set => "set",
            Op::NotSet => "not_set",
        }
    }
}

/// A condition's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Operand {
    /// A number (hours, an id).
    Number(i64),
    /// A text.
    Text(String),
    /// Several values.
    List(Vec<Operand>),
}

impl Operand {
    fn texts(&self) -> Vec<String> {
        match self {
            Operand::Number(n) => vec![n.to_string()],
            Operand::Text(t) => vec![t.trim().to_lowercase()],
            Operand::List(l) => l.iter().flat_map(Operand::texts).collect(),
        }
    }
}

/// One condition, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// What it reads.
    pub field: Field,
    /// How it compares.
    pub op: Op,
    /// With what (none for `set` and `not_set`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Operand>,
}

impl Condition {
    /// Checks a condition: the op suits the field, and the value suits both (a status
    /// that exists, a whole number of hours up to ten years, a list for `in`). Errors name
    /// `field`, `op` or `value`.
    pub fn check(self) -> Result<Self, FieldError> {
        let allowed = self.field.ops();
        if !allowed.contains(&self.op) {
            let names: Vec<&str> = allowed.iter().map(|o| o.name()).collect();
            return Err(FieldError::new(
                "op",
                format!("{} takes: {}", self.field.name(), names.join(", ")),
            ));
        }
        let value = |m: &str| FieldError::new("value", m.to_owned());
        match (&self.op, &self.value) {
            (Op::Set | Op::NotSet, None) => return Ok(self),
            (Op::Set | Op::NotSet, Some(_)) => return Err(value("set and not_set take no value")),
            (_, None) => return Err(value("is required")),
            (Op::In | Op::NotIn, Some(Operand::List(l))) if !l.is_empty() && l.len() <= 100 => {}
            (Op::In | Op::NotIn, _) => return Err(value("give a list of 1 to 100 values")),
            (_, Some(Operand::List(_))) if self.field != Field::Tags => {
                return Err(value("give one value (a list only with in and not_in)"));
            }
            _ => {}
        }
        let Some(v) = &self.value else {
            return Ok(self);
        };
        let items: Vec<&Operand> = match v {
            Operand::List(l) => l.iter().collect(),
            one => vec![one],
        };
        for item in items {
            match (&self.field, item) {
                (_, Operand::List(_)) => return Err(value("lists do not nest")),
                (f, Operand::Number(n)) if f.is_hours() => {
                    if !(0..=MAX_HOURS).contains(n) {
                        return Err(value("hours from 0 to 87600"));
                    }
                }
                (f, _) if f.is_hours() => return Err(value("a whole number of hours")),
                (f, Operand::Number(n)) if f.is_rating() => {
                    if let Some(q) = f.scale() {
                        q.rating(*n, "value")?;
                    }
                }
                (f, _) if f.is_rating() => return Err(value("a rating (a whole number)")),
                (Field::TeamId | Field::AssigneeId | Field::OrganizationId, Operand::Number(_)) => {
                }
                (Field::TeamId | Field::AssigneeId | Field::OrganizationId, _) => {
                    return Err(value("an id (a number)"));
                }
                (Field::Status, Operand::Text(t)) => {
                    TicketStatus::parse(t).map_err(|e| value(&e.message))?;
                }
                (Field::Priority, Operand::Text(t)) => {
                    Priority::parse(t).map_err(|e| value(&e.message))?;
                }
                (Field::Channel, Operand::Text(t)) => {
                    Channel::parse(t).map_err(|e| value(&e.message))?;
                }
                (Field::CustomerCheckIns, Operand::Text(t)) => {
                    if !matches!(t.trim(), "on" | "off") {
                        return Err(value("on or off"));
                    }
                }
                (_, Operand::Text(t)) => {
                    if t.trim().is_empty() || t.chars().count() > 200 {
                        return Err(value("a text of 1 to 200 characters"));
                    }
                }
                (_, Operand::Number(_)) => return Err(value("a text")),
            }
        }
        Ok(self)
    }

    /// A time rule's mark, if this is one: `hours_… at_least N`.
    pub fn mark(&self) -> Option<(Field, i64)> {
        match (&self.op, &self.value) {
            (Op::AtLeast, Some(Operand::Number(n))) if self.field.is_hours() => {
                Some((self.field.clone(), *n))
            }
            _ => None,
        }
    }

    /// Whether it holds on the ticket at `now`.
    pub fn holds(&self, f: &Facts, now: Timestamp) -> bool {
        if self.field.is_hours() {
            let Some(since) = self.field.since(f) else {
                return false;
            };
            let Some(Operand::Number(n)) = &self.value else {
                return false;
            };
            let hours_passed = now.0.saturating_sub(since.0);
            let mark = n.saturating_mul(3_600_000_000);
            return match self.op {
                Op::AtLeast => hours_passed >= mark,
                Op::AtMost => hours_passed <= mark,
                _ => false,
            };
        }
        if let Some(actual) = self.field.rating(f) {
            let wanted = match &self.value {
                Some(Operand::Number(n)) => Some(*n),
                _ => None,
            };
            return match (self.op, actual, wanted) {
                (Op::Set, a, _) => a.is_some(),
                (Op::NotSet, a, _) => a.is_none(),
                (Op::Is, Some(a), Some(w)) => a == w,
                (Op::IsNot, Some(a), Some(w)) => a != w,
                (Op::AtLeast, Some(a), Some(w)) => a >= w,
                (Op::AtMost, Some(a), Some(w)) => a <= w,
                _ => false,
            };
        }
        if self.field == Field::Priority && matches!(self.op, Op::AtLeast | Op::AtMost) {
            let Some(Operand::Text(t)) = &self.value else {
                return false;
            };
            let Ok(p) = Priority::parse(t) else {
                return false;
            };
            return match self.op {
                Op::AtLeast => f.priority.rank() >= p.rank(),
                _ => f.priority.rank() <= p.rank(),
            };
        }
        let actual: Vec<String> = match &self.field {
            Field::Status => vec![f.status.as_str().to_owned()],
            Field::Priority => vec![f.priority.as_str().to_owned()],
            Field::Channel => vec![f.channel.as_str().to_owned()],
            Field::Category => f.category.iter().cloned().collect(),
            Field::TeamId => f.team_id.iter().map(i64::to_string).collect(),
            Field::AssigneeId => f.assignee_id.iter().map(i64::to_string).collect(),
            Field::OrganizationId => f.organization_id.iter().map(i64::to_string).collect(),
            Field::Tags => f.tags.iter().map(|t| t.to_lowercase()).collect(),
            Field::Subject => vec![f.subject.clone()],
            Field::CustomerEmail => f.customer_email.iter().cloned().collect(),
            Field::CustomerTier => f.customer_tier.iter().cloned().collect(),
            Field::CustomerCheckIns => {
                vec![if f.customer_check_ins { "on" } else { "off" }.to_owned()]
            }
            Field::Custom(k) => f.custom.get(k).iter().map(|v| (*v).clone()).collect(),
            _ => Vec::new(),
        };
        let actual: Vec<String> = actual.iter().map(|a| a.trim().to_lowercase()).collect();
        let wanted = self.value.as_ref().map(Operand::texts).unwrap_or_default();
        let equal = |w: &String| actual.iter().any(|a| a == w);
        let contains = |w: &String| {
            if self.field == Field::Tags {
                actual.iter().any(|a| a == w)
            } else {
                actual.iter().any(|a| a.contains(w.as_str()))
            }
        };
        match self.op {
            Op::Set => !actual.is_empty(),
            Op::NotSet => actual.is_empty(),
            Op::Is | Op::In => wanted.iter().any(equal),
            Op::IsNot | Op::NotIn => !wanted.iter().any(equal),
            Op::Contains => wanted.iter().any(contains),
            Op::NotContains => !wanted.iter().any(contains),
            Op::AtLeast | Op::AtMost => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            status: TicketStatus::Pending,
            priority: Priority::High,
            category: Some("billing".into()),
            channel: Channel::Email,
            team_id: Some(3),
            assignee_id: None,
            organization_id: None,
            tags: vec!["VIP".into(), "refund".into()],
            subject: "Charged twice for my order".into(),
            customer_email: Some("ana@example.com".into()),
            customer_tier: Some("gold".into()),
            customer_check_ins: true,
            custom: BTreeMap::from([("plan".to_owned(), "Pro".to_owned())]),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            status_since: Timestamp(10 * 3_600_000_000),
            solved_at: None,
            survey: SurveyFacts::default(),
        }
    }

    fn cond(field: &str, op: Op, value: Option<Operand>) -> Result<Condition, FieldError> {
        Condition {
            field: Field::parse(field)?,
            op,
            value,
        }
        .check()
    }

    fn text(t: &str) -> Option<Operand> {
        Some(Operand::Text(t.into()))
    }

    #[test]
    fn conditions_read_the_ticket() {
        let f = facts();
        let now = Timestamp(82 * 3_600_000_000);
        let yes = [
            cond("status", Op::Is, text("Pending")),
            cond("priority", Op::AtLeast, text("high")),
            cond("priority", Op::AtMost, text("urgent")),
            cond(
                "category",
                Op::In,
                Some(Operand::List(vec![Operand::Text("billing".into())])),
            ),
            cond("tags", Op::Contains, text("vip")),
            cond("subject", Op::Contains, text("charged twice")),
            cond("assignee_id", Op::NotSet, None),
            cond("team_id", Op::Is, Some(Operand::Number(3))),
            cond("hours_in_status", Op::AtLeast, Some(Operand::Number(72))),
            cond(
                "hours_since_created",
                Op::AtLeast,
                Some(Operand::Number(82)),
            ),
            cond("field.plan", Op::Is, text("pro")),
            cond("customer_check_ins", Op::Is, text("on")),
        ];
        for c in yes {
            let c = c.unwrap();
            assert!(c.holds(&f, now), "{c:?}");
        }
        let no = [
            cond("status", Op::IsNot, text("pending")),
            cond("priority", Op::AtLeast, text("urgent")),
            cond("tags", Op::NotContains, text("refund")),
            cond("hours_in_status", Op::AtLeast, Some(Operand::Number(73))),
            cond("hours_since_solved", Op::AtLeast, Some(Operand::Number(0))),
            cond("field.missing", Op::Set, None),
        ];
        for c in no {
            let c = c.unwrap();
            assert!(!c.holds(&f, now), "{c:?}");
        }
    }

    #[test]
    fn conditions_that_cannot_be_read_are_refused_naming_the_part() {
        let e = cond("status", Op::Is, text("lost")).unwrap_err();
        assert_eq!(e.field, "value");
        let e = cond("status", Op::Contains, text("open")).unwrap_err();
        assert_eq!(e.field, "op");
        let e = cond("hours_in_status", Op::AtLeast, text("3 days")).unwrap_err();
        assert_eq!(e.field, "value");
        let e = cond("hours_in_status", Op::AtLeast, Some(Operand::Number(-1))).unwrap_err();
        assert_eq!(e.field, "value");
        let e = cond("status", Op::In, text("open")).unwrap_err();
        assert_eq!(e.field, "value");
        assert_eq!(Field::parse("colour").unwrap_err().field, "field");
        assert_eq!(Field::parse("field.Bad Key").unwrap_err().field, "field");
    }
}
