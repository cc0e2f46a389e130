//! One way to run SQL on either database.
//!
//! Store operations are written once, as async functions over `&mut dyn Conn`, in the
//! portable subset of SQL (`$1` placeholders, `RETURNING`, `ON CONFLICT`). A [`Db`] runs
//! them inside a transaction:
//!
//! * **SQLite** has one writer. Every write operation is sent to one writer thread that
//!   owns the only write connection. It takes whatever operations are waiting (up to
//!   [`MAX_BATCH`]), runs each inside its own savepoint in one `BEGIN IMMEDIATE`
//!   transaction, commits once, and only then answers each caller. One fsync covers the
//!   whole batch (group commit), so 32 concurrent clients never see "database is
//!   locked" and durability costs one sync per batch, not per ticket. Reads use a small
//!   pool of read-only connections, each in its own WAL snapshot.
//! * **PostgreSQL** runs each operation in its own transaction on a pooled connection.

mod writer;

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::sync::{Semaphore, broadcast, mpsc, oneshot, watch};

use crate::dialect::sqlite_placeholders;
use crate::error::{Result, StoreError};
use crate::value::{Row, Value, from_pg, from_sqlite, pg_names};

/// The most operations committed together by the SQLite writer.
pub const MAX_BATCH: usize = 256;

/// Which database a connection talks to, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Its name, as `/healthz` reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A connection inside a transaction, as store operations see it.
///
/// **Opaque outside this crate.** Other crates receive a `&mut dyn Conn` from
/// [`Db::write`]/[`Db::read`] only to hand it to store operations, so several operations
/// can share one transaction; they cannot run SQL on it. The SQL methods take a [`Sealed`]
/// token that only this crate can make, and the convenient `execute`/`query`/`one`/`opt`/
/// `batch` are crate-private.
pub trait Conn: Send {
    /// Which database this is.
    fn backend(&self) -> Backend;
    /// Runs a statement and returns how many rows it changed.
    #[doc(hidden)]
    fn raw_execute<'a>(
        &'a mut self,
        _: Sealed,
        sql: &'a str,
        params: &'a [Value],
    ) -> BoxFuture<'a, Result<u64>>;
    /// Runs a query and returns every row.
    #[doc(hidden)]
    fn raw_query<'a>(
        &'a mut self,
        _: Sealed,
        sql: &'a str,
        params: &'a [Value],
    ) -> BoxFuture<'a, Result<Vec<Row>>>;
    /// Runs several statements with no parameters (migrations).
    #[doc(hidden)]
    fn raw_batch<'a>(&'a mut self, _: Sealed, sql: &'a str) -> BoxFuture<'a, Result<()>>;
}

/// The token that keeps [`Conn`]'s SQL methods inside this crate: nothing outside can make
/// one.
#[derive(Debug, Clone, Copy)]
pub struct Sealed(());

impl dyn Conn + '_ {
    /// Runs a statement and returns how many rows it changed.
    pub(crate) fn execute<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Value],
    ) -> BoxFuture<'a, Result<u64>> {
        self.raw_execute(Sealed(()), sql, params)
    }

    /// Runs a query and returns every row.
    pub(crate) fn query<'a>(
        &'a mut self,
        sql: &'a str,
        params: &'a [Value],
    ) -> BoxFuture<'a, Result<Vec<Row>>> {
        self.raw_query(Sealed(()), sql, params)
    }

    /// Runs several statements with no parameters (migrations).
    pub(crate) fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        self.raw_batch(Sealed(()), sql)
    }

    /// Runs a query that must return exactly one row.
    pub(crate) async fn one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.opt(sql, params)
            .await?
            .ok_or_else(|| StoreError::Db("expected a row, got none".into()))
    }

    /// Runs a query that returns at most one row.
    pub(crate) async fn opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }
}

/// The future a store operation returns, borrowing its connection.
pub type OpFuture<'c, T> = BoxFuture<'c, Result<T>>;

/// Where a database is and how to open it.
#[derive(Debug, Clone)]
pub enum DbConfig {
    /// An SQLite file at this path (created if missing).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL (`postgres://user@host/db`).
    Postgres(String),
}

impl DbConfig {
    /// Reads `DATABASE_URL` if set (a `postgres://` URL or `sqlite://path`), else an SQLite
    /// file inside `data_dir`.
    pub fn from_url_or_dir(url: Option<&str>, data_dir: &Path) -> Result<Self> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(DbConfig::Sqlite(data_dir.join("rapport.db"))),
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                Ok(DbConfig::Postgres(u.to_owned()))
            }
            Some(u) if u.starts_with("sqlite://") => {
                Ok(DbConfig::Sqlite(u.trim_start_matches("sqlite://").into()))
            }
            Some(u) => Err(StoreError::Db(format!(
                "DATABASE_URL must start with postgres:// or sqlite://, got {u:?}"
            ))),
        }
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
    /// Counts this process's committed writes, so followers of the event stream on this
    /// node look at once instead of at their next poll (see [`Db::commits`]).
    commits: Arc<watch::Sender<u64>>,
    /// Passing signals other nodes sent (see [`Db::signals`]).
    signals: Arc<broadcast::Sender<String>>,
}

/// The PostgreSQL notification channel of passing signals between nodes.
const SIGNALS: &str = "rapport_signals";

/// The largest signal payload (PostgreSQL's limit is 8,000 bytes).
pub const MAX_SIGNAL_BYTES: usize = 4_000;

enum Inner {
    Sqlite(SqliteDb),
    Postgres(deadpool_postgres::Pool, Box<crate::pg_tls::PgTarget>),
}

impl Db {
    /// Opens (and for SQLite creates) the database. Does not migrate: call
    /// [`crate::migrate::run`].
    pub async fn open(config: &DbConfig) -> Result<Self> {
        let inner = match config {
            DbConfig::Sqlite(path) => Inner::Sqlite(SqliteDb::open(path)?),
            DbConfig::Postgres(url) => {
                let target = crate::pg_tls::PgTarget::parse(url)?;
                Inner::Postgres(open_pg(&target).await?, Box::new(target))
            }
        };
        Ok(Self {
            inner: Arc::new(inner),
            commits: Arc::new(watch::Sender::new(0)),
            signals: Arc::new(broadcast::channel(256).0),
        })
    }

    /// PostgreSQL: until `stop`, listens for the events other nodes commit (the `events`
    /// table's trigger notifies `rapport_events`) and counts each notification as a commit
    /// (see [`Db::commits`]), reconnecting after a lost connection. On SQLite (one node) it
    /// returns at once.
    pub async fn hear_other_nodes(&self, mut stop: watch::Receiver<bool>) {
        let Inner::Postgres(_, target) = &*self.inner else {
            return;
        };
        while !*stop.borrow() {
            if let Err(e) = self.listen_once(target, &mut stop).await {
                tracing::warn!(error = %e, "listening for other nodes' events failed; retrying");
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
        }
    }

    async fn listen_once(
        &self,
        target: &crate::pg_tls::PgTarget,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<()> {
        use futures::StreamExt;
        let (client, mut conn) = target.config.connect(target.connector()?).await?;
        // The connection's messages: notifications, or its end.
        let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
        let listen = client.batch_execute("LISTEN rapport_events; LISTEN rapport_signals");
        tokio::pin!(listen);
        let mut listening = false;
        loop {
            tokio::select! {
                r = &mut listen, if !listening => {
                    r?;
                    listening = true;
                }
                m = messages.next() => match m {
                    Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) if n.channel() == SIGNALS => {
                        // Nobody listening is fine.
                        let _ = self.signals.send(n.payload().to_owned());
                    }
                    Some(Ok(tokio_postgres::AsyncMessage::Notification(_))) => {
                        self.commits.send_modify(|n| *n = n.wrapping_add(1));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(StoreError::Db("the listening connection closed".into())),
                },
                _ = stop.changed() => return Ok(()),
            }
        }
    }

    /// A receiver that changes after each write this process commits and, while
    /// [`Db::hear_other_nodes`] runs, after each event another node commits. Followers of
    /// the event stream wait on it (and still poll, in case a notification is missed): a
    /// change reaches live views and chat sockets without waiting for a poll.
    pub fn commits(&self) -> watch::Receiver<u64> {
        self.commits.subscribe()
    }

    /// PostgreSQL: sends a passing signal (`payload`, at most [`MAX_SIGNAL_BYTES`]) to
    /// every node listening ([`Db::hear_other_nodes`]; this one too): what is not stored,
    /// such as "an agent is typing". SQLite (one node): nothing to do.
    pub async fn shout(&self, payload: String) -> Result<()> {
        if !matches!(&*self.inner, Inner::Postgres(..)) || payload.len() > MAX_SIGNAL_BYTES {
            return Ok(());
        }
        if let Inner::Postgres(pool, _) = &*self.inner {
            let client = pool
                .get()
                .await
                .map_err(|e| StoreError::Db(format!("no connection for a signal: {e}")))?;
            client
                .execute("SELECT pg_notify('rapport_signals', $1)", &[&payload])
                .await?;
        }
        Ok(())
    }

    /// The passing signals nodes sent ([`Db::shout`]), while [`Db::hear_other_nodes`]
    /// runs (PostgreSQL only); a slow receiver loses the oldest.
    pub fn signals(&self) -> broadcast::Receiver<String> {
        self.signals.subscribe()
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(..) => Backend::Postgres,
        }
    }

    /// Whether the database answers (a trivial read), for health checks.
    pub async fn ping(&self) -> Result<()> {
        self.read(|c| Box::pin(async move { c.one("SELECT 1 AS one", &[]).await.map(|_| ()) }))
            .await
    }

    /// Runs `op` in a write transaction and returns its result once it is durable.
    /// If `op` fails, nothing it wrote stays.
    pub async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn Conn) -> OpFuture<'c, T> + Send + 'static,
    {
        let r = match &*self.inner {
            Inner::Sqlite(s) => s.write(op).await,
            Inner::Postgres(pool, _) => pg_run(pool, false, op).await,
        };
        if r.is_ok() {
            self.commits.send_modify(|n| *n = n.wrapping_add(1));
        }
        r
    }

    /// Runs `op` on a consistent snapshot for reading.
    pub async fn read<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn Conn) -> OpFuture<'c, T> + Send + 'static,
    {
        match &*self.inner {
            Inner::Sqlite(s) => s.read(op).await,
            Inner::Postgres(pool, _) => pg_run(pool, true, op).await,
        }
    }

    /// PostgreSQL: runs `op` on one pooled connection with no transaction around it, each
    /// statement committing on its own — for the few statements that cannot run inside a
    /// transaction (`CREATE INDEX CONCURRENTLY`). SQLite: `None`, and `op` does not run.
    pub async fn outside_transaction<T, F>(&self, op: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn Conn) -> OpFuture<'c, T> + Send + 'static,
    {
        match &*self.inner {
            Inner::Sqlite(_) => Ok(None),
            Inner::Postgres(pool, _) => {
                let client = pool.get().await?;
                let mut c = PgConn::Bare(&client);
                op(&mut c).await.map(Some)
            }
        }
    }
}

// ---------------------------------------------------------------- SQLite

/// Opens an SQLite connection the one way every connection is opened: WAL journal,
/// `synchronous=FULL` (a commit is on disk before it returns, so an acknowledged write
/// survives power loss and kill -9), foreign keys on, a busy timeout for other
/// processes (the CLI) that write at the same time.
fn open_sqlite(path: &Path, read_only: bool) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = rusqlite::Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    if !read_only {
        conn.execute_batch("PRAGMA journal_mode=WAL;")?;
    }
    conn.execute_batch(
        "PRAGMA synchronous=FULL;
         PRAGMA foreign_keys=ON;
         PRAGMA temp_store=MEMORY;
         PRAGMA cache_size=-32000;",
    )?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

struct SqliteConn<'a> {
    conn: &'a mut rusqlite::Connection,
}

impl SqliteConn<'_> {
    fn run_query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(&sqlite_placeholders(sql))?;
        let n = stmt.column_count();
        let names: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(n);
            for i in 0..n {
                vals.push(from_sqlite(r.get_ref(i)?));
            }
            out.push(Row::new(Arc::clone(&names), vals));
        }
        Ok(out)
    }

    fn run_execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(&sqlite_placeholders(sql))?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter()))?;
        Ok(n as u64)
    }
}

impl Conn for SqliteConn<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
    fn raw_execute<'a>(
        &'a mut self,
        _: Sealed,
        sql: &'a str,
        params: &'a [Value],
    ) -> BoxFuture<'a, Result<u64>> {
        let r = self.run_execute(sql, params);
        Box::pin(std::future::ready(r))
    }
    fn raw_query<'a>(
        &'a mut self,
        _: Sealed,
        sql: &'a str,
        params: &'a [Value],
    ) -> BoxFuture<'a, Result<Vec<Row>>> {
        let r = self.run_query(sql, params);
        Box::pin(std::future::ready(r))
    }
    fn raw_batch<'a>(&'a mut self, _: Sealed, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        let r = self.conn.execute_batch(sql).map_err(StoreError::from);
        Box::pin(std::future::ready(r))
    }
}

/// Runs an operation to completion on the current thread. SQLite operations never wait
/// on anything (every call above is finished before its future is returned), so this
/// polls once or a few times and never blocks on I/O of its own.
fn run_now<T>(
    conn: &mut rusqlite::Connection,
    op: impl for<'c> FnOnce(&'c mut dyn Conn) -> OpFuture<'c, T>,
) -> Result<T> {
    let mut c = SqliteConn { conn };
    match std::panic::catch_unwind(AssertUnwindSafe(|| futures::executor::block_on(op(&mut c)))) {
        Ok(r) => r,
        Err(_) => Err(StoreError::Db("a store operation panicked".into())),
    }
}

/// A write waiting for the writer thread, with its type erased.
pub(crate) trait WriteJob: Send {
    /// Runs the operation; true when it succeeded and its savepoint should be kept.
    fn run(&mut self, conn: &mut rusqlite::Connection) -> bool;
    /// Answers the caller once the batch's commit has (or has not) happened.
    fn finish(self: Box<Self>, committed: Result<()>);
}

struct TypedJob<T, F> {
    op: Option<F>,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut dyn Conn) -> OpFuture<'c, T> + Send + 'static,
{
    fn run(&mut self, conn: &mut rusqlite::Connection) -> bool {
        let Some(op) = self.op.take() else {
            return false;
        };
        let r = run_now(conn, op);
        let ok = r.is_ok();
        self.result = Some(r);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<()>) {
        let r = match (committed, self.result) {
            (_, None) => Err(StoreError::Db("operation did not run".into())),
            (_, Some(Err(e))) | (Err(e), Some(Ok(_))) => Err(e),
            (Ok(()), Some(Ok(v))) => Ok(v),
        };
        let _ = self.reply.send(r);
    }
}

struct SqliteDb {
    writer: mpsc::Sender<Box<dyn WriteJob>>,
    readers: Arc<Mutex<Vec<rusqlite::Connection>>>,
    read_slots: Arc<Semaphore>,
    /// Dropped with the database: the checkpointer thread then stops.
    _checkpointer: std::sync::mpsc::Sender<()>,
}

/// How often the checkpointer copies the write-ahead log into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Checkpoints the write-ahead log from its own connection until `stop` is dropped. The
/// writer does not checkpoint itself (`wal_autocheckpoint=0`): a checkpoint of a thousand
/// pages, with its fsync of the database file, in the writer's thread held every write
/// queued behind it (a chat message's acknowledgement waited tens of milliseconds). A
/// passive checkpoint here never blocks the writer.
fn checkpointer(conn: rusqlite::Connection, stop: std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::RecvTimeoutError;
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "sqlite checkpoint failed; retrying");
        }
    }
}

/// How many read connections the SQLite pool keeps.
const READERS: usize = 4;

impl SqliteDb {
    fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_files::create_private_dir(dir)
                .map_err(|e| StoreError::Db(format!("creating {}: {e}", dir.display())))?;
        }
        crate::private_files::prepare_sqlite_file(path)
            .map_err(|e| StoreError::Db(format!("preparing {}: {e}", path.display())))?;
        let mut conn = open_sqlite(path, false)?;
        // Refresh the planner's statistics where they are stale (cheap when they are not).
        conn.execute_batch("PRAGMA optimize=0x10002;")?;
        // Built with STAT4 (a LIBSQLITE3_FLAGS of one's own replaces .cargo/config.toml's),
        // every cached statement is parsed again on each use: slower, still correct.
        let stat4: bool = conn.query_row(
            "SELECT sqlite_compileoption_used('ENABLE_STAT4')",
            [],
            |r| r.get(0),
        )?;
        if stat4 {
            tracing::warn!(
                "SQLite was built with STAT4: statements are re-planned on every use; \
                 build with the flags in .cargo/config.toml"
            );
        }
        // The checkpointer thread checkpoints; the writer never waits for one.
        conn.execute_batch("PRAGMA wal_autocheckpoint=0;")?;
        let checkpoints = open_sqlite(path, false)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpointer(checkpoints, stopped))
            .map_err(|e| StoreError::Db(format!("starting the checkpoint thread: {e}")))?;
        let readers = (0..READERS)
            .map(|_| open_sqlite(path, true))
            .collect::<Result<Vec<_>>>()?;
        let (tx, rx) = mpsc::channel::<Box<dyn WriteJob>>(MAX_BATCH * 4);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::writer_loop(&mut conn, rx))
            .map_err(|e| StoreError::Db(format!("starting the writer thread: {e}")))?;
        Ok(Self {
            writer: tx,
            readers: Arc::new(Mutex::new(readers)),
            read_slots: Arc::new(Semaphore::new(READERS)),
            _checkpointer: stop,
        })
    }

    async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn Conn) -> OpFuture<'c, T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = TypedJob {
            op: Some(op),
            result: None,
            reply,
        };
        self.writer
            .send(Box::new(job))
            .await
            .map_err(|_| StoreError::Db("the database writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Db("the database writer dropped a write".into()))?
    }

    async fn read<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn Conn) -> OpFuture<'c, T> + Send + 'static,
    {
        let _permit = self
            .read_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Db("read pool closed".into()))?;
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let mut conn = readers
                .lock()
                .map_err(|_| StoreError::Db("read pool poisoned".into()))?
                .pop()
                .ok_or_else(|| StoreError::Db("no read connection free".into()))?;
            let r = writer::run_cached(&conn, "BEGIN")
                .map_err(StoreError::from)
                .and_then(|()| run_now(&mut conn, op));
            let _ = writer::run_cached(&conn, "COMMIT");
            if let Ok(mut pool) = readers.lock() {
                pool.push(conn);
            }
            r
        })
        .await
        .map_err(|e| StoreError::Db(format!("read task failed: {e}")))?
    }
}

// ---------------------------------------------------------------- PostgreSQL

async fn open_pg(target: &crate::pg_tls::PgTarget) -> Result<deadpool_postgres::Pool> {
    let tls = target.connector()?;
    let mgr = deadpool_postgres::Manager::from_config(
        target.config.clone(),
        tls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        },
    );
    let pool = deadpool_postgres::Pool::builder(mgr)
        .max_size(16)
        .build()
        .map_err(|e| StoreError::Db(format!("connection pool: {e}")))?;
    // Fail now, with a clear message, rather than on the first request.
    drop(pool.get().await?);
    Ok(pool)
}

/// What a PostgreSQL connection runs on: an open transaction, or the bare connection, where
/// each statement commits on its own (see [`Db::outside_transaction`]).
enum PgConn<'a> {
    Tx(&'a deadpool_postgres::Transaction<'a>),
    Bare(&'a deadpool_postgres::ClientWrapper),
}

impl PgConn<'_> {
    async fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        Ok(match self {
            PgConn::Tx(t) => t.prepare_cached(sql).await?,
            PgConn::Bare(c) => c.prepare_cached(sql).await?,
        })
    }

    fn client(&self) -> &tokio_postgres::Client {
        match self {
            PgConn::Tx(t) => t.client(),
            PgConn::Bare(c) => c,
        }
    }
}

fn pg_params(params: &[Value]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

impl Conn for PgConn<'_> {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }
    fn raw_execute<'a>(
        &'a mut self,
        _: Sealed,
        sql: &'a str,
        params: &'a [Value],
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let stmt = self.prepare(sql).await?;
            Ok(self.client().execute(&stmt, &pg_params(params)).await?)
        })
    }
    fn raw_query<'a>(
        &'a mut self,
        _: Sealed,
        sql: &'a str,
        params: &'a [Value],
    ) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(async move {
            let stmt = self.prepare(sql).await?;
            let rows = self.client().query(&stmt, &pg_params(params)).await?;
            let names = pg_names(stmt.columns());
            rows.iter().map(|r| from_pg(&names, r)).collect()
        })
    }
    fn raw_batch<'a>(&'a mut self, _: Sealed, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { Ok(self.client().batch_execute(sql).await?) })
    }
}

async fn pg_run<T, F>(pool: &deadpool_postgres::Pool, read_only: bool, op: F) -> Result<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut dyn Conn) -> OpFuture<'c, T> + Send + 'static,
{
    let mut client = pool.get().await?;
    let tx = client
        .build_transaction()
        .read_only(read_only)
        .start()
        .await?;
    let r = {
        let mut c = PgConn::Tx(&tx);
        op(&mut c).await
    };
    match r {
        Ok(v) => {
            tx.commit().await?;
            Ok(v)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_picks_the_backend() {
        let dir = Path::new("/tmp/x");
        assert!(matches!(
            DbConfig::from_url_or_dir(None, dir).unwrap(),
            DbConfig::Sqlite(p) if p == dir.join("rapport.db")
        ));
        assert!(matches!(
            DbConfig::from_url_or_dir(Some("postgres://a@b/c"), dir).unwrap(),
            DbConfig::Postgres(_)
        ));
        assert!(DbConfig::from_url_or_dir(Some("mysql://x"), dir).is_err());
    }
}
