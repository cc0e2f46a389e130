//! Typed custom attributes on customers and organisations: an admin defines each one
//! (its key, label and kind — text, number, date or one of a list of choices), and every
//! value written is checked against its definition. A value of `null` removes it.

use serde_json::{Map, Value};

use crate::error::FieldError;

/// What an attribute belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeTarget {
    /// A customer (contact).
    Customer,
    /// An organisation.
    Organization,
}

impl AttributeTarget {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Organization => "organization",
        }
    }

    /// Reads a spelling; `field` names it in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "customer" => Ok(Self::Customer),
            "organization" | "organisation" => Ok(Self::Organization),
            _ => Err(FieldError::new(field, "must be customer or organization")),
        }
    }
}

/// An attribute's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeKind {
    /// Up to 1,000 characters.
    Text,
    /// A finite number.
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of the definition's choices.
    Choice,
}

impl AttributeKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Date => "date",
            Self::Choice => "choice",
        }
    }

    /// Reads a spelling; `field` names it in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "text" => Ok(Self::Text),
            "number" => Ok(Self::Number),
            "date" => Ok(Self::Date),
            "choice" => Ok(Self::Choice),
            _ => Err(FieldError::new(
                field,
                "must be text, number, date or choice",
            )),
        }
    }
}

/// An attribute's key: 1 to 40 lower-case letters, digits and underscores, starting
/// with a letter (`plan`, `contract_end`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributeKey(String);

impl AttributeKey {
    /// Reads a key; `field` names it in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let ok = (1..=40).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(FieldError::new(
                field,
                "a key is 1 to 40 lower-case letters, digits and underscores, starting with a letter",
            ));
        }
        // A customer's tier is set by a supervisor (`customers.tier`), never as an
        // attribute anyone who edits customers could write.
        if raw == "tier" {
            return Err(FieldError::new(
                field,
                "tier is reserved: set a customer's tier itself",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest text value.
pub const MAX_TEXT: usize = 1_000;
/// The most choices one attribute offers.
pub const MAX_CHOICES: usize = 100;

/// One attribute's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDef {
    /// Its key.
    pub key: AttributeKey,
    /// What people see (1 to 100 characters).
    pub label: String,
    /// Its type.
    pub kind: AttributeKind,
    /// For a choice: the values allowed (distinct, each 1 to 100 characters).
    pub choices: Vec<String>,
}

impl AttributeDef {
    /// Checks a definition as a whole: a label, and choices exactly when it is a choice.
    pub fn new(
        key: AttributeKey,
        label: &str,
        kind: AttributeKind,
        choices: Vec<String>,
    ) -> Result<Self, FieldError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(FieldError::new("label", "must be 1 to 100 characters"));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in choices.iter().enumerate() {
            let f = format!("choices[{i}]");
            if c.trim() != c || c.is_empty() || c.chars().count() > 100 {
                return Err(FieldError::new(
                    f,
                    "a choice is 1 to 100 characters, no outer spaces",
                ));
            }
            if !seen.insert(c.as_str()) {
                return Err(FieldError::new(f, "is listed twice"));
            }
        }
        match kind {
            AttributeKind::Choice if choices.is_empty() || choices.len() > MAX_CHOICES => Err(
                FieldError::new("choices", format!("list 1 to {MAX_CHOICES} choices")),
            ),
            AttributeKind::Choice => Ok(Self {
                key,
                label: label.to_owned(),
                kind,
                choices,
            }),
            _ if !choices.is_empty() => Err(FieldError::new(
                "choices",
                "only a choice attribute has choices",
            )),
            _ => Ok(Self {
                key,
                label: label.to_owned(),
                kind,
                choices,
            }),
        }
    }

    /// Checks one value; `field` names it in the error. Returns it as stored (text
    /// trimmed, dates in `YYYY-MM-DD`).
    pub fn check(&self, field: &str, v: &Value) -> Result<Value, FieldError> {
        match (self.kind, v) {
            (AttributeKind::Text, Value::String(s)) => {
                let t = s.trim();
                if t.chars().count() > MAX_TEXT || t.chars().any(|c| c.is_control() && c != '\n') {
                    Err(FieldError::new(
                        field,
                        format!("text of at most {MAX_TEXT} characters, no control characters"),
                    ))
                } else {
                    Ok(Value::String(t.to_owned()))
                }
            }
            (AttributeKind::Number, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {
                Ok(v.clone())
            }
            (AttributeKind::Date, Value::String(s)) => {
                let d: jiff::civil::Date = s
                    .trim()
                    .parse()
                    .map_err(|_| FieldError::new(field, "must be a date, YYYY-MM-DD"))?;
                Ok(Value::String(d.to_string()))
            }
            (AttributeKind::Choice, Value::String(s)) if self.choices.iter().any(|c| c == s) => {
                Ok(v.clone())
            }
            (AttributeKind::Choice, _) => Err(FieldError::new(
                field,
                format!("must be one of: {}", self.choices.join(", ")),
            )),
            (kind, _) => Err(FieldError::new(
                field,
                format!("must be a {}", kind.as_str()),
            )),
        }
    }

    /// Reads a value written as text (a CSV cell): numbers parsed, the rest as text, an
    /// empty cell as no value.
    pub fn check_text(&self, field: &str, raw: &str) -> Result<Option<Value>, FieldError> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let v = match self.kind {
            AttributeKind::Number => {
                let n: f64 = t
                    .parse()
                    .map_err(|_| FieldError::new(field, "must be a number"))?;
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .ok_or_else(|| FieldError::new(field, "must be a finite number"))?
            }
            _ => Value::String(t.to_owned()),
        };
        self.check(field, &v).map(Some)
    }
}

/// Applies a change to stored attributes: each key of `change` must be defined; `null`
/// removes it, anything else is checked against its definition. Errors name the field as
/// `attributes.<key>`.
pub fn apply(
    defs: &[AttributeDef],
    stored: &Map<String, Value>,
    change: &Map<String, Value>,
) -> Result<Map<String, Value>, FieldError> {
    let mut out = stored.clone();
    for (k, v) in change {
        let field = format!("attributes.{k}");
        let def = defs
            .iter()
            .find(|d| d.key.as_str() == k)
            .ok_or_else(|| FieldError::new(&field, "no attribute has this key; define it first"))?;
        if v.is_null() {
            out.remove(k);
        } else {
            out.insert(k.clone(), def.check(&field, v)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Vec<AttributeDef> {
        let k = |s| AttributeKey::parse("key", s).unwrap();
        vec![
            AttributeDef::new(
                k("plan"),
                "Plan",
                AttributeKind::Choice,
                vec!["free".into(), "pro".into()],
            )
            .unwrap(),
            AttributeDef::new(k("seats"), "Seats", AttributeKind::Number, vec![]).unwrap(),
            AttributeDef::new(k("renewal"), "Renewal", AttributeKind::Date, vec![]).unwrap(),
            AttributeDef::new(k("note"), "Note", AttributeKind::Text, vec![]).unwrap(),
        ]
    }

    #[test]
    fn values_are_checked_against_their_definition() {
        let d = defs();
        let stored = json!({"plan": "free", "note": "x"});
        let change = json!({"plan": "pro", "seats": 12, "renewal": "2027-03-01", "note": null});
        let out = apply(&d, stored.as_object().unwrap(), change.as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"plan": "pro", "seats": 12, "renewal": "2027-03-01"})
        );
        for (bad, field) in [
            (json!({"plan": "gold"}), "attributes.plan"),
            (json!({"seats": "12"}), "attributes.seats"),
            (json!({"renewal": "2027-02-30"}), "attributes.renewal"),
            (json!({"note": 5}), "attributes.note"),
            (json!({"colour": "red"}), "attributes.colour"),
        ] {
            let e = apply(&d, &Map::new(), bad.as_object().unwrap()).unwrap_err();
            assert_eq!(e.field, field, "{bad}");
        }
    }

    #[test]
    fn csv_cells_are_read_by_kind() {
        let d = defs();
        assert_eq!(d[1].check_text("s", " 7.5 ").unwrap(), Some(json!(7.5)));
        assert_eq!(d[1].check_text("s", "").unwrap(), None);
        assert!(d[1].check_text("s", "many").is_err());
        assert!(d[1].check_text("s", "NaN").is_err());
        assert_eq!(d[0].check_text("p", "pro").unwrap(), Some(json!("pro")));
    }

    #[test]
    fn definitions_are_whole() {
        let k = AttributeKey::parse("key", "plan").unwrap();
        assert!(AttributeDef::new(k.clone(), "Plan", AttributeKind::Choice, vec![]).is_err());
        assert!(
            AttributeDef::new(k.clone(), "Plan", AttributeKind::Text, vec!["a".into()]).is_err()
        );
        assert!(
            AttributeDef::new(
                k.clone(),
                "Plan",
                AttributeKind::Choice,
                vec!["a".into(), "a".into()]
            )
            .is_err()
        );
        assert!(AttributeDef::new(k, " ", AttributeKind::Text, vec![]).is_err());
        assert!(AttributeKey::parse("key", "Plan").is_err());
        assert!(AttributeKey::parse("key", "_p").is_err());
        assert!(AttributeKey::parse("key", "").is_err());
        assert!(AttributeKey::parse("key", "tier").is_err());
    }
}
