//! Answering a topic, voting for a post, and accepting an answer.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::community::PostBody;
use rapport_http::AppState;
use rapport_http::api::community::find::reindex_topic;
use rapport_http::client::ClientIp;
use rapport_store::community::{Posted, posts, topics};
use rapport_store::op;
use serde::Deserialize;

use super::{Reader, sign_in_first, too_many_posts};
use crate::page::store_error;
use crate::sessions::Me;

/// The answer form.
#[derive(Deserialize)]
pub struct AnswerForm {
    csrf: String,
    #[serde(default)]
    body: String,
}

fn back_to(topic: i64, post: Option<i64>) -> Response {
    let anchor = post.map(|p| format!("#post-{p}")).unwrap_or_default();
    Redirect::to(&format!("/community/topics/{topic}{anchor}")).into_response()
}

/// Answers a topic (a signed-in customer or an agent).
pub async fn answer(
    State(st): State<AppState>,
    me: Option<Me>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let reader = Reader::of(&st, &headers, me).await;
    if let Some(r) = reader.refuse_post(&st, &headers, &f.csrf, ip) {
        return r;
    }
    let body = match PostBody::parse(&f.body, "body") {
        Ok(b) => b,
        Err(e) => return store_error(e.into()),
    };
    let Some(who) = reader.principal() else {
        return sign_in_first();
    };
    let now = st.now();
    match st
        .db
        .write(op!(c => posts::answer(c, &who, id, body, now).await))
        .await
    {
        Ok(Posted::Done(p)) => {
            reindex_topic(&st, id).await;
            back_to(id, Some(p.id))
        }
        Ok(Posted::Limited { per_hour }) => too_many_posts(per_hour),
        Err(e) => store_error(e),
    }
}

/// A form with only its CSRF token.
#[derive(Deserialize)]
pub struct PlainForm {
    csrf: String,
}

/// Votes for a post, or takes the vote back (customers).
pub async fn vote(
    State(st): State<AppState>,
    me: Option<Me>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(post_id): Path<i64>,
    Form(f): Form<PlainForm>,
) -> Response {
    let reader = Reader::of(&st, &headers, me).await;
    if let Some(r) = reader.refuse_form(&st, &headers, &f.csrf, ip) {
        return r;
    }
    let Some(who) = reader.principal() else {
        return sign_in_first();
    };
    let now = st.now();
    match st
        .db
        .write(op!(c => {
            posts::toggle_vote(c, &who, post_id, now).await?;
            Ok(posts::get(c, post_id).await?.topic_id)
        }))
        .await
    {
        Ok(topic) => back_to(topic, Some(post_id)),
        Err(e) => store_error(e),
    }
}

/// The accept form.
#[derive(Deserialize)]
pub struct AcceptForm {
    csrf: String,
    post_id: i64,
}

/// Accepts an answer (the asker or an agent).
pub async fn accept(
    State(st): State<AppState>,
    me: Option<Me>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<AcceptForm>,
) -> Response {
    let reader = Reader::of(&st, &headers, me).await;
    if let Some(r) = reader.refuse_form(&st, &headers, &f.csrf, ip) {
        return r;
    }
    let Some(who) = reader.principal() else {
        return sign_in_first();
    };
    let now = st.now();
    let post_id = f.post_id;
    match st
        .db
        .write(op!(c => topics::accept(c, &who, id, post_id, now).await))
        .await
    {
        Ok(()) => {
            reindex_topic(&st, id).await;
            back_to(id, Some(post_id))
        }
        Err(e) => store_error(e),
    }
}
