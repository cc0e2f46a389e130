//! What customers wrote in a period, for the themes: survey comments and the customers'
//! own messages (not internal notes, not agents' replies), newest first, with their mood
//! as stored when they arrived — each cut to its first 4,000 characters.

use rapport_domain::reports::Period;
use rapport_domain::reports::themes::{Said, TEXT_CHARS};
use rapport_domain::sentiment::{self, Sentiment};

use super::Filter;
use crate::db::Conn;
use crate::error::Result;
use crate::value::Value;

/// The most texts of each kind a theme report reads.
pub const MAX_TEXTS: i64 = 3_000;

fn mood(stored: Option<i64>, text: &str) -> Sentiment {
    match stored {
        Some(v) => Sentiment::from_score(v as f64 / 1000.0),
        None => sentiment::read(text),
    }
}

/// The survey comments and customer messages of `period` under `filter`, newest first
/// (at most [`MAX_TEXTS`] of each).
pub async fn said(c: &mut dyn Conn, period: &Period, filter: &Filter) -> Result<Vec<Said>> {
    let (start, end) = (period.start(), period.end());
    let mut out = Vec::new();

    let mut p: Vec<Value> = vec![start.into(), end.into()];
    let cond = super::dashboard::survey_filter(filter, &mut p);
    p.push(MAX_TEXTS.into());
    let rows = c
        .query(
            &format!(
                "SELECT s.ticket_id, SUBSTR(s.comment, 1, {TEXT_CHARS}) AS comment, s.comment_sentiment,
                        s.answered_at FROM surveys s
                 LEFT JOIN tickets t ON t.id = s.ticket_id
                 WHERE s.answered_at >= $1 AND s.answered_at < $2 AND s.comment IS NOT NULL{cond}
                 ORDER BY s.answered_at DESC LIMIT ${}",
                p.len()
            ),
            &p,
        )
        .await?;
    let mut dated = Vec::new();
    for r in &rows {
        let text = r.text("comment")?;
        dated.push((
            r.int("answered_at")?,
            Said {
                ticket_id: r.opt_int("ticket_id")?,
                sentiment: mood(r.opt_int("comment_sentiment")?, &text),
                text,
            },
        ));
    }

    let mut p: Vec<Value> = vec![start.into(), end.into()];
    let cond = filter.on_tickets(&mut p);
    p.push(MAX_TEXTS.into());
    let rows = c
        .query(
            &format!(
                "SELECT m.ticket_id, SUBSTR(m.body, 1, {TEXT_CHARS}) AS body, m.sentiment, m.created_at
                 FROM messages m
                 JOIN tickets t ON t.id = m.ticket_id
                 WHERE t.updated_at >= $1 AND m.created_at >= $1 AND m.created_at < $2
                   AND m.author_kind = 'customer' AND m.internal = FALSE{cond}
                 ORDER BY m.created_at DESC LIMIT ${}",
                p.len()
            ),
            &p,
        )
        .await?;
    for r in &rows {
        let text = r.text("body")?;
        dated.push((
            r.int("created_at")?,
            Said {
                ticket_id: Some(r.int("ticket_id")?),
                sentiment: mood(r.opt_int("sentiment")?, &text),
                text,
            },
        ));
    }
    dated.sort_by_key(|d| std::cmp::Reverse(d.0));
    out.extend(dated.into_iter().map(|(_, s)| s));
    Ok(out)
}
