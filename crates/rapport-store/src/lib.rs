//! Rapport's storage: every persistent operation, written once over [`db::Conn`] and
//! run on SQLite or PostgreSQL by [`db::Db`]. Operations take parsed domain types and a
//! [`rapport_domain::Viewer`] where permissions matter; they never see HTTP.
//!
//! One module per capability (`tickets`, `macros`, `views`, …); every difference between
//! the two databases lives in [`dialect`].

pub mod automations;
pub mod bot;
pub mod categories;
pub mod chat;
pub mod classify;
pub mod commerce;
pub mod community;
pub mod crm;
pub mod customers;
pub mod db;
pub mod dialect;
pub mod error;
pub mod events;
pub mod fields;
pub mod imap;
pub mod jobs;
pub mod kb;
pub mod loyalty;
pub mod macros;
pub mod mail;
pub mod messages;
pub mod migrate;
pub mod notify;
pub mod people;
pub mod pg_tls;
pub mod portal;
pub mod presence;
pub mod private_files;
pub mod promises;
pub mod reports;
pub mod routing;
pub mod score;
pub mod search;
pub mod secrets;
pub mod sentiment;
pub mod sessions;
pub mod settings;
pub mod sla;
pub mod snooze;
pub mod split;
pub mod stats;
pub mod stream;
pub mod surveys;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tickets;
pub mod time_entries;
pub mod tokens;
pub mod value;
pub mod views;
pub mod webhooks;

pub use db::{Backend, Conn, Db, DbConfig};
pub use error::{Result, StoreError};

/// Builds a store operation for [`Db::write`] and [`Db::read`] from its body.
///
/// `op!(c => tickets::get(c, &who, id).await)` expands to
/// `crate::op!(c => tickets::get(c, &who, id).await)`: a closure that
/// takes the connection, moves what it uses in, and returns the boxed future the `Db`
/// runs inside its transaction. The body is the block of an `async move`, so it may use
/// `?` and must end in a `Result`.
///
/// ```no_run
/// # async fn demo(db: rapport_store::Db) -> rapport_store::Result<()> {
/// let by_state = db
///     .read(rapport_store::op!(c => rapport_store::jobs::count_by_state(c).await))
///     .await?;
/// # let _ = by_state; Ok(()) }
/// ```
#[macro_export]
macro_rules! op {
    ($c:ident => $($body:tt)+) => {
        move |$c| ::std::boxed::Box::pin(async move { $($body)+ })
    };
}
