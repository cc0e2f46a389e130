//! The synonym groups knowledge-base search expands (`invoice, bill`): agents read them,
//! admins add and remove them. A change is used by this node's next search at once and
//! by other nodes within ten seconds (their index followers re-read the groups).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::Permission;
use rapport_store::kb::synonyms::{self, SynonymGroup};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// A group of words search treats as one.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SynonymGroup)]
pub struct SynonymGroupView {
    /// Database id.
    pub id: i64,
    /// Its members, `a, b, c`.
    pub terms: String,
    /// Built in (added by the installation, not by an admin).
    pub built_in: bool,
}

impl From<SynonymGroup> for SynonymGroupView {
    fn from(g: SynonymGroup) -> Self {
        Self {
            id: g.id,
            built_in: g.created_by.is_none(),
            terms: g.terms,
        }
    }
}

/// Every synonym group.
#[utoipa::path(get, path = "/api/v1/kb/synonyms", tag = "kb",
    responses((status = 200, body = Vec<SynonymGroupView>), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_synonyms(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<SynonymGroupView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let groups = st.db.read(op!(c => synonyms::list(c).await)).await?;
    Ok(Json(groups.into_iter().map(Into::into).collect()))
}

/// `POST /api/v1/kb/synonyms`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSynonymsRequest {
    /// Two to twelve words or short phrases, separated by commas: `invoice, bill`.
    pub terms: String,
}

/// Re-reads the groups into this node's index (best effort: the follower retries).
pub async fn refresh(st: &AppState) {
    if let Err(e) = st.kb_index.reload_synonyms(&st.db).await {
        tracing::warn!(error = %e, "could not reload the synonym groups");
    }
}

/// Adds a synonym group (admins).
#[utoipa::path(post, path = "/api/v1/kb/synonyms", tag = "kb",
    request_body = CreateSynonymsRequest,
    responses((status = 201, body = SynonymGroupView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_synonyms(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateSynonymsRequest>,
) -> ApiResult<(StatusCode, Json<SynonymGroupView>)> {
    require(&viewer, Permission::ManageUsers)?;
    let (now, by) = (st.now(), viewer.user_id);
    let g = st
        .db
        .write(op!(c => synonyms::create(c, Some(by), &req.terms, now).await))
        .await?;
    refresh(&st).await;
    Ok((StatusCode::CREATED, Json(g.into())))
}

/// Removes a synonym group (admins).
#[utoipa::path(delete, path = "/api/v1/kb/synonyms/{id}", tag = "kb",
    params(("id" = i64, Path, description = "Group id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_synonyms(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageUsers)?;
    st.db.write(op!(c => synonyms::delete(c, id).await)).await?;
    refresh(&st).await;
    Ok(StatusCode::NO_CONTENT)
}
