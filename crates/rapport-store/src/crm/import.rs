//! Importing customers and organisations from CSV (rows checked by
//! `rapport_domain::crm::import`): all or nothing — a file with any bad row writes
//! nothing and reports every bad cell by line and column; a dry run reports the same
//! and what a real run would create and update, without writing.

use std::collections::HashSet;

use rapport_domain::crm::import::{self as rows, CsvTable, RowError};
use rapport_domain::crm::{AttributeTarget, attributes, dates::Date};
use rapport_domain::{EventKind, Timestamp};
use serde_json::{Map, Value, json};

use crate::customers;
use crate::db::Conn;
use crate::error::Result;
use crate::events::{self, Actor};
use crate::search;

use super::organizations;

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Whether nothing was written on purpose.
    pub dry_run: bool,
    /// Rows read (blank lines left out).
    pub rows: usize,
    /// Records created.
    pub created: usize,
    /// Records that existed and were updated.
    pub updated: usize,
    /// Organisations created along the way (customer imports naming a new one).
    pub organizations_created: usize,
    /// Every bad cell; when there is any, nothing was written.
    pub errors: Vec<RowError>,
}

fn merged(stored: &Value, given: &Map<String, Value>) -> Value {
    let mut m = match stored {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    m.extend(given.clone());
    Value::Object(m)
}

/// Imports customers: found by address (main or other) and updated, or created.
pub async fn customers(
    c: &mut dyn Conn,
    actor: Actor,
    table: &CsvTable,
    today: Date,
    dry_run: bool,
    now: Timestamp,
) -> Result<Report> {
    let defs = super::attributes::defs(c, AttributeTarget::Customer).await?;
    let mut report = Report {
        dry_run,
        rows: table.rows.len(),
        ..Report::default()
    };
    let list = match rows::customers(table, &defs, today) {
        Ok(l) => l,
        Err(errors) => {
            report.errors = errors;
            return Ok(report);
        }
    };
    let mut new_orgs = HashSet::new();
    for row in &list {
        let existing = customers::id_by_email(c, &row.email).await?;
        let org = match &row.organization {
            Some(name) => match organizations::by_name(c, name).await? {
                Some(id) => Some(id),
                None if dry_run => {
                    new_orgs.insert(name.to_lowercase());
                    None
                }
                None => {
                    new_orgs.insert(name.to_lowercase());
                    Some(
                        organizations::create(c, actor, name, None, &Map::new(), now)
                            .await?
                            .id,
                    )
                }
            },
            None => None,
        };
        match existing {
            Some(_) => report.updated += 1,
            None => report.created += 1,
        }
        if dry_run {
            continue;
        }
        let id = match existing {
            Some(id) => id,
            None => customers::find_or_create(c, &row.email, row.name.as_ref(), now).await?,
        };
        let current = customers::get(c, id).await?;
        // Checked by the domain; checking again against the same definitions merges.
        let attrs = attributes::apply(&defs, &Map::new(), &row.attributes)?;
        let name = row
            .name
            .as_ref()
            .map_or(current.name.clone(), |n| n.as_str().to_owned());
        c.execute(
            "UPDATE customers SET name = $1, phone = COALESCE($2, phone),
                    organization_id = COALESCE($3, organization_id),
                    birthday = COALESCE($4, birthday), tier = COALESCE($5, tier),
                    attributes = $6, updated_at = $7
             WHERE id = $8",
            &[
                name.as_str().into(),
                row.phone.clone().into(),
                org.into(),
                row.birthday.map(|b| b.written()).into(),
                row.tier.as_ref().map(|t| t.as_str().to_owned()).into(),
                merged(&current.attributes, &attrs).to_string().into(),
                now.into(),
                id.into(),
            ],
        )
        .await?;
        if name != current.name {
            search::reindex_customer(c, id, &name, &current.email).await?;
        }
    }
    report.organizations_created = new_orgs.len();
    if !dry_run {
        events::record_crm(
            c,
            actor,
            EventKind::CustomerChanged,
            &json!({"action": "imported", "created": report.created, "updated": report.updated}),
            now,
        )
        .await?;
    }
    Ok(report)
}

/// Imports organisations: found by name (without case) and updated, or created.
pub async fn organizations(
    c: &mut dyn Conn,
    actor: Actor,
    table: &CsvTable,
    dry_run: bool,
    now: Timestamp,
) -> Result<Report> {
    let defs = super::attributes::defs(c, AttributeTarget::Organization).await?;
    let mut report = Report {
        dry_run,
        rows: table.rows.len(),
        ..Report::default()
    };
    let list = match rows::organizations(table, &defs) {
        Ok(l) => l,
        Err(errors) => {
            report.errors = errors;
            return Ok(report);
        }
    };
    // A domain another organisation holds is a bad cell too.
    for row in &list {
        let existing = organizations::by_name(c, &row.name).await?;
        if let Some(d) = &row.domain
            && let Some(holder) = organizations::for_domain(c, d).await?
            && Some(holder) != existing
        {
            report.errors.push(RowError {
                line: row.line,
                field: "domain".into(),
                message: format!("another organisation has the domain {d}"),
            });
        }
        match existing {
            Some(_) => report.updated += 1,
            None => report.created += 1,
        }
    }
    if !report.errors.is_empty() || dry_run {
        if !report.errors.is_empty() {
            report.created = 0;
            report.updated = 0;
        }
        return Ok(report);
    }
    for row in &list {
        match organizations::by_name(c, &row.name).await? {
            Some(id) => {
                let change = organizations::Change {
                    name: None,
                    domain: row.domain.clone().map(Some),
                    attributes: Some(row.attributes.clone()),
                };
                organizations::update(c, actor, id, &change, now).await?;
            }
            None => {
                organizations::create(
                    c,
                    actor,
                    &row.name,
                    row.domain.as_deref(),
                    &row.attributes,
                    now,
                )
                .await?;
            }
        }
    }
    Ok(report)
}
