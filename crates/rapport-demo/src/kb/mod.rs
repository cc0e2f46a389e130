//! The demo's knowledge base: four categories, some fifty articles (a few in German),
//! the judged queries search is measured against, default synonyms and community seed
//! threads. [`populate`] writes the articles through the same store operations the API
//! uses.

mod files;

pub use files::{
    BadFile, CATEGORIES, DemoArticle, DemoText, JudgedKind, JudgedQuery, SeedAnswer, SeedAuthor,
    SeedTopic, articles, community_topics, judged, synonym_groups,
};

#[cfg(test)]
mod tests;
