//! Moods: a customer's trend over their history (`GET /api/v1/customers/{id}/mood`). Each
//! customer message carries its own mood in the messages API (`sentiment`).

use axum::Json;
use axum::extract::State;
use rapport_domain::sentiment::trend::Trend;
use rapport_domain::{Permission, Principal, Timestamp};
use rapport_store::{customers, op, sentiment};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// The mood of a customer's message.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct SentimentView {
    /// −1 (most negative) … 1 (most positive).
    #[schema(example = -0.62)]
    pub score: f64,
    /// `negative`, `neutral` or `positive`.
    #[schema(example = "negative")]
    pub label: &'static str,
    /// Whether the customer reads as upset (an input to priority and to the bot's
    /// handoff).
    pub upset: bool,
}

impl From<rapport_domain::sentiment::Sentiment> for SentimentView {
    fn from(s: rapport_domain::sentiment::Sentiment) -> Self {
        Self {
            score: s.score,
            label: s.label.as_str(),
            upset: s.upset(),
        }
    }
}

/// The mood of one of the customer's messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MoodPoint {
    /// The message.
    pub message_id: i64,
    /// Its ticket.
    pub ticket_id: i64,
    /// When it came.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Its mood.
    pub sentiment: SentimentView,
}

/// A customer's mood over their latest messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MoodTrend {
    /// The customer.
    pub customer_id: i64,
    /// How many messages it is read from (their latest 50 at most).
    pub messages: usize,
    /// Of those, how many read as upset.
    pub upset: usize,
    /// The mean score of them all (`null` without any).
    pub average: Option<f64>,
    /// The mean of the latest five.
    pub recent: Option<f64>,
    /// The mean of those before the latest five.
    pub earlier: Option<f64>,
    /// `improving`, `steady`, `worsening`, or `unknown` (six messages or more are needed).
    #[schema(example = "worsening")]
    pub direction: &'static str,
    /// The messages' moods, oldest first.
    pub points: Vec<MoodPoint>,
}

/// A customer's mood over their latest messages, on the tickets the caller may see.
#[utoipa::path(get, path = "/api/v1/customers/{id}/mood", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = MoodTrend), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn customer_mood(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<MoodTrend>> {
    require(&viewer, Permission::ReadCustomers)?;
    let who = Principal::Agent(viewer);
    let points = st
        .db
        .read(op!(c => {
            customers::get(c, id).await?;
            sentiment::of_customer(c, &who, id).await
        }))
        .await?;
    let scores: Vec<f64> = points.iter().map(|p| p.sentiment.score).collect();
    let trend = Trend::of(&scores);
    Ok(Json(MoodTrend {
        customer_id: id,
        messages: points.len(),
        upset: points.iter().filter(|p| p.sentiment.upset()).count(),
        average: trend.average,
        recent: trend.recent,
        earlier: trend.earlier,
        direction: trend.direction.as_str(),
        points: points
            .into_iter()
            .map(|p| MoodPoint {
                message_id: p.message_id,
                ticket_id: p.ticket_id,
                at: p.at,
                sentiment: p.sentiment.into(),
            })
            .collect(),
    }))
}
