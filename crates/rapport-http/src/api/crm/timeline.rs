//! A customer's timeline of every interaction on every channel,
//! `GET /api/v1/customers/{id}/timeline` (cursor-paginated, newest first).

use axum::Json;
use axum::extract::State;
use rapport_domain::{Permission, Timestamp};
use rapport_store::crm::timeline::{self, Cursor, Item};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// Which page of the timeline.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// The `next_cursor` of the page before (absent: the newest page).
    pub cursor: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// One interaction.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TimelineItem)]
pub struct ItemView {
    /// `ticket` (opened), `message` (public, either way), `order`, `survey` (answered),
    /// `points`, `voucher` or `return` (requested; its state as it now stands).
    pub kind: String,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The id of the ticket, message, order, survey, points entry or voucher.
    pub id: i64,
    /// The ticket it belongs to.
    pub ticket_id: Option<i64>,
    /// A ticket's subject, an order's shop id (also a return's), a survey's kind, a
    /// voucher's code (its last group only), or why points moved.
    pub title: String,
    /// A ticket's channel; a message's author and channel; an order's status and
    /// currency; a voucher's reason; a return's state.
    pub detail: String,
    /// The start of a message, a survey comment, or why an item was returned.
    pub excerpt: Option<String>,
    /// An order's total (minor units of its currency, in `detail`), a survey's rating,
    /// points moved, a voucher's worth (minor units, or percent when `detail` says so), a
    /// return's refund (minor units).
    pub number: Option<i64>,
}

impl From<Item> for ItemView {
    fn from(i: Item) -> Self {
        Self {
            kind: i.kind,
            at: i.at,
            id: i.id,
            ticket_id: i.ticket_id,
            title: i.title,
            detail: i.detail,
            excerpt: i.excerpt,
            number: i.number,
        }
    }
}

/// A page of the timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Timeline)]
pub struct TimelineView {
    /// Newest first.
    pub items: Vec<ItemView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A customer's interactions on every channel, newest first. Tickets (and their
/// messages) of teams the caller may not see are left out.
#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", tag = "customers",
    params(("id" = i64, Path, description = "Customer id"), TimelineParams),
    responses((status = 200, body = TimelineView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn customer_timeline(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TimelineParams>,
) -> ApiResult<Json<TimelineView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let after = q.cursor.as_deref().map(str::parse::<Cursor>).transpose()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=timeline::MAX_PAGE).contains(&limit) {
        return Err(rapport_domain::FieldError::new("limit", "must be from 1 to 200").into());
    }
    let (items, next) = st
        .db
        .read(op!(c => timeline::page(c, &viewer, id, after, limit).await))
        .await?;
    Ok(Json(TimelineView {
        items: items
            .into_iter()
            .map(|i| {
                let mut v = ItemView::from(i);
                // A voucher's code is worth money: the timeline shows its last group only.
                if v.kind == "voucher" {
                    v.title = rapport_domain::loyalty::voucher::masked(&v.title);
                }
                v
            })
            .collect(),
        next_cursor: next.map(|c| c.to_string()),
    }))
}
