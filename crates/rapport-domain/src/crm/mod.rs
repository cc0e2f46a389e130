//! The CRM's rules: a customer's typed custom attributes, their dates (birthdays and
//! anniversaries), their tier, the CSV rows an import reads, and the churn-risk signal
//! explained in words. The timeline and the records themselves live in the store.

pub mod attributes;
pub mod churn;
pub mod dates;
pub mod import;
pub mod segment;

pub use attributes::{AttributeDef, AttributeKey, AttributeKind, AttributeTarget};
pub use churn::{ChurnRisk, ChurnSignals, RiskLevel};
pub use dates::Birthday;

use crate::error::FieldError;

/// A customer's tier (`vip`, `gold`, …): a short lower-case slug, or none. Routing and SLA
/// policies match on it, so VIPs get dedicated support.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tier(String);

impl Tier {
    /// Reads a tier: 1 to 32 lower-case letters, digits and dashes, starting with a letter.
    /// Upper case is folded (`VIP` is `vip`).
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let t = raw.trim().to_ascii_lowercase();
        let ok = (1..=32).contains(&t.len())
            && t.starts_with(|c: char| c.is_ascii_lowercase())
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(t))
        } else {
            Err(FieldError::new(
                field,
                "a tier is 1 to 32 letters, digits and dashes, starting with a letter (vip)",
            ))
        }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks an organisation's name: 1 to 200 characters, no control characters.
pub fn organization_name(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return Err(FieldError::new(field, "must be 1 to 200 characters"));
    }
    if t.chars().any(char::is_control) {
        return Err(FieldError::new(field, "no control characters"));
    }
    Ok(t.to_owned())
}

/// Checks an organisation's e-mail domain (`example.com`): lower-cased, labels of letters,
/// digits and dashes, at least one dot. Customers who write in from it join it.
pub fn organization_domain(field: &str, raw: &str) -> Result<String, FieldError> {
    let d = raw.trim().trim_start_matches('@').to_ascii_lowercase();
    let labels_ok = d.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if d.len() > 253 || !d.contains('.') || !labels_ok {
        return Err(FieldError::new(
            field,
            "must be a domain such as example.com",
        ));
    }
    Ok(d)
}

/// Checks a phone number: up to 40 characters of digits, spaces and `+()-./`, with at
/// least five digits. An empty one means none.
pub fn phone(field: &str, raw: &str) -> Result<Option<String>, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let ok = t.chars().count() <= 40
        && digits >= 5
        && t.chars()
            .all(|c| c.is_ascii_digit() || " +()-./".contains(c));
    if ok {
        Ok(Some(t.to_owned()))
    } else {
        Err(FieldError::new(
            field,
            "a phone number is digits with spaces or + ( ) - . / (at least five digits)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_domains_and_phones_are_checked() {
        assert_eq!(Tier::parse("tier", " VIP ").unwrap().as_str(), "vip");
        assert!(Tier::parse("tier", "").is_err());
        assert!(Tier::parse("tier", "1st").is_err());
        assert!(Tier::parse("tier", "vip gold").is_err());
        assert_eq!(
            organization_domain("d", "@Example.COM").unwrap(),
            "example.com"
        );
        assert!(organization_domain("d", "localhost").is_err());
        assert!(organization_domain("d", "a..b").is_err());
        assert!(organization_domain("d", "-a.com").is_err());
        assert_eq!(phone("p", "").unwrap(), None);
        assert_eq!(
            phone("p", "+49 (30) 123-45").unwrap().as_deref(),
            Some("+49 (30) 123-45")
        );
        assert!(phone("p", "call me").is_err());
        assert!(phone("p", "12").is_err());
        assert!(organization_name("n", "  ").is_err());
        assert_eq!(organization_name("n", " Acme ").unwrap(), "Acme");
    }
}
