//! The reports at scale (`--reports N`): N tickets over the last 90 days written straight
//! into the tables — spread over four teams, twenty agents (five a team), four channels and
//! the built-in categories, every agent with tickets of every channel and category, most of them answered and solved, every fifth with a second exchange (a
//! next response), one in ten still open — then the reports the dashboard reads timed as
//! a supervisor would ask for them: the summary (with the period before) and the
//! dashboard's breakdowns, over the whole 90 days and over the last 7, unfiltered and for
//! one team. The roll-ups are built first (timed), and checked once per case against
//! a fresh aggregation.

use hdrhistogram::Histogram;
use rapport_domain::reports::Period;
use rapport_domain::{Clock, Timestamp};
use rapport_store::reports::{Filter, dashboard, rollup, summary, summary_fresh};
use rapport_store::{Db, op, testing};

use crate::{Report, ms, stopwatch};

const DAY: i64 = 86_400_000_000;
const SEC: i64 = 1_000_000;

async fn fill(db: &Db, n: usize, now: Timestamp, postgres: bool) -> anyhow::Result<()> {
    testing::execute(
        db,
        "INSERT INTO customers (email, name, created_at, updated_at)
         VALUES ('reports@example.com', 'Reports', $1, $1)",
        vec![now.into()],
    )
    .await?;
    for t in 1..=4 {
        testing::execute(
            db,
            "INSERT INTO teams (name, created_at) VALUES ($1, $2)",
            vec![format!("Team {t}").into(), now.into()],
        )
        .await?;
    }
    for a in 1..=20 {
        testing::execute(
            db,
            "INSERT INTO users (email, name, role, active, created_at)
             VALUES ($1, $2, 'agent', TRUE, $3)",
            vec![
                format!("agent{a}@example.com").into(),
                format!("Agent {a}").into(),
                now.into(),
            ],
        )
        .await?;
    }
    let series = if postgres {
        "SELECT i FROM generate_series(1, $1::bigint) AS i"
    } else {
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $1) SELECT i FROM s"
    };
    let start = now.0 - 90 * DAY;
    let step = 90 * DAY / n as i64;
    // Created evenly over 90 days; answered 1–240 minutes later; solved 1–48 hours after
    // that (one in ten still open).
    let sql = format!(
        "INSERT INTO tickets (number, subject, status, priority, channel, category, customer_id,
                              team_id, assignee_id, message_count, last_message_at,
                              first_response_at, solved_at, created_at, updated_at,
                              status_since)
         SELECT i, 'Report ticket',
                CASE WHEN i % 10 = 0 THEN 'open' ELSE 'solved' END, 1,
                CASE (i / 20) % 4 WHEN 0 THEN 'email' WHEN 1 THEN 'chat' WHEN 2 THEN 'web' ELSE 'phone' END,
                CASE (i / 80) % 5 WHEN 0 THEN NULL WHEN 1 THEN 'billing' WHEN 2 THEN 'technical'
                           WHEN 3 THEN 'product-guidance' ELSE 'order-management' END,
                (SELECT id FROM customers WHERE email = 'reports@example.com'),
                (SELECT MIN(id) FROM teams) + i % 4,
                (SELECT MIN(id) FROM users WHERE email LIKE 'agent%@example.com') + i % 20,
                2, $2 + i * $3, $2 + i * $3 + (60 + (i * 7919) % 14340) * $4,
                CASE WHEN i % 10 = 0 THEN NULL
                     ELSE $2 + i * $3 + (60 + (i * 7919) % 14340) * $4 + (3600 + (i * 104729) % 169200) * $4 END,
                $2 + i * $3, $2 + i * $3, $2 + i * $3
         FROM ({series}) AS s"
    );
    testing::execute(
        db,
        &sql,
        vec![(n as i64).into(), start.into(), step.into(), SEC.into()],
    )
    .await?;
    // The customer's question and the first answer; every fifth ticket a follow-up
    // question an hour after the answer and its answer 1–120 minutes later.
    let mine = "SELECT id, created_at, first_response_at, assignee_id, number
                FROM tickets WHERE customer_id = (SELECT id FROM customers WHERE email = 'reports@example.com')";
    testing::execute(
        db,
        &format!(
            "INSERT INTO messages (ticket_id, author_kind, internal, channel, body, created_at)
             SELECT id, 'customer', FALSE, 'email', 'Where is my refund? It has been a week.', created_at
             FROM ({mine}) AS t"
        ),
        Vec::new(),
    )
    .await?;
    testing::execute(
        db,
        &format!(
            "INSERT INTO messages (ticket_id, author_kind, author_user_id, internal, channel, body, created_at)
             SELECT id, 'agent', assignee_id, FALSE, 'email', 'It is on its way.', first_response_at
             FROM ({mine}) AS t"
        ),
        Vec::new(),
    )
    .await?;
    testing::execute(
        db,
        &format!(
            "INSERT INTO messages (ticket_id, author_kind, internal, channel, body, created_at)
             SELECT id, 'customer', FALSE, 'email', 'The tracking number does not work.', first_response_at + 3600 * CAST($1 AS BIGINT)
             FROM ({mine}) AS t WHERE number % 5 = 0"
        ),
        vec![SEC.into()],
    )
    .await?;
    testing::execute(
        db,
        &format!(
            "INSERT INTO messages (ticket_id, author_kind, author_user_id, internal, channel, body, created_at)
             SELECT id, 'agent', assignee_id, FALSE, 'email', 'Here is a new one.',
                    first_response_at + (3600 + 60 + (number * 31) % 7140) * CAST($1 AS BIGINT)
             FROM ({mine}) AS t WHERE number % 5 = 0"
        ),
        vec![SEC.into()],
    )
    .await?;
    // A ticket was last updated by its latest message or its solve.
    testing::execute(
        db,
        "UPDATE tickets SET updated_at = (
             SELECT CASE WHEN MAX(m.created_at) > COALESCE(tickets.solved_at, 0)
                         THEN MAX(m.created_at) ELSE tickets.solved_at END
             FROM messages m WHERE m.ticket_id = tickets.id)
         WHERE customer_id = (SELECT id FROM customers WHERE email = 'reports@example.com')",
        Vec::new(),
    )
    .await?;
    Ok(())
}

/// Fills, then times `reads` reads of each report.
pub(crate) async fn run(
    db: &Db,
    clock: &dyn Clock,
    n: usize,
    reads: usize,
    pg_url: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let postgres = pg_url.is_some();
    let now = clock.now();
    let started = stopwatch();
    fill(db, n, now, postgres).await?;
    testing::execute(db, "ANALYZE", Vec::new()).await?;
    report.add(
        "reports fill",
        format!(
            "{n} tickets over 90 days in {:.1} s",
            started.elapsed().as_secs_f64()
        ),
    );
    // The tickets went straight into the tables: the roll-ups are built from them, as a
    // server does at start for tickets that predate them.
    db.write(op!(c => rollup::reset(c).await)).await?;
    let started = stopwatch();
    rollup::build(db).await?;
    let built = started.elapsed();
    // What autovacuum does on a live PostgreSQL: statistics and the visibility map (the
    // backlog counts from an index alone).
    match pg_url {
        Some(url) => crate::scratch::vacuum_pg(url).await?,
        None => {
            testing::execute(db, "ANALYZE", Vec::new()).await?;
        }
    }
    let cells = testing::scalar(db, "SELECT COUNT(*) FROM report_cells").await?;
    report.add(
        "reports roll-ups built",
        format!(
            "{n} tickets in {:.1} s ({cells} cells)",
            built.as_secs_f64()
        ),
    );
    let today = now.to_datetime().date_naive();
    let day = |d: i64| (today - chrono::Duration::days(d)).to_string();
    let team = testing::scalar(db, "SELECT MIN(id) FROM teams").await?;
    let cases = [
        (
            "90 days",
            Period::parse(&day(89), &day(0))?,
            Filter::default(),
        ),
        (
            "90 days, one team",
            Period::parse(&day(89), &day(0))?,
            Filter {
                team_id: Some(team),
                ..Filter::default()
            },
        ),
        (
            "7 days",
            Period::parse(&day(6), &day(0))?,
            Filter::default(),
        ),
    ];
    for (name, period, filter) in cases {
        // The roll-ups equal a fresh aggregation, here at scale too.
        let (p, f) = (period, filter.clone());
        let t = stopwatch();
        let (rolled, fresh, rolled_d, fresh_d) = db
            .read(op!(c => Ok((
                summary(c, &p, &f, now).await?,
                summary_fresh(c, &p, &f, now).await?,
                dashboard::dashboard(c, &p, &f, now).await?,
                dashboard::dashboard_fresh(c, &p, &f, now).await?,
            ))))
            .await?;
        anyhow::ensure!(
            rolled == fresh,
            "{name}: the rolled-up summary differs from a fresh one"
        );
        if rolled_d != fresh_d {
            let (a, b) = (format!("{rolled_d:#?}"), format!("{fresh_d:#?}"));
            for (x, y) in a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(20) {
                eprintln!("rolled {x}\nfresh  {y}");
            }
            anyhow::bail!("{name}: the rolled-up dashboard differs from a fresh one");
        }
        report.add(
            &format!("reports {name}: roll-ups equal a fresh aggregation"),
            format!(
                "yes (the fresh one took {:.1} s)",
                t.elapsed().as_secs_f64()
            ),
        );
        let mut sum = Histogram::<u64>::new(3)?;
        let mut board = Histogram::<u64>::new(3)?;
        let mut volume = 0;
        for _ in 0..reads {
            let before = period.previous();
            let (p, f) = (period, filter.clone());
            let t = stopwatch();
            rollup::catch_up(db).await?;
            let s = db
                .read(op!(c => Ok((
                    summary(c, &p, &f, now).await?,
                    summary(c, &before, &f, now).await?,
                ))))
                .await?;
            sum.record(t.elapsed().as_micros() as u64)?;
            volume = s.0.volume;
            let f = filter.clone();
            let t = stopwatch();
            db.read(op!(c => dashboard::dashboard(c, &p, &f, now).await))
                .await?;
            board.record(t.elapsed().as_micros() as u64)?;
        }
        report.add(
            &format!("reports summary, {name} (ms p50 / p95)"),
            format!(
                "{:.1} / {:.1} over {reads} reads, {volume} tickets",
                ms(&sum, 0.5),
                ms(&sum, 0.95)
            ),
        );
        report.add(
            &format!("reports dashboard, {name} (ms p50 / p95)"),
            format!("{:.1} / {:.1}", ms(&board, 0.5), ms(&board, 0.95)),
        );
    }
    Ok(())
}
