//! Splitting a customer message off into a ticket of its own.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_http::AppState;

use crate::page::{require, write_then};
use crate::sessions::{CsrfForm, Me, NoFields};
use rapport_store::op;
use rapport_store::split;

/// Splits a customer message off into a new ticket.
pub async fn split(
    State(st): State<AppState>,
    me: Me,
    Path(message_id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        op!(c => split::message(c, &viewer, message_id, now).await),
        |t| Redirect::to(&format!("/tickets/{}", t.id)).into_response(),
    )
    .await
}
