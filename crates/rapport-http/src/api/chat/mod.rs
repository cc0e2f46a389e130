//! Live chat's API: a visitor starts a conversation (`POST /api/v1/chat/conversations`,
//! public, rate-limited per client address) and talks over the socket
//! (`GET /api/v1/chat/ws`, [`ws`]); admins set the verified-identity secret and the
//! sites allowed to embed the widget (`/api/v1/chat/settings`). Files travel by
//! [`files`]; a verified site user's earlier conversations by [`history`]. Every public
//! endpoint checks the request's `Origin` against that list (and answers the widget's
//! CORS). Agents set their chat status and limit and transfer chats in [`agents`]; the
//! bot's turn in a chat and the handoff are [`assistant`]'s.

pub mod agents;
pub mod assistant;
pub mod files;
pub mod history;
pub mod hub;
pub mod protocol;
pub mod ws;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use rapport_domain::chat::{AllowedOrigins, ClientId, ExternalId, message_body};
use rapport_domain::{CustomerName, EmailAddress, Permission};
use rapport_store::chat::{self, settings as chat_settings};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use hub::ChatHub;

/// Refuses a request whose `Origin` is not among the allowed ones (when the admin listed
/// any).
pub async fn check_origin(st: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let allowed = st
        .db
        .read(op!(c => chat_settings::allowed_origins(c).await))
        .await?;
    if allowed.allows(origin.as_deref()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "this site may not embed the chat",
        ))
    }
}

/// A signed-in site user's identity: the site's id for them and its HMAC-SHA256 (hex)
/// under the secret an admin set.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ChatIdentity)]
pub struct IdentityRequest {
    /// The site's id for its user.
    pub customer_id: String,
    /// Hex HMAC-SHA256 of `customer_id` under the chat's identity secret.
    pub signature: String,
}

/// What a visitor gives to start a conversation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StartChatRequest {
    /// Their name.
    #[serde(default)]
    pub name: Option<String>,
    /// Their address (to go on by email or get a transcript).
    #[serde(default)]
    pub email: Option<String>,
    /// A signed-in site user's verified identity.
    #[serde(default)]
    pub identity: Option<IdentityRequest>,
    /// The first message (at most 4,096 bytes).
    pub body: String,
    /// The browser's id for the first message (a UUID), so a resend stores nothing new.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// A started conversation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatStarted)]
pub struct StartedView {
    /// The conversation (its ticket's id).
    pub conversation_id: i64,
    /// The visitor's token for the socket: keep it (it is shown once) and never share it.
    pub token: String,
    /// The first message's id.
    pub message_id: i64,
    /// Whether an agent is online now.
    pub agents_online: bool,
    /// When no agent is online: how long a first answer usually takes, honestly.
    pub expected_reply: Option<String>,
}

/// Starts a conversation (public; 10 per 10 minutes per client address).
#[utoipa::path(post, path = "/api/v1/chat/conversations", tag = "chat",
    request_body = StartChatRequest,
    responses((status = 201, body = StartedView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn start_conversation(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    JsonBody(req): JsonBody<StartChatRequest>,
) -> ApiResult<(StatusCode, Json<StartedView>)> {
    check_origin(&st, &headers).await?;
    let name = match req.name.as_deref() {
        Some(n) => CustomerName::parse(n)?,
        None => None,
    };
    let email = req
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(EmailAddress::parse)
        .transpose()?;
    let body = message_body(&req.body)?;
    let first = body.as_str().to_owned();
    let client_id = req.client_id.as_deref().map(ClientId::parse).transpose()?;
    let identity = match &req.identity {
        Some(i) => Some((ExternalId::parse(&i.customer_id)?, i.signature.clone())),
        None => None,
    };
    let first_client_id = client_id.as_ref().map(|c| c.as_str().to_owned());
    if !ChatHub::take(&st.chat.starts, ip) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many conversations started from this address; wait a few minutes",
        ));
    }
    // The same start sent again because its answer was lost (a dropped network): the same
    // conversation with a new token, never a second one (counted like a start).
    if let Some(again) = restart(&st, ip, client_id.as_ref(), &body).await? {
        return Ok((StatusCode::CREATED, Json(again)));
    }
    // With the bot off, the chat goes to people at once (in the start's own write): to
    // the team of the detected category, and to its freest online agent under their limit.
    let bot_on = st
        .db
        .read(op!(c => chat_settings::bot_enabled(c).await))
        .await?;
    let route = if bot_on {
        None
    } else {
        Some(assistant::route(&st, &first).await?)
    };
    let now = st.now();
    let sealer = st.sealer.clone();
    let (started, online, expected) = st
        .db
        .write(op!(c => {
            let identity = match identity {
                Some((id, sig)) => {
                    chat_settings::verify_identity(c, &sealer, &id, &sig).await?;
                    Some(id)
                }
                None => None,
            };
            let new = chat::NewChat { name, email, identity, body, client_id };
            let started = chat::start(c, new, now).await?;
            if let Some((team, category)) = &route {
                let t = started.conversation.ticket_id;
                rapport_store::chat::handoff::hand_over(c, t, *team, category.as_deref(), "the assistant bot is off", now)
                    .await?;
            }
            let online = chat::agents_online(c, now).await?;
            let expected = if online {
                None
            } else {
                let t = started.conversation.ticket_id;
                Some(rapport_store::notify::expectation(c, t, now).await?.sentence())
            };
            Ok((started, online, expected))
        }))
        .await?;
    // The bot answers the first message too (the socket, once connected, resumes it). A
    // failure leaves the visitor's message stored for agents: never an error here.
    let ticket = started.conversation.ticket_id;
    if let Some(cid) = &first_client_id {
        st.chat.started(ip, cid, ticket);
    }
    if let Err(e) = assistant::answer(&st, ticket, started.message_id, &first).await {
        tracing::warn!(error = ?e, ticket_id = ticket, "chat: the bot could not answer");
    }
    Ok((
        StatusCode::CREATED,
        Json(StartedView {
            conversation_id: started.conversation.ticket_id,
            token: started.token,
            message_id: started.message_id,
            agents_online: online,
            expected_reply: expected,
        }),
    ))
}

/// A start this client address sent in the last ten minutes with the same first message
/// (`client_id` and text): that conversation again, with a new token (on this node).
async fn restart(
    st: &AppState,
    ip: std::net::IpAddr,
    client_id: Option<&ClientId>,
    body: &rapport_domain::Body,
) -> ApiResult<Option<StartedView>> {
    let Some(client_id) = client_id else {
        return Ok(None);
    };
    let Some(ticket) = st.chat.started_before(ip, client_id.as_str()) else {
        return Ok(None);
    };
    let (client_id, body, now) = (client_id.clone(), body.clone(), st.now());
    let again = st
        .db
        .write(op!(c => {
            let Some(s) = chat::restart(c, ticket, &client_id, &body).await? else {
                return Ok(None);
            };
            let online = chat::agents_online(c, now).await?;
            let expected = if online {
                None
            } else {
                Some(rapport_store::notify::expectation(c, ticket, now).await?.sentence())
            };
            Ok(Some(StartedView {
                conversation_id: s.conversation.ticket_id,
                token: s.token,
                message_id: s.message_id,
                agents_online: online,
                expected_reply: expected,
            }))
        }))
        .await?;
    Ok(again)
}

/// The chat's settings (the secret is never read out).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatSettings)]
pub struct SettingsView {
    /// Whether a verified-identity secret is set.
    pub identity_secret_set: bool,
    /// Origins allowed to embed the widget (empty: any).
    pub allowed_origins: Vec<String>,
    /// Whether agents see what visitors type before they send it (the widget says so).
    pub typing_preview: bool,
    /// Whether the assistant bot answers chats nobody has taken over.
    pub bot_enabled: bool,
}

impl From<chat_settings::ChatSettings> for SettingsView {
    fn from(s: chat_settings::ChatSettings) -> Self {
        Self {
            identity_secret_set: s.identity_secret_set,
            allowed_origins: s.allowed_origins.as_slice().to_vec(),
            typing_preview: s.typing_preview,
            bot_enabled: s.bot_enabled,
        }
    }
}

/// A change to the chat's settings; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ChatSettingsRequest)]
pub struct SettingsRequest {
    /// The secret sites sign their users' ids with (32–256 characters); null removes it.
    #[serde(default, deserialize_with = "crate::api::tickets::double")]
    #[schema(value_type = Option<String>)]
    pub identity_secret: Option<Option<String>>,
    /// Origins allowed to embed the widget (`https://shop.example.com`); empty: any.
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
    /// Agents see what visitors type before they send it (default off).
    #[serde(default)]
    pub typing_preview: Option<bool>,
    /// Turn the assistant bot on or off (default on).
    #[serde(default)]
    pub bot_enabled: Option<bool>,
}

/// The chat's settings (admins).
#[utoipa::path(get, path = "/api/v1/chat/settings", tag = "chat",
    responses((status = 200, body = SettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<SettingsView>> {
    require(&viewer, Permission::ManageChat)?;
    let s = st
        .db
        .read(op!(c => chat_settings::get(c, &viewer).await))
        .await?;
    Ok(Json(s.into()))
}

/// Changes the chat's settings (admins).
#[utoipa::path(put, path = "/api/v1/chat/settings", tag = "chat",
    request_body = SettingsRequest,
    responses((status = 200, body = SettingsView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_settings(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<SettingsRequest>,
) -> ApiResult<Json<SettingsView>> {
    require(&viewer, Permission::ManageChat)?;
    let change = chat_settings::SettingsChange {
        identity_secret: req.identity_secret,
        allowed_origins: req
            .allowed_origins
            .as_deref()
            .map(AllowedOrigins::parse)
            .transpose()?,
        typing_preview: req.typing_preview,
        bot_enabled: req.bot_enabled,
    };
    let sealer = st.sealer.clone();
    let s = st
        .db
        .write(op!(c => chat_settings::set(c, &viewer, &sealer, change).await))
        .await?;
    Ok(Json(s.into()))
}

/// The paths a page on another origin (the widget) may call.
pub fn is_widget_path(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/chat/conversations" | "/api/v1/chat/history" | "/api/v1/chat/files"
    ) || path
        .strip_prefix("/api/v1/chat/files/")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// The widget runs on the customer's site, another origin: browsers may call the chat's
/// public paths ([`is_widget_path`]: the start, a verified user's history, files) from any
/// page — no cookies, no credentials (a file request carries the conversation's token in
/// `Authorization`); the handlers themselves refuse origins the admin did not list.
/// Every other path of the API stays closed to other origins.
pub fn cors() -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|_, parts| {
            is_widget_path(parts.uri.path())
        }))
        .allow_methods([axum::http::Method::POST, axum::http::Method::GET])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(std::time::Duration::from_secs(600))
}
