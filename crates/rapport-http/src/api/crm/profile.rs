//! Changing a customer's details (`PATCH /api/v1/customers/{id}`) and the birthdays and
//! customer anniversaries coming up (`GET /api/v1/customers/dates`).

use axum::Json;
use axum::extract::State;
use rapport_domain::crm::dates::{self, Date};
use rapport_domain::crm::{Birthday, Tier, phone};
use rapport_domain::{CustomerName, FieldError, Permission};
use rapport_store::crm::profile::{self, Change, Upcoming};
use rapport_store::events::Actor;
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::customers::CustomerView;
use crate::api::tickets::double;
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// `PATCH /api/v1/customers/{id}`: only the fields present change; `null` clears one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    /// Their name.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Their phone number.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Their organisation (setting it takes a supervisor).
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<i64>)]
    pub organization_id: Option<Option<i64>>,
    /// `YYYY-MM-DD`, or `--MM-DD` without the year.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub birthday: Option<Option<String>>,
    /// Their tier (`vip`); setting it takes a supervisor.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub tier: Option<Option<String>>,
    /// Values of defined attributes, merged in; `null` removes one.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Changes a customer's details. Agents change contact details, birthday and attributes;
/// a tier or an organisation takes a supervisor.
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = CustomerPatch,
    responses((status = 200, body = CustomerView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The customer was erased"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_customer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<CustomerPatch>,
) -> ApiResult<Json<CustomerView>> {
    require(&viewer, Permission::EditCustomers)?;
    // The tier and the organisation decide SLA policies, routing and the score: a
    // supervisor's to set.
    if req.tier.is_some() || req.organization_id.is_some() {
        require(&viewer, Permission::ManageCustomers)?;
    }
    let now = st.now();
    let today = dates::utc_date(now);
    let change = Change {
        name: req
            .name
            .map(|n| n.map_or(Ok(None), |n| CustomerName::parse(&n)))
            .transpose()?,
        phone: req
            .phone
            .map(|p| p.map_or(Ok(None), |p| phone("phone", &p)))
            .transpose()?,
        organization_id: req.organization_id,
        birthday: req
            .birthday
            .map(|b| {
                b.map(|b| Birthday::parse("birthday", &b, today))
                    .transpose()
            })
            .transpose()?,
        tier: req
            .tier
            .map(|t| t.map(|t| Tier::parse("tier", &t)).transpose())
            .transpose()?,
        attributes: req.attributes,
    };
    let actor = Actor::User(viewer.user_id);
    let c = st
        .db
        .write(op!(c => profile::update(c, actor, id, &change, now).await))
        .await?;
    Ok(Json(c.into()))
}

/// Which days to look ahead.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DatesParams {
    /// How many days from today, 0 to 366 (default 30).
    pub days: Option<i64>,
}

/// A birthday or customer anniversary coming up.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CustomerDate)]
pub struct UpcomingView {
    /// The customer.
    pub customer_id: i64,
    /// Their name.
    pub name: String,
    /// Their address.
    pub email: String,
    /// `birthday` or `anniversary` (years since their first order, or since they were
    /// first seen).
    pub kind: &'static str,
    /// The day, `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub on: String,
    /// The age they turn (when their birth year is known), or the years as a customer.
    pub years: Option<i16>,
}

impl From<Upcoming> for UpcomingView {
    fn from(u: Upcoming) -> Self {
        Self {
            customer_id: u.customer_id,
            name: u.name,
            email: u.email,
            kind: u.kind,
            on: u.on.to_string(),
            years: u.years,
        }
    }
}

/// Birthdays and customer anniversaries from today (UTC) on, soonest first.
#[utoipa::path(get, path = "/api/v1/customers/dates", tag = "customers",
    params(DatesParams),
    responses((status = 200, body = Vec<UpcomingView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn upcoming_dates(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<DatesParams>,
) -> ApiResult<Json<Vec<UpcomingView>>> {
    require(&viewer, Permission::ReadCustomers)?;
    let days = q.days.unwrap_or(30);
    if !(0..=366).contains(&days) {
        return Err(FieldError::new("days", "must be from 0 to 366").into());
    }
    let today: Date = dates::utc_date(st.now());
    let list = st
        .db
        .read(op!(c => profile::upcoming(c, today, days).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}
