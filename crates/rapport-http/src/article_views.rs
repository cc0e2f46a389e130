//! Counting article views without a write per page view: each node adds views up in
//! memory, per article and UTC day, and writes them in one batch every few seconds
//! ([`ArticleViews::run`], started by the binary; a last batch when the server stops).
//! A node killed between batches loses at most those seconds' views — counts for
//! reports, not records anyone relies on. With a zero interval every view is written at
//! once (the tests use that).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rapport_domain::Clock;
use rapport_store::kb::views::{self, DayViews};
use rapport_store::{Db, op};
use tokio::sync::watch;

/// Views counted on this node and not yet written.
pub struct ArticleViews {
    clock: Arc<dyn Clock>,
    every: Duration,
    pending: Mutex<HashMap<(i64, i64), i64>>,
}

impl std::fmt::Debug for ArticleViews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArticleViews")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl ArticleViews {
    /// How many (article, day) pairs are held at most before a view makes the page write
    /// the batch itself.
    const MAX_PENDING: usize = 50_000;

    /// Views timed by `clock`, written every `every` (zero: at once).
    pub fn new(clock: Arc<dyn Clock>, every: Duration) -> Self {
        Self {
            clock,
            every,
            pending: Mutex::default(),
        }
    }

    /// Counts one view of an article now. Returns whether the caller should write the
    /// batch now ([`Self::flush`]): always with a zero interval, or when many are held.
    #[must_use]
    pub fn count(&self, article_id: i64) -> bool {
        let day = self.clock.now().day();
        let Ok(mut pending) = self.pending.lock() else {
            return false;
        };
        *pending.entry((article_id, day)).or_insert(0) += 1;
        self.every.is_zero() || pending.len() >= Self::MAX_PENDING
    }

    /// Takes every view held, to write.
    pub fn take(&self) -> Vec<DayViews> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        let mut out: Vec<DayViews> = pending
            .drain()
            .map(|((article_id, day), views)| DayViews {
                article_id,
                day,
                views,
            })
            .collect();
        out.sort_by_key(|v| (v.article_id, v.day));
        out
    }

    fn put_back(&self, batch: Vec<DayViews>) {
        if let Ok(mut pending) = self.pending.lock() {
            for v in batch {
                *pending.entry((v.article_id, v.day)).or_insert(0) += v.views;
            }
        }
    }

    /// Writes the views held. On failure they are kept for the next try.
    pub async fn flush(&self, db: &Db) {
        let batch = self.take();
        if batch.is_empty() {
            return;
        }
        let written = batch.clone();
        if let Err(e) = db.write(op!(c => views::record(c, &written).await)).await {
            tracing::warn!(error = %e, "could not write article views; kept for the next try");
            self.put_back(batch);
        }
    }

    /// Writes the views every interval until `stop`, then once more.
    pub async fn run(self: Arc<Self>, db: Db, mut stop: watch::Receiver<bool>) {
        let every = if self.every.is_zero() {
            Duration::from_secs(5)
        } else {
            self.every
        };
        while !*stop.borrow() {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = stop.changed() => {}
            }
            self.flush(&db).await;
        }
        self.flush(&db).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_domain::{ManualClock, Timestamp};

    #[test]
    fn views_add_up_per_article_and_day() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_000_000)));
        let v = ArticleViews::new(clock.clone(), Duration::from_secs(5));
        assert!(!v.count(7));
        assert!(!v.count(7));
        assert!(!v.count(8));
        clock.advance_secs(86_400);
        assert!(!v.count(7));
        let batch = v.take();
        let got: Vec<_> = batch
            .iter()
            .map(|d| (d.article_id, d.day, d.views))
            .collect();
        assert_eq!(got, vec![(7, 0, 2), (7, 1, 1), (8, 0, 1)]);
        assert!(v.take().is_empty(), "taking empties the tally");
        v.put_back(batch);
        assert_eq!(v.take().len(), 3);
    }

    #[test]
    fn a_zero_interval_writes_each_view() {
        let clock = Arc::new(ManualClock::new(Timestamp(0)));
        assert!(ArticleViews::new(clock, Duration::ZERO).count(1));
    }
}
