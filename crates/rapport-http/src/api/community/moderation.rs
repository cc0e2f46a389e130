//! Moderation for agents: hide or show a post or topic, flag spam or release a post that
//! is not spam (both teach the spam filter), lock a topic, the queue of held posts, and
//! turning a topic into a ticket or a draft article.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::Permission;
use rapport_store::community::moderation::{self, Action};
use rapport_store::community::topics;
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::PostView;
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// A moderator's decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ModerateRequest)]
pub struct ModerateRequest {
    /// `hide`, `show`, `spam` or `not_spam`.
    pub action: String,
}

/// Hides, shows, flags as spam or releases as not spam a post (the question's decision
/// is its topic's). Spam and not spam teach the spam filter.
#[utoipa::path(post, path = "/api/v1/community/posts/{id}/moderate", tag = "community",
    params(("id" = i64, Path, description = "Post id")),
    request_body = ModerateRequest,
    responses((status = 200, body = PostView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn moderate_post(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<ModerateRequest>,
) -> ApiResult<Json<PostView>> {
    require(&viewer, Permission::WorkTickets)?;
    let action = Action::parse(&req.action)?;
    let now = st.now();
    let p = st
        .db
        .write(op!(c => moderation::moderate(c, &viewer, id, action, now).await))
        .await?;
    super::find::reindex_topic(&st, p.topic_id).await;
    Ok(Json(p.into()))
}

/// Locking a topic.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockRequest {
    /// Locked: no new answers.
    pub locked: bool,
}

/// Locks or unlocks a topic.
#[utoipa::path(post, path = "/api/v1/community/topics/{id}/lock", tag = "community",
    params(("id" = i64, Path, description = "Topic id")),
    request_body = LockRequest,
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn lock_topic(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<LockRequest>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    st.db
        .write(op!(c => topics::set_locked(c, &viewer, id, req.locked, now).await))
        .await?;
    super::find::reindex_topic(&st, id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The posts held for review, oldest first.
#[utoipa::path(get, path = "/api/v1/community/moderation", tag = "community",
    responses((status = 200, body = Vec<PostView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn queue(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<PostView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let held = st
        .db
        .read(op!(c => moderation::queue(c, &viewer).await))
        .await?;
    Ok(Json(held.into_iter().map(|h| h.post.into()).collect()))
}

/// The ticket a topic became.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TopicTicket)]
pub struct TopicTicketView {
    /// The ticket's id.
    pub ticket_id: i64,
    /// Made now (else the topic had become this ticket before).
    pub created: bool,
}

/// Turns a customer's topic into a ticket for them, linked both ways (201; 200 with the
/// ticket made before when it already was one).
#[utoipa::path(post, path = "/api/v1/community/topics/{id}/ticket", tag = "community",
    params(("id" = i64, Path, description = "Topic id")),
    responses((status = 201, body = TopicTicketView), (status = 200, body = TopicTicketView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn topic_to_ticket(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<TopicTicketView>)> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    let (ticket_id, created) = st
        .db
        .write(op!(c => topics::to_ticket(c, &viewer, id, now).await))
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(TopicTicketView { ticket_id, created })))
}

/// The draft article a topic became.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TopicArticle)]
pub struct TopicArticleView {
    /// The article's id.
    pub article_id: i64,
    /// Made now (else the topic's earlier draft).
    pub created: bool,
}

/// Turns a topic into a draft knowledge-base article (its question and accepted answer),
/// linked from the topic (201; 200 with the draft made before when it still exists).
#[utoipa::path(post, path = "/api/v1/community/topics/{id}/article", tag = "community",
    params(("id" = i64, Path, description = "Topic id")),
    responses((status = 201, body = TopicArticleView), (status = 200, body = TopicArticleView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn topic_to_article(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<TopicArticleView>)> {
    require(&viewer, Permission::WriteArticles)?;
    let now = st.now();
    let (article_id, created) = st
        .db
        .write(op!(c => topics::to_article(c, &viewer, id, now).await))
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(TopicArticleView {
            article_id,
            created,
        }),
    ))
}
