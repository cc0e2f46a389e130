//! Finding topics, for the API and the `/community` page alike: without a query, a page
//! of the store's listing (keyset cursors); with one, the community's search index
//! (`AppState::community_index`, the knowledge base's engine) ranks the shown topics and
//! the store reads back those the reader may see, so a topic hidden a moment ago on
//! another node is never shown while that node's index catches up.

use rapport_domain::{FieldError, Principal};
use rapport_index::community::TopicQuery;
use rapport_store::community::list::{self, Cursor, TopicPage, TopicSort};
use rapport_store::{StoreError, op};

use crate::state::AppState;

/// The most search results one can page through.
pub const SEARCH_MAX: usize = 200;

/// What a topic list asks for.
#[derive(Debug, Clone, Default)]
pub struct Find {
    /// Words to search for (empty: list every topic).
    pub query: String,
    /// The order (with a query: best match first, only unanswered ones, or most voted).
    pub sort: TopicSort,
    /// How many on a page (1–100).
    pub limit: usize,
    /// Where the page starts: a cursor this server gave out for this order.
    pub cursor: Option<String>,
}

/// A page of the topics `who` may read.
pub async fn find_topics(
    st: &AppState,
    who: Option<&Principal>,
    f: &Find,
) -> Result<TopicPage, StoreError> {
    let limit = f.limit.clamp(1, 100);
    let cursor = f
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| Cursor::decode(c, f.sort))
        .transpose()?;
    let query = f.query.trim();
    if query.is_empty() {
        if matches!(cursor, Some(Cursor::At(_))) {
            return Err(FieldError::new("cursor", "belongs to a search").into());
        }
        let filter = list::TopicFilter {
            sort: f.sort,
            limit,
            cursor,
        };
        let who = who.cloned();
        return st
            .db
            .read(op!(c => list::list(c, who.as_ref(), &filter).await))
            .await;
    }
    let offset = match cursor {
        None => 0,
        Some(Cursor::At(n)) if n < SEARCH_MAX => n,
        Some(_) => return Err(FieldError::new("cursor", "does not belong to this search").into()),
    };
    let hits = st.community_index.search(&TopicQuery {
        text: query,
        limit: SEARCH_MAX,
        suggest: false,
    });
    let mut ids: Vec<i64> = hits.iter().map(|h| h.topic_id).collect();
    // Best match first: only the page (and one more, to know of a next page) is read.
    // Another order needs every match.
    if f.sort == TopicSort::Newest {
        ids = ids.into_iter().skip(offset).take(limit + 1).collect();
    }
    let who = who.cloned();
    let mut found = st
        .db
        .read(op!(c => list::by_ids(c, who.as_ref(), &ids).await))
        .await?;
    match f.sort {
        TopicSort::Newest => {}
        TopicSort::Unanswered => {
            found.retain(|t| t.answers == 0);
            found = found.into_iter().skip(offset).collect();
        }
        TopicSort::Votes => {
            // Stable: equal votes keep the ranking.
            found.sort_by_key(|t| std::cmp::Reverse(t.votes));
            found = found.into_iter().skip(offset).collect();
        }
    }
    let more = found.len() > limit;
    found.truncate(limit);
    Ok(TopicPage {
        topics: found,
        next: more.then_some(Cursor::At(offset + limit)),
        prev: (offset > 0).then_some(Cursor::At(offset.saturating_sub(limit))),
    })
}

/// Shown topics matching what is being typed, best first (the "ask a question" box).
pub async fn suggest_topics(
    st: &AppState,
    text: &str,
    limit: usize,
) -> Result<Vec<rapport_store::community::Topic>, StoreError> {
    if text.trim().chars().count() < 3 {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = st
        .community_index
        .search(&TopicQuery {
            text,
            limit,
            suggest: true,
        })
        .into_iter()
        .map(|h| h.topic_id)
        .collect();
    st.db
        .read(op!(c => list::by_ids(c, None, &ids).await))
        .await
}

/// Re-indexes a topic on this node right after a write that changed it committed, so
/// the writer's next search sees it (other nodes follow the event stream). A failure is
/// logged, not answered: the write stands and the follower catches up.
pub async fn reindex_topic(st: &AppState, topic_id: i64) {
    if let Err(e) = st.community_index.refresh_topic(&st.db, topic_id).await {
        tracing::warn!(error = %e, topic_id, "could not re-index the topic");
    }
}
