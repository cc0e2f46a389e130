//! What is derived from published articles (the sitemap, the help center's front-page
//! lists), kept while they stay the same: the copy is tagged with the search index's change count
//! (`rapport_index::kb::KbIndex::changes`, which moves once the index's follower of the
//! event stream has applied an article change, made on any node) and is rendered anew
//! when that count has moved or the copy is older than its maximum age. One request
//! renders at a time; the others wait for its copy instead of reading the database too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use rapport_domain::{Clock, Timestamp};

/// A kept copy: the change count it was rendered at, when, and the value (cheap to clone:
/// `Bytes` or an `Arc`, shared by every response that uses it).
type Copy<T> = (u64, Timestamp, T);

/// One derived value, kept.
pub struct Kept<T> {
    clock: Arc<dyn Clock>,
    max_age: Duration,
    copy: Mutex<Option<Copy<T>>>,
    rendering: tokio::sync::Mutex<()>,
}

/// One rendered document, kept.
pub type Rendered = Kept<Bytes>;

impl<T> std::fmt::Debug for Kept<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl<T: Clone> Kept<T> {
    /// Nothing kept yet; copies kept at most `max_age`, timed by `clock`.
    pub fn new(clock: Arc<dyn Clock>, max_age: Duration) -> Self {
        Self {
            clock,
            max_age,
            copy: Mutex::new(None),
            rendering: tokio::sync::Mutex::new(()),
        }
    }

    /// The copy rendered at change count `changes`, if it is young enough.
    pub fn get(&self, changes: u64) -> Option<T> {
        let now = self.clock.now();
        let max = i64::try_from(self.max_age.as_micros()).unwrap_or(i64::MAX);
        let copy = self.copy.lock().ok()?;
        copy.as_ref()
            .filter(|(n, at, _)| {
                *n == changes && (0..max).contains(&now.micros().saturating_sub(at.micros()))
            })
            .map(|(_, _, text)| text.clone())
    }

    /// The kept copy for the change count `changes()` reads, or the one `render` makes
    /// (then kept). `changes` is read before rendering, so a change made while rendering
    /// makes the next request render again.
    pub async fn get_or_render<E, F, Fut>(
        &self,
        changes: impl Fn() -> u64,
        render: F,
    ) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        if let Some(text) = self.get(changes()) {
            return Ok(text);
        }
        let _turn = self.rendering.lock().await;
        let at = changes();
        if let Some(text) = self.get(at) {
            return Ok(text);
        }
        let rendered_at = self.clock.now();
        let text = render().await?;
        if let Ok(mut copy) = self.copy.lock() {
            *copy = Some((at, rendered_at, text.clone()));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    use rapport_domain::ManualClock;

    use super::*;

    #[tokio::test]
    async fn a_copy_lasts_until_a_change_or_its_age() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_000_000)));
        let r = Kept::<String>::new(clock.clone(), Duration::from_secs(60));
        let changes = AtomicU64::new(3);
        let renders = AtomicUsize::new(0);
        let get = || async {
            r.get_or_render(
                || changes.load(Ordering::SeqCst),
                || async {
                    let n = renders.fetch_add(1, Ordering::SeqCst) + 1;
                    Ok::<_, ()>(format!("render {n}"))
                },
            )
            .await
            .unwrap()
        };
        assert_eq!(get().await, "render 1");
        assert_eq!(get().await, "render 1", "kept");
        changes.store(4, Ordering::SeqCst);
        assert_eq!(get().await, "render 2", "an article changed");
        clock.advance_secs(59);
        assert_eq!(get().await, "render 2");
        clock.advance_secs(1);
        assert_eq!(get().await, "render 3", "too old");
        assert!(r.get(4).is_some() && r.get(5).is_none());
    }

    #[tokio::test]
    async fn a_failed_render_keeps_nothing() {
        let clock = Arc::new(ManualClock::new(Timestamp(1_000_000)));
        let r = Rendered::new(clock, Duration::from_secs(60));
        let failed: Result<Bytes, &str> = r.get_or_render(|| 1, || async { Err("db down") }).await;
        assert_eq!(failed, Err("db down"));
        assert!(r.get(1).is_none());
    }
}
