//! Goodwill limits per role and per agent (`/api/v1/goodwill/limits`), what was given
//! (`/api/v1/reports/goodwill`) and the loyalty settings.

use axum::Json;
use axum::extract::State;
use rapport_domain::commerce::Currency;
use rapport_domain::loyalty::{self, GoodwillKind};
use rapport_domain::{FieldError, Permission, Role, Timestamp};
use rapport_store::loyalty::limits::{self, Limit};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::commerce::money_text;
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, JsonBody};
use crate::state::AppState;

/// One goodwill limit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = GoodwillLimit)]
pub struct LimitView {
    /// A role (`agent`, `supervisor`, `admin`) — or set `user_id` instead.
    pub role: Option<String>,
    /// One agent (their own limit wins over their role's).
    pub user_id: Option<i64>,
    /// `voucher`, `voucher-percent`, `points` or `refund`.
    pub kind: String,
    /// For `voucher` and `refund`: the currency.
    pub currency: Option<String>,
    /// The most per customer per calendar month, as decimal text for amounts; for
    /// `voucher-percent` the largest percentage.
    #[schema(value_type = String)]
    pub max_per_month: serde_json::Value,
}

/// All the goodwill limits (replaced whole by `PUT`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = GoodwillLimits)]
pub struct LimitsView {
    /// Each limit. Without one, agents ask for approval and supervisors and
    /// administrators give freely.
    pub limits: Vec<LimitView>,
}

fn limit_view(l: Limit) -> LimitView {
    let (role, user_id) = match l.scope.split_once(':') {
        Some(("user", id)) => (None, id.parse().ok()),
        Some((_, role)) => (Some(role.to_owned()), None),
        None => (None, None),
    };
    LimitView {
        role,
        user_id,
        kind: l.kind.as_str().to_owned(),
        max_per_month: if l.currency.is_empty() {
            serde_json::json!(l.max_per_month)
        } else {
            serde_json::json!(money_text(l.max_per_month, &l.currency))
        },
        currency: Some(l.currency).filter(|c| !c.is_empty()),
    }
}

fn limit_of(i: usize, v: &LimitView) -> Result<Limit, FieldError> {
    let f = |name: &str| format!("limits[{i}].{name}");
    let scope = match (&v.role, v.user_id) {
        (Some(r), None) => {
            limits::role_scope(Role::parse(r).map_err(|e| e.within(&format!("limits[{i}]")))?)
        }
        (None, Some(u)) if u > 0 => format!("user:{u}"),
        _ => return Err(FieldError::new(f("role"), "give a role or a user_id")),
    };
    let kind = GoodwillKind::parse(&v.kind).map_err(|e| e.within(&format!("limits[{i}]")))?;
    let text = match &v.max_per_month {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(FieldError::new(f("max_per_month"), "must be a number")),
    };
    let (currency, max) = match kind {
        GoodwillKind::Voucher | GoodwillKind::Refund => {
            let code = v
                .currency
                .as_deref()
                .ok_or_else(|| FieldError::new(f("currency"), "is required for amounts"))?;
            let cur = Currency::parse(&f("currency"), code)?;
            (
                cur.code().to_owned(),
                cur.amount(&f("max_per_month"), &text)?,
            )
        }
        GoodwillKind::Points | GoodwillKind::VoucherPercent => {
            let n = text
                .trim()
                .parse::<i64>()
                .map_err(|_| FieldError::new(f("max_per_month"), "must be a whole number"))?;
            (String::new(), n)
        }
    };
    if max < 0 {
        return Err(FieldError::new(f("max_per_month"), "must not be negative"));
    }
    Ok(Limit {
        scope,
        kind,
        currency,
        max_per_month: max,
    })
}

/// The goodwill limits.
#[utoipa::path(get, path = "/api/v1/goodwill/limits", tag = "loyalty",
    responses((status = 200, body = LimitsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_limits(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<LimitsView>> {
    require(&viewer, Permission::ApproveGoodwill)?;
    let list = st.db.read(op!(c => limits::list(c).await)).await?;
    Ok(Json(LimitsView {
        limits: list.into_iter().map(limit_view).collect(),
    }))
}

/// Replaces the goodwill limits (administrators).
#[utoipa::path(put, path = "/api/v1/goodwill/limits", tag = "loyalty",
    request_body = LimitsView,
    responses((status = 200, body = LimitsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_limits(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<LimitsView>,
) -> ApiResult<Json<LimitsView>> {
    require(&viewer, Permission::ManageGoodwillLimits)?;
    if req.limits.len() > 500 {
        return Err(FieldError::new("limits", "at most 500 limits").into());
    }
    let parsed = req
        .limits
        .iter()
        .enumerate()
        .map(|(i, l)| limit_of(i, l))
        .collect::<Result<Vec<_>, _>>()?;
    let list = st
        .db
        .write(op!(c => {
            limits::replace(c, &parsed).await?;
            limits::list(c).await
        }))
        .await?;
    Ok(Json(LimitsView {
        limits: list.into_iter().map(limit_view).collect(),
    }))
}

/// The period of the goodwill report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GoodwillParams {
    /// From (default: the start of this month, UTC).
    #[param(value_type = Option<String>, format = DateTime)]
    pub since: Option<Timestamp>,
    /// Until (default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
}

/// Goodwill one agent gave of one kind (and currency).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = GoodwillRow)]
pub struct GoodwillRowView {
    /// The giver (approved gifts count as the requester's).
    pub user_id: i64,
    /// `voucher`, `voucher-percent` or `points`.
    pub kind: &'static str,
    /// For amounts, the currency.
    pub currency: Option<String>,
    /// How many gifts.
    pub count: i64,
    /// Their sum: decimal text for amounts, points, or summed percentages.
    pub total: String,
}

/// Goodwill given in a period, by agent (supervisors).
#[utoipa::path(get, path = "/api/v1/reports/goodwill", tag = "loyalty",
    params(GoodwillParams),
    responses((status = 200, body = Vec<GoodwillRowView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn goodwill_report(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<GoodwillParams>,
) -> ApiResult<Json<Vec<GoodwillRowView>>> {
    require(&viewer, Permission::ViewReports)?;
    let now = st.now();
    let since = q.since.unwrap_or_else(|| loyalty::month_start(now));
    let until = q.until.unwrap_or(now.plus_secs(1));
    let rows = st
        .db
        .read(op!(c => limits::report(c, since, until).await))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(user_id, kind, currency, count, total)| GoodwillRowView {
                user_id,
                kind: kind.as_str(),
                total: if currency.is_empty() {
                    total.to_string()
                } else {
                    money_text(total, &currency)
                },
                currency: Some(currency).filter(|c| !c.is_empty()),
                count,
            })
            .collect(),
    ))
}

/// The loyalty programme's rules.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LoyaltySettings)]
pub struct SettingsView {
    /// Points an order earns per whole unit of its total once paid (0: none).
    pub earn_per_unit: i64,
    /// Days after which credited points expire unless spent (null: never).
    pub expiry_days: Option<i64>,
}

/// The loyalty programme's rules.
#[utoipa::path(get, path = "/api/v1/loyalty/settings", tag = "loyalty",
    responses((status = 200, body = SettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<SettingsView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let s = st
        .db
        .read(op!(c => rapport_store::loyalty::rules::settings(c).await))
        .await?;
    Ok(Json(SettingsView {
        earn_per_unit: s.earn_per_unit,
        expiry_days: s.expiry_days,
    }))
}

/// Sets the rules: what orders earn from now on, and when new credits expire.
#[utoipa::path(put, path = "/api/v1/loyalty/settings", tag = "loyalty",
    request_body = SettingsView,
    responses((status = 200, body = SettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<SettingsView>,
) -> ApiResult<Json<SettingsView>> {
    require(&viewer, Permission::ManageGoodwillLimits)?;
    let s = rapport_store::loyalty::rules::Settings::new(req.earn_per_unit, req.expiry_days)?;
    let now = st.now();
    st.db
        .write(op!(c => rapport_store::loyalty::rules::set_settings(c, s, now).await))
        .await?;
    Ok(Json(req))
}
