//! Readers' feedback on articles: "Was this helpful?" yes or no, then an optional comment.
//! One vote per reader per article — a signed-in customer, or an anonymous visitor known
//! by the hash of their visitor cookie — and voting again changes the vote. The article's
//! `helpful_yes`/`helpful_no` counters are recounted from the votes in the same
//! transaction, with the article's row locked, so concurrent votes never leave them stale.

use rapport_domain::kb::Locale;
use rapport_domain::{FieldError, Timestamp};
use serde::Serialize;

use crate::db::Conn;
use crate::dialect;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// Who votes: one vote per voter per article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Voter {
    /// A customer signed in to the portal.
    Customer(i64),
    /// An anonymous visitor: the SHA-256 (hex) of their visitor cookie, never the cookie.
    Visitor(String),
}

impl Voter {
    /// The stored key that makes a vote unique per article.
    fn key(&self) -> String {
        match self {
            Self::Customer(id) => format!("c:{id}"),
            Self::Visitor(hash) => format!("v:{hash}"),
        }
    }
}

/// A comment on an article: at most [`Comment::MAX_CHARS`] characters, no control
/// characters besides line breaks and tabs; surrounding space trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Comment(String);

impl Comment {
    /// The longest comment, in characters.
    pub const MAX_CHARS: usize = 2000;

    /// Checks a comment someone typed, naming the field `comment`.
    pub fn parse(raw: &str) -> std::result::Result<Self, FieldError> {
        let s = raw.trim();
        if s.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "comment",
                "must be at most 2000 characters",
            ));
        }
        if s.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(FieldError::new(
                "comment",
                "must not contain control characters",
            ));
        }
        Ok(Self(s.replace("\r\n", "\n")))
    }

    /// The comment.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A vote to record.
#[derive(Debug, Clone)]
pub struct NewVote {
    /// The article voted on.
    pub article_id: i64,
    /// The language the reader read it in.
    pub locale: Locale,
    /// Yes or no.
    pub helpful: bool,
    /// An optional comment; `None` keeps the comment the voter left before (if any).
    pub comment: Option<Comment>,
    /// Who votes.
    pub voter: Voter,
}

/// One reader's feedback on an article.
#[derive(Debug, Clone, Serialize)]
pub struct Feedback {
    /// Database id.
    pub id: i64,
    /// The article.
    pub article_id: i64,
    /// The language read.
    pub locale: String,
    /// Yes or no.
    pub helpful: bool,
    /// The comment, or empty.
    pub comment: String,
    /// The customer who voted, when signed in.
    pub customer_id: Option<i64>,
    /// The hash of the anonymous visitor's cookie, when not signed in.
    pub visitor: Option<String>,
    /// First vote.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

const COLUMNS: &str =
    "id, article_id, locale, helpful, comment, customer_id, visitor, created_at, updated_at";

fn feedback(r: &Row) -> Result<Feedback> {
    Ok(Feedback {
        id: r.int("id")?,
        article_id: r.int("article_id")?,
        locale: r.text("locale")?,
        helpful: r.bool("helpful")?,
        comment: r.text("comment")?,
        customer_id: r.opt_int("customer_id")?,
        visitor: r.opt_text("visitor")?,
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
    })
}

/// Records a vote (or changes the voter's earlier one) and keeps the article's counters
/// in step. The caller has already checked that the voter may read the article; this
/// checks only that it exists (`NotFound` otherwise).
pub async fn vote(c: &mut dyn Conn, v: &NewVote, now: Timestamp) -> Result<Feedback> {
    // Votes on one article take turns: the article's row stays locked until this
    // transaction ends, so the recount below (a new snapshot on PostgreSQL's READ
    // COMMITTED) sees every vote committed before it. Without the lock two first votes
    // racing each count only their own row, and the later write leaves the total one
    // short. SQLite's single writer already runs one vote at a time.
    let lock = dialect::row_lock(c.backend(), "a");
    let exists = c
        .opt(
            &format!("SELECT a.id FROM kb_articles a WHERE a.id = $1{lock}"),
            &[v.article_id.into()],
        )
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound("article"));
    }
    let key = v.voter.key();
    let (customer_id, visitor) = match &v.voter {
        Voter::Customer(id) => (Some(*id), None),
        Voter::Visitor(hash) => (None, Some(hash.clone())),
    };
    let comment = v.comment.as_ref().map(|c| c.as_str().to_owned());
    let row = c
        .one(
            &format!(
                "INSERT INTO kb_feedback (article_id, locale, helpful, comment, voter, customer_id,
                                          visitor, created_at, updated_at)
                 VALUES ($1, $2, $3, COALESCE($4, ''), $5, $6, $7, $8, $8)
                 ON CONFLICT (article_id, voter) DO UPDATE SET
                     locale = excluded.locale, helpful = excluded.helpful,
                     comment = COALESCE($4, kb_feedback.comment), updated_at = excluded.updated_at
                 RETURNING {COLUMNS}"
            ),
            &[
                v.article_id.into(),
                v.locale.as_str().into(),
                v.helpful.into(),
                comment.into(),
                key.into(),
                customer_id.into(),
                visitor.into(),
                now.into(),
            ],
        )
        .await?;
    // The totals are counted from the votes themselves (under the lock above), so they
    // are exact however many readers vote at once.
    c.execute(
        "UPDATE kb_articles SET
             helpful_yes = (SELECT COUNT(*) FROM kb_feedback WHERE article_id = $1 AND helpful),
             helpful_no = (SELECT COUNT(*) FROM kb_feedback WHERE article_id = $1 AND NOT helpful)
         WHERE id = $1",
        &[v.article_id.into()],
    )
    .await?;
    feedback(&row)
}

/// The voter's feedback on an article, if they voted.
pub async fn of_voter(
    c: &mut dyn Conn,
    article_id: i64,
    voter: &Voter,
) -> Result<Option<Feedback>> {
    c.opt(
        &format!("SELECT {COLUMNS} FROM kb_feedback WHERE article_id = $1 AND voter = $2"),
        &[article_id.into(), voter.key().into()],
    )
    .await?
    .as_ref()
    .map(feedback)
    .transpose()
}

/// Votes and comments on one article whose last change falls in `[from, to)`, newest
/// first, at most `limit`.
pub async fn for_article(
    c: &mut dyn Conn,
    article_id: i64,
    from: Timestamp,
    to: Timestamp,
    limit: i64,
) -> Result<Vec<Feedback>> {
    c.query(
        &format!(
            "SELECT {COLUMNS} FROM kb_feedback
             WHERE article_id = $1 AND updated_at >= $2 AND updated_at < $3
             ORDER BY updated_at DESC, id DESC LIMIT $4"
        ),
        &[article_id.into(), from.into(), to.into(), limit.into()],
    )
    .await?
    .iter()
    .map(feedback)
    .collect()
}

/// Feedback on one article over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// The article.
    pub article_id: i64,
    /// "Yes" votes.
    pub helpful_yes: i64,
    /// "No" votes.
    pub helpful_no: i64,
    /// Votes that carry a comment.
    pub comments: i64,
}

/// Per article, the votes and comments whose last change falls in `[from, to)`; articles
/// without any are left out. By article id.
pub async fn totals(c: &mut dyn Conn, from: Timestamp, to: Timestamp) -> Result<Vec<Totals>> {
    c.query(
        "SELECT article_id,
                SUM(CASE WHEN helpful THEN 1 ELSE 0 END) AS yes,
                SUM(CASE WHEN helpful THEN 0 ELSE 1 END) AS no,
                SUM(CASE WHEN comment <> '' THEN 1 ELSE 0 END) AS comments
         FROM kb_feedback WHERE updated_at >= $1 AND updated_at < $2
         GROUP BY article_id ORDER BY article_id",
        &[from.into(), to.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Totals {
            article_id: r.int("article_id")?,
            helpful_yes: r.int("yes")?,
            helpful_no: r.int("no")?,
            comments: r.int("comments")?,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_checked() {
        assert_eq!(
            Comment::parse("  fine \r\nthanks ").unwrap().as_str(),
            "fine \nthanks"
        );
        assert!(Comment::parse(&"x".repeat(2000)).is_ok());
        let long = Comment::parse(&"é".repeat(2001)).unwrap_err();
        assert_eq!(long.field, "comment");
        assert!(Comment::parse("bell\u{7}").is_err());
        assert!(Comment::parse("").unwrap().as_str().is_empty());
    }

    #[test]
    fn voters_are_keyed_apart() {
        assert_ne!(Voter::Customer(1).key(), Voter::Visitor("1".into()).key());
    }
}
