//! The one rule a new password must meet: 10 to 1,024 characters. The upper bound exists
//! because Argon2 hashes all of its input, so an unbounded password would let one request
//! buy unbounded work. The API, the CLI, the admin pages and the preferences page all
//! parse new passwords through [`NewPassword`].

use crate::error::FieldError;

/// A password that meets the length rule (not yet hashed).
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

impl NewPassword {
    /// The least number of characters.
    pub const MIN: usize = 10;
    /// The most characters.
    pub const MAX: usize = 1024;

    /// Checks `raw` against the rule; a refusal names `field`.
    pub fn parse(field: &str, raw: String) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if (Self::MIN..=Self::MAX).contains(&n) {
            Ok(Self(raw))
        } else {
            Err(FieldError::new(field, Self::rule()))
        }
    }

    /// The rule, as the refusal states it.
    pub fn rule() -> String {
        format!("must be {} to {} characters", Self::MIN, Self::MAX)
    }

    /// The password.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Whether a password someone typed to prove who they are is short enough to be worth
/// hashing: a longer one cannot be right, so it is refused without Argon2 work.
pub fn worth_checking(typed: &str) -> bool {
    typed.chars().count() <= NewPassword::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_to_1024_characters() {
        assert!(NewPassword::parse("p", "é".repeat(9)).is_err());
        assert!(NewPassword::parse("p", "é".repeat(10)).is_ok());
        assert!(NewPassword::parse("p", "x".repeat(1024)).is_ok());
        let e = NewPassword::parse("new_password", "x".repeat(1025)).unwrap_err();
        assert_eq!(e.field, "new_password");
        assert!(worth_checking(&"x".repeat(1024)) && !worth_checking(&"x".repeat(1025)));
    }
}
