//! Loyalty and goodwill: vouchers, the points ledger, goodwill limits and the approvals a
//! gift above its giver's limit waits in (see `rapport_domain::loyalty`).

pub mod approvals;
pub mod gifts;
pub mod limits;
pub mod points;
pub mod rules;
pub mod vouchers;
