//! SLA policies: `GET`/`POST /api/v1/sla/policies`, `GET`/`PUT`/`DELETE
//! /api/v1/sla/policies/{id}` (supervisors and admins change them; agents read them).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::sla::policy::{Conditions, Minutes, Policy, Targets};
use rapport_domain::{Category, Channel, Permission, Priority};
use rapport_store::op;
use rapport_store::sla::policies::{self, PolicyInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// Which tickets a policy covers; every list given must hold the ticket's value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SlaConditions)]
pub struct ConditionsView {
    /// Priorities (`low`, `normal`, `high`, `urgent`).
    #[serde(default)]
    pub priorities: Vec<String>,
    /// Category slugs.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Channels (`email`, `chat`, `web`, `phone`, `api`, `sms`, `social`).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Customer organisation ids.
    #[serde(default)]
    pub organizations: Vec<i64>,
    /// Customer tiers (the customer's `tier` attribute).
    #[serde(default)]
    pub tiers: Vec<String>,
}

/// What a policy promises, in minutes (absent: not measured).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SlaTargets)]
pub struct TargetsView {
    /// From creation to the first public reply.
    pub first_response_minutes: Option<i64>,
    /// From each later customer message to the next public reply.
    pub next_response_minutes: Option<i64>,
    /// From creation (or reopening) to solved.
    pub resolution_minutes: Option<i64>,
}

/// An SLA policy.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SlaPolicy)]
pub struct PolicyView {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Policies are tried in ascending position; the first that applies wins.
    pub position: i64,
    /// Off: never applies.
    pub enabled: bool,
    /// Which tickets it covers.
    pub conditions: ConditionsView,
    /// What it promises.
    pub targets: TargetsView,
    /// The business-hours calendar its targets are measured in (absent: calendar hours).
    pub calendar_id: Option<i64>,
}

impl From<Policy> for PolicyView {
    fn from(p: Policy) -> Self {
        let c = p.conditions;
        let m = |m: Option<Minutes>| m.map(|m| i64::from(m.get()));
        Self {
            id: p.id,
            name: p.name,
            position: p.position,
            enabled: p.enabled,
            conditions: ConditionsView {
                priorities: c.priorities.iter().map(|x| x.as_str().to_owned()).collect(),
                categories: c.categories.iter().map(|x| x.as_str().to_owned()).collect(),
                channels: c.channels.iter().map(|x| x.as_str().to_owned()).collect(),
                organizations: c.organizations,
                tiers: c.tiers,
            },
            targets: TargetsView {
                first_response_minutes: m(p.targets.first_response),
                next_response_minutes: m(p.targets.next_response),
                resolution_minutes: m(p.targets.resolution),
            },
            calendar_id: p.calendar_id,
        }
    }
}

/// `POST /api/v1/sla/policies` and `PUT /api/v1/sla/policies/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SlaPolicyRequest)]
pub struct PolicyRequest {
    /// Its name (unique).
    pub name: String,
    /// Position among the policies (default 100; the shipped default policy is 1000).
    pub position: Option<i64>,
    /// Default true.
    pub enabled: Option<bool>,
    /// Default: every ticket.
    #[serde(default)]
    pub conditions: ConditionsView,
    /// At least one target.
    pub targets: TargetsView,
    /// A calendar's id to measure in business hours; absent: calendar hours.
    pub calendar_id: Option<i64>,
}

fn each<T>(
    raw: &[String],
    field: &str,
    parse: impl Fn(&str) -> Result<T, rapport_domain::FieldError>,
) -> Result<Vec<T>, ApiError> {
    raw.iter()
        .map(|v| parse(v).map_err(|e| ApiError::field(field, e.message)))
        .collect()
}

impl PolicyRequest {
    /// The policy as written, checked (errors name the field).
    pub fn parse(self) -> Result<PolicyInput, ApiError> {
        let c = &self.conditions;
        if [&c.priorities, &c.categories, &c.channels, &c.tiers]
            .iter()
            .any(|l| l.len() > 50)
            || c.organizations.len() > 50
        {
            return Err(ApiError::field(
                "conditions",
                "at most 50 values a condition",
            ));
        }
        let conditions = Conditions {
            priorities: each(&c.priorities, "conditions.priorities", Priority::parse)?,
            categories: each(&c.categories, "conditions.categories", Category::parse)?,
            channels: each(&c.channels, "conditions.channels", Channel::parse)?,
            organizations: c.organizations.clone(),
            tiers: c.tiers.iter().map(|t| t.trim().to_owned()).collect(),
        };
        let t = &self.targets;
        let minutes = |v: Option<i64>, field: &str| {
            v.map(|m| Minutes::new(m, field))
                .transpose()
                .map_err(ApiError::from)
        };
        let targets = Targets {
            first_response: minutes(t.first_response_minutes, "targets.first_response_minutes")?,
            next_response: minutes(t.next_response_minutes, "targets.next_response_minutes")?,
            resolution: minutes(t.resolution_minutes, "targets.resolution_minutes")?,
        };
        Ok(PolicyInput {
            name: self.name,
            position: self.position.unwrap_or(100),
            enabled: self.enabled.unwrap_or(true),
            conditions,
            targets,
            calendar_id: self.calendar_id,
        })
    }
}

/// Every SLA policy, in the order they are tried.
#[utoipa::path(get, path = "/api/v1/sla/policies", tag = "sla",
    responses((status = 200, body = Vec<PolicyView>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_policies(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<PolicyView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let list = st.db.read(op!(c => policies::list(c).await)).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Adds an SLA policy (supervisors and admins).
#[utoipa::path(post, path = "/api/v1/sla/policies", tag = "sla",
    request_body = PolicyRequest,
    responses((status = 201, body = PolicyView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_policy(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<PolicyRequest>,
) -> ApiResult<(StatusCode, Json<PolicyView>)> {
    require(&viewer, Permission::ManageSla)?;
    let input = req.parse()?;
    let now = st.now();
    let p = st
        .db
        .write(op!(c => policies::create(c, &input, now).await))
        .await?;
    st.sla_terms.forget();
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// One SLA policy.
#[utoipa::path(get, path = "/api/v1/sla/policies/{id}", tag = "sla",
    params(("id" = i64, Path, description = "Policy id")),
    responses((status = 200, body = PolicyView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_policy(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PolicyView>> {
    require(&viewer, Permission::WorkTickets)?;
    let p = st.db.read(op!(c => policies::get(c, id).await)).await?;
    Ok(Json(p.into()))
}

/// Replaces an SLA policy. Tickets keep their clocks; new tickets use the new terms.
#[utoipa::path(put, path = "/api/v1/sla/policies/{id}", tag = "sla",
    params(("id" = i64, Path, description = "Policy id")),
    request_body = PolicyRequest,
    responses((status = 200, body = PolicyView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_policy(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<PolicyRequest>,
) -> ApiResult<Json<PolicyView>> {
    require(&viewer, Permission::ManageSla)?;
    let input = req.parse()?;
    let now = st.now();
    let p = st
        .db
        .write(op!(c => policies::update(c, id, &input, now).await))
        .await?;
    st.sla_terms.forget();
    Ok(Json(p.into()))
}

/// Deletes an SLA policy (tickets measured by it keep their clocks).
#[utoipa::path(delete, path = "/api/v1/sla/policies/{id}", tag = "sla",
    params(("id" = i64, Path, description = "Policy id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_policy(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageSla)?;
    st.db.write(op!(c => policies::delete(c, id).await)).await?;
    st.sla_terms.forget();
    Ok(StatusCode::NO_CONTENT)
}
