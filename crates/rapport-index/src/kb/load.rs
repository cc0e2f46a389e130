//! Loading the index from the database, and re-reading one article after it changed.

use rapport_domain::Principal;
use rapport_domain::kb::ArticleStatus;
use rapport_store::kb::{self, Article, synonyms};
use rapport_store::stream;
use rapport_store::{Db, StoreError, op};

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
    /// (other nodes follow the event stream).
    pub async fn refresh_article(&self, db: &Db, article_id: i64) -> Result<(), IndexError> {
        let read = db
            .read(op!(c => kb::get(c, Some(&Principal::System), article_id).await))
            .await;
        let doc = match read {
            Ok(a) if a.status == ArticleStatus::Published => Some(ArticleDoc::from(&a)),
            Ok(_) | Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let this = self.clone();
        tokio::task::spawn_blocking(move || match doc {
            Some(d) => this.put(&[d]),
            None => this.remove(article_id),
        })
        .await
        .map_err(|_| IndexError::Poisoned)?
    }

    /// Re-reads the synonym groups.
    pub async fn reload_synonyms(&self, db: &Db) -> Result<(), IndexError> {
        let groups = db.read(op!(c => synonyms::list(c).await)).await?;
        self.set_synonyms(groups.iter().map(|g| g.terms.as_str()));
        Ok(())
    }
}
