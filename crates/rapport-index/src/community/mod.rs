//! The community's index: every shown topic, one [`Passage`] per shown post (the question
//! under the topic's title, each answer under it too), so a search finds a thread by
//! what its question or any of its answers say — with the knowledge base's forgiveness
//! (stemming, misspellings, phrases, as-you-type). Held, hidden and spam posts and topics
//! are never in it: it is loaded from `rapport_store::community::index`, which reads only
//! what the public may see.
//!
//! Every node loads it at start-up ([`CommunityIndex::load`]) and follows the event
//! stream ([`CommunityIndex::follow`]): each `topic_changed` event re-reads that topic.
//! The node that made a change calls [`CommunityIndex::refresh_topic`] right after its
//! write commits, so its own next request already sees it.

mod follow;
mod load;

use std::sync::{Arc, Mutex};

use rapport_domain::kb::Locale;
use rapport_store::community::index::IndexedTopic;
use rapport_store::stream::Position;

use crate::IndexError;
use crate::engine::{Engine, Passage, SearchQuery};

/// The one audience of the community's passages: everything indexed is public.
const PUBLIC: &str = "public";

/// The passages of a shown topic: one per shown post.
fn passages(t: &IndexedTopic) -> Vec<Passage> {
    t.posts
        .iter()
        .map(|(post_id, body)| Passage {
            key: t.id,
            label: post_id.to_string(),
            link: format!("/community/topics/{}#post-{post_id}", t.id),
            // Forum posts carry no language; they are read as the help desk's default.
            locale: Locale::english(),
            audience: PUBLIC.to_owned(),
            title: t.title.clone(),
            heading: String::new(),
            anchor: format!("post-{post_id}"),
            text: body.clone(),
            tags: Vec::new(),
        })
        .collect()
}

/// A community search.
#[derive(Debug, Clone)]
pub struct TopicQuery<'a> {
    /// As typed.
    pub text: &'a str,
    /// At most this many topics.
    pub limit: usize,
    /// As-you-type: the last word also matches the words it begins.
    pub suggest: bool,
}

/// A topic found, with the post that matched best.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicHit {
    /// Topic id.
    pub topic_id: i64,
    /// The post that matched best (the question or an answer).
    pub post_id: i64,
    /// Relevance (higher is better, within one query).
    pub score: f32,
    /// Whether this hit answers the query (see [`crate::engine`]).
    pub confident: bool,
}

/// The community's search index. Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct CommunityIndex {
    engine: Option<Engine>,
    /// Where in the event stream the loaded contents stand: the follower starts there.
    loaded_at: Arc<Mutex<Position>>,
}

impl Default for CommunityIndex {
    /// An empty index (what a server holds before [`CommunityIndex::load`]).
    fn default() -> Self {
        let engine = Engine::new()
            .inspect_err(|e| tracing::error!(error = %e, "the community index could not be made"))
            .ok();
        Self {
            engine,
            loaded_at: Arc::new(Mutex::new(Position::START)),
        }
    }
}

impl CommunityIndex {
    /// How many topics are indexed.
    pub fn topics(&self) -> usize {
        self.engine.as_ref().map_or(0, Engine::keys)
    }

    /// Indexes these shown topics (replacing what was indexed for them), in one commit.
    pub fn put(&self, topics: &[IndexedTopic]) -> Result<(), IndexError> {
        let Some(e) = &self.engine else {
            return Ok(());
        };
        let keys: Vec<i64> = topics.iter().map(|t| t.id).collect();
        e.replace(&keys, topics.iter().flat_map(passages).collect())
    }

    /// Removes a topic.
    pub fn remove(&self, topic_id: i64) -> Result<(), IndexError> {
        match &self.engine {
            Some(e) => e.remove(topic_id),
            None => Ok(()),
        }
    }

    /// The topics that match, best first, each with the post that matched best.
    pub fn search(&self, q: &TopicQuery<'_>) -> Vec<TopicHit> {
        let Some(e) = &self.engine else {
            return Vec::new();
        };
        e.search(&SearchQuery {
            text: q.text,
            audiences: &[PUBLIC],
            locale: None,
            limit: q.limit,
            suggest: q.suggest,
        })
        .into_iter()
        .map(|h| TopicHit {
            topic_id: h.passage.key,
            post_id: h.passage.label.parse().unwrap_or_default(),
            score: h.score,
            confident: h.confident,
        })
        .collect()
    }
}

#[cfg(test)]
mod tests;
