//! Full-text search over ticket subjects, message bodies and customers.
//!
//! The index lives in the same database and is written in the same transaction as the
//! rows it describes, so a ticket is findable the moment its create returns. SQLite
//! uses FTS5 (porter stemming, bm25 ranking, `snippet()`); PostgreSQL a generated
//! `tsvector` column with a GIN index (english stemming, `ts_rank`, `ts_headline`).
//! Snippets mark hits with control characters that [`render_snippet`] turns into
//! `<mark>` after escaping everything else, so customer text can never inject HTML.

use rapport_domain::Viewer;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{Backend, Conn};
use crate::error::Result;
use crate::value::Value;

const HIT_START: char = '\u{2}';
const HIT_END: char = '\u{3}';

/// One search result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hit {
    /// `ticket` (its subject matched), `message` or `customer`.
    pub kind: String,
    /// The ticket it leads to (none for a customer).
    pub ticket_id: Option<i64>,
    /// That ticket's number.
    pub ticket_number: Option<i64>,
    /// The customer it leads to.
    pub customer_id: Option<i64>,
    /// The ticket subject or customer name.
    pub title: String,
    /// HTML-escaped excerpt with hits in `<mark>`.
    pub snippet: String,
    /// Relevance; higher is better.
    pub score: f64,
}

/// The words of a query, lower-cased, at most twelve. Every word must match; the last
/// one also matches as a prefix once it has three letters (search as you type).
fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(str::to_lowercase)
        .collect()
}

fn fts5_query(words: &[String]) -> String {
    let n = words.len();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i + 1 == n && w.chars().count() >= 3 {
                format!("\"{w}\"*")
            } else {
                format!("\"{w}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn tsquery(words: &[String]) -> String {
    let n = words.len();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i + 1 == n && w.chars().count() >= 3 {
                format!("{w}:*")
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Escapes `raw` for HTML and turns hit markers into `<mark>` elements.
pub fn render_snippet(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 16);
    for ch in raw.chars() {
        match ch {
            HIT_START => out.push_str("<mark>"),
            HIT_END => out.push_str("</mark>"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

async fn add(
    c: &mut dyn Conn,
    kind: &str,
    ticket_id: Option<i64>,
    ref_id: i64,
    title: &str,
    body: &str,
) -> Result<()> {
    c.execute(
        "INSERT INTO search_index (title, body, kind, ticket_id, ref_id) VALUES ($1, $2, $3, $4, $5)",
        &[
            title.into(),
            body.into(),
            kind.into(),
            ticket_id.into(),
            ref_id.into(),
        ],
    )
    .await?;
    Ok(())
}

async fn remove(c: &mut dyn Conn, kind: &str, ref_id: i64) -> Result<()> {
    c.execute(
        "DELETE FROM search_index WHERE kind = $1 AND ref_id = $2",
        &[kind.into(), ref_id.into()],
    )
    .await?;
    Ok(())
}

/// Indexes a new ticket's subject.
pub async fn index_ticket(c: &mut dyn Conn, ticket_id: i64, subject: &str) -> Result<()> {
    add(c, "ticket", Some(ticket_id), ticket_id, subject, "").await
}

/// Re-indexes a ticket whose subject changed.
pub async fn reindex_ticket(c: &mut dyn Conn, ticket_id: i64, subject: &str) -> Result<()> {
    remove(c, "ticket", ticket_id).await?;
    index_ticket(c, ticket_id, subject).await
}

/// Indexes a message body.
pub async fn index_message(
    c: &mut dyn Conn,
    message_id: i64,
    ticket_id: i64,
    body: &str,
) -> Result<()> {
    add(c, "message", Some(ticket_id), message_id, "", body).await
}

/// Indexes a new customer.
pub async fn index_customer(c: &mut dyn Conn, id: i64, name: &str, email: &str) -> Result<()> {
    add(c, "customer", None, id, name, email).await
}

/// Re-indexes a customer whose name changed.
pub async fn reindex_customer(c: &mut dyn Conn, id: i64, name: &str, email: &str) -> Result<()> {
    remove(c, "customer", id).await?;
    index_customer(c, id, name, email).await
}

/// Points the index entries of moved messages at their new ticket (after a merge).
pub async fn move_messages(c: &mut dyn Conn, from: i64, to: i64) -> Result<()> {
    c.execute(
        "UPDATE search_index SET ticket_id = $1 WHERE kind = 'message' AND ticket_id = $2",
        &[to.into(), from.into()],
    )
    .await?;
    Ok(())
}

/// How many candidate rows are ranked at most. Ranking every match of a very common word
/// across a million messages would take seconds; the newest matches are the ones people
/// look for, so ranking is done among the most recent candidates.
const CANDIDATES: i64 = 2_000;

/// Searches tickets, messages and customers, best first, returning at most `limit` hits
/// the viewer may see. Ranks the newest [`CANDIDATES`] matches, then builds snippets for
/// the few hits returned only.
pub async fn search(c: &mut dyn Conn, viewer: &Viewer, q: &str, limit: usize) -> Result<Vec<Hit>> {
    let words = terms(q);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let limit = limit.clamp(1, 100);
    let backend = c.backend();
    let mut params: Vec<Value> = vec![match backend {
        Backend::Sqlite => fts5_query(&words).into(),
        Backend::Postgres => tsquery(&words).into(),
    }];
    let candidates = match backend {
        Backend::Sqlite => format!(
            "SELECT rowid AS sid, kind, ticket_id, ref_id, title, body,
                    -bm25(search_index, 10.0, 1.0) AS score
             FROM search_index WHERE search_index MATCH $1
             ORDER BY rowid DESC LIMIT {CANDIDATES}"
        ),
        Backend::Postgres => format!(
            "SELECT id AS sid, kind, ticket_id, ref_id, title, body,
                    ts_rank(tsv, to_tsquery('english', $1))::float8 AS score
             FROM search_index WHERE tsv @@ to_tsquery('english', $1)
             ORDER BY id DESC LIMIT {CANDIDATES}"
        ),
    };
    let mut scope = String::new();
    if let Some(teams) = viewer.team_scope() {
        let mut ids = Vec::new();
        for t in teams {
            params.push((*t).into());
            ids.push(format!("${}", params.len()));
        }
        scope = if ids.is_empty() {
            "WHERE (t.id IS NULL OR t.team_id IS NULL)".into()
        } else {
            format!(
                "WHERE (t.id IS NULL OR t.team_id IS NULL OR t.team_id IN ({}))",
                ids.join(", ")
            )
        };
    }
    let sql = format!(
        "SELECT s.sid, s.kind, s.ticket_id, s.ref_id, s.title, s.body, s.score,
                t.number, t.customer_id, t.subject
         FROM ({candidates}) s LEFT JOIN tickets t ON t.id = s.ticket_id
         {scope}
         ORDER BY s.score DESC, s.sid DESC LIMIT {limit}"
    );
    let rows = c.query(&sql, &params).await?;
    let mut hits = Vec::with_capacity(rows.len());
    let mut sids = Vec::with_capacity(rows.len());
    for r in &rows {
        let kind = r.text(1)?;
        let is_customer = kind == "customer";
        let name = r.text(4)?;
        let title = if is_customer {
            if name.is_empty() { r.text(5)? } else { name }
        } else {
            r.opt_text(9)?.unwrap_or(name)
        };
        sids.push(r.int(0)?);
        hits.push(Hit {
            kind,
            ticket_id: r.opt_int(2)?,
            ticket_number: r.opt_int(7)?,
            customer_id: if is_customer {
                r.opt_int(3)?
            } else {
                r.opt_int(8)?
            },
            title,
            snippet: String::new(),
            score: r.real(6)?,
        });
    }
    if sids.is_empty() {
        return Ok(hits);
    }
    let id_list = sids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let snippet_sql = match backend {
        Backend::Sqlite => format!(
            "SELECT rowid, snippet(search_index, -1, char(2), char(3), '…', 24)
             FROM search_index WHERE search_index MATCH $1 AND rowid IN ({id_list})"
        ),
        Backend::Postgres => format!(
            "SELECT id, ts_headline('english', CASE WHEN body = '' THEN title ELSE body END,
                    to_tsquery('english', $1),
                    'StartSel=' || chr(2) || ',StopSel=' || chr(3) || ',MaxWords=24,MinWords=8')
             FROM search_index WHERE id IN ({id_list})"
        ),
    };
    let snippets = c.query(&snippet_sql, &params[..1]).await?;
    for s in &snippets {
        let sid = s.int(0)?;
        if let Some(i) = sids.iter().position(|x| *x == sid) {
            hits[i].snippet = render_snippet(&s.text(1)?);
        }
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_only_words() {
        let w = terms("refund \"OR\" NEAR(x) -- 'drop'");
        assert_eq!(w, ["refund", "or", "near", "x", "drop"]);
        assert_eq!(fts5_query(&w[..2]), "\"refund\" \"or\"");
        assert_eq!(tsquery(&w[..2]), "refund & or");
        assert_eq!(fts5_query(&w[..1]), "\"refund\"*");
        assert_eq!(tsquery(&w[..1]), "refund:*");
        assert!(terms("  ... !!").is_empty());
    }

    #[test]
    fn snippets_escape_html_and_mark_hits() {
        let s = render_snippet("<script>\u{2}refund\u{3}</script> & more");
        assert_eq!(
            s,
            "&lt;script&gt;<mark>refund</mark>&lt;/script&gt; &amp; more"
        );
    }
}
