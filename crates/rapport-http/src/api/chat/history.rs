//! A verified site user's earlier conversations (`POST /api/v1/chat/history`), for the
//! widget to show. Readable only with a valid signature of the site's user id (the same
//! `identity` as the start); the signature goes in the body, never in a URL.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use rapport_domain::Timestamp;
use rapport_domain::chat::ExternalId;
use rapport_store::chat::{history, settings as chat_settings};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::hub::ChatHub;
use super::protocol::FileView;
use super::{IdentityRequest, check_origin};
use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// Whose history: a signed-in site user's verified identity.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ChatHistoryRequest)]
pub struct HistoryRequest {
    /// The site's id for its user and its signature.
    pub identity: IdentityRequest,
}

/// A message of an earlier conversation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatHistoryMessage)]
pub struct HistoryMessage {
    /// Message id.
    pub id: i64,
    /// `agent`, `visitor` or `bot`.
    pub author: &'static str,
    /// The agent's name (empty for the visitor).
    pub name: String,
    /// Plain text (show it as text).
    pub body: String,
    /// When it was written.
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// Its files' names (the files themselves only with that conversation's token).
    pub files: Vec<String>,
}

/// An earlier conversation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatHistoryConversation)]
pub struct HistoryConversation {
    /// The conversation.
    pub conversation_id: i64,
    /// Its subject.
    pub subject: String,
    /// When it started.
    #[schema(value_type = String)]
    pub started_at: Timestamp,
    /// Its public messages, oldest first (at most 100).
    pub messages: Vec<HistoryMessage>,
}

/// The earlier conversations, newest first (at most 20).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatHistory)]
pub struct HistoryView {
    /// The conversations.
    pub conversations: Vec<HistoryConversation>,
}

/// A verified site user's earlier conversations (public; the signature is the proof;
/// 30 a minute per client address).
#[utoipa::path(post, path = "/api/v1/chat/history", tag = "chat",
    request_body = HistoryRequest,
    responses((status = 200, body = HistoryView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn history(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    JsonBody(req): JsonBody<HistoryRequest>,
) -> ApiResult<Json<HistoryView>> {
    check_origin(&st, &headers).await?;
    let id = ExternalId::parse(&req.identity.customer_id)?;
    if !ChatHub::take(&st.chat.histories, ip) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests from this address; wait a minute",
        ));
    }
    let (sealer, sig) = (st.sealer.clone(), req.identity.signature);
    let list = st
        .db
        .read(op!(c => {
            chat_settings::verify_identity(c, &sealer, &id, &sig).await?;
            history::earlier(c, &id).await
        }))
        .await?;
    let conversations = list
        .into_iter()
        .map(|e| HistoryConversation {
            conversation_id: e.conversation_id,
            subject: e.subject,
            started_at: e.started_at,
            messages: e
                .messages
                .into_iter()
                .map(|m| HistoryMessage {
                    id: m.id,
                    author: m.author,
                    name: m.name,
                    body: m.body,
                    at: m.at,
                    files: m
                        .files
                        .into_iter()
                        .map(|f| FileView::from(f).filename)
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Ok(Json(HistoryView { conversations }))
}
