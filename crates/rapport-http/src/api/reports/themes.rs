//! `GET /api/v1/reports/themes`: the recurring topics of what customers wrote in a
//! period — survey comments and their messages — with how often each came up, against
//! the period before, the share said in a negative mood, and example quotes.

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_domain::reports::themes::{Theme, themes};
use rapport_store::op;
use rapport_store::reports::themes::said;
use serde::Serialize;
use utoipa::ToSchema;

use super::ReportParams;
use crate::api::sentiment::SentimentView;
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The most themes a report lists.
pub const MAX_THEMES: usize = 15;

/// A sentence that mentions a theme.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThemeQuote {
    /// The ticket it comes from (null: an NPS comment).
    pub ticket_id: Option<i64>,
    /// The sentence (at most 160 characters).
    pub text: String,
    /// The mood of the text it comes from.
    pub sentiment: SentimentView,
}

/// A recurring topic.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThemeView {
    /// The keyphrase, lower-cased.
    #[schema(example = "refund")]
    pub phrase: String,
    /// Texts of the period that mention it.
    pub count: i64,
    /// Texts of the period before that mention it.
    pub previous_count: i64,
    /// The percentage of this period's mentions said in a negative mood.
    pub negative_percent: f64,
    /// Up to three quotes, the most negative first.
    pub quotes: Vec<ThemeQuote>,
}

impl From<&Theme> for ThemeView {
    fn from(t: &Theme) -> Self {
        Self {
            phrase: t.phrase.clone(),
            count: t.count as i64,
            previous_count: t.previous as i64,
            negative_percent: (t.negative_share() * 10_000.0).round() / 100.0,
            quotes: t
                .quotes
                .iter()
                .map(|q| ThemeQuote {
                    ticket_id: q.ticket_id,
                    text: q.text.clone(),
                    sentiment: q.sentiment.into(),
                })
                .collect(),
        }
    }
}

/// The themes of a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportThemes {
    /// The first day.
    pub from: String,
    /// The last day.
    pub to: String,
    /// How many texts were read (survey comments and customer messages).
    pub texts: i64,
    /// The themes, the most mentioned first (mentioned by two texts or more).
    pub themes: Vec<ThemeView>,
}

/// The themes of a period under its filters (read by the web page too).
pub async fn read(st: &AppState, q: &ReportParams) -> ApiResult<ReportThemes> {
    let (period, filter) = q.parse()?;
    let before = period.previous();
    let (now, prev) = st
        .db
        .read(op!(c => Ok((
            said(c, &period, &filter).await?,
            said(c, &before, &filter).await?,
        ))))
        .await?;
    // YAKE over up to 200 KB of text: off the async workers.
    let texts = now.len() as i64;
    let found = tokio::task::spawn_blocking(move || themes(&now, &prev, MAX_THEMES))
        .await
        .unwrap_or_default();
    Ok(ReportThemes {
        from: period.from.to_string(),
        to: period.to.to_string(),
        texts,
        themes: found.iter().map(ThemeView::from).collect(),
    })
}

/// What customers wrote about in a period — survey comments and their messages — as
/// themes: each keyphrase with how many texts mention it, how many did in the period
/// before, the share said in a negative mood and example quotes.
#[utoipa::path(get, path = "/api/v1/reports/themes", tag = "reports",
    params(ReportParams),
    responses((status = 200, body = ReportThemes), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> ApiResult<Json<ReportThemes>> {
    require(&viewer, Permission::ViewReports)?;
    Ok(Json(read(&st, &q).await?))
}
