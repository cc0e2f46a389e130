//! Loading the index from the database, and re-reading one topic after it changed.

use rapport_store::community::index;
use rapport_store::kb::synonyms;
use rapport_store::stream;
use rapport_store::{Db, op};

use super::CommunityIndex;
use crate::IndexError;
use crate::synonyms::Synonyms;

/// How many topics are read and committed at a time while loading.
const LOAD_BATCH: i64 = 1_000;

impl CommunityIndex {
    /// Builds the index from every shown topic, and takes the knowledge base's synonym
    /// groups. The event stream's head is read first, so [`CommunityIndex::follow`]
    /// misses no change made while loading (it may re-read a topic loaded already, which
    /// is harmless).
    pub async fn load(db: &Db) -> Result<Self, IndexError> {
        let ix = CommunityIndex::default();
        let head = db.read(op!(c => stream::head(c).await)).await?;
        ix.reload_synonyms(db).await?;
        let mut after = 0;
        loop {
            let batch = db
                .read(op!(c => index::shown_after(c, after, LOAD_BATCH).await))
                .await?;
            let Some(last) = batch.last().map(|t| t.id) else {
                break;
            };
            after = last;
            let full = i64::try_from(batch.len()).unwrap_or(i64::MAX) >= LOAD_BATCH;
            let this = ix.clone();
            tokio::task::spawn_blocking(move || this.put(&batch))
                .await
                .map_err(|_| IndexError::Poisoned)??;
            if !full {
                break;
            }
        }
        if let Ok(mut at) = ix.loaded_at.lock() {
            *at = head;
        }
        tracing::info!(topics = ix.topics(), "community index loaded");
        Ok(ix)
    }

    /// Re-reads one topic and indexes it as it now is: removed unless shown, and only its
    /// shown posts. Call it after a write to a topic commits, so this node's next search
    /// sees it (other nodes follow the event stream).
    pub async fn refresh_topic(&self, db: &Db, topic_id: i64) -> Result<(), IndexError> {
        let topic = db.read(op!(c => index::shown(c, topic_id).await)).await?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || match topic {
            Some(t) => this.put(&[t]),
            None => this.remove(topic_id),
        })
        .await
        .map_err(|_| IndexError::Poisoned)?
    }

    /// Re-reads the synonym groups the knowledge base's admins edit (one set of
    /// synonyms for every self-service search).
    pub async fn reload_synonyms(&self, db: &Db) -> Result<(), IndexError> {
        let groups = db.read(op!(c => synonyms::list(c).await)).await?;
        if let Some(e) = &self.engine {
            e.set_synonyms(Synonyms::parse(groups.iter().map(|g| g.terms.as_str())));
        }
        Ok(())
    }
}
