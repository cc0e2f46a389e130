//! Saved views: inbox filters an agent keeps under a name.

use rapport_domain::{FieldError, Timestamp};
use serde::Serialize;

use crate::db::Conn;
use crate::error::Result;

/// An inbox view an agent saved.
#[derive(Debug, Clone, Serialize)]
pub struct SavedView {
    /// Database id.
    pub id: i64,
    /// The name in the views menu.
    pub name: String,
    /// The filters, as the list's query string (`status=open&channel=email`).
    pub query: String,
}

/// Saves a view for an agent (a name they already use is replaced).
pub async fn save(
    c: &mut dyn Conn,
    user_id: i64,
    name: &str,
    query: &str,
    now: Timestamp,
) -> Result<SavedView> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(FieldError::new("name", "must be 1 to 60 characters").into());
    }
    if query.len() > 1_000 {
        return Err(FieldError::new("query", "is too long").into());
    }
    let row = c
        .one(
            "INSERT INTO saved_views (user_id, name, query, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query
             RETURNING id, name, query",
            &[user_id.into(), name.into(), query.into(), now.into()],
        )
        .await?;
    Ok(SavedView {
        id: row.int("id")?,
        name: row.text("name")?,
        query: row.text("query")?,
    })
}

/// An agent's saved views, by name.
pub async fn list(c: &mut dyn Conn, user_id: i64) -> Result<Vec<SavedView>> {
    c.query(
        "SELECT id, name, query FROM saved_views WHERE user_id = $1 ORDER BY name",
        &[user_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(SavedView {
            id: r.int("id")?,
            name: r.text("name")?,
            query: r.text("query")?,
        })
    })
    .collect()
}
