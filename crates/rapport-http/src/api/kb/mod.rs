//! The knowledge base's API: articles, search, and the reports on them.

pub mod reports;
