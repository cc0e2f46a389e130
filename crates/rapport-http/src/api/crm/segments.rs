//! Segments: `GET`/`POST /api/v1/segments`, `GET`/`DELETE /api/v1/segments/{id}`, and
//! their customers, a page at a time (`GET /api/v1/segments/{id}/customers`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::crm::segment::Condition;
use rapport_domain::{FieldError, Permission, Timestamp};
use rapport_store::crm::segments::{self, Member, Segment};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// A segment: customers meeting every condition.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Segment)]
pub struct SegmentView {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its conditions: each `{"field", "op", "value"}` (with `key` for an attribute,
    /// `currency` for lifetime value).
    #[schema(value_type = Vec<Object>)]
    pub conditions: Vec<Condition>,
    /// Who made it.
    pub created_by: Option<i64>,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Segment> for SegmentView {
    fn from(s: Segment) -> Self {
        Self {
            id: s.id,
            name: s.name,
            conditions: s.conditions,
            created_by: s.created_by,
            created_at: s.created_at,
        }
    }
}

/// `POST /api/v1/segments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSegment {
    /// 1 to 100 characters, unique.
    pub name: String,
    /// 1 to 20 conditions, all of which must hold. `field` is one of `attribute` (with
    /// `key`), `tier`, `organization_id`, `tickets`, `open_tickets`,
    /// `days_since_contact`, `orders`, `days_since_order`, `lifetime_value` (with
    /// `currency`), `points`, `last_csat`, `last_nps`; `op` one of `is`, `is_not`,
    /// `at_least`, `at_most`, `contains`, `is_set`.
    #[schema(value_type = Vec<Object>)]
    pub conditions: Vec<Condition>,
}

/// Every segment, by name.
#[utoipa::path(get, path = "/api/v1/segments", tag = "customers",
    responses((status = 200, body = Vec<SegmentView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_segments(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<SegmentView>>> {
    require(&viewer, Permission::ReadCustomers)?;
    let list = st.db.read(op!(c => segments::list(c).await)).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Creates a segment (409 when the name is taken).
#[utoipa::path(post, path = "/api/v1/segments", tag = "customers",
    request_body = NewSegment,
    responses((status = 201, body = SegmentView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_segment(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<NewSegment>,
) -> ApiResult<(StatusCode, Json<SegmentView>)> {
    require(&viewer, Permission::ManageCustomers)?;
    let name = segments::name(&req.name)?;
    let now = st.now();
    let by = viewer.user_id;
    let s = st
        .db
        .write(op!(c => segments::create(c, &name, &req.conditions, by, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

/// One segment.
#[utoipa::path(get, path = "/api/v1/segments/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Segment id")),
    responses((status = 200, body = SegmentView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_segment(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SegmentView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let s = st.db.read(op!(c => segments::get(c, id).await)).await?;
    Ok(Json(s.into()))
}

/// Deletes a segment.
#[utoipa::path(delete, path = "/api/v1/segments/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Segment id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_segment(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageCustomers)?;
    st.db.write(op!(c => segments::delete(c, id).await)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which page of members.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembersParams {
    /// The `next_after` of the page before (absent: the first page).
    pub after: Option<i64>,
    /// 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// A member.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SegmentMember)]
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

/// A page of members.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SegmentMembers)]
pub struct MembersView {
    /// By customer id.
    pub items: Vec<MemberView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<i64>,
}

/// The customers of a segment as they stand now, by id.
#[utoipa::path(get, path = "/api/v1/segments/{id}/customers", tag = "customers",
    params(("id" = i64, Path, description = "Segment id"), MembersParams),
    responses((status = 200, body = MembersView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn segment_customers(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MembersParams>,
) -> ApiResult<Json<MembersView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(FieldError::new("limit", "must be from 1 to 500").into());
    }
    let now = st.now();
    let after = q.after.unwrap_or(0);
    let (items, more) = st
        .db
        .read(op!(c => {
            let s = segments::get(c, id).await?;
            segments::members(c, &s.conditions, after, limit, now).await
        }))
        .await?;
    let next_after = if more {
        items.last().map(|m| m.customer_id)
    } else {
        None
    };
    Ok(Json(MembersView {
        items: items.into_iter().map(Into::into).collect(),
        next_after,
    }))
}
