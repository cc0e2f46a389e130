//! `/reports/kb`: the knowledge base's reports for supervisors and admins — deflection per
//! period, articles (views, helpful ratio, comments), content gaps with the best agent
//! answer and a button that starts a draft article from it. The same store reports as the
//! API (`/api/v1/kb/reports/…`), the same range rules.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_http::api::kb::reports::{period, range};
use rapport_store::kb::reports::{self, Period};
use rapport_store::op;
use serde::Deserialize;

use crate::page::{MeView, error_page, page, require, store_error, write_then};
use crate::render::when;
use crate::sessions::{CsrfForm, Me};

/// The page's query: the range and the period.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    period: Option<String>,
}

/// One row of the deflection table.
pub struct DeflectionRow {
    start: String,
    attempts: i64,
    deflected: i64,
    submitted: i64,
    abandoned: i64,
    pending: i64,
    rate: String,
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{:.0}%", r * 100.0))
}

impl DeflectionRow {
    fn of(s: &reports::DeflectionStats, label: String) -> Self {
        Self {
            start: label,
            attempts: s.attempts,
            deflected: s.deflected,
            submitted: s.submitted,
            abandoned: s.abandoned,
            pending: s.pending,
            rate: pct(s.rate),
        }
    }
}

#[derive(Template)]
#[template(path = "kb/reports.html")]
struct ReportsPage {
    me: MeView,
    from: String,
    to: String,
    week: bool,
    periods: Vec<DeflectionRow>,
    total: DeflectionRow,
    articles: Vec<(reports::ArticleStats, String)>,
    unanswered: Vec<reports::UnansweredGroup>,
    followed: Vec<reports::FollowedGroup>,
}

/// The reports page.
pub async fn reports_page(
    State(st): State<AppState>,
    me: Me,
    Query(q): Query<ReportQuery>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ViewKbReports) {
        return r;
    }
    let now = st.now();
    let parsed = range(q.from.as_deref(), q.to.as_deref(), now)
        .and_then(|r| period(q.period.as_deref()).map(|p| (r, p)));
    let ((from, to), per) = match parsed {
        Ok(x) => x,
        Err(e) => {
            return error_page(
                e.status(),
                "Check the range",
                "Use dates such as 2026-11-01, at most 366 days apart.",
            );
        }
    };
    let loaded = st
        .db
        .read(op!(c => {
            let d = reports::deflection(c, from, to, per, now).await?;
            let a = reports::articles(c, from, to).await?;
            let u = reports::unanswered(c, from, to).await?;
            let f = reports::followed(c, from, to).await?;
            Ok((d, a, u, f))
        }))
        .await;
    let ((periods, total), articles, unanswered, followed) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let day = |t: rapport_domain::Timestamp| t.to_datetime().format("%Y-%m-%d").to_string();
    let last_day = rapport_domain::Timestamp(to.micros() - 1);
    page(&ReportsPage {
        me: MeView::of(&me, ""),
        from: day(from),
        to: day(last_day),
        week: per == Period::Week,
        periods: periods
            .iter()
            .rev()
            .map(|p| DeflectionRow::of(p, day(p.start)))
            .collect(),
        total: DeflectionRow::of(&total, "Total".into()),
        articles: articles
            .into_iter()
            .map(|a| {
                let ratio = pct(a.helpful_ratio);
                (a, ratio)
            })
            .collect(),
        unanswered,
        followed,
    })
}

/// An article's comments.
#[derive(Template)]
#[template(path = "kb/comments.html")]
struct CommentsPage {
    me: MeView,
    article_id: i64,
    comments: Vec<(String, String, bool, String)>,
}

/// `/reports/kb/articles/{id}`: the readers' comments on one article (last 366 days).
pub async fn comments_page(State(st): State<AppState>, me: Me, Path(id): Path<i64>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ViewKbReports) {
        return r;
    }
    let to = st.now();
    let from = rapport_domain::Timestamp(to.micros() - 366 * 86_400_000_000);
    let user = me.session.viewer.user_id;
    let loaded = st
        .db
        .read(op!(c => {
            let zone = rapport_store::people::time_zone(c, user).await?;
            Ok((reports::comments(c, id, from, to).await?, zone))
        }))
        .await;
    let (comments, zone) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    page(&CommentsPage {
        me: MeView::of(&me, ""),
        article_id: id,
        comments: comments
            .into_iter()
            .map(|c| {
                let (at, iso) = when(c.at, &zone);
                (at, iso, c.helpful, c.comment)
            })
            .collect(),
    })
}

/// "Start an article from this".
#[derive(Debug, Deserialize)]
pub struct DraftForm {
    query: String,
    message_id: Option<i64>,
}

/// Creates a draft from a gap and opens it in the editor.
pub async fn draft(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<DraftForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ViewKbReports) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        op!(c => reports::draft_from_gap(c, &viewer, &f.query, f.message_id, now).await),
        |a| Redirect::to(&format!("/kb/articles/{}/edit", a.id)).into_response(),
    )
    .await
}
