//! The two migration directories describe one schema: migrating a fresh SQLite file and a
//! fresh PostgreSQL database yields the same tables, columns (type, nullability, primary
//! key) and indexes (name, columns, uniqueness).
//!
//! The only intended difference is full-text search (see `rapport_store::dialect`): an
//! FTS5 virtual table on SQLite (with its shadow tables and the staging table its new
//! entries wait in until their group commit, `search_pending`), a table with a `tsvector`
//! column and a GIN index on PostgreSQL. The test names it explicitly below rather than
//! skipping it: both sides must still have `search_index` with the columns the store
//! writes.

use std::collections::BTreeMap;

use rapport_domain::Timestamp;
use rapport_store::{Db, DbConfig, migrate, op};

use crate::harness::{Backend, Scratch};

/// A column as both databases can describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    /// `int`, `text`, `bool`, `bytes`, `real`, or the raw type when unknown.
    ty: String,
    not_null: bool,
    /// Position in the primary key (0 when not part of it).
    pk: i64,
}

/// An index: its columns in order and whether it is unique. Indexes made by a constraint
/// (UNIQUE) are named by the database, differently on each side, so they are keyed by
/// their table and columns instead of their name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Index {
    table: String,
    columns: Vec<String>,
    unique: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Catalogue {
    /// table → column → description.
    tables: BTreeMap<String, BTreeMap<String, Column>>,
    /// index name → index, for indexes made with CREATE INDEX.
    named_indexes: BTreeMap<String, Index>,
    /// Indexes made by UNIQUE constraints.
    constraint_indexes: Vec<Index>,
}

/// The full-text index: the one place the schemas differ on purpose.
const SEARCH_INDEX: &str = "search_index";
/// Its columns the store writes on both backends.
const SEARCH_COLUMNS: [&str; 5] = ["title", "body", "kind", "ticket_id", "ref_id"];

fn sqlite_type(declared: &str) -> String {
    let d = declared.to_ascii_uppercase();
    match d.as_str() {
        "INTEGER" | "INT" | "BIGINT" | "SMALLINT" => "int".into(),
        "TEXT" => "text".into(),
        "BOOLEAN" => "bool".into(),
        "BLOB" => "bytes".into(),
        "REAL" | "DOUBLE" | "FLOAT" => "real".into(),
        _ if d.starts_with("VARCHAR") => "text".into(),
        _ => format!("sqlite:{declared}"),
    }
}

fn pg_type(data_type: &str) -> String {
    match data_type {
        "bigint" | "integer" | "smallint" => "int".into(),
        "text" | "character varying" => "text".into(),
        "boolean" => "bool".into(),
        "bytea" => "bytes".into(),
        "double precision" | "real" => "real".into(),
        _ => format!("pg:{data_type}"),
    }
}

pub(crate) async fn migrated(backend: Backend) -> (Scratch, Db) {
    let scratch = Scratch::new(backend).await;
    let config = match &scratch.database_url {
        Some(url) => DbConfig::Postgres(url.clone()),
        None => DbConfig::Sqlite(scratch.sqlite_path()),
    };
    let db = Db::open(&config).await.unwrap();
    migrate::run(&db, Timestamp(0)).await.unwrap();
    (scratch, db)
}

async fn sqlite_catalogue(db: &Db) -> Catalogue {
    let columns = db
        .read(op!(c => rapport_store::testing::query_in(c, 
                "SELECT m.name AS tbl, p.name AS col, p.type AS ty, p.\"notnull\" AS not_null,
                        p.pk AS pk
                 FROM sqlite_schema m JOIN pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                 ORDER BY m.name, p.cid",
                &[],
            )
            .await))
        .await
        .unwrap();
    let indexes = db
        .read(op!(c => rapport_store::testing::query_in(c, 
                "SELECT m.name AS tbl, l.name AS idx, l.\"unique\" AS is_unique, l.origin AS origin,
                        i.name AS col
                 FROM sqlite_schema m JOIN pragma_index_list(m.name) l
                      JOIN pragma_index_info(l.name) i
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
                 ORDER BY m.name, l.name, i.seqno",
                &[],
            )
            .await))
        .await
        .unwrap();
    let mut cat = Catalogue::default();
    for r in &columns {
        let table = r.text("tbl").unwrap();
        let pk = r.int("pk").unwrap();
        cat.tables.entry(table).or_default().insert(
            r.text("col").unwrap(),
            Column {
                ty: sqlite_type(&r.text("ty").unwrap()),
                // A primary key is never NULL on PostgreSQL; say so on SQLite too.
                not_null: r.bool("not_null").unwrap() || pk > 0,
                pk,
            },
        );
    }
    let mut by_name: BTreeMap<String, (String, Index)> = BTreeMap::new();
    for r in &indexes {
        let name = r.text("idx").unwrap();
        let entry = by_name.entry(name).or_insert_with(|| {
            (
                r.text("origin").unwrap(),
                Index {
                    table: r.text("tbl").unwrap(),
                    columns: Vec::new(),
                    unique: r.bool("is_unique").unwrap(),
                },
            )
        });
        entry.1.columns.push(r.text("col").unwrap());
    }
    for (name, (origin, index)) in by_name {
        match origin.as_str() {
            "c" => {
                cat.named_indexes.insert(name, index);
            }
            "u" => cat.constraint_indexes.push(index),
            // Primary keys are compared as columns.
            _ => {}
        }
    }
    cat.constraint_indexes.sort();
    cat
}

async fn pg_catalogue(db: &Db) -> Catalogue {
    let columns = db
        .read(op!(c => rapport_store::testing::query_in(c, 
                "SELECT c.table_name::text AS tbl, c.column_name::text AS col,
                        c.data_type::text AS ty, (c.is_nullable::text = 'NO') AS not_null,
                        COALESCE((SELECT k.ordinal_position::bigint
                                  FROM information_schema.table_constraints tc
                                  JOIN information_schema.key_column_usage k
                                    ON k.constraint_name = tc.constraint_name
                                   AND k.table_schema = tc.table_schema
                                  WHERE tc.constraint_type = 'PRIMARY KEY'
                                    AND tc.table_schema = c.table_schema
                                    AND tc.table_name = c.table_name
                                    AND k.column_name = c.column_name), 0) AS pk
                 FROM information_schema.columns c
                 WHERE c.table_schema = 'public'
                 ORDER BY c.table_name, c.ordinal_position",
                &[],
            )
            .await))
        .await
        .unwrap();
    let indexes = db
        .read(op!(c => rapport_store::testing::query_in(c, 
                "SELECT t.relname::text AS tbl, i.relname::text AS idx, x.indisunique AS is_unique,
                        x.indisprimary AS is_primary,
                        EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
                            AS by_constraint,
                        a.attname::text AS col
                 FROM pg_index x
                 JOIN pg_class i ON i.oid = x.indexrelid
                 JOIN pg_class t ON t.oid = x.indrelid
                 JOIN pg_namespace n ON n.oid = t.relnamespace
                 JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos) ON TRUE
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                 WHERE n.nspname = 'public'
                 ORDER BY i.relname, k.pos",
                &[],
            )
            .await))
        .await
        .unwrap();
    let mut cat = Catalogue::default();
    for r in &columns {
        cat.tables
            .entry(r.text("tbl").unwrap())
            .or_default()
            .insert(
                r.text("col").unwrap(),
                Column {
                    ty: pg_type(&r.text("ty").unwrap()),
                    not_null: r.bool("not_null").unwrap(),
                    pk: r.int("pk").unwrap(),
                },
            );
    }
    let mut by_name: BTreeMap<String, (bool, bool, Index)> = BTreeMap::new();
    for r in &indexes {
        let name = r.text("idx").unwrap();
        let entry = by_name.entry(name).or_insert_with(|| {
            (
                r.bool("is_primary").unwrap(),
                r.bool("by_constraint").unwrap(),
                Index {
                    table: r.text("tbl").unwrap(),
                    columns: Vec::new(),
                    unique: r.bool("is_unique").unwrap(),
                },
            )
        });
        entry.2.columns.push(r.text("col").unwrap());
    }
    for (name, (primary, by_constraint, index)) in by_name {
        if primary {
            continue;
        }
        if by_constraint {
            cat.constraint_indexes.push(index);
        } else {
            cat.named_indexes.insert(name, index);
        }
    }
    cat.constraint_indexes.sort();
    cat
}

/// Brings the full-text index of each side to what both share: `search_index` with the
/// columns the store writes, and no FTS5 shadow tables or `tsvector` machinery.
fn without_full_text_differences(mut cat: Catalogue) -> Catalogue {
    // FTS5's shadow tables, and SQLite's staging table for new entries (migration 54).
    let fts5_shadow = ["_data", "_idx", "_content", "_docsize", "_config"];
    cat.tables.retain(|t, _| {
        t != "search_pending"
            && !fts5_shadow
                .iter()
                .any(|s| t.as_str() == format!("{SEARCH_INDEX}{s}"))
    });
    if let Some(cols) = cat.tables.get_mut(SEARCH_INDEX) {
        cols.retain(|name, _| SEARCH_COLUMNS.contains(&name.as_str()));
        for col in cols.values_mut() {
            // FTS5 columns have no declared type.
            *col = Column {
                ty: "fts".into(),
                not_null: false,
                pk: 0,
            };
        }
    }
    cat.named_indexes.retain(|_, i| i.table != SEARCH_INDEX);
    cat.constraint_indexes.retain(|i| i.table != SEARCH_INDEX);
    cat
}

/// Every difference between the catalogues, one line each.
fn differences(sqlite: &Catalogue, pg: &Catalogue) -> Vec<String> {
    let mut out = Vec::new();
    let tables: std::collections::BTreeSet<&String> =
        sqlite.tables.keys().chain(pg.tables.keys()).collect();
    for t in tables {
        match (sqlite.tables.get(t), pg.tables.get(t)) {
            (Some(_), None) => out.push(format!("table {t}: only on SQLite")),
            (None, Some(_)) => out.push(format!("table {t}: only on PostgreSQL")),
            (Some(a), Some(b)) => {
                let cols: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                for c in cols {
                    match (a.get(c), b.get(c)) {
                        (Some(x), Some(y)) if x != y => {
                            out.push(format!("column {t}.{c}: SQLite {x:?}, PostgreSQL {y:?}"));
                        }
                        (Some(_), None) => out.push(format!("column {t}.{c}: only on SQLite")),
                        (None, Some(_)) => out.push(format!("column {t}.{c}: only on PostgreSQL")),
                        _ => {}
                    }
                }
            }
            (None, None) => {}
        }
    }
    let names: std::collections::BTreeSet<&String> = sqlite
        .named_indexes
        .keys()
        .chain(pg.named_indexes.keys())
        .collect();
    for n in names {
        let (a, b) = (sqlite.named_indexes.get(n), pg.named_indexes.get(n));
        if a != b {
            out.push(format!("index {n}: SQLite {a:?}, PostgreSQL {b:?}"));
        }
    }
    if sqlite.constraint_indexes != pg.constraint_indexes {
        out.push(format!(
            "unique constraints: SQLite {:?}, PostgreSQL {:?}",
            sqlite.constraint_indexes, pg.constraint_indexes
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_directories_make_the_same_schema() {
    let (_s1, sqlite_db) = migrated(Backend::Sqlite).await;
    let (_s2, pg_db) = migrated(Backend::Postgres).await;
    let sqlite = sqlite_catalogue(&sqlite_db).await;
    let pg = pg_catalogue(&pg_db).await;
    // The comparison sees every table: guard against an empty catalogue passing.
    for t in ["tickets", "messages", "users", "mailboxes", SEARCH_INDEX] {
        assert!(sqlite.tables.contains_key(t), "SQLite has no {t}");
        assert!(pg.tables.contains_key(t), "PostgreSQL has no {t}");
    }
    assert!(sqlite.named_indexes.contains_key("tickets_team_status"));
    let sqlite = without_full_text_differences(sqlite);
    let pg = without_full_text_differences(pg);
    let diff = differences(&sqlite, &pg);
    assert!(
        diff.is_empty(),
        "the migration directories disagree:\n{}",
        diff.join("\n")
    );
}

#[test]
fn types_map_across_backends() {
    assert_eq!(sqlite_type("INTEGER"), pg_type("bigint"));
    assert_eq!(sqlite_type("TEXT"), pg_type("character varying"));
    assert_eq!(sqlite_type("BLOB"), pg_type("bytea"));
    assert_eq!(sqlite_type("BOOLEAN"), pg_type("boolean"));
    assert_ne!(sqlite_type("BOOLEAN"), pg_type("bigint"));
    assert_ne!(sqlite_type("INTEGER"), pg_type("boolean"));
}
