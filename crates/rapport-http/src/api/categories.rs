//! Ticket categories: the built-in ones and custom ones.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::{Category, Permission};
use rapport_store::categories;
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// A category.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CategoryInfo)]
pub struct CategoryView {
    /// The slug tickets carry.
    pub slug: String,
    /// The display name.
    pub name: String,
    /// One of the four every help desk starts with.
    pub built_in: bool,
}

impl From<categories::CategoryInfo> for CategoryView {
    fn from(c: categories::CategoryInfo) -> Self {
        Self {
            slug: c.slug,
            name: c.name,
            built_in: c.built_in,
        }
    }
}

/// Every category.
#[utoipa::path(get, path = "/api/v1/categories", tag = "people",
    responses((status = 200, body = Vec<CategoryView>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_categories(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<CategoryView>>> {
    require(&viewer, Permission::WorkTickets)?;
    Ok(Json(
        st.db
            .read(op!(c => categories::list(c).await))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// `POST /api/v1/categories`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategoryRequest {
    /// The slug (`warranty-claims`).
    pub slug: String,
    /// The display name.
    pub name: String,
}

/// Adds a custom category (supervisors and admins).
#[utoipa::path(post, path = "/api/v1/categories", tag = "people",
    request_body = CreateCategoryRequest,
    responses((status = 201, body = CategoryView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_category(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateCategoryRequest>,
) -> ApiResult<(StatusCode, Json<CategoryView>)> {
    require(&viewer, Permission::ManageCategories)?;
    let slug = Category::parse(&req.slug).map_err(|e| ApiError::field("slug", e.message))?;
    let now = st.now();
    let cat = st
        .db
        .write(op!(c => categories::create(c, &slug, &req.name, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(cat.into())))
}
