//! `/api/v1/kb/articles`: create, list, read, change (a text change is a new version),
//! delete; `/versions` and restoring one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::kb::{ArticleBody, ArticleStatus, ArticleTitle, Locale, Slug, Visibility};
use rapport_domain::{Permission, Principal, Tag, Timestamp};
use rapport_store::kb::{
    self, ArticleFilter, ArticleOrder, ArticlePatch, NewArticle, Version, VersionSummary,
};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{CategoryKey, article_path, locale, reindex};
use crate::api::tickets::double;
use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// The category an article is filed in.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbCategoryRef)]
pub struct CategoryRefView {
    /// Database id.
    pub id: i64,
    /// Its slug.
    pub slug: String,
    /// Its name.
    pub name: String,
}

impl From<kb::CategoryRef> for CategoryRefView {
    fn from(k: kb::CategoryRef) -> Self {
        Self {
            id: k.id,
            slug: k.slug,
            name: k.name,
        }
    }
}

/// An article's current text in one language.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbTranslation)]
pub struct TranslationView {
    /// The language (`en`, `de`, `pt-br`).
    #[schema(value_type = String, example = "en")]
    pub locale: Locale,
    /// The title.
    pub title: String,
    /// The markdown.
    pub body: String,
    /// That language's newest version number.
    pub version: i64,
    /// When that language's text last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<kb::Translation> for TranslationView {
    fn from(t: kb::Translation) -> Self {
        Self {
            locale: t.locale,
            title: t.title,
            body: t.body,
            version: t.version,
            updated_at: t.updated_at,
        }
    }
}

/// A knowledge-base article with every translation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbArticle)]
pub struct ArticleView {
    /// Database id.
    pub id: i64,
    /// Its URL name.
    pub slug: String,
    /// Its help-center path (`/help/articles/{slug}`).
    pub url: String,
    /// The title in the default language.
    pub title: String,
    /// The markdown in the default language.
    pub body: String,
    /// `draft`, `published` or `archived`.
    #[schema(value_type = String, example = "published")]
    pub status: ArticleStatus,
    /// `public`, `customers` or `internal`.
    #[schema(value_type = String, example = "public")]
    pub visibility: Visibility,
    /// The language shown when a reader's has no translation.
    #[schema(value_type = String, example = "en")]
    pub default_locale: Locale,
    /// Its category.
    pub category: Option<CategoryRefView>,
    /// The section of the category (empty: none).
    pub section: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Order within its category.
    pub position: i64,
    /// The agent who created it.
    pub author_id: i64,
    /// The ticket it was made from.
    pub source_ticket_id: Option<i64>,
    /// Help-center page views.
    pub views: i64,
    /// "Was this helpful?" yes votes.
    pub helpful_yes: i64,
    /// "Was this helpful?" no votes.
    pub helpful_no: i64,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// First published.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<Timestamp>,
    /// The text in each language, the default first.
    pub translations: Vec<TranslationView>,
}

impl From<kb::Article> for ArticleView {
    fn from(a: kb::Article) -> Self {
        let (title, body) = a
            .default_translation()
            .map(|t| (t.title.clone(), t.body.clone()))
            .unwrap_or_default();
        Self {
            id: a.id,
            url: article_path(&a.slug),
            slug: a.slug,
            title,
            body,
            status: a.status,
            visibility: a.visibility,
            default_locale: a.default_locale,
            category: a.category.map(Into::into),
            section: a.section,
            tags: a.tags,
            position: a.position,
            author_id: a.author_id,
            source_ticket_id: a.source_ticket_id,
            views: a.views,
            helpful_yes: a.helpful_yes,
            helpful_no: a.helpful_no,
            created_at: a.created_at,
            updated_at: a.updated_at,
            published_at: a.published_at,
            translations: a.translations.into_iter().map(Into::into).collect(),
        }
    }
}

/// An article in a list: everything but the text.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbArticleSummary)]
pub struct ArticleSummaryView {
    /// Database id.
    pub id: i64,
    /// Its URL name.
    pub slug: String,
    /// Its help-center path.
    pub url: String,
    /// The title in the default language.
    pub title: String,
    /// `draft`, `published` or `archived`.
    #[schema(value_type = String, example = "draft")]
    pub status: ArticleStatus,
    /// `public`, `customers` or `internal`.
    #[schema(value_type = String, example = "public")]
    pub visibility: Visibility,
    /// The default language.
    #[schema(value_type = String, example = "en")]
    pub default_locale: Locale,
    /// Every language it is written in.
    #[schema(value_type = Vec<String>)]
    pub locales: Vec<Locale>,
    /// Its category.
    pub category: Option<CategoryRefView>,
    /// The section of the category.
    pub section: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Help-center page views.
    pub views: i64,
    /// Last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// First published.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<Timestamp>,
}

impl From<kb::Article> for ArticleSummaryView {
    fn from(a: kb::Article) -> Self {
        Self {
            id: a.id,
            url: article_path(&a.slug),
            title: a.title().to_owned(),
            locales: a.locales(),
            slug: a.slug,
            status: a.status,
            visibility: a.visibility,
            default_locale: a.default_locale,
            category: a.category.map(Into::into),
            section: a.section,
            tags: a.tags,
            views: a.views,
            updated_at: a.updated_at,
            published_at: a.published_at,
        }
    }
}

/// One page of articles.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbArticlePage)]
pub struct ArticlePageView {
    /// The articles on this page.
    pub items: Vec<ArticleSummaryView>,
    /// How many articles the filters select in all.
    pub total: i64,
    /// Pass as `offset` for the next page; absent on the last page.
    pub next_offset: Option<i64>,
}

/// `POST /api/v1/kb/articles`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateArticleRequest {
    /// The title (1–200 characters).
    pub title: String,
    /// The markdown (at most 256 KiB).
    pub body: String,
    /// `draft`, `published` or `archived`.
    pub status: String,
    /// `public`, `customers` (signed-in customers) or `internal` (agents).
    pub visibility: String,
    /// The category: its slug (`billing`) or its id.
    pub category: Option<CategoryKey>,
    /// The section within the category.
    pub section: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// The language of the text (default `en`); becomes the article's default language.
    pub locale: Option<String>,
    /// The slug: refused (422) when taken. Left out, one is made from the title and
    /// numbered (`-2`, `-3`, …) when taken.
    pub slug: Option<String>,
    /// Order within the category (default 0).
    pub position: Option<i64>,
    /// The ticket whose answer this article was made from.
    pub source_ticket_id: Option<i64>,
}

/// Creates an article (every agent; it may be published at once).
#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "kb",
    request_body = CreateArticleRequest,
    responses((status = 201, description = "Created and durable", body = ArticleView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_article(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateArticleRequest>,
) -> ApiResult<(StatusCode, Json<ArticleView>)> {
    require(&viewer, Permission::WriteArticles)?;
    let category_id = match req.category {
        Some(k) => Some(k.resolve(&st, "category").await?),
        None => None,
    };
    let new = NewArticle {
        title: ArticleTitle::parse(&req.title)?,
        body: ArticleBody::parse(&req.body)?,
        locale: locale(req.locale.as_deref())?.unwrap_or_else(Locale::english),
        slug: req.slug.as_deref().map(Slug::parse).transpose()?,
        status: ArticleStatus::parse(&req.status)?,
        visibility: Visibility::parse(&req.visibility)?,
        category_id,
        section: req.section.unwrap_or_default(),
        tags: Tag::parse_list(&req.tags.unwrap_or_default())?,
        source_ticket_id: req.source_ticket_id,
        position: req.position.unwrap_or(0),
    };
    let now = st.now();
    let a = st
        .db
        .write(op!(c => kb::create(c, &viewer, new, now).await))
        .await?;
    reindex(&st, a.id).await;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// Filters and paging of `GET /api/v1/kb/articles`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListArticlesParams {
    /// `draft`, `published` or `archived`.
    pub status: Option<String>,
    /// `public`, `customers` or `internal`.
    pub visibility: Option<String>,
    /// A category slug, or `none` for articles in no category.
    pub category: Option<String>,
    /// Only articles with a translation in this language.
    pub locale: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// Text the title contains (any language, case-insensitive; at most 200 characters).
    pub q: Option<String>,
    /// `updated` (default), `popular`, `recent` or `position`.
    pub order: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    /// Articles to skip (`next_offset` of the previous page).
    pub offset: Option<i64>,
}

impl ListArticlesParams {
    fn parse(self) -> ApiResult<ArticleFilter> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::field("limit", "must be between 1 and 200"));
        }
        let offset = self.offset.unwrap_or(0);
        if !(0..=1_000_000).contains(&offset) {
            return Err(ApiError::field("offset", "must be between 0 and 1000000"));
        }
        if self.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(ApiError::field("q", "must be at most 200 characters"));
        }
        let order = match self.order.as_deref() {
            None | Some("updated") => ArticleOrder::Updated,
            Some("popular") => ArticleOrder::Popular,
            Some("recent") => ArticleOrder::Recent,
            Some("position") => ArticleOrder::Position,
            Some(_) => {
                return Err(ApiError::field(
                    "order",
                    "must be updated, popular, recent or position",
                ));
            }
        };
        let (category_slug, uncategorised) = match self.category.as_deref().map(str::trim) {
            Some("none") => (None, true),
            Some(s) if !s.is_empty() => (
                Some(
                    Slug::parse(s)
                        .map_err(|e| ApiError::field("category", e.message))?
                        .to_string(),
                ),
                false,
            ),
            _ => (None, false),
        };
        Ok(ArticleFilter {
            status: self
                .status
                .as_deref()
                .map(ArticleStatus::parse)
                .transpose()?,
            visibility: self
                .visibility
                .as_deref()
                .map(Visibility::parse)
                .transpose()?,
            category_slug,
            uncategorised,
            locale: locale(self.locale.as_deref())?,
            tag: self.tag.as_deref().map(Tag::parse).transpose()?,
            q: self.q,
            order,
            limit,
            offset,
            ..ArticleFilter::default()
        })
    }
}

/// Lists articles of every status for agents, filtered and paged.
#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "kb",
    params(ListArticlesParams),
    responses((status = 200, body = ArticlePageView), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_articles(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(params): ApiQuery<ListArticlesParams>,
) -> ApiResult<Json<ArticlePageView>> {
    require(&viewer, Permission::WorkTickets)?;
    let filter = params.parse()?;
    let offset = filter.offset;
    let who = Principal::Agent(viewer);
    let (items, total) = st
        .db
        .read(op!(c => Ok((
            kb::list(c, Some(&who), &filter).await?,
            kb::count(c, Some(&who), &filter).await?,
        ))))
        .await?;
    let end = offset + items.len() as i64;
    Ok(Json(ArticlePageView {
        items: items.into_iter().map(Into::into).collect(),
        total,
        next_offset: (end < total).then_some(end),
    }))
}

/// Reads one article, whatever its status (agents).
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "kb",
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 200, body = ArticleView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_article(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ArticleView>> {
    require(&viewer, Permission::WorkTickets)?;
    let who = Principal::Agent(viewer);
    let a = st
        .db
        .read(op!(c => kb::get(c, Some(&who), id).await))
        .await?;
    Ok(Json(a.into()))
}

/// `PATCH /api/v1/kb/articles/{id}`: only the fields present change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchArticleRequest {
    /// The language `title` and `body` are in (default: the article's default language);
    /// a language without text yet adds a translation (it needs a title).
    pub locale: Option<String>,
    /// New title in `locale`.
    pub title: Option<String>,
    /// New markdown in `locale`: a new version of that language.
    pub body: Option<String>,
    /// What the new version changed (at most 500 characters).
    pub note: Option<String>,
    /// New slug (422 when taken).
    pub slug: Option<String>,
    /// `draft`, `published` or `archived`.
    pub status: Option<String>,
    /// `public`, `customers` or `internal`.
    pub visibility: Option<String>,
    /// New category (slug or id), or null for none.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<CategoryKey>)]
    pub category: Option<Option<CategoryKey>>,
    /// New section.
    pub section: Option<String>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// New default language (it must have a translation).
    pub default_locale: Option<String>,
    /// New position.
    pub position: Option<i64>,
    /// A translation to remove (not the default language's).
    pub remove_locale: Option<String>,
}

/// Changes an article; new text is a new version of its language.
#[utoipa::path(patch, path = "/api/v1/kb/articles/{id}", tag = "kb",
    params(("id" = i64, Path, description = "Article id")),
    request_body = PatchArticleRequest,
    responses((status = 200, body = ArticleView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_article(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<PatchArticleRequest>,
) -> ApiResult<Json<ArticleView>> {
    require(&viewer, Permission::WriteArticles)?;
    let category_id = match req.category {
        Some(Some(k)) => Some(Some(k.resolve(&st, "category").await?)),
        Some(None) => Some(None),
        None => None,
    };
    let patch = ArticlePatch {
        locale: locale(req.locale.as_deref())?,
        title: req.title.as_deref().map(ArticleTitle::parse).transpose()?,
        body: req.body.as_deref().map(ArticleBody::parse).transpose()?,
        note: req.note,
        slug: req.slug.as_deref().map(Slug::parse).transpose()?,
        status: req
            .status
            .as_deref()
            .map(ArticleStatus::parse)
            .transpose()?,
        visibility: req
            .visibility
            .as_deref()
            .map(Visibility::parse)
            .transpose()?,
        category_id,
        section: req.section,
        tags: req.tags.as_deref().map(Tag::parse_list).transpose()?,
        default_locale: locale(req.default_locale.as_deref())
            .map_err(|e| e.with_field("default_locale"))?,
        position: req.position,
        remove_locale: locale(req.remove_locale.as_deref())
            .map_err(|e| e.with_field("remove_locale"))?,
    };
    let now = st.now();
    let a = st
        .db
        .write(op!(c => kb::update(c, &viewer, id, patch, now).await))
        .await?;
    reindex(&st, id).await;
    Ok(Json(a.into()))
}

/// Deletes an article for good, with its history (supervisors and admins).
#[utoipa::path(delete, path = "/api/v1/kb/articles/{id}", tag = "kb",
    params(("id" = i64, Path, description = "Article id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_article(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageKb)?;
    let now = st.now();
    st.db
        .write(op!(c => kb::delete(c, &viewer, id, now).await))
        .await?;
    reindex(&st, id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// One version of one language's text, without the text.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbVersionSummary)]
pub struct VersionSummaryView {
    /// The language.
    #[schema(value_type = String, example = "en")]
    pub locale: Locale,
    /// Its number within that language.
    pub version: i64,
    /// The title it had.
    pub title: String,
    /// What changed.
    pub note: String,
    /// Who wrote it.
    pub author_id: Option<i64>,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<VersionSummary> for VersionSummaryView {
    fn from(v: VersionSummary) -> Self {
        Self {
            locale: v.locale,
            version: v.version,
            title: v.title,
            note: v.note,
            author_id: v.author_id,
            created_at: v.created_at,
        }
    }
}

/// One version with its text.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbVersion)]
pub struct VersionView {
    /// The language.
    #[schema(value_type = String, example = "en")]
    pub locale: Locale,
    /// Its number within that language.
    pub version: i64,
    /// The title it had.
    pub title: String,
    /// The markdown it had.
    pub body: String,
    /// What changed.
    pub note: String,
    /// Who wrote it.
    pub author_id: Option<i64>,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Version> for VersionView {
    fn from(v: Version) -> Self {
        Self {
            locale: v.summary.locale,
            version: v.summary.version,
            title: v.summary.title,
            body: v.body,
            note: v.summary.note,
            author_id: v.summary.author_id,
            created_at: v.summary.created_at,
        }
    }
}

/// The language of `…/versions` requests.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LocaleParam {
    /// The language (default: every language for the list, the article's default
    /// language for one version).
    pub locale: Option<String>,
}

/// An article's versions, newest first.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions", tag = "kb",
    params(("id" = i64, Path, description = "Article id"), LocaleParam),
    responses((status = 200, body = Vec<VersionSummaryView>), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_versions(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<LocaleParam>,
) -> ApiResult<Json<Vec<VersionSummaryView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let l = locale(q.locale.as_deref())?;
    let list = st
        .db
        .read(op!(c => kb::versions::list(c, &viewer, id, l.as_ref()).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

async fn locale_or_default(st: &AppState, id: i64, l: Option<Locale>) -> ApiResult<Locale> {
    match l {
        Some(l) => Ok(l),
        None => {
            let who = Principal::System;
            Ok(st
                .db
                .read(op!(c => kb::get(c, Some(&who), id).await))
                .await?
                .default_locale)
        }
    }
}

/// One version of one language's text.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions/{n}", tag = "kb",
    params(("id" = i64, Path, description = "Article id"),
        ("n" = i64, Path, description = "Version number"), LocaleParam),
    responses((status = 200, body = VersionView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_version(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath((id, n)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<LocaleParam>,
) -> ApiResult<Json<VersionView>> {
    require(&viewer, Permission::WorkTickets)?;
    let l = locale_or_default(&st, id, locale(q.locale.as_deref())?).await?;
    let v = st
        .db
        .read(op!(c => kb::versions::get(c, &viewer, id, &l, n).await))
        .await?;
    Ok(Json(v.into()))
}

/// Makes an old version's text current again, as a new version.
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/versions/{n}/restore", tag = "kb",
    params(("id" = i64, Path, description = "Article id"),
        ("n" = i64, Path, description = "Version number"), LocaleParam),
    responses((status = 200, body = ArticleView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn restore_version(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath((id, n)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<LocaleParam>,
) -> ApiResult<Json<ArticleView>> {
    require(&viewer, Permission::WriteArticles)?;
    let l = locale_or_default(&st, id, locale(q.locale.as_deref())?).await?;
    let now = st.now();
    let a = st
        .db
        .write(op!(c => kb::versions::restore(c, &viewer, id, &l, n, now).await))
        .await?;
    reindex(&st, id).await;
    Ok(Json(a.into()))
}
