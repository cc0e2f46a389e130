//! Articles: creating (with a unique slug), changing (a text change is a new version of
//! that language), deleting, and reading them — one, by slug, in lists, and every
//! published one for the search index — each read filtered by who is reading.

use std::collections::HashMap;

use rapport_domain::kb::{ArticleBody, ArticleStatus, ArticleTitle, Locale, Slug, Visibility};
use rapport_domain::{FieldError, Permission, Principal, Tag, Timestamp, Viewer};

use super::{
    Action, Article, CategoryRef, Translation, check_text, ids_param, parse_locale, placeholders,
    record_change, translation_from,
};
use crate::db::Conn;
use crate::dialect;
use crate::error::{Result, StoreError};
use crate::events::Actor;
use crate::value::{Row, Value};

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

/// How a list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArticleOrder {
    /// Last changed first.
    #[default]
    Updated,
    /// Most read first.
    Popular,
    /// Most recently first published first.
    Recent,
    /// By position within the category, then oldest first.
    Position,
}

/// Which articles a list shows (on top of what the reader may read).
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    /// Only this status.
    pub status: Option<ArticleStatus>,
    /// Only this visibility.
    pub visibility: Option<Visibility>,
    /// Only this category (id).
    pub category_id: Option<i64>,
    /// Only this category (slug).
    pub category_slug: Option<String>,
    /// Only articles in no category.
    pub uncategorised: bool,
    /// Only this section.
    pub section: Option<String>,
    /// Only articles with a translation in this language.
    pub locale: Option<Locale>,
    /// Only articles with this tag.
    pub tag: Option<Tag>,
    /// Only articles whose title (in any language) contains this text (case-insensitive).
    pub q: Option<String>,
    /// Only these articles.
    pub ids: Option<Vec<i64>>,
    /// The order.
    pub order: ArticleOrder,
    /// At most this many (1 to [`LIST_MAX`]; 0 means 50).
    pub limit: i64,
    /// Skip this many.
    pub offset: i64,
}

const ARTICLE_COLS: &str = "a.id, a.slug, a.category_id, k.slug AS category_slug,
    k.name AS category_name, a.section, a.status, a.visibility, a.default_locale, a.author_id,
    a.source_ticket_id, a.position, a.views, a.helpful_yes, a.helpful_no, a.created_at,
    a.updated_at, a.published_at";
const ARTICLE_FROM: &str = "FROM kb_articles a LEFT JOIN kb_categories k ON k.id = a.category_id";

fn article_from(r: &Row) -> Result<Article> {
    let category = match r.opt_int("category_id")? {
        Some(id) => Some(CategoryRef {
            id,
            slug: r.text("category_slug")?,
            name: r.text("category_name")?,
        }),
        None => None,
    };
    Ok(Article {
        id: r.int("id")?,
        slug: r.text("slug")?,
        category,
        section: r.text("section")?,
        status: ArticleStatus::parse(&r.text("status")?)?,
        visibility: Visibility::parse(&r.text("visibility")?)?,
        default_locale: parse_locale(&r.text("default_locale")?)?,
        author_id: r.int("author_id")?,
        source_ticket_id: r.opt_int("source_ticket_id")?,
        position: r.int("position")?,
        tags: Vec::new(),
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
        published_at: r.opt_int("published_at")?.map(Timestamp),
        views: r.int("views")?,
        helpful_yes: r.int("helpful_yes")?,
        helpful_no: r.int("helpful_no")?,
        translations: Vec::new(),
    })
}

/// Fills in the translations and tags of articles read by [`article_from`].
async fn hydrate(c: &mut dyn Conn, articles: &mut [Article]) -> Result<()> {
    if articles.is_empty() {
        return Ok(());
    }
    let mut texts: HashMap<i64, Vec<Translation>> = HashMap::new();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    let ids: Vec<i64> = articles.iter().map(|a| a.id).collect();
    for chunk in ids.chunks(500) {
        let list = placeholders(1, chunk.len());
        let params = ids_param(chunk);
        for r in c
            .query(
                &format!(
                    "SELECT article_id, locale, title, body, version, updated_at
                     FROM kb_translations WHERE article_id IN ({list})"
                ),
                &params,
            )
            .await?
        {
            texts
                .entry(r.int("article_id")?)
                .or_default()
                .push(translation_from(&r)?);
        }
        for r in c
            .query(
                &format!(
                    "SELECT article_id, tag FROM kb_article_tags WHERE article_id IN ({list})"
                ),
                &params,
            )
            .await?
        {
            tags.entry(r.int("article_id")?)
                .or_default()
                .push(r.text("tag")?);
        }
    }
    for a in articles {
        let mut t = texts.remove(&a.id).unwrap_or_default();
        let default = a.default_locale.clone();
        t.sort_by(|x, y| {
            (x.locale != default)
                .cmp(&(y.locale != default))
                .then_with(|| x.locale.cmp(&y.locale))
        });
        a.translations = t;
        let mut g = tags.remove(&a.id).unwrap_or_default();
        g.sort();
        a.tags = g;
    }
    Ok(())
}

/// One article whoever asks, optionally locking its row for a read-modify-write.
async fn get_unchecked(c: &mut dyn Conn, id: i64, for_update: bool) -> Result<Article> {
    let lock = if for_update {
        dialect::row_lock(c.backend(), "a")
    } else {
        String::new()
    };
    let row = c
        .opt(
            &format!("SELECT {ARTICLE_COLS} {ARTICLE_FROM} WHERE a.id = $1{lock}"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("article"))?;
    let mut a = [article_from(&row)?];
    hydrate(c, &mut a).await?;
    let [a] = a;
    Ok(a)
}

/// One article, if `who` may read it (see [`super::readable`]); otherwise "not found", as
/// if it did not exist.
pub async fn get(c: &mut dyn Conn, who: Option<&Principal>, id: i64) -> Result<Article> {
    let a = get_unchecked(c, id, false).await?;
    if a.readable_by(who) {
        Ok(a)
    } else {
        Err(StoreError::NotFound("article"))
    }
}

/// The article with this slug, if `who` may read it; otherwise "not found".
pub async fn get_by_slug(c: &mut dyn Conn, who: Option<&Principal>, slug: &str) -> Result<Article> {
    let id = c
        .opt("SELECT id FROM kb_articles WHERE slug = $1", &[slug.into()])
        .await?
        .ok_or(StoreError::NotFound("article"))?
        .int("id")?;
    get(c, who, id).await
}

/// The `WHERE` conditions (over `a`, the article, and `k`, its category) and their
/// parameters for `who` and `f`.
fn conditions(who: Option<&Principal>, f: &ArticleFilter) -> (String, Vec<Value>) {
    let mut conds: Vec<String> = vec!["1 = 1".into()];
    let mut params: Vec<Value> = Vec::new();
    let mut push = |conds: &mut Vec<String>, sql: &str, v: Value| {
        params.push(v);
        conds.push(sql.replace("$?", &format!("${}", params.len())));
    };
    if !matches!(who, Some(Principal::Agent(_) | Principal::System)) {
        push(
            &mut conds,
            "a.status = $?",
            ArticleStatus::Published.as_str().into(),
        );
        let vis: Vec<String> = Visibility::readable_by(who)
            .iter()
            .map(|v| format!("'{}'", v.as_str()))
            .collect();
        conds.push(format!("a.visibility IN ({})", vis.join(", ")));
    }
    if let Some(s) = f.status {
        push(&mut conds, "a.status = $?", s.as_str().into());
    }
    if let Some(v) = f.visibility {
        push(&mut conds, "a.visibility = $?", v.as_str().into());
    }
    if let Some(id) = f.category_id {
        push(&mut conds, "a.category_id = $?", id.into());
    }
    if let Some(slug) = &f.category_slug {
        push(&mut conds, "k.slug = $?", slug.as_str().into());
    }
    if f.uncategorised {
        conds.push("a.category_id IS NULL".into());
    }
    if let Some(s) = &f.section {
        push(&mut conds, "a.section = $?", s.trim().into());
    }
    if let Some(l) = &f.locale {
        push(
            &mut conds,
            "EXISTS (SELECT 1 FROM kb_translations tl WHERE tl.article_id = a.id AND tl.locale = $?)",
            l.as_str().into(),
        );
    }
    if let Some(t) = &f.tag {
        push(
            &mut conds,
            "EXISTS (SELECT 1 FROM kb_article_tags tg WHERE tg.article_id = a.id AND tg.tag = $?)",
            t.as_str().into(),
        );
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        push(
            &mut conds,
            "EXISTS (SELECT 1 FROM kb_translations tq WHERE tq.article_id = a.id
                     AND LOWER(tq.title) LIKE $? ESCAPE '\\')",
            format!("%{escaped}%").into(),
        );
    }
    if let Some(ids) = &f.ids {
        if ids.is_empty() {
            conds.push("1 = 0".into());
        } else {
            let first = params.len() + 1;
            params.extend(ids.iter().take(LIST_MAX as usize).map(|&i| Value::from(i)));
            conds.push(format!(
                "a.id IN ({})",
                placeholders(first, ids.len().min(LIST_MAX as usize))
            ));
        }
    }
    (conds.join(" AND "), params)
}

/// The articles `who` may read that `f` selects, in `f`'s order, with their text.
pub async fn list(
    c: &mut dyn Conn,
    who: Option<&Principal>,
    f: &ArticleFilter,
) -> Result<Vec<Article>> {
    let (cond, mut params) = conditions(who, f);
    let order = match f.order {
        ArticleOrder::Updated => "a.updated_at DESC, a.id DESC",
        ArticleOrder::Popular => "a.views DESC, a.id DESC",
        ArticleOrder::Recent => "COALESCE(a.published_at, 0) DESC, a.id DESC",
        ArticleOrder::Position => "a.position, a.id",
    };
    let limit = if f.limit <= 0 {
        50
    } else {
        f.limit.min(LIST_MAX)
    };
    let n = params.len();
    params.push(limit.into());
    params.push(f.offset.max(0).into());
    let rows = c
        .query(
            &format!(
                "SELECT {ARTICLE_COLS} {ARTICLE_FROM} WHERE {cond} ORDER BY {order}
                 LIMIT ${} OFFSET ${}",
                n + 1,
                n + 2
            ),
            &params,
        )
        .await?;
    let mut out = rows.iter().map(article_from).collect::<Result<Vec<_>>>()?;
    hydrate(c, &mut out).await?;
    Ok(out)
}

/// How many articles `who` may read that `f` selects (its limit and offset aside).
pub async fn count(c: &mut dyn Conn, who: Option<&Principal>, f: &ArticleFilter) -> Result<i64> {
    let (cond, params) = conditions(who, f);
    c.one(
        &format!("SELECT COUNT(*) AS n {ARTICLE_FROM} WHERE {cond}"),
        &params,
    )
    .await?
    .int("n")
}

/// Every published article with every translation — what the search index loads.
pub async fn published_for_index(c: &mut dyn Conn) -> Result<Vec<Article>> {
    let published = ArticleStatus::Published.as_str();
    let rows = c
        .query(
            &format!("SELECT {ARTICLE_COLS} {ARTICLE_FROM} WHERE a.status = $1 ORDER BY a.id"),
            &[published.into()],
        )
        .await?;
    let mut out = rows.iter().map(article_from).collect::<Result<Vec<_>>>()?;
    let mut texts: HashMap<i64, Vec<Translation>> = HashMap::new();
    for r in c
        .query(
            "SELECT t.article_id, t.locale, t.title, t.body, t.version, t.updated_at
             FROM kb_translations t JOIN kb_articles a ON a.id = t.article_id
             WHERE a.status = $1",
            &[published.into()],
        )
        .await?
    {
        texts
            .entry(r.int("article_id")?)
            .or_default()
            .push(translation_from(&r)?);
    }
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for r in c
        .query(
            "SELECT g.article_id, g.tag FROM kb_article_tags g
             JOIN kb_articles a ON a.id = g.article_id WHERE a.status = $1",
            &[published.into()],
        )
        .await?
    {
        tags.entry(r.int("article_id")?)
            .or_default()
            .push(r.text("tag")?);
    }
    for a in &mut out {
        let mut t = texts.remove(&a.id).unwrap_or_default();
        let default = a.default_locale.clone();
        t.sort_by(|x, y| {
            (x.locale != default)
                .cmp(&(y.locale != default))
                .then_with(|| x.locale.cmp(&y.locale))
        });
        a.translations = t;
        let mut g = tags.remove(&a.id).unwrap_or_default();
        g.sort();
        a.tags = g;
    }
    Ok(out)
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
/// `published_at`. Records `article_changed` (`published`, `archived`, `unpublished` when
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

/// Deletes an article for good, with its translations, versions and tags (supervisors and
/// admins: [`Permission::ManageKb`]); records `article_changed` (`deleted`) first.
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
