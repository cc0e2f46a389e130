//! The log of searches people made in the help center, the portal's suggestions and the
//! community: what was asked, how many hits, whether the best was confident, where it was
//! made ([`Source`], decided by the server from the endpoint or page that searched, never
//! by the client) and who asked (a signed-in customer, or an anonymous visitor's hashed
//! cookie) — what the content-gap report reads ("searches with no good answer", "searches
//! followed by a ticket").

use rapport_domain::Timestamp;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// The longest query kept, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// Where a search was made: the endpoint or page that ran it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `GET /api/v1/kb/search` (or `/suggest` with `log=1`).
    Api,
    /// The help center's search page.
    Help,
    /// The portal's new-request form (its settled words, through its deflection id).
    Portal,
    /// The community forum.
    Community,
    /// The chat widget.
    Widget,
    /// An agent in the workspace.
    Agent,
}

impl Source {
    /// Every source.
    pub const ALL: [Source; 6] = [
        Source::Api,
        Source::Help,
        Source::Portal,
        Source::Community,
        Source::Widget,
        Source::Agent,
    ];

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Help => "help",
            Source::Portal => "portal",
            Source::Community => "community",
            Source::Widget => "widget",
            Source::Agent => "agent",
        }
    }

    /// From its stored spelling; an unknown one is a database error naming it.
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| StoreError::Db(format!("unknown search source {s:?}")))
    }
}

/// One search to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSearch {
    /// As typed (cut to [`MAX_QUERY_CHARS`]).
    pub query: String,
    /// Folded and trimmed, so the report groups what was asked.
    pub normalized: String,
    /// Where it was made.
    pub source: Source,
    /// How many hits it had.
    pub hits: i64,
    /// Whether the best hit was confident.
    pub confident: bool,
    /// The best hit.
    pub top_article_id: Option<i64>,
    /// The signed-in customer who searched.
    pub customer_id: Option<i64>,
    /// The anonymous visitor's cookie, hashed (`rapport_http::visitor`), when the request
    /// carried it. A search by neither a customer nor a visitor with a cookie (an agent's,
    /// a client that keeps no cookie) is kept but counts for nobody in the gap reports.
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
                s.source.as_str().into(),
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
            source: Source::parse(&r.text("source")?)?,
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
