//! What the community's search index holds: every shown topic with its shown posts —
//! the question first, then the answers — and nothing else. Held, hidden and spam posts
//! and topics are never read here, so they can never be found.

use crate::db::Conn;
use crate::error::Result;
use crate::value::Value;

/// A shown topic as the search index sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedTopic {
    /// Topic id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// `(post id, markdown)` of each shown post: the question first, then the answers
    /// oldest first.
    pub posts: Vec<(i64, String)>,
}

/// Shown topics with ids above `after`, lowest first, at most `limit` of them (to load
/// the index in batches).
pub async fn shown_after(c: &mut dyn Conn, after: i64, limit: i64) -> Result<Vec<IndexedTopic>> {
    let rows = c
        .query(
            "SELECT id, title FROM community_topics
             WHERE state = 'visible' AND id > $1 ORDER BY id LIMIT $2",
            &[after.into(), limit.into()],
        )
        .await?;
    let mut topics = rows
        .iter()
        .map(|r| {
            Ok(IndexedTopic {
                id: r.int("id")?,
                title: r.text("title")?,
                posts: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    with_posts(c, &mut topics).await?;
    Ok(topics)
}

/// One topic as the index should hold it: `None` unless it is shown.
pub async fn shown(c: &mut dyn Conn, topic_id: i64) -> Result<Option<IndexedTopic>> {
    let Some(r) = c
        .opt(
            "SELECT id, title FROM community_topics WHERE state = 'visible' AND id = $1",
            &[topic_id.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let mut topics = vec![IndexedTopic {
        id: r.int("id")?,
        title: r.text("title")?,
        posts: Vec::new(),
    }];
    with_posts(c, &mut topics).await?;
    Ok(topics.pop())
}

/// Fills in each topic's shown posts.
async fn with_posts(c: &mut dyn Conn, topics: &mut [IndexedTopic]) -> Result<()> {
    if topics.is_empty() {
        return Ok(());
    }
    let params: Vec<Value> = topics.iter().map(|t| t.id.into()).collect();
    let sql = format!(
        "SELECT topic_id, id, body FROM community_posts
         WHERE state = 'visible' AND topic_id IN ({})
         ORDER BY topic_id, is_question DESC, id",
        crate::dialect::placeholders(1, params.len())
    );
    let rows = c.query(&sql, &params).await?;
    let mut at = 0;
    for r in &rows {
        let topic_id = r.int("topic_id")?;
        while at < topics.len() && topics[at].id != topic_id {
            at += 1;
        }
        let Some(t) = topics.get_mut(at) else {
            break;
        };
        t.posts.push((r.int("id")?, r.text("body")?));
    }
    Ok(())
}
