//! Reports through the API: `GET /api/v1/reports/summary` — the figures of a period, each
//! with the count it is computed from, beside the period before it — and
//! `GET /api/v1/reports/dashboard`, the breakdowns the workspace's dashboard draws.

pub mod dashboard;
pub mod themes;

use axum::Json;
use axum::extract::State;
use rapport_domain::reports::{Period, Spread};
use rapport_domain::survey::{NpsGroup, ces_score, csat_score, nps_score};
use rapport_domain::{Category, Channel, FieldError, Permission};
use rapport_store::op;
use rapport_store::reports::{self, Filter, Summary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// A report's period and filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The first day, `YYYY-MM-DD` (UTC).
    pub from: String,
    /// The last day, included (a period covers at most 366 days, both ends counted).
    pub to: String,
    /// Only this team's tickets.
    pub team_id: Option<i64>,
    /// Only this channel's.
    pub channel: Option<String>,
    /// Only this category's (slug).
    pub category: Option<String>,
    /// Only this agent's (the ticket's owner; for surveys, the agent who had the ticket).
    pub agent_id: Option<i64>,
}

impl ReportParams {
    /// The period and the filters, checked; errors name the field.
    pub fn parse(&self) -> Result<(Period, Filter), FieldError> {
        let period = Period::parse(&self.from, &self.to)?;
        let channel = self
            .channel
            .as_deref()
            .map(|c| Channel::parse(c).map_err(|e| FieldError::new("channel", e.message)))
            .transpose()?;
        let category = self
            .category
            .as_deref()
            .map(|c| {
                Category::parse(c)
                    .map(|c| c.as_str().to_owned())
                    .map_err(|e| FieldError::new("category", e.message))
            })
            .transpose()?;
        Ok((
            period,
            Filter {
                team_id: self.team_id,
                channel,
                category,
                agent_id: self.agent_id,
            },
        ))
    }
}

/// A figure and the count it is computed from (`value` is null when the count is 0).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figure {
    /// The figure.
    pub value: Option<f64>,
    /// How many it is computed from.
    pub count: i64,
}

/// A duration's median and 90th percentile (nearest rank), in seconds of business hours
/// where the ticket's SLA calendar applies, to three significant figures (exact below
/// 1,000 s).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimeFigure {
    /// The median, in seconds (null without any).
    pub value: Option<i64>,
    /// The median, in seconds.
    pub median_seconds: Option<i64>,
    /// The 90th percentile, in seconds.
    pub p90_seconds: Option<i64>,
    /// How many tickets.
    pub count: i64,
}

impl From<Option<Spread>> for TimeFigure {
    fn from(s: Option<Spread>) -> Self {
        Self {
            value: s.map(|s| s.median),
            median_seconds: s.map(|s| s.median),
            p90_seconds: s.map(|s| s.p90),
            count: s.map_or(0, |s| s.count as i64),
        }
    }
}

/// A survey figure with its response rate.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SurveyFigure {
    /// CSAT: the percentage of ratings of 4 or 5; CES: the mean (1–7); NPS: promoters'
    /// percentage minus detractors' (−100…100).
    pub value: Option<f64>,
    /// How many answers.
    pub count: i64,
    /// How many surveys were offered in the period.
    pub sent: i64,
    /// Of the surveys offered in the period, the percentage answered by now (null when
    /// none was offered).
    pub response_rate: Option<f64>,
}

/// NPS with its groups.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NpsFigure {
    /// Promoters' percentage minus detractors' (−100…100).
    pub value: Option<f64>,
    /// How many answers.
    pub count: i64,
    /// 9s and 10s.
    pub promoters: i64,
    /// 7s and 8s.
    pub passives: i64,
    /// 0 to 6.
    pub detractors: i64,
    /// How many NPS surveys were offered in the period.
    pub sent: i64,
    /// Of the NPS surveys offered in the period, the percentage answered by now.
    pub response_rate: Option<f64>,
}

/// The figures of a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    /// Tickets created.
    pub volume: Figure,
    /// First response time of the tickets created.
    pub first_response_time: TimeFigure,
    /// Resolution time of the tickets solved.
    pub resolution_time: TimeFigure,
    /// The percentage of the tickets created (with SLA clocks) that breached no target.
    pub sla_compliance: Figure,
    /// The percentage of the tickets solved with exactly one public reply.
    pub one_touch_resolution: Figure,
    /// Customer satisfaction.
    pub csat: SurveyFigure,
    /// Customer effort.
    pub ces: SurveyFigure,
    /// Net promoter score.
    pub nps: NpsFigure,
}

/// The figures of a period, with the period before it for trends.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportSummary {
    /// The first day.
    #[schema(example = "2026-11-01")]
    pub from: String,
    /// The last day.
    #[schema(example = "2026-11-30")]
    pub to: String,
    /// Tickets created.
    pub volume: Figure,
    /// First response time.
    pub first_response_time: TimeFigure,
    /// Resolution time.
    pub resolution_time: TimeFigure,
    /// SLA compliance.
    pub sla_compliance: Figure,
    /// One-touch resolution.
    pub one_touch_resolution: Figure,
    /// CSAT.
    pub csat: SurveyFigure,
    /// CES.
    pub ces: SurveyFigure,
    /// NPS.
    pub nps: NpsFigure,
    /// The same figures for the period of the same length just before.
    pub previous: Figures,
}

/// `part` of `whole` as a percentage to two places (`None` of nothing).
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 10_000.0 / whole as f64).round() / 100.0)
}

/// The summary's figures as the API shows them.
pub fn figures(s: Summary) -> Figures {
    let group = |g: NpsGroup| s.nps.iter().filter(|n| NpsGroup::of(**n) == g).count() as i64;
    Figures {
        volume: Figure {
            value: Some(s.volume as f64),
            count: s.volume,
        },
        first_response_time: s.first_response.into(),
        resolution_time: s.resolution.into(),
        sla_compliance: Figure {
            value: percent(s.sla.0, s.sla.1),
            count: s.sla.1,
        },
        one_touch_resolution: Figure {
            value: percent(s.one_touch.0, s.one_touch.1),
            count: s.one_touch.1,
        },
        csat: SurveyFigure {
            value: csat_score(&s.csat),
            count: s.csat.len() as i64,
            sent: s.ticket_surveys_sent,
            response_rate: percent(s.ticket_surveys_answered, s.ticket_surveys_sent),
        },
        ces: SurveyFigure {
            value: ces_score(&s.ces),
            count: s.ces.len() as i64,
            sent: s.ticket_surveys_sent,
            response_rate: percent(s.ticket_surveys_answered, s.ticket_surveys_sent),
        },
        nps: NpsFigure {
            value: nps_score(&s.nps),
            count: s.nps.len() as i64,
            promoters: group(NpsGroup::Promoter),
            passives: group(NpsGroup::Passive),
            detractors: group(NpsGroup::Detractor),
            sent: s.nps_sent,
            response_rate: percent(s.nps_answered, s.nps_sent),
        },
    }
}

/// The figures of a period: volume, first response and resolution times (median and
/// 90th percentile), SLA compliance, one-touch resolution, CSAT, CES and NPS — each with
/// the count it comes from — and the same for the period before.
#[utoipa::path(get, path = "/api/v1/reports/summary", tag = "reports",
    params(ReportParams),
    responses((status = 200, body = ReportSummary), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn summary(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> ApiResult<Json<ReportSummary>> {
    require(&viewer, Permission::ViewReports)?;
    let (period, filter) = q.parse()?;
    let now = st.now();
    let before = period.previous();
    reports::rollup::catch_up(&st.db).await?;
    let (this, prev) = st
        .db
        .read(op!(c => Ok((
            reports::summary(c, &period, &filter, now).await?,
            reports::summary(c, &before, &filter, now).await?,
        ))))
        .await?;
    let f = figures(this);
    Ok(Json(ReportSummary {
        from: period.from.to_string(),
        to: period.to.to_string(),
        volume: f.volume,
        first_response_time: f.first_response_time,
        resolution_time: f.resolution_time,
        sla_compliance: f.sla_compliance,
        one_touch_resolution: f.one_touch_resolution,
        csat: f.csat,
        ces: f.ces,
        nps: f.nps,
        previous: figures(prev),
    }))
}
