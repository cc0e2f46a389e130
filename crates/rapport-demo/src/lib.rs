//! The demo help desk: a seeded, repeatable generator of agents, teams, customers and
//! realistic conversations across channels, categories, priorities and states. It writes
//! through the same store operations as the API, so the demo exercises the real paths
//! and the benchmark fills its database the way production would. It also writes a
//! knowledge base ([`kb`]) for the help center, search and deflection to work on.

pub mod commerce;
pub mod community;
pub mod crm;
pub mod kb;
pub mod surveys;
pub mod text;

use futures::StreamExt;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rapport_domain::{
    Body, Category, Channel, Clock, CustomerName, EmailAddress, Priority, Role, Subject, Tag,
    TicketStatus, Timestamp, Viewer,
};
use rapport_store::op;
use rapport_store::people::{self, NewUser};
use rapport_store::tickets::{self, NewReply, NewTicket, TicketPatch};
use rapport_store::tokens;
use rapport_store::{Db, StoreError, secrets};

/// How big a demo to make.
#[derive(Debug, Clone)]
pub struct DemoSize {
    /// Tickets to generate.
    pub tickets: usize,
    /// Distinct customers.
    pub customers: usize,
    /// Seed: the same seed makes the same help desk.
    pub seed: u64,
}

/// How to sign in to the demo.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    /// Admin's address.
    pub email: String,
    /// Admin's password.
    pub password: String,
    /// A fresh API token for the admin.
    pub token: String,
}

/// What [`populate`] did.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// False when the database already held the demo and was left alone.
    pub created: bool,
    /// Tickets written.
    pub tickets: usize,
    /// Messages written.
    pub messages: usize,
    /// Customers written.
    pub customers: usize,
    /// Knowledge-base articles written (0 when the knowledge base already had some).
    pub articles: usize,
    /// Community topics written (0 when the forum already had some).
    pub topics: usize,
    /// How to sign in.
    pub login: DemoLogin,
}

/// The demo admin's address.
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// The password of every demo account.
pub const PASSWORD: &str = "rapport-demo";

const AGENTS: &[(&str, &str, Role, usize)] = &[
    (
        "maya.okafor@example.com",
        "Maya Okafor",
        Role::Supervisor,
        0,
    ),
    ("leo.martin@example.com", "Leo Martin", Role::Agent, 0),
    ("sara.lind@example.com", "Sara Lind", Role::Agent, 1),
    ("tom.becker@example.com", "Tom Becker", Role::Agent, 1),
    ("aisha.bello@example.com", "Aisha Bello", Role::Agent, 2),
    ("jon.park@example.com", "Jon Park", Role::Agent, 3),
];
const TEAMS: &[&str] = &["Tier 1", "Billing", "Technical", "Orders"];

fn team_for(category: &str) -> usize {
    match category {
        "billing" => 1,
        "technical" => 2,
        "order-management" => 3,
        _ => 0,
    }
}

/// Fills the database with a demo help desk unless it already has one, and returns a
/// way to sign in (a fresh API token each call).
pub async fn populate(
    db: &Db,
    clock: &dyn Clock,
    size: &DemoSize,
) -> Result<DemoSummary, StoreError> {
    let now = clock.now();
    let admin = EmailAddress::parse(ADMIN_EMAIL)?;
    let token = secrets::new_token();
    let login = DemoLogin {
        email: ADMIN_EMAIL.into(),
        password: PASSWORD.into(),
        token: token.clone(),
    };
    let existing = {
        let admin = admin.clone();
        db.read(op!(c => people::user_for_sign_in(c, &admin).await))
            .await?
    };
    if let Some((user, _)) = existing {
        let id = user.id;
        let secret = token.clone();
        db.write(op!(c => {
            let new = tokens::NewToken {
                user_id: id,
                token: secret,
                name: "demo".into(),
                expires_at: None,
            };
            tokens::create(c, new, now).await
        }))
        .await?;
        // A demo made before the knowledge base existed gets one now.
        let kb = kb::populate(db, clock, id).await?;
        let forum = community::populate(db, clock, id).await?;
        return Ok(DemoSummary {
            created: false,
            tickets: 0,
            messages: 0,
            customers: 0,
            articles: kb.articles,
            topics: forum.topics,
            login,
        });
    }
    let hash = secrets::hash_password(PASSWORD).map_err(StoreError::Db)?;
    let secret = token.clone();
    let (admin_id, team_ids, agent_ids) = db
        .write(op!(c => {
            let mut team_ids = Vec::new();
            for t in TEAMS {
                team_ids.push(people::create_team(c, t, now).await?.id);
            }
            let a = people::create_user(
                c,
                NewUser {
                    email: admin,
                    name: "Riley Admin".into(),
                    role: Role::Admin,
                    password_hash: Some(hash.clone()),
                },
                now,
            )
            .await?;
            let new = tokens::NewToken {
                user_id: a.id,
                token: secret,
                name: "demo".into(),
                expires_at: None,
            };
            tokens::create(c, new, now).await?;
            let mut agents = Vec::new();
            for (email, name, role, team) in AGENTS {
                let u = people::create_user(
                    c,
                    NewUser {
                        email: EmailAddress::parse(email)?,
                        name: (*name).into(),
                        role: *role,
                        password_hash: Some(hash.clone()),
                    },
                    now,
                )
                .await?;
                people::add_member(c, team_ids[*team], u.id).await?;
                agents.push((u.id, *team));
            }
            Ok((a.id, team_ids, agents))
        }))
        .await?;

    let plans = plan_tickets(size, now, &team_ids, &agent_ids);
    let customers = plans
        .iter()
        .map(|p| p.ticket.customer_email.clone())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let messages: usize = plans.iter().map(TicketPlan::message_count).sum();
    let tickets = plans.len();
    let mut shoppers: Vec<String> = Vec::new();
    for p in &plans {
        let email = p.ticket.customer_email.as_str();
        if shoppers.len() < 30 && !shoppers.iter().any(|s| s == email) {
            shoppers.push(email.to_owned());
        }
    }
    // The seeded conversations get SLA clocks like real ones: the clocks' subscriber reads
    // the stream from its start when the server starts (with each event's own time, so
    // older conversations show met, missed and running targets).
    db.write(op!(c => {
        rapport_store::stream::subscribe_from_start(c, rapport_store::sla::clocks::SUBSCRIBER, now).await
    }))
    .await?;
    write_plans(db, plans, 64).await?;
    // The demo's tickets are history, like an import: time rules (the check-in after a
    // solved ticket) act on what happens from now on, not on them.
    db.write(op!(c => rapport_store::automations::start_time_rules_from(c, now).await))
        .await?;
    let kb = kb::populate(db, clock, admin_id).await?;
    let forum = community::populate(db, clock, admin_id).await?;
    if let (Some((sup, sup_team)), Some((agent, agent_team))) = (
        AGENTS
            .iter()
            .zip(&agent_ids)
            .find(|(a, _)| a.2 == Role::Supervisor)
            .map(|(_, (id, t))| (*id, *t)),
        AGENTS
            .iter()
            .zip(&agent_ids)
            .find(|(a, _)| a.2 == Role::Agent)
            .map(|(_, (id, t))| (*id, *t)),
    ) {
        let viewer = |id: i64, role: Role, team: usize| Viewer {
            user_id: id,
            role,
            team_ids: vec![team_ids[team]],
        };
        commerce::populate(
            db,
            now,
            &shoppers,
            viewer(agent, Role::Agent, agent_team),
            viewer(sup, Role::Supervisor, sup_team),
        )
        .await?;
        crm::populate(db, now, &shoppers, viewer(sup, Role::Supervisor, sup_team)).await?;
    }
    Ok(DemoSummary {
        created: true,
        tickets,
        messages,
        customers,
        articles: kb.articles,
        topics: forum.topics,
        login,
    })
}

/// One step after a ticket is opened.
#[derive(Debug, Clone)]
pub enum Step {
    /// An agent replies or notes.
    Agent(i64, NewReply),
    /// The customer writes again.
    Customer(Body),
    /// An agent changes fields.
    Patch(i64, TicketPatch),
}

/// A whole generated conversation: the ticket, what follows, and when.
#[derive(Debug, Clone)]
pub struct TicketPlan {
    /// The ticket as opened.
    pub ticket: NewTicket,
    /// When it was opened.
    pub opened: Timestamp,
    /// What followed, each with its time.
    pub replies: Vec<(Timestamp, Step)>,
    /// A solved conversation's survey: offered when it was solved, and — if the customer
    /// answered it — when and how.
    pub survey: Option<(
        Timestamp,
        Option<(Timestamp, rapport_store::surveys::Answer)>,
    )>,
}

impl TicketPlan {
    /// Messages this conversation writes: the first one and every reply or note.
    pub fn message_count(&self) -> usize {
        1 + self
            .replies
            .iter()
            .filter(|(_, s)| !matches!(s, Step::Patch(..)))
            .count()
    }
}

fn pick<'a, T: ?Sized>(rng: &mut StdRng, items: &'a [&'a T]) -> &'a T {
    items[rng.gen_range(0..items.len())]
}

fn fill(rng: &mut StdRng, template: &str, name: &str, agent: &str) -> String {
    let mut s = template.to_owned();
    let order = format!("NW-{}", rng.gen_range(10_000..99_999));
    let amount = format!("${}.{:02}", rng.gen_range(9..400), rng.gen_range(0..100));
    let slots: [(&str, String); 8] = [
        ("{product}", pick(rng, text::PRODUCTS).to_owned()),
        ("{device}", pick(rng, text::DEVICES).to_owned()),
        ("{date}", pick(rng, text::DATES).to_owned()),
        ("{order}", order),
        ("{amount}", amount),
        ("{count}", rng.gen_range(2..6).to_string()),
        ("{name}", name.to_owned()),
        ("{agent}", agent.to_owned()),
    ];
    for (k, v) in slots {
        s = s.replace(k, &v);
    }
    s
}

fn category_texts(
    slug: &str,
) -> (
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
) {
    let req = text::REQUESTS
        .iter()
        .find(|(c, _)| *c == slug)
        .map_or(text::REQUESTS[0].1, |(_, r)| *r);
    let rep = text::REPLIES
        .iter()
        .find(|(c, _)| *c == slug)
        .map_or(text::REPLIES[0].1, |(_, r)| *r);
    (req, rep)
}

/// Generates the conversations of a demo, deterministic for a seed. Tickets spread over
/// the 90 days before `now`; older ones are mostly solved or closed.
pub fn plan_tickets(
    size: &DemoSize,
    now: Timestamp,
    team_ids: &[i64],
    agents: &[(i64, usize)],
) -> Vec<TicketPlan> {
    let mut rng = StdRng::seed_from_u64(size.seed);
    let people: Vec<(String, String)> = (0..size.customers.max(1))
        .map(|i| {
            let first = pick(&mut rng, text::FIRST);
            let last = pick(&mut rng, text::LAST);
            let domain = pick(&mut rng, text::DOMAINS);
            let local: String = format!("{first}.{last}{i}")
                .to_lowercase()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        'x'
                    }
                })
                .collect();
            (format!("{local}@{domain}"), format!("{first} {last}"))
        })
        .collect();
    let span = 90 * 86_400_i64;
    let mut offsets: Vec<i64> = (0..size.tickets).map(|_| rng.gen_range(60..span)).collect();
    offsets.sort_unstable_by(|a, b| b.cmp(a));
    let mut plans = Vec::with_capacity(size.tickets);
    for age in offsets {
        let opened = now.plus_secs(-age);
        let slug = *[
            "technical",
            "technical",
            "billing",
            "product-guidance",
            "order-management",
            "order-management",
        ]
        .choose(&mut rng)
        .unwrap_or(&"technical");
        let (requests, replies) = category_texts(slug);
        let (subject, body) = requests[rng.gen_range(0..requests.len())];
        let (email, name) = &people[rng.gen_range(0..people.len())];
        let first = name.split(' ').next().unwrap_or(name);
        let team_idx = team_for(slug);
        let team_agents: Vec<i64> = agents
            .iter()
            .filter(|(_, t)| *t == team_idx)
            .map(|(a, _)| *a)
            .collect();
        let agent = if team_agents.is_empty() {
            agents.first().map_or(1, |a| a.0)
        } else {
            team_agents[rng.gen_range(0..team_agents.len())]
        };
        let channel = *[
            Channel::Email,
            Channel::Email,
            Channel::Email,
            Channel::Chat,
            Channel::Chat,
            Channel::Web,
            Channel::Phone,
            Channel::Sms,
            Channel::Social,
            Channel::Api,
        ]
        .choose(&mut rng)
        .unwrap_or(&Channel::Email);
        let priority = *[
            Priority::Low,
            Priority::Normal,
            Priority::Normal,
            Priority::Normal,
            Priority::High,
            Priority::Urgent,
        ]
        .choose(&mut rng)
        .unwrap_or(&Priority::Normal);
        let subject_text = fill(&mut rng, subject, first, "");
        let body_text = fill(&mut rng, body, first, "");
        let mut tags = Vec::new();
        if rng.gen_bool(0.3) {
            tags.push(pick(&mut rng, &["vip", "refund", "bug", "shipping", "feedback"]).to_owned());
        }
        let (Ok(subject), Ok(body), Ok(email), Ok(cat)) = (
            Subject::parse(&subject_text),
            Body::parse(&body_text),
            EmailAddress::parse(email),
            Category::parse(slug),
        ) else {
            continue;
        };
        let ticket = NewTicket {
            subject,
            body,
            customer_email: email,
            customer_name: CustomerName::parse(name).ok().flatten(),
            channel,
            priority,
            category: Some(cat),
            tags: Tag::parse_list(&tags).unwrap_or_default(),
            custom_fields: serde_json::Map::new(),
            team_id: team_ids.get(team_idx).copied(),
            assignee_id: None,
            attachments: Vec::new(),
        };
        let mut steps = Vec::new();
        let mut t = opened;
        let assigned = rng.gen_bool(0.85);
        if assigned {
            t = t.plus_secs(rng.gen_range(60..7_200));
            steps.push((
                t,
                Step::Patch(
                    agent,
                    TicketPatch {
                        assignee_id: Some(Some(agent)),
                        ..TicketPatch::default()
                    },
                ),
            ));
        }
        let agent_name = "the team";
        let reply = |rng: &mut StdRng, t: Timestamp, status: Option<TicketStatus>| {
            let template = replies[rng.gen_range(0..replies.len())];
            let text = fill(rng, template, first, agent_name);
            Body::parse(&text).ok().map(|body| {
                (
                    t,
                    Step::Agent(
                        agent,
                        NewReply {
                            body,
                            internal: false,
                            attachments: Vec::new(),
                            status,
                            deliver: false,
                        },
                    ),
                )
            })
        };
        let days_old = age / 86_400;
        if assigned && rng.gen_bool(0.9) {
            t = t.plus_secs(rng.gen_range(300..20_000));
            steps.extend(reply(&mut rng, t, None));
            if rng.gen_bool(0.25) {
                t = t.plus_secs(rng.gen_range(60..3_600));
                if let Ok(body) = Body::parse(pick(&mut rng, text::NOTES)) {
                    steps.push((
                        t,
                        Step::Agent(
                            agent,
                            NewReply {
                                body,
                                internal: true,
                                attachments: Vec::new(),
                                status: None,
                                deliver: false,
                            },
                        ),
                    ));
                }
            }
            if rng.gen_bool(0.6) {
                t = t.plus_secs(rng.gen_range(600..86_400));
                let template = pick(&mut rng, text::FOLLOW_UPS);
                let text = fill(&mut rng, template, first, "there");
                if let Ok(body) = Body::parse(&text) {
                    steps.push((t, Step::Customer(body)));
                }
                let finish = if days_old > 3 || rng.gen_bool(0.5) {
                    Some(TicketStatus::Solved)
                } else {
                    None
                };
                t = t.plus_secs(rng.gen_range(300..40_000));
                steps.extend(reply(&mut rng, t, finish));
            } else if days_old > 5 {
                t = t.plus_secs(rng.gen_range(86_400..300_000));
                steps.push((
                    t,
                    Step::Patch(
                        agent,
                        TicketPatch {
                            status: Some(TicketStatus::Solved),
                            ..TicketPatch::default()
                        },
                    ),
                ));
            }
            if days_old > 30 && rng.gen_bool(0.7) {
                t = t.plus_secs(4 * 86_400);
                steps.push((
                    t,
                    Step::Patch(
                        agent,
                        TicketPatch {
                            status: Some(TicketStatus::Closed),
                            ..TicketPatch::default()
                        },
                    ),
                ));
            }
        }
        // Nothing happens in the future.
        steps.retain(|(at, _)| *at <= now);
        // The last solve, unless the customer wrote after it (which reopens the ticket).
        let solved = steps.iter().rev().find_map(|(at, s)| match s {
            Step::Customer(_) => Some(None),
            Step::Agent(_, NewReply { status, .. })
            | Step::Patch(_, TicketPatch { status, .. })
                if *status == Some(TicketStatus::Solved) =>
            {
                Some(Some(*at))
            }
            _ => None,
        });
        let solved = solved.flatten();
        let survey = solved.map(|at| {
            let answer =
                surveys::plan(&mut rng).map(|p| (surveys::answered_at(at, &p, now), p.answer));
            (at, answer)
        });
        plans.push(TicketPlan {
            ticket,
            opened,
            replies: steps,
            survey,
        });
    }
    plans
}

/// Writes planned conversations, `concurrency` at a time so the SQLite writer can
/// commit them in batches. Each conversation is one transaction.
pub async fn write_plans(
    db: &Db,
    plans: Vec<TicketPlan>,
    concurrency: usize,
) -> Result<usize, StoreError> {
    let results = futures::stream::iter(plans.into_iter().map(|plan| {
        let db = db.clone();
        async move { db.write(op!(c => write_one(c, plan).await)).await }
    }))
    .buffer_unordered(concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    let mut n = 0;
    for r in results {
        r?;
        n += 1;
    }
    Ok(n)
}

async fn write_one(c: &mut dyn rapport_store::Conn, plan: TicketPlan) -> Result<(), StoreError> {
    let t = tickets::create(c, None, plan.ticket, plan.opened).await?;
    for (at, step) in plan.replies {
        let viewer = |id| Viewer {
            user_id: id,
            role: Role::Supervisor,
            team_ids: Vec::new(),
        };
        match step {
            Step::Agent(agent, r) => {
                tickets::reply(c, &viewer(agent), t.id, r, at).await?;
            }
            Step::Customer(body) => {
                let who = rapport_domain::Principal::Customer(t.customer.id);
                tickets::customer_reply(c, &who, t.id, &body, t.channel, Vec::new(), at).await?;
            }
            Step::Patch(agent, p) => {
                tickets::update(c, &viewer(agent), t.id, p, at).await?;
            }
        }
    }
    if let Some((sent, answer)) = plan.survey
        && let Some(s) = rapport_store::surveys::offer_for_ticket(c, t.id, t.channel, sent).await?
        && let Some((answered, answer)) = answer
    {
        rapport_store::surveys::answer(c, s.id, answer, answered).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_help_desk() {
        let size = DemoSize {
            tickets: 50,
            customers: 10,
            seed: 7,
        };
        let now = Timestamp(1_700_000_000_000_000);
        let a = plan_tickets(&size, now, &[1, 2, 3, 4], &[(5, 0), (6, 1), (7, 2), (8, 3)]);
        let b = plan_tickets(&size, now, &[1, 2, 3, 4], &[(5, 0), (6, 1), (7, 2), (8, 3)]);
        assert_eq!(a.len(), 50);
        let subjects = |p: &[TicketPlan]| {
            p.iter()
                .map(|t| t.ticket.subject.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(subjects(&a), subjects(&b));
        let distinct: std::collections::HashSet<_> = subjects(&a).into_iter().collect();
        assert!(
            distinct.len() > 15,
            "only {} distinct subjects",
            distinct.len()
        );
        assert!(a.iter().all(|p| p.replies.iter().all(|(t, _)| *t <= now)));
        assert!(!a.iter().any(|p| p.ticket.body.as_str().contains('{')));
    }
}
