//! Attachments, downloaded from the ticket page.

use axum::extract::{Path, State};
use axum::response::Response;
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_store::messages;
use rapport_store::op;

use crate::page::{require, store_error};
use crate::sessions::Me;

/// Downloads an attachment (signed-in agents who may see its ticket).
pub async fn attachment(State(st): State<AppState>, me: Me, Path(id): Path<i64>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let who = me.principal();
    match st
        .db
        .read(op!(c => messages::visible_attachment(c, &who, id).await))
        .await
    {
        Ok(f) => rapport_http::api::attachments::download(f),
        Err(e) => store_error(e),
    }
}
