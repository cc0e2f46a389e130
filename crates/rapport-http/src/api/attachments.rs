//! Attachments, served as downloads.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rapport_domain::{Permission, Principal};
use rapport_store::messages;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

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
        .read(move |c| Box::pin(async move { messages::visible_attachment(c, &who, id).await }))
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
