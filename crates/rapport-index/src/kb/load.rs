//! Loading the index from the database, and re-reading one article after it changed.

use rapport_domain::Principal;
use rapport_domain::kb::ArticleStatus;
use rapport_store::kb::{self, Article, ArticleFilter, synonyms};
use rapport_store::stream;
use rapport_store::{Db, op};

use super::{ArticleDoc, KbIndex};
use crate::IndexError;

impl From<&Article> for ArticleDoc {
    fn from(a: &Article) -> Self {
        Self {
            id: a.id,
            slug: a.slug.clone(),
            visibility: a.visibility,
            default_locale: a.default_locale.clone(),
            tags: a.tags.clone(),
            category: a.category.as_ref().map(|c| c.name.clone()),
            translations: a
                .translations
                .iter()
                .map(|t| (t.locale.clone(), t.title.clone(), t.body.clone()))
                .collect(),
        }
    }
}

/// How many articles go into one commit while loading.
const LOAD_BATCH: usize = 2_000;

impl KbIndex {
    /// Builds the index from every published article and the synonym groups. The event
    /// stream's head is read first, so [`KbIndex::follow`] misses no change made while
    /// loading (it may re-read an article loaded already, which is harmless).
    pub async fn load(db: &Db) -> Result<Self, IndexError> {
        let kb = KbIndex::default();
        let head = db.read(op!(c => stream::head(c).await)).await?;
        kb.reload_synonyms(db).await?;
        let articles = db.read(op!(c => kb::published_for_index(c).await)).await?;
        let docs: Vec<ArticleDoc> = articles.iter().map(ArticleDoc::from).collect();
        let this = kb.clone();
        tokio::task::spawn_blocking(move || -> Result<(), IndexError> {
            for chunk in docs.chunks(LOAD_BATCH) {
                this.put(chunk)?;
            }
            Ok(())
        })
        .await
        .map_err(|_| IndexError::Poisoned)??;
        if let Ok(mut at) = kb.loaded_at.lock() {
            *at = head;
        }
        tracing::info!(articles = kb.articles(), "knowledge-base index loaded");
        Ok(kb)
    }

    /// Re-reads one article and indexes it as it now is: removed unless published.
    /// Call it after a write to an article commits, so this node's next search sees it
    /// (other nodes follow the event stream), and what this node derived from the
    /// published articles is derived anew ([`KbIndex::changes`] moves).
    pub async fn refresh_article(&self, db: &Db, article_id: i64) -> Result<(), IndexError> {
        let done = self.refresh_articles(db, &[article_id]).await;
        self.changed();
        done.map(|_| ())
    }

    /// Re-reads these articles and indexes each as it now is (removed unless published),
    /// in one commit per 500; an article the index already holds exactly as it is — the
    /// writing node re-indexed it before its event came by — costs a read, not a commit.
    /// True when the index changed. One refresh at a time on a node, from its read to its
    /// commit, so an older read never lands after a newer one.
    pub async fn refresh_articles(&self, db: &Db, ids: &[i64]) -> Result<bool, IndexError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let mut moved = false;
        let most = usize::try_from(kb::articles::LIST_MAX).unwrap_or(500);
        for chunk in ids.chunks(most) {
            let filter = ArticleFilter {
                ids: Some(chunk.to_vec()),
                limit: kb::articles::LIST_MAX,
                ..ArticleFilter::default()
            };
            let found = db
                .read(op!(c => kb::list(c, Some(&Principal::System), &filter).await))
                .await?;
            let mut docs = Vec::new();
            let mut gone = Vec::new();
            for id in chunk {
                match found.iter().find(|a| a.id == *id) {
                    Some(a) if a.status == ArticleStatus::Published => {
                        docs.push(ArticleDoc::from(a));
                    }
                    _ => gone.push(*id),
                }
            }
            let this = self.clone();
            moved |= tokio::task::spawn_blocking(move || this.update(&docs, &gone))
                .await
                .map_err(|_| IndexError::Poisoned)??;
        }
        Ok(moved)
    }

    /// Re-reads the synonym groups.
    pub async fn reload_synonyms(&self, db: &Db) -> Result<(), IndexError> {
        let groups = db.read(op!(c => synonyms::list(c).await)).await?;
        self.set_synonyms(groups.iter().map(|g| g.terms.as_str()));
        Ok(())
    }
}
