//! What every handler shares.

use std::sync::Arc;

use rapport_domain::{Clock, Timestamp};
use rapport_store::Db;

use crate::limit::FailureLimiter;

/// The application state: the database, the clock and the configuration handlers need.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// The address people reach this server at, for links.
    pub public_url: String,
    /// Failed authentications per client address.
    pub auth_failures: Arc<FailureLimiter>,
}

impl AppState {
    /// State over `db` with default limits.
    pub fn new(db: Db, clock: Arc<dyn Clock>, public_url: String) -> Self {
        Self {
            db,
            clock,
            public_url,
            auth_failures: Arc::new(FailureLimiter::default()),
        }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
