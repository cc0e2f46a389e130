//! Files in a chat, over HTTP: the visitor sends one (`POST /api/v1/chat/files`,
//! multipart) and downloads the conversation's files (`GET /api/v1/chat/files/{id}`),
//! both with the conversation's token in `Authorization: Bearer rchat_…` — never in a
//! URL. What a file is comes from its bytes ([`rapport_domain::chat_file`]); every file is
//! served as a download (`application/octet-stream`, `attachment`, `nosniff`).

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use rapport_domain::Timestamp;
use rapport_domain::chat::ClientId;
use rapport_domain::chat_file::{self, MAX_FILE_BYTES};
use rapport_store::chat::{self, Conversation};
use rapport_store::{StoreError, op};
use serde::Serialize;
use utoipa::ToSchema;

use super::check_origin;
use super::protocol::FileView;
use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// The largest upload request read (the file and the other fields).
pub const MAX_UPLOAD_BYTES: usize = MAX_FILE_BYTES + 64 * 1024;

/// The conversation whose token the request carries (`Authorization: Bearer rchat_…`);
/// a wrong token counts as a failed authentication for the address.
pub async fn visitor(
    st: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
) -> ApiResult<Conversation> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the conversation's token as Authorization: Bearer rchat_…",
        )
    };
    if st.auth_failures.is_blocked(ip) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many failed attempts; wait a minute",
        ));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(unauthorized)?
        .to_owned();
    match st
        .db
        .read(op!(c => chat::authenticate(c, &token).await))
        .await
    {
        Ok(conv) => Ok(conv),
        Err(StoreError::NotFound(_)) => {
            st.auth_failures.fail(ip);
            Err(unauthorized())
        }
        Err(e) => Err(e.into()),
    }
}

/// A stored file message.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChatFileSent)]
pub struct SentView {
    /// The message's id (it also arrives on the socket: show it once).
    pub id: i64,
    /// The browser's id for it.
    pub client_id: String,
    /// When it was stored.
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// The file as stored (its name and type as the server found them).
    #[schema(value_type = Object)]
    pub attachment: FileView,
}

/// Sends a file into the conversation (the token's holder only). Multipart fields:
/// `client_id` (like a message's; a resend stores nothing new) and `file` (at most 5 MiB;
/// an image, a PDF or plain text by its bytes). A plain route with its own body limit
/// (documented in docs/CHAT.md, not in the OpenAPI document).
pub async fn send_file(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    mut form: Multipart,
) -> ApiResult<(StatusCode, Json<SentView>)> {
    check_origin(&st, &headers).await?;
    let conv = visitor(&st, ip, &headers).await?;
    let too_big = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_big",
            "the file is larger than 5 MiB",
        )
    };
    // Counted before the body is read: a refused upload costs no more than its headers.
    if !st.chat.take_message(ip, conv.ticket_id) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many messages; wait a minute and send it again",
        ));
    }
    let (mut client_id, mut file) = (None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_big()),
            Err(_) => return Err(ApiError::field("file", "the form could not be read")),
        };
        match field.name() {
            Some("client_id") => {
                let text = field
                    .text()
                    .await
                    .map_err(|_| ApiError::field("client_id", "could not be read"))?;
                client_id = Some(ClientId::parse(&text)?);
            }
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        too_big()
                    } else {
                        ApiError::field("file", "could not be read")
                    }
                })?;
                file = Some((name, bytes));
            }
            _ => {}
        }
    }
    let client_id = client_id.ok_or_else(|| ApiError::field("client_id", "is required"))?;
    let (name, data) = file.ok_or_else(|| ApiError::field("file", "is required"))?;
    let checked = chat_file::classify(&name, &data)?;
    let (ticket, id2, now) = (conv.ticket_id, client_id.clone(), st.now());
    let (stored, files) = st
        .db
        .write(op!(c => {
            // The ticket row is locked first: parallel uploads count each other's bytes.
            let now_conv = chat::open(c, ticket).await?;
            let s = chat::files::post(c, &now_conv, &id2, checked, data.to_vec(), now).await?;
            let files = chat::messages::after(c, &now_conv, s.id - 1, 1).await?;
            Ok((s, files))
        }))
        .await?;
    let attachment = files
        .into_iter()
        .find(|m| m.id == stored.id)
        .and_then(|m| m.files.into_iter().next())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "this client_id was used for a message without a file; use a new one",
            )
        })?;
    Ok((
        StatusCode::CREATED,
        Json(SentView {
            id: stored.id,
            client_id: client_id.as_str().to_owned(),
            at: stored.at,
            attachment: attachment.into(),
        }),
    ))
}

/// Downloads a file of the conversation (the token's holder only; another conversation's
/// file or a note's is "not found"). Always a download, never shown inline.
#[utoipa::path(get, path = "/api/v1/chat/files/{id}", tag = "chat",
    params(("id" = i64, Path, description = "Attachment id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_file(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    check_origin(&st, &headers).await?;
    let conv = visitor(&st, ip, &headers).await?;
    let file = st
        .db
        .read(op!(c => chat::files::download(c, &conv, id).await))
        .await?;
    Ok(crate::api::attachments::download(file))
}
