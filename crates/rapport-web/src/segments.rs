//! Segments in the workspace: the list, and each segment's customers as a view (a page of
//! 100 at a time, each linking to the customer's profile).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_store::crm::segments;
use rapport_store::op;
use serde::Deserialize;

use crate::page::{MeView, page, require, store_error};
use crate::sessions::Me;

#[derive(Template)]
#[template(path = "segments.html")]
struct SegmentsPage {
    me: MeView,
    /// (id, name, conditions in words).
    rows: Vec<(i64, String, String)>,
}

#[derive(Template)]
#[template(path = "segment.html")]
struct SegmentPage {
    me: MeView,
    name: String,
    conditions: String,
    /// (customer id, name or address, address).
    members: Vec<(i64, String, String)>,
    next: Option<String>,
}

fn words(conditions: &[rapport_domain::crm::segment::Condition]) -> String {
    conditions
        .iter()
        .map(|c| {
            let field = serde_json::to_value(c.field)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
                .replace('_', " ");
            let op = serde_json::to_value(c.op)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
                .replace('_', " ");
            let subject = match (&c.key, &c.currency) {
                (Some(k), _) => format!("{field} {k}"),
                (_, Some(cur)) => format!("{field} ({cur})"),
                _ => field,
            };
            if c.value.is_null() {
                format!("{subject} {op}")
            } else {
                let v = c
                    .value
                    .as_str()
                    .map_or_else(|| c.value.to_string(), str::to_owned);
                format!("{subject} {op} {v}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every segment.
pub async fn list(State(st): State<AppState>, me: Me) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ReadCustomers) {
        return r;
    }
    match st.db.read(op!(c => segments::list(c).await)).await {
        Ok(list) => page(&SegmentsPage {
            me: MeView::of(&me, ""),
            rows: list
                .into_iter()
                .map(|s| (s.id, s.name, words(&s.conditions)))
                .collect(),
        }),
        Err(e) => store_error(e),
    }
}

/// Which page of members.
#[derive(Deserialize, Default)]
pub struct AfterQuery {
    after: Option<i64>,
}

/// A segment's customers.
pub async fn view(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Query(q): Query<AfterQuery>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ReadCustomers) {
        return r;
    }
    let now = st.now();
    let after = q.after.unwrap_or(0);
    let loaded = st
        .db
        .read(op!(c => {
            let s = segments::get(c, id).await?;
            let m = segments::members(c, &s.conditions, after, 100, now).await?;
            Ok((s, m))
        }))
        .await;
    let (s, (members, more)) = match loaded {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let next = if more {
        members
            .last()
            .map(|m| format!("/segments/{id}?after={}", m.customer_id))
    } else {
        None
    };
    page(&SegmentPage {
        me: MeView::of(&me, ""),
        conditions: words(&s.conditions),
        name: s.name,
        members: members
            .into_iter()
            .map(|m| {
                let shown = if m.name.is_empty() {
                    m.email.clone()
                } else {
                    m.name
                };
                (m.customer_id, shown, m.email)
            })
            .collect(),
        next,
    })
}
