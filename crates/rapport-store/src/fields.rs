//! Custom field definitions: the keys of `custom_fields` an admin named and labelled.

use rapport_domain::{FieldError, Timestamp};
use serde::Serialize;

use crate::db::Conn;
use crate::error::Result;

/// A custom ticket field an admin defined.
#[derive(Debug, Clone, Serialize)]
pub struct CustomFieldDef {
    /// The key in `custom_fields`.
    pub key: String,
    /// The label agents see.
    pub label: String,
}

/// Defines a custom field; the key must be new.
pub async fn define(
    c: &mut dyn Conn,
    key: &str,
    label: &str,
    now: Timestamp,
) -> Result<CustomFieldDef> {
    let key = key.trim();
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
    if !ok {
        return Err(FieldError::new(
            "key",
            "use 1 to 64 lower-case letters, digits or underscores",
        )
        .into());
    }
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(FieldError::new("label", "must be 1 to 100 characters").into());
    }
    let n = c
        .execute(
            "INSERT INTO custom_field_defs (key, label, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            &[key.into(), label.into(), now.into()],
        )
        .await?;
    if n == 0 {
        return Err(FieldError::new("key", "a field with this key already exists").into());
    }
    Ok(CustomFieldDef {
        key: key.to_owned(),
        label: label.to_owned(),
    })
}

/// Every defined custom field, by label.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<CustomFieldDef>> {
    c.query(
        "SELECT key, label FROM custom_field_defs ORDER BY label",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(CustomFieldDef {
            key: r.text("key")?,
            label: r.text("label")?,
        })
    })
    .collect()
}
