//! Time spent on a ticket: logging it (the totals show on the ticket page).

use axum::extract::{Path, State};
use axum::response::Response;
use rapport_domain::Permission;
use rapport_http::AppState;
use serde::Deserialize;

use crate::page::{require, store_error, write_then};
use crate::sessions::{CsrfForm, Me};
use crate::tickets::to_ticket;
use rapport_store::op;
use rapport_store::time_entries;

/// The time form.
#[derive(Deserialize)]
pub struct TimeForm {
    minutes: String,
}

/// Logs time on the ticket.
pub async fn log_time(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<TimeForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let Ok(minutes) = f.minutes.trim().parse::<i64>() else {
        return store_error(
            rapport_domain::FieldError::new("minutes", "enter a whole number of minutes").into(),
        );
    };
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        op!(c => {
            time_entries::log(c, &viewer, id, minutes.saturating_mul(60), "", now).await
        }),
        |()| to_ticket(id),
    )
    .await
}
