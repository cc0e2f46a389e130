//! Orders from CSV: `POST /api/v1/orders/import` with the file as the body (`text/csv`),
//! one row per order line (see `rapport_domain::commerce::csv`), and `?dry_run=true` to
//! check it first. All or nothing, like the customers' import: any bad row and nothing
//! is written, every bad cell reported by line and column.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use rapport_domain::Permission;
use rapport_domain::commerce::csv;
use rapport_store::commerce::orders;
use rapport_store::crm::import::Report;
use rapport_store::events::Actor;
use rapport_store::op;

use crate::api::crm::import::{ImportParams, ReportView, answer, csv_body, unreadable};
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Imports orders from CSV: columns `external_id`, `email`, `currency`, `sku`, `item`,
/// `quantity`, `unit_price` (required) and `name`, `status`, `placed_at`, `shipping`,
/// `tax`, `discount`; rows sharing an `external_id` are one order's lines. Each order is
/// created, or updated when the shop's id is known (`updated` counts those).
#[utoipa::path(post, path = "/api/v1/orders/import", tag = "commerce",
    params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ReportView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = crate::api::crm::import::RefusedView,
            description = "Bad rows: nothing was imported")),
    security(("bearer" = [])))]
pub async fn import_orders(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    require(&viewer, Permission::ManageOrders)?;
    csv_body(&headers)?;
    let dry_run = q.dry_run.unwrap_or(false);
    let table = match crate::api::crm::import::read_csv(body).await? {
        Ok(t) => t,
        Err(errors) => return Ok(unreadable(errors, dry_run)),
    };
    let now = st.now();
    let rows = table.rows.len();
    let list = match csv::orders(&table, now) {
        Ok(l) => l,
        Err(errors) => {
            return Ok(answer(Report {
                dry_run,
                rows,
                errors,
                ..Report::default()
            }));
        }
    };
    let actor = Actor::User(viewer.user_id);
    let (created, updated) = if dry_run {
        st.db
            .read(op!(c => orders::import(c, actor, &list, true, now).await))
            .await?
    } else {
        st.db
            .write(op!(c => orders::import(c, actor, &list, false, now).await))
            .await?
    };
    Ok(answer(Report {
        dry_run,
        rows,
        created,
        updated,
        organizations_created: 0,
        errors: Vec::new(),
    }))
}
