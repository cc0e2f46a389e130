//! The run's database: made fresh (SQLite directory or PostgreSQL database), kept for a
//! later `--reuse`, or dropped; and the housekeeping the benchmark does on it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

use crate::Args;

/// Where a run's database lives: a fresh SQLite directory or PostgreSQL database (kept or
/// dropped at the end), or one a `--keep` run left (`--reuse`).
pub(crate) struct Scratch {
    /// The data directory.
    pub(crate) dir: PathBuf,
    /// The directory removed at the end, unless kept (none when reusing one).
    pub(crate) temp: Option<tempfile::TempDir>,
    pub(crate) url: Option<String>,
    admin_url: String,
    pg_name: Option<String>,
}

impl Scratch {
    pub(crate) async fn new(args: &Args) -> anyhow::Result<Self> {
        let temp = tempfile::Builder::new().prefix("rapport-bench").tempdir()?;
        let dir = temp.path().to_path_buf();
        if args.backend == "sqlite" {
            if let Some(kept) = &args.reuse {
                return Ok(Self {
                    dir: PathBuf::from(kept),
                    temp: None,
                    url: None,
                    admin_url: args.pg_url.clone(),
                    pg_name: None,
                });
            }
            return Ok(Self {
                dir,
                temp: Some(temp),
                url: None,
                admin_url: args.pg_url.clone(),
                pg_name: None,
            });
        }
        if args.backend != "postgres" {
            bail!("--backend must be sqlite or postgres");
        }
        if let Some(url) = &args.reuse {
            return Ok(Self {
                dir,
                temp: Some(temp),
                url: Some(url.clone()),
                admin_url: args.pg_url.clone(),
                pg_name: None,
            });
        }
        let name = format!("rapport_bench_{}", std::process::id());
        let (client, conn) = tokio_postgres::connect(&args.pg_url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
            .await?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        let base = args
            .pg_url
            .rsplit_once('/')
            .map_or(args.pg_url.as_str(), |(b, _)| b);
        Ok(Self {
            dir,
            temp: Some(temp),
            url: Some(format!("{base}/{name}")),
            admin_url: args.pg_url.clone(),
            pg_name: Some(name),
        })
    }

    pub(crate) fn config(&self) -> rapport::Config {
        rapport::Config::for_dir(self.dir.clone(), self.url.clone())
    }

    pub(crate) async fn drop_pg(&self) -> anyhow::Result<()> {
        if let Some(name) = &self.pg_name {
            let (client, conn) =
                tokio_postgres::connect(&self.admin_url, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
        Ok(())
    }
}

/// The SQLite file of a scratch directory (none on PostgreSQL).
pub(crate) fn sqlite_path(s: &Scratch) -> Option<PathBuf> {
    s.url.is_none().then(|| s.dir.join("rapport.db"))
}

/// Statistics for the planner and a checkpointed WAL, before the server starts.
pub(crate) fn analyze(path: &std::path::Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

/// Statistics for the planner on a database the server has open (it waits for the writer).
pub(crate) fn analyze_live(path: &std::path::Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(60))?;
    conn.execute_batch("ANALYZE")?;
    Ok(())
}

/// What autovacuum does in production: statistics and the visibility map, without which
/// every index-only scan visits the heap.
pub(crate) async fn vacuum_pg(url: &str) -> anyhow::Result<()> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    client.batch_execute("VACUUM ANALYZE").await?;
    Ok(())
}
