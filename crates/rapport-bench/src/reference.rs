//! The physical reference: the rows one ticket creation writes, inserted straight into
//! the database with no HTTP and no domain logic.

#![allow(clippy::wildcard_imports, reason = "the benchmark's shared helpers")]

use super::*;
/// The rows one ticket creation writes, straight into SQLite: customer lookup, ticket,
/// tag, message, two search entries, one event. `group` tickets share a transaction.
pub(crate) fn raw_sqlite(path: &std::path::Path, n: usize, group: usize) -> anyhow::Result<f64> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    )?;
    let now = SystemClock.now().micros();
    let cust: i64 = conn.query_row("SELECT id FROM customers LIMIT 1", [], |r| r.get(0))?;
    let base: i64 = conn.query_row("SELECT COALESCE(MAX(number), 0) FROM tickets", [], |r| {
        r.get(0)
    })?;
    let started = stopwatch();
    let mut i = 0usize;
    while i < n {
        let tx = conn.unchecked_transaction()?;
        for _ in 0..group.min(n - i) {
            i += 1;
            let num = base + 1_000_000 + i64::try_from(i)?;
            let _: i64 = tx
                .query_row(
                    "SELECT id FROM customers WHERE email = ?1",
                    ["bench0x1@example.com"],
                    |r| r.get(0),
                )
                .unwrap_or(cust);
            let tid: i64 = tx.query_row(
                "INSERT INTO tickets (number, subject, status, priority, category, channel, customer_id, tags, custom_fields, message_count, last_message_at, created_at, updated_at)
                 VALUES (?1, 'Order arrived damaged', 'new', 2, 'order-management', 'email', ?2, '[\"damaged\"]', '{}', 1, ?3, ?3, ?3) RETURNING id",
                rusqlite::params![num, cust, now],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO ticket_tags (ticket_id, tag) VALUES (?1, 'damaged')",
                [tid],
            )?;
            let mid: i64 = tx.query_row(
                "INSERT INTO messages (ticket_id, author_kind, author_customer_id, internal, channel, body, created_at)
                 VALUES (?1, 'customer', ?2, 0, 'email', 'The parcel was crushed and the lamp inside has a cracked base. I have photos.', ?3) RETURNING id",
                rusqlite::params![tid, cust, now],
                |r| r.get(0),
            )?;
            tx.execute("INSERT INTO search_index (title, body, kind, ticket_id, ref_id) VALUES ('', 'The parcel was crushed and the lamp inside has a cracked base. I have photos.', 'message', ?1, ?2)", [tid, mid])?;
            tx.execute("INSERT INTO search_index (title, body, kind, ticket_id, ref_id) VALUES ('Order arrived damaged', '', 'ticket', ?1, ?1)", [tid])?;
            tx.execute("INSERT INTO events (ticket_id, actor_user_id, kind, data, created_at) VALUES (?1, 1, 'ticket_created', '{}', ?2)", rusqlite::params![tid, now])?;
        }
        tx.commit()?;
    }
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The same rows into PostgreSQL, from `conns` connections, `group` tickets per
/// transaction.
pub(crate) async fn raw_postgres(
    url: &str,
    n: usize,
    group: usize,
    conns: usize,
) -> anyhow::Result<f64> {
    let started = stopwatch();
    let now = SystemClock.now().micros();
    let per = n / conns.max(1);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let (mut client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            let cust: i64 = client.query_one("SELECT id FROM customers LIMIT 1", &[]).await?.get(0);
            let mut i = 0usize;
            while i < per {
                let tx = client.transaction().await?;
                for _ in 0..group.min(per - i) {
                    i += 1;
                    let _ = tx.query_opt("SELECT id FROM customers WHERE email = $1", &[&"bench0x1@example.com"]).await?;
                    let tid: i64 = tx.query_one(
                        "INSERT INTO tickets (number, subject, status, priority, category, channel, customer_id, tags, custom_fields, message_count, last_message_at, created_at, updated_at)
                         VALUES (nextval('ticket_number_seq'), 'Order arrived damaged', 'new', 2, 'order-management', 'email', $1, '[\"damaged\"]', '{}', 1, $2, $2, $2) RETURNING id",
                        &[&cust, &now],
                    ).await?.get(0);
                    tx.execute("INSERT INTO ticket_tags (ticket_id, tag) VALUES ($1, 'damaged')", &[&tid]).await?;
                    let mid: i64 = tx.query_one(
                        "INSERT INTO messages (ticket_id, author_kind, author_customer_id, internal, channel, body, created_at)
                         VALUES ($1, 'customer', $2, false, 'email', 'The parcel was crushed and the lamp inside has a cracked base. I have photos.', $3) RETURNING id",
                        &[&tid, &cust, &now],
                    ).await?.get(0);
                    tx.execute("INSERT INTO search_index (title, body, kind, ticket_id, ref_id) VALUES ('', 'The parcel was crushed and the lamp inside has a cracked base. I have photos.', 'message', $1, $2)", &[&tid, &mid]).await?;
                    tx.execute("INSERT INTO search_index (title, body, kind, ticket_id, ref_id) VALUES ('Order arrived damaged', '', 'ticket', $1, $1)", &[&tid]).await?;
                    tx.execute("INSERT INTO events (ticket_id, actor_user_id, kind, data, created_at) VALUES ($1, 1, 'ticket_created', '{}', $2)", &[&tid, &now]).await?;
                }
                tx.commit().await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    Ok((per * conns.max(1)) as f64 / started.elapsed().as_secs_f64())
}
