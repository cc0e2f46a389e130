//! The community forum: customers (signed in through the portal) ask, answer, vote and
//! accept; agents answer with a badge, moderate, lock and turn topics into tickets;
//! anonymous visitors read only what is shown; the spam filter learns from moderators;
//! new accounts post less often; bad input is refused naming the field.

use std::sync::Arc;

use rapport_domain::{Clock, ManualClock, SystemClock};
use rapport_store::op;
use reqwest::header;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error, count};

use crate::on_both;

on_both!(
    customers_ask_agents_answer_customers_vote_and_accept,
    anonymous_visitors_read_only_what_is_shown,
    bad_input_is_refused_naming_the_field,
    moderators_hide_and_lock,
    the_spam_filter_learns_from_moderators,
    new_accounts_post_less_often,
    agents_turn_a_topic_into_a_ticket_or_an_article,
    a_draft_from_a_topic_fetches_no_stranger_images,
    suggestions_find_threads_while_a_question_is_typed,
    searching_the_forum_page_is_limited_per_address,
);

/// A browser signed in as a customer (portal session) or an agent (workspace session).
pub(crate) struct Browser {
    pub(crate) http: reqwest::Client,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

pub(crate) fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A customer with this address (made through a ticket), signed in to the portal.
pub(crate) async fn customer(
    app: &TestApp,
    email: &str,
    ip: &str,
    now: rapport_domain::Timestamp,
) -> Browser {
    app.ticket("Hello", "First contact", email).await;
    let email = email.to_owned();
    let token = rapport_store::secrets::random_hex(32);
    let hash = rapport_store::secrets::token_hash(&token);
    app.db
        .write(op!(c => {
            let id = rapport_store::testing::one_in(c, "SELECT id FROM customers WHERE email = $1", &[email.into()])
                .await?
                .int(0)?;
            rapport_store::portal::create_session(c, id, &hash, now, 30 * 86_400).await
        }))
        .await
        .unwrap();
    Browser {
        http: client_from(ip),
        cookie: format!("rapport_portal={token}; rapport_portal_csrf=form-token"),
        csrf: "form-token".into(),
    }
}

/// An agent's workspace session.
pub(crate) async fn agent_browser(
    app: &TestApp,
    user_id: i64,
    now: rapport_domain::Timestamp,
) -> Browser {
    let token = rapport_store::secrets::random_hex(32);
    let hash = rapport_store::secrets::token_hash(&token);
    let csrf = rapport_store::secrets::random_hex(16);
    let c2 = csrf.clone();
    app.db
        .write(op!(c => rapport_store::sessions::create(c, user_id, &hash, &c2, now, 30 * 86_400).await))
        .await
        .unwrap();
    Browser {
        http: client_from("127.0.0.1"),
        cookie: format!("rapport_session={token}"),
        csrf,
    }
}

impl Browser {
    pub(crate) async fn post(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.http
            .post(app.url(path))
            .header(header::COOKIE, &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn page(&self, app: &TestApp, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(app.url(path))
            .header(header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Asks a question; the new topic's id.
    pub(crate) async fn ask(&self, app: &TestApp, title: &str, body: &str) -> i64 {
        let r = self
            .post(
                app,
                "/community/topics",
                &[("title", title), ("body", body)],
            )
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        location_id(&r)
    }

    /// Answers a topic; the new post's id.
    pub(crate) async fn answer(&self, app: &TestApp, topic: i64, body: &str) -> i64 {
        let r = self
            .post(
                app,
                &format!("/community/topics/{topic}/answers"),
                &[("body", body)],
            )
            .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let to = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
        to.rsplit("#post-").next().unwrap().parse().unwrap()
    }
}

fn location_id(r: &reqwest::Response) -> i64 {
    let to = r.headers()[header::LOCATION].to_str().unwrap();
    to.trim_start_matches("/community/topics/")
        .split('#')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn vote(app: &TestApp, b: &Browser, post: i64) -> u16 {
    b.post(app, &format!("/community/posts/{post}/vote"), &[])
        .await
        .status()
        .as_u16()
}

pub(crate) async fn accept(app: &TestApp, b: &Browser, topic: i64, post: i64) -> u16 {
    let post = post.to_string();
    b.post(
        app,
        &format!("/community/topics/{topic}/accept"),
        &[("post_id", &post)],
    )
    .await
    .status()
    .as_u16()
}

pub(crate) async fn thread(app: &TestApp, id: i64, token: Option<&str>) -> (u16, Value) {
    app.call(
        "GET",
        &format!("/api/v1/community/topics/{id}"),
        token,
        None,
    )
    .await
}

async fn customers_ask_agents_answer_customers_vote_and_accept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let asker = customer(&app, "asker@example.com", "127.0.0.41", now).await;
    let other = customer(&app, "other@example.com", "127.0.0.42", now).await;
    let agent = agent_browser(&app, app.agent.id, now).await;

    let topic = asker
        .ask(
            &app,
            "How do I change my delivery address?",
            "I moved last week.",
        )
        .await;
    let (s, listed) = app
        .call("GET", "/api/v1/community/topics", None, None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(listed["topics"][0]["id"], topic);
    assert_eq!(listed["topics"][0]["answers"], 0);

    let by_agent = agent
        .answer(&app, topic, "Open **Account → Addresses** and edit it.")
        .await;
    let by_other = other.answer(&app, topic, "I did it from the app.").await;
    let (_, html) = other
        .page(&app, &format!("/community/topics/{topic}"))
        .await;
    assert!(html.contains("agent-badge"), "agents' answers are badged");
    assert!(html.contains("<strong>Account → Addresses</strong>"));

    // One vote per customer per post: voting again takes it back.
    assert_eq!(vote(&app, &asker, by_other).await, 303);
    assert_eq!(vote(&app, &other, by_agent).await, 303);
    assert_eq!(vote(&app, &asker, by_agent).await, 303);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM community_votes").await,
        3
    );
    assert_eq!(
        vote(&app, &asker, by_agent).await,
        303,
        "a second vote takes it back"
    );
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM community_votes").await,
        2
    );
    assert_eq!(vote(&app, &asker, by_agent).await, 303);
    assert_eq!(
        vote(&app, &other, by_other).await,
        409,
        "not on one's own post"
    );
    assert_eq!(
        vote(&app, &agent, by_other).await,
        403,
        "agents do not vote"
    );

    // Only the asker (or an agent) accepts; accepting another changes it.
    assert_eq!(accept(&app, &other, topic, by_other).await, 403);
    assert_eq!(accept(&app, &asker, topic, by_other).await, 303);
    let (_, t) = thread(&app, topic, None).await;
    assert_eq!(t["topic"]["accepted_post_id"], by_other);
    assert_eq!(
        t["posts"][1]["id"], by_other,
        "the accepted answer comes first"
    );
    assert_eq!(accept(&app, &agent, topic, by_agent).await, 303);
    let (_, t) = thread(&app, topic, None).await;
    assert_eq!(t["topic"]["accepted_post_id"], by_agent);
    let ids: Vec<i64> = t["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids[1..], [by_agent, by_other]);
    assert_eq!(t["posts"][1]["votes"], 2);
    assert_eq!(t["posts"][1]["author"]["agent"], true);
    assert_eq!(t["posts"][2]["author"]["agent"], false);

    // Most voted.
    let second = other
        .ask(&app, "Can I pay by invoice?", "For my company.")
        .await;
    assert_eq!(
        vote(&app, &other, t["posts"][0]["id"].as_i64().unwrap()).await,
        303
    );
    let (_, by_votes) = app
        .call("GET", "/api/v1/community/topics?sort=votes", None, None)
        .await;
    assert_eq!(by_votes["topics"][0]["id"], topic);
    let (_, unanswered) = app
        .call(
            "GET",
            "/api/v1/community/topics?sort=unanswered",
            None,
            None,
        )
        .await;
    let ids: Vec<i64> = unanswered["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [second]);
    app.stop().await;
}

async fn anonymous_visitors_read_only_what_is_shown(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let asker = customer(&app, "anna@example.com", "127.0.0.43", now).await;
    let shown = asker
        .ask(&app, "Where is my parcel?", "Ordered on Monday.")
        .await;
    let hidden = asker
        .ask(&app, "Something to hide here", "Rude words.")
        .await;
    let question = thread(&app, hidden, None).await.1["posts"][0]["id"]
        .as_i64()
        .unwrap();
    let (s, _) = app
        .post(
            &format!("/api/v1/community/posts/{question}/moderate"),
            json!({"action": "hide"}),
        )
        .await;
    assert_eq!(s, 200);

    let anon = client_from("127.0.0.44");
    let page = anon.get(app.url("/community")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Where is my parcel?"));
    assert!(!html.contains("Something to hide here"));
    assert!(
        html.contains("href=\"/portal/signin?next=%2Fcommunity"),
        "{html}"
    );
    assert!(html.contains(">Sign in to ask</a>"));
    assert!(
        !html.contains("name=\"title\""),
        "no form for anonymous visitors"
    );
    let r = anon
        .get(app.url(&format!("/community/topics/{hidden}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = anon
        .get(app.url(&format!("/community/topics/{shown}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Sign in to answer"));
    let (s, _) = thread(&app, hidden, None).await;
    assert_eq!(s, 404);
    let (s, t) = thread(&app, hidden, Some(&app.agent.token)).await;
    assert_eq!(s, 200, "agents read hidden topics");
    assert_eq!(t["topic"]["state"], "hidden");
    let (_, listed) = app
        .call("GET", "/api/v1/community/topics", None, None)
        .await;
    assert_eq!(listed["topics"].as_array().unwrap().len(), 1);
    // Posting without signing in is refused, whatever the form carries.
    let r = anon
        .post(app.url("/community/topics"))
        .header(header::COOKIE, "rapport_portal_csrf=t")
        .form(&[("csrf", "t"), ("title", "Spam from nowhere"), ("body", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM community_topics").await,
        2
    );
    // A bad token is still refused on the public API.
    let (s, _) = app
        .call("GET", "/api/v1/community/topics", Some("nonsense"), None)
        .await;
    assert_eq!(s, 401);
    app.stop().await;
}

async fn bad_input_is_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let who = customer(&app, "bea@example.com", "127.0.0.45", now).await;
    let r = who
        .post(
            &app,
            "/community/topics",
            &[("title", "Hi"), ("body", "Short title")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Please check the title"));
    let long = "x".repeat(20_001);
    let r = who
        .post(
            &app,
            "/community/topics",
            &[("title", "A fine question"), ("body", &long)],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Please check the body"));
    let r = who
        .post(
            &app,
            "/community/topics",
            &[("title", "A fine question"), ("body", "   ")],
        )
        .await;
    assert_eq!(r.status(), 422);
    // A stale form.
    let stale = Browser {
        csrf: "other".into(),
        ..customer(&app, "cid@example.com", "127.0.0.46", now).await
    };
    let r = stale
        .post(
            &app,
            "/community/topics",
            &[("title", "A fine question"), ("body", "ok")],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM community_posts").await,
        0,
        "nothing half-written"
    );
    // Unsafe markdown is neutralised.
    let topic = who
        .ask(
            &app,
            "Is this safe to post?",
            "<script>alert(1)</script>\n\n[click](javascript:alert(1))\n\n<img src=x onerror=alert(2)> <a href=\"data:text/html,x\" onmouseover=\"y\">d</a>",
        )
        .await;
    let (_, html) = who.page(&app, &format!("/community/topics/{topic}")).await;
    assert!(!html.contains("<script>alert"));
    assert!(html.contains(">click</a>"), "the link's text stays");
    // Inside tags: no script URL, no handler, no data: URL (as visible text it is harmless).
    for tag in html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        for bad in ["javascript:", "onerror", "onmouseover", "data:text"] {
            assert!(!tag.contains(bad), "{bad} survived in <{tag}>");
        }
    }
    let long_answer = "y".repeat(20_001);
    let r = who
        .post(
            &app,
            &format!("/community/topics/{topic}/answers"),
            &[("body", &long_answer)],
        )
        .await;
    assert_eq!(r.status(), 422);
    // The API's parameters.
    let q = "q".repeat(201);
    let (s, e) = app
        .call(
            "GET",
            &format!("/api/v1/community/topics?q={q}"),
            None,
            None,
        )
        .await;
    assert_error(s, &e, 422, Some("q"));
    let (s, e) = app
        .call("GET", "/api/v1/community/topics?sort=loudest", None, None)
        .await;
    assert_error(s, &e, 422, Some("sort"));
    let (s, e) = app
        .call("GET", "/api/v1/community/topics?limit=0", None, None)
        .await;
    assert_error(s, &e, 422, Some("limit"));
    let (s, e) = app
        .call(
            "GET",
            &format!("/api/v1/community/suggest?q={q}"),
            None,
            None,
        )
        .await;
    assert_error(s, &e, 422, Some("q"));
    let (s, e) = app
        .call("GET", "/api/v1/community/topics/nope", None, None)
        .await;
    assert_error(s, &e, 400, None);
    let question = thread(&app, topic, None).await.1["posts"][0]["id"]
        .as_i64()
        .unwrap();
    let (s, e) = app
        .post(
            &format!("/api/v1/community/posts/{question}/moderate"),
            json!({"action": "burn"}),
        )
        .await;
    assert_error(s, &e, 422, Some("action"));
    app.stop().await;
}

async fn moderators_hide_and_lock(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let who = customer(&app, "dan@example.com", "127.0.0.47", now).await;
    let topic = who
        .ask(&app, "Why was I charged twice?", "Two lines on my card.")
        .await;
    let rude = who.answer(&app, topic, "Something rude.").await;
    let path = format!("/api/v1/community/posts/{rude}/moderate");
    let (s, _) = app
        .call("POST", &path, None, Some(json!({"action": "hide"})))
        .await;
    assert_eq!(s, 401, "moderation needs an agent");
    let (s, p) = app
        .call(
            "POST",
            &path,
            Some(&app.agent.token),
            Some(json!({"action": "hide"})),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["state"], "hidden");
    let (_, t) = thread(&app, topic, None).await;
    assert_eq!(
        t["posts"].as_array().unwrap().len(),
        1,
        "hidden answers are gone"
    );
    assert_eq!(t["topic"]["answers"], 0);
    let (_, html) = who.page(&app, &format!("/community/topics/{topic}")).await;
    assert!(
        !html.contains("Something rude."),
        "hidden from its author too"
    );
    let (s, _) = app
        .call(
            "POST",
            &path,
            Some(&app.agent.token),
            Some(json!({"action": "show"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(thread(&app, topic, None).await.1["topic"]["answers"], 1);

    // Locked: no new answers, from anyone.
    let lock = format!("/api/v1/community/topics/{topic}/lock");
    let (s, _) = app
        .call(
            "POST",
            &lock,
            Some(&app.agent.token),
            Some(json!({"locked": true})),
        )
        .await;
    assert_eq!(s, 204);
    let r = who
        .post(
            &app,
            &format!("/community/topics/{topic}/answers"),
            &[("body", "More")],
        )
        .await;
    assert_eq!(r.status(), 409);
    let agent = agent_browser(&app, app.agent.id, now).await;
    let (_, html) = agent
        .page(&app, &format!("/community/topics/{topic}"))
        .await;
    assert!(html.contains("Unlock"));
    let r = agent
        .post(
            &app,
            &format!("/community/topics/{topic}/lock"),
            &[("locked", "0")],
        )
        .await;
    assert_eq!(r.status(), 303);
    who.answer(&app, topic, "Now it works.").await;
    // A customer's page posts to moderation are refused.
    let r = who
        .post(
            &app,
            &format!("/community/posts/{rude}/moderate"),
            &[("action", "hide")],
        )
        .await;
    assert_ne!(r.status(), 200);
    assert_eq!(thread(&app, topic, None).await.1["topic"]["answers"], 2);
    app.stop().await;
}

async fn the_spam_filter_learns_from_moderators(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let regular = customer(&app, "reg@example.com", "127.0.0.50", now).await;
    let topic = regular
        .ask(
            &app,
            "Printer will not connect to wifi",
            "The light keeps blinking after the update.",
        )
        .await;
    let spams = [
        (
            "spam1@example.com",
            "Cheap replica watches at discount prices, buy now at cheapwatches shop",
        ),
        (
            "spam2@example.com",
            "Buy cheap replica watches now, huge discount, visit cheapwatches shop",
        ),
        (
            "spam3@example.com",
            "Discount replica watches! Cheap prices at cheapwatches, buy today",
        ),
    ];
    for (i, (email, text)) in spams.iter().enumerate() {
        let b = customer(&app, email, &format!("127.0.0.{}", 51 + i), now).await;
        let post = b.answer(&app, topic, text).await;
        let (s, p) = app
            .post(
                &format!("/api/v1/community/posts/{post}/moderate"),
                json!({"action": "spam"}),
            )
            .await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["state"], "spam");
    }
    assert_eq!(
        count(
            &app.db,
            "SELECT docs FROM community_spam_totals WHERE label = 'spam'"
        )
        .await,
        3
    );
    // A similar one is held for review; a normal one is not.
    let spammer = customer(&app, "spam4@example.com", "127.0.0.60", now).await;
    let held = spammer
        .answer(
            &app,
            topic,
            "Replica watches cheap, discount at cheapwatches shop",
        )
        .await;
    let helper = customer(&app, "kind@example.com", "127.0.0.61", now).await;
    let fine = helper
        .answer(
            &app,
            topic,
            "Hold the wifi button for five seconds, then pair the printer again.",
        )
        .await;
    let (_, t) = thread(&app, topic, Some(&app.agent.token)).await;
    let state = |id: i64| {
        t["posts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state(held), "held");
    assert_eq!(state(fine), "visible");
    // Held: its author sees it awaiting review, nobody else does; the queue lists it.
    let (_, public) = thread(&app, topic, None).await;
    assert!(
        public["posts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != held)
    );
    let (_, mine) = spammer
        .page(&app, &format!("/community/topics/{topic}"))
        .await;
    assert!(mine.contains("awaiting review"));
    let (_, theirs) = helper
        .page(&app, &format!("/community/topics/{topic}"))
        .await;
    assert!(!theirs.contains("cheapwatches"));
    let (s, queue) = app.get("/api/v1/community/moderation").await;
    assert_eq!(s, 200);
    let queued: Vec<i64> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(queued, [held]);
    let agent = agent_browser(&app, app.agent.id, now).await;
    let (s, page) = agent.page(&app, "/community/moderation").await;
    assert_eq!(s, 200);
    assert!(page.contains(&format!("held-{held}")));
    // Not spam after all: shown, and learned as a good post.
    let r = agent
        .post(
            &app,
            &format!("/community/posts/{held}/moderate"),
            &[("action", "not_spam"), ("back", "queue")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, public) = thread(&app, topic, None).await;
    assert!(
        public["posts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == held)
    );
    assert_eq!(app.get("/api/v1/community/moderation").await.1, json!([]));
    app.stop().await;
}

async fn new_accounts_post_less_often(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let who = customer(&app, "newbie@example.com", "127.0.0.70", clock.now()).await;
    let topic = who.ask(&app, "First question here", "Hello all").await;
    who.answer(&app, topic, "Second post").await;
    who.answer(&app, topic, "Third post").await;
    let r = who
        .post(
            &app,
            &format!("/community/topics/{topic}/answers"),
            &[("body", "Fourth")],
        )
        .await;
    assert_eq!(r.status(), 429, "a new account posts 3 times an hour");
    let r = who
        .post(
            &app,
            "/community/topics",
            &[("title", "Another question"), ("body", "x")],
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(
        count(&app.db, "SELECT COUNT(*) FROM community_posts").await,
        3
    );
    clock.advance_secs(3_601);
    who.answer(&app, topic, "An hour later").await;
    // A day after the first post, with three shown posts: 20 an hour.
    clock.advance_secs(86_400);
    for i in 0..6 {
        who.answer(&app, topic, &format!("Established post {i}"))
            .await;
    }
    // Agents are not limited.
    let agent = agent_browser(&app, app.agent.id, clock.now()).await;
    for i in 0..5 {
        agent.answer(&app, topic, &format!("Agent note {i}")).await;
    }
    app.stop().await;
}

/// The forum shows no images, but an article (and the editor's live preview of its draft)
/// shows https ones: a topic turned into a draft must not make the agent's browser fetch
/// the stranger's image (a tracking pixel), nor carry their raw HTML.
async fn a_draft_from_a_topic_fetches_no_stranger_images(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let who = customer(&app, "pixel@example.com", "127.0.0.81", now).await;
    let topic = who
        .ask(
            &app,
            "Where is my parcel tracking?",
            "See ![shot](https://evil.example/p.gif) and <img src=\"https://evil.example/q.gif\">, \
             details at [my page](https://ok.example/page).",
        )
        .await;
    let path = format!("/api/v1/community/topics/{topic}/article");
    let (s, made) = app.call("POST", &path, Some(&app.agent.token), None).await;
    assert_eq!(s, 201, "{made}");
    let article = made["article_id"].as_i64().unwrap();
    let agent = agent_browser(&app, app.agent.id, now).await;
    let (s, html) = agent
        .page(&app, &format!("/kb/articles/{article}/edit"))
        .await;
    assert_eq!(s, 200);
    assert!(
        html.contains("kb-preview"),
        "the editor with its preview: {html}"
    );
    assert!(!html.contains("<img"), "no image in the preview: {html}");
    assert!(
        html.contains("https://ok.example/page"),
        "links stay: {html}"
    );
    app.stop().await;
}

async fn agents_turn_a_topic_into_a_ticket_or_an_article(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let who = customer(&app, "tess@example.com", "127.0.0.80", now).await;
    let topic = who
        .ask(&app, "My order arrived broken", "The box was crushed.")
        .await;
    let path = format!("/api/v1/community/topics/{topic}/ticket");
    let (s, _) = app.call("POST", &path, None, None).await;
    assert_eq!(s, 401);
    let (s, made) = app.call("POST", &path, Some(&app.agent.token), None).await;
    assert_eq!(s, 201, "{made}");
    let ticket = made["ticket_id"].as_i64().unwrap();
    let (s, t) = app.get(&format!("/api/v1/tickets/{ticket}")).await;
    assert_eq!(s, 200);
    assert_eq!(t["customer"]["email"], "tess@example.com");
    assert_eq!(t["subject"], "My order arrived broken");
    let (_, msgs) = app.get(&format!("/api/v1/tickets/{ticket}/messages")).await;
    assert!(
        msgs.as_array().unwrap().iter().any(|m| m["body"]
            .as_str()
            .unwrap()
            .contains(&format!("/community/topics/{topic}"))),
        "the ticket names its topic: {msgs}"
    );
    let (s, again) = app.call("POST", &path, Some(&app.agent.token), None).await;
    assert_eq!(s, 200);
    assert_eq!(again["ticket_id"], ticket);
    // Agents see the link; customers and the public do not.
    assert_eq!(
        thread(&app, topic, Some(&app.agent.token)).await.1["topic"]["ticket_id"],
        ticket
    );
    assert_eq!(
        thread(&app, topic, None).await.1["topic"]["ticket_id"],
        Value::Null
    );
    let (_, html) = who.page(&app, &format!("/community/topics/{topic}")).await;
    assert!(!html.contains(&format!("/tickets/{ticket}")));
    let agent = agent_browser(&app, app.agent.id, now).await;
    let (_, html) = agent
        .page(&app, &format!("/community/topics/{topic}"))
        .await;
    assert!(html.contains(&format!("/tickets/{ticket}")));
    // …or into a draft article: the question and the accepted answer.
    let best = agent
        .answer(&app, topic, "We send a new one the same day.")
        .await;
    assert_eq!(accept(&app, &who, topic, best).await, 303);
    let path = format!("/api/v1/community/topics/{topic}/article");
    let (s, made) = app.call("POST", &path, Some(&app.agent.token), None).await;
    assert_eq!(s, 201, "{made}");
    let article = made["article_id"].as_i64().unwrap();
    let draft = app
        .db
        .read(op!(c => rapport_store::kb::get(c, Some(&rapport_domain::Principal::System), article).await))
        .await
        .unwrap();
    assert_eq!(draft.status, rapport_domain::kb::ArticleStatus::Draft);
    assert_eq!(draft.title(), "My order arrived broken");
    let text = &draft.translations[0].body;
    assert!(
        text.contains("The box was crushed.") && text.contains("We send a new one the same day."),
        "{text}"
    );
    let public = app
        .db
        .read(op!(c => rapport_store::kb::get(c, None, article).await))
        .await;
    assert!(public.is_err(), "a draft is never public");
    let (s, again) = app.call("POST", &path, Some(&app.agent.token), None).await;
    assert_eq!(s, 200);
    assert_eq!(again["article_id"], article);
    assert_eq!(
        thread(&app, topic, Some(&app.agent.token)).await.1["topic"]["article_id"],
        article
    );
    assert_eq!(
        thread(&app, topic, None).await.1["topic"]["article_id"],
        Value::Null
    );
    let (_, html) = agent
        .page(&app, &format!("/community/topics/{topic}"))
        .await;
    assert!(html.contains(&format!("/kb/articles/{article}/edit")));
    // An agent's topic has no customer to open a ticket for.
    let own = agent
        .ask(&app, "Maintenance on Sunday", "We will be down.")
        .await;
    let (s, _) = app
        .call(
            "POST",
            &format!("/api/v1/community/topics/{own}/ticket"),
            Some(&app.agent.token),
            None,
        )
        .await;
    assert_eq!(s, 409);
    app.stop().await;
}

async fn suggestions_find_threads_while_a_question_is_typed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let who = customer(&app, "una@example.com", "127.0.0.90", now).await;
    let reset = who
        .ask(
            &app,
            "How do I reset my password?",
            "The reset email never came.",
        )
        .await;
    who.ask(&app, "Shipping to Canada", "Do you ship there?")
        .await;
    let (s, found) = app
        .call(
            "GET",
            "/api/v1/community/suggest?q=forgot%20my%20password",
            None,
            None,
        )
        .await;
    assert_eq!(s, 200);
    let ids: Vec<i64> = found["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [reset]);
    assert_eq!(
        found["topics"][0]["url"],
        format!("/community/topics/{reset}")
    );
    let (_, none) = app
        .call("GET", "/api/v1/community/suggest?q=pa", None, None)
        .await;
    assert_eq!(none["topics"], json!([]));
    // Search on the page ranks by words matched.
    let (_, listed) = app
        .call(
            "GET",
            "/api/v1/community/topics?q=reset%20password%20email",
            None,
            None,
        )
        .await;
    assert_eq!(listed["topics"][0]["id"], reset);
    // Hidden topics are never suggested.
    let question = thread(&app, reset, None).await.1["posts"][0]["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/api/v1/community/posts/{question}/moderate"),
        json!({"action": "spam"}),
    )
    .await;
    let (_, found) = app
        .call("GET", "/api/v1/community/suggest?q=password", None, None)
        .await;
    assert_eq!(found["topics"], json!([]));
    app.stop().await;
}

/// The forum page's search scans every topic's text, so a stranger cannot run it without
/// limit: past 120 searches a minute from one address it answers 429; plain browsing and
/// other addresses are not held back.
async fn searching_the_forum_page_is_limited_per_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let flood = client_from("127.0.0.61");
    let mut statuses = Vec::new();
    for i in 0..125 {
        let r = flood
            .get(app.url(&format!("/community?q=parcel{i}")))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..100].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let browse = flood.get(app.url("/community")).send().await.unwrap();
    assert_eq!(
        browse.status(),
        200,
        "browsing without a search is not limited"
    );
    let other = client_from("127.0.0.62");
    let r = other
        .get(app.url("/community?q=parcel"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "another address searches freely");
    app.stop().await;
}
