//! `/reports/themes`: what customers wrote about in the period — each theme with how
//! often it came up against the period before, the share said in a negative mood and a
//! few quotes — so a supervisor sees what people are unhappy about this week. The same
//! reading as `GET /api/v1/reports/themes`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_http::api::reports::themes::{ReportThemes, read};

use super::DashboardQuery;
use crate::page::{MeView, page, require};
use crate::sessions::Me;

#[derive(Template)]
#[template(path = "reports_themes.html")]
struct ThemesPage {
    me: MeView,
    r: ReportThemes,
    query: String,
    /// Per theme: which way it went ("new", "up", "down", "steady").
    trends: Vec<&'static str>,
}

/// Which way a theme went against the period before.
fn trend(now: i64, before: i64) -> &'static str {
    match (now, before) {
        (_, 0) => "new",
        (n, b) if n * 4 >= b * 5 => "up",
        (n, b) if n * 5 <= b * 4 => "down",
        _ => "steady",
    }
}

/// The themes page.
pub async fn themes_page(
    State(st): State<AppState>,
    me: Me,
    Query(q): Query<DashboardQuery>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ViewReports) {
        return r;
    }
    let today = st.now().to_datetime().date_naive();
    let params = match q.params(today) {
        Ok(p) => p,
        Err(field) => return super::bad(field, "choose one from the list"),
    };
    let r = match read(&st, &params).await {
        Ok(r) => r,
        Err(e) => {
            return crate::page::error_page(e.status(), "Check the report's range", e.message());
        }
    };
    page(&ThemesPage {
        me: MeView::of(&me, ""),
        trends: r
            .themes
            .iter()
            .map(|t| trend(t.count, t.previous_count))
            .collect(),
        query: super::export_query(&params),
        r,
    })
}

#[cfg(test)]
mod tests {
    use super::trend;

    #[test]
    fn a_fifth_more_or_less_is_a_trend() {
        assert_eq!(trend(3, 0), "new");
        assert_eq!(trend(5, 4), "up");
        assert_eq!(trend(4, 5), "down");
        assert_eq!(trend(10, 9), "steady");
    }
}
