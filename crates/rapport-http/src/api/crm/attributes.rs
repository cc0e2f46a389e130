//! Custom attribute definitions: `GET`/`POST /api/v1/attributes`,
//! `DELETE /api/v1/attributes/{id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::crm::{AttributeDef, AttributeKey, AttributeKind, AttributeTarget};
use rapport_domain::{Permission, Timestamp};
use rapport_store::crm::attributes::{self, Stored};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// A custom attribute customers or organisations may carry.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AttributeDefinition)]
pub struct AttributeView {
    /// Its id.
    pub id: i64,
    /// `customer` or `organization`.
    pub target: &'static str,
    /// The key values are stored under (`attributes.<key>`).
    pub key: String,
    /// What people see.
    pub label: String,
    /// `text`, `number`, `date` (`YYYY-MM-DD`) or `choice`.
    pub kind: &'static str,
    /// For a choice: the values allowed.
    pub choices: Vec<String>,
    /// When it was defined.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Stored> for AttributeView {
    fn from(s: Stored) -> Self {
        Self {
            id: s.id,
            target: s.target.as_str(),
            key: s.def.key.as_str().to_owned(),
            label: s.def.label,
            kind: s.def.kind.as_str(),
            choices: s.def.choices,
            created_at: s.created_at,
        }
    }
}

/// `POST /api/v1/attributes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttribute {
    /// `customer` or `organization`.
    pub target: String,
    /// 1 to 40 lower-case letters, digits and underscores, starting with a letter.
    pub key: String,
    /// What people see (1 to 100 characters).
    pub label: String,
    /// `text`, `number`, `date` or `choice`.
    pub kind: String,
    /// For a choice: the values allowed (1 to 100).
    #[serde(default)]
    pub choices: Vec<String>,
}

/// Every attribute definition, customers' first.
#[utoipa::path(get, path = "/api/v1/attributes", tag = "customers",
    responses((status = 200, body = Vec<AttributeView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_attributes(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<AttributeView>>> {
    require(&viewer, Permission::ReadCustomers)?;
    let list = st.db.read(op!(c => attributes::list(c).await)).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Defines an attribute (409 when the target already has the key).
#[utoipa::path(post, path = "/api/v1/attributes", tag = "customers",
    request_body = NewAttribute,
    responses((status = 201, body = AttributeView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_attribute(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<NewAttribute>,
) -> ApiResult<(StatusCode, Json<AttributeView>)> {
    require(&viewer, Permission::ManageCustomers)?;
    let target = AttributeTarget::parse("target", &req.target)?;
    let def = AttributeDef::new(
        AttributeKey::parse("key", &req.key)?,
        &req.label,
        AttributeKind::parse("kind", &req.kind)?,
        req.choices,
    )?;
    let now = st.now();
    let s = st
        .db
        .write(op!(c => attributes::create(c, target, &def, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

/// Removes a definition; values already stored stay readable but can no longer be set.
#[utoipa::path(delete, path = "/api/v1/attributes/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Definition id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_attribute(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageCustomers)?;
    st.db
        .write(op!(c => attributes::delete(c, id).await))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
