//! The timer passes at a million open tickets (`--timers N`): N open tickets written
//! straight into the tables (their SLA clocks due over the next 30 days, their statuses
//! changed over the last 30), then the minute passes timed as the clock moves a minute at a
//! time — the SLA pass that announces warnings and breaches (`announce_due`) and the time
//! rules (`run_time_rules`, a "pending for 3 days" rule that tags what crossed its mark).
//! Each pass must read only what came due, by index, never every open ticket.

use std::time::Duration;

use hdrhistogram::Histogram;
use rapport_domain::automation::{Action, Condition, Field, Op, Operand, Rule, When};
use rapport_domain::{Clock, Tag, Timestamp};
use rapport_store::{Db, op, testing};

use crate::{Report, ms, stopwatch};

const DAY: i64 = 86_400_000_000;

/// Writes `n` open tickets of one customer: status spread over new, open, pending and
/// on-hold; status changed at an even spread over the last 30 days; each with a running
/// first-response clock due at an even spread over the next 30 days (warned an hour
/// before).
async fn fill(db: &Db, n: usize, now: Timestamp, postgres: bool) -> anyhow::Result<()> {
    testing::execute(
        db,
        "INSERT INTO customers (email, name, created_at, updated_at)
         VALUES ('timers@example.com', 'Timers', $1, $1)",
        vec![now.into()],
    )
    .await?;
    let step_back = 30 * DAY / n as i64;
    // Due times in whole seconds (the stored clocks write them to the second).
    let step_ahead = (30 * 86_400 / n as i64).max(1) * 1_000_000;
    let now_s = Timestamp(now.0 - now.0 % 1_000_000);
    let series = if postgres {
        "SELECT i FROM generate_series(1, $2::bigint) AS i"
    } else {
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $2) SELECT i FROM s"
    };
    let statuses = "CASE i % 10 WHEN 0 THEN 'new' WHEN 1 THEN 'new' WHEN 2 THEN 'on-hold'
                    WHEN 3 THEN 'pending' WHEN 4 THEN 'pending' WHEN 5 THEN 'pending'
                    ELSE 'open' END";
    let sql = format!(
        "INSERT INTO tickets (number, subject, status, priority, channel, customer_id,
                              message_count, last_message_at, created_at, updated_at,
                              status_since, sla_due_at)
         SELECT i, 'Timer ticket', {statuses}, 1, 'email',
                (SELECT id FROM customers WHERE email = 'timers@example.com'), 1,
                $1 - i * $3, $1 - i * $3, $1 - i * $3, $1 - i * $3, $5 + i * $4
         FROM ({series}) AS s"
    );
    testing::execute(
        db,
        &sql,
        vec![
            now.into(),
            (n as i64).into(),
            step_back.into(),
            step_ahead.into(),
            now_s.into(),
        ],
    )
    .await?;
    let rfc3339 = if postgres {
        "to_char(to_timestamp(sla_due_at / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%SZ', sla_due_at / 1000000, 'unixepoch')"
    };
    testing::execute(
        db,
        &format!(
            "INSERT INTO ticket_sla (ticket_id, policy_id, clocks, next_due_at, warn_at,
                                     breach_at, updated_at)
             SELECT id, 1,
                    '{{\"policy_id\":1,\"first_response\":{{\"state\":\"running\",\"due_at\":\"' || {rfc3339} || '\"}},\"next_response\":{{\"state\":\"off\"}},\"resolution\":{{\"state\":\"off\"}}}}',
                    sla_due_at, sla_due_at - 3600000000, sla_due_at, $1
             FROM tickets
             WHERE customer_id = (SELECT id FROM customers WHERE email = 'timers@example.com')"
        ),
        vec![now.into()],
    )
    .await?;
    Ok(())
}

/// Fills, then times `passes` minute passes of each kind.
pub(crate) async fn run(
    db: &Db,
    clock: &dyn Clock,
    n: usize,
    passes: usize,
    postgres: bool,
    report: &mut Report,
) -> anyhow::Result<()> {
    let now = clock.now();
    let started = stopwatch();
    fill(db, n, now, postgres).await?;
    // Statistics for the planner, as a database that grew to this size would have.
    testing::execute(db, "ANALYZE", Vec::new()).await?;
    report.add(
        "timers fill",
        format!(
            "{n} open tickets in {:.1} s",
            started.elapsed().as_secs_f64()
        ),
    );
    let open = testing::scalar(
        db,
        "SELECT COUNT(*) FROM tickets WHERE status IN ('new', 'open', 'pending', 'on-hold')",
    )
    .await?;
    report.add("timers open tickets", open.to_string());
    // A rule that has been running: its watermark stands at the mark an hour ago.
    let rule = Rule {
        name: "Pending three days".into(),
        enabled: true,
        when: When::Time,
        conditions: vec![
            Condition {
                field: Field::Status,
                op: Op::Is,
                value: Some(Operand::Text("pending".into())),
            },
            Condition {
                field: Field::HoursInStatus,
                op: Op::AtLeast,
                value: Some(Operand::Number(72)),
            },
        ],
        actions: vec![Action::AddTags {
            tags: vec![Tag::parse("waited")?],
        }],
    };
    let created = db
        .write(op!(c => rapport_store::automations::create(c, rule.clone(), now).await))
        .await?;
    testing::execute(
        db,
        "UPDATE automations SET watermark_at = $1 WHERE id = $2 OR kind = 'time'",
        vec![(now.0 - 72 * 3_600_000_000).into(), created.id.into()],
    )
    .await?;
    let mut sla = Histogram::<u64>::new(3)?;
    let mut rules = Histogram::<u64>::new(3)?;
    let (mut announced, mut ran) = (0, 0);
    for k in 1..=passes {
        let at = Timestamp(now.0 + k as i64 * 60_000_000);
        let t = stopwatch();
        announced += db
            .write(op!(c => rapport_store::sla::clocks::announce_due(c, at, 500).await))
            .await?;
        sla.record(t.elapsed().as_micros() as u64)?;
        let t = stopwatch();
        ran += rapport_jobs::automations::run_time_rules(db, at).await?;
        rules.record(t.elapsed().as_micros() as u64)?;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    report.add(
        "timers SLA pass (ms p50 / p99 / max)",
        format!(
            "{:.2} / {:.2} / {:.2} over {passes} minutes, {announced} warnings and breaches",
            ms(&sla, 0.5),
            ms(&sla, 0.99),
            sla.max() as f64 / 1000.0
        ),
    );
    report.add(
        "timers time-rule pass (ms p50 / p99 / max)",
        format!(
            "{:.2} / {:.2} / {:.2} over {passes} minutes, {ran} runs",
            ms(&rules, 0.5),
            ms(&rules, 0.99),
            rules.max() as f64 / 1000.0
        ),
    );
    Ok(())
}
