//! Transfers in the workspace: the ticket page's "Transfer" form moves a ticket (a chat or
//! any other) to an agent or a team with a note the new owner reads at the top of the
//! ticket. The team and agent settings are `admin::routing`.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::{FieldError, Permission};
use rapport_http::AppState;
use rapport_store::routing::{self, TransferTo};
use rapport_store::{StoreError, op};
use serde::Deserialize;

use crate::page::{store_error, write_then};
use crate::sessions::{CsrfForm, Me};

/// The transfer form: `to` is `agent:<id>` or `team:<id>`.
#[derive(Deserialize)]
pub struct TransferForm {
    to: String,
    #[serde(default)]
    note: String,
}

/// Moves a ticket to another agent or team with a note (shown at the top of the ticket).
pub async fn transfer(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<TransferForm>,
) -> Response {
    let viewer = me.session.viewer.clone();
    if !viewer.can(Permission::WorkTickets) {
        return store_error(StoreError::Forbidden("agents only"));
    }
    let to = match f.to.split_once(':') {
        Some(("agent", n)) => n.parse().ok().map(|a| TransferTo {
            assignee_id: Some(a),
            team_id: None,
        }),
        Some(("team", n)) => n.parse().ok().map(|t| TransferTo {
            assignee_id: None,
            team_id: Some(t),
        }),
        _ => None,
    };
    let Some(to) = to else {
        return store_error(StoreError::Invalid(FieldError::new(
            "to",
            "choose an agent or a team",
        )));
    };
    let now = st.now();
    let note = f.note;
    write_then(
        &st,
        op!(c => routing::transfer(c, &viewer, id, to, &note, now).await.map(|_| ())),
        |()| Redirect::to(&format!("/tickets/{id}")).into_response(),
    )
    .await
}
