//! The CRM at scale (`--crm N`): N messages on N/10 tickets of many customers written
//! straight into the tables, then one customer with 1,000 interactions (tickets opened,
//! messages both ways, orders, points and vouchers); their timeline is read a page at a
//! time — the newest page and every page after it — as the ticket sidebar and the API do.
//! Then the order import: orders checked and pushed in batches of 1,000 (one transaction
//! each), as `POST /api/v1/orders/batch` does.

use hdrhistogram::Histogram;
use rapport_domain::commerce::{NewOrder, RawLine, RawOrder, RawShipment};
use rapport_domain::{Clock, Role, Timestamp, Viewer};
use rapport_store::commerce::orders;
use rapport_store::crm::timeline;
use rapport_store::events::Actor;
use rapport_store::{Db, op, testing};

use crate::{Report, ms, stopwatch};

const SEC: i64 = 1_000_000;

async fn fill(db: &Db, messages: usize, now: Timestamp, postgres: bool) -> anyhow::Result<()> {
    let series = if postgres {
        "SELECT i FROM generate_series(1, $1::bigint) AS i"
    } else {
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $1) SELECT i FROM s"
    };
    let tickets = (messages / 10).max(1) as i64;
    let customers = (tickets / 5).max(1);
    testing::execute(
        db,
        &format!(
            "INSERT INTO customers (email, name, created_at, updated_at)
             SELECT 'c' || i || '@example.com', 'Customer ' || i, $2, $2 FROM ({series}) AS s"
        ),
        vec![customers.into(), now.into()],
    )
    .await?;
    testing::execute(
        db,
        &format!(
            "INSERT INTO tickets (number, subject, status, priority, channel, customer_id,
                                  message_count, last_message_at, created_at, updated_at,
                                  status_since)
             SELECT i, 'Question ' || i, 'open', 1, 'email',
                    (SELECT MIN(id) FROM customers) + i % $2, 10, $3 - i * $4, $3 - i * $4,
                    $3 - i * $4, $3 - i * $4
             FROM ({series}) AS s"
        ),
        vec![
            tickets.into(),
            customers.into(),
            now.into(),
            (60 * SEC).into(),
        ],
    )
    .await?;
    for k in 0..10 {
        testing::execute(
            db,
            "INSERT INTO messages (ticket_id, author_kind, internal, channel, body, created_at)
             SELECT id, CASE WHEN $1 % 2 = 0 THEN 'customer' ELSE 'agent' END, FALSE, 'email',
                    'Message ' || $1 || ' about order ' || number, created_at + $1 * $2
             FROM tickets",
            vec![i64::from(k).into(), SEC.into()],
        )
        .await?;
    }
    Ok(())
}

/// One customer with `n` interactions: a fifth tickets opened, then two fifths messages,
/// and the rest orders, points and vouchers.
async fn busy_customer(db: &Db, n: usize, now: Timestamp) -> anyhow::Result<i64> {
    let email = "busy@example.com";
    let t = n / 5;
    testing::execute(
        db,
        "INSERT INTO customers (email, name, created_at, updated_at)
         VALUES ('busy@example.com', 'Busy', $1, $1)",
        vec![now.into()],
    )
    .await?;
    let cid = testing::scalar(
        db,
        "SELECT id FROM customers WHERE email = 'busy@example.com'",
    )
    .await?;
    for i in 0..t as i64 {
        let at = now.0 - (n as i64 - i) * 3600 * SEC;
        testing::execute(
            db,
            "INSERT INTO tickets (number, subject, status, priority, channel, customer_id,
                                  message_count, last_message_at, created_at, updated_at,
                                  status_since)
             VALUES ($1, $2, 'solved', 1, 'chat', $3, 2, $4, $4, $4, $4)",
            vec![
                (10_000_000 + i).into(),
                format!("Busy question {i}").into(),
                cid.into(),
                at.into(),
            ],
        )
        .await?;
    }
    testing::execute(
        db,
        "INSERT INTO messages (ticket_id, author_kind, internal, channel, body, created_at)
         SELECT id, 'customer', FALSE, 'chat', 'Where is it?', created_at FROM tickets
         WHERE customer_id = $1",
        vec![cid.into()],
    )
    .await?;
    testing::execute(
        db,
        "INSERT INTO messages (ticket_id, author_kind, internal, channel, body, created_at)
         SELECT id, 'agent', FALSE, 'chat', 'Here it is.', created_at + 60000000 FROM tickets
         WHERE customer_id = $1",
        vec![cid.into()],
    )
    .await?;
    let rest = n - 3 * t;
    let orders_n = rest / 2;
    for i in 0..orders_n {
        let order = NewOrder::parse(
            &RawOrder {
                external_id: &format!("BUSY-{i}"),
                email,
                currency: "EUR",
                status: Some("delivered"),
                placed_at: Some(Timestamp(now.0 - i as i64 * 7200 * SEC)),
                lines: vec![RawLine {
                    sku: "SKU-1",
                    name: "Thing",
                    quantity: 1,
                    unit_price: "9.99",
                }],
                ..RawOrder::default()
            },
            now,
        )?;
        db.write(op!(c => orders::push(c, Actor::System, &order, now).await))
            .await?;
    }
    for i in 0..(rest - orders_n) as i64 {
        testing::execute(
            db,
            "INSERT INTO vouchers (code, customer_id, percent, reason, created_at)
             VALUES ($1, $2, 10, 'Goodwill', $3)",
            vec![
                format!("RAP-BUSY-{i:08}").into(),
                cid.into(),
                (now.0 - i * 5400 * SEC).into(),
            ],
        )
        .await?;
    }
    Ok(cid)
}

/// Runs the CRM benchmark.
pub(crate) async fn run(
    db: &Db,
    clock: &dyn Clock,
    messages: usize,
    reads: usize,
    pg_url: Option<&str>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let now = clock.now();
    let started = stopwatch();
    fill(db, messages, now, pg_url.is_some()).await?;
    let cid = busy_customer(db, 1_000, now).await?;
    match pg_url {
        Some(url) => crate::scratch::vacuum_pg(url).await?,
        None => {
            testing::execute(db, "ANALYZE", Vec::new()).await?;
        }
    }
    report.add(
        "crm fill",
        format!(
            "{messages} messages, and one customer with 1,000 interactions, in {:.1} s",
            started.elapsed().as_secs_f64()
        ),
    );
    let viewer = Viewer {
        user_id: 1,
        role: Role::Supervisor,
        team_ids: Vec::new(),
    };
    // Every page, 50 at a time, from the newest: 20 pages for 1,000 interactions.
    let mut first = Histogram::<u64>::new(3)?;
    let mut every = Histogram::<u64>::new(3)?;
    let mut total = 0;
    for _ in 0..reads {
        let mut cursor = None;
        let mut page_no = 0;
        total = 0;
        loop {
            let v = viewer.clone();
            let t = stopwatch();
            let (items, next) = db
                .read(op!(c => timeline::page(c, &v, cid, cursor, 50).await))
                .await?;
            let us = t.elapsed().as_micros() as u64;
            every.record(us)?;
            if page_no == 0 {
                first.record(us)?;
            }
            page_no += 1;
            total += items.len();
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
    }
    anyhow::ensure!(total == 1_000, "the timeline held {total} items, not 1,000");
    report.add(
        "customer timeline, newest page of 50 (ms p50 / p99)",
        format!(
            "{:.2} / {:.2} over {reads} reads",
            ms(&first, 0.5),
            ms(&first, 0.99)
        ),
    );
    report.add(
        "customer timeline, every page of 50 (ms p50 / p99)",
        format!(
            "{:.2} / {:.2} over {} pages",
            ms(&every, 0.5),
            ms(&every, 0.99),
            every.len()
        ),
    );

    // The order import: 20,000 orders of 2,000 customers, in batches of 1,000.
    let n = 20_000usize;
    let started = stopwatch();
    let mut done = 0;
    while done < n {
        let batch: Vec<NewOrder> = (done..done + 1_000)
            .map(|i| {
                let email = format!("shopper{}@example.com", i % 2_000);
                let id = format!("IMP-{i}");
                NewOrder::parse(
                    &RawOrder {
                        external_id: &id,
                        email: &email,
                        currency: "EUR",
                        status: Some("shipped"),
                        placed_at: Some(Timestamp(now.0 - i as i64 * SEC)),
                        lines: vec![
                            RawLine {
                                sku: "MUG-1",
                                name: "Mug",
                                quantity: 2,
                                unit_price: "4.50",
                            },
                            RawLine {
                                sku: "TEA-9",
                                name: "Tea",
                                quantity: 1,
                                unit_price: "7.20",
                            },
                        ],
                        shipping: Some("3.95"),
                        shipments: vec![RawShipment {
                            carrier: "DHL",
                            tracking_number: &id,
                            status: Some("in-transit"),
                            expected_at: None,
                        }],
                        ..RawOrder::default()
                    },
                    now,
                )
            })
            .collect::<Result<_, _>>()?;
        db.write(op!(c => {
            for o in &batch {
                orders::push(c, Actor::System, o, now).await?;
            }
            Ok(())
        }))
        .await?;
        done += 1_000;
    }
    let secs = started.elapsed().as_secs_f64();
    report.add(
        "order import (checked and stored, batches of 1,000)",
        format!("{n} orders in {secs:.1} s: {:.0} orders/s", n as f64 / secs),
    );
    Ok(())
}
