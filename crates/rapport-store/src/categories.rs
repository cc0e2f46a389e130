//! Ticket categories: the four built in, plus custom ones a supervisor adds.

use rapport_domain::{Category, FieldError, Timestamp};
use serde::Serialize;

use crate::db::Conn;
use crate::error::Result;

/// A category.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryInfo {
    /// The slug tickets carry.
    pub slug: String,
    /// The display name.
    pub name: String,
    /// One of the four every help desk starts with.
    pub built_in: bool,
}

/// Every category, built-in first.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<CategoryInfo>> {
    c.query(
        "SELECT slug, name, built_in FROM categories ORDER BY built_in DESC, name",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(CategoryInfo {
            slug: r.text("slug")?,
            name: r.text("name")?,
            built_in: r.bool("built_in")?,
        })
    })
    .collect()
}

/// Adds a custom category; a taken slug is an error on `slug`.
pub async fn create(
    c: &mut dyn Conn,
    slug: &Category,
    name: &str,
    now: Timestamp,
) -> Result<CategoryInfo> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "must be 1 to 100 characters").into());
    }
    let inserted = c
        .execute(
            "INSERT INTO categories (slug, name, built_in, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (slug) DO NOTHING",
            &[slug.as_str().into(), name.into(), false.into(), now.into()],
        )
        .await?;
    if inserted == 0 {
        return Err(FieldError::new("slug", "a category with this slug already exists").into());
    }
    Ok(CategoryInfo {
        slug: slug.as_str().to_owned(),
        name: name.to_owned(),
        built_in: false,
    })
}
