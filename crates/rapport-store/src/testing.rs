//! A door for tests and the benchmark only (feature `testing`): run SQL on the database
//! directly, to check what was stored or to set up a state no operation makes (a ticket
//! solved long ago, a job due now). Production code never enables this feature; its SQL
//! goes through the operations of this crate.

use crate::db::{Conn, Db};
use crate::error::Result;
use crate::value::{Row, Value};

/// Runs one statement in its own write transaction; returns how many rows it changed.
pub async fn execute(db: &Db, sql: &str, params: Vec<Value>) -> Result<u64> {
    let sql = sql.to_owned();
    db.write(crate::op!(c => c.execute(&sql, &params).await))
        .await
}

/// Runs one query on a read snapshot and returns its rows.
pub async fn rows(db: &Db, sql: &str, params: Vec<Value>) -> Result<Vec<Row>> {
    let sql = sql.to_owned();
    db.read(crate::op!(c => c.query(&sql, &params).await)).await
}

/// The first column of the only row of a query, as an integer (`SELECT COUNT(*) …`).
pub async fn scalar(db: &Db, sql: &str) -> Result<i64> {
    let sql = sql.to_owned();
    db.read(crate::op!(c => c.one(&sql, &[]).await?.int(0)))
        .await
}

/// Runs one statement inside a transaction someone else opened (to fail it on purpose,
/// or to change a row next to an operation).
pub async fn execute_in(c: &mut dyn Conn, sql: &str, params: &[Value]) -> Result<u64> {
    c.execute(sql, params).await
}

/// Runs one query inside a transaction someone else opened.
pub async fn query_in(c: &mut dyn Conn, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    c.query(sql, params).await
}

/// Runs a query that must return exactly one row, inside a transaction someone else opened.
pub async fn one_in(c: &mut dyn Conn, sql: &str, params: &[Value]) -> Result<Row> {
    c.one(sql, params).await
}
