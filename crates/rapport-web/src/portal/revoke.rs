//! The agent's side of private request links: revoking them from the ticket page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_store::{op, portal};

use crate::page::{error_page, require, store_error};
use crate::sessions::{CsrfForm, Me, NoFields};

/// Revokes every private link of a request and ends its customer's portal sessions; the
/// page shows the new link to pass on.
pub async fn revoke(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    match st
        .db
        .write(op!(c => portal::revoke_links(c, &viewer, id).await))
        .await
    {
        Ok(generation) => error_page(
            StatusCode::OK,
            "Private links revoked",
            &format!(
                "Links sent before no longer open this request, and the customer is signed out of the portal. The new private link is {}{}",
                st.public_url,
                portal::link_path(&st.sealer, id, generation)
            ),
        ),
        Err(e) => store_error(e),
    }
}
