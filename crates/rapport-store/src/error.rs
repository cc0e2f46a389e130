//! What can go wrong in a store operation, in terms the HTTP layer maps to status codes.

use rapport_domain::FieldError;

/// A store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The named thing does not exist (or is hidden from the viewer as if it did not).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input broke a rule; the field says which.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The viewer's role or teams do not allow this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The change conflicts with the current state (a duplicate, a closed ticket).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database failed or answered something unexpected.
    #[error("database error: {0}")]
    Db(String),
}

impl StoreError {
    /// Whether running the same transaction again may succeed: PostgreSQL chose it as a
    /// deadlock's victim (`40P01`) or could not serialise it (`40001`).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Db(m) if m.starts_with("40P01:") || m.starts_with("40001:"))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(e.to_string())
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => StoreError::Db(format!("{}: {}", db.code().code(), db.message())),
            None => StoreError::Db(with_causes(&e)),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Db(format!("connection pool: {}", with_causes(&e)))
    }
}

/// An error's message followed by those of its causes, so that "error performing TLS
/// handshake" says why (an expired or unknown certificate, a wrong host name).
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let m = c.to_string();
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        cause = c.source();
    }
    out
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Db(format!("stored JSON: {e}"))
    }
}

/// Shorthand for store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod transient_tests {
    use super::StoreError;

    #[test]
    fn deadlocks_and_serialisation_failures_are_transient() {
        assert!(StoreError::Db("40P01: deadlock detected".into()).is_transient());
        assert!(StoreError::Db("40001: could not serialize access".into()).is_transient());
        assert!(!StoreError::Db("23505: duplicate key value".into()).is_transient());
        assert!(!StoreError::Conflict("40P01: deadlock detected".into()).is_transient());
    }
}
