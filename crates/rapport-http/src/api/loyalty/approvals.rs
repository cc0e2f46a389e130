//! Approval requests for gifts above the giver's limit (`/api/v1/approvals`): listed,
//! approved or declined by someone whose limit covers them.

use axum::Json;
use axum::extract::State;
use rapport_domain::loyalty;
use rapport_domain::{FieldError, Permission};
use rapport_store::loyalty::approvals;
use rapport_store::op;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, OptionalJsonBody};
use crate::state::AppState;

use super::ApprovalView;

/// Which requests to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApprovalParams {
    /// `pending`, `approved` or `declined` (default: all).
    pub state: Option<String>,
}

/// Gift requests (supervisors): pending ones oldest first.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "loyalty",
    params(ApprovalParams),
    responses((status = 200, body = Vec<ApprovalView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_approvals(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(q): ApiQuery<ApprovalParams>,
) -> ApiResult<Json<Vec<ApprovalView>>> {
    require(&viewer, Permission::ApproveGoodwill)?;
    let state = match q.state.as_deref() {
        None => None,
        Some(s @ (approvals::PENDING | approvals::APPROVED | approvals::DECLINED)) => Some(s),
        Some(_) => {
            return Err(
                FieldError::new("state", "must be one of: pending, approved, declined").into(),
            );
        }
    };
    let state = state.map(str::to_owned);
    let list = st
        .db
        .read(op!(c => approvals::list(c, state.as_deref()).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// A decision's note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Why (shown to the requester).
    pub note: Option<String>,
}

async fn decide(
    st: &AppState,
    viewer: rapport_domain::Viewer,
    id: i64,
    approve: bool,
    req: DecisionRequest,
) -> ApiResult<Json<ApprovalView>> {
    require(&viewer, Permission::ApproveGoodwill)?;
    let note = match req.note.as_deref() {
        Some(n) => Some(loyalty::reason("note", n)?),
        None => None,
    };
    let now = st.now();
    let a = st
        .db
        .write(op!(c => approvals::decide(c, &viewer, id, approve, note.as_deref(), now).await))
        .await?;
    Ok(Json(a.into()))
}

/// Approves a pending request: the gift is given, counted as the requester's (409 once
/// decided).
#[utoipa::path(post, path = "/api/v1/approvals/{id}/approve", tag = "loyalty",
    params(("id" = i64, Path, description = "Approval id")),
    request_body(content = Option<DecisionRequest>),
    responses((status = 200, body = ApprovalView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    OptionalJsonBody(req): OptionalJsonBody<DecisionRequest>,
) -> ApiResult<Json<ApprovalView>> {
    decide(&st, viewer, id, true, req).await
}

/// Declines a pending request: nothing is given (409 once decided).
#[utoipa::path(post, path = "/api/v1/approvals/{id}/decline", tag = "loyalty",
    params(("id" = i64, Path, description = "Approval id")),
    request_body(content = Option<DecisionRequest>),
    responses((status = 200, body = ApprovalView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn decline(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    OptionalJsonBody(req): OptionalJsonBody<DecisionRequest>,
) -> ApiResult<Json<ApprovalView>> {
    decide(&st, viewer, id, false, req).await
}
