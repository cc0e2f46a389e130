//! Rapport's search engine for self-service content: an in-memory tantivy index each
//! node builds from the database at start-up and keeps fresh from the event stream.
//! Articles are few and derived data, so every node holding its own index gives the same
//! ranking on SQLite and PostgreSQL (tickets keep their committed indexes in the store).
//!
//! - [`engine`]: the generic engine — passages, per-language analysis, forgiving queries
//!   (stemming, misspellings, synonyms, phrases, as-you-type), grouping, snippets and
//!   confidence. The community's topic index reuses it.
//! - [`community`]: the community forum's index ([`community::CommunityIndex`]): shown
//!   topics, one passage per shown post, loaded through `rapport_store::community::index`
//!   and followed on `topic_changed` events.
//! - [`kb`]: the knowledge base's index ([`kb::KbIndex`]): articles cut into
//!   `rapport_domain::kb::sections` passages, loaded through `rapport_store::kb`, and
//!   followed on `article_changed` events.
//! - `follow`: the loop both follow the event stream with.

pub mod analyzer;
pub mod community;
pub mod engine;
mod follow;
pub mod kb;
pub mod query;
pub mod synonyms;

pub use engine::{Engine, Hit, Passage, SearchQuery};
pub use synonyms::Synonyms;

/// The index failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy refused an operation.
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// Reading what to index failed.
    #[error(transparent)]
    Store(#[from] rapport_store::StoreError),
    /// A writer panicked while holding the index.
    #[error("search index: a writer panicked")]
    Poisoned,
}
