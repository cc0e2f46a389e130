//! Agents' moderation pages: hide / show / spam / not spam on a post (a topic's question
//! stands for the topic), lock, turning a topic into a ticket or a draft article, and the
//! queue of posts
//! the spam filter held.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_http::api::community::find::reindex_topic;
use rapport_store::community::moderation::{self as store, Action};
use rapport_store::community::topics;
use rapport_store::op;
use serde::Deserialize;

use super::{post_html, shown_time};
use crate::page::{MeView, page, require, store_error, write_then};
use crate::sessions::{CsrfForm, Me};

/// The moderation form.
#[derive(Deserialize)]
pub struct ModerateForm {
    action: String,
    /// Where to go next: `queue` (the moderation queue), else the topic.
    #[serde(default)]
    back: String,
}

/// Hides, shows, flags as spam or releases a post.
pub async fn moderate(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<ModerateForm>,
) -> Response {
    let viewer = me.session.viewer.clone();
    if let Some(r) = require(&viewer, Permission::WorkTickets) {
        return r;
    }
    let action = match Action::parse(&f.action) {
        Ok(a) => a,
        Err(e) => return store_error(e),
    };
    let now = st.now();
    let p = match st
        .db
        .write(op!(c => store::moderate(c, &viewer, id, action, now).await))
        .await
    {
        Ok(p) => p,
        Err(e) => return store_error(e),
    };
    reindex_topic(&st, p.topic_id).await;
    let to = if f.back == "queue" {
        "/community/moderation".to_owned()
    } else {
        format!("/community/topics/{}#post-{}", p.topic_id, p.id)
    };
    Redirect::to(&to).into_response()
}

/// The lock form.
#[derive(Deserialize)]
pub struct LockForm {
    /// `1` to lock, anything else to unlock.
    locked: String,
}

/// Locks or unlocks a topic.
pub async fn lock(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<LockForm>,
) -> Response {
    let viewer = me.session.viewer.clone();
    if let Some(r) = require(&viewer, Permission::WorkTickets) {
        return r;
    }
    let now = st.now();
    let locked = f.locked == "1";
    if let Err(e) = st
        .db
        .write(op!(c => topics::set_locked(c, &viewer, id, locked, now).await))
        .await
    {
        return store_error(e);
    }
    reindex_topic(&st, id).await;
    Redirect::to(&format!("/community/topics/{id}")).into_response()
}

/// Turns a topic into a ticket (or opens the one it became).
pub async fn to_ticket(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::sessions::NoFields>,
) -> Response {
    let viewer = me.session.viewer.clone();
    if let Some(r) = require(&viewer, Permission::WorkTickets) {
        return r;
    }
    let now = st.now();
    write_then(
        &st,
        op!(c => topics::to_ticket(c, &viewer, id, now).await),
        |(ticket, _)| Redirect::to(&format!("/tickets/{ticket}")).into_response(),
    )
    .await
}

/// Turns a topic into a draft article and opens it in the workspace's editor.
pub async fn to_article(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::sessions::NoFields>,
) -> Response {
    let viewer = me.session.viewer.clone();
    if let Some(r) = require(&viewer, Permission::WriteArticles) {
        return r;
    }
    let now = st.now();
    write_then(
        &st,
        op!(c => topics::to_article(c, &viewer, id, now).await),
        |(article, _)| Redirect::to(&format!("/kb/articles/{article}/edit")).into_response(),
    )
    .await
}

/// A held post in the queue.
struct HeldRow {
    id: i64,
    topic_id: i64,
    topic_title: String,
    question: bool,
    author: String,
    html: String,
    score: String,
    at: String,
    at_iso: String,
}

#[derive(Template)]
#[template(path = "community_queue.html")]
struct QueuePage {
    me: MeView,
    held: Vec<HeldRow>,
}

/// The posts the spam filter held, for a moderator to release or flag.
pub async fn queue(State(st): State<AppState>, me: Me) -> Response {
    let viewer = me.session.viewer.clone();
    if let Some(r) = require(&viewer, Permission::WorkTickets) {
        return r;
    }
    let held = match st.db.read(op!(c => store::queue(c, &viewer).await)).await {
        Ok(h) => h,
        Err(e) => return store_error(e),
    };
    let held = held
        .into_iter()
        .map(|h| {
            let (at, at_iso) = shown_time(h.post.created_at);
            HeldRow {
                id: h.post.id,
                topic_id: h.post.topic_id,
                topic_title: h.topic_title,
                question: h.post.is_question,
                author: h.post.author.name.clone(),
                html: post_html(&h.post.body),
                score: format!("{:.0}%", h.post.spam_score as f64 / 10.0),
                at,
                at_iso,
            }
        })
        .collect();
    page(&QueuePage {
        me: MeView::of(&me, ""),
        held,
    })
}
