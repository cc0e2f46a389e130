//! Rapport's storage: every persistent operation, written once over [`db::Conn`] and
//! run on SQLite or PostgreSQL by [`db::Db`]. Operations take parsed domain types and a
//! [`rapport_domain::Viewer`] where permissions matter; they never see HTTP.

pub mod categories;
pub mod customers;
pub mod db;
pub mod error;
pub mod events;
pub mod imap;
pub mod jobs;
pub mod mail;
pub mod messages;
pub mod migrate;
pub mod notify;
pub mod people;
pub mod portal;
pub mod search;
pub mod secrets;
pub mod sessions;
pub mod stats;
pub mod stream;
pub mod tickets;
pub mod value;
pub mod workspace;

pub use db::{Backend, Conn, Db, DbConfig};
pub use error::{Result, StoreError};
