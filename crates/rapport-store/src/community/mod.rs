//! The community forum: topics (a question post and its answers), votes, moderation and
//! the spam filter's counts. Who may read what is decided here, from the [`Principal`]:
//! anyone reads shown posts; a customer also reads their own posts held for review;
//! agents read everything. [`topics`] (asking, listing, reading, accepting, locking,
//! turning a topic into a ticket), [`posts`] (answering, voting), [`moderation`] (hide,
//! spam / not spam, the queue), [`spam`] (scoring and learning) and [`index`] (what the
//! community's search index holds: shown topics and their shown posts).
//!
//! Every write that changes what a topic says or who may read it — asking, answering,
//! accepting, moderating, locking — records a `topic_changed` event (no ticket; the data
//! names the topic), which each node's search index follows. The public sees a
//! customer's first name and last initial only ([`public_name`]).

use rapport_domain::community::{PostState, public_name};
use rapport_domain::{EventKind, Principal, Timestamp};
use serde::Serialize;
use serde_json::json;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::value::Row;

pub mod index;
pub mod list;
pub mod moderation;
pub mod posts;
pub mod spam;
pub mod topics;

/// Who wrote a post: a customer (by their public name) or an agent (badged).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Author {
    /// The customer, if a customer wrote it.
    pub customer_id: Option<i64>,
    /// The agent, if an agent wrote it.
    pub user_id: Option<i64>,
    /// The name shown: an agent's name, or a customer's first name and last initial
    /// ([`public_name`]) — never their full name or address.
    pub name: String,
}

impl Author {
    /// Whether an agent wrote it.
    pub fn is_agent(&self) -> bool {
        self.user_id.is_some()
    }
}

/// A topic as listed and read.
#[derive(Debug, Clone, Serialize)]
pub struct Topic {
    /// Database id (the number in its URL).
    pub id: i64,
    /// The question in one line.
    pub title: String,
    /// The question's post id.
    pub question_id: i64,
    /// The question's text (markdown).
    pub body: String,
    /// Who asked.
    pub author: Author,
    /// Where the question stands.
    pub state: PostState,
    /// No new answers.
    pub locked: bool,
    /// The accepted answer, if any.
    pub accepted_post_id: Option<i64>,
    /// Shown answers.
    pub answers: i64,
    /// Votes on the question.
    pub votes: i64,
    /// The ticket an agent made of it (agents only; `None` for others).
    pub ticket_id: Option<i64>,
    /// The article an agent drafted from it (agents only; `None` for others).
    pub article_id: Option<i64>,
    /// The latest post.
    pub last_activity_at: Timestamp,
    /// When it was asked.
    pub created_at: Timestamp,
}

/// A post: the question or an answer.
#[derive(Debug, Clone, Serialize)]
pub struct Post {
    /// Database id.
    pub id: i64,
    /// Its topic.
    pub topic_id: i64,
    /// The topic's question (else an answer).
    pub is_question: bool,
    /// The text (markdown).
    pub body: String,
    /// Who wrote it.
    pub author: Author,
    /// Where it stands.
    pub state: PostState,
    /// Votes.
    pub votes: i64,
    /// The spam filter's score when it was written, in thousandths.
    pub spam_score: i64,
    /// When it was written.
    pub created_at: Timestamp,
}

/// A post that was written, or the hourly allowance that stopped it.
#[derive(Debug, Clone)]
pub enum Posted<T> {
    /// Written.
    Done(T),
    /// The author already wrote this many posts in the past hour.
    Limited {
        /// Their allowance an hour.
        per_hour: i64,
    },
}

/// The SQL condition on a row's `state` and `author_customer_id` (table alias `alias`)
/// that lets `who` read it — agents and Rapport everything; a customer what is shown and
/// their own held posts; anyone else what is shown — and its parameter, numbered `$n`
/// (pushed onto `params`) so the statement's text does not vary by customer.
pub(crate) fn readable(
    who: Option<&Principal>,
    alias: &str,
    params: &mut Vec<crate::value::Value>,
) -> String {
    match who {
        Some(Principal::Agent(_) | Principal::System) => "TRUE".into(),
        Some(Principal::Customer(id)) => {
            params.push((*id).into());
            let n = params.len();
            format!(
                "({alias}.state = 'visible' OR ({alias}.state = 'held' AND {alias}.author_customer_id = ${n}))"
            )
        }
        None => format!("{alias}.state = 'visible'"),
    }
}

/// Whether `who` may read a row in `state` written by `author_customer`.
pub(crate) fn may_read(
    who: Option<&Principal>,
    state: PostState,
    author_customer: Option<i64>,
) -> bool {
    match who {
        Some(Principal::Agent(_) | Principal::System) => true,
        Some(Principal::Customer(id)) => {
            state == PostState::Visible
                || (state == PostState::Held && author_customer == Some(*id))
        }
        None => state == PostState::Visible,
    }
}

pub(crate) fn state_of(raw: &str) -> Result<PostState> {
    PostState::parse(raw).ok_or_else(|| StoreError::Db(format!("unknown post state {raw:?}")))
}

pub(crate) fn author_of(r: &Row) -> Result<Author> {
    let customer_id = r.opt_int("author_customer_id")?;
    let user_id = r.opt_int("author_user_id")?;
    let name = match (user_id, r.opt_text("agent_name")?) {
        (Some(_), Some(n)) if !n.trim().is_empty() => n,
        (Some(_), _) => "Support team".to_owned(),
        (None, _) => public_name(r.opt_text("customer_name")?.as_deref()),
    };
    Ok(Author {
        customer_id,
        user_id,
        name,
    })
}

/// Records `topic_changed` for a topic: `action` says what was done (`asked`,
/// `answered`, `accepted`, `locked`, `unlocked`, or a moderator's `hide`, `show`, `spam`,
/// `not_spam`).
pub(crate) async fn record_change(
    c: &mut dyn Conn,
    who: &Principal,
    topic_id: i64,
    action: &str,
    now: Timestamp,
) -> Result<()> {
    let actor = match who {
        Principal::Agent(v) => Actor::User(v.user_id),
        Principal::Customer(id) => Actor::Customer(*id),
        Principal::System => Actor::System,
    };
    let data = json!({"topic_id": topic_id, "action": action});
    events::record_topic(c, actor, EventKind::TopicChanged, &data, now).await
}
