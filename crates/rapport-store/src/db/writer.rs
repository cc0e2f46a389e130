//! SQLite's one writer thread: it takes every write waiting (up to 256), runs each in its
//! own savepoint inside one `BEGIN IMMEDIATE` transaction, moves the batch's staged
//! full-text entries into FTS5, commits once and answers every caller (group commit).

use tokio::sync::mpsc;

use super::{MAX_BATCH, WriteJob};
use crate::error::{Result, StoreError};

pub(super) fn writer_loop(
    conn: &mut rusqlite::Connection,
    mut rx: mpsc::Receiver<Box<dyn WriteJob>>,
) {
    // Whether the full-text staging table exists (migration 54): looked up until it does.
    let mut staging = false;
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = commit_batch(conn, &mut batch, &mut staging);
        if let Err(e) = &committed {
            tracing::error!(error = %e, size = batch.len(), "sqlite batch failed to commit");
        }
        for job in batch {
            job.finish(committed.clone());
        }
    }
}

/// Runs a statement without parameters or rows (a transaction's `BEGIN`, `SAVEPOINT`,
/// `COMMIT`) from the connection's cache: prepared once per connection, not parsed again
/// for each of the thousands of operations a second.
pub(super) fn run_cached(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn commit_batch(
    conn: &mut rusqlite::Connection,
    batch: &mut [Box<dyn WriteJob>],
    staging: &mut bool,
) -> Result<()> {
    let run = run_cached;
    run(conn, "BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        let step = run(conn, "SAVEPOINT op").map_err(StoreError::from);
        let step = step.and_then(|()| {
            if !job.run(conn) {
                run(conn, "ROLLBACK TO op")?;
            }
            run(conn, "RELEASE op").map_err(StoreError::from)
        });
        if let Err(e) = step {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    // The batch's new full-text entries go into the FTS5 index together, outside every
    // operation's savepoint: one segment per commit instead of one per operation. (Before
    // migration 54 there is no staging table; the batch that applies it already has one.)
    let moved = (|| -> rusqlite::Result<()> {
        if !*staging {
            *staging = conn
                .prepare_cached(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'search_pending'",
                )?
                .exists([])?;
        }
        if *staging {
            for sql in crate::search::MOVE_PENDING {
                run(conn, sql)?;
            }
        }
        Ok(())
    })();
    if let Err(e) = moved {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e.into());
    }
    if let Err(e) = run(conn, "COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e.into());
    }
    Ok(())
}
