//! Per product: `GET /api/v1/reports/products` — units sold, returned and the tickets
//! about them, with the return rate and ticket rate, over a period; with `sku`, that
//! product week by week.

use axum::Json;
use axum::extract::State;
use rapport_domain::{FieldError, Permission, Timestamp};
use rapport_store::commerce::products::{self, ProductRates, Week};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Which period, and which product.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductParams {
    /// From (default: 90 days ago).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    /// Until (default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
    /// One product: adds it week by week.
    pub sku: Option<String>,
    /// How many products, 1 to 500 (default 100), best-selling first.
    pub limit: Option<i64>,
}

/// One product over the period.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProductRates)]
pub struct RatesView {
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Orders holding it (cancelled ones left out).
    pub orders: i64,
    /// Units sold.
    pub units: i64,
    /// Units asked back (rejected and cancelled returns left out).
    pub returned: i64,
    /// Tickets about orders holding it.
    pub tickets: i64,
    /// Units returned per unit sold, 0–1 (null without sales).
    pub return_rate: Option<f64>,
    /// Tickets per order holding it (null without orders).
    pub ticket_rate: Option<f64>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| (a as f64 / b as f64 * 10_000.0).round() / 10_000.0)
}

impl From<ProductRates> for RatesView {
    fn from(p: ProductRates) -> Self {
        Self {
            return_rate: ratio(p.returned, p.units),
            ticket_rate: ratio(p.tickets, p.orders),
            sku: p.sku,
            name: p.name,
            orders: p.orders,
            units: p.units,
            returned: p.returned,
            tickets: p.tickets,
        }
    }
}

/// One week of one product.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProductWeek)]
pub struct WeekView {
    /// The week's start.
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    /// Units sold.
    pub units: i64,
    /// Units asked back.
    pub returned: i64,
    /// Tickets about it.
    pub tickets: i64,
}

impl From<Week> for WeekView {
    fn from(w: Week) -> Self {
        Self {
            start: w.start,
            units: w.units,
            returned: w.returned,
            tickets: w.tickets,
        }
    }
}

/// The report.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ProductReport)]
pub struct ReportView {
    /// From.
    #[schema(value_type = String, format = DateTime)]
    pub since: Timestamp,
    /// Until.
    #[schema(value_type = String, format = DateTime)]
    pub until: Timestamp,
    /// Products, best-selling first.
    pub products: Vec<RatesView>,
    /// With `sku`: that product week by week.
    pub weeks: Option<Vec<WeekView>>,
}

/// Return and ticket rates per product (supervisors).
#[utoipa::path(get, path = "/api/v1/reports/products", tag = "commerce",
    params(ProductParams),
    responses((status = 200, body = ReportView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn product_report(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ProductParams>,
) -> ApiResult<Json<ReportView>> {
    require(&viewer, Permission::ViewReports)?;
    let now = st.now();
    let until = q.until.unwrap_or(now.plus_secs(1));
    let since = q.since.unwrap_or(until.plus_secs(-90 * 86_400));
    if since >= until || until.0 - since.0 > 3 * 366 * 86_400 * 1_000_000 {
        return Err(
            FieldError::new("since", "must be before until, at most three years before").into(),
        );
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(FieldError::new("limit", "must be from 1 to 500").into());
    }
    let sku = q.sku.clone();
    let (list, weeks) = st
        .db
        .read(op!(c => {
            let list = products::rates(c, since, until, limit).await?;
            let weeks = match &sku {
                Some(s) => Some(products::weekly(c, s, since, until).await?),
                None => None,
            };
            Ok((list, weeks))
        }))
        .await?;
    Ok(Json(ReportView {
        since,
        until,
        products: list.into_iter().map(Into::into).collect(),
        weeks: weeks.map(|w| w.into_iter().map(Into::into).collect()),
    }))
}
