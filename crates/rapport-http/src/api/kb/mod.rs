//! The knowledge base's API: search and suggestions over the in-memory index
//! ([`search`]), the synonym groups search expands ([`synonyms`]), and the reports on
//! articles, deflection and content gaps ([`reports`]).

pub mod reports;
pub mod search;
pub mod synonyms;
