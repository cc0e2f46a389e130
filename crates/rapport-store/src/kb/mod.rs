//! The knowledge base: articles, their versions and categories (helper `kb`), and what
//! search keeps: the synonym groups it expands ([`synonyms`]) and the log of searches
//! people made ([`searches`]).

pub mod searches;
pub mod synonyms;
