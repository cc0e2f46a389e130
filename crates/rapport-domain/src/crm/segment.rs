//! Segments: named sets of customers defined by conditions over their attributes, tier,
//! organisation, tickets, orders, points and survey answers — every condition must hold.
//! A segment lists its customers like a view, and later campaigns will use it as their
//! audience. Conditions are checked here against the facts the store gathers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldError;

/// How a value is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal (text compared without case).
    Is,
    /// Not equal, or absent.
    IsNot,
    /// At least (numbers, dates as `YYYY-MM-DD`).
    AtLeast,
    /// At most.
    AtMost,
    /// Text containing (without case).
    Contains,
    /// Present at all.
    IsSet,
}

/// What a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// A custom attribute (`key` names it).
    Attribute,
    /// Their tier.
    Tier,
    /// Their organisation's id.
    OrganizationId,
    /// Tickets they ever opened.
    Tickets,
    /// Their tickets not yet solved or closed.
    OpenTickets,
    /// Days since their latest ticket (absent without one).
    DaysSinceContact,
    /// Orders they placed (cancelled and refunded left out).
    Orders,
    /// Days since their latest order (absent without one).
    DaysSinceOrder,
    /// What their orders came to in `currency` (decimal, cancelled and refunded left out).
    LifetimeValue,
    /// Their reward points balance.
    Points,
    /// Their latest CSAT answer, 1–5.
    LastCsat,
    /// Their latest NPS answer, 0–10.
    LastNps,
}

/// One condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// What it looks at.
    pub field: Field,
    /// For an attribute: its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// For lifetime value: the currency (ISO 4217).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// How.
    pub op: Op,
    /// Against what (absent for `is_set`).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub value: Value,
}

/// The facts of one customer the conditions are checked against.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Custom attributes.
    pub attributes: serde_json::Map<String, Value>,
    /// Tier.
    pub tier: Option<String>,
    /// Organisation.
    pub organization_id: Option<i64>,
    /// Tickets ever.
    pub tickets: i64,
    /// Tickets open.
    pub open_tickets: i64,
    /// Days since the latest ticket.
    pub days_since_contact: Option<i64>,
    /// Orders.
    pub orders: i64,
    /// Days since the latest order.
    pub days_since_order: Option<i64>,
    /// Lifetime value in the segment's currency, as a decimal number.
    pub lifetime_value: Option<f64>,
    /// Points balance.
    pub points: i64,
    /// Latest CSAT.
    pub last_csat: Option<i64>,
    /// Latest NPS.
    pub last_nps: Option<i64>,
}

/// The most conditions one segment holds.
pub const MAX_CONDITIONS: usize = 20;

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Condition {
    /// Checks a condition as written; `field` prefixes the error (`conditions[2]`).
    pub fn check(&self, at: &str) -> Result<(), FieldError> {
        let f = |name: &str| format!("{at}.{name}");
        match self.field {
            Field::Attribute => {
                let key = self.key.as_deref().unwrap_or("");
                super::AttributeKey::parse(&f("key"), key)?;
            }
            _ if self.key.is_some() => {
                return Err(FieldError::new(
                    f("key"),
                    "only an attribute condition has a key",
                ));
            }
            _ => {}
        }
        match (self.field, &self.currency) {
            (Field::LifetimeValue, Some(c)) => {
                crate::commerce::Currency::parse(&f("currency"), c)?;
            }
            (Field::LifetimeValue, None) => {
                return Err(FieldError::new(
                    f("currency"),
                    "lifetime value is in a currency: name it",
                ));
            }
            (_, Some(_)) => {
                return Err(FieldError::new(
                    f("currency"),
                    "only lifetime value has a currency",
                ));
            }
            _ => {}
        }
        let numeric = !matches!(self.field, Field::Attribute | Field::Tier);
        match self.op {
            Op::IsSet if !self.value.is_null() => {
                Err(FieldError::new(f("value"), "is_set takes no value"))
            }
            Op::IsSet => Ok(()),
            Op::Contains if numeric => Err(FieldError::new(f("op"), "contains is for text")),
            _ if self.value.is_null() => Err(FieldError::new(f("value"), "is required")),
            Op::AtLeast | Op::AtMost if number(&self.value).is_none() && numeric => {
                Err(FieldError::new(f("value"), "must be a number"))
            }
            _ if numeric && number(&self.value).is_none() => {
                Err(FieldError::new(f("value"), "must be a number"))
            }
            _ => Ok(()),
        }
    }

    fn actual(&self, facts: &Facts) -> Option<Value> {
        let n = |v: i64| Some(Value::from(v));
        match self.field {
            Field::Attribute => facts
                .attributes
                .get(self.key.as_deref().unwrap_or(""))
                .cloned(),
            Field::Tier => facts.tier.clone().map(Value::String),
            Field::OrganizationId => facts.organization_id.and_then(n),
            Field::Tickets => n(facts.tickets),
            Field::OpenTickets => n(facts.open_tickets),
            Field::DaysSinceContact => facts.days_since_contact.and_then(n),
            Field::Orders => n(facts.orders),
            Field::DaysSinceOrder => facts.days_since_order.and_then(n),
            Field::LifetimeValue => facts.lifetime_value.map(Value::from),
            Field::Points => n(facts.points),
            Field::LastCsat => facts.last_csat.and_then(n),
            Field::LastNps => facts.last_nps.and_then(n),
        }
    }

    /// Whether the customer with these facts meets it.
    pub fn holds(&self, facts: &Facts) -> bool {
        let actual = self.actual(facts).filter(|v| !v.is_null());
        let text = |v: &Value| match v {
            Value::String(s) => s.to_lowercase(),
            other => other.to_string().to_lowercase(),
        };
        match (self.op, actual) {
            (Op::IsSet, a) => a.is_some(),
            (Op::IsNot, None) => true,
            (_, None) => false,
            (Op::Is | Op::IsNot, Some(a)) => {
                let same = match (number(&a), number(&self.value)) {
                    (Some(x), Some(y)) if !matches!(a, Value::String(_)) => x == y,
                    _ => text(&a) == text(&self.value),
                };
                same == (self.op == Op::Is)
            }
            (Op::Contains, Some(a)) => text(&a).contains(&text(&self.value)),
            (Op::AtLeast | Op::AtMost, Some(a)) => {
                let ord = match (number(&a), number(&self.value)) {
                    (Some(x), Some(y)) => x.partial_cmp(&y),
                    // Dates (and other text) compare as written: YYYY-MM-DD sorts by time.
                    _ => Some(text(&a).cmp(&text(&self.value))),
                };
                match (self.op, ord) {
                    (Op::AtLeast, Some(o)) => o != std::cmp::Ordering::Less,
                    (Op::AtMost, Some(o)) => o != std::cmp::Ordering::Greater,
                    _ => false,
                }
            }
        }
    }
}

/// Checks a segment's conditions: 1 to [`MAX_CONDITIONS`], each well-formed, at most one
/// currency for lifetime value.
pub fn check(conditions: &[Condition]) -> Result<(), FieldError> {
    if conditions.is_empty() || conditions.len() > MAX_CONDITIONS {
        return Err(FieldError::new(
            "conditions",
            format!("give 1 to {MAX_CONDITIONS} conditions"),
        ));
    }
    let mut currency: Option<&str> = None;
    for (i, c) in conditions.iter().enumerate() {
        c.check(&format!("conditions[{i}]"))?;
        if let Some(cur) = c.currency.as_deref() {
            if currency.is_some_and(|x| !x.eq_ignore_ascii_case(cur)) {
                return Err(FieldError::new(
                    format!("conditions[{i}].currency"),
                    "a segment measures lifetime value in one currency",
                ));
            }
            currency = Some(cur);
        }
    }
    Ok(())
}

/// The currency a segment measures lifetime value in, if any.
pub fn currency(conditions: &[Condition]) -> Option<String> {
    conditions
        .iter()
        .find_map(|c| c.currency.as_ref().map(|c| c.to_ascii_uppercase()))
}

/// Whether a customer belongs: every condition holds.
pub fn contains(conditions: &[Condition], facts: &Facts) -> bool {
    conditions.iter().all(|c| c.holds(facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(v: Value) -> Condition {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn conditions_hold_on_the_facts() {
        let mut facts = Facts {
            tier: Some("vip".into()),
            tickets: 4,
            open_tickets: 1,
            orders: 3,
            days_since_order: Some(100),
            lifetime_value: Some(250.5),
            points: 40,
            last_nps: Some(3),
            ..Facts::default()
        };
        facts.attributes.insert("plan".into(), json!("pro"));
        facts
            .attributes
            .insert("renewal".into(), json!("2027-01-31"));
        facts.attributes.insert("seats".into(), json!(25));
        for (c, want) in [
            (json!({"field": "tier", "op": "is", "value": "VIP"}), true),
            (
                json!({"field": "attribute", "key": "plan", "op": "is", "value": "pro"}),
                true,
            ),
            (
                json!({"field": "attribute", "key": "plan", "op": "is_not", "value": "pro"}),
                false,
            ),
            (
                json!({"field": "attribute", "key": "colour", "op": "is_not", "value": "red"}),
                true,
            ),
            (
                json!({"field": "attribute", "key": "seats", "op": "at_least", "value": 20}),
                true,
            ),
            (
                json!({"field": "attribute", "key": "renewal", "op": "at_most", "value": "2027-02-01"}),
                true,
            ),
            (
                json!({"field": "attribute", "key": "plan", "op": "contains", "value": "R"}),
                true,
            ),
            (
                json!({"field": "attribute", "key": "colour", "op": "is_set"}),
                false,
            ),
            (
                json!({"field": "lifetime_value", "currency": "EUR", "op": "at_least", "value": "250.50"}),
                true,
            ),
            (
                json!({"field": "days_since_order", "op": "at_least", "value": 90}),
                true,
            ),
            (
                json!({"field": "days_since_contact", "op": "at_most", "value": 7}),
                false,
            ),
            (
                json!({"field": "last_nps", "op": "at_most", "value": 6}),
                true,
            ),
            (
                json!({"field": "last_csat", "op": "at_most", "value": 2}),
                false,
            ),
            (
                json!({"field": "points", "op": "at_least", "value": 41}),
                false,
            ),
            (
                json!({"field": "open_tickets", "op": "is", "value": 1}),
                true,
            ),
        ] {
            let c = cond(c.clone());
            assert!(c.check("c").is_ok(), "{c:?}");
            assert_eq!(c.holds(&facts), want, "{c:?}");
        }
    }

    #[test]
    fn bad_conditions_name_their_field() {
        for (c, field) in [
            (
                json!({"field": "attribute", "op": "is", "value": "x"}),
                "conditions[0].key",
            ),
            (
                json!({"field": "tier", "key": "x", "op": "is", "value": "x"}),
                "conditions[0].key",
            ),
            (
                json!({"field": "lifetime_value", "op": "at_least", "value": 1}),
                "conditions[0].currency",
            ),
            (
                json!({"field": "points", "currency": "EUR", "op": "at_least", "value": 1}),
                "conditions[0].currency",
            ),
            (
                json!({"field": "points", "op": "at_least", "value": "many"}),
                "conditions[0].value",
            ),
            (
                json!({"field": "points", "op": "contains", "value": 1}),
                "conditions[0].op",
            ),
            (json!({"field": "tier", "op": "is"}), "conditions[0].value"),
            (
                json!({"field": "tier", "op": "is_set", "value": "x"}),
                "conditions[0].value",
            ),
        ] {
            assert_eq!(check(&[cond(c.clone())]).unwrap_err().field, field, "{c}");
        }
        assert_eq!(check(&[]).unwrap_err().field, "conditions");
        let two = [
            cond(
                json!({"field": "lifetime_value", "currency": "EUR", "op": "at_least", "value": 1}),
            ),
            cond(
                json!({"field": "lifetime_value", "currency": "USD", "op": "at_least", "value": 1}),
            ),
        ];
        assert_eq!(check(&two).unwrap_err().field, "conditions[1].currency");
    }
}
