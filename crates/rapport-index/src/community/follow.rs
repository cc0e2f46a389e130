//! The community's index follows the event stream ([`crate::follow`]): each
//! `topic_changed` event re-reads its topic.

use rapport_domain::EventKind;
use rapport_store::Db;
use rapport_store::stream::Position;
use tokio::sync::watch;

use super::CommunityIndex;
use crate::IndexError;
use crate::follow::{Followed, follow};

impl Followed for CommunityIndex {
    const NAME: &'static str = "community";
    const KIND: EventKind = EventKind::TopicChanged;
    const ID: &'static str = "topic_id";

    async fn refresh(&self, db: &Db, ids: &[i64]) -> Result<bool, IndexError> {
        for &id in ids {
            self.refresh_topic(db, id).await?;
        }
        Ok(!ids.is_empty())
    }

    async fn reload_synonyms(&self, db: &Db) -> Result<(), IndexError> {
        CommunityIndex::reload_synonyms(self, db).await
    }
}

impl CommunityIndex {
    /// Follows the event stream from where [`CommunityIndex::load`] stood until `stop`.
    pub async fn follow(self, db: Db, stop: watch::Receiver<bool>) {
        let from = self.loaded_at.lock().map(|p| *p).unwrap_or(Position::START);
        follow(&self, &db, from, stop).await;
    }
}
