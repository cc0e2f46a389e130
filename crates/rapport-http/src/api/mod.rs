//! The JSON API, one module per capability (named as in the store and the web crate).
//! Each handler parses its input into domain types, checks the role with
//! [`require`](crate::auth::require), and runs one store operation.

pub mod attachments;
pub mod categories;
pub mod customers;
pub mod health;
pub mod jobs;
pub mod mailboxes;
pub mod metrics;
pub mod people;
pub mod preferences;
pub mod search;
pub mod stats;
pub mod tickets;
