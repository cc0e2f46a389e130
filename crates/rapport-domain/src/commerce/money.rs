//! Money: an amount in integer minor units (cents) of an ISO 4217 currency. Amounts come
//! in as decimal text ("19.99") and are refused, never rounded, when they carry more
//! decimals than the currency has.

use rust_decimal::Decimal;
use std::fmt;

use crate::error::FieldError;

/// An ISO 4217 currency with minor units (funds and metals are refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Reads a three-letter code (`EUR`, `usd`), the error naming `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        iso_currency::Currency::from_code(&code)
            .filter(|c| c.exponent().is_some() && !c.is_fund() && !c.is_special())
            .map(Self)
            .ok_or_else(|| {
                FieldError::new(field, "must be an ISO 4217 currency code, like EUR or USD")
            })
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Decimal places of its minor unit (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn exponent(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(2))
    }

    /// Reads a decimal amount ("19.99", "20", "-5.5") in this currency's minor units,
    /// refusing more decimals than it has and amounts that do not fit.
    pub fn amount(self, field: &str, raw: &str) -> Result<i64, FieldError> {
        let bad = || {
            FieldError::new(
                field,
                format!(
                    "must be an amount in {} with at most {} decimals, like {}",
                    self.code(),
                    self.exponent(),
                    Money::new(1999 * 10_i64.pow(self.exponent()) / 100, self)
                ),
            )
        };
        // Plain digits only: an optional minus, digits, at most one point between digits.
        let t = raw.trim();
        let digits = t.strip_prefix('-').unwrap_or(t);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
        let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !plain(int) || !plain(frac) {
            return Err(bad());
        }
        let d = Decimal::from_str_exact(t).map_err(|_| bad())?;
        let d = d.normalize();
        if d.scale() > self.exponent() {
            return Err(bad());
        }
        let minor = d
            .checked_mul(Decimal::from(10_i64.pow(self.exponent())))
            .ok_or_else(bad)?;
        i64::try_from(minor)
            .ok()
            .filter(|m| m.unsigned_abs() <= MAX_MINOR)
            .ok_or_else(bad)
    }
}

/// The largest amount kept, in minor units: sums of many never overflow an `i64`.
pub const MAX_MINOR: u64 = 1_000_000_000_000_000;

/// An amount of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    /// In minor units.
    pub minor: i64,
    /// Of which currency.
    pub currency: Currency,
}

impl Money {
    /// `minor` units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }
}

/// The decimal amount without the code ("19.99", "1000", "-0.50").
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = Decimal::new(self.minor, self.currency.exponent());
        write!(f, "{d}")
    }
}

/// Minor units of a stored currency code as decimal text ("19.99"); a code that is not a
/// currency (never stored: codes are checked on the way in) shows the minor units.
pub fn format_minor(minor: i64, code: &str) -> String {
    match Currency::parse("currency", code) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => minor.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn eur() -> Currency {
        Currency::parse("currency", "eur").unwrap()
    }

    #[test]
    fn currencies_are_iso_codes_with_minor_units() {
        assert_eq!(eur().code(), "EUR");
        assert_eq!(eur().exponent(), 2);
        assert_eq!(Currency::parse("c", "JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("c", "KWD").unwrap().exponent(), 3);
        for bad in ["", "EU", "EURO", "XYZ", "XAU", "€"] {
            let e = Currency::parse("currency", bad).unwrap_err();
            assert_eq!(e.field, "currency", "{bad}");
        }
    }

    #[test]
    fn amounts_are_exact_minor_units() {
        assert_eq!(eur().amount("p", "19.99"), Ok(1999));
        assert_eq!(eur().amount("p", "20"), Ok(2000));
        assert_eq!(eur().amount("p", "0.10"), Ok(10));
        assert_eq!(eur().amount("p", "-5.5"), Ok(-550));
        assert_eq!(
            Currency::parse("c", "JPY").unwrap().amount("p", "1500"),
            Ok(1500)
        );
        for bad in [
            "19.999",
            "abc",
            "",
            "1e3",
            "NaN",
            "99999999999999999999",
            "+5",
            "5.",
            ".5",
            "1.2.3",
            "- 5",
        ] {
            assert_eq!(
                eur().amount("lines[0].unit_price", bad).unwrap_err().field,
                "lines[0].unit_price",
                "{bad}"
            );
        }
        assert!(
            Currency::parse("c", "JPY")
                .unwrap()
                .amount("p", "1.5")
                .is_err()
        );
        assert_eq!(Money::new(1999, eur()).to_string(), "19.99");
        assert_eq!(Money::new(-50, eur()).to_string(), "-0.50");
        assert_eq!(
            Money::new(7, Currency::parse("c", "JPY").unwrap()).to_string(),
            "7"
        );
    }

    proptest! {
        #[test]
        fn formatting_and_reading_agree(minor in -(MAX_MINOR as i64)..=(MAX_MINOR as i64)) {
            let m = Money::new(minor, eur());
            prop_assert_eq!(eur().amount("p", &m.to_string()), Ok(minor));
        }
    }
}
