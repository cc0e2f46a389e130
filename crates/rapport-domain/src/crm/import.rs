//! Importing customers and organisations from CSV: a header row names the columns, each
//! later row is one record, and every bad cell is reported by its line and column so a
//! dry run tells the whole story before anything is written.
//!
//! Customers: `email` (required), `name`, `phone`, `organization` (an organisation's
//! name; created when new), `birthday`, `tier`, and one column per defined customer
//! attribute. Organisations: `name` (required), `domain`, and their attributes. An empty
//! cell leaves what is stored as it is.

use serde::Serialize;
use serde_json::{Map, Value};

use super::attributes::AttributeDef;
use super::dates::Birthday;
use super::{Tier, organization_domain, organization_name, phone};
use crate::customer::CustomerName;
use crate::email::EmailAddress;

/// The most rows one import reads.
pub const MAX_ROWS: usize = 50_000;

/// The most bad rows one read lists (a file past it is refused at that point).
pub const MAX_ERRORS: usize = 1_000;

/// A bad cell (or a bad row, or a bad header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The line of the file it is on (the header is line 1).
    pub line: u64,
    /// The column (`email`, `attributes.plan`), or `row` for the row as a whole.
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl RowError {
    fn new(line: u64, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            line,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One row as read: its line and its cells, in the header's order.
#[derive(Debug, Clone)]
pub struct CsvRow {
    /// The line it starts on.
    pub line: u64,
    /// Its cells.
    pub cells: Vec<String>,
}

/// A file as read: its columns (lower-cased, trimmed) and rows.
#[derive(Debug, Clone)]
pub struct CsvTable {
    /// The header.
    pub columns: Vec<String>,
    /// The rows after it.
    pub rows: Vec<CsvRow>,
}

/// Reads a CSV file (UTF-8, comma-separated, an optional byte-order mark). Errors that
/// stop the whole file: no header, a repeated column, more than [`MAX_ROWS`] rows, a line
/// that is not UTF-8 or CSV (reported at its line; rows with too few or many cells are
/// reported too).
pub fn read(bytes: &[u8]) -> Result<CsvTable, Vec<RowError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Lines are counted here from byte offsets: the reader does not count blank lines.
    let line_starts: Vec<usize> = std::iter::once(0).chain(memchr_newlines(bytes)).collect();
    let line_of = |p: Option<&csv::Position>| {
        p.map_or(0, |p| {
            // A record's position may be that of the blank lines the reader skipped
            // before it.
            let mut byte = usize::try_from(p.byte()).unwrap_or(usize::MAX);
            while bytes.get(byte).is_some_and(|b| *b == b'\n' || *b == b'\r') {
                byte += 1;
            }
            line_starts.partition_point(|s| *s <= byte) as u64
        })
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let columns: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![RowError::new(1, "header", csv_message(&e))]),
    };
    if columns.iter().all(String::is_empty) {
        return Err(vec![RowError::new(
            1,
            "header",
            "the first line must name the columns",
        )]);
    }
    let mut errors = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        if c.is_empty() {
            errors.push(RowError::new(1, format!("column {}", i + 1), "has no name"));
        } else if columns[..i].contains(c) {
            errors.push(RowError::new(1, c.clone(), "is named twice"));
        }
    }
    let mut rows = Vec::new();
    for (seen, rec) in r.records().enumerate() {
        // Every record counts, good or bad, and the errors stop at MAX_ERRORS: a hostile
        // file costs at most what a full one does.
        if errors.len() >= MAX_ERRORS {
            errors.push(RowError::new(
                0,
                "file",
                format!("more than {MAX_ERRORS} errors; fix these first"),
            ));
            break;
        }
        if seen >= MAX_ROWS {
            let line = rec.as_ref().ok().map_or(0, |r| line_of(r.position()));
            errors.push(RowError::new(
                line,
                "row",
                format!("a file holds at most {MAX_ROWS} rows"),
            ));
            break;
        }
        match rec {
            Ok(rec) => {
                let line = line_of(rec.position());
                if rec.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                if rec.len() != columns.len() {
                    errors.push(RowError::new(
                        line,
                        "row",
                        format!(
                            "has {} cells; the header names {}",
                            rec.len(),
                            columns.len()
                        ),
                    ));
                    continue;
                }
                rows.push(CsvRow {
                    line,
                    cells: rec.iter().map(str::to_owned).collect(),
                });
            }
            Err(e) => {
                let line = line_of(e.position());
                errors.push(RowError::new(line, "row", csv_message(&e)));
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(CsvTable { columns, rows })
    } else {
        Err(errors)
    }
}

/// The offsets just after each newline.
fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text".to_owned(),
        _ => "is not valid CSV".to_owned(),
    }
}

/// A customer row, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    /// The line it came from.
    pub line: u64,
    /// Who (found by this address, or created).
    pub email: EmailAddress,
    /// Their name, when given.
    pub name: Option<CustomerName>,
    /// Their phone, when given.
    pub phone: Option<String>,
    /// Their organisation's name, when given.
    pub organization: Option<String>,
    /// Their birthday, when given.
    pub birthday: Option<Birthday>,
    /// Their tier, when given.
    pub tier: Option<Tier>,
    /// Attribute values given.
    pub attributes: Map<String, Value>,
}

/// An organisation row, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationRow {
    /// The line it came from.
    pub line: u64,
    /// Its name (found by it, case-insensitively, or created).
    pub name: String,
    /// Its e-mail domain, when given.
    pub domain: Option<String>,
    /// Attribute values given.
    pub attributes: Map<String, Value>,
}

const CUSTOMER_COLUMNS: [&str; 6] = ["email", "name", "phone", "organization", "birthday", "tier"];
const ORGANIZATION_COLUMNS: [&str; 2] = ["name", "domain"];

/// Checks the header: the required column is there and every other column is a known
/// one or a defined attribute.
fn check_columns(
    t: &CsvTable,
    known: &[&str],
    required: &str,
    defs: &[AttributeDef],
) -> Vec<RowError> {
    let mut errors = Vec::new();
    if !t.columns.iter().any(|c| c == required) {
        errors.push(RowError::new(1, required, "the header needs this column"));
    }
    for c in &t.columns {
        let attr = c.strip_prefix("attributes.").unwrap_or(c);
        if !known.contains(&c.as_str()) && !defs.iter().any(|d| d.key.as_str() == attr) {
            errors.push(RowError::new(
                1,
                c.clone(),
                format!(
                    "is neither one of {} nor a defined attribute",
                    known.join(", ")
                ),
            ));
        }
    }
    errors
}

fn attributes_of(
    t: &CsvTable,
    row: &CsvRow,
    known: &[&str],
    defs: &[AttributeDef],
    errors: &mut Vec<RowError>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (c, cell) in t.columns.iter().zip(&row.cells) {
        if known.contains(&c.as_str()) {
            continue;
        }
        let key = c.strip_prefix("attributes.").unwrap_or(c);
        let Some(def) = defs.iter().find(|d| d.key.as_str() == key) else {
            continue;
        };
        let field = format!("attributes.{key}");
        match def.check_text(&field, cell) {
            Ok(Some(v)) => {
                out.insert(key.to_owned(), v);
            }
            Ok(None) => {}
            Err(e) => errors.push(RowError::new(row.line, e.field, e.message)),
        }
    }
    out
}

fn cell<'a>(t: &CsvTable, row: &'a CsvRow, column: &str) -> Option<&'a str> {
    t.columns
        .iter()
        .position(|c| c == column)
        .map(|i| row.cells[i].trim())
        .filter(|s| !s.is_empty())
}

/// Checks every customer row; errors for every bad cell of every row, and for an
/// address given twice.
pub fn customers(
    t: &CsvTable,
    defs: &[AttributeDef],
    today: jiff::civil::Date,
) -> Result<Vec<CustomerRow>, Vec<RowError>> {
    let mut errors = check_columns(t, &CUSTOMER_COLUMNS, "email", defs);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out: Vec<CustomerRow> = Vec::with_capacity(t.rows.len());
    let mut seen = std::collections::HashMap::new();
    for row in &t.rows {
        let before = errors.len();
        let mut err = |field: &str, e: crate::FieldError| {
            errors.push(RowError::new(row.line, field, e.message));
        };
        let email = match EmailAddress::parse(cell(t, row, "email").unwrap_or("")) {
            Ok(e) => Some(e),
            Err(e) => {
                err("email", e);
                None
            }
        };
        let name = cell(t, row, "name")
            .map(CustomerName::parse)
            .transpose()
            .unwrap_or_else(|e| {
                err("name", e);
                None
            })
            .flatten();
        let phone = cell(t, row, "phone")
            .map(|p| phone("phone", p))
            .transpose()
            .unwrap_or_else(|e| {
                err("phone", e);
                None
            })
            .flatten();
        let organization = cell(t, row, "organization")
            .map(|o| organization_name("organization", o))
            .transpose()
            .unwrap_or_else(|e| {
                err("organization", e);
                None
            });
        let birthday = cell(t, row, "birthday")
            .map(|b| Birthday::parse("birthday", b, today))
            .transpose()
            .unwrap_or_else(|e| {
                err("birthday", e);
                None
            });
        let tier = cell(t, row, "tier")
            .map(|v| Tier::parse("tier", v))
            .transpose()
            .unwrap_or_else(|e| {
                err("tier", e);
                None
            });
        let attributes = attributes_of(t, row, &CUSTOMER_COLUMNS, defs, &mut errors);
        if let Some(e) = &email
            && let Some(first) = seen.insert(e.clone(), row.line)
        {
            errors.push(RowError::new(
                row.line,
                "email",
                format!("repeats the address of line {first}"),
            ));
        }
        if let (Some(email), true) = (email, errors.len() == before) {
            out.push(CustomerRow {
                line: row.line,
                email,
                name,
                phone,
                organization,
                birthday,
                tier,
                attributes,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks every organisation row; errors for every bad cell, and for a name or domain
/// given twice.
pub fn organizations(
    t: &CsvTable,
    defs: &[AttributeDef],
) -> Result<Vec<OrganizationRow>, Vec<RowError>> {
    let mut errors = check_columns(t, &ORGANIZATION_COLUMNS, "name", defs);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Vec::with_capacity(t.rows.len());
    let mut names = std::collections::HashMap::new();
    let mut domains = std::collections::HashMap::new();
    for row in &t.rows {
        let before = errors.len();
        let name = match organization_name("name", cell(t, row, "name").unwrap_or("")) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(RowError::new(row.line, "name", e.message));
                None
            }
        };
        let domain = match cell(t, row, "domain").map(|d| organization_domain("domain", d)) {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => {
                errors.push(RowError::new(row.line, "domain", e.message));
                None
            }
            None => None,
        };
        let attributes = attributes_of(t, row, &ORGANIZATION_COLUMNS, defs, &mut errors);
        if let Some(n) = &name
            && let Some(first) = names.insert(n.to_lowercase(), row.line)
        {
            errors.push(RowError::new(
                row.line,
                "name",
                format!("repeats line {first}"),
            ));
        }
        if let Some(d) = &domain
            && let Some(first) = domains.insert(d.clone(), row.line)
        {
            errors.push(RowError::new(
                row.line,
                "domain",
                format!("repeats line {first}"),
            ));
        }
        if let (Some(name), true) = (name, errors.len() == before) {
            out.push(OrganizationRow {
                line: row.line,
                name,
                domain,
                attributes,
            });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::{AttributeKey, AttributeKind};
    use jiff::civil::date;

    fn defs() -> Vec<AttributeDef> {
        vec![
            AttributeDef::new(
                AttributeKey::parse("key", "plan").unwrap(),
                "Plan",
                AttributeKind::Choice,
                vec!["free".into(), "pro".into()],
            )
            .unwrap(),
        ]
    }

    #[test]
    fn every_bad_cell_is_reported_by_line_and_column() {
        let file = "\u{feff}Email,Name,Birthday,plan,tier\n\
                    ann@example.com,Ann,1990-04-01,pro,VIP\n\
                    not-an-address,Bob,1990-02-30,gold,\n\
                    \n\
                    \"cy@example.com\",\"Cy, Jr.\",,,\n\
                    ann@example.com,Ann again,,,\n\
                    dee@example.com,Dee\n";
        let t = read(file.as_bytes()).unwrap_err();
        assert_eq!(
            t,
            vec![RowError::new(7, "row", "has 2 cells; the header names 5")]
        );
        let file = file.replace("dee@example.com,Dee\n", "");
        let t = read(file.as_bytes()).unwrap();
        assert_eq!(t.columns, ["email", "name", "birthday", "plan", "tier"]);
        let errors = customers(&t, &defs(), date(2026, 11, 28)).unwrap_err();
        let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            [
                (3, "email"),
                (3, "birthday"),
                (3, "attributes.plan"),
                (6, "email")
            ]
        );
        assert_eq!(errors[3].message, "repeats the address of line 2");
    }

    #[test]
    fn good_rows_are_read_whole() {
        let file = "email,name,organization,attributes.plan\nann@example.com,Ann,Acme,pro\ncy@example.com,,,\n";
        let t = read(file.as_bytes()).unwrap();
        let rows = customers(&t, &defs(), date(2026, 11, 28)).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].organization.as_deref(), Some("Acme"));
        assert_eq!(rows[0].attributes["plan"], "pro");
        assert_eq!(rows[1].name, None);
        assert_eq!(rows[1].line, 3);
    }

    #[test]
    fn headers_must_be_known() {
        let t = read(b"name,colour\nAnn,red\n").unwrap();
        let e = customers(&t, &defs(), date(2026, 11, 28)).unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].field.as_str(), e[1].field.as_str()),
            ("email", "colour")
        );
        assert!(read(b"email,email\na@b.co,a@b.co\n").is_err());
        assert!(read(b"").is_err());
    }

    #[test]
    fn hostile_files_stop_early() {
        let mut many = String::from("email\n");
        for _ in 0..5_000 {
            many.push_str("a,b\n");
        }
        let e = read(many.as_bytes()).unwrap_err();
        assert_eq!(e.len(), MAX_ERRORS + 1);
        assert_eq!(e[MAX_ERRORS].field, "file");
        let mut long = String::from("email\n");
        for i in 0..=MAX_ROWS {
            long.push_str(&format!("a{i}@example.com\n"));
        }
        let e = read(long.as_bytes()).unwrap_err();
        assert_eq!((e.len(), e[0].line), (1, MAX_ROWS as u64 + 2));
    }

    #[test]
    fn organisations_are_checked() {
        let t = read(b"name,domain\nAcme,acme.com\nacme,\nBeta,not a domain\n").unwrap();
        let e = organizations(&t, &[]).unwrap_err();
        let got: Vec<(u64, &str)> = e.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, [(3, "name"), (4, "domain")]);
    }
}
