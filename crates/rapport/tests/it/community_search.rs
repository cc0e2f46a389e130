//! Finding forum threads: the community's search uses the knowledge base's engine
//! (misspellings, stems, answers' words, as-you-type), finds only what the public may
//! see, follows changes made on any node through `topic_changed` events, and lists
//! topics a page at a time (API cursors, "Next page" / "Previous page" links).

use std::collections::HashSet;
use std::time::Duration;

use rapport_domain::community::{PostBody, TopicTitle};
use rapport_domain::{Clock, Principal, SystemClock, Timestamp};
use rapport_store::community::moderation::{self, Action};
use rapport_store::community::topics::{self, NewTopic};
use rapport_store::community::{Posted, Topic};
use rapport_store::op;
use serde_json::{Value, json};

use crate::community::{agent_browser, client_from, customer, thread};
use crate::harness::{Backend, TestApp, count};

use crate::on_both;

on_both!(
    search_forgives_and_finds_only_what_is_shown,
    every_node_follows_topic_changes,
    topics_are_listed_a_page_at_a_time,
);

pub(crate) fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn ids(list: &Value) -> Vec<i64> {
    list["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

/// The topics a public search finds, best first.
async fn search(app: &TestApp, q: &str) -> Vec<i64> {
    let (s, list) = app
        .call(
            "GET",
            &format!("/api/v1/community/topics?q={}", enc(q)),
            None,
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    ids(&list)
}

async fn suggest(app: &TestApp, q: &str) -> Vec<i64> {
    let (s, list) = app
        .call(
            "GET",
            &format!("/api/v1/community/suggest?q={}", enc(q)),
            None,
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    ids(&list)
}

async fn search_forgives_and_finds_only_what_is_shown(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let asker = customer(&app, "rosa@example.com", "127.0.1.1", now).await;
    let agent = agent_browser(&app, app.agent.id, now).await;
    let reset = asker
        .ask(
            &app,
            "How do I reset my password?",
            "The reset email never came.",
        )
        .await;
    let canada = asker
        .ask(&app, "Shipping to Canada", "Do you send parcels there?")
        .await;
    let tip = agent
        .answer(
            &app,
            reset,
            "Look in the junk folder, then ask for a new link.",
        )
        .await;

    // The writer's next search already sees its writes (no waiting on the follower).
    assert_eq!(
        search(&app, "pasword").await.first(),
        Some(&reset),
        "a misspelling"
    );
    assert_eq!(
        search(&app, "resetting passwords").await.first(),
        Some(&reset),
        "stems"
    );
    assert_eq!(
        search(&app, "junk folder").await,
        [reset],
        "an answer's words"
    );
    assert_eq!(search(&app, "parcel").await.first(), Some(&canada));
    assert!(search(&app, "zebra crossing").await.is_empty());
    assert_eq!(
        suggest(&app, "shipping to can").await.first(),
        Some(&canada)
    );
    assert_eq!(
        suggest(&app, "pasword rese").await.first(),
        Some(&reset),
        "a misspelling before the word being typed"
    );
    // The forum page searches the same way.
    let anon = client_from("127.0.1.2");
    let html = anon
        .get(app.url("/community?q=pasword"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("How do I reset my password?"), "{html}");
    assert!(!html.contains("Shipping to Canada"));
    assert!(html.contains(">Best match</a>"));

    // A hidden answer's words find nothing; a topic flagged as spam is never found, by
    // its question's words or its answers'.
    let (s, _) = app
        .post(
            &format!("/api/v1/community/posts/{tip}/moderate"),
            json!({"action": "hide"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(search(&app, "junk folder").await.is_empty());
    assert_eq!(search(&app, "password").await, [reset]);
    let question = thread(&app, reset, None).await.1["posts"][0]["id"]
        .as_i64()
        .unwrap();
    let (s, _) = app
        .post(
            &format!("/api/v1/community/posts/{question}/moderate"),
            json!({"action": "spam"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(search(&app, "password").await.is_empty());
    assert!(suggest(&app, "password").await.is_empty());
    // Shown again: found again.
    let (s, _) = app
        .post(
            &format!("/api/v1/community/posts/{question}/moderate"),
            json!({"action": "show"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(search(&app, "password").await, [reset]);
    app.stop().await;
}

/// Waits, a bounded number of rounds, until a public search for `q` (up to 100 topics)
/// satisfies `check` (the index follows the event stream every quarter second). Searches
/// held back by the per-address allowance just wait longer.
async fn until(app: &TestApp, q: &str, check: impl Fn(&[i64]) -> bool) {
    let path = format!("/api/v1/community/topics?limit=100&q={}", enc(q));
    for _ in 0..200 {
        let (s, list) = app.call("GET", &path, None, None).await;
        match s {
            200 if check(&ids(&list)) => return,
            200 => tokio::time::sleep(Duration::from_millis(100)).await,
            429 => tokio::time::sleep(Duration::from_secs(1)).await,
            _ => panic!("{s}: {list}"),
        }
    }
    panic!("the community index never caught up for {q:?}");
}

/// Changes written straight through the store (as another node would: this server's
/// pages never see them) reach this node's index through the `topic_changed` events.
async fn every_node_follows_topic_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    customer(&app, "otto@example.com", "127.0.1.3", now).await;
    let who = app
        .db
        .read(op!(c => rapport_store::testing::one_in(c, "SELECT id FROM customers WHERE email = 'otto@example.com'", &[]).await?.int(0)))
        .await
        .unwrap();
    let who = Principal::Customer(who);
    let new = NewTopic {
        title: TopicTitle::parse("Walrus speaker will not pair").unwrap(),
        body: PostBody::parse("Bluetooth finds nothing.", "body").unwrap(),
    };
    let topic: Topic = match app
        .db
        .write(op!(c => topics::create(c, &who, new, now).await))
        .await
        .unwrap()
    {
        Posted::Done(t) => t,
        Posted::Limited { .. } => panic!("limited"),
    };
    assert_eq!(
        count(
            &app.db,
            "SELECT COUNT(*) FROM events WHERE kind = 'topic_changed' AND ticket_id IS NULL"
        )
        .await,
        1
    );
    until(&app, "walrus", |found| found == [topic.id]).await;
    let viewer = rapport_domain::Viewer {
        user_id: app.agent.id,
        role: rapport_domain::Role::Agent,
        team_ids: vec![app.team_a],
    };
    let question = topic.question_id;
    app.db
        .write(op!(c => moderation::moderate(c, &viewer, question, Action::Hide, now).await))
        .await
        .unwrap();
    until(&app, "walrus", <[i64]>::is_empty).await;
    app.stop().await;
}

/// Asks `n` questions as the agent, a second apart (oldest first); their ids.
async fn many_topics(app: &TestApp, n: usize, word: &str) -> Vec<i64> {
    let viewer = rapport_domain::Viewer {
        user_id: app.agent.id,
        role: rapport_domain::Role::Agent,
        team_ids: vec![app.team_a],
    };
    let start = SystemClock.now().plus_secs(-10_000);
    let w = word.to_owned();
    let made = app
        .db
        .write(op!(c => {
            let who = Principal::Agent(viewer);
            let mut ids = Vec::new();
            for i in 0..n {
                let new = NewTopic {
                    title: TopicTitle::parse(&format!("Question number {i} about {w}")).unwrap(),
                    body: PostBody::parse(&format!("Details {i} on the {w}."), "body").unwrap(),
                };
                let at = Timestamp(start.0 + i64::try_from(i).unwrap() * 1_000_000);
                match topics::create(c, &who, new, at).await? {
                    Posted::Done(t) => ids.push(t.id),
                    Posted::Limited { .. } => unreachable!("agents are not limited"),
                }
            }
            Ok(ids)
        }))
        .await
        .unwrap();
    // Written past this server's pages: its index learns of them from the event stream.
    until(app, word, |found| found.len() == n).await;
    made
}

/// Walks `/api/v1/community/topics?{query}` forwards with `next_cursor`, then back with
/// `prev_cursor`; the pages' topics forwards.
async fn walk(app: &TestApp, query: &str) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut cursors = Vec::new();
    let mut path = format!("/api/v1/community/topics?{query}");
    loop {
        let (s, list) = app.call("GET", &path, None, None).await;
        assert_eq!(s, 200, "{list}");
        assert_eq!(
            list.get("prev_cursor").is_some(),
            !pages.is_empty(),
            "a previous page exactly after the first: {list}"
        );
        pages.push(ids(&list));
        cursors.push(list.get("prev_cursor").cloned());
        match list["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/community/topics?{query}&cursor={c}"),
            None => break,
        }
        assert!(pages.len() < 50, "paging never ends");
    }
    // Back again, page by page.
    let mut back = pages.len() - 1;
    while let Some(Some(prev)) = cursors.get(back) {
        let (s, list) = app
            .call(
                "GET",
                &format!(
                    "/api/v1/community/topics?{query}&cursor={}",
                    prev.as_str().unwrap()
                ),
                None,
                None,
            )
            .await;
        assert_eq!(s, 200, "{list}");
        back -= 1;
        assert_eq!(
            ids(&list),
            pages[back],
            "the previous page is the one before"
        );
    }
    assert_eq!(back, 0);
    pages
}

async fn topics_are_listed_a_page_at_a_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let made = many_topics(&app, 35, "kettles").await;
    let newest: Vec<i64> = made.iter().rev().copied().collect();

    let pages = walk(&app, "limit=10").await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [10, 10, 10, 5]
    );
    assert_eq!(pages.concat(), newest, "every topic once, newest first");
    let pages = walk(&app, "limit=10&sort=votes").await;
    assert_eq!(pages.concat().len(), 35);
    assert_eq!(pages.concat().into_iter().collect::<HashSet<_>>().len(), 35);
    // A search pages through its matches too.
    let pages = walk(&app, "limit=10&q=kettle").await;
    assert_eq!(
        pages.concat().into_iter().collect::<HashSet<_>>(),
        made.iter().copied().collect::<HashSet<_>>()
    );
    // A cursor of another order, or of nothing, is refused naming the field.
    let (_, first) = app
        .call(
            "GET",
            "/api/v1/community/topics?limit=10&sort=votes",
            None,
            None,
        )
        .await;
    let votes_cursor = first["next_cursor"].as_str().unwrap().to_owned();
    for bad in [votes_cursor.as_str(), "not-a-cursor"] {
        let (s, body) = app
            .call(
                "GET",
                &format!("/api/v1/community/topics?limit=10&cursor={bad}"),
                None,
                None,
            )
            .await;
        crate::harness::assert_error(s, &body, 422, Some("cursor"));
    }

    // The page: 30 topics, then "Next page"; the next page links back.
    let anon = client_from("127.0.1.4");
    let page = |path: String| {
        let anon = anon.clone();
        let url = app.url(&path);
        async move {
            let r = anon.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let link = |html: &str, label: &str| -> Option<String> {
        let end = html.find(&format!(">{label}</a>"))?;
        let start = html[..end].rfind("href=\"")? + 6;
        let href = &html[start..end];
        Some(
            href[..href.find('"').unwrap()]
                .replace("&amp;", "&")
                .replace("&#38;", "&"),
        )
    };
    let shown = |html: &str| -> Vec<i64> {
        newest
            .iter()
            .copied()
            .filter(|id| html.contains(&format!("href=\"/community/topics/{id}\"")))
            .collect()
    };
    let first = page("/community".into()).await;
    assert_eq!(shown(&first), newest[..30]);
    assert!(link(&first, "Previous page").is_none());
    let next = link(&first, "Next page").expect("a next page");
    let second = page(next).await;
    assert_eq!(shown(&second), newest[30..]);
    assert!(link(&second, "Next page").is_none());
    let prev = link(&second, "Previous page").expect("a previous page");
    assert_eq!(shown(&page(prev).await), newest[..30]);
    assert!(first.contains("aria-label=\"Pages of topics\""));
    app.stop().await;
}
