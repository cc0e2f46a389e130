//! A request's private portal links: an agent revokes them (a link sent to the wrong
//! address, a forwarded email) and gets the new one to pass on.

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_store::{op, portal};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// The request's private link after a revocation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PortalLink)]
pub struct PortalLinkView {
    /// The new private link; every link made before it no longer opens the request.
    pub link: String,
}

/// Revokes every private portal link of a ticket, ends its customer's portal sessions
/// (they sign in again by email) and answers with the new link.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/portal-link/revoke", tag = "tickets",
    params(("id" = i64, Path, description = "The ticket")),
    responses((status = 200, description = "The new private link", body = PortalLinkView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke_portal_link(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PortalLinkView>> {
    require(&viewer, Permission::WorkTickets)?;
    let generation = st
        .db
        .write(op!(c => portal::revoke_links(c, &viewer, id).await))
        .await?;
    Ok(Json(PortalLinkView {
        link: format!(
            "{}{}",
            st.public_url,
            portal::link_path(&st.sealer, id, generation)
        ),
    }))
}
