//! Topics: asking a question, reading one with its answers, accepting an answer,
//! locking, and turning a topic into a ticket or a draft article. (Listing a page at a
//! time is [`super::list`].)

use rapport_domain::community::{PostBody, PostState, TopicTitle};
use rapport_domain::{Body, Channel, Principal, Priority, Subject, Timestamp, Viewer};

use super::{Post, Posted, Topic, author_of, may_read, readable, record_change, spam, state_of};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::tickets::{self, NewTicket};
use crate::value::{Row, Value};

pub(super) const TOPIC_COLUMNS: &str =
    "t.id, t.title, t.state, t.locked, t.accepted_post_id, t.votes,
    t.ticket_id, t.article_id, t.author_customer_id, t.author_user_id, t.last_activity_at,
    t.created_at, q.id AS question_id, q.body,
    cu.name AS customer_name, u.name AS agent_name,
    (SELECT COUNT(*) FROM community_posts a
      WHERE a.topic_id = t.id AND a.is_question = FALSE AND a.state = 'visible') AS answers";

pub(super) const TOPIC_FROM: &str = "community_topics t
    JOIN community_posts q ON q.topic_id = t.id AND q.is_question = TRUE
    LEFT JOIN customers cu ON cu.id = t.author_customer_id
    LEFT JOIN users u ON u.id = t.author_user_id";

pub(super) fn topic_of(r: &Row, agent: bool) -> Result<Topic> {
    Ok(Topic {
        id: r.int("id")?,
        title: r.text("title")?,
        question_id: r.int("question_id")?,
        body: r.text("body")?,
        author: author_of(r)?,
        state: state_of(&r.text("state")?)?,
        locked: r.bool("locked")?,
        accepted_post_id: r.opt_int("accepted_post_id")?,
        answers: r.int("answers")?,
        votes: r.int("votes")?,
        ticket_id: if agent { r.opt_int("ticket_id")? } else { None },
        article_id: if agent {
            r.opt_int("article_id")?
        } else {
            None
        },
        last_activity_at: Timestamp(r.int("last_activity_at")?),
        created_at: Timestamp(r.int("created_at")?),
    })
}

pub(super) fn is_agent(who: Option<&Principal>) -> bool {
    matches!(who, Some(Principal::Agent(_) | Principal::System))
}

/// One topic `who` may read (else "not found").
pub async fn get(c: &mut dyn Conn, who: Option<&Principal>, id: i64) -> Result<Topic> {
    let mut params: Vec<Value> = vec![id.into()];
    let sql = format!(
        "SELECT {TOPIC_COLUMNS} FROM {TOPIC_FROM} WHERE t.id = $1 AND {}",
        readable(who, "t", &mut params)
    );
    let r = c
        .opt(&sql, &params)
        .await?
        .ok_or(StoreError::NotFound("topic"))?;
    topic_of(&r, is_agent(who))
}

/// A topic `who` may read and its posts they may read: the question first, then the
/// accepted answer, then by votes, then oldest first.
pub async fn thread(
    c: &mut dyn Conn,
    who: Option<&Principal>,
    id: i64,
) -> Result<(Topic, Vec<Post>)> {
    let topic = get(c, who, id).await?;
    let accepted = topic.accepted_post_id.unwrap_or(0);
    let mut params: Vec<Value> = vec![id.into(), accepted.into()];
    let sql = format!(
        "SELECT p.id, p.topic_id, p.is_question, p.body, p.author_customer_id, p.author_user_id,
                p.state, p.votes, p.spam_score, p.created_at,
                cu.name AS customer_name, u.name AS agent_name
         FROM community_posts p
         LEFT JOIN customers cu ON cu.id = p.author_customer_id
         LEFT JOIN users u ON u.id = p.author_user_id
         WHERE p.topic_id = $1 AND {}
         ORDER BY p.is_question DESC, CASE WHEN p.id = $2 THEN 0 ELSE 1 END, p.votes DESC, p.id",
        readable(who, "p", &mut params)
    );
    let posts = c
        .query(&sql, &params)
        .await?
        .iter()
        .map(post_of)
        .collect::<Result<Vec<_>>>()?;
    Ok((topic, posts))
}

pub(crate) fn post_of(r: &Row) -> Result<Post> {
    Ok(Post {
        id: r.int("id")?,
        topic_id: r.int("topic_id")?,
        is_question: r.bool("is_question")?,
        body: r.text("body")?,
        author: author_of(r)?,
        state: state_of(&r.text("state")?)?,
        votes: r.int("votes")?,
        spam_score: r.int("spam_score")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// A new question.
#[derive(Debug, Clone)]
pub struct NewTopic {
    /// Its title.
    pub title: TopicTitle,
    /// Its details.
    pub body: PostBody,
}

/// Who writes a post: a customer or an agent (anyone else may not).
pub(crate) fn writer(who: &Principal) -> Result<(Option<i64>, Option<i64>)> {
    match who {
        Principal::Customer(id) => Ok((Some(*id), None)),
        Principal::Agent(v) => Ok((None, Some(v.user_id))),
        Principal::System => Err(StoreError::Forbidden("only people post in the community")),
    }
}

/// Asks a question. A customer's question is limited per hour
/// ([`posts::over_allowance`](super::posts::over_allowance)) and scored by the spam
/// filter: a likely spam is held for review (shown to its author as awaiting review).
/// Agents' questions are shown at once. Nothing is learned from it: the filter learns
/// from moderators only. Records `topic_changed` (`asked`).
pub async fn create(
    c: &mut dyn Conn,
    who: &Principal,
    new: NewTopic,
    now: Timestamp,
) -> Result<Posted<Topic>> {
    let (customer, user) = writer(who)?;
    if let Some(cu) = customer
        && let Some(per_hour) = super::posts::over_allowance(c, cu, now).await?
    {
        return Ok(Posted::Limited { per_hour });
    }
    let text = format!("{}\n{}", new.title.as_str(), new.body.as_str());
    let (state, score) = spam::judge(c, customer.is_some(), &text).await?;
    let topic_id = c
        .one(
            "INSERT INTO community_topics (title, author_customer_id, author_user_id, state,
                 last_activity_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5, $5) RETURNING id",
            &[
                new.title.as_str().into(),
                customer.into(),
                user.into(),
                state.as_str().into(),
                now.into(),
            ],
        )
        .await?
        .int("id")?;
    c.execute(
        "INSERT INTO community_posts (topic_id, is_question, body, author_customer_id,
                 author_user_id, state, spam_score, created_at, updated_at)
             VALUES ($1, TRUE, $2, $3, $4, $5, $6, $7, $7)",
        &[
            topic_id.into(),
            new.body.as_str().into(),
            customer.into(),
            user.into(),
            state.as_str().into(),
            score.into(),
            now.into(),
        ],
    )
    .await?;
    record_change(c, who, topic_id, "asked", now).await?;
    Ok(Posted::Done(get(c, Some(who), topic_id).await?))
}

/// Accepts an answer of a topic: the asker or an agent may; the answer must be shown.
/// Accepting another answer replaces the accepted one. An agent's acceptance is a
/// moderator's judgement: the spam filter learns the answer as a good post. Records
/// `topic_changed` (`accepted`).
pub async fn accept(
    c: &mut dyn Conn,
    who: &Principal,
    topic_id: i64,
    post_id: i64,
    now: Timestamp,
) -> Result<()> {
    let t = get(c, Some(who), topic_id).await?;
    let allowed = match who {
        Principal::Agent(_) => true,
        Principal::Customer(id) => t.author.customer_id == Some(*id),
        Principal::System => false,
    };
    if !allowed {
        return Err(StoreError::Forbidden(
            "only the person who asked or an agent may accept an answer",
        ));
    }
    let r = c
        .opt(
            "SELECT state, is_question FROM community_posts WHERE id = $1 AND topic_id = $2",
            &[post_id.into(), topic_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("post"))?;
    if r.bool("is_question")? || state_of(&r.text("state")?)? != PostState::Visible {
        return Err(StoreError::Conflict(
            "only a shown answer can be accepted".into(),
        ));
    }
    c.execute(
        "UPDATE community_topics SET accepted_post_id = $1, updated_at = $2 WHERE id = $3",
        &[post_id.into(), now.into(), topic_id.into()],
    )
    .await?;
    if matches!(who, Principal::Agent(_)) {
        spam::learn(c, post_id, Some(spam::Label::Ham)).await?;
    }
    record_change(c, who, topic_id, "accepted", now).await
}

/// Locks a topic (no new answers) or unlocks it; agents only. Records `topic_changed`
/// (`locked`, `unlocked`).
pub async fn set_locked(
    c: &mut dyn Conn,
    agent: &Viewer,
    topic_id: i64,
    locked: bool,
    now: Timestamp,
) -> Result<()> {
    let n = c
        .execute(
            "UPDATE community_topics SET locked = $1, updated_at = $2 WHERE id = $3",
            &[locked.into(), now.into(), topic_id.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("topic"));
    }
    let action = if locked { "locked" } else { "unlocked" };
    record_change(c, &Principal::Agent(agent.clone()), topic_id, action, now).await
}

/// Turns a customer's topic into a ticket for that customer, linked both ways: the
/// topic keeps the ticket (agents see it), the ticket gets a note naming the topic.
/// Returns the ticket's id and whether it was made now (a topic already turned into a
/// ticket answers with that ticket).
pub async fn to_ticket(
    c: &mut dyn Conn,
    viewer: &Viewer,
    topic_id: i64,
    now: Timestamp,
) -> Result<(i64, bool)> {
    let who = Principal::Agent(viewer.clone());
    let t = get(c, Some(&who), topic_id).await?;
    if let Some(ticket) = t.ticket_id {
        return Ok((ticket, false));
    }
    let Some(customer) = t.author.customer_id else {
        return Err(StoreError::Conflict(
            "an agent asked this topic; there is no customer to open a ticket for".into(),
        ));
    };
    let email = crate::customers::get(c, customer).await?.email;
    let email = rapport_domain::EmailAddress::parse(&email)
        .map_err(|e| StoreError::Db(format!("stored customer address: {e}")))?;
    let ticket = tickets::create(
        c,
        Some(viewer),
        NewTicket {
            subject: Subject::parse(&t.title)?,
            body: Body::parse(&t.body)?,
            customer_email: email,
            customer_name: None,
            channel: Channel::Web,
            priority: Priority::Normal,
            category: None,
            tags: Vec::new(),
            custom_fields: serde_json::Map::new(),
            team_id: None,
            assignee_id: None,
            attachments: Vec::new(),
        },
        now,
    )
    .await?;
    let note = Body::parse(&format!(
        "From community topic #{topic_id}: /community/topics/{topic_id}"
    ))?;
    tickets::system_note(c, ticket.id, &note, now).await?;
    c.execute(
        "UPDATE community_topics SET ticket_id = $1, updated_at = $2 WHERE id = $3",
        &[ticket.id.into(), now.into(), topic_id.into()],
    )
    .await?;
    Ok((ticket.id, true))
}

/// Turns a topic into a draft knowledge-base article (the kb room's `create`): the
/// question as its title, the question and the accepted answer (else the most voted shown
/// answer) as its text, linked from the topic (agents see it). Returns the article's id
/// and whether it was made now (a topic whose draft still exists answers with it).
pub async fn to_article(
    c: &mut dyn Conn,
    viewer: &Viewer,
    topic_id: i64,
    now: Timestamp,
) -> Result<(i64, bool)> {
    let who = Principal::Agent(viewer.clone());
    let (t, posts) = thread(c, Some(&who), topic_id).await?;
    if let Some(article) = t.article_id {
        match crate::kb::get(c, Some(&who), article).await {
            Ok(a) => return Ok((a.id, false)),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let best = posts
        .iter()
        .filter(|p| !p.is_question && p.state == PostState::Visible)
        .find(|p| Some(p.id) == t.accepted_post_id)
        .or_else(|| {
            posts
                .iter()
                .filter(|p| !p.is_question && p.state == PostState::Visible)
                .max_by_key(|p| (p.votes, -p.id))
        });
    // The posts' images stay out of the draft: the editor's preview would fetch them.
    let draft = rapport_domain::community::draft_markdown;
    let mut body = format!("## The question\n\n{}\n", draft(&t.body));
    if let Some(a) = best {
        body.push_str(&format!("\n## The answer\n\n{}\n", draft(&a.body)));
    }
    let new = crate::kb::NewArticle::draft(
        rapport_domain::kb::ArticleTitle::parse(&t.title)?,
        rapport_domain::kb::ArticleBody::parse(&body)?,
    );
    let article = crate::kb::create(c, viewer, new, now).await?;
    c.execute(
        "UPDATE community_topics SET article_id = $1, updated_at = $2 WHERE id = $3",
        &[article.id.into(), now.into(), topic_id.into()],
    )
    .await?;
    Ok((article.id, true))
}

/// Whether `who` may read the topic a post belongs to and the post itself; the post's
/// topic id and whether it is the question.
pub(crate) async fn readable_post(
    c: &mut dyn Conn,
    who: &Principal,
    post_id: i64,
) -> Result<(i64, bool, Option<i64>)> {
    let r = c
        .opt(
            "SELECT p.topic_id, p.is_question, p.state, p.author_customer_id,
                    t.state AS topic_state, t.author_customer_id AS topic_author
             FROM community_posts p JOIN community_topics t ON t.id = p.topic_id
             WHERE p.id = $1",
            &[post_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("post"))?;
    let author = r.opt_int("author_customer_id")?;
    let ok = may_read(Some(who), state_of(&r.text("state")?)?, author)
        && may_read(
            Some(who),
            state_of(&r.text("topic_state")?)?,
            r.opt_int("topic_author")?,
        );
    if !ok {
        return Err(StoreError::NotFound("post"));
    }
    Ok((r.int("topic_id")?, r.bool("is_question")?, author))
}
