//! `/api/v1/kb/categories`: the knowledge base's categories. Agents list them;
//! supervisors and admins create, change and delete them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::kb::Slug;
use rapport_domain::{Permission, Principal, Timestamp};
use rapport_store::kb::{self, CategoryPatch, NewCategory};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// A knowledge-base category.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbCategory)]
pub struct KbCategoryView {
    /// Database id.
    pub id: i64,
    /// Its URL name (`/help/categories/{slug}`).
    pub slug: String,
    /// Its name.
    pub name: String,
    /// What it holds.
    pub description: String,
    /// Its order (lower first).
    pub position: i64,
    /// How many articles it holds (every status).
    pub articles: i64,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<kb::Category> for KbCategoryView {
    fn from(k: kb::Category) -> Self {
        Self {
            id: k.id,
            slug: k.slug,
            name: k.name,
            description: k.description,
            position: k.position,
            articles: k.articles,
            created_at: k.created_at,
        }
    }
}

/// Every category, in order.
#[utoipa::path(get, path = "/api/v1/kb/categories", tag = "kb",
    responses((status = 200, body = Vec<KbCategoryView>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_kb_categories(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<KbCategoryView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let who = Principal::Agent(viewer);
    let list = st
        .db
        .read(op!(c => kb::categories::list(c, Some(&who)).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// `POST /api/v1/kb/categories`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKbCategoryRequest {
    /// Its URL name (`billing`).
    pub slug: String,
    /// Its name (1–100 characters).
    pub name: String,
    /// What it holds (at most 500 characters).
    pub description: Option<String>,
    /// Its order (default 0).
    pub position: Option<i64>,
}

/// Creates a category (supervisors and admins).
#[utoipa::path(post, path = "/api/v1/kb/categories", tag = "kb",
    request_body = CreateKbCategoryRequest,
    responses((status = 201, body = KbCategoryView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_kb_category(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateKbCategoryRequest>,
) -> ApiResult<(StatusCode, Json<KbCategoryView>)> {
    require(&viewer, Permission::ManageKb)?;
    let new = NewCategory {
        slug: Slug::parse(&req.slug)?,
        name: req.name,
        description: req.description.unwrap_or_default(),
        position: req.position.unwrap_or(0),
    };
    let now = st.now();
    let k = st
        .db
        .write(op!(c => kb::categories::create(c, &viewer, new, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(k.into())))
}

/// `PATCH /api/v1/kb/categories/{id}`: only the fields present change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchKbCategoryRequest {
    /// New slug (422 when taken).
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New position.
    pub position: Option<i64>,
}

/// Changes a category (supervisors and admins).
#[utoipa::path(patch, path = "/api/v1/kb/categories/{id}", tag = "kb",
    params(("id" = i64, Path, description = "Category id")),
    request_body = PatchKbCategoryRequest,
    responses((status = 200, body = KbCategoryView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_kb_category(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<PatchKbCategoryRequest>,
) -> ApiResult<Json<KbCategoryView>> {
    require(&viewer, Permission::ManageKb)?;
    let patch = CategoryPatch {
        slug: req.slug.as_deref().map(Slug::parse).transpose()?,
        name: req.name,
        description: req.description,
        position: req.position,
    };
    let now = st.now();
    let k = st
        .db
        .write(op!(c => kb::categories::update(c, &viewer, id, patch, now).await))
        .await?;
    reindex_category(&st, id).await;
    Ok(Json(k.into()))
}

/// Re-indexes a category's articles on this node after it was renamed, so they show the
/// category's new name and slug in search at once (other nodes follow the event stream,
/// where the change touched each of them). Best effort, like [`super::reindex`].
pub async fn reindex_category(st: &AppState, id: i64) {
    let filter = kb::ArticleFilter {
        category_id: Some(id),
        limit: kb::articles::LIST_MAX,
        ..kb::ArticleFilter::default()
    };
    let who = Principal::System;
    if let Ok(list) = st
        .db
        .read(op!(c => kb::list(c, Some(&who), &filter).await))
        .await
    {
        for a in list {
            super::reindex(st, a.id).await;
        }
    }
}

/// Deletes an empty category (supervisors and admins); one holding articles is a 409.
#[utoipa::path(delete, path = "/api/v1/kb/categories/{id}", tag = "kb",
    params(("id" = i64, Path, description = "Category id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_kb_category(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageKb)?;
    st.db
        .write(op!(c => kb::categories::delete(c, &viewer, id).await))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
