//! The knowledge base's index: every published article, each translation cut into its
//! passages (`rapport_domain::kb::sections`), one [`Passage`] each, searchable by the
//! audiences that may read it (its visibility). Drafts, archived and deleted articles
//! are never in it.
//!
//! Every node loads it at start-up ([`KbIndex::load`]) and follows the event stream
//! ([`KbIndex::follow`]): each `article_changed` event re-reads that article through the
//! store. The node that made a change calls [`KbIndex::refresh_article`] right after its
//! write commits, so its own next request already sees it.

mod follow;
mod load;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rapport_domain::kb::{Locale, Visibility, sections};
use rapport_store::stream::Position;

use crate::IndexError;
use crate::engine::{Engine, Hit, Passage, SearchQuery};
use crate::synonyms::Synonyms;

/// An article as the index sees it: what [`KbIndex::put`] takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArticleDoc {
    /// Article id.
    pub id: i64,
    /// Its slug (the URL `/help/articles/{slug}`).
    pub slug: String,
    /// Who may read it.
    pub visibility: Visibility,
    /// The language the help center shows when the reader asks for none.
    pub default_locale: Locale,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its category's name, if any (searchable with the tags).
    pub category: Option<String>,
    /// `(locale, title, markdown body)` of each translation.
    pub translations: Vec<(Locale, String, String)>,
}

impl ArticleDoc {
    /// Where a passage of this article is read: its help-center address, or — for an
    /// internal article, which the help center never shows — the article in the agents'
    /// workspace (`/kb/articles/{id}/edit`, in that language; the editor has no anchors).
    pub fn url(&self, locale: &Locale, anchor: &str) -> String {
        if self.visibility == Visibility::Internal {
            let mut u = format!("/kb/articles/{}/edit", self.id);
            if locale != &self.default_locale {
                u.push_str("?lang=");
                u.push_str(locale.as_str());
            }
            return u;
        }
        let mut u = format!("/help/articles/{}", self.slug);
        if locale != &self.default_locale {
            u.push_str("?lang=");
            u.push_str(locale.as_str());
        }
        if !anchor.is_empty() {
            u.push('#');
            u.push_str(anchor);
        }
        u
    }

    /// Every passage of every translation.
    pub fn passages(&self) -> Vec<Passage> {
        let mut tags = self.tags.clone();
        tags.extend(self.category.clone());
        let mut out = Vec::new();
        for (locale, title, body) in &self.translations {
            for s in sections(body) {
                out.push(Passage {
                    key: self.id,
                    label: self.slug.clone(),
                    link: self.url(locale, &s.anchor),
                    locale: locale.clone(),
                    audience: self.visibility.as_str().to_owned(),
                    title: title.clone(),
                    heading: s.heading,
                    anchor: s.anchor,
                    text: s.text,
                    tags: tags.clone(),
                });
            }
        }
        out
    }
}

/// A knowledge-base search.
#[derive(Debug, Clone)]
pub struct KbQuery<'a> {
    /// As typed.
    pub text: &'a str,
    /// What the reader may see (`Visibility::readable_by`).
    pub readable: &'a [Visibility],
    /// The reader's language, preferred for each article's passage.
    pub locale: Option<&'a Locale>,
    /// At most this many hits.
    pub limit: usize,
    /// As-you-type: the last word also matches the words it begins.
    pub suggest: bool,
}

/// One article found, with its best passage.
#[derive(Debug, Clone, PartialEq)]
pub struct KbHit {
    /// Article id.
    pub article_id: i64,
    /// Its slug.
    pub slug: String,
    /// The language of the passage.
    pub locale: Locale,
    /// The article's title in that language.
    pub title: String,
    /// `/help/articles/{slug}[?lang=xx][#anchor]`; for an internal article (only agents
    /// find those) `/kb/articles/{id}/edit[?lang=xx]`, its page in the workspace.
    pub url: String,
    /// The best passage's anchor (empty: the lead).
    pub anchor: String,
    /// The best passage's heading (empty: the lead).
    pub heading: String,
    /// A plain-text excerpt of that passage.
    pub snippet: String,
    /// The excerpt, HTML-escaped, the words found in `<mark>`.
    pub snippet_html: String,
    /// Relevance (higher is better, within one query).
    pub score: f32,
    /// Whether this hit answers the query (see [`crate::engine`]).
    pub confident: bool,
    /// The share of the query's concepts the passage satisfies, weighted by rarity (0–1):
    /// what `confident` is decided from.
    pub coverage: f32,
    /// The whole passage, plain text (what the assistant bot quotes from).
    pub text: String,
}

impl From<Hit> for KbHit {
    fn from(h: Hit) -> Self {
        let p = &h.passage;
        Self {
            article_id: p.key,
            slug: p.label.clone(),
            locale: p.locale.clone(),
            title: p.title.clone(),
            url: p.link.clone(),
            anchor: p.anchor.clone(),
            heading: p.heading.clone(),
            snippet: h.snippet,
            snippet_html: h.snippet_html,
            score: h.score,
            confident: h.confident,
            coverage: h.coverage,
            text: p.text.clone(),
        }
    }
}

/// The knowledge base's search index. Cheap to clone (shared).
#[derive(Clone, Debug)]
pub struct KbIndex {
    engine: Option<Engine>,
    /// Where in the event stream the loaded contents stand: the follower starts there.
    loaded_at: Arc<Mutex<Position>>,
    /// How many batches of article changes the follower applied ([`KbIndex::changes`]).
    changes: Arc<AtomicU64>,
    /// A hash of each indexed article as it was indexed, to skip re-indexing it unchanged.
    indexed: Arc<Mutex<HashMap<i64, u64>>>,
    hasher: RandomState,
    /// Held by a refresh from its read of the articles to its commit.
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl Default for KbIndex {
    /// An empty index (what a server holds before [`KbIndex::load`]).
    fn default() -> Self {
        let engine = Engine::new()
            .inspect_err(
                |e| tracing::error!(error = %e, "the knowledge-base index could not be made"),
            )
            .ok();
        Self {
            engine,
            loaded_at: Arc::new(Mutex::new(Position::START)),
            changes: Arc::new(AtomicU64::new(0)),
            indexed: Arc::default(),
            hasher: RandomState::new(),
            refreshing: Arc::default(),
        }
    }
}

impl KbIndex {
    /// The engine underneath (for statistics and tests).
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    /// How many articles are indexed.
    pub fn articles(&self) -> usize {
        self.engine.as_ref().map_or(0, Engine::keys)
    }

    /// A number that moves at once on the node that wrote an article
    /// ([`KbIndex::refresh_article`]), and each time the follower ([`KbIndex::follow`])
    /// applies article changes from the event stream that change this index — another
    /// node's writes, or a write that did not refresh — within a quarter second of
    /// their commit. What is derived from the
    /// published articles (the sitemap, the help center's front-page lists) may be kept
    /// while it stays the same.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Moves [`KbIndex::changes`].
    pub(crate) fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Indexes these articles (replacing what was indexed for them), in one commit.
    pub fn put(&self, docs: &[ArticleDoc]) -> Result<(), IndexError> {
        self.update(docs, &[]).map(|_| ())
    }

    /// Removes an article.
    pub fn remove(&self, article_id: i64) -> Result<(), IndexError> {
        self.update(&[], &[article_id]).map(|_| ())
    }

    /// Indexes `docs` and removes the articles `gone`, in one commit, leaving out what
    /// would change nothing: a doc indexed exactly so already, an article not indexed.
    /// True when something was committed.
    pub fn update(&self, docs: &[ArticleDoc], gone: &[i64]) -> Result<bool, IndexError> {
        let Some(e) = &self.engine else {
            return Ok(false);
        };
        let mut indexed = self.indexed.lock().map_err(|_| IndexError::Poisoned)?;
        let fresh: Vec<(&ArticleDoc, u64)> = docs
            .iter()
            .map(|d| (d, self.hasher.hash_one(d)))
            .filter(|(d, h)| indexed.get(&d.id) != Some(h))
            .collect();
        let gone: Vec<i64> = gone
            .iter()
            .copied()
            .filter(|id| indexed.contains_key(id))
            .collect();
        if fresh.is_empty() && gone.is_empty() {
            return Ok(false);
        }
        let keys: Vec<i64> = fresh
            .iter()
            .map(|(d, _)| d.id)
            .chain(gone.iter().copied())
            .collect();
        let passages = fresh.iter().flat_map(|(d, _)| d.passages()).collect();
        // Forget first: should the commit fail, the next refresh indexes them again.
        for k in &keys {
            indexed.remove(k);
        }
        e.replace(&keys, passages)?;
        indexed.extend(fresh.iter().map(|(d, h)| (d.id, *h)));
        Ok(true)
    }

    /// Uses these synonym groups (each `a, b, c`) from the next search on.
    pub fn set_synonyms<'a>(&self, groups: impl IntoIterator<Item = &'a str>) {
        if let Some(e) = &self.engine {
            e.set_synonyms(Synonyms::parse(groups));
        }
    }

    fn query<'a>(q: &KbQuery<'a>, audiences: &'a [&'a str]) -> SearchQuery<'a> {
        SearchQuery {
            text: q.text,
            audiences,
            locale: q.locale,
            limit: q.limit,
            suggest: q.suggest,
        }
    }

    /// The articles that match, best first, each with its best passage.
    pub fn search(&self, q: &KbQuery<'_>) -> Vec<KbHit> {
        let Some(e) = &self.engine else {
            return Vec::new();
        };
        let audiences: Vec<&str> = q.readable.iter().map(|v| v.as_str()).collect();
        e.search(&Self::query(q, &audiences))
            .into_iter()
            .map(KbHit::from)
            .collect()
    }

    /// The best passages, several per article allowed (what the assistant bot quotes).
    pub fn passages(&self, q: &KbQuery<'_>) -> Vec<KbHit> {
        let Some(e) = &self.engine else {
            return Vec::new();
        };
        let audiences: Vec<&str> = q.readable.iter().map(|v| v.as_str()).collect();
        e.passages(&Self::query(q, &audiences))
            .into_iter()
            .map(KbHit::from)
            .collect()
    }
}

#[cfg(test)]
mod tests;
