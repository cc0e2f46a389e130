//! Vouchers: a code the customer gives the shop, worth an amount of one currency or a
//! percentage off, usable once, until it expires.

use crate::commerce::Money;
use crate::error::FieldError;

/// What a voucher is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoucherValue {
    /// An amount off (more than zero).
    Amount(Money),
    /// A percentage off, 1 to 100.
    Percent(i64),
}

impl VoucherValue {
    /// Checks a percentage.
    pub fn percent(p: i64) -> Result<Self, FieldError> {
        if (1..=100).contains(&p) {
            Ok(Self::Percent(p))
        } else {
            Err(FieldError::new(
                "percent",
                "must be a whole number from 1 to 100",
            ))
        }
    }

    /// Checks an amount: more than zero, at most a billion minor units (ten million
    /// euros), so a month of them sums safely.
    pub fn amount(m: Money) -> Result<Self, FieldError> {
        if m.minor > 0 && m.minor <= MAX_VOUCHER_MINOR {
            Ok(Self::Amount(m))
        } else {
            Err(FieldError::new(
                "amount",
                "must be more than zero and at most 10,000,000",
            ))
        }
    }
}

/// The largest voucher, in minor units.
pub const MAX_VOUCHER_MINOR: i64 = 1_000_000_000;

/// A code as shown to whoever may not use it: only its last group (`RAP-••••-••••-ABCD`).
/// A code is worth money to whoever holds it, so it is shown whole only to the agent who
/// issued it, to supervisors, and to the shop in the answer that created it.
pub fn masked(code: &str) -> String {
    let last: String = code
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("RAP-••••-••••-{last}")
}

/// The letters of a code: digits and capitals without I, L, O and U, so that no two are
/// mistaken for each other when read aloud or typed from paper.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters of randomness in a code (5 bits each: 60 bits).
pub const CODE_CHARS: usize = 12;

/// A voucher's code: `RAP-XXXX-XXXX-XXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VoucherCode(String);

impl VoucherCode {
    /// The code made from random bytes (the store draws them).
    pub fn from_random(bytes: [u8; CODE_CHARS]) -> Self {
        let chars: String = bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
            .collect();
        Self(format!(
            "RAP-{}-{}-{}",
            &chars[0..4],
            &chars[4..8],
            &chars[8..12]
        ))
    }

    /// Reads a code as a person typed it: any case, spaces or dashes anywhere, and the
    /// letters people confuse (O for 0, I and L for 1) read as meant.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new("code", "is not a voucher code (RAP-XXXX-XXXX-XXXX)");
        let cleaned: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            })
            .collect();
        let body = cleaned.strip_prefix("RAP").ok_or_else(bad)?;
        if body.len() != CODE_CHARS || !body.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(bad());
        }
        Ok(Self(format!(
            "RAP-{}-{}-{}",
            &body[0..4],
            &body[4..8],
            &body[8..12]
        )))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::Currency;
    use proptest::prelude::*;

    #[test]
    fn values_are_positive() {
        let eur = Currency::parse("currency", "EUR").unwrap();
        assert!(VoucherValue::amount(Money::new(500, eur)).is_ok());
        assert_eq!(
            VoucherValue::amount(Money::new(0, eur)).unwrap_err().field,
            "amount"
        );
        assert_eq!(VoucherValue::percent(0).unwrap_err().field, "percent");
        assert_eq!(VoucherValue::percent(101).unwrap_err().field, "percent");
        assert_eq!(VoucherValue::percent(15), Ok(VoucherValue::Percent(15)));
    }

    #[test]
    fn codes_read_back_however_typed() {
        let c = VoucherCode::from_random([0, 1, 2, 3, 31, 30, 29, 28, 10, 11, 12, 13]);
        assert_eq!(c.as_str(), "RAP-0123-ZYXW-ABCD");
        assert_eq!(VoucherCode::parse("rap 0123 zyxw abcd"), Ok(c.clone()));
        assert_eq!(VoucherCode::parse("RAP-O123-ZYXW-ABCD"), Ok(c.clone()));
        assert_eq!(masked(c.as_str()), "RAP-••••-••••-ABCD");
        for bad in [
            "",
            "RAP-0123",
            "XYZ-0123-ZYXW-ABCD",
            "RAP-0123-ZYXW-ABCU",
            "RAP-0123-ZYXW-ABCD-E",
        ] {
            assert_eq!(VoucherCode::parse(bad).unwrap_err().field, "code", "{bad}");
        }
    }

    proptest! {
        #[test]
        fn every_generated_code_parses_to_itself(bytes in any::<[u8; CODE_CHARS]>()) {
            let c = VoucherCode::from_random(bytes);
            prop_assert_eq!(VoucherCode::parse(c.as_str()), Ok(c.clone()));
            prop_assert_eq!(VoucherCode::parse(&c.as_str().to_lowercase()), Ok(c));
        }
    }
}
