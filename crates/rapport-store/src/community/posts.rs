//! Answers and votes, and how many posts a customer may write an hour.

use rapport_domain::community::{PostBody, PostState, posts_per_hour};
use rapport_domain::{Principal, Timestamp};

use super::topics::{self, post_of, readable_post, writer};
use super::{Post, Posted, record_change, spam};
use crate::db::Conn;
use crate::error::{Result, StoreError};

/// The customer's hourly allowance when they have used it up, else `None`: an account
/// whose first post is under a day old, or with fewer than three shown posts, gets the
/// new accounts' allowance (`rapport_domain::community::posts_per_hour`).
pub async fn over_allowance(
    c: &mut dyn Conn,
    customer: i64,
    now: Timestamp,
) -> Result<Option<i64>> {
    let r = c
        .one(
            "SELECT MIN(created_at) AS first_at,
                    COUNT(CASE WHEN state = 'visible' THEN 1 END) AS shown,
                    COUNT(CASE WHEN created_at > $2 THEN 1 END) AS last_hour
             FROM community_posts WHERE author_customer_id = $1",
            &[customer.into(), now.plus_secs(-3600).into()],
        )
        .await?;
    let per_hour = posts_per_hour(r.opt_int("first_at")?.map(Timestamp), r.int("shown")?, now);
    Ok((r.int("last_hour")? >= per_hour).then_some(per_hour))
}

/// Answers a topic `who` may read. The topic must be shown and not locked. A customer's
/// answer is limited per hour and scored by the spam filter like a question (nothing is
/// learned from it). Records `topic_changed` (`answered`).
pub async fn answer(
    c: &mut dyn Conn,
    who: &Principal,
    topic_id: i64,
    body: PostBody,
    now: Timestamp,
) -> Result<Posted<Post>> {
    let (customer, user) = writer(who)?;
    let t = topics::get(c, Some(who), topic_id).await?;
    if t.state != PostState::Visible {
        return Err(StoreError::Conflict(
            "this topic is not open for answers".into(),
        ));
    }
    if t.locked {
        return Err(StoreError::Conflict(
            "this topic is locked: no new answers".into(),
        ));
    }
    if let Some(cu) = customer
        && let Some(per_hour) = over_allowance(c, cu, now).await?
    {
        return Ok(Posted::Limited { per_hour });
    }
    let (state, score) = spam::judge(c, customer.is_some(), body.as_str()).await?;
    let id = c
        .one(
            "INSERT INTO community_posts (topic_id, is_question, body, author_customer_id,
                 author_user_id, state, spam_score, created_at, updated_at)
             VALUES ($1, FALSE, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            &[
                topic_id.into(),
                body.as_str().into(),
                customer.into(),
                user.into(),
                state.as_str().into(),
                score.into(),
                now.into(),
            ],
        )
        .await?
        .int("id")?;
    if state == PostState::Visible {
        c.execute(
            "UPDATE community_topics SET last_activity_at = $1 WHERE id = $2",
            &[now.into(), topic_id.into()],
        )
        .await?;
    }
    record_change(c, who, topic_id, "answered", now).await?;
    Ok(Posted::Done(get(c, id).await?))
}

/// One post, whatever its state (for the store's own use and agents).
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Post> {
    let r = c
        .opt(
            "SELECT p.id, p.topic_id, p.is_question, p.body, p.author_customer_id,
                    p.author_user_id, p.state, p.votes, p.spam_score, p.created_at,
                    cu.name AS customer_name, u.name AS agent_name
             FROM community_posts p
             LEFT JOIN customers cu ON cu.id = p.author_customer_id
             LEFT JOIN users u ON u.id = p.author_user_id
             WHERE p.id = $1",
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("post"))?;
    post_of(&r)
}

/// Votes for a shown post, or takes the vote back: one vote per customer per post
/// (the table's key), customers only, never on one's own post. Returns whether the
/// customer now votes for it and the post's votes.
pub async fn toggle_vote(
    c: &mut dyn Conn,
    who: &Principal,
    post_id: i64,
    now: Timestamp,
) -> Result<(bool, i64)> {
    let Principal::Customer(customer) = who else {
        return Err(StoreError::Forbidden("only customers vote"));
    };
    let (topic_id, is_question, author) = readable_post(c, who, post_id).await?;
    let p = get(c, post_id).await?;
    if p.state != PostState::Visible {
        return Err(StoreError::Conflict("only shown posts take votes".into()));
    }
    if author == Some(*customer) {
        return Err(StoreError::Conflict(
            "you cannot vote for your own post".into(),
        ));
    }
    let removed = c
        .execute(
            "DELETE FROM community_votes WHERE post_id = $1 AND customer_id = $2",
            &[post_id.into(), (*customer).into()],
        )
        .await?;
    let voted = if removed > 0 {
        false
    } else {
        c.execute(
            "INSERT INTO community_votes (post_id, customer_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (post_id, customer_id) DO NOTHING",
            &[post_id.into(), (*customer).into(), now.into()],
        )
        .await?;
        true
    };
    // The count is read back from the votes themselves, so two votes racing on
    // PostgreSQL's READ COMMITTED can never count one row twice.
    let votes = c
        .one(
            "UPDATE community_posts
             SET votes = (SELECT COUNT(*) FROM community_votes WHERE post_id = $1)
             WHERE id = $1 RETURNING votes",
            &[post_id.into()],
        )
        .await?
        .int("votes")?;
    if is_question {
        c.execute(
            "UPDATE community_topics SET votes = $1 WHERE id = $2",
            &[votes.into(), topic_id.into()],
        )
        .await?;
    }
    Ok((voted, votes))
}

/// The posts of a topic a customer voted for (to show their votes pressed).
pub async fn voted_by(c: &mut dyn Conn, customer: i64, topic_id: i64) -> Result<Vec<i64>> {
    c.query(
        "SELECT v.post_id FROM community_votes v JOIN community_posts p ON p.id = v.post_id
         WHERE v.customer_id = $1 AND p.topic_id = $2",
        &[customer.into(), topic_id.into()],
    )
    .await?
    .iter()
    .map(|r| r.int("post_id"))
    .collect()
}
