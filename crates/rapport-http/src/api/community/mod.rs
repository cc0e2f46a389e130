//! The community forum's API: reading topics a page at a time (anyone; an agent's token
//! also shows what is held, hidden or spam, and the links to tickets and articles),
//! searching them and suggestions while a question is typed (the community's search
//! index, [`find`]), and the agents' moderation ([`moderation`]). Customers ask,
//! answer, vote and accept on the `/community` pages, signed in through the portal.

pub mod find;
pub mod moderation;

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use rapport_domain::{Permission, Principal, Viewer};
use rapport_store::community::list::TopicSort;
use rapport_store::community::topics;
use rapport_store::community::{self as store, Author};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Auth, require};
use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// The agent behind a bearer token when the request carries one (a bad token is still
/// 401); `None` for an anonymous request.
pub struct MaybeAgent(pub Option<Viewer>);

impl FromRequestParts<AppState> for MaybeAgent {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(MaybeAgent(None));
        }
        let Auth(v) = Auth::from_request_parts(parts, state).await?;
        require(&v, Permission::WorkTickets)?;
        Ok(MaybeAgent(Some(v)))
    }
}

/// Who wrote a post.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CommunityAuthor)]
pub struct AuthorView {
    /// The name shown: an agent's name, or a customer's first name and last initial.
    pub name: String,
    /// An agent (badged on the pages).
    pub agent: bool,
}

impl From<Author> for AuthorView {
    fn from(a: Author) -> Self {
        Self {
            agent: a.is_agent(),
            name: a.name,
        }
    }
}

/// A topic.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CommunityTopic)]
pub struct TopicView {
    /// Id.
    pub id: i64,
    /// The question in one line.
    pub title: String,
    /// The question's details (markdown).
    pub body: String,
    /// The page.
    pub url: String,
    /// Who asked.
    pub author: AuthorView,
    /// `visible`, `held` (awaiting review), `hidden` or `spam`.
    pub state: String,
    /// No new answers.
    pub locked: bool,
    /// The accepted answer.
    pub accepted_post_id: Option<i64>,
    /// Shown answers.
    pub answers: i64,
    /// Votes on the question.
    pub votes: i64,
    /// The ticket made of it (agents only).
    pub ticket_id: Option<i64>,
    /// The draft article made of it (agents only).
    pub article_id: Option<i64>,
    /// When it was asked (RFC 3339).
    pub created_at: String,
}

impl From<store::Topic> for TopicView {
    fn from(t: store::Topic) -> Self {
        Self {
            url: format!("/community/topics/{}", t.id),
            id: t.id,
            title: t.title,
            body: t.body,
            author: t.author.into(),
            state: t.state.as_str().to_owned(),
            locked: t.locked,
            accepted_post_id: t.accepted_post_id,
            answers: t.answers,
            votes: t.votes,
            ticket_id: t.ticket_id,
            article_id: t.article_id,
            created_at: t.created_at.to_datetime().to_rfc3339(),
        }
    }
}

/// A post: the question or an answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CommunityPost)]
pub struct PostView {
    /// Id.
    pub id: i64,
    /// Its topic.
    pub topic_id: i64,
    /// The question (else an answer).
    pub is_question: bool,
    /// The text (markdown).
    pub body: String,
    /// Who wrote it.
    pub author: AuthorView,
    /// `visible`, `held`, `hidden` or `spam`.
    pub state: String,
    /// Votes.
    pub votes: i64,
    /// When (RFC 3339).
    pub created_at: String,
}

impl From<store::Post> for PostView {
    fn from(p: store::Post) -> Self {
        Self {
            id: p.id,
            topic_id: p.topic_id,
            is_question: p.is_question,
            body: p.body,
            author: p.author.into(),
            state: p.state.as_str().to_owned(),
            votes: p.votes,
            created_at: p.created_at.to_datetime().to_rfc3339(),
        }
    }
}

/// A page of topics.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CommunityTopics)]
pub struct TopicsView {
    /// In the order asked for.
    pub topics: Vec<TopicView>,
    /// Pass as `cursor` (with the same `q` and `sort`) for the next page; absent on the
    /// last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Pass as `cursor` for the previous page; absent on the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_cursor: Option<String>,
}

/// A topic with its posts.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CommunityThread)]
pub struct ThreadView {
    /// The topic.
    pub topic: TopicView,
    /// The question, then the accepted answer, then by votes.
    pub posts: Vec<PostView>,
}

/// Listing parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// What to search for in the topics' titles, questions and answers (forgiving:
    /// stems, misspellings, phrases); the best match first.
    pub q: Option<String>,
    /// `newest` (default; with `q`, the best match first), `unanswered` or `votes`.
    pub sort: Option<String>,
    /// At most this many (1–100, default 30).
    pub limit: Option<usize>,
    /// `next_cursor` or `prev_cursor` of a page with the same `q` and `sort`.
    pub cursor: Option<String>,
}

/// The longest query accepted, in characters.
pub const MAX_QUERY: usize = 200;

/// Checks a query's length (`q`).
pub fn check_query(q: &str) -> ApiResult<()> {
    if q.chars().count() > MAX_QUERY {
        return Err(ApiError::field(
            "q",
            format!("is longer than {MAX_QUERY} characters"),
        ));
    }
    Ok(())
}

/// Refuses an address that asked too often (120 reads a minute).
fn limit(st: &AppState, ip: std::net::IpAddr) -> ApiResult<()> {
    if st.community_reads.is_blocked(ip) {
        return Err(ApiError::too_often());
    }
    st.community_reads.fail(ip);
    Ok(())
}

/// Lists topics a page at a time, or searches them (anyone: shown topics; an agent's
/// token: every topic; a search finds shown topics only).
#[utoipa::path(get, path = "/api/v1/community/topics", tag = "community",
    params(ListParams),
    responses((status = 200, body = TopicsView), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list_topics(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeAgent(agent): MaybeAgent,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<TopicsView>> {
    limit(&st, ip)?;
    let query = p.q.unwrap_or_default();
    check_query(&query)?;
    let limit = p.limit.unwrap_or(30);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 100"));
    }
    let sort = match p.sort.as_deref() {
        None | Some("newest") => TopicSort::Newest,
        Some("unanswered") => TopicSort::Unanswered,
        Some("votes") => TopicSort::Votes,
        Some(_) => {
            return Err(ApiError::field(
                "sort",
                "must be newest, unanswered or votes",
            ));
        }
    };
    let who = agent.map(Principal::Agent);
    let f = find::Find {
        query,
        sort,
        limit,
        cursor: p.cursor,
    };
    let page = find::find_topics(&st, who.as_ref(), &f).await?;
    Ok(Json(TopicsView {
        topics: page.topics.into_iter().map(Into::into).collect(),
        next_cursor: page.next.map(|c| c.encode(sort)),
        prev_cursor: page.prev.map(|c| c.encode(sort)),
    }))
}

/// Reads a topic and its posts (anyone: what is shown; an agent's token: everything).
#[utoipa::path(get, path = "/api/v1/community/topics/{id}", tag = "community",
    params(("id" = i64, Path, description = "Topic id")),
    responses((status = 200, body = ThreadView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn get_topic(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeAgent(agent): MaybeAgent,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ThreadView>> {
    limit(&st, ip)?;
    let who = agent.map(Principal::Agent);
    let (topic, posts) = st
        .db
        .read(op!(c => topics::thread(c, who.as_ref(), id).await))
        .await?;
    Ok(Json(ThreadView {
        topic: topic.into(),
        posts: posts.into_iter().map(Into::into).collect(),
    }))
}

/// Suggestion parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// What is being typed.
    pub q: String,
}

/// A thread suggested while a question is typed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CommunitySuggestion)]
pub struct SuggestionView {
    /// Id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// The page.
    pub url: String,
    /// Shown answers.
    pub answers: i64,
    /// Whether an answer was accepted.
    pub answered: bool,
}

/// Suggestions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CommunitySuggestions)]
pub struct SuggestionsView {
    /// Best first (at most 5).
    pub topics: Vec<SuggestionView>,
}

/// Shown topics matching what is being typed (public; for the "ask a question" form).
#[utoipa::path(get, path = "/api/v1/community/suggest", tag = "community",
    params(SuggestParams),
    responses((status = 200, body = SuggestionsView), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn suggest(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiQuery(p): ApiQuery<SuggestParams>,
) -> ApiResult<Json<SuggestionsView>> {
    limit(&st, ip)?;
    check_query(&p.q)?;
    let found = find::suggest_topics(&st, &p.q, 5).await?;
    Ok(Json(SuggestionsView {
        topics: found
            .into_iter()
            .map(|t| SuggestionView {
                url: format!("/community/topics/{}", t.id),
                id: t.id,
                title: t.title,
                answers: t.answers,
                answered: t.accepted_post_id.is_some(),
            })
            .collect(),
    }))
}
