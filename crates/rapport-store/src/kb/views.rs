//! How often articles are read: a total per article (`kb_articles.views`) and a count per
//! article per UTC day (`kb_article_views`) for reports over a period. Pages do not write
//! a row per view: each node adds views up in memory and hands them here in batches
//! ([`record`]), one write every few seconds.

use rapport_domain::Timestamp;
use serde::Serialize;

use crate::db::Conn;
use crate::error::Result;

/// Views of one article on one UTC day (`day`: days since the epoch, [`Timestamp::day`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayViews {
    /// The article.
    pub article_id: i64,
    /// Days since the epoch.
    pub day: i64,
    /// Views that day.
    pub views: i64,
}

/// Adds a batch of counted views: each article's total and its per-day row. Views of an
/// article deleted since they were counted are dropped.
pub async fn record(c: &mut dyn Conn, batch: &[DayViews]) -> Result<()> {
    for v in batch.iter().filter(|v| v.views > 0) {
        let updated = c
            .execute(
                "UPDATE kb_articles SET views = views + $2 WHERE id = $1",
                &[v.article_id.into(), v.views.into()],
            )
            .await?;
        if updated == 0 {
            continue;
        }
        c.execute(
            "INSERT INTO kb_article_views (article_id, day, views) VALUES ($1, $2, $3)
             ON CONFLICT (article_id, day) DO UPDATE
                 SET views = kb_article_views.views + excluded.views",
            &[v.article_id.into(), v.day.into(), v.views.into()],
        )
        .await?;
    }
    Ok(())
}

/// Per article, the views on the days that fall in `[from, to)` (each day counted whole
/// when its first instant is in the period); articles without views are left out. By
/// article id.
pub async fn totals(c: &mut dyn Conn, from: Timestamp, to: Timestamp) -> Result<Vec<(i64, i64)>> {
    c.query(
        "SELECT article_id, CAST(SUM(views) AS BIGINT) AS views FROM kb_article_views
         WHERE day >= $1 AND day < $2 GROUP BY article_id ORDER BY article_id",
        &[first_day(from).into(), first_day(to).into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.int("article_id")?, r.int("views")?)))
    .collect()
}

/// One article's views per day in `[from, to)`, oldest day first; days without views are
/// left out.
pub async fn daily(
    c: &mut dyn Conn,
    article_id: i64,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<DayViews>> {
    c.query(
        "SELECT article_id, day, views FROM kb_article_views
         WHERE article_id = $1 AND day >= $2 AND day < $3 ORDER BY day",
        &[
            article_id.into(),
            first_day(from).into(),
            first_day(to).into(),
        ],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(DayViews {
            article_id: r.int("article_id")?,
            day: r.int("day")?,
            views: r.int("views")?,
        })
    })
    .collect()
}

/// The first day whose start is at or after `t`.
fn first_day(t: Timestamp) -> i64 {
    let day = t.day();
    if day.saturating_mul(86_400_000_000) == t.micros() {
        day
    } else {
        day + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_counts_the_days_that_start_in_it() {
        let day = 86_400_000_000;
        assert_eq!(first_day(Timestamp(0)), 0);
        assert_eq!(first_day(Timestamp(1)), 1);
        assert_eq!(first_day(Timestamp(day)), 1);
        assert_eq!(first_day(Timestamp(-1)), 0);
    }
}
