//! Reading articles: one by id or slug (or by a slug it had before), lists and counts
//! with their filters, and every published one for the search index — each read
//! filtered by who is reading (`super::readable`'s rule, written here as SQL conditions).

use std::collections::HashMap;

use rapport_domain::kb::{ArticleStatus, Locale, Visibility};
use rapport_domain::{Principal, Tag, Timestamp};

use super::{Article, CategoryRef, Translation, ids_param, parse_locale, translation_from};
use crate::db::Conn;
use crate::dialect;
use crate::error::{Result, StoreError};
use crate::value::{Row, Value};

use super::articles::LIST_MAX;

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
    /// Read each translation's title but not its text (`Translation::body` is left
    /// empty): for lists that show titles only, so a page of 200 articles does not carry
    /// 200 bodies out of the database.
    pub titles_only: bool,
}

const ARTICLE_COLS: &str = "a.id, a.slug, a.category_id, k.slug AS category_slug,
    k.name AS category_name, a.section, a.status, a.visibility, a.default_locale, a.author_id,
    a.source_ticket_id, a.position, a.views, a.helpful_yes, a.helpful_no, a.created_at,
    a.updated_at, a.published_at";
pub(crate) const ARTICLE_FROM: &str =
    "FROM kb_articles a LEFT JOIN kb_categories k ON k.id = a.category_id";

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

/// Fills in the translations and tags of articles read by [`article_from`] (without the
/// translations' text when `titles_only`).
async fn hydrate(c: &mut dyn Conn, articles: &mut [Article], titles_only: bool) -> Result<()> {
    if articles.is_empty() {
        return Ok(());
    }
    let mut texts: HashMap<i64, Vec<Translation>> = HashMap::new();
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    let ids: Vec<i64> = articles.iter().map(|a| a.id).collect();
    for chunk in ids.chunks(500) {
        let list = crate::dialect::placeholders(1, chunk.len());
        let params = ids_param(chunk);
        for r in c
            .query(
                &format!(
                    "SELECT article_id, locale, title, {body} AS body, version, updated_at
                     FROM kb_translations WHERE article_id IN ({list})",
                    body = if titles_only { "''" } else { "body" }
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
pub(crate) async fn get_unchecked(c: &mut dyn Conn, id: i64, for_update: bool) -> Result<Article> {
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
    hydrate(c, &mut a, false).await?;
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

/// The article `slug` names now or named before a rename ([`renamed`]), if `who` may read
/// it; otherwise "not found". For forms posted from a page opened before the rename.
pub async fn get_by_any_slug(
    c: &mut dyn Conn,
    who: Option<&Principal>,
    slug: &str,
) -> Result<Article> {
    match get_by_slug(c, who, slug).await {
        Err(StoreError::NotFound(_)) => match renamed(c, slug).await? {
            Some(id) => get(c, who, id).await,
            None => Err(StoreError::NotFound("article")),
        },
        found => found,
    }
}

/// The article that was known by `slug` before a rename (see `kb_slug_history`), if no
/// article holds that slug now: a slug in use always wins over the history. Whether the
/// reader may read it is still to be asked ([`get`]).
pub async fn renamed(c: &mut dyn Conn, slug: &str) -> Result<Option<i64>> {
    c.opt(
        "SELECT h.article_id FROM kb_slug_history h
         WHERE h.slug = $1 AND NOT EXISTS (SELECT 1 FROM kb_articles a WHERE a.slug = $1)",
        &[slug.into()],
    )
    .await?
    .map(|r| r.int("article_id"))
    .transpose()
}

/// The `WHERE` conditions (over `a`, the article, and `k`, its category) and their
/// parameters for `who` and `f`.
pub(crate) fn conditions(who: Option<&Principal>, f: &ArticleFilter) -> (String, Vec<Value>) {
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
                crate::dialect::placeholders(first, ids.len().min(LIST_MAX as usize))
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
        // Never published (a draft) last; the same order as an index on
        // `(status, published_at, id)` read backwards.
        ArticleOrder::Recent => "a.published_at DESC NULLS LAST, a.id DESC",
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
    hydrate(c, &mut out, f.titles_only).await?;
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

/// How many articles `who` may read in each category (by category id), in one pass over
/// an index (categories holding none are absent).
pub(crate) async fn count_by_category(
    c: &mut dyn Conn,
    who: Option<&Principal>,
) -> Result<HashMap<i64, i64>> {
    let (cond, params) = conditions(who, &ArticleFilter::default());
    let mut out = HashMap::new();
    for r in c
        .query(
            &format!(
                "SELECT a.category_id, COUNT(*) AS n FROM kb_articles a
                 WHERE {cond} AND a.category_id IS NOT NULL GROUP BY a.category_id"
            ),
            &params,
        )
        .await?
    {
        out.insert(r.int("category_id")?, r.int("n")?);
    }
    Ok(out)
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
