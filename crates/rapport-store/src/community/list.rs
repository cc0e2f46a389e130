//! Listing topics a page at a time: newest, unanswered or most voted, with keyset
//! cursors both ways ("next page", "previous page"), and reading the topics a search
//! found (the search itself is the community's index, outside the store).

use base64::Engine;
use rapport_domain::{FieldError, Principal};

use super::topics::{TOPIC_COLUMNS, TOPIC_FROM, is_agent, topic_of};
use super::{Topic, readable};
use crate::db::Conn;
use crate::error::Result;
use crate::value::Value;

/// How topics are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TopicSort {
    /// Newest first (a search: best match first).
    #[default]
    Newest,
    /// Without a shown answer, newest first.
    Unanswered,
    /// Most votes on the question first.
    Votes,
}

impl TopicSort {
    /// Reads `newest`, `unanswered` or `votes`; anything else is newest.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "unanswered" => Self::Unanswered,
            "votes" => Self::Votes,
            _ => Self::Newest,
        }
    }

    /// The spelling in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Unanswered => "unanswered",
            Self::Votes => "votes",
        }
    }

    fn letter(self) -> char {
        match self {
            Self::Newest => 'n',
            Self::Unanswered => 'u',
            Self::Votes => 'v',
        }
    }
}

/// Where a topic stands in a listing's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    votes: i64,
    created_at: i64,
    id: i64,
}

impl Key {
    fn of(t: &Topic) -> Self {
        Self {
            votes: t.votes,
            created_at: t.created_at.0,
            id: t.id,
        }
    }
}

/// Where a page starts: after or before a topic of a listing (keyset), or at a position
/// of a search's ranked results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// The topics after this one (the next page).
    After(Key),
    /// The topics before this one (the previous page).
    Before(Key),
    /// A search's results from this position on.
    At(usize),
}

impl Cursor {
    /// The opaque spelling handed out, bound to the order it was made for.
    pub fn encode(self, sort: TopicSort) -> String {
        let raw = match self {
            Cursor::After(k) => format!("a{}:{}:{}:{}", sort.letter(), k.votes, k.created_at, k.id),
            Cursor::Before(k) => {
                format!("b{}:{}:{}:{}", sort.letter(), k.votes, k.created_at, k.id)
            }
            Cursor::At(n) => format!("s{}:{n}", sort.letter()),
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    /// Reads a cursor this server gave out for `sort` (else an error naming `cursor`).
    pub fn decode(raw: &str, sort: TopicSort) -> std::result::Result<Self, FieldError> {
        let bad = || FieldError::new("cursor", "is not a cursor this server gave out");
        if raw.len() > 120 {
            return Err(bad());
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut chars = text.chars();
        let (Some(kind), Some(letter)) = (chars.next(), chars.next()) else {
            return Err(bad());
        };
        if letter != sort.letter() {
            return Err(FieldError::new("cursor", "belongs to another order"));
        }
        let rest = chars.as_str().strip_prefix(':').ok_or_else(bad)?;
        let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
        match kind {
            'a' | 'b' => {
                let parts: Vec<&str> = rest.split(':').collect();
                let [v, c, id] = parts[..] else {
                    return Err(bad());
                };
                let k = Key {
                    votes: num(v)?,
                    created_at: num(c)?,
                    id: num(id)?,
                };
                Ok(if kind == 'a' {
                    Cursor::After(k)
                } else {
                    Cursor::Before(k)
                })
            }
            's' => rest.parse::<usize>().map(Cursor::At).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct TopicFilter {
    /// The order.
    pub sort: TopicSort,
    /// How many (1–100).
    pub limit: usize,
    /// Where the page starts (the first page without one).
    pub cursor: Option<Cursor>,
}

/// A page of topics.
#[derive(Debug, Clone, Default)]
pub struct TopicPage {
    /// The topics, in order.
    pub topics: Vec<Topic>,
    /// The cursor of the next page, if there is one.
    pub next: Option<Cursor>,
    /// The cursor of the previous page, if there is one.
    pub prev: Option<Cursor>,
}

/// The order's columns, as a row value (`(t.votes, t.created_at, t.id)`).
fn columns(sort: TopicSort) -> &'static str {
    match sort {
        TopicSort::Votes => "(t.votes, t.created_at, t.id)",
        TopicSort::Newest | TopicSort::Unanswered => "(t.created_at, t.id)",
    }
}

/// `key` as the order's row value, its parameters pushed onto `params`.
fn row_value(sort: TopicSort, k: Key, params: &mut Vec<Value>) -> String {
    let mut bind = |v: i64| {
        params.push(v.into());
        format!("${}", params.len())
    };
    match sort {
        TopicSort::Votes => {
            let (a, b, c) = (bind(k.votes), bind(k.created_at), bind(k.id));
            format!("({a}, {b}, {c})")
        }
        TopicSort::Newest | TopicSort::Unanswered => {
            let (b, c) = (bind(k.created_at), bind(k.id));
            format!("({b}, {c})")
        }
    }
}

/// The conditions every listing of `sort` for `who` shares.
fn conditions(who: Option<&Principal>, sort: TopicSort, params: &mut Vec<Value>) -> String {
    let mut w = readable(who, "t", params);
    if sort == TopicSort::Unanswered {
        w.push_str(
            " AND NOT EXISTS (SELECT 1 FROM community_posts a WHERE a.topic_id = t.id
                AND a.is_question = FALSE AND a.state = 'visible')",
        );
    }
    w
}

/// Whether a topic `who` may read comes after (`later`) or before `k` in `sort`'s order.
async fn any_beyond(
    c: &mut dyn Conn,
    who: Option<&Principal>,
    sort: TopicSort,
    k: Key,
    later: bool,
) -> Result<bool> {
    let mut params = Vec::new();
    let w = conditions(who, sort, &mut params);
    let key = row_value(sort, k, &mut params);
    // The order is descending: later topics have smaller keys.
    let op = if later { "<" } else { ">" };
    let sql = format!(
        "SELECT t.id FROM community_topics t WHERE {w} AND {} {op} {key} LIMIT 1",
        columns(sort)
    );
    Ok(c.opt(&sql, &params).await?.is_some())
}

/// A page of the topics `who` may read, in `f`'s order, from `f`'s cursor (a search's
/// cursor, [`Cursor::At`], starts at the beginning here).
pub async fn list(c: &mut dyn Conn, who: Option<&Principal>, f: &TopicFilter) -> Result<TopicPage> {
    let limit = f.limit.clamp(1, 100);
    let mut params: Vec<Value> = Vec::new();
    let mut sql = format!(
        "SELECT {TOPIC_COLUMNS} FROM {TOPIC_FROM} WHERE {}",
        conditions(who, f.sort, &mut params)
    );
    let (keyed, backwards) = match f.cursor {
        Some(Cursor::After(k)) => (Some(k), false),
        Some(Cursor::Before(k)) => (Some(k), true),
        Some(Cursor::At(_)) | None => (None, false),
    };
    if let Some(k) = keyed {
        let key = row_value(f.sort, k, &mut params);
        let op = if backwards { ">" } else { "<" };
        sql.push_str(&format!(" AND {} {op} {key}", columns(f.sort)));
    }
    let dir = if backwards { "ASC" } else { "DESC" };
    sql.push_str(&match f.sort {
        TopicSort::Votes => format!(" ORDER BY t.votes {dir}, t.created_at {dir}, t.id {dir}"),
        TopicSort::Newest | TopicSort::Unanswered => {
            format!(" ORDER BY t.created_at {dir}, t.id {dir}")
        }
    });
    params.push(i64::try_from(limit + 1).unwrap_or(101).into());
    sql.push_str(&format!(" LIMIT ${}", params.len()));
    let agent = is_agent(who);
    let mut topics = c
        .query(&sql, &params)
        .await?
        .iter()
        .map(|r| topic_of(r, agent))
        .collect::<Result<Vec<_>>>()?;
    let more = topics.len() > limit;
    topics.truncate(limit);
    if backwards {
        topics.reverse();
    }
    let (first, last) = match (topics.first(), topics.last()) {
        (Some(a), Some(b)) => (Key::of(a), Key::of(b)),
        _ => {
            // An empty page (what lay beyond the cursor went away): the way back starts
            // at the cursor's own topic, included.
            let back = match f.cursor {
                Some(Cursor::After(k)) => {
                    let k = Key {
                        id: k.id.saturating_sub(1),
                        ..k
                    };
                    any_beyond(c, who, f.sort, k, false)
                        .await?
                        .then_some(Cursor::Before(k))
                }
                Some(Cursor::Before(k)) => {
                    let k = Key {
                        id: k.id.saturating_add(1),
                        ..k
                    };
                    any_beyond(c, who, f.sort, k, true)
                        .await?
                        .then_some(Cursor::After(k))
                }
                _ => None,
            };
            let (next, prev) = if backwards {
                (back, None)
            } else {
                (None, back)
            };
            return Ok(TopicPage { topics, next, prev });
        }
    };
    let (has_next, has_prev) = if backwards {
        (any_beyond(c, who, f.sort, last, true).await?, more)
    } else {
        let prev = match keyed {
            Some(_) => any_beyond(c, who, f.sort, first, false).await?,
            None => false,
        };
        (more, prev)
    };
    Ok(TopicPage {
        topics,
        next: has_next.then_some(Cursor::After(last)),
        prev: has_prev.then_some(Cursor::Before(first)),
    })
}

/// The topics `who` may read among `ids`, in the order of `ids` (a search's ranking);
/// those they may not read are left out.
pub async fn by_ids(c: &mut dyn Conn, who: Option<&Principal>, ids: &[i64]) -> Result<Vec<Topic>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut params: Vec<Value> = ids.iter().map(|id| (*id).into()).collect();
    let list = crate::dialect::placeholders(1, ids.len());
    let sql = format!(
        "SELECT {TOPIC_COLUMNS} FROM {TOPIC_FROM} WHERE t.id IN ({list}) AND {}",
        readable(who, "t", &mut params)
    );
    let agent = is_agent(who);
    let mut found = c
        .query(&sql, &params)
        .await?
        .iter()
        .map(|r| topic_of(r, agent))
        .collect::<Result<Vec<_>>>()?;
    let rank = |id: i64| ids.iter().position(|i| *i == id).unwrap_or(usize::MAX);
    found.sort_by_key(|t| rank(t.id));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_stay_with_their_order() {
        let k = Key {
            votes: -3,
            created_at: 1_700_000_000_000_000,
            id: 42,
        };
        for c in [Cursor::After(k), Cursor::Before(k), Cursor::At(60)] {
            for sort in [TopicSort::Newest, TopicSort::Unanswered, TopicSort::Votes] {
                assert_eq!(Cursor::decode(&c.encode(sort), sort).unwrap(), c);
            }
        }
        let votes = Cursor::After(k).encode(TopicSort::Votes);
        assert_eq!(
            Cursor::decode(&votes, TopicSort::Newest).unwrap_err().field,
            "cursor"
        );
        for junk in ["", "!!!", "YW46MTox", &"A".repeat(500)] {
            assert_eq!(
                Cursor::decode(junk, TopicSort::Newest).unwrap_err().field,
                "cursor",
                "{junk}"
            );
        }
    }
}
