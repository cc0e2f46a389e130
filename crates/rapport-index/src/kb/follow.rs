//! The knowledge base's index follows the event stream ([`crate::follow`]): each batch of
//! `article_changed` events re-reads its articles and re-indexes those that changed in one
//! commit, and then, if any did (the writing node has usually re-indexed them already and
//! moved the count itself), moves [`KbIndex::changes`].

use rapport_domain::EventKind;
use rapport_store::Db;
use rapport_store::stream::Position;
use tokio::sync::watch;

use super::KbIndex;
use crate::IndexError;
use crate::follow::{Followed, follow};

impl Followed for KbIndex {
    const NAME: &'static str = "knowledge base";
    const KIND: EventKind = EventKind::ArticleChanged;
    const ID: &'static str = "article_id";

    async fn refresh(&self, db: &Db, ids: &[i64]) -> Result<bool, IndexError> {
        self.refresh_articles(db, ids).await
    }

    async fn reload_synonyms(&self, db: &Db) -> Result<(), IndexError> {
        KbIndex::reload_synonyms(self, db).await
    }

    fn applied(&self) {
        self.changed();
    }
}

impl KbIndex {
    /// Follows the event stream from where [`KbIndex::load`] stood until `stop`.
    pub async fn follow(self, db: Db, stop: watch::Receiver<bool>) {
        let from = self.loaded_at.lock().map(|p| *p).unwrap_or(Position::START);
        follow(&self, &db, from, stop).await;
    }
}
