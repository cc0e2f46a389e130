//! The ticket classifier: its size and threshold (`GET`/`PUT /api/v1/classifier`), a
//! rebuild from its examples (`POST /api/v1/classifier/retrain`), and the verdict on a
//! ticket (the ticket JSON's `classification`).

use axum::Json;
use axum::extract::State;
use rapport_domain::{Permission, Timestamp};
use rapport_store::classify::{self, Classification, Report};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// The classifier's verdict on a ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TicketClassification)]
pub struct ClassificationView {
    /// The likeliest category.
    pub category: String,
    /// How sure the classifier is (0–1).
    pub confidence: f64,
    /// Whether it was applied (confidence at or over the threshold) or is only a
    /// suggestion, the ticket left uncategorised for triage.
    pub applied: bool,
}

impl From<Classification> for ClassificationView {
    fn from(c: Classification) -> Self {
        Self {
            category: c.category,
            confidence: c.confidence,
            applied: c.applied,
        }
    }
}

/// Examples of one category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryExamples {
    /// The category.
    pub category: String,
    /// Tickets an agent filed under it.
    pub examples: i64,
}

/// The classifier's size and settings.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Classifier)]
pub struct ClassifierView {
    /// Training examples per category.
    pub categories: Vec<CategoryExamples>,
    /// Distinct features (words, word pairs, character 3-grams) seen in training.
    pub vocabulary: i64,
    /// The confidence (0–1) a category needs to be applied.
    pub threshold: f64,
    /// When the counts were last rebuilt from the examples.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub retrained_at: Option<Timestamp>,
}

impl From<Report> for ClassifierView {
    fn from(r: Report) -> Self {
        Self {
            categories: r
                .examples
                .into_iter()
                .map(|(category, examples)| CategoryExamples { category, examples })
                .collect(),
            vocabulary: r.vocabulary,
            threshold: r.threshold_permille as f64 / 1000.0,
            retrained_at: r.retrained_at,
        }
    }
}

/// `PUT /api/v1/classifier`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifierRequest {
    /// The confidence (0–1) a category needs to be applied.
    pub threshold: f64,
}

/// The classifier's size and threshold.
#[utoipa::path(get, path = "/api/v1/classifier", tag = "classifier",
    responses((status = 200, body = ClassifierView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_classifier(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<ClassifierView>> {
    require(&viewer, Permission::WorkTickets)?;
    let r = st.db.read(op!(c => classify::report(c).await)).await?;
    Ok(Json(r.into()))
}

/// Sets the confidence a category needs to be applied (supervisors).
#[utoipa::path(put, path = "/api/v1/classifier", tag = "classifier",
    request_body = ClassifierRequest,
    responses((status = 200, body = ClassifierView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_classifier(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<ClassifierRequest>,
) -> ApiResult<Json<ClassifierView>> {
    require(&viewer, Permission::ManageCategories)?;
    let t = rapport_domain::classify::threshold(req.threshold)?;
    let r = st
        .db
        .write(op!(c => {
            classify::set_threshold(c, t).await?;
            classify::report(c).await
        }))
        .await?;
    Ok(Json(r.into()))
}

/// Rebuilds the counts from the examples now (it also happens once a day).
#[utoipa::path(post, path = "/api/v1/classifier/retrain", tag = "classifier",
    responses((status = 200, body = ClassifierView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn retrain(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<ClassifierView>> {
    require(&viewer, Permission::ManageCategories)?;
    let now = st.now();
    let r = st
        .db
        .write(op!(c => {
            classify::retrain(c, now).await?;
            classify::report(c).await
        }))
        .await?;
    Ok(Json(r.into()))
}
