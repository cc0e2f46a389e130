//! The customer card: `GET /api/v1/customers/{id}/card` — lifetime value, their CSAT,
//! CES and NPS history, their mood, and the churn-risk signal explained in words.

use axum::Json;
use axum::extract::State;
use rapport_domain::sentiment::trend::Trend;
use rapport_domain::survey::{ces_score, csat_score, nps_score};
use rapport_domain::{Permission, Principal, Timestamp};
use rapport_store::crm::card::{self, Rating, Value};
use rapport_store::{customers, op, sentiment};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::commerce::money_text;
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// Lifetime value in one currency.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LifetimeValue)]
pub struct ValueView {
    /// ISO 4217 code.
    pub currency: String,
    /// What their orders came to (cancelled and refunded ones left out), decimal text.
    pub total: String,
    /// How many orders.
    pub orders: i64,
    /// Their first order.
    #[schema(value_type = String, format = DateTime)]
    pub first_order_at: Timestamp,
    /// Their latest order.
    #[schema(value_type = String, format = DateTime)]
    pub last_order_at: Timestamp,
}

impl From<Value> for ValueView {
    fn from(v: Value) -> Self {
        Self {
            total: money_text(v.total, &v.currency),
            currency: v.currency,
            orders: v.orders,
            first_order_at: v.first_at,
            last_order_at: v.last_at,
        }
    }
}

/// One survey answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CardRating)]
pub struct RatingView {
    /// The survey.
    pub survey_id: i64,
    /// `ticket` or `nps`.
    pub kind: String,
    /// The ticket it was about.
    pub ticket_id: Option<i64>,
    /// CSAT 1–5.
    pub csat: Option<i64>,
    /// CES 1–7 (7 easiest).
    pub ces: Option<i64>,
    /// NPS 0–10.
    pub nps: Option<i64>,
    /// When they answered.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

impl From<Rating> for RatingView {
    fn from(r: Rating) -> Self {
        Self {
            survey_id: r.survey_id,
            kind: r.kind,
            ticket_id: r.ticket_id,
            csat: r.csat,
            ces: r.ces,
            nps: r.nps,
            at: r.at,
        }
    }
}

/// Their scores over the answers shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CardScores)]
pub struct ScoresView {
    /// Share of CSAT answers of 4 or 5, 0–1.
    pub csat: Option<f64>,
    /// Mean CES, 1–7.
    pub ces: Option<f64>,
    /// NPS, −100…100 (one customer: 100, 0 or −100 for their latest answers).
    pub nps: Option<f64>,
}

/// Their mood over their latest messages.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CardMood)]
pub struct MoodView {
    /// Messages read.
    pub messages: usize,
    /// Of those, upset.
    pub upset: usize,
    /// Mean score, −1…1.
    pub average: Option<f64>,
    /// `improving`, `steady`, `worsening` or `unknown`.
    pub direction: &'static str,
}

/// The churn-risk signal.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChurnRisk)]
pub struct ChurnView {
    /// `low`, `medium` or `high`.
    #[schema(value_type = String, example = "high")]
    pub level: rapport_domain::crm::RiskLevel,
    /// The reasons' summed weight (0: no sign).
    pub score: u32,
    /// Each reason in words, heaviest first.
    pub reasons: Vec<String>,
    /// The reasons as one sentence ("3 contacts in 7 days, last CSAT 2, no order in 90
    /// days").
    pub explained: String,
}

/// The customer card.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CustomerCard)]
pub struct CardView {
    /// The customer.
    pub customer_id: i64,
    /// Their tier, if any.
    pub tier: Option<String>,
    /// Lifetime value per currency, largest first.
    pub lifetime_value: Vec<ValueView>,
    /// Their latest survey answers (up to 20), newest first.
    pub ratings: Vec<RatingView>,
    /// Scores over those answers.
    pub scores: ScoresView,
    /// Their mood (messages on tickets the caller may see).
    pub mood: MoodView,
    /// How likely they are to leave, and why.
    pub churn_risk: ChurnView,
}

/// The customer card: value, ratings, mood and churn risk.
#[utoipa::path(get, path = "/api/v1/customers/{id}/card", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CardView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn customer_card(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CardView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let now = st.now();
    let who = Principal::Agent(viewer.clone());
    let (customer, value, ratings, mood, signals) = st
        .db
        .read(op!(c => {
            let customer = customers::get(c, id).await?;
            let value = card::value(c, id).await?;
            let ratings = card::ratings(c, &viewer, id, 20).await?;
            let mood = sentiment::of_customer(c, &who, id).await?;
            let signals = card::signals(c, &viewer, id, now).await?;
            Ok((customer, value, ratings, mood, signals))
        }))
        .await?;
    let pick = |f: fn(&Rating) -> Option<i64>| ratings.iter().filter_map(f).collect::<Vec<_>>();
    let scores = ScoresView {
        csat: csat_score(&pick(|r| r.csat)),
        ces: ces_score(&pick(|r| r.ces)),
        nps: nps_score(&pick(|r| r.nps)),
    };
    let moods: Vec<f64> = mood.iter().map(|p| p.sentiment.score).collect();
    let trend = Trend::of(&moods);
    let risk = signals.risk();
    Ok(Json(CardView {
        customer_id: id,
        tier: customer.tier,
        lifetime_value: value.into_iter().map(Into::into).collect(),
        ratings: ratings.into_iter().map(Into::into).collect(),
        scores,
        mood: MoodView {
            messages: mood.len(),
            upset: mood.iter().filter(|p| p.sentiment.upset()).count(),
            average: trend.average,
            direction: trend.direction.as_str(),
        },
        churn_risk: ChurnView {
            level: risk.level,
            score: risk.score,
            explained: risk.explained(),
            reasons: risk.reasons,
        },
    }))
}
