//! The knowledge base's categories (its top-level structure in the help center): listed
//! for everyone with the number of articles the reader may read; created, changed and
//! deleted by supervisors and admins (`Permission::ManageKb`).

use rapport_domain::kb::Slug;
use rapport_domain::{FieldError, Principal, Timestamp, Viewer};
use serde::Serialize;

use super::articles::{ArticleFilter, count, require_manage, touch};
use super::check_text;
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::Actor;
use crate::value::Row;

/// A category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Category {
    /// Database id.
    pub id: i64,
    /// Its URL name (unique): `/help/categories/{slug}`.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// A line about what it holds (may be empty).
    pub description: String,
    /// Its order (lower first).
    pub position: i64,
    /// How many of its articles the reader may read.
    pub articles: i64,
    /// Created.
    pub created_at: Timestamp,
}

/// A category to create.
#[derive(Debug, Clone)]
pub struct NewCategory {
    /// Its URL name.
    pub slug: Slug,
    /// Its display name (1–100 characters).
    pub name: String,
    /// What it holds (at most 500 characters).
    pub description: String,
    /// Its order.
    pub position: i64,
}

/// A change to a category; `None` leaves a property as it is.
#[derive(Debug, Clone, Default)]
pub struct CategoryPatch {
    /// New slug (refused when taken).
    pub slug: Option<Slug>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New position.
    pub position: Option<i64>,
}

const COLS: &str = "id, slug, name, description, position, created_at";

fn category_from(r: &Row) -> Result<Category> {
    Ok(Category {
        id: r.int("id")?,
        slug: r.text("slug")?,
        name: r.text("name")?,
        description: r.text("description")?,
        position: r.int("position")?,
        articles: 0,
        created_at: Timestamp(r.int("created_at")?),
    })
}

async fn with_count(
    c: &mut dyn Conn,
    who: Option<&Principal>,
    mut k: Category,
) -> Result<Category> {
    let f = ArticleFilter {
        category_id: Some(k.id),
        ..ArticleFilter::default()
    };
    k.articles = count(c, who, &f).await?;
    Ok(k)
}

/// Every category in order, each with the number of its articles `who` may read.
pub async fn list(c: &mut dyn Conn, who: Option<&Principal>) -> Result<Vec<Category>> {
    let rows = c
        .query(
            &format!("SELECT {COLS} FROM kb_categories ORDER BY position, name, id"),
            &[],
        )
        .await?;
    let counts = super::lookup::count_by_category(c, who).await?;
    rows.iter()
        .map(|r| {
            let mut k = category_from(r)?;
            k.articles = counts.get(&k.id).copied().unwrap_or(0);
            Ok(k)
        })
        .collect()
}

/// One category by id, with the number of its articles `who` may read.
pub async fn get(c: &mut dyn Conn, who: Option<&Principal>, id: i64) -> Result<Category> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM kb_categories WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("category"))?;
    with_count(c, who, category_from(&r)?).await
}

/// One category by slug, with the number of its articles `who` may read.
pub async fn get_by_slug(
    c: &mut dyn Conn,
    who: Option<&Principal>,
    slug: &str,
) -> Result<Category> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM kb_categories WHERE slug = $1"),
            &[slug.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("category"))?;
    with_count(c, who, category_from(&r)?).await
}

fn taken() -> StoreError {
    FieldError::new("slug", "a category with this slug already exists").into()
}

/// Creates a category; a taken slug is an error on `slug`.
pub async fn create(
    c: &mut dyn Conn,
    viewer: &Viewer,
    k: NewCategory,
    now: Timestamp,
) -> Result<Category> {
    require_manage(viewer)?;
    let name = check_text("name", &k.name, 100, true)?;
    let description = check_text("description", &k.description, 500, false)?;
    let r = c
        .opt(
            &format!(
                "INSERT INTO kb_categories (slug, name, description, position, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING RETURNING {COLS}"
            ),
            &[
                k.slug.as_str().into(),
                name.into(),
                description.into(),
                k.position.into(),
                now.into(),
            ],
        )
        .await?
        .ok_or_else(taken)?;
    category_from(&r)
}

/// Changes a category. A new slug or name marks each of its articles changed
/// (`article_changed`, `category_changed`), so the search index shows it.
pub async fn update(
    c: &mut dyn Conn,
    viewer: &Viewer,
    id: i64,
    p: CategoryPatch,
    now: Timestamp,
) -> Result<Category> {
    require_manage(viewer)?;
    let old = get(c, Some(&Principal::System), id).await?;
    let name = match &p.name {
        Some(n) => check_text("name", n, 100, true)?,
        None => old.name.clone(),
    };
    let description = match &p.description {
        Some(d) => check_text("description", d, 500, false)?,
        None => old.description.clone(),
    };
    let slug = p
        .slug
        .as_ref()
        .map_or(old.slug.clone(), |s| s.as_str().to_owned());
    if slug != old.slug
        && c.opt(
            "SELECT id FROM kb_categories WHERE slug = $1 AND id <> $2",
            &[slug.clone().into(), id.into()],
        )
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let position = p.position.unwrap_or(old.position);
    c.execute(
        "UPDATE kb_categories SET slug = $1, name = $2, description = $3, position = $4
         WHERE id = $5",
        &[
            slug.clone().into(),
            name.clone().into(),
            description.into(),
            position.into(),
            id.into(),
        ],
    )
    .await?;
    if slug != old.slug || name != old.name {
        let rows = c
            .query(
                "SELECT id, slug FROM kb_articles WHERE category_id = $1 ORDER BY id",
                &[id.into()],
            )
            .await?;
        for r in rows {
            touch(
                c,
                Actor::User(viewer.user_id),
                r.int("id")?,
                &r.text("slug")?,
                now,
            )
            .await?;
        }
    }
    get(c, Some(&Principal::System), id).await
}

/// Deletes an empty category; one that still holds articles is a conflict (move or delete
/// them first).
pub async fn delete(c: &mut dyn Conn, viewer: &Viewer, id: i64) -> Result<()> {
    require_manage(viewer)?;
    let k = get(c, Some(&Principal::System), id).await?;
    if k.articles > 0 {
        return Err(StoreError::Conflict(format!(
            "the category still holds {} article(s): move or delete them first",
            k.articles
        )));
    }
    c.execute("DELETE FROM kb_categories WHERE id = $1", &[id.into()])
        .await?;
    Ok(())
}
