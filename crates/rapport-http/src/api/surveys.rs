//! Surveys through the API: a ticket's survey and its answer, a customer's opt-out (it
//! holds everywhere), and the settings. Customers answer on the survey's page
//! (`rapport-web`'s `surveys`), never here.

use axum::Json;
use axum::extract::State;
use rapport_domain::{Permission, Timestamp};
use rapport_store::{customers, op, surveys};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::sentiment::SentimentView;
use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// A survey and its answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SurveyView {
    /// Database id.
    pub id: i64,
    /// `ticket` (CSAT and CES after a solved ticket) or `nps`.
    #[schema(example = "ticket")]
    pub kind: &'static str,
    /// The ticket it asks about.
    pub ticket_id: Option<i64>,
    /// Who was asked.
    pub customer_id: i64,
    /// The agent who had the ticket when it was solved.
    pub agent_id: Option<i64>,
    /// Their team.
    pub team_id: Option<i64>,
    /// Where it was offered: `email` or `web` (the portal).
    pub channel: String,
    /// The language it spoke.
    pub lang: String,
    /// When it was offered.
    #[schema(value_type = String, format = DateTime)]
    pub sent_at: Timestamp,
    /// CSAT, 1–5.
    pub csat: Option<i64>,
    /// CES, 1–7.
    pub ces: Option<i64>,
    /// NPS, 0–10.
    pub nps: Option<i64>,
    /// `promoter`, `passive` or `detractor` (NPS only).
    pub nps_group: Option<&'static str>,
    /// The comment.
    pub comment: Option<String>,
    /// The comment's mood.
    pub comment_sentiment: Option<SentimentView>,
    /// When it was (last) answered.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub answered_at: Option<Timestamp>,
}

impl From<surveys::Survey> for SurveyView {
    fn from(s: surveys::Survey) -> Self {
        Self {
            id: s.id,
            kind: s.kind.as_str(),
            ticket_id: s.ticket_id,
            customer_id: s.customer_id,
            agent_id: s.agent_id,
            team_id: s.team_id,
            channel: s.channel,
            lang: s.lang,
            sent_at: s.sent_at,
            csat: s.csat,
            ces: s.ces,
            nps: s.nps,
            nps_group: s
                .nps
                .map(|n| rapport_domain::survey::NpsGroup::of(n).as_str()),
            comment: s.comment,
            comment_sentiment: s.comment_sentiment.map(Into::into),
            answered_at: s.answered_at,
        }
    }
}

/// The survey of a solved ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/survey", tag = "surveys",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = SurveyView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ticket_survey(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SurveyView>> {
    require(&viewer, Permission::WorkTickets)?;
    let who = rapport_domain::Principal::Agent(viewer);
    let s = st
        .db
        .read(op!(c => {
            rapport_store::tickets::get(c, &who, id).await?;
            surveys::for_ticket(c, id).await
        }))
        .await?;
    s.map(|s| Json(s.into()))
        .ok_or_else(|| ApiError::not_found("survey"))
}

/// Whether a customer gets surveys.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyOptOut {
    /// True when the customer asked for no surveys (by a survey's link or through an
    /// agent); no survey reaches them, by any channel.
    pub opt_out: bool,
}

/// Whether a customer opted out of surveys.
#[utoipa::path(get, path = "/api/v1/customers/{id}/surveys", tag = "surveys",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = SurveyOptOut), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_customer_surveys(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SurveyOptOut>> {
    require(&viewer, Permission::ReadCustomers)?;
    let opt_out = st
        .db
        .read(op!(c => surveys::opted_out(c, id).await))
        .await?;
    Ok(Json(SurveyOptOut { opt_out }))
}

/// Stops surveys to a customer (at their request; any agent), or allows them again (a
/// supervisor).
#[utoipa::path(put, path = "/api/v1/customers/{id}/surveys", tag = "surveys",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = SurveyOptOut,
    responses((status = 200, body = SurveyOptOut), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_customer_surveys(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<SurveyOptOut>,
) -> ApiResult<Json<SurveyOptOut>> {
    // Any agent may stop surveys at a customer's request; only a supervisor may start
    // them again.
    require(
        &viewer,
        if req.opt_out {
            Permission::WorkTickets
        } else {
            Permission::ManageSurveys
        },
    )?;
    let out = req.opt_out;
    st.db
        .write(op!(c => {
            customers::get(c, id).await?;
            surveys::set_opt_out(c, id, out).await
        }))
        .await?;
    Ok(Json(req))
}

/// Whether surveys go out, and how often NPS asks one customer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveySettings {
    /// CSAT and CES when a ticket is solved (by email for email tickets, in the portal
    /// for the portal's).
    pub after_solve: bool,
    /// NPS by email to active customers (off until switched on).
    pub nps: bool,
    /// Days between two NPS surveys to one customer, 30 to 730.
    #[schema(example = 90)]
    pub nps_interval_days: i64,
}

impl From<surveys::Settings> for SurveySettings {
    fn from(s: surveys::Settings) -> Self {
        Self {
            after_solve: s.after_solve,
            nps: s.nps,
            nps_interval_days: s.nps_interval_days,
        }
    }
}

/// The survey settings.
#[utoipa::path(get, path = "/api/v1/surveys/settings", tag = "surveys",
    responses((status = 200, body = SurveySettings), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_survey_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<SurveySettings>> {
    require(&viewer, Permission::ManageSurveys)?;
    let s = st.db.read(op!(c => surveys::settings(c).await)).await?;
    Ok(Json(s.into()))
}

/// Changes the survey settings.
#[utoipa::path(put, path = "/api/v1/surveys/settings", tag = "surveys",
    request_body = SurveySettings,
    responses((status = 200, body = SurveySettings), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_survey_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<SurveySettings>,
) -> ApiResult<Json<SurveySettings>> {
    require(&viewer, Permission::ManageSurveys)?;
    let s = surveys::Settings {
        after_solve: req.after_solve,
        nps: req.nps,
        nps_interval_days: req.nps_interval_days,
    };
    let s = st
        .db
        .write(op!(c => surveys::set_settings(c, s).await))
        .await?;
    Ok(Json(s.into()))
}
