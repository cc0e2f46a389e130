//! The demo's community forum: a dozen threads from `kb/community.json` — customers
//! asking, customers and agents answering, votes and accepted answers — written through
//! the forum's store like the pages write them.

use std::collections::HashMap;

use rapport_domain::community::{PostBody, TopicTitle};
use rapport_domain::{Clock, CustomerName, EmailAddress, Principal, Role, Timestamp, Viewer};
use rapport_store::community::list::{self, TopicFilter};
use rapport_store::community::topics::{self, NewTopic};
use rapport_store::community::{Posted, posts};
use rapport_store::{Conn, Db, StoreError, customers, op, people};

use crate::kb::{SeedAuthor, SeedTopic, community_topics};

/// What [`populate`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommunitySummary {
    /// False when the forum already had topics and was left alone.
    pub created: bool,
    /// Topics asked.
    pub topics: usize,
    /// Answers given.
    pub answers: usize,
    /// Votes cast.
    pub votes: usize,
    /// Answers accepted.
    pub accepted: usize,
}

fn written<T>(posted: Posted<T>, what: &str) -> Result<T, StoreError> {
    match posted {
        Posted::Done(t) => Ok(t),
        Posted::Limited { per_hour } => Err(StoreError::Conflict(format!(
            "demo community seed {what:?} passed the allowance of {per_hour} posts an hour"
        ))),
    }
}

/// The principal a seed author writes as: a customer (found or created by address) or
/// the demo agent with that address — `fallback_agent` when there is no such agent.
async fn principal(
    c: &mut dyn Conn,
    who: &SeedAuthor,
    fallback_agent: i64,
    now: Timestamp,
) -> Result<Principal, StoreError> {
    match who {
        SeedAuthor::Customer { name, email } => {
            let email = EmailAddress::parse(email)?;
            let name = CustomerName::parse(name)?;
            let id = customers::find_or_create(c, &email, name.as_ref(), now).await?;
            Ok(Principal::Customer(id))
        }
        SeedAuthor::Agent { agent } => {
            let email = EmailAddress::parse(agent)?;
            let viewer = match people::user_for_sign_in(c, &email).await? {
                Some((u, _)) => Viewer {
                    user_id: u.id,
                    role: u.role,
                    team_ids: u.team_ids,
                },
                None => Viewer {
                    user_id: fallback_agent,
                    role: Role::Admin,
                    team_ids: Vec::new(),
                },
            };
            Ok(Principal::Agent(viewer))
        }
    }
}

/// At most `now`: seed threads never happen in the future.
fn at(now: Timestamp, t: Timestamp) -> Timestamp {
    if t.0 > now.0 { now } else { t }
}

async fn write_topic(
    c: &mut dyn Conn,
    seed: &SeedTopic,
    fallback_agent: i64,
    voters: &[i64],
    now: Timestamp,
    summary: &mut CommunitySummary,
) -> Result<(), StoreError> {
    let asked = now.plus_secs(-i64::from(seed.days_ago) * 86_400);
    let asker = principal(c, &seed.author, fallback_agent, asked).await?;
    let new = NewTopic {
        title: TopicTitle::parse(&seed.title)?,
        body: PostBody::parse(&seed.body, "body")?,
    };
    let topic = written(topics::create(c, &asker, new, asked).await?, &seed.title)?;
    summary.topics += 1;
    for answer in &seed.answers {
        let when = at(now, asked.plus_secs(i64::from(answer.hours_after) * 3_600));
        let who = principal(c, &answer.author, fallback_agent, when).await?;
        let body = PostBody::parse(&answer.body, "body")?;
        let post = written(
            posts::answer(c, &who, topic.id, body, when).await?,
            &seed.title,
        )?;
        summary.answers += 1;
        let author = match who {
            Principal::Customer(id) => Some(id),
            _ => None,
        };
        let mut cast = 0;
        for voter in voters.iter().filter(|v| Some(**v) != author) {
            if cast >= answer.votes {
                break;
            }
            cast += 1;
            let vote_at = at(now, when.plus_secs(i64::from(cast) * 1_800));
            posts::toggle_vote(c, &Principal::Customer(*voter), post.id, vote_at).await?;
            summary.votes += 1;
        }
        if answer.accepted {
            let accepted_at = at(now, when.plus_secs(7_200));
            topics::accept(c, &asker, topic.id, post.id, accepted_at).await?;
            summary.accepted += 1;
        }
    }
    Ok(())
}

/// Writes the demo's community threads unless the forum already has a topic. Customers
/// are found or created by address; agents' answers come from the demo agent with the
/// seed's address, or from `fallback_agent` (an admin) when the database has no such
/// agent. One transaction: all of it or nothing.
///
/// # Errors
/// A store error, or `StoreError::Db` when the shipped seed file does not parse (a unit
/// test keeps it valid).
pub async fn populate(
    db: &Db,
    clock: &dyn Clock,
    fallback_agent: i64,
) -> Result<CommunitySummary, StoreError> {
    let seeds = community_topics().map_err(|e| StoreError::Db(format!("community.json: {e}")))?;
    let now = clock.now();
    db.write(op!(c => {
        let first = TopicFilter {
            limit: 1,
            ..TopicFilter::default()
        };
        if !list::list(c, Some(&Principal::System), &first)
            .await?
            .topics
            .is_empty()
        {
            return Ok(CommunitySummary::default());
        }
        // Everyone who takes part votes: the seed's customers, in order of appearance.
        let oldest = now.plus_secs(-365 * 86_400);
        let mut voters = Vec::new();
        let mut seen = HashMap::new();
        for seed in &seeds {
            let authors = std::iter::once(&seed.author).chain(seed.answers.iter().map(|a| &a.author));
            for a in authors {
                if let SeedAuthor::Customer { email, .. } = a
                    && !seen.contains_key(email)
                {
                    let Principal::Customer(id) = principal(c, a, fallback_agent, oldest).await?
                    else {
                        continue;
                    };
                    seen.insert(email.clone(), id);
                    voters.push(id);
                }
            }
        }
        let mut summary = CommunitySummary {
            created: true,
            ..CommunitySummary::default()
        };
        for seed in &seeds {
            write_topic(c, seed, fallback_agent, &voters, now, &mut summary).await?;
        }
        Ok(summary)
    }))
    .await
}
