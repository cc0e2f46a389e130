//! The definitions of custom attributes: which keys customers and organisations may
//! carry, and of which type (the rules are `rapport_domain::crm::attributes`).

use rapport_domain::Timestamp;
use rapport_domain::crm::{AttributeDef, AttributeKey, AttributeKind, AttributeTarget};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// A stored definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Its id.
    pub id: i64,
    /// What it belongs to.
    pub target: AttributeTarget,
    /// The definition.
    pub def: AttributeDef,
    /// When it was defined.
    pub created_at: Timestamp,
}

fn bad() -> StoreError {
    StoreError::Db("bad stored attribute definition".into())
}

fn of(r: &Row) -> Result<Stored> {
    let choices: Vec<String> = serde_json::from_str(&r.text("choices")?)?;
    Ok(Stored {
        id: r.int("id")?,
        target: AttributeTarget::parse("target", &r.text("target")?).map_err(|_| bad())?,
        def: AttributeDef {
            key: AttributeKey::parse("key", &r.text("key")?).map_err(|_| bad())?,
            label: r.text("label")?,
            kind: AttributeKind::parse("kind", &r.text("kind")?).map_err(|_| bad())?,
            choices,
        },
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// Every definition, customers' first, each by key.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<Stored>> {
    c.query(
        "SELECT id, target, key, label, kind, choices, created_at FROM attribute_defs
         ORDER BY target, key",
        &[],
    )
    .await?
    .iter()
    .map(of)
    .collect()
}

/// The definitions of one target.
pub async fn defs(c: &mut dyn Conn, target: AttributeTarget) -> Result<Vec<AttributeDef>> {
    Ok(c.query(
        "SELECT id, target, key, label, kind, choices, created_at FROM attribute_defs
             WHERE target = $1 ORDER BY key",
        &[target.as_str().into()],
    )
    .await?
    .iter()
    .map(of)
    .collect::<Result<Vec<_>>>()?
    .into_iter()
    .map(|s| s.def)
    .collect())
}

/// Defines an attribute; 409 when the target already has the key.
pub async fn create(
    c: &mut dyn Conn,
    target: AttributeTarget,
    def: &AttributeDef,
    now: Timestamp,
) -> Result<Stored> {
    let row = c
        .opt(
            "INSERT INTO attribute_defs (target, key, label, kind, choices, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (target, key) DO NOTHING
             RETURNING id, target, key, label, kind, choices, created_at",
            &[
                target.as_str().into(),
                def.key.as_str().into(),
                def.label.as_str().into(),
                def.kind.as_str().into(),
                serde_json::to_string(&def.choices)?.into(),
                now.into(),
            ],
        )
        .await?
        .ok_or_else(|| {
            StoreError::Conflict(format!(
                "a {} attribute '{}' is already defined",
                target.as_str(),
                def.key.as_str()
            ))
        })?;
    of(&row)
}

/// Removes a definition. Values already stored stay (readable, but no longer writable).
pub async fn delete(c: &mut dyn Conn, id: i64) -> Result<()> {
    let n = c
        .execute("DELETE FROM attribute_defs WHERE id = $1", &[id.into()])
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("attribute"));
    }
    Ok(())
}
