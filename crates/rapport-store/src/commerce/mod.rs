//! Commerce: the shop's orders, their lines and shipments, the tickets linked to them,
//! and returns (see `rapport_domain::commerce`).

pub mod orders;
pub mod returns;
