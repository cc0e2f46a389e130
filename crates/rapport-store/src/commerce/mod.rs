//! Commerce: the shop's orders, their lines and shipments, and the tickets linked to
//! them (see `rapport_domain::commerce`).

pub mod orders;
