//! Organisations and their members: `GET`/`POST /api/v1/organizations`,
//! `GET`/`PATCH /api/v1/organizations/{id}`, `GET /api/v1/organizations/{id}/members`,
//! `PUT`/`DELETE /api/v1/organizations/{id}/members/{customer_id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::crm::{organization_domain, organization_name};
use rapport_domain::{FieldError, Permission, Timestamp};
use rapport_store::crm::organizations::{self, Change, Member, Organization};
use rapport_store::events::Actor;
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::tickets::double;
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// An organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Organization)]
pub struct OrganizationView {
    /// Its id.
    pub id: i64,
    /// Its name (unique, without regard to case).
    pub name: String,
    /// Its e-mail domain: a new customer writing in from it joins it.
    pub domain: Option<String>,
    /// Its custom attributes.
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// How many customers belong to it.
    pub members: i64,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Organization> for OrganizationView {
    fn from(o: Organization) -> Self {
        Self {
            id: o.id,
            name: o.name,
            domain: o.domain,
            attributes: o.attributes,
            members: o.members,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// `POST /api/v1/organizations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// 1 to 200 characters.
    pub name: String,
    /// Its e-mail domain (`example.com`).
    pub domain: Option<String>,
    /// Values of defined organisation attributes.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// `PATCH /api/v1/organizations/{id}`: only the fields present change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationPatch {
    /// A new name.
    pub name: Option<String>,
    /// A new domain, or null for none.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub domain: Option<Option<String>>,
    /// Attribute values merged in; `null` removes one.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Which organisations.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only those whose name or domain contains this.
    pub q: Option<String>,
    /// The page after the organisation with this name.
    pub after: Option<String>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// Organisations by name.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "customers",
    params(ListParams),
    responses((status = 200, body = Vec<OrganizationView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_organizations(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<OrganizationView>>> {
    require(&viewer, Permission::ReadCustomers)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(FieldError::new("limit", "must be from 1 to 200").into());
    }
    let list = st
        .db
        .read(op!(c => organizations::list(c, q.q.as_deref(), q.after.as_deref(), limit).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Creates an organisation (409 when the name or domain is taken).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "customers",
    request_body = NewOrganization,
    responses((status = 201, body = OrganizationView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_organization(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<NewOrganization>,
) -> ApiResult<(StatusCode, Json<OrganizationView>)> {
    require(&viewer, Permission::ManageCustomers)?;
    let name = organization_name("name", &req.name)?;
    let domain = req
        .domain
        .as_deref()
        .map(|d| organization_domain("domain", d))
        .transpose()?;
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    let o = st
        .db
        .write(op!(c => organizations::create(c, actor, &name, domain.as_deref(), &req.attributes, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(o.into())))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = OrganizationView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_organization(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrganizationView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let o = st
        .db
        .read(op!(c => organizations::get(c, id).await))
        .await?;
    Ok(Json(o.into()))
}

/// Changes an organisation.
#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = OrganizationPatch,
    responses((status = 200, body = OrganizationView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_organization(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<OrganizationPatch>,
) -> ApiResult<Json<OrganizationView>> {
    require(&viewer, Permission::ManageCustomers)?;
    let change = Change {
        name: req
            .name
            .as_deref()
            .map(|n| organization_name("name", n))
            .transpose()?,
        domain: req
            .domain
            .map(|d| d.map(|d| organization_domain("domain", &d)).transpose())
            .transpose()?,
        attributes: req.attributes,
    };
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    let o = st
        .db
        .write(op!(c => organizations::update(c, actor, id, &change, now).await))
        .await?;
    Ok(Json(o.into()))
}

/// A member of an organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrganizationMember)]
pub struct MemberView {
    /// The customer.
    pub customer_id: i64,
    /// Their address.
    pub email: String,
    /// Their name.
    pub name: String,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            customer_id: m.customer_id,
            email: m.email,
            name: m.name,
        }
    }
}

/// The organisation's members, by name.
#[utoipa::path(get, path = "/api/v1/organizations/{id}/members", tag = "customers",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, body = Vec<MemberView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_members(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<MemberView>>> {
    require(&viewer, Permission::ReadCustomers)?;
    let list = st
        .db
        .read(op!(c => organizations::members(c, id).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Puts a customer in the organisation (leaving any other).
#[utoipa::path(put, path = "/api/v1/organizations/{id}/members/{customer_id}", tag = "customers",
    params(("id" = i64, Path, description = "Organisation id"),
        ("customer_id" = i64, Path, description = "Customer id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_member(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath((id, customer)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageCustomers)?;
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    st.db
        .write(
            op!(c => organizations::set_membership(c, actor, customer, Some(id), None, now).await),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a customer out of the organisation (404 when they are not in it).
#[utoipa::path(delete, path = "/api/v1/organizations/{id}/members/{customer_id}", tag = "customers",
    params(("id" = i64, Path, description = "Organisation id"),
        ("customer_id" = i64, Path, description = "Customer id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove_member(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath((id, customer)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageCustomers)?;
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    st.db
        .write(op!(c => {
            organizations::get(c, id).await?;
            organizations::set_membership(c, actor, customer, None, Some(id), now).await
        }))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
