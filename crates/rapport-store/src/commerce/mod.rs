//! Commerce: the shop's orders, their lines and shipments, the tickets linked to them,
//! returns, and billing — invoices, payments and refunds (see `rapport_domain::commerce`).

pub mod billing;
pub mod orders;
pub mod products;
pub mod returns;
