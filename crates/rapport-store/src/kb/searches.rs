//! The log of searches people made in the help center, the portal's suggestions and the
//! community: what was asked, how many hits, whether the best was confident, and who asked
//! (a signed-in customer, or an anonymous visitor's hashed cookie) — what the content-gap
//! report reads ("searches with no good answer", "searches followed by a ticket").

use rapport_domain::{FieldError, Timestamp};

use crate::db::Conn;
use crate::error::Result;
use crate::value::Row;

/// The longest query kept, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// Where a search was made.
pub const SOURCES: &[&str] = &["api", "help", "portal", "community", "widget", "agent"];

/// One search to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSearch {
    /// As typed (cut to [`MAX_QUERY_CHARS`]).
    pub query: String,
    /// Folded and trimmed, so the report groups what was asked.
    pub normalized: String,
    /// One of [`SOURCES`].
    pub source: String,
    /// How many hits it had.
    pub hits: i64,
    /// Whether the best hit was confident.
    pub confident: bool,
    /// The best hit.
    pub top_article_id: Option<i64>,
    /// The signed-in customer who searched.
    pub customer_id: Option<i64>,
    /// The anonymous visitor's cookie, hashed (`rapport_http::visitor`).
    pub visitor: Option<String>,
}

/// A recorded search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// Database id.
    pub id: i64,
    /// What was recorded.
    pub search: NewSearch,
    /// When.
    pub created_at: Timestamp,
}

fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Records a search.
pub async fn record(c: &mut dyn Conn, s: &NewSearch, now: Timestamp) -> Result<i64> {
    if !SOURCES.contains(&s.source.as_str()) {
        return Err(FieldError::new("source", "is not a known place to search from").into());
    }
    let row = c
        .one(
            "INSERT INTO kb_searches (query, normalized, source, hits, confident, top_article_id,
                                      customer_id, visitor, created_at)
             VALUES ($1, $2, $3, $4, $5,
                     (SELECT id FROM kb_articles WHERE id = $6),
                     (SELECT id FROM customers WHERE id = $7), $8, $9)
             RETURNING id",
            &[
                cut(&s.query, MAX_QUERY_CHARS).into(),
                cut(&s.normalized, MAX_QUERY_CHARS).into(),
                s.source.clone().into(),
                s.hits.into(),
                s.confident.into(),
                s.top_article_id.into(),
                s.customer_id.into(),
                s.visitor.clone().into(),
                now.into(),
            ],
        )
        .await?;
    row.int("id")
}

fn search_from(r: &Row) -> Result<Search> {
    Ok(Search {
        id: r.int("id")?,
        search: NewSearch {
            query: r.text("query")?,
            normalized: r.text("normalized")?,
            source: r.text("source")?,
            hits: r.int("hits")?,
            confident: r.bool("confident")?,
            top_article_id: r.opt_int("top_article_id")?,
            customer_id: r.opt_int("customer_id")?,
            visitor: r.opt_text("visitor")?,
        },
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// The newest searches, newest first.
pub async fn recent(c: &mut dyn Conn, limit: i64) -> Result<Vec<Search>> {
    c.query(
        "SELECT id, query, normalized, source, hits, confident, top_article_id, customer_id,
                visitor, created_at
         FROM kb_searches ORDER BY id DESC LIMIT $1",
        &[limit.clamp(1, 1000).into()],
    )
    .await?
    .iter()
    .map(search_from)
    .collect()
}
