//! Loading the index from the database, and re-reading one article after it changed.

use rapport_store::kb::synonyms;
use rapport_store::{Db, op};

use super::KbIndex;
use crate::IndexError;

impl KbIndex {
    /// Re-reads the synonym groups.
    pub async fn reload_synonyms(&self, db: &Db) -> Result<(), IndexError> {
        let groups = db.read(op!(c => synonyms::list(c).await)).await?;
        self.set_synonyms(groups.iter().map(|g| g.terms.as_str()));
        Ok(())
    }
}
