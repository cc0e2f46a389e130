//! Business-hours calendars: `GET`/`POST /api/v1/sla/calendars`, `GET`/`PUT`/`DELETE
//! /api/v1/sla/calendars/{id}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::sla::spec::{CalendarSpec, ClosureSpec};
use rapport_domain::{Permission, Timestamp};
use rapport_store::op;
use rapport_store::sla::calendars::{self, CalendarRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// A one-off closure.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CalendarClosure)]
pub struct ClosureView {
    /// When it starts.
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    /// When it ends.
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
}

/// A business-hours calendar.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BusinessCalendar)]
pub struct CalendarView {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The IANA zone its hours are read in.
    pub time_zone: String,
    /// Opening blocks per weekday (`mon` … `sun`), such as `["09:00-12:00", "13:00-17:00"]`.
    pub hours: BTreeMap<String, Vec<String>>,
    /// Closed local days (`2026-12-25`).
    pub holidays: Vec<String>,
    /// Closed from one instant to another.
    pub closures: Vec<ClosureView>,
}

impl From<CalendarRecord> for CalendarView {
    fn from(r: CalendarRecord) -> Self {
        let spec = CalendarSpec::of(&r.calendar);
        Self {
            id: r.id,
            name: r.name,
            time_zone: spec.time_zone,
            hours: spec.hours,
            holidays: spec.holidays,
            closures: spec
                .closures
                .into_iter()
                .map(|c| ClosureView {
                    from: c.from,
                    until: c.until,
                })
                .collect(),
        }
    }
}

/// `POST /api/v1/sla/calendars` and `PUT /api/v1/sla/calendars/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BusinessCalendarRequest)]
pub struct CalendarRequest {
    /// Its name (unique).
    pub name: String,
    /// An IANA zone (`Europe/Berlin`).
    pub time_zone: String,
    /// Blocks per weekday; a day left out is closed.
    pub hours: BTreeMap<String, Vec<String>>,
    /// Closed local days.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Closed periods.
    #[serde(default)]
    pub closures: Vec<ClosureView>,
}

impl CalendarRequest {
    /// The calendar as written (checked by `CalendarSpec::parse`).
    pub fn spec(&self) -> CalendarSpec {
        CalendarSpec {
            time_zone: self.time_zone.clone(),
            hours: self.hours.clone(),
            holidays: self.holidays.clone(),
            closures: self
                .closures
                .iter()
                .map(|c| ClosureSpec {
                    from: c.from,
                    until: c.until,
                })
                .collect(),
        }
    }
}

/// Every calendar.
#[utoipa::path(get, path = "/api/v1/sla/calendars", tag = "sla",
    responses((status = 200, body = Vec<CalendarView>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_calendars(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<CalendarView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let list = st.db.read(op!(c => calendars::list(c).await)).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Adds a calendar (supervisors and admins).
#[utoipa::path(post, path = "/api/v1/sla/calendars", tag = "sla",
    request_body = CalendarRequest,
    responses((status = 201, body = CalendarView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_calendar(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CalendarRequest>,
) -> ApiResult<(StatusCode, Json<CalendarView>)> {
    require(&viewer, Permission::ManageSla)?;
    let cal = req.spec().parse()?;
    let now = st.now();
    let r = st
        .db
        .write(op!(c => calendars::create(c, &req.name, &cal, now).await))
        .await?;
    st.sla_terms.forget();
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// One calendar.
#[utoipa::path(get, path = "/api/v1/sla/calendars/{id}", tag = "sla",
    params(("id" = i64, Path, description = "Calendar id")),
    responses((status = 200, body = CalendarView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_calendar(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CalendarView>> {
    require(&viewer, Permission::WorkTickets)?;
    let r = st.db.read(op!(c => calendars::get(c, id).await)).await?;
    Ok(Json(r.into()))
}

/// Replaces a calendar's name and hours (running clocks keep their due times).
#[utoipa::path(put, path = "/api/v1/sla/calendars/{id}", tag = "sla",
    params(("id" = i64, Path, description = "Calendar id")),
    request_body = CalendarRequest,
    responses((status = 200, body = CalendarView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_calendar(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<CalendarRequest>,
) -> ApiResult<Json<CalendarView>> {
    require(&viewer, Permission::ManageSla)?;
    let cal = req.spec().parse()?;
    let now = st.now();
    let r = st
        .db
        .write(op!(c => calendars::update(c, id, &req.name, &cal, now).await))
        .await?;
    st.sla_terms.forget();
    Ok(Json(r.into()))
}

/// Deletes a calendar no policy uses (409 while one does).
#[utoipa::path(delete, path = "/api/v1/sla/calendars/{id}", tag = "sla",
    params(("id" = i64, Path, description = "Calendar id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_calendar(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageSla)?;
    st.db
        .write(op!(c => calendars::delete(c, id).await))
        .await?;
    st.sla_terms.forget();
    Ok(StatusCode::NO_CONTENT)
}
