//! Attachments: their metadata as the API returns it, and the files, served as downloads.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rapport_domain::{Permission, Principal};
use rapport_store::messages;
use rapport_store::op;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// What is known of an attachment without its bytes.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AttachmentMeta)]
pub struct AttachmentMetaView {
    /// Database id; download at `/api/v1/attachments/{id}`.
    pub id: i64,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// The Content-ID of an inline image in an email.
    pub content_id: Option<String>,
}

impl From<messages::AttachmentMeta> for AttachmentMetaView {
    fn from(a: messages::AttachmentMeta) -> Self {
        Self {
            id: a.id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            content_id: a.content_id,
        }
    }
}

/// Downloads an attachment. Served as a download, never rendered inline, so an uploaded
/// HTML file cannot run in the help desk's origin.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Attachment id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_attachment(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    require(&viewer, Permission::WorkTickets)?;
    let who = Principal::Agent(viewer);
    let file = st
        .db
        .read(op!(c => messages::visible_attachment(c, &who, id).await))
        .await?;
    Ok(download(file))
}

/// An attachment as a download, never rendered inline (an uploaded HTML file must not run
/// in the help desk's origin), with a file name that cannot break the header.
pub fn download(file: messages::AttachmentFile) -> Response {
    let name: String = file
        .meta
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        file.data,
    )
        .into_response()
}
