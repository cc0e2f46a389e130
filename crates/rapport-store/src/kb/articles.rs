//! Writing articles: creating (with a unique slug), changing (a text change is a new
//! version of that language) and deleting; reading them is `lookup`.

use rapport_domain::kb::{ArticleBody, ArticleStatus, ArticleTitle, Locale, Slug, Visibility};
use rapport_domain::{FieldError, Permission, Tag, Timestamp, Viewer};

use super::{Action, Article, check_text, record_change};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::Actor;
use crate::value::Value;

use super::lookup::get_unchecked;
pub use super::lookup::{
    ArticleFilter, ArticleOrder, count, get, get_by_slug, list, published_for_index,
};

/// The longest section name.
pub const SECTION_MAX: usize = 100;

/// The most articles one list returns.
pub const LIST_MAX: i64 = 500;

/// An article to create, already parsed.
#[derive(Debug, Clone)]
pub struct NewArticle {
    /// The title (in `locale`).
    pub title: ArticleTitle,
    /// The markdown (in `locale`).
    pub body: ArticleBody,
    /// The language it is written in; becomes the article's default language.
    pub locale: Locale,
    /// The slug asked for: refused when taken. `None`: made from the title, numbered
    /// (`-2`, `-3`, …) when taken.
    pub slug: Option<Slug>,
    /// Draft, published or archived.
    pub status: ArticleStatus,
    /// Who may read it once published.
    pub visibility: Visibility,
    /// The category (id) to file it in.
    pub category_id: Option<i64>,
    /// The section of the category (free text, at most 100 characters; empty: none).
    pub section: String,
    /// Tags.
    pub tags: Vec<Tag>,
    /// The ticket whose answer it was made from.
    pub source_ticket_id: Option<i64>,
    /// Its order within its category (lower first).
    pub position: i64,
}

impl NewArticle {
    /// A draft, public once published, in English, with no category, tags or source.
    pub fn draft(title: ArticleTitle, body: ArticleBody) -> Self {
        Self {
            title,
            body,
            locale: Locale::english(),
            slug: None,
            status: ArticleStatus::Draft,
            visibility: Visibility::Public,
            category_id: None,
            section: String::new(),
            tags: Vec::new(),
            source_ticket_id: None,
            position: 0,
        }
    }
}

/// A change to an article; `None` leaves a property as it is.
#[derive(Debug, Clone, Default)]
pub struct ArticlePatch {
    /// The language `title` and `body` are in (default: the article's default language).
    /// A language the article has no text in yet adds a translation (which needs a title).
    pub locale: Option<Locale>,
    /// New title in `locale`.
    pub title: Option<ArticleTitle>,
    /// New markdown in `locale`.
    pub body: Option<ArticleBody>,
    /// What the new version changed (kept with it; at most 500 characters).
    pub note: Option<String>,
    /// New slug (refused when taken).
    pub slug: Option<Slug>,
    /// New status. Publishing for the first time sets `published_at`.
    pub status: Option<ArticleStatus>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New category: `Some(None)` takes it out of its category.
    pub category_id: Option<Option<i64>>,
    /// New section.
    pub section: Option<String>,
    /// New tags (replacing the old ones).
    pub tags: Option<Vec<Tag>>,
    /// New default language (it must have a translation).
    pub default_locale: Option<Locale>,
    /// New position.
    pub position: Option<i64>,
    /// A translation to remove (never the default language's); its versions are kept.
    pub remove_locale: Option<Locale>,
}

fn require(viewer: &Viewer, p: Permission) -> Result<()> {
    if viewer.can(p) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(match p {
            Permission::ManageKb => "managing the knowledge base needs a supervisor",
            _ => "you may not write knowledge-base articles",
        }))
    }
}

async fn check_category(c: &mut dyn Conn, id: i64) -> Result<()> {
    if c.opt("SELECT id FROM kb_categories WHERE id = $1", &[id.into()])
        .await?
        .is_none()
    {
        return Err(FieldError::new("category", "no knowledge-base category has this id").into());
    }
    Ok(())
}

async fn check_source_ticket(c: &mut dyn Conn, viewer: &Viewer, id: i64) -> Result<()> {
    match crate::tickets::get_for_agent(c, viewer, id).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound(_) | StoreError::Forbidden(_)) => {
            Err(FieldError::new("source_ticket_id", "no ticket you may see has this id").into())
        }
        Err(e) => Err(e),
    }
}

fn check_note(note: Option<&str>) -> Result<String> {
    check_text("note", note.unwrap_or(""), 500, false)
}

/// Inserts the article row under `slug`, or returns `None` when the slug is taken.
async fn insert_row(
    c: &mut dyn Conn,
    viewer: &Viewer,
    a: &NewArticle,
    slug: &Slug,
    section: &str,
    now: Timestamp,
) -> Result<Option<i64>> {
    let published_at = (a.status == ArticleStatus::Published).then_some(now);
    c.opt(
        "INSERT INTO kb_articles (slug, category_id, section, status, visibility, default_locale,
                                 author_id, source_ticket_id, position, created_at, updated_at,
                                 published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)
         ON CONFLICT (slug) DO NOTHING RETURNING id",
        &[
            slug.as_str().into(),
            a.category_id.into(),
            section.into(),
            a.status.as_str().into(),
            a.visibility.as_str().into(),
            a.locale.as_str().into(),
            viewer.user_id.into(),
            a.source_ticket_id.into(),
            a.position.into(),
            now.into(),
            published_at.into(),
        ],
    )
    .await?
    .map(|r| r.int("id"))
    .transpose()
}

/// The first of `base`, `base-2`, `base-3`, … no article has, judging by what is stored now.
async fn free_slug(c: &mut dyn Conn, base: &Slug, exclude: Option<i64>) -> Result<Slug> {
    let taken: Vec<String> = c
        .query(
            "SELECT slug FROM kb_articles WHERE (slug = $1 OR slug LIKE $2) AND id <> $3",
            &[
                base.as_str().into(),
                // `numbered` shortens a long base to fit its suffix: look under the
                // shortest prefix any numbered form keeps (slugs hold no LIKE wildcards).
                format!(
                    "{}%",
                    &base.as_str()[..base.as_str().len().min(Slug::MAX - 12)]
                )
                .into(),
                exclude.unwrap_or(0).into(),
            ],
        )
        .await?
        .iter()
        .map(|r| r.text("slug"))
        .collect::<Result<_>>()?;
    if !taken.iter().any(|s| s == base.as_str()) {
        return Ok(base.clone());
    }
    let mut n = 2;
    loop {
        let s = base.numbered(n);
        if !taken.iter().any(|t| t == s.as_str()) {
            return Ok(s);
        }
        n += 1;
    }
}

/// One language's new text, and why.
pub(crate) struct Text<'a> {
    pub(crate) locale: &'a Locale,
    pub(crate) title: &'a str,
    pub(crate) body: &'a str,
    pub(crate) note: &'a str,
}

/// Writes a new version of one language's text (the next number of that language) and
/// makes it the current text; returns the version number.
pub(crate) async fn write_text(
    c: &mut dyn Conn,
    article_id: i64,
    t: Text<'_>,
    by: i64,
    now: Timestamp,
) -> Result<i64> {
    let Text {
        locale,
        title,
        body,
        note,
    } = t;
    let version = c
        .one(
            "SELECT COALESCE(MAX(version), 0) + 1 AS v FROM kb_versions
             WHERE article_id = $1 AND locale = $2",
            &[article_id.into(), locale.as_str().into()],
        )
        .await?
        .int("v")?;
    c.execute(
        "INSERT INTO kb_versions (article_id, locale, version, title, body, note, author_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            article_id.into(),
            locale.as_str().into(),
            version.into(),
            title.into(),
            body.into(),
            note.into(),
            by.into(),
            now.into(),
        ],
    )
    .await?;
    c.execute(
        "INSERT INTO kb_translations (article_id, locale, title, body, version, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (article_id, locale) DO UPDATE SET title = excluded.title,
             body = excluded.body, version = excluded.version, updated_by = excluded.updated_by,
             updated_at = excluded.updated_at",
        &[
            article_id.into(),
            locale.as_str().into(),
            title.into(),
            body.into(),
            version.into(),
            by.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(version)
}

async fn write_tags(c: &mut dyn Conn, article_id: i64, tags: &[Tag]) -> Result<()> {
    c.execute(
        "DELETE FROM kb_article_tags WHERE article_id = $1",
        &[article_id.into()],
    )
    .await?;
    for t in tags {
        c.execute(
            "INSERT INTO kb_article_tags (article_id, tag) VALUES ($1, $2)
             ON CONFLICT (article_id, tag) DO NOTHING",
            &[article_id.into(), t.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// Creates an article (version 1 of its text) and records `article_changed` (`created`,
/// or `published` when it is created published). A slug asked for that is taken is an
/// error on `slug`; one made from the title is numbered until it is free.
pub async fn create(
    c: &mut dyn Conn,
    viewer: &Viewer,
    a: NewArticle,
    now: Timestamp,
) -> Result<Article> {
    require(viewer, Permission::WriteArticles)?;
    let section = check_text("section", &a.section, SECTION_MAX, false)?;
    if let Some(cat) = a.category_id {
        check_category(c, cat).await?;
    }
    if let Some(t) = a.source_ticket_id {
        check_source_ticket(c, viewer, t).await?;
    }
    let id = match &a.slug {
        Some(slug) => insert_row(c, viewer, &a, slug, &section, now)
            .await?
            .ok_or_else(|| FieldError::new("slug", "an article with this slug already exists"))?,
        None => {
            let base = Slug::from_title(a.title.as_str());
            let mut slug = free_slug(c, &base, None).await?;
            let mut tries = 0;
            loop {
                // Another writer may take the slug between the look and the insert
                // (PostgreSQL): look again.
                if let Some(id) = insert_row(c, viewer, &a, &slug, &section, now).await? {
                    break id;
                }
                tries += 1;
                if tries > 20 {
                    return Err(StoreError::Conflict(
                        "could not find a free slug; name one".into(),
                    ));
                }
                slug = free_slug(c, &base, None).await?;
            }
        }
    };
    let text = Text {
        locale: &a.locale,
        title: a.title.as_str(),
        body: a.body.as_str(),
        note: "created",
    };
    write_text(c, id, text, viewer.user_id, now).await?;
    write_tags(c, id, &a.tags).await?;
    let article = get_unchecked(c, id, false).await?;
    let action = if a.status == ArticleStatus::Published {
        Action::Published
    } else {
        Action::Created
    };
    record_change(
        c,
        Actor::User(viewer.user_id),
        id,
        &article.slug,
        action,
        now,
    )
    .await?;
    Ok(article)
}

/// Changes an article. A new title or body writes a new version of that language (a
/// language without text yet becomes a translation); publishing for the first time sets
/// `published_at`; a new slug keeps the old one in `kb_slug_history`, so its old address
/// still leads here. Records `article_changed` (`published`, `archived`, `unpublished` when
/// the status moved, else `updated`) unless nothing changed.
pub async fn update(
    c: &mut dyn Conn,
    viewer: &Viewer,
    id: i64,
    p: ArticlePatch,
    now: Timestamp,
) -> Result<Article> {
    require(viewer, Permission::WriteArticles)?;
    let old = get_unchecked(c, id, true).await?;
    let mut changed = false;
    let mut sets: Vec<String> = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    let mut set = |sets: &mut Vec<String>, col: &str, v: Value| {
        params.push(v);
        sets.push(format!("{col} = ${}", params.len()));
    };

    if let Some(slug) = &p.slug
        && slug.as_str() != old.slug
    {
        let taken = c
            .opt(
                "SELECT id FROM kb_articles WHERE slug = $1 AND id <> $2",
                &[slug.as_str().into(), id.into()],
            )
            .await?
            .is_some();
        if taken {
            return Err(FieldError::new("slug", "an article with this slug already exists").into());
        }
        set(&mut sets, "slug", slug.as_str().into());
    }
    if let Some(s) = p.status
        && s != old.status
    {
        set(&mut sets, "status", s.as_str().into());
        if s == ArticleStatus::Published && old.published_at.is_none() {
            set(&mut sets, "published_at", now.into());
        }
    }
    if let Some(v) = p.visibility
        && v != old.visibility
    {
        set(&mut sets, "visibility", v.as_str().into());
    }
    if let Some(cat) = p.category_id
        && cat != old.category.as_ref().map(|k| k.id)
    {
        if let Some(cat) = cat {
            check_category(c, cat).await?;
        }
        set(&mut sets, "category_id", cat.into());
    }
    if let Some(section) = &p.section {
        let section = check_text("section", section, SECTION_MAX, false)?;
        if section != old.section {
            set(&mut sets, "section", section.into());
        }
    }
    if let Some(pos) = p.position
        && pos != old.position
    {
        set(&mut sets, "position", pos.into());
    }

    // The text, in one language.
    let locale = p
        .locale
        .clone()
        .unwrap_or_else(|| old.default_locale.clone());
    let note = check_note(p.note.as_deref())?;
    if p.title.is_some() || p.body.is_some() {
        let (title, body) = match old.translation(&locale) {
            Some(t) => (
                p.title
                    .as_ref()
                    .map_or(t.title.clone(), |x| x.as_str().to_owned()),
                p.body
                    .as_ref()
                    .map_or(t.body.clone(), |x| x.as_str().to_owned()),
            ),
            None => (
                p.title
                    .as_ref()
                    .ok_or_else(|| FieldError::new("title", "a new translation needs a title"))?
                    .as_str()
                    .to_owned(),
                p.body
                    .as_ref()
                    .map_or(String::new(), |x| x.as_str().to_owned()),
            ),
        };
        let same = old
            .translation(&locale)
            .is_some_and(|t| t.title == title && t.body == body);
        if !same {
            let note = if note.is_empty() && old.translation(&locale).is_none() {
                "translation added".to_owned()
            } else {
                note
            };
            let text = Text {
                locale: &locale,
                title: &title,
                body: &body,
                note: &note,
            };
            write_text(c, id, text, viewer.user_id, now).await?;
            changed = true;
        }
    }
    let mut locales = old.locales();
    if p.title.is_some() && !locales.contains(&locale) {
        locales.push(locale.clone());
    }
    if let Some(gone) = &p.remove_locale
        && locales.contains(gone)
    {
        let default = p.default_locale.as_ref().unwrap_or(&old.default_locale);
        if gone == default {
            return Err(FieldError::new(
                "remove_locale",
                "the default language's text cannot be removed",
            )
            .into());
        }
        c.execute(
            "DELETE FROM kb_translations WHERE article_id = $1 AND locale = $2",
            &[id.into(), gone.as_str().into()],
        )
        .await?;
        locales.retain(|l| l != gone);
        changed = true;
    }
    if let Some(d) = &p.default_locale
        && d != &old.default_locale
    {
        if !locales.contains(d) {
            return Err(FieldError::new(
                "default_locale",
                "the article has no text in this language",
            )
            .into());
        }
        set(&mut sets, "default_locale", d.as_str().into());
    }
    if let Some(tags) = &p.tags {
        let mut new: Vec<String> = tags.iter().map(|t| t.as_str().to_owned()).collect();
        new.sort();
        new.dedup();
        if new != old.tags {
            write_tags(c, id, tags).await?;
            changed = true;
        }
    }

    if sets.is_empty() && !changed {
        return Ok(old);
    }
    set(&mut sets, "updated_at", now.into());
    params.push(id.into());
    c.execute(
        &format!(
            "UPDATE kb_articles SET {} WHERE id = ${}",
            sets.join(", "),
            params.len()
        ),
        &params,
    )
    .await?;
    if article_slug_moved(&old.slug, p.slug.as_ref()) {
        // The old address keeps leading here (`lookup::renamed`).
        c.execute(
            "INSERT INTO kb_slug_history (slug, article_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (slug) DO UPDATE SET article_id = excluded.article_id,
                 created_at = excluded.created_at",
            &[old.slug.as_str().into(), id.into(), now.into()],
        )
        .await?;
    }
    let article = get_unchecked(c, id, false).await?;
    let action = match (old.status, article.status) {
        (a, b) if a == b => Action::Updated,
        (_, ArticleStatus::Published) => Action::Published,
        (_, ArticleStatus::Archived) => Action::Archived,
        (_, ArticleStatus::Draft) => Action::Unpublished,
    };
    record_change(
        c,
        Actor::User(viewer.user_id),
        id,
        &article.slug,
        action,
        now,
    )
    .await?;
    Ok(article)
}

/// Whether a patch's slug moves the article away from `old`.
fn article_slug_moved(old: &str, new: Option<&Slug>) -> bool {
    new.is_some_and(|s| s.as_str() != old)
}

/// Deletes an article for good, with its translations, versions, tags and old slugs
/// (supervisors and admins: [`Permission::ManageKb`]); records `article_changed`
/// (`deleted`) first.
pub async fn delete(c: &mut dyn Conn, viewer: &Viewer, id: i64, now: Timestamp) -> Result<()> {
    require(viewer, Permission::ManageKb)?;
    let old = get_unchecked(c, id, true).await?;
    record_change(
        c,
        Actor::User(viewer.user_id),
        id,
        &old.slug,
        Action::Deleted,
        now,
    )
    .await?;
    c.execute("DELETE FROM kb_articles WHERE id = $1", &[id.into()])
        .await?;
    Ok(())
}

/// Marks an article changed without changing it (its category was renamed or moved), so
/// whatever follows the event stream reloads it.
pub(crate) async fn touch(
    c: &mut dyn Conn,
    actor: Actor,
    id: i64,
    slug: &str,
    now: Timestamp,
) -> Result<()> {
    record_change(c, actor, id, slug, Action::CategoryChanged, now).await
}

/// An article for an agent (any status), locked for a read-modify-write.
pub(crate) async fn get_for_update(c: &mut dyn Conn, id: i64) -> Result<Article> {
    get_unchecked(c, id, true).await
}

pub(crate) fn require_write(viewer: &Viewer) -> Result<()> {
    require(viewer, Permission::WriteArticles)
}

pub(crate) fn require_manage(viewer: &Viewer) -> Result<()> {
    require(viewer, Permission::ManageKb)
}
