//! Email addresses, parsed once at the edge so the rest of the code can trust them.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// A syntactically valid mailbox address (`local@domain`), normalised to lower case so
/// that one customer is one address whatever case they type it in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses `raw`, trimming surrounding white space. Rejects what no mail server would
    /// accept: missing or doubled `@`, empty parts, spaces or control characters, a domain
    /// without a dot, or more than 254 characters.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let err = |m: &str| FieldError::new("email", m);
        let s = raw.trim();
        if s.is_empty() {
            return Err(err("is required"));
        }
        if s.len() > 254 {
            return Err(err("is longer than 254 characters"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| err("must contain an @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(err("must have 1 to 64 characters before the @"));
        }
        if local.contains('@') && !(local.starts_with('"') && local.ends_with('"')) {
            return Err(err("must contain exactly one @"));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        {
            return Err(err("must not contain spaces, commas or angle brackets"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.len() > 63
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err(err("must have a domain like example.com"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(err(
                "must not have a dot at the start or end, or two in a row",
            ));
        }
        Ok(Self(s.to_lowercase()))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> Self {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases() {
        let e = EmailAddress::parse("  Ana.Lopez+orders@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ana.lopez+orders@example.com");
        assert_eq!(e.domain(), "example.com");
    }

    #[test]
    fn rejects_what_mail_servers_reject() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "a@exa mple.com",
            "a@@example.com",
            "a@-example.com",
            ".a@example.com",
            "a..b@example.com",
            "<a@example.com>",
        ] {
            let e = EmailAddress::parse(bad).unwrap_err();
            assert_eq!(e.field, "email", "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_is_idempotent(s in "\\PC{0,80}") {
            if let Ok(e) = EmailAddress::parse(&s) {
                let again = EmailAddress::parse(e.as_str()).unwrap();
                prop_assert_eq!(again, e);
            }
        }

        #[test]
        fn generated_addresses_parse(local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", dom in "[a-z0-9]{1,10}\\.[a-z]{2,6}") {
            prop_assume!(!local.contains(".."));
            let raw = format!("{local}@{dom}");
            prop_assert!(EmailAddress::parse(&raw).is_ok(), "{}", raw);
        }
    }
}
