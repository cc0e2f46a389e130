//! The knowledge base in the agent workspace: the list of articles (`/kb`), the editor
//! with its live preview and language tabs ([`editor`]), the version history with a diff
//! and restore ([`history`]), the categories for supervisors ([`categories`]), the lookup
//! the ticket page's "Insert article" box asks, and the reports on articles, deflection
//! and content gaps ([`reports`]).

pub mod categories;
pub mod editor;
pub mod history;
pub mod reports;

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use rapport_domain::kb::{ArticleStatus, Locale, Slug, Visibility};
use rapport_domain::{Permission, Principal, Zone};
use rapport_http::AppState;
use rapport_index::kb::KbQuery;
use rapport_store::kb::{self, ArticleFilter};
use rapport_store::{op, people};
use serde::{Deserialize, Serialize};

use crate::page::{MeView, page, require, store_error};
use crate::render::when;
use crate::sessions::Me;

/// How many articles one page of the list shows.
const PAGE: i64 = 50;

/// One row of the list.
pub struct Row {
    id: i64,
    title: String,
    slug: String,
    status: &'static str,
    visibility: &'static str,
    locales: String,
    category: String,
    updated: String,
    updated_iso: String,
}

#[derive(Template)]
#[template(path = "kb/list.html")]
struct ListPage {
    me: MeView,
    rows: Vec<Row>,
    total: i64,
    q: String,
    status: String,
    visibility: String,
    category: String,
    locale: String,
    categories: Vec<(String, String)>,
    statuses: &'static [ArticleStatus],
    visibilities: &'static [Visibility],
    prev: Option<String>,
    next: Option<String>,
    can_manage: bool,
}

/// The list's filters.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    offset: i64,
}

impl ListQuery {
    fn filter(&self) -> ArticleFilter {
        // A filter that does not parse is no filter (the page shows everything).
        ArticleFilter {
            q: Some(self.q.chars().take(200).collect()),
            status: ArticleStatus::parse(&self.status).ok(),
            visibility: Visibility::parse(&self.visibility).ok(),
            category_slug: Slug::parse(&self.category).ok().map(|s| s.to_string()),
            locale: Locale::parse(&self.locale).ok(),
            limit: PAGE,
            offset: self.offset.clamp(0, 1_000_000),
            ..ArticleFilter::default()
        }
    }

    fn at(&self, offset: i64) -> String {
        let q = ListQuery {
            offset,
            q: self.q.clone(),
            status: self.status.clone(),
            visibility: self.visibility.clone(),
            category: self.category.clone(),
            locale: self.locale.clone(),
        };
        format!(
            "/kb?{}",
            serde_urlencoded::to_string(&q).unwrap_or_default()
        )
    }
}

/// `/kb`: every article (any status) with filters, newest change first.
pub async fn articles(State(st): State<AppState>, me: Me, Query(q): Query<ListQuery>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let filter = q.filter();
    let offset = filter.offset;
    let who = Principal::Agent(me.session.viewer.clone());
    let user = me.session.viewer.user_id;
    let read = st
        .db
        .read(op!(c => Ok((
            kb::list(c, Some(&who), &filter).await?,
            kb::count(c, Some(&who), &filter).await?,
            kb::categories::list(c, Some(&who)).await?,
            people::time_zone(c, user).await?,
        ))))
        .await;
    let (list, total, cats, zone) = match read {
        Ok(v) => v,
        Err(e) => return store_error(e),
    };
    let zone: Zone = zone;
    let rows = list
        .into_iter()
        .map(|a| {
            let (updated, updated_iso) = when(a.updated_at, &zone);
            Row {
                id: a.id,
                title: a.title().to_owned(),
                locales: a
                    .locales()
                    .iter()
                    .map(Locale::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                category: a.category.map(|k| k.name).unwrap_or_default(),
                slug: a.slug,
                status: a.status.as_str(),
                visibility: a.visibility.as_str(),
                updated,
                updated_iso,
            }
        })
        .collect::<Vec<_>>();
    let shown = rows.len() as i64;
    page(&ListPage {
        me: MeView::of(&me, ""),
        total,
        prev: (offset > 0).then(|| q.at((offset - PAGE).max(0))),
        next: (offset + shown < total).then(|| q.at(offset + PAGE)),
        rows,
        categories: cats.into_iter().map(|k| (k.slug, k.name)).collect(),
        statuses: ArticleStatus::ALL,
        visibilities: Visibility::ALL,
        can_manage: me.session.viewer.can(Permission::ManageKb),
        q: q.q,
        status: q.status,
        visibility: q.visibility,
        category: q.category,
        locale: q.locale,
    })
}

/// The lookup's query.
#[derive(Debug, Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    q: String,
}

/// One article the "Insert article" box offers.
#[derive(Debug, Serialize)]
pub struct LookupHit {
    /// Its title.
    pub title: String,
    /// Its public URL.
    pub url: String,
}

/// `GET /kb/lookup?q=`: the published articles a customer may read (public or
/// customers-only) that best match `q` — the knowledge base's own forgiving search — with
/// their public URLs: what the ticket page's "Insert article" box links to.
pub async fn lookup(State(st): State<AppState>, me: Me, Query(q): Query<LookupQuery>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let text: String = q.q.trim().chars().take(200).collect();
    let hits = st.kb_index.search(&KbQuery {
        text: &text,
        readable: &[Visibility::Public, Visibility::Customers],
        locale: None,
        limit: 8,
        suggest: true,
    });
    let base = st.public_url.trim_end_matches('/').to_owned();
    let hits: Vec<LookupHit> = hits
        .into_iter()
        .map(|h| LookupHit {
            title: h.title,
            url: format!("{base}/help/articles/{}", h.slug),
        })
        .collect();
    Json(serde_json::json!({ "hits": hits })).into_response()
}
