//! The knowledge base's API: search and suggestions over the in-memory index
//! ([`search`]), and the synonym groups search expands ([`synonyms`]).

pub mod search;
pub mod synonyms;
