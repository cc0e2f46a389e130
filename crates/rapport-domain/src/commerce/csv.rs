//! Orders from CSV: one row per order line, rows of one order sharing its `external_id`
//! (and agreeing on the order's own columns). Columns: `external_id`, `email`, `currency`,
//! `sku`, `item`, `quantity`, `unit_price` (required), `name`, `status`, `placed_at`
//! (RFC 3339), `shipping`, `tax`, `discount` (optional, the order's, on its first row).
//! Every bad cell is reported by line and column.

use std::collections::HashMap;

use super::order::{NewOrder, RawLine, RawOrder};
use crate::clock::Timestamp;
use crate::crm::import::{CsvTable, RowError};

const REQUIRED: [&str; 7] = [
    "external_id",
    "email",
    "currency",
    "sku",
    "item",
    "quantity",
    "unit_price",
];
const OPTIONAL: [&str; 6] = ["name", "status", "placed_at", "shipping", "tax", "discount"];
/// The order's own columns: every row of one order must agree on them.
const ORDER_COLUMNS: [&str; 4] = ["email", "currency", "status", "placed_at"];

/// The column of a CSV file an order field's error belongs to.
fn column_of(field: &str) -> &str {
    let f = field.rsplit('.').next().unwrap_or(field);
    if f == "name" && field.starts_with("lines") {
        "item"
    } else {
        f
    }
}

/// Reads orders from a CSV table, in the order their first rows come.
pub fn orders(t: &CsvTable, now: Timestamp) -> Result<Vec<NewOrder>, Vec<RowError>> {
    let mut errors = Vec::new();
    for r in REQUIRED {
        if !t.columns.iter().any(|c| c == r) {
            errors.push(RowError {
                line: 1,
                field: r.into(),
                message: "the header needs this column".into(),
            });
        }
    }
    for c in &t.columns {
        if !REQUIRED.contains(&c.as_str()) && !OPTIONAL.contains(&c.as_str()) {
            errors.push(RowError {
                line: 1,
                field: c.clone(),
                message: format!(
                    "is not a column of an order: {}",
                    [&REQUIRED[..], &OPTIONAL[..]].concat().join(", ")
                ),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let col = |row: &[String], name: &str| -> Option<String> {
        t.columns
            .iter()
            .position(|c| c == name)
            .map(|i| row[i].trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    // Rows grouped by order, first rows first.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, row) in t.rows.iter().enumerate() {
        let id = col(&row.cells, "external_id").unwrap_or_default();
        match index.get(&id) {
            Some(g) => groups[*g].1.push(i),
            None => {
                index.insert(id.clone(), groups.len());
                groups.push((id, vec![i]));
            }
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for (_, rows) in &groups {
        let first = &t.rows[rows[0]];
        for &r in &rows[1..] {
            let row = &t.rows[r];
            for c in ORDER_COLUMNS {
                let (a, b) = (col(&first.cells, c), col(&row.cells, c));
                if b.is_some() && a != b {
                    errors.push(RowError {
                        line: row.line,
                        field: c.into(),
                        message: format!("differs from line {}, the order's first row", first.line),
                    });
                }
            }
        }
        let placed_at = match col(&first.cells, "placed_at") {
            Some(p) => match chrono::DateTime::parse_from_rfc3339(&p) {
                Ok(d) => Some(Timestamp(d.timestamp_micros())),
                Err(_) => {
                    errors.push(RowError {
                        line: first.line,
                        field: "placed_at".into(),
                        message: "must be a time such as 2026-11-20T09:30:00Z".into(),
                    });
                    continue;
                }
            },
            None => None,
        };
        let cells: Vec<(u64, String, String, String, String)> = rows
            .iter()
            .map(|&r| {
                let row = &t.rows[r];
                (
                    row.line,
                    col(&row.cells, "sku").unwrap_or_default(),
                    col(&row.cells, "item").unwrap_or_default(),
                    col(&row.cells, "quantity").unwrap_or_default(),
                    col(&row.cells, "unit_price").unwrap_or_default(),
                )
            })
            .collect();
        let mut bad_quantity = false;
        let quantities: Vec<i64> = cells
            .iter()
            .map(|(line, _, _, q, _)| {
                q.parse::<i64>().unwrap_or_else(|_| {
                    errors.push(RowError {
                        line: *line,
                        field: "quantity".into(),
                        message: "must be a whole number".into(),
                    });
                    bad_quantity = true;
                    0
                })
            })
            .collect();
        if bad_quantity {
            continue;
        }
        let (email, name, currency, status) = (
            col(&first.cells, "email").unwrap_or_default(),
            col(&first.cells, "name"),
            col(&first.cells, "currency").unwrap_or_default(),
            col(&first.cells, "status"),
        );
        let (external_id, shipping, tax, discount) = (
            col(&first.cells, "external_id").unwrap_or_default(),
            col(&first.cells, "shipping"),
            col(&first.cells, "tax"),
            col(&first.cells, "discount"),
        );
        let raw = RawOrder {
            external_id: &external_id,
            email: &email,
            name: name.as_deref(),
            currency: &currency,
            status: status.as_deref(),
            placed_at,
            lines: cells
                .iter()
                .zip(&quantities)
                .map(|((_, sku, item, _, price), q)| RawLine {
                    sku,
                    name: item,
                    quantity: *q,
                    unit_price: price,
                })
                .collect(),
            shipping: shipping.as_deref(),
            tax: tax.as_deref(),
            discount: discount.as_deref(),
            shipments: Vec::new(),
        };
        match NewOrder::parse(&raw, now) {
            Ok(o) => out.push(o),
            Err(e) => {
                // A line's error names the line it came from; the order's, its first row.
                let line = e
                    .field
                    .strip_prefix("lines[")
                    .and_then(|s| s.split(']').next())
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| cells.get(i))
                    .map_or(first.line, |c| c.0);
                errors.push(RowError {
                    line,
                    field: column_of(&e.field).to_owned(),
                    message: e.message,
                });
            }
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
    use crate::crm::import::read;

    #[test]
    fn rows_of_one_order_make_one_order_and_bad_cells_are_named() {
        let now = Timestamp(1_800_000_000_000_000);
        let good = "external_id,email,currency,sku,item,quantity,unit_price,status\n\
                    A-1,ann@example.com,EUR,MUG,Mug,2,4.50,paid\n\
                    A-2,bo@example.com,EUR,TEE,T-shirt,1,15,delivered\n\
                    A-1,ann@example.com,EUR,TEA,Tea,1,3.20,\n";
        let o = orders(&read(good.as_bytes()).unwrap(), now).unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!(
            (o[0].external_id.as_str(), o[0].lines.len(), o[0].total),
            ("A-1", 2, 1220)
        );
        let bad = "external_id,email,currency,sku,item,quantity,unit_price,placed_at\n\
                   B-1,ann@example.com,EUR,MUG,Mug,two,4.50,\n\
                   B-2,bo@example.com,EUR,TEE,T-shirt,1,1.234,\n\
                   B-3,nobody,EUR,TEE,T-shirt,1,1,\n\
                   B-4,cy@example.com,EUR,TEE,T-shirt,1,1,yesterday\n\
                   B-5,dee@example.com,EUR,TEE,T-shirt,1,1,\n\
                   B-5,eve@example.com,EUR,TEE,T-shirt,1,1,\n";
        let e = orders(&read(bad.as_bytes()).unwrap(), now).unwrap_err();
        let got: Vec<(u64, &str)> = e.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            [
                (2, "quantity"),
                (3, "unit_price"),
                (4, "email"),
                (5, "placed_at"),
                (7, "email")
            ]
        );
        let e = orders(&read(b"external_id,email\nA,b@c.de\n").unwrap(), now).unwrap_err();
        assert_eq!(e.len(), 5, "{e:?}");
    }
}
