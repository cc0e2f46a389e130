//! Daily statistics roll-up: counts per day that dashboards read instead of scanning
//! every ticket. Recomputing a day is idempotent, so the job can run again safely.

use rapport_domain::Timestamp;
use serde::Serialize;

use crate::db::Conn;
use crate::error::Result;

const DAY_MICROS: i64 = 86_400_000_000;

/// One rolled-up figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyStat {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    /// `tickets_created`, `messages`, `tickets_solved`.
    pub metric: String,
    /// A breakdown key (a channel), or empty for the total.
    pub dimension: String,
    /// The count.
    pub value: i64,
}

/// Recomputes the figures of `day` (days since the epoch) from the tickets and messages.
pub async fn roll_up_day(c: &mut dyn Conn, day: i64) -> Result<usize> {
    let from = day * DAY_MICROS;
    let to = from + DAY_MICROS;
    c.execute("DELETE FROM daily_stats WHERE day = $1", &[day.into()])
        .await?;
    let mut rows = 0;
    let queries = [
        (
            "tickets_created",
            "SELECT channel, COUNT(*) AS n FROM tickets WHERE created_at >= $1 AND created_at < $2 GROUP BY channel",
        ),
        (
            "messages",
            "SELECT channel, COUNT(*) AS n FROM messages WHERE created_at >= $1 AND created_at < $2 GROUP BY channel",
        ),
        (
            "tickets_solved",
            "SELECT channel, COUNT(*) AS n FROM tickets WHERE solved_at >= $1 AND solved_at < $2 GROUP BY channel",
        ),
    ];
    for (metric, sql) in queries {
        let counts = c.query(sql, &[from.into(), to.into()]).await?;
        let mut total = 0;
        for r in &counts {
            let n = r.int("n")?;
            total += n;
            insert(c, day, metric, &r.text("channel")?, n).await?;
            rows += 1;
        }
        insert(c, day, metric, "", total).await?;
        rows += 1;
    }
    Ok(rows)
}

async fn insert(c: &mut dyn Conn, day: i64, metric: &str, dim: &str, value: i64) -> Result<()> {
    c.execute(
        "INSERT INTO daily_stats (day, metric, dimension, value) VALUES ($1, $2, $3, $4)",
        &[day.into(), metric.into(), dim.into(), value.into()],
    )
    .await?;
    Ok(())
}

/// The figures between two instants, by day.
pub async fn between(c: &mut dyn Conn, from: Timestamp, to: Timestamp) -> Result<Vec<DailyStat>> {
    c.query(
        "SELECT day, metric, dimension, value FROM daily_stats WHERE day >= $1 AND day <= $2
         ORDER BY day, metric, dimension",
        &[from.day().into(), to.day().into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(DailyStat {
            day: r.int("day")?,
            metric: r.text("metric")?,
            dimension: r.text("dimension")?,
            value: r.int("value")?,
        })
    })
    .collect()
}
