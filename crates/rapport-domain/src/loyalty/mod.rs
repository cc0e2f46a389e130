//! Loyalty and goodwill: reward points (an append-only ledger whose balance never goes
//! below zero), vouchers (unique single-use codes worth an amount or a percentage), and
//! the limits within which an agent gives them at once — above a limit the gift waits
//! for a supervisor's approval. Rapport moves no money: vouchers and points are records
//! the shop honours.

pub mod limits;
pub mod voucher;

pub use limits::{GoodwillKind, month_start};
pub use voucher::{VoucherCode, VoucherValue};

use crate::error::FieldError;

/// The most points one grant, redemption or adjustment moves.
pub const MAX_POINTS: i64 = 10_000_000;

/// Checks a number of points: 1 to ten million.
pub fn points(field: &str, n: i64) -> Result<i64, FieldError> {
    if (1..=MAX_POINTS).contains(&n) {
        Ok(n)
    } else {
        Err(FieldError::new(
            field,
            format!("must be a whole number from 1 to {MAX_POINTS}"),
        ))
    }
}

/// Checks why points or a voucher were given: 1 to 500 characters, no control characters.
pub fn reason(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > 500 {
        return Err(FieldError::new(field, "say why in 1 to 500 characters"));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(field, "no control characters"));
    }
    Ok(t.to_owned())
}
