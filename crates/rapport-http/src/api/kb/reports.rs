//! Reports on the knowledge base for supervisors and admins: articles (views, helpful
//! votes, comments), deflection per period, and content gaps (searches without a good
//! answer, and searches a ticket followed within the hour, each with the best agent answer
//! to start an article from).
//!
//! Ranges: `from` and `to` are dates (`2026-11-01`, whole UTC days, both included) or
//! RFC 3339 instants (`to` excluded); by default the last 30 days. At most 366 days.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use rapport_domain::{Permission, Timestamp};
use rapport_store::kb::reports::{self, Period};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

const DAY_MICROS: i64 = 86_400_000_000;
/// The longest range a report covers, in days.
pub const MAX_DAYS: i64 = 366;

fn instant(field: &str, raw: &str, end: bool) -> Result<Timestamp, ApiError> {
    let raw = raw.trim();
    let bad = || {
        ApiError::field(
            field,
            "must be a date (2026-11-01) or an RFC 3339 instant (2026-11-01T09:00:00Z)",
        )
    };
    if raw.len() > 40 {
        return Err(bad());
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let start = d.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc();
        let t = Timestamp::from(start);
        // A date as the end of a range includes its whole day.
        return Ok(if end {
            Timestamp(t.micros() + DAY_MICROS)
        } else {
            t
        });
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|d| Timestamp::from(d.with_timezone(&Utc)))
        .map_err(|_| bad())
}

/// The range `[from, to)` of a report's query, checked: `to` after `from`, at most
/// [`MAX_DAYS`]; the last 30 days up to `now` by default.
pub fn range(
    from: Option<&str>,
    to: Option<&str>,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp), ApiError> {
    let to = match to {
        Some(t) if !t.trim().is_empty() => instant("to", t, true)?,
        _ => now,
    };
    let from = match from {
        Some(f) if !f.trim().is_empty() => instant("from", f, false)?,
        _ => Timestamp(to.micros() - 30 * DAY_MICROS),
    };
    if from.micros() >= to.micros() {
        return Err(ApiError::field("to", "must be after from"));
    }
    if to.micros() - from.micros() > MAX_DAYS * DAY_MICROS {
        return Err(ApiError::field("from", "a report covers at most 366 days"));
    }
    Ok((from, to))
}

/// A report's range.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// First day (`2026-11-01`) or instant (RFC 3339); default 30 days before `to`.
    pub from: Option<String>,
    /// Last day (included) or instant (excluded); default now.
    pub to: Option<String>,
}

/// How one article did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbArticleStats)]
pub struct ArticleStatsView {
    /// The article.
    pub id: i64,
    /// Its slug.
    pub slug: String,
    /// Its title (default language).
    pub title: String,
    /// `draft`, `published` or `archived`.
    pub status: String,
    /// Help-center views in the range.
    pub views: i64,
    /// "Helpful" votes.
    pub helpful_yes: i64,
    /// "Not helpful" votes.
    pub helpful_no: i64,
    /// yes / (yes + no); null without votes.
    pub helpful_ratio: Option<f64>,
    /// Votes with a comment (listed by `/api/v1/kb/reports/articles/{id}/comments`).
    pub comments: i64,
    /// Times the portal's new-request form suggested it.
    pub suggested: i64,
    /// Times it was opened from such a suggestion.
    pub opened_from_suggestion: i64,
}

impl From<reports::ArticleStats> for ArticleStatsView {
    fn from(s: reports::ArticleStats) -> Self {
        Self {
            id: s.article_id,
            slug: s.slug,
            title: s.title,
            status: s.status,
            views: s.views,
            helpful_yes: s.helpful_yes,
            helpful_no: s.helpful_no,
            helpful_ratio: s.helpful_ratio,
            comments: s.comments,
            suggested: s.suggested,
            opened_from_suggestion: s.opened_from_suggestion,
        }
    }
}

/// The articles report.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbArticlesReport)]
pub struct ArticlesReport {
    /// The range's first instant.
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    /// The range's end (excluded).
    #[schema(value_type = String, format = DateTime)]
    pub to: Timestamp,
    /// Every published article and every other with activity, most viewed first.
    pub articles: Vec<ArticleStatsView>,
}

/// Views, helpful votes and comments per article (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/kb/reports/articles", tag = "kb",
    params(RangeParams),
    responses((status = 200, body = ArticlesReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn articles_report(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> ApiResult<Json<ArticlesReport>> {
    require(&viewer, Permission::ViewKbReports)?;
    let (from, to) = range(p.from.as_deref(), p.to.as_deref(), st.now())?;
    let articles = st
        .db
        .read(op!(c => reports::articles(c, from, to).await))
        .await?;
    Ok(Json(ArticlesReport {
        from,
        to,
        articles: articles.into_iter().map(Into::into).collect(),
    }))
}

/// A reader's comment.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbComment)]
pub struct CommentView {
    /// Whether they found the article helpful.
    pub helpful: bool,
    /// The language they read.
    pub locale: String,
    /// What they wrote (plain text).
    pub comment: String,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// The comments on an article.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbComments)]
pub struct CommentsReport {
    /// Newest first (at most 500).
    pub comments: Vec<CommentView>,
}

/// The readers' comments on one article (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/kb/reports/articles/{id}/comments", tag = "kb",
    params(("id" = i64, Path, description = "The article"), RangeParams),
    responses((status = 200, body = CommentsReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn article_comments(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> ApiResult<Json<CommentsReport>> {
    require(&viewer, Permission::ViewKbReports)?;
    let (from, to) = range(p.from.as_deref(), p.to.as_deref(), st.now())?;
    let comments = st
        .db
        .read(op!(c => reports::comments(c, id, from, to).await))
        .await?;
    Ok(Json(CommentsReport {
        comments: comments
            .into_iter()
            .map(|c| CommentView {
                helpful: c.helpful,
                locale: c.locale,
                comment: c.comment,
                at: c.at,
            })
            .collect(),
    }))
}

/// The deflection report's query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeflectionParams {
    /// First day or instant; default 30 days before `to`.
    pub from: Option<String>,
    /// Last day (included) or instant (excluded); default now.
    pub to: Option<String>,
    /// `day` (default) or `week` (from Monday, UTC).
    pub period: Option<String>,
    /// The instant outcomes are judged at (RFC 3339; default now): an attempt becomes
    /// deflected or abandoned 30 minutes after its last activity.
    pub as_of: Option<String>,
}

/// Deflection over a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbDeflectionPeriod)]
pub struct DeflectionView {
    /// The period's first instant.
    #[schema(value_type = String, format = DateTime)]
    pub start: Timestamp,
    /// Visits of the portal's new-request form that were shown suggestions.
    pub attempts: i64,
    /// Opened a suggested article and sent no request within 30 minutes.
    pub deflected: i64,
    /// Sent a request anyway (the agent sees what they read).
    pub submitted: i64,
    /// Shown suggestions, opened none, sent nothing (counted apart from the rate).
    pub abandoned: i64,
    /// Less than 30 minutes since the last activity.
    pub pending: i64,
    /// deflected / (deflected + submitted); null when neither happened.
    pub rate: Option<f64>,
}

impl From<reports::DeflectionStats> for DeflectionView {
    fn from(s: reports::DeflectionStats) -> Self {
        Self {
            start: s.start,
            attempts: s.attempts,
            deflected: s.deflected,
            submitted: s.submitted,
            abandoned: s.abandoned,
            pending: s.pending,
            rate: s.rate,
        }
    }
}

/// The deflection report.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbDeflectionReport)]
pub struct DeflectionReport {
    /// The range's first instant.
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    /// The range's end (excluded).
    #[schema(value_type = String, format = DateTime)]
    pub to: Timestamp,
    /// `day` or `week`.
    pub period: String,
    /// Every period of the range, oldest first.
    pub periods: Vec<DeflectionView>,
    /// The whole range.
    pub total: DeflectionView,
}

/// Parses a report's period (`day`, `week`).
pub fn period(raw: Option<&str>) -> Result<Period, ApiError> {
    match raw.map(str::trim) {
        None | Some("" | "day") => Ok(Period::Day),
        Some("week") => Ok(Period::Week),
        Some(_) => Err(ApiError::field("period", "must be day or week")),
    }
}

/// Deflection attempts, deflected, submitted and abandoned per day or week (supervisors
/// and admins).
#[utoipa::path(get, path = "/api/v1/kb/reports/deflection", tag = "kb",
    params(DeflectionParams),
    responses((status = 200, body = DeflectionReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn deflection_report(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(p): ApiQuery<DeflectionParams>,
) -> ApiResult<Json<DeflectionReport>> {
    require(&viewer, Permission::ViewKbReports)?;
    let now = st.now();
    let (from, to) = range(p.from.as_deref(), p.to.as_deref(), now)?;
    let per = period(p.period.as_deref())?;
    let as_of = match p.as_of.as_deref() {
        Some(a) if !a.trim().is_empty() => instant("as_of", a, false)?,
        _ => now,
    };
    let (periods, total) = st
        .db
        .read(op!(c => reports::deflection(c, from, to, per, as_of).await))
        .await?;
    Ok(Json(DeflectionReport {
        from,
        to,
        period: match per {
            Period::Day => "day",
            Period::Week => "week",
        }
        .into(),
        periods: periods.into_iter().map(Into::into).collect(),
        total: total.into(),
    }))
}

/// Searches without a confident answer, grouped by what was asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbUnansweredGap)]
pub struct UnansweredView {
    /// The group: lower-cased words without stop words or plural `s`, sorted.
    pub key: String,
    /// The most frequent spelling.
    pub query: String,
    /// How many different people asked (signed-in customers, and visitors by their
    /// cookie; agents and clients without the cookie count for no one): groups are
    /// ranked by it.
    pub people: i64,
    /// How many searches (words a person typed on the way to a longer search within ten
    /// minutes are left out).
    pub searches: i64,
    /// The newest.
    #[schema(value_type = String, format = DateTime)]
    pub last_at: Timestamp,
}

/// The best agent answer among the tickets that followed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbGapAnswer)]
pub struct AnswerView {
    /// The ticket.
    pub ticket_id: i64,
    /// Its number.
    pub ticket_number: i64,
    /// The agent's public reply.
    pub message_id: i64,
    /// Its text.
    pub body: String,
    /// Whether that ticket is solved or closed.
    pub solved: bool,
}

/// Searches followed within the hour by a ticket from the same customer or visitor.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbFollowedGap)]
pub struct FollowedView {
    /// The group (as for unanswered searches).
    pub key: String,
    /// The most frequent spelling.
    pub query: String,
    /// How many different people searched and then wrote (ranked by).
    pub people: i64,
    /// How many searches (as for unanswered searches).
    pub searches: i64,
    /// The tickets that followed (newest first, at most 20).
    pub ticket_ids: Vec<i64>,
    /// The answer to start an article from (`POST /api/v1/kb/reports/gaps/draft`).
    pub answer: Option<AnswerView>,
}

/// The content-gap report.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbGapsReport)]
pub struct GapsReport {
    /// The range's first instant.
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    /// The range's end (excluded).
    #[schema(value_type = String, format = DateTime)]
    pub to: Timestamp,
    /// Searches with no confident result, the groups most people asked first (at most
    /// 100 groups).
    pub unanswered: Vec<UnansweredView>,
    /// Searches followed by a ticket within the hour, the groups most people asked first.
    pub followed: Vec<FollowedView>,
}

/// Content gaps: what people searched for without a good answer, and what they searched
/// for before writing to support, with the agents' answers (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/kb/reports/gaps", tag = "kb",
    params(RangeParams),
    responses((status = 200, body = GapsReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn gaps_report(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> ApiResult<Json<GapsReport>> {
    require(&viewer, Permission::ViewKbReports)?;
    let (from, to) = range(p.from.as_deref(), p.to.as_deref(), st.now())?;
    let (unanswered, followed) = st
        .db
        .read(op!(c => {
            let u = reports::unanswered(c, from, to).await?;
            let f = reports::followed(c, from, to).await?;
            Ok((u, f))
        }))
        .await?;
    Ok(Json(GapsReport {
        from,
        to,
        unanswered: unanswered
            .into_iter()
            .map(|g| UnansweredView {
                key: g.key,
                query: g.query,
                people: g.people,
                searches: g.searches,
                last_at: g.last_at,
            })
            .collect(),
        followed: followed
            .into_iter()
            .map(|g| FollowedView {
                key: g.key,
                query: g.query,
                people: g.people,
                searches: g.searches,
                ticket_ids: g.ticket_ids,
                answer: g.answer.map(|a| AnswerView {
                    ticket_id: a.ticket_id,
                    ticket_number: a.ticket_number,
                    message_id: a.message_id,
                    body: a.body,
                    solved: a.solved,
                }),
            })
            .collect(),
    }))
}

/// `POST /api/v1/kb/reports/gaps/draft`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = KbGapDraftRequest)]
pub struct DraftFromGapRequest {
    /// What was asked: the draft's title.
    pub query: String,
    /// An agent's public reply (a gap's `answer.message_id`): the draft's body.
    pub message_id: Option<i64>,
}

/// The draft started from a gap.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbGapDraft)]
pub struct DraftView {
    /// The new article.
    pub id: i64,
    /// Its slug.
    pub slug: String,
    /// Always `draft`.
    pub status: String,
    /// Where the workspace edits it.
    pub edit_url: String,
}

/// Starts a draft article from a content gap: the query as its title, the agent's answer
/// as its body (supervisors and admins). Never public until someone publishes it.
#[utoipa::path(post, path = "/api/v1/kb/reports/gaps/draft", tag = "kb",
    request_body = DraftFromGapRequest,
    responses((status = 201, body = DraftView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn draft_from_gap(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<DraftFromGapRequest>,
) -> ApiResult<(StatusCode, Json<DraftView>)> {
    require(&viewer, Permission::ViewKbReports)?;
    let now = st.now();
    let a = st
        .db
        .write(op!(c => {
            reports::draft_from_gap(c, &viewer, &req.query, req.message_id, now).await
        }))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(DraftView {
            edit_url: format!("/kb/articles/{}/edit", a.id),
            id: a.id,
            slug: a.slug,
            status: a.status.as_str().into(),
        }),
    ))
}
