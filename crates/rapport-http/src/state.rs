//! What every handler shares.

use std::sync::Arc;

use rapport_domain::{Clock, Timestamp};
use rapport_store::Db;

/// The application state: the database, the clock and the configuration handlers need.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// The address people reach this server at, for links.
    pub public_url: String,
}

impl AppState {
    /// The current instant.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
