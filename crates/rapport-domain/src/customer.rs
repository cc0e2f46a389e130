//! A customer's name, whichever channel it came in on. The portal and the API refuse a
//! name that breaks the rules (the person can fix it); a mail display name is cleaned
//! and cut instead, because a message cannot be refused politely for its sender's name.

use std::fmt;

use serde::Serialize;

use crate::FieldError;
use crate::text::has_control;

/// A customer's name: trimmed, not blank, at most [`CustomerName::MAX_CHARS`] characters,
/// no control characters (line breaks and tabs included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerName(String);

impl CustomerName {
    /// The longest name kept, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Parses a name typed by a person (API, portal): `None` when blank; an error naming
    /// `name` when it is too long or holds control characters.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "name",
                format!("is longer than {} characters", Self::MAX_CHARS),
            ));
        }
        if has_control(s) {
            return Err(FieldError::new(
                "name",
                "must not contain control characters (line breaks, tabs, NUL)",
            ));
        }
        Ok(Some(Self(s.to_owned())))
    }

    /// Cleans a name found in mail (a display name): control characters become spaces,
    /// runs of white space one space, and the result is cut to [`Self::MAX_CHARS`]
    /// characters. Never refuses; `None` when nothing is left.
    pub fn from_mail(raw: &str) -> Option<Self> {
        let s: String = crate::text::fold_controls(raw)
            .chars()
            .take(Self::MAX_CHARS)
            .collect();
        let s = s.trim();
        (!s.is_empty()).then(|| Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn typed_names_are_trimmed_bounded_and_clean() {
        assert_eq!(
            CustomerName::parse("  Ana  ").unwrap().unwrap().as_str(),
            "Ana"
        );
        assert_eq!(CustomerName::parse(" \t ").unwrap(), None);
        assert!(CustomerName::parse(&"é".repeat(200)).unwrap().is_some());
        assert_eq!(
            CustomerName::parse(&"é".repeat(201)).unwrap_err().field,
            "name"
        );
        assert_eq!(CustomerName::parse("Ana\0").unwrap_err().field, "name");
        assert_eq!(CustomerName::parse("Ana\nSmith").unwrap_err().field, "name");
        assert_eq!(
            CustomerName::parse("Smith, John \"JJ\" Müller")
                .unwrap()
                .unwrap()
                .as_str(),
            "Smith, John \"JJ\" Müller"
        );
    }

    #[test]
    fn mail_names_are_cut_and_cleaned_never_refused() {
        let long = CustomerName::from_mail(&"x".repeat(5_000)).unwrap();
        assert_eq!(long.as_str().chars().count(), CustomerName::MAX_CHARS);
        assert_eq!(
            CustomerName::from_mail("Ana\r\n\t\u{7}Garcia\0")
                .unwrap()
                .as_str(),
            "Ana Garcia"
        );
        assert_eq!(CustomerName::from_mail("\0\u{1b} "), None);
    }

    proptest! {
        #[test]
        fn mail_names_always_obey_the_typed_rules(s in "\\PC{0,400}|[\\x00-\\x1f a-z]{0,400}") {
            if let Some(n) = CustomerName::from_mail(&s) {
                prop_assert_eq!(CustomerName::parse(n.as_str()).unwrap(), Some(n));
            }
        }
    }
}
