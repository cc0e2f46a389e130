//! The JSON API, one module per area. Each handler parses its input into domain types,
//! checks the role, and runs one store operation.

pub mod customers;
pub mod ops;
pub mod people;
pub mod tickets;
