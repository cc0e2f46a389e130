//! Full-text search over ticket subjects, message bodies and customers.
//!
//! The index lives in the same database and is written in the same transaction as the
//! rows it describes, so a ticket is findable the moment its create returns. SQLite
//! uses FTS5 (porter stemming, bm25 ranking, `snippet()`); PostgreSQL a generated
//! `tsvector` column with a GIN index (english stemming, `ts_rank`, `ts_headline`).
//! Snippets are cut and highlighted here, in Rust, the same way for both databases:
//! [`highlight`] escapes everything and wraps hits in `<mark>`, so customer text can never
//! inject HTML.

use rapport_domain::Viewer;
use rapport_domain::text::escape_html_into;
use serde::Serialize;

use crate::db::Conn;
use crate::dialect;
use crate::error::Result;
use crate::value::Value;

/// One search result.
#[derive(Debug, Clone, Serialize)]
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

/// Whether a word of the text matches a query word: the same word, or one starting with
/// it (prefixes and plurals), or its stem (`refunds` finds `refund`).
fn is_hit(word: &str, terms: &[String]) -> bool {
    let w = word.to_lowercase();
    terms.iter().any(|t| {
        let common = w.chars().zip(t.chars()).take_while(|(a, b)| a == b).count();
        let shorter = w.chars().count().min(t.chars().count());
        w.starts_with(t.as_str()) || (common >= 4 && common + 2 >= shorter)
    })
}

/// An HTML-safe excerpt of `text` of about `max_words` words around the first hit, with
/// every hit wrapped in `<mark>`.
pub fn highlight(text: &str, terms: &[String], max_words: usize) -> String {
    // Split into words and the separators after them, keeping every character.
    let mut spans: Vec<(&str, &str)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
        let (word, after) = rest.split_at(word_end);
        let sep_end = after.find(char::is_alphanumeric).unwrap_or(after.len());
        let (sep, next) = after.split_at(sep_end);
        spans.push((word, sep));
        rest = next;
    }
    let first = spans
        .iter()
        .position(|(w, _)| !w.is_empty() && is_hit(w, terms))
        .unwrap_or(0);
    let start = first.saturating_sub(max_words / 3);
    let end = (start + max_words).min(spans.len());
    let mut out = String::with_capacity(text.len().min(400) + 32);
    if start > 0 {
        out.push('…');
    }
    for (i, (word, sep)) in spans[start..end].iter().enumerate() {
        if !word.is_empty() && is_hit(word, terms) {
            out.push_str("<mark>");
            escape_html_into(&mut out, word);
            out.push_str("</mark>");
        } else {
            escape_html_into(&mut out, word);
        }
        if start + i + 1 < end {
            let mut last_space = false;
            for ch in sep.chars() {
                if ch.is_whitespace() {
                    if !last_space {
                        out.push(' ');
                    }
                    last_space = true;
                } else {
                    escape_html_into(&mut out, ch.encode_utf8(&mut [0; 4]));
                    last_space = false;
                }
            }
        }
    }
    if end < spans.len() {
        out.push('…');
    }
    out
}

/// The tables an index entry may be in until its transaction commits: on SQLite a new
/// entry waits in `search_pending` and goes into the FTS5 index with the rest of its group
/// commit (migration 54, `db/writer.rs`), so every change to entries applies to both.
fn entry_tables(c: &dyn Conn) -> &'static [&'static str] {
    dialect::pick(
        c.backend(),
        &["search_index", "search_pending"],
        &["search_index"],
    )
}

/// Moves the entries waiting in `search_pending` into the FTS5 index: the SQLite writer
/// runs this once per group commit, just before it commits, outside any operation's
/// savepoint.
pub(crate) const MOVE_PENDING: [&str; 2] = [
    "INSERT INTO search_index (title, body, kind, ticket_id, ref_id)
     SELECT title, body, kind, ticket_id, ref_id FROM search_pending ORDER BY id",
    "DELETE FROM search_pending",
];

/// Runs `sql` (naming the table `{t}`) on every table an entry may be in.
async fn on_entries(c: &mut dyn Conn, sql: &str, params: &[Value]) -> Result<()> {
    for t in entry_tables(c) {
        c.execute(&sql.replace("{t}", t), params).await?;
    }
    Ok(())
}

async fn add(
    c: &mut dyn Conn,
    kind: &str,
    ticket_id: Option<i64>,
    ref_id: i64,
    title: &str,
    body: &str,
) -> Result<()> {
    let table = dialect::pick(c.backend(), "search_pending", "search_index");
    c.execute(
        &format!(
            "INSERT INTO {table} (title, body, kind, ticket_id, ref_id) VALUES ($1, $2, $3, $4, $5)"
        ),
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
    on_entries(
        c,
        "DELETE FROM {t} WHERE kind = $1 AND ref_id = $2",
        &[kind.into(), ref_id.into()],
    )
    .await
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

/// Takes a customer out of the index (merged away or erased).
pub async fn remove_customer(c: &mut dyn Conn, id: i64) -> Result<()> {
    remove(c, "customer", id).await
}

/// Takes one message out of the index (its text was erased).
pub async fn remove_message(c: &mut dyn Conn, id: i64) -> Result<()> {
    remove(c, "message", id).await
}

/// Takes a ticket's subject and messages out of the index (their customer was erased).
pub async fn remove_ticket(c: &mut dyn Conn, ticket_id: i64) -> Result<()> {
    on_entries(
        c,
        "DELETE FROM {t} WHERE ticket_id = $1",
        &[ticket_id.into()],
    )
    .await
}

/// Points the index entries of moved messages at their new ticket (after a merge).
pub async fn move_messages(c: &mut dyn Conn, from: i64, to: i64) -> Result<()> {
    on_entries(
        c,
        "UPDATE {t} SET ticket_id = $1 WHERE kind = 'message' AND ticket_id = $2",
        &[to.into(), from.into()],
    )
    .await
}

/// Points one message's index entry at the ticket it was split off into.
pub async fn move_message(c: &mut dyn Conn, message_id: i64, to: i64) -> Result<()> {
    on_entries(
        c,
        "UPDATE {t} SET ticket_id = $1 WHERE kind = 'message' AND ref_id = $2",
        &[to.into(), message_id.into()],
    )
    .await
}

/// How many candidate rows are ranked at most. Ranking every match of a very common word
/// across a million messages would take seconds; the newest matches are the ones people
/// look for, so ranking is done among the most recent candidates.
const CANDIDATES: i64 = 200;

/// PostgreSQL: how many of the newest index entries search looks among first. A common
/// word's newest candidates are all among them.
pub const SCAN_FIRST: i64 = 20_000;

/// PostgreSQL, without a recent index: the widest second look. A query whose newest
/// candidates lie further back is rare enough for every match to be fetched cheaply.
pub const SCAN_MAX: i64 = 400_000;

/// PostgreSQL: how many of the newest entries a new recent index covers
/// ([`renew_recent`]); it is renewed once it covers twice as many.
pub const RECENT_KEEP: i64 = 100_000;

/// The best `limit` of the newest [`CANDIDATES`] matches the viewer may see (`scope`),
/// with their tickets.
///
/// On PostgreSQL a GIN index yields a word's matches unordered, so the newest ones are
/// looked for in windows of the newest entries: first the newest [`SCAN_FIRST`]; when they
/// hold fewer than [`CANDIDATES`] matches, the density seen there says how far back the
/// last candidate lies, and one second look goes that far (with a margin) — within the
/// recent index when there is one ([`renew_recent`]: its short posting lists are what keep
/// both looks cheap at millions of entries), else up to [`SCAN_MAX`]. When that still falls
/// short every match is asked for. Every path returns the same candidates: a window that
/// holds [`CANDIDATES`] matches holds exactly the newest ones.
async fn ranked(
    c: &mut dyn Conn,
    scope: &str,
    params: &mut Vec<Value>,
    limit: usize,
) -> Result<Vec<crate::value::Row>> {
    let backend = c.backend();
    let run = |above: Option<usize>| {
        let candidates = dialect::search_candidates(backend, scope, above, CANDIDATES);
        format!(
            "WITH s AS MATERIALIZED ({candidates})
             SELECT s.sid, s.kind, s.ticket_id, s.ref_id, s.title, s.score,
                    t.number, t.customer_id, t.subject,
                    (SELECT COUNT(*) FROM s) AS found
             FROM s LEFT JOIN tickets t ON t.id = s.ticket_id
             ORDER BY s.score DESC, s.sid DESC LIMIT {limit}"
        )
    };
    if !dialect::search_windows(backend) {
        return c.query(&run(None), params).await;
    }
    let bounds = c
        .one(
            "SELECT (SELECT MAX(id) FROM search_index) AS top,
                    (SELECT floor FROM search_recent) AS floor",
            &[],
        )
        .await?;
    let top = bounds.opt_int("top")?.unwrap_or(0);
    // The widest window the second look may take: all of the recent index when there is
    // one (a window inside it is answered from it alone), else SCAN_MAX.
    let recent = bounds
        .opt_int("floor")?
        .filter(|&floor| floor < top)
        .map(|floor| top - floor);
    let widest = recent.unwrap_or(SCAN_MAX);
    c.batch(dialect::SEARCH_CUSTOM_PLAN).await?;
    params.push(0_i64.into());
    let floor_param = params.len();
    let first = SCAN_FIRST.min(widest);
    params[floor_param - 1] = (top - first).into();
    let rows = c.query(&run(Some(floor_param)), params).await?;
    let found = found_in(&rows)?;
    if found >= CANDIDATES || first >= top {
        return Ok(rows);
    }
    // Fewer than a full set among the newest entries: go back as far as their density
    // says the last candidate lies, with a margin — inside the recent index at most.
    let needed = if found == 0 {
        i64::MAX
    } else {
        first.saturating_mul(CANDIDATES).saturating_mul(3) / (found * 2)
    };
    let second = match recent {
        None => (needed <= SCAN_MAX).then_some(needed.max(first * 2)),
        Some(widest) => (widest > first).then_some(needed.max(first * 2).min(widest)),
    };
    if let Some(window) = second {
        params[floor_param - 1] = (top - window).into();
        let rows = c.query(&run(Some(floor_param)), params).await?;
        if found_in(&rows)? >= CANDIDATES || window >= top {
            return Ok(rows);
        }
    }
    params.pop();
    c.query(&run(None), params).await
}

/// How many candidates a ranked query found (its `found` column).
fn found_in(rows: &[crate::value::Row]) -> Result<i64> {
    rows.first().map_or(Ok(0), |r| r.int("found"))
}

/// PostgreSQL: keeps a second GIN index over the newest index entries only (`id > floor`,
/// named in `search_recent`), so searches among the newest entries decode short posting
/// lists: the whole index's lists grow with the table (a common word has hundreds of
/// thousands of entries at a million messages) and every look through it decodes them.
///
/// Once the table holds `2 × keep` entries past the current floor (or past none), it builds
/// a new index over the newest `keep` with `CREATE INDEX CONCURRENTLY` (writes go on),
/// records it, and drops the previous one; leftovers of an interrupted run are dropped
/// first. One node at a time (an advisory lock; others return at once). Returns the new
/// floor when it built one. SQLite: nothing to do.
pub async fn renew_recent(db: &crate::Db, keep: i64) -> Result<Option<i64>> {
    let renewed = db
        .outside_transaction(move |c| {
            Box::pin(async move {
                let locked = c
                    .one("SELECT pg_try_advisory_lock(7204411) AS locked", &[])
                    .await?
                    .bool("locked")?;
                if !locked {
                    return Ok(None);
                }
                let r = renew_recent_locked(c, keep).await;
                let unlocked = c.execute("SELECT pg_advisory_unlock(7204411)", &[]).await;
                let floor = r?;
                unlocked?;
                Ok(floor)
            })
        })
        .await?;
    Ok(renewed.flatten())
}

async fn renew_recent_locked(c: &mut dyn Conn, keep: i64) -> Result<Option<i64>> {
    let keep = keep.max(1);
    let top = c
        .one("SELECT MAX(id) AS top FROM search_index", &[])
        .await?
        .opt_int("top")?
        .unwrap_or(0);
    let current = c
        .opt("SELECT floor, index_name FROM search_recent", &[])
        .await?;
    let (floor, name) = match &current {
        Some(r) => (Some(r.int("floor")?), Some(r.text("index_name")?)),
        None => (None, None),
    };
    // Leftovers: an index an interrupted run built (or half-built) and never recorded, or
    // recorded and never dropped.
    let others = c
        .query(
            "SELECT indexname AS name FROM pg_indexes
             WHERE tablename = 'search_index' AND indexname ~ '^search_recent_[0-9]+$'",
            &[],
        )
        .await?;
    for r in others {
        let other = r.text("name")?;
        if Some(&other) != name.as_ref() {
            drop_index(c, &other).await?;
        }
    }
    if top - floor.unwrap_or(0) < 2 * keep {
        return Ok(None);
    }
    let floor = top - keep;
    let new = format!("search_recent_{floor}");
    c.batch(&format!(
        "CREATE INDEX CONCURRENTLY {new} ON search_index USING GIN (tsv)
         WITH (fastupdate = off) WHERE id > {floor}"
    ))
    .await?;
    c.execute(
        "INSERT INTO search_recent (one, floor, index_name) VALUES (TRUE, $1, $2)
         ON CONFLICT (one) DO UPDATE SET floor = excluded.floor, index_name = excluded.index_name",
        &[floor.into(), new.clone().into()],
    )
    .await?;
    if let Some(old) = name {
        drop_index(c, &old).await?;
    }
    Ok(Some(floor))
}

/// Drops one of the recent indexes (`search_recent_<floor>`, a name made here) without
/// blocking searches or writes: it waits for the searches planned with it.
async fn drop_index(c: &mut dyn Conn, name: &str) -> Result<()> {
    let digits = name.strip_prefix("search_recent_").unwrap_or("");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    c.batch(&format!("DROP INDEX CONCURRENTLY IF EXISTS {name}"))
        .await
}

/// Searches tickets, messages and customers, best first, returning at most `limit` hits
/// the viewer may see. Ranks the newest [`CANDIDATES`] matches the viewer may see, then
/// builds snippets for the few hits returned only.
pub async fn search(c: &mut dyn Conn, viewer: &Viewer, q: &str, limit: usize) -> Result<Vec<Hit>> {
    let words = terms(q);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let limit = limit.clamp(1, 100);
    let backend = c.backend();
    let mut params: Vec<Value> = vec![dialect::search_query(backend, &words)];
    // The viewer's scope is part of the candidates' condition, so the newest matches
    // ranked are the newest the viewer may see: matches in other teams' tickets never
    // take a candidate's place. It excludes entries whose ticket belongs to a team outside
    // the scope (a condition, not a join, so a viewer who sees everything gets the plan
    // that joins tickets only to the candidates kept).
    let entry = dialect::search_entry(backend);
    let scope = match viewer.team_scope() {
        None => "1 = 1".to_owned(),
        Some(teams) => {
            let mut ids = Vec::new();
            for t in teams {
                params.push((*t).into());
                ids.push(format!("${}", params.len()));
            }
            let outside = if ids.is_empty() {
                String::new()
            } else {
                format!(" AND x.team_id NOT IN ({})", ids.join(", "))
            };
            format!(
                "NOT EXISTS (SELECT 1 FROM tickets x WHERE x.id = {entry}.ticket_id
                             AND x.team_id IS NOT NULL{outside})"
            )
        }
    };
    let rows = ranked(c, &scope, &mut params, limit).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // The texts of the few hits only, for their snippets.
    let sids: Vec<i64> = rows.iter().map(|r| r.int("sid")).collect::<Result<_>>()?;
    let id_list = sids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let key = dialect::search_key(backend);
    let texts = c
        .query(
            &format!(
                "SELECT {key} AS sid, title, body FROM search_index WHERE {key} IN ({id_list})"
            ),
            &[],
        )
        .await?;
    let mut hits = Vec::with_capacity(rows.len());
    for r in &rows {
        let sid = r.int("sid")?;
        let kind = r.text("kind")?;
        let is_customer = kind == "customer";
        let name = r.text("title")?;
        let (doc_title, doc_body) = match texts.iter().find(|t| t.int("sid").ok() == Some(sid)) {
            Some(t) => (t.text("title")?, t.text("body")?),
            None => (name.clone(), String::new()),
        };
        let title = if is_customer {
            if name.is_empty() {
                doc_body.clone()
            } else {
                name
            }
        } else {
            r.opt_text("subject")?.unwrap_or(name)
        };
        let excerpt_of = if doc_body.is_empty() {
            &doc_title
        } else {
            &doc_body
        };
        hits.push(Hit {
            kind,
            ticket_id: r.opt_int("ticket_id")?,
            ticket_number: r.opt_int("number")?,
            customer_id: if is_customer {
                r.opt_int("ref_id")?
            } else {
                r.opt_int("customer_id")?
            },
            title,
            snippet: highlight(excerpt_of, &words, 24),
            score: r.real("score")?,
        });
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Backend;

    #[test]
    fn queries_keep_only_words() {
        let w = terms("refund \"OR\" NEAR(x) -- 'drop'");
        assert_eq!(w, ["refund", "or", "near", "x", "drop"]);
        assert_eq!(
            dialect::search_query(Backend::Sqlite, &w[..2]),
            Value::Text("\"refund\" \"or\"".into())
        );
        assert_eq!(
            dialect::search_query(Backend::Postgres, &w[..2]),
            Value::Text("refund & or".into())
        );
        assert_eq!(
            dialect::search_query(Backend::Sqlite, &w[..1]),
            Value::Text("\"refund\"*".into())
        );
        assert_eq!(
            dialect::search_query(Backend::Postgres, &w[..1]),
            Value::Text("refund:*".into())
        );
        assert!(terms("  ... !!").is_empty());
    }

    #[test]
    fn snippets_escape_html_and_mark_hits() {
        let terms = vec!["refund".to_owned()];
        let s = highlight("<script>refund</script> & more", &terms, 24);
        assert_eq!(
            s,
            "&lt;script&gt;<mark>refund</mark>&lt;/script&gt; &amp; more"
        );
        let s = highlight("I want my refunds back", &terms, 24);
        assert_eq!(s, "I want my <mark>refunds</mark> back");
        let s = highlight("Refunding takes days", &["refunds".to_owned()], 24);
        assert_eq!(s, "<mark>Refunding</mark> takes days");
    }

    #[test]
    fn snippets_center_on_the_first_hit() {
        let text = (0..100)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
            + " refund end";
        let s = highlight(&text, &["refund".to_owned()], 12);
        assert!(s.starts_with('…'), "{s}");
        assert!(s.contains("<mark>refund</mark>"), "{s}");
        assert!(s.chars().filter(|c| *c == ' ').count() <= 12, "{s}");
    }

    proptest::proptest! {
        #[test]
        fn highlighting_never_lets_markup_through(text in "\\PC{0,200}", word in "[a-z]{1,8}") {
            let s = highlight(&text, &[word], 24);
            let without_marks = s.replace("<mark>", "").replace("</mark>", "");
            proptest::prop_assert!(!without_marks.contains('<') && !without_marks.contains('>'));
        }
    }
}
