//! The JSON API, one module per capability (named as in the store and the web crate).
//! Each handler parses its input into domain types, checks the role with
//! [`require`](crate::auth::require), runs one store operation, and answers with the
//! module's own response types (`TicketView`, `UserView`, …), converted from the store's
//! rows with `From`. The response types carry `ToSchema` under the schema names clients
//! know (`Ticket`, `User`, …); the store's rows know nothing of the OpenAPI document.

pub mod attachments;
pub mod automations;
pub mod bot;
pub mod categories;
pub mod chat;
pub mod classify;
pub mod commerce;
pub mod community;
pub mod crm;
pub mod customers;
pub mod events;
pub mod health;
pub mod jobs;
pub mod kb;
pub mod loyalty;
pub mod mailboxes;
pub mod messages;
pub mod metrics;
pub mod people;
pub mod portal_links;
pub mod preferences;
pub mod promises;
pub mod reports;
pub mod routing;
pub mod score;
pub mod search;
pub mod sentiment;
pub mod sla;
pub mod snooze;
pub mod stats;
pub mod surveys;
pub mod tickets;
pub mod tokens;
pub mod webhooks;
