//! Every difference between SQLite and PostgreSQL, in one place.
//!
//! Store operations are written once in the portable subset of SQL. Where the two
//! databases must be spoken to differently, callers ask this module for the piece they
//! need (`dialect::row_lock(c.backend(), "t")`) instead of matching on the backend
//! themselves:
//!
//! * full-text search: FTS5 (`MATCH`, `bm25`, `rowid`) vs `tsvector` (`@@`, `ts_rank`);
//! * ticket numbers: a counter row vs a sequence;
//! * the job claim and a subscriber's cursor: `FOR UPDATE SKIP LOCKED` on PostgreSQL,
//!   nothing on SQLite (its single writer serialises claims);
//! * the event stream's commit order: the read horizon (`pg_snapshot_xmin`) and the `tx`
//!   a ticket's next event carries, both PostgreSQL-only (see [`crate::stream`]);
//! * row locks for read-modify-write (`FOR UPDATE OF t`);
//! * the routing lock (an advisory lock on PostgreSQL);
//! * the migration lock (an advisory lock on PostgreSQL);
//! * which migration directory applies;
//! * the placeholder rewrite (`$1` → `?1`) that lets SQLite run our SQL.

use std::borrow::Cow;

use crate::db::Backend;
use crate::value::Value;

/// Picks the SQLite or the PostgreSQL variant of something.
pub fn pick<T>(backend: Backend, sqlite: T, postgres: T) -> T {
    match backend {
        Backend::Sqlite => sqlite,
        Backend::Postgres => postgres,
    }
}

// ---------------------------------------------------------------- placeholders

/// Rewrites PostgreSQL's `$n` placeholders as SQLite's `?n`, which bind repeated or out
/// of order parameters by number as PostgreSQL does. Text inside string literals
/// (`'costs $5'`), quoted identifiers (`"$1"`) and comments is left alone.
pub fn sqlite_placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            // A literal or quoted identifier runs to its closing quote; a doubled quote
            // inside is an escaped quote, which the loop handles as close-then-reopen.
            '\'' | '"' | '`' => {
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '[' => {
                for d in chars.by_ref() {
                    out.push(d);
                    if d == ']' {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut prev = ' ';
                for d in chars.by_ref() {
                    out.push(d);
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.pop();
                out.push('?');
            }
            _ => {}
        }
    }
    Cow::Owned(out)
}

// ---------------------------------------------------------------- locks

/// Whether nodes of two releases may share the database during a rolling deploy
/// (PostgreSQL; a SQLite file has one server): a change of what a column holds then keeps
/// writing the old form for a release, for the old nodes still reading it.
pub fn rolling_deploys(backend: Backend) -> bool {
    matches!(backend, Backend::Postgres)
}

/// The clause that locks the selected rows of `alias` until the transaction ends, for a
/// read-modify-write. PostgreSQL needs it; SQLite's single writer already serialises
/// every write transaction.
pub fn row_lock(backend: Backend, alias: &str) -> String {
    pick(backend, String::new(), format!(" FOR UPDATE OF {alias}"))
}

/// `$first, $first+1, …` for `n` parameters (an `IN (…)` list or a row of `VALUES`).
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table's index named for SQLite's planner (`INDEXED BY`), where its plain statistics
/// would pick a worse one; PostgreSQL chooses by its own, sampled statistics.
pub fn indexed_by(backend: Backend, index: &str) -> String {
    pick(backend, format!(" INDEXED BY {index}"), String::new())
}

/// The clause of the job claim's inner `SELECT`: on PostgreSQL, skip jobs another node
/// is claiming right now instead of waiting for it.
pub fn claim_lock(backend: Backend) -> &'static str {
    pick(backend, "", "FOR UPDATE SKIP LOCKED")
}

/// The clause that takes a row another node has not locked, or nothing if it has (the
/// query then returns no row): a subscriber's cursor, handled by one node at a time. On
/// PostgreSQL several nodes read the same cursor concurrently; SQLite's single writer
/// already lets only one transaction at a time move it.
pub fn skip_locked(backend: Backend) -> &'static str {
    pick(backend, "", "FOR UPDATE SKIP LOCKED")
}

/// The statement that makes routings take turns (one reads the agents' load and writes
/// its choice before the next reads): on PostgreSQL a transaction-scoped advisory lock;
/// SQLite's single writer already serialises them.
pub fn routing_lock(backend: Backend) -> Option<&'static str> {
    pick(backend, None, Some("SELECT pg_advisory_xact_lock(7242027)"))
}

/// The statement that makes migrating nodes take turns, if the backend needs one
/// (PostgreSQL: a transaction-scoped advisory lock; SQLite: its single writer).
pub fn migration_lock(backend: Backend) -> Option<&'static str> {
    pick(backend, None, Some("SELECT pg_advisory_xact_lock(7242001)"))
}

// ---------------------------------------------------------------- event stream

/// The condition and order (on events aliased `e`; `$1`, `$2`: a position's `tx` and `id`)
/// that take the events after a position in stream order, each in the form its planner
/// turns into an index range rather than a scan from the start: PostgreSQL a row-value
/// comparison on `events_stream (tx, id)`; SQLite, whose `tx` is always 0 (one writer
/// commits in id order), a range on the id alone (`$1` only keeps the parameter in use).
pub fn stream_after(backend: Backend) -> (&'static str, &'static str) {
    pick(
        backend,
        ("e.id > $2 + 0 * $1", "ORDER BY e.id"),
        ("(e.tx, e.id) > ($1, $2)", "ORDER BY e.tx, e.id"),
    )
}

/// The stream's horizon as a value (one column): an event whose `tx` is below it is
/// settled — no transaction still running can add an event before it. SQLite: every
/// event a reader sees is settled.
pub fn stream_horizon_value(backend: Backend) -> &'static str {
    pick(
        backend,
        "9223372036854775807",
        "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
    )
}

/// The condition (on events aliased `e`) that keeps a stream reader behind every
/// transaction still running. PostgreSQL hands out event ids before commit, so a
/// transaction committing late could add events behind a reader; a reader therefore only
/// takes events whose `tx` is below the oldest transaction still running. SQLite has one
/// writer: whatever a reader sees is committed, in id order, and needs no condition.
pub fn stream_horizon(backend: Backend) -> &'static str {
    pick(
        backend,
        "",
        "AND e.tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
    )
}

/// The statement (`$1`: the ticket id; one column, `event_tx`) that gives the `tx` an
/// event of that ticket written now must carry, if the backend needs one. PostgreSQL: at
/// least this transaction's id and at least that of the ticket's latest event; it locks
/// the ticket row, so the next transaction writing an event for the ticket waits for this
/// one to commit and then sorts after it. SQLite: `None`, its events keep `tx` 0 and its
/// single writer commits them in id order.
pub fn event_tx(backend: Backend) -> Option<&'static str> {
    pick(
        backend,
        None,
        Some(
            "UPDATE tickets SET event_tx = GREATEST(event_tx, pg_current_xact_id()::text::bigint)
             WHERE id = $1 RETURNING event_tx",
        ),
    )
}

/// The statement (`$1`: the article id; one column, `event_tx`) that gives the `tx` an
/// event about that knowledge-base article written now must carry, if the backend needs
/// one: [`event_tx`]'s rule on the article's row, so one article's events stay in commit
/// order. SQLite: `None`.
pub fn article_event_tx(backend: Backend) -> Option<&'static str> {
    pick(
        backend,
        None,
        Some(
            "UPDATE kb_articles SET event_tx = GREATEST(event_tx, pg_current_xact_id()::text::bigint)
             WHERE id = $1 RETURNING event_tx",
        ),
    )
}

// ---------------------------------------------------------------- ticket numbers

/// The statement that takes the next ticket number (one column, `number`): a counter row
/// on SQLite, a sequence on PostgreSQL.
pub fn next_ticket_number(backend: Backend) -> &'static str {
    pick(
        backend,
        "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number'
         RETURNING value AS number",
        "SELECT nextval('ticket_number_seq') AS number",
    )
}

// ---------------------------------------------------------------- full-text search

/// The query text for the search index's `$1` from a query's words: every word must
/// match; the last one also as a prefix once it has three letters (search as you type).
pub fn search_query(backend: Backend, words: &[String]) -> Value {
    pick(backend, fts5_query(words), tsquery(words)).into()
}

/// A sub-select of the newest `limit` index entries matching `$1` that satisfy `scope`
/// (a condition on the entry, named [`search_entry`]: the viewer's scope is applied before
/// the cut, never after it), with the columns `sid`, `kind`, `ticket_id`, `ref_id`, `title`
/// and `score` (higher is better).
///
/// With `above` (PostgreSQL only, see [`search_windows`]) — the number of the parameter
/// holding a key — the candidates are looked for among the entries above that key only: the
/// planner combines the word's GIN bitmap with the key range, so only the matches inside the
/// window are fetched. Without it, every match comes from the GIN index. The ranking's query
/// is made once (`OFFSET 0` keeps the sub-select from being folded into every row).
pub fn search_candidates(
    backend: Backend,
    scope: &str,
    above: Option<usize>,
    limit: i64,
) -> String {
    match backend {
        Backend::Sqlite => format!(
            "SELECT rowid AS sid, kind, ticket_id, ref_id, title,
                    -bm25(search_index, 10.0, 1.0) AS score
             FROM search_index WHERE search_index MATCH $1 AND {scope}
             ORDER BY rowid DESC LIMIT {limit}"
        ),
        Backend::Postgres => {
            // Inside a window the planner may walk the key backwards and stop at the
            // limit (right for common words; the window bounds the walk). Over the whole
            // table it must not: when the matches are fewer than it guessed (two common
            // words that never meet) that walk reads every entry — seconds at millions —
            // so the order is hidden from it (`id + 0`) and the matches come from GIN.
            let (matches, order) = match above {
                Some(p) => (
                    format!("i.tsv @@ to_tsquery('english', $1) AND i.id > ${p}"),
                    "i.id",
                ),
                None => ("i.tsv @@ to_tsquery('english', $1)".to_owned(), "i.id + 0"),
            };
            format!(
                "SELECT i.id AS sid, i.kind, i.ticket_id, i.ref_id, i.title,
                        ts_rank(i.tsv, q.q)::float8 AS score
                 FROM (SELECT to_tsquery('english', $1) AS q OFFSET 0) q, search_index i
                 WHERE {matches} AND {scope}
                 ORDER BY {order} DESC LIMIT {limit}"
            )
        }
    }
}

/// Whether search first looks among the newest index entries (see [`search_candidates`]).
/// SQLite's FTS5 reads a word's matches newest first and stops at the candidate limit by
/// itself: no. A PostgreSQL GIN index yields a word's matches unordered, so keeping the
/// newest candidates of a common word means fetching every match — hundreds of thousands of
/// rows at a million messages — while the newest few thousand entries hold them all: yes.
pub fn search_windows(backend: Backend) -> bool {
    pick(backend, false, true)
}

/// Said before a search whose window bound is a parameter, in the same transaction: plan it
/// with the bound's value (a generic plan would guess a third of the table and fetch every
/// match). PostgreSQL only.
pub const SEARCH_CUSTOM_PLAN: &str = "SET LOCAL plan_cache_mode = force_custom_plan";

/// How the candidates' conditions name the search index entry.
pub fn search_entry(backend: Backend) -> &'static str {
    pick(backend, "search_index", "i")
}

/// The column that identifies a search index entry (`sid` in the candidates).
pub fn search_key(backend: Backend) -> &'static str {
    pick(backend, "rowid", "id")
}

fn fts5_query(words: &[String]) -> String {
    match_words(words, |w| format!("\"{w}\""), |w| format!("\"{w}\"*"), " ")
}

fn tsquery(words: &[String]) -> String {
    match_words(words, Clone::clone, |w| format!("{w}:*"), " & ")
}

/// Joins the search words in a backend's query syntax: every word as `word`, except that
/// a last word of three or more characters matches as a prefix (`prefix`).
fn match_words(
    words: &[String],
    word: impl Fn(&String) -> String,
    prefix: impl Fn(&String) -> String,
    joiner: &str,
) -> String {
    let n = words.len();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i + 1 == n && w.chars().count() >= 3 {
                prefix(w)
            } else {
                word(w)
            }
        })
        .collect::<Vec<_>>()
        .join(joiner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 1), "$1");
    }

    #[test]
    fn placeholders_become_numbered() {
        assert_eq!(
            sqlite_placeholders("SELECT $2, $1 WHERE a = $10"),
            "SELECT ?2, ?1 WHERE a = ?10"
        );
        assert_eq!(sqlite_placeholders("SELECT '$'"), "SELECT '$'");
        assert!(matches!(sqlite_placeholders("SELECT 1"), Cow::Borrowed(_)));
    }

    #[test]
    fn placeholders_leave_literals_and_identifiers_alone() {
        assert_eq!(
            sqlite_placeholders("SELECT 'costs $5', $1"),
            "SELECT 'costs $5', ?1"
        );
        assert_eq!(
            sqlite_placeholders("SELECT 'it''s $2 ' || $2"),
            "SELECT 'it''s $2 ' || ?2"
        );
        assert_eq!(
            sqlite_placeholders(r#"SELECT "col$1", "a""$3" FROM t WHERE x = $3"#),
            r#"SELECT "col$1", "a""$3" FROM t WHERE x = ?3"#
        );
        assert_eq!(
            sqlite_placeholders("SELECT $1 -- not $2\n, $3 /* nor $4 */"),
            "SELECT ?1 -- not $2\n, ?3 /* nor $4 */"
        );
        assert_eq!(sqlite_placeholders("SELECT [a$1], $1"), "SELECT [a$1], ?1");
        // An unterminated literal keeps the rest as it is.
        assert_eq!(sqlite_placeholders("SELECT $1, 'x $2"), "SELECT ?1, 'x $2");
    }

    #[test]
    fn backends_differ_only_here() {
        assert_eq!(row_lock(Backend::Sqlite, "t"), "");
        assert_eq!(row_lock(Backend::Postgres, "t"), " FOR UPDATE OF t");
        assert_eq!(claim_lock(Backend::Sqlite), "");
        assert_eq!(skip_locked(Backend::Sqlite), "");
        assert!(skip_locked(Backend::Postgres).contains("SKIP LOCKED"));
        assert_eq!(stream_horizon(Backend::Sqlite), "");
        assert!(stream_horizon(Backend::Postgres).starts_with("AND e.tx <"));
        assert!(event_tx(Backend::Sqlite).is_none());
        assert!(event_tx(Backend::Postgres).is_some_and(|s| s.contains("RETURNING event_tx")));
        assert!(article_event_tx(Backend::Sqlite).is_none());
        assert!(article_event_tx(Backend::Postgres).is_some_and(|s| s.contains("kb_articles")));
        assert!(migration_lock(Backend::Sqlite).is_none());
        assert!(migration_lock(Backend::Postgres).is_some());
        assert_eq!(search_key(Backend::Sqlite), "rowid");
    }

    #[test]
    fn search_queries_per_backend() {
        let w: Vec<String> = ["refund", "or"].map(String::from).into();
        assert_eq!(fts5_query(&w), "\"refund\" \"or\"");
        assert_eq!(tsquery(&w), "refund & or");
        assert_eq!(fts5_query(&w[..1]), "\"refund\"*");
        assert_eq!(tsquery(&w[..1]), "refund:*");
        assert_eq!(
            search_query(Backend::Postgres, &w[..1]),
            Value::Text("refund:*".into())
        );
    }
}
