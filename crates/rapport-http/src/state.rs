//! What every handler shares.

use std::sync::Arc;

use rapport_domain::{Clock, Timestamp};
use rapport_store::Db;

use crate::limit::FailureLimiter;
use crate::live::Live;

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
    /// Failed sign-ins per account.
    pub login_failures: Arc<FailureLimiter<String>>,
    /// Portal requests per client address.
    pub portal_posts: Arc<FailureLimiter>,
    /// Live updates for connected browsers.
    pub live: Arc<Live>,
    /// Whether people reach this server over TLS (cookies are then `Secure`).
    pub https: bool,
}

impl AppState {
    /// State over `db` with default limits.
    pub fn new(db: Db, clock: Arc<dyn Clock>, public_url: String) -> Self {
        Self {
            db,
            clock,
            https: public_url.starts_with("https://"),
            public_url,
            auth_failures: Arc::new(FailureLimiter::default()),
            login_failures: Arc::new(FailureLimiter::new(10, std::time::Duration::from_secs(600))),
            portal_posts: Arc::new(FailureLimiter::new(20, std::time::Duration::from_secs(600))),
            live: Arc::new(Live::default()),
        }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
