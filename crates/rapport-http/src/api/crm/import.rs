//! Importing customers and organisations from CSV: `POST /api/v1/customers/import` and
//! `POST /api/v1/organizations/import` with the file as the body (`text/csv`), and
//! `?dry_run=true` to check it first. All or nothing: a file with any bad row writes
//! nothing and answers 422 with every bad cell by line and column.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rapport_domain::Permission;
use rapport_domain::crm::dates;
use rapport_domain::crm::import::{self as csv_rows, RowError};
use rapport_store::crm::import::{self, Report};
use rapport_store::events::Actor;
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody, ErrorDetail};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Whether to write.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check the file and report what would change, writing nothing (default false).
    pub dry_run: Option<bool>,
}

/// A bad cell.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportRowError)]
pub struct RowErrorView {
    /// The line of the file (the header is line 1).
    pub line: u64,
    /// The column (`email`, `attributes.plan`), `row`, or `header`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl From<RowError> for RowErrorView {
    fn from(e: RowError) -> Self {
        Self {
            line: e.line,
            field: e.field,
            message: e.message,
        }
    }
}

/// What an import did, or on a dry run would do.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportReport)]
pub struct ReportView {
    /// Whether nothing was written on purpose.
    pub dry_run: bool,
    /// Rows read (blank lines left out).
    pub rows: usize,
    /// Records created (or that would be).
    pub created: usize,
    /// Existing records updated (or that would be).
    pub updated: usize,
    /// Organisations created for customers naming a new one.
    pub organizations_created: usize,
    /// Every bad cell; when there is any, nothing was written.
    pub errors: Vec<RowErrorView>,
}

impl From<Report> for ReportView {
    fn from(r: Report) -> Self {
        Self {
            dry_run: r.dry_run,
            rows: r.rows,
            created: r.created,
            updated: r.updated,
            organizations_created: r.organizations_created,
            errors: r.errors.into_iter().map(Into::into).collect(),
        }
    }
}

/// A real import refused for bad rows: the error, and the whole report.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportRefused)]
pub struct RefusedView {
    /// The first bad cell, as every error is told.
    pub error: ErrorDetail,
    /// Every bad cell.
    pub report: ReportView,
}

pub(crate) fn csv_body(headers: &HeaderMap) -> Result<(), ApiError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            matches!(
                m.trim().to_ascii_lowercase().as_str(),
                "text/csv" | "application/csv" | "text/plain"
            )
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as the body with 'Content-Type: text/csv'",
        ))
    }
}

pub(crate) fn answer(report: Report) -> Response {
    if report.errors.is_empty() || report.dry_run {
        return Json(ReportView::from(report)).into_response();
    }
    let first = &report.errors[0];
    let error = ErrorDetail {
        code: "validation_failed",
        message: format!(
            "line {}: {}: {} ({} bad cells in all; nothing was imported)",
            first.line,
            first.field,
            first.message,
            report.errors.len()
        ),
        field: Some(first.field.clone()),
    };
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(RefusedView {
            error,
            report: report.into(),
        }),
    )
        .into_response()
}

/// Reads the CSV off the async workers (a large file takes a moment).
pub(crate) async fn read_csv(
    body: Bytes,
) -> Result<Result<csv_rows::CsvTable, Vec<RowError>>, ApiError> {
    tokio::task::spawn_blocking(move || csv_rows::read(&body))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the file could not be read",
            )
        })
}

/// A file that does not even read as CSV.
pub(crate) fn unreadable(errors: Vec<RowError>, dry_run: bool) -> Response {
    answer(Report {
        dry_run,
        errors,
        ..Report::default()
    })
}

/// Imports customers from CSV: columns `email` (required), `name`, `phone`,
/// `organization` (a name; created when new), `birthday`, `tier`, and one per defined
/// customer attribute. Found by address and updated, or created; empty cells change
/// nothing.
#[utoipa::path(post, path = "/api/v1/customers/import", tag = "customers",
    params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ReportView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = RefusedView, description = "Bad rows: nothing was imported")),
    security(("bearer" = [])))]
pub async fn import_customers(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&viewer, Permission::ManageCustomers)?;
    csv_body(&headers)?;
    let dry_run = q.dry_run.unwrap_or(false);
    let table = match read_csv(body).await? {
        Ok(t) => t,
        Err(errors) => return Ok(unreadable(errors, dry_run)),
    };
    let now = st.now();
    let today = dates::utc_date(now);
    let actor = Actor::User(viewer.user_id);
    let report = if dry_run {
        st.db
            .read(op!(c => import::customers(c, actor, &table, today, true, now).await))
            .await?
    } else {
        st.db
            .write(op!(c => import::customers(c, actor, &table, today, false, now).await))
            .await?
    };
    Ok(answer(report))
}

/// Imports organisations from CSV: columns `name` (required), `domain`, and one per
/// defined organisation attribute. Found by name (without case) and updated, or created.
#[utoipa::path(post, path = "/api/v1/organizations/import", tag = "customers",
    params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ReportView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = RefusedView, description = "Bad rows: nothing was imported")),
    security(("bearer" = [])))]
pub async fn import_organizations(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&viewer, Permission::ManageCustomers)?;
    csv_body(&headers)?;
    let dry_run = q.dry_run.unwrap_or(false);
    let table = match read_csv(body).await? {
        Ok(t) => t,
        Err(errors) => return Ok(unreadable(errors, dry_run)),
    };
    let now = st.now();
    let actor = Actor::User(viewer.user_id);
    let report = if dry_run {
        st.db
            .read(op!(c => import::organizations(c, actor, &table, true, now).await))
            .await?
    } else {
        st.db
            .write(op!(c => import::organizations(c, actor, &table, false, now).await))
            .await?
    };
    Ok(answer(report))
}
