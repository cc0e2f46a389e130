//! The values that cross between our SQL and either database: a small, typed set that
//! both SQLite and PostgreSQL store the same way (integers for ids and instants, text,
//! booleans, bytes).

use std::sync::Arc;

use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::error::{Result, StoreError};

/// One SQL parameter or column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (ids, counts, microsecond instants).
    Int(i64),
    /// A float (ranks, averages).
    Real(f64),
    /// Text.
    Text(String),
    /// A boolean (an integer 0/1 in SQLite).
    Bool(bool),
    /// Bytes (attachments).
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl From<rapport_domain::Timestamp> for Value {
    fn from(v: rapport_domain::Timestamp) -> Self {
        Value::Int(v.micros())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Names a column of a [`Row`]: by name (`"team_id"`, the way all store code reads).
///
/// Reading by position (`0`) exists only for tests and the benchmark (feature `testing`,
/// which production builds never enable), for their ad-hoc one-column queries through
/// `rapport_store::testing`: a production reader that counted columns would silently
/// read the wrong one when a query's column list changes.
pub trait Column: Copy {
    /// Where the column is among `names`, if it is there.
    fn position(self, names: &[String]) -> Option<usize>;
    /// How an error message names the column.
    fn describe(self) -> String;
}

#[cfg(any(test, feature = "testing"))]
impl Column for usize {
    fn position(self, names: &[String]) -> Option<usize> {
        (self < names.len()).then_some(self)
    }
    fn describe(self) -> String {
        format!("column {self}")
    }
}

impl Column for &str {
    fn position(self, names: &[String]) -> Option<usize> {
        // Linear: a result set has a handful of columns, and comparing a few short
        // strings is cheaper than building a map for every query.
        names.iter().position(|n| n.eq_ignore_ascii_case(self))
    }
    fn describe(self) -> String {
        format!("column {self:?}")
    }
}

/// One result row. Store code reads its columns by name (`r.int("id")`); the names are
/// shared by every row of a result set.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    names: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// A row of `values` under the result set's column `names`.
    pub(crate) fn new(names: Arc<[String]>, values: Vec<Value>) -> Self {
        Self { names, values }
    }

    /// The column names of this row's result set, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// A column's raw value.
    pub fn value(&self, col: impl Column) -> Result<&Value> {
        col.position(&self.names)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| StoreError::Db(format!("{} missing", col.describe())))
    }

    /// An integer column.
    pub fn int(&self, col: impl Column) -> Result<i64> {
        self.opt_int(col)?
            .ok_or_else(|| StoreError::Db(format!("{} is NULL", col.describe())))
    }

    /// A nullable integer column.
    pub fn opt_int(&self, col: impl Column) -> Result<Option<i64>> {
        match self.value(col)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            Value::Bool(b) => Ok(Some(i64::from(*b))),
            other => Err(StoreError::Db(format!(
                "{}: expected integer, got {other:?}",
                col.describe()
            ))),
        }
    }

    /// A float column (integers are widened).
    pub fn real(&self, col: impl Column) -> Result<f64> {
        match self.value(col)? {
            Value::Real(v) => Ok(*v),
            #[expect(clippy::cast_precision_loss, reason = "ranks and averages")]
            Value::Int(v) => Ok(*v as f64),
            Value::Null => Ok(0.0),
            other => Err(StoreError::Db(format!(
                "{}: expected number, got {other:?}",
                col.describe()
            ))),
        }
    }

    /// A text column.
    pub fn text(&self, col: impl Column) -> Result<String> {
        self.opt_text(col)?
            .ok_or_else(|| StoreError::Db(format!("{} is NULL", col.describe())))
    }

    /// A nullable text column.
    pub fn opt_text(&self, col: impl Column) -> Result<Option<String>> {
        match self.value(col)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            other => Err(StoreError::Db(format!(
                "{}: expected text, got {other:?}",
                col.describe()
            ))),
        }
    }

    /// A boolean column (SQLite stores 0/1).
    pub fn bool(&self, col: impl Column) -> Result<bool> {
        match self.value(col)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            other => Err(StoreError::Db(format!(
                "{}: expected boolean, got {other:?}",
                col.describe()
            ))),
        }
    }

    /// A bytes column.
    pub fn blob(&self, col: impl Column) -> Result<Vec<u8>> {
        match self.value(col)? {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.clone().into_bytes()),
            other => Err(StoreError::Db(format!(
                "{}: expected bytes, got {other:?}",
                col.describe()
            ))),
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Real(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

/// Reads a SQLite column into a [`Value`].
pub(crate) fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// The column names of a PostgreSQL statement, shared by every row it returns.
pub(crate) fn pg_names(columns: &[tokio_postgres::Column]) -> Arc<[String]> {
    columns.iter().map(|c| c.name().to_owned()).collect()
}

/// Reads a PostgreSQL row into a [`Row`], by each column's declared type.
pub(crate) fn from_pg(names: &Arc<[String]>, row: &tokio_postgres::Row) -> Result<Row> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let ty = col.type_();
        let v = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|v| Value::Int(i64::from(v)))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)?
                .map(|v| Value::Int(i64::from(v)))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?.map(Value::Bool)
        } else if *ty == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(i)?.map(Value::Real)
        } else if *ty == Type::FLOAT4 {
            row.try_get::<_, Option<f32>>(i)?
                .map(|v| Value::Real(f64::from(v)))
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
        } else if *ty == Type::TEXT
            || *ty == Type::VARCHAR
            || *ty == Type::NAME
            || *ty == Type::BPCHAR
        {
            row.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(StoreError::Db(format!(
                "column {} has type {ty} that the store does not read",
                col.name()
            )));
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row::new(Arc::clone(names), out))
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => {
                if *ty == Type::BOOL {
                    // Booleans stored as 0/1 by code written for SQLite.
                    (*v != 0).to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    #[expect(clippy::cast_precision_loss, reason = "numbers bound as floats")]
                    (*v as f64).to_sql(ty, out)
                } else {
                    v.to_sql(ty, out)
                }
            }
            Value::Real(v) => v.to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Bool(b) => b.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        let names: Arc<[String]> = ["id", "team_id", "Name"].map(String::from).into();
        Row::new(
            names,
            vec![Value::Int(7), Value::Null, Value::Text("Ada".into())],
        )
    }

    #[test]
    fn columns_are_read_by_name_or_position() {
        let r = row();
        assert_eq!(r.int("id").unwrap(), 7);
        assert_eq!(r.opt_int("team_id").unwrap(), None);
        assert_eq!(r.text("name").unwrap(), "Ada");
        assert_eq!(r.int(0).unwrap(), 7);
        assert_eq!(r.text(2).unwrap(), "Ada");
    }

    #[test]
    fn errors_name_the_column() {
        let r = row();
        let e = r.int("team_id").unwrap_err().to_string();
        assert!(e.contains("\"team_id\" is NULL"), "{e}");
        let e = r.text("nope").unwrap_err().to_string();
        assert!(e.contains("\"nope\" missing"), "{e}");
        let e = r.text("id").unwrap_err().to_string();
        assert!(e.contains("\"id\": expected text"), "{e}");
        assert!(
            r.int(3)
                .unwrap_err()
                .to_string()
                .contains("column 3 missing")
        );
    }
}
