//! Moderation (agents): hiding and showing posts and topics, flagging spam and releasing
//! posts that are not spam — each decision teaches the spam filter, and a later decision
//! replaces what an earlier one taught — and the queue of posts the filter held for
//! review.

use rapport_domain::community::PostState;
use rapport_domain::{Timestamp, Viewer};

use super::Post;
use super::spam::{self, Label};
use super::topics::post_of;
use crate::db::Conn;
use crate::error::{Result, StoreError};

/// What a moderator does to a post (a topic: to its question).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Hide it from everyone but agents; whatever it was learned as is forgotten (hidden
    /// is not a judgement of spam).
    Hide,
    /// Show it again (a held post: release it); learned as a good post.
    Show,
    /// Flag it as spam: hidden, and learned as spam.
    Spam,
    /// Not spam: shown, and learned as a good post.
    NotSpam,
}

impl Action {
    /// Reads `hide`, `show`, `spam` or `not_spam`.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim() {
            "hide" => Ok(Self::Hide),
            "show" | "unhide" => Ok(Self::Show),
            "spam" => Ok(Self::Spam),
            "not_spam" => Ok(Self::NotSpam),
            _ => Err(rapport_domain::FieldError::new(
                "action",
                "must be hide, show, spam or not_spam",
            )
            .into()),
        }
    }
}

/// Applies a moderator's decision to a post; a question's state is its topic's. A post
/// that stops being shown is no longer its topic's accepted answer. The spam filter
/// learns the decision — spam, good (shown, not spam) or nothing (hidden) — moving the
/// post's counts from what an earlier decision taught. Records `topic_changed` (the
/// action).
pub async fn moderate(
    c: &mut dyn Conn,
    agent: &Viewer,
    post_id: i64,
    action: Action,
    now: Timestamp,
) -> Result<Post> {
    let p = super::posts::get(c, post_id).await?;
    let (state, label) = match action {
        Action::Hide => (PostState::Hidden, None),
        Action::Show | Action::NotSpam => (PostState::Visible, Some(Label::Ham)),
        Action::Spam => (PostState::Spam, Some(Label::Spam)),
    };
    let name = match action {
        Action::Hide => "hide",
        Action::Show => "show",
        Action::Spam => "spam",
        Action::NotSpam => "not_spam",
    };
    c.execute(
        "UPDATE community_posts SET state = $1, moderated_by = $2, moderated_at = $3,
             updated_at = $3 WHERE id = $4",
        &[
            state.as_str().into(),
            agent.user_id.into(),
            now.into(),
            post_id.into(),
        ],
    )
    .await?;
    spam::learn(c, post_id, label).await?;
    if p.is_question {
        c.execute(
            "UPDATE community_topics SET state = $1, updated_at = $2 WHERE id = $3",
            &[state.as_str().into(), now.into(), p.topic_id.into()],
        )
        .await?;
    } else if state != PostState::Visible {
        c.execute(
            "UPDATE community_topics SET accepted_post_id = NULL, updated_at = $1
             WHERE id = $2 AND accepted_post_id = $3",
            &[now.into(), p.topic_id.into(), post_id.into()],
        )
        .await?;
    }
    let who = rapport_domain::Principal::Agent(agent.clone());
    super::record_change(c, &who, p.topic_id, name, now).await?;
    super::posts::get(c, post_id).await
}

/// The question post of a topic (to moderate a topic as a whole).
pub async fn question_of(c: &mut dyn Conn, topic_id: i64) -> Result<i64> {
    c.opt(
        "SELECT id FROM community_posts WHERE topic_id = $1 AND is_question = TRUE",
        &[topic_id.into()],
    )
    .await?
    .ok_or(StoreError::NotFound("topic"))?
    .int("id")
}

/// A post waiting for a moderator, with its topic's title.
#[derive(Debug, Clone)]
pub struct Held {
    /// The post.
    pub post: Post,
    /// Its topic's title.
    pub topic_title: String,
}

/// The posts the spam filter held, oldest first (at most 200).
pub async fn queue(c: &mut dyn Conn, _agent: &Viewer) -> Result<Vec<Held>> {
    c.query(
        "SELECT p.id, p.topic_id, p.is_question, p.body, p.author_customer_id,
                p.author_user_id, p.state, p.votes, p.spam_score, p.created_at,
                cu.name AS customer_name, u.name AS agent_name, t.title
         FROM community_posts p
         JOIN community_topics t ON t.id = p.topic_id
         LEFT JOIN customers cu ON cu.id = p.author_customer_id
         LEFT JOIN users u ON u.id = p.author_user_id
         WHERE p.state = 'held'
         ORDER BY p.created_at, p.id
         LIMIT 200",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Held {
            post: post_of(r)?,
            topic_title: r.text("title")?,
        })
    })
    .collect()
}
