//! The search page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::search;
use serde::Deserialize;

use crate::page::{MeView, page, require, store_error};
use crate::sessions::Me;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    me: MeView,
    hits: Vec<(String, String, String)>,
}

/// The search box's query.
#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// Search results.
pub async fn search(State(st): State<AppState>, me: Me, Query(q): Query<SearchQuery>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let text = q.q.unwrap_or_default();
    let viewer = me.session.viewer.clone();
    let query = text.clone();
    let hits = match st
        .db
        .read(op!(c => search::search(c, &viewer, &query, 50).await))
        .await
    {
        Ok(h) => h,
        Err(e) => return store_error(e),
    };
    let hits = hits
        .into_iter()
        .map(|h| match (h.ticket_id, h.ticket_number) {
            (Some(id), Some(n)) => (
                format!("/tickets/{id}"),
                format!("#{n} {}", h.title),
                h.snippet,
            ),
            _ => (
                format!("/customers/{}", h.customer_id.unwrap_or_default()),
                format!("Customer: {}", h.title),
                h.snippet,
            ),
        })
        .collect();
    page(&SearchPage {
        me: MeView::of(&me, &text),
        hits,
    })
}
