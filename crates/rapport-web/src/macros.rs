//! Macros on the ticket page: applying one (adding them is in `admin::macros`).

use axum::extract::{Path, State};
use axum::response::Response;
use rapport_domain::Permission;
use rapport_http::AppState;
use serde::Deserialize;

use crate::page::{require, write_then};
use crate::sessions::{CsrfForm, Me};
use crate::tickets::to_ticket;
use rapport_store::macros;
use rapport_store::op;

/// The macro form.
#[derive(Deserialize)]
pub struct MacroForm {
    macro_id: i64,
}

/// Applies a macro to the ticket.
pub async fn apply_macro(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<MacroForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        op!(c => macros::apply(c, &viewer, id, f.macro_id, now).await),
        |_| to_ticket(id),
    )
    .await
}
