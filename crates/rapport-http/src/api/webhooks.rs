//! Outbound webhooks (admins): `POST`/`GET /api/v1/webhooks`, `GET`/`PATCH`/`DELETE
//! /api/v1/webhooks/{id}`, and the delivery log `GET /api/v1/webhooks/{id}/deliveries`.
//! Deliveries are signed the Standard Webhooks way (see `rapport_jobs::webhooks`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::webhook::{WebhookEvent, WebhookSecret};
use rapport_domain::{Permission, Timestamp};
use rapport_store::op;
use rapport_store::webhooks::{self, Delivery, Webhook, WebhookPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// A webhook.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Webhook)]
pub struct WebhookView {
    /// Its id.
    pub id: i64,
    /// Where events are posted.
    pub url: String,
    /// The events it gets (`ticket.created`, `ticket.updated`, `message.created`,
    /// `note.created`, `ticket.merged`, `sla.warning`, `sla.breached`).
    pub events: Vec<String>,
    /// Off: nothing is sent.
    pub active: bool,
    /// Why Rapport turned it off (`410 Gone`, or failing for about three days).
    pub disabled_reason: Option<String>,
    /// Whether deliveries also carry a Stripe-style header, `rapport-signature:
    /// t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the whole
    /// secret string>` (one `v1` per secret during a rotation).
    pub stripe_signature: bool,
    /// The signing secret (`whsec_…`): only in the answer that created it, when Rapport
    /// made it; keep it, it is not shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id,
            url: w.url,
            events: w.events.iter().map(|e| e.as_str().to_owned()).collect(),
            active: w.active,
            disabled_reason: w.disabled_reason,
            stripe_signature: w.stripe_header,
            secret: None,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct DeliveryView {
    /// Its id.
    pub id: i64,
    /// The `webhook-id` header: the same for every attempt of one event.
    pub msg_id: String,
    /// The event.
    pub event_type: String,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// The start of its answer (2 KB at most).
    pub response: String,
    /// Why it failed.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            msg_id: d.msg_id,
            event_type: d.event_type,
            attempt: d.attempt,
            status_code: d.status_code,
            response: d.response,
            error: d.error,
            duration_ms: d.duration_ms,
            created_at: d.created_at,
        }
    }
}

/// `POST /api/v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// An http(s) address.
    pub url: String,
    /// The events to get.
    pub events: Vec<String>,
    /// `whsec_` and the base64 of 24 to 64 random bytes; absent: Rapport makes one and
    /// returns it once.
    pub secret: Option<String>,
    /// Also sign the Stripe way (`rapport-signature`), for receivers built like that.
    #[serde(default)]
    pub stripe_signature: bool,
}

/// `PATCH /api/v1/webhooks/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhookRequest {
    /// A new address.
    pub url: Option<String>,
    /// New events.
    pub events: Option<Vec<String>>,
    /// On or off.
    pub active: Option<bool>,
    /// A new secret; the old one keeps signing beside it for 24 hours.
    pub secret: Option<String>,
    /// The Stripe-style header on or off.
    pub stripe_signature: Option<bool>,
}

/// Checks a receiver's address: http or https, a host, no credentials, 2,000 characters at
/// most. (Where it resolves is checked at each delivery.)
pub fn check_url(raw: &str) -> Result<String, ApiError> {
    let bad = |m: &str| ApiError::field("url", m);
    let raw = raw.trim();
    if raw.len() > 2_000 {
        return Err(bad("at most 2,000 characters"));
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|_| bad("not an address such as https://example.com/hooks"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https addresses"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("the address has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "no user name or password in the address; sign with the secret",
        ));
    }
    Ok(url.to_string())
}

/// Checks the events a receiver asks for: 1 to 20 known names.
pub fn check_events(raw: &[String]) -> Result<Vec<WebhookEvent>, ApiError> {
    if raw.is_empty() || raw.len() > 20 {
        return Err(ApiError::field("events", "give 1 to 20 events"));
    }
    raw.iter()
        .map(|e| WebhookEvent::parse(e, "events").map_err(ApiError::from))
        .collect()
}

/// Adds a webhook (admins).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks",
    request_body = CreateWebhookRequest,
    responses((status = 201, body = WebhookView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_webhook(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    require(&viewer, Permission::ManageWebhooks)?;
    let url = check_url(&req.url)?;
    let events = check_events(&req.events)?;
    let (secret, made) = match &req.secret {
        Some(s) => (WebhookSecret::parse(s, "secret")?, false),
        None => (rapport_store::secrets::new_webhook_secret(), true),
    };
    let now = st.now();
    let sealer = st.sealer.clone();
    let by = viewer.user_id;
    let written = secret.written();
    let stripe = req.stripe_signature;
    let w = st
        .db
        .write(op!(c => {
            let w = webhooks::create(c, &sealer, &url, &events, &secret, by, now).await?;
            if !stripe {
                return Ok(w);
            }
            let on = WebhookPatch {
                stripe_header: Some(true),
                ..WebhookPatch::default()
            };
            webhooks::update(c, &sealer, w.id, on, now).await
        }))
        .await?;
    let mut view = WebhookView::from(w);
    if made {
        view.secret = Some(written);
    }
    Ok((StatusCode::CREATED, Json(view)))
}

/// Every webhook (admins).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<WebhookView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_webhooks(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<WebhookView>>> {
    require(&viewer, Permission::ManageWebhooks)?;
    let list = st.db.read(op!(c => webhooks::list(c).await)).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// One webhook (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = WebhookView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_webhook(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<WebhookView>> {
    require(&viewer, Permission::ManageWebhooks)?;
    let w = st.db.read(op!(c => webhooks::get(c, id).await)).await?;
    Ok(Json(w.into()))
}

/// Changes a webhook: its address, events, on/off (on again clears the reason it was
/// turned off), or its secret (the old one signs beside the new one for 24 hours).
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    request_body = PatchWebhookRequest,
    responses((status = 200, body = WebhookView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_webhook(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<PatchWebhookRequest>,
) -> ApiResult<Json<WebhookView>> {
    require(&viewer, Permission::ManageWebhooks)?;
    let patch = WebhookPatch {
        url: req.url.as_deref().map(check_url).transpose()?,
        events: req.events.as_deref().map(check_events).transpose()?,
        active: req.active,
        stripe_header: req.stripe_signature,
        secret: req
            .secret
            .as_deref()
            .map(|s| WebhookSecret::parse(s, "secret"))
            .transpose()?,
    };
    let now = st.now();
    let sealer = st.sealer.clone();
    let w = st
        .db
        .write(op!(c => webhooks::update(c, &sealer, id, patch, now).await))
        .await?;
    Ok(Json(w.into()))
}

/// Deletes a webhook and its delivery log (admins).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_webhook(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageWebhooks)?;
    st.db.write(op!(c => webhooks::delete(c, id).await)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's newest delivery attempts, with the receiver's answers (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = Vec<DeliveryView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_deliveries(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    require(&viewer, Permission::ManageWebhooks)?;
    let list = st
        .db
        .read(op!(c => webhooks::deliveries(c, id, 100).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Settings every webhook shares.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Let deliveries go to private, loopback and link-local addresses (a single-host
    /// setup whose receivers run beside Rapport). Off by default.
    pub allow_private: bool,
}

/// The settings every webhook shares (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/settings", tag = "webhooks",
    responses((status = 200, body = WebhookSettings), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_webhook_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<WebhookSettings>> {
    require(&viewer, Permission::ManageWebhooks)?;
    let allow_private = st
        .db
        .read(op!(c => rapport_store::settings::webhooks_allow_private(c).await))
        .await?;
    Ok(Json(WebhookSettings { allow_private }))
}

/// Changes the settings every webhook shares (admins).
#[utoipa::path(put, path = "/api/v1/webhooks/settings", tag = "webhooks",
    request_body = WebhookSettings,
    responses((status = 200, body = WebhookSettings), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_webhook_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<WebhookSettings>,
) -> ApiResult<Json<WebhookSettings>> {
    require(&viewer, Permission::ManageWebhooks)?;
    let on = req.allow_private;
    let allow_private = st
        .db
        .write(op!(c => {
            rapport_store::settings::set_webhooks_allow_private(c, on).await?;
            rapport_store::settings::webhooks_allow_private(c).await
        }))
        .await?;
    Ok(Json(WebhookSettings { allow_private }))
}
