//! Knowledge-base search over HTTP, on both databases: the judged set of the demo
//! knowledge base (precision@1, MRR, no confident answer to a question the articles do not
//! answer), who sees what (drafts and internal articles never reach the public), the
//! index following article changes, the search log and the visitor cookie, bad input.

use std::path::PathBuf;
use std::time::Duration;

use rapport_domain::kb::{ArticleBody, ArticleStatus, ArticleTitle, Visibility};
use rapport_domain::{Clock, EmailAddress, Role, SystemClock, Timestamp, Viewer};
use rapport_store::kb::{self, ArticlePatch, NewArticle};
use rapport_store::{Db, op};
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{Backend, TestApp};

fn now() -> Timestamp {
    SystemClock.now()
}

fn admin_viewer(app: &TestApp) -> Viewer {
    Viewer {
        user_id: app.admin.id,
        role: Role::Admin,
        team_ids: vec![],
    }
}

fn kb_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rapport-demo/kb")
}

/// Loads the demo knowledge base (articles with their translations and status, and the
/// synonym groups) as the demo does; returns the slug of its last published article.
async fn load_demo_kb(app: &TestApp) -> String {
    rapport_demo::kb::populate(&app.db, &SystemClock, app.admin.id)
        .await
        .unwrap();
    rapport_demo::kb::articles()
        .unwrap()
        .into_iter()
        .rev()
        .find(|a| a.status == ArticleStatus::Published)
        .unwrap()
        .slug
        .as_str()
        .to_owned()
}

/// Percent-encodes a query parameter's value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A search as the public (or with `token`), returning the hits.
async fn search(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let (status, body) = app.call("GET", path, token, None).await;
    assert_eq!(status, 200, "{path}: {body}");
    body["hits"].as_array().unwrap().clone()
}

fn slugs(hits: &[Value]) -> Vec<String> {
    hits.iter()
        .map(|h| h["slug"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits, a bounded number of rounds, until `check` holds for a search (the index
/// follows the event stream every quarter second).
async fn until(app: &TestApp, q: &str, token: Option<&str>, check: impl Fn(&[String]) -> bool) {
    let path = format!("/api/v1/kb/search?q={}", enc(q));
    for _ in 0..200 {
        if check(&slugs(&search(app, &path, token).await)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the index never caught up for {q:?}");
}

async fn publish(
    db: &Db,
    v: &Viewer,
    title: &str,
    body: &str,
    vis: Visibility,
    status: ArticleStatus,
) -> kb::Article {
    let mut a = NewArticle::draft(
        ArticleTitle::parse(title).unwrap(),
        ArticleBody::parse(body).unwrap(),
    );
    a.visibility = vis;
    a.status = status;
    let (v, t) = (v.clone(), now());
    db.write(op!(c => kb::create(c, &v, a, t).await))
        .await
        .unwrap()
}

both_backends! {
    async fn judged_set(app) {
        let last = load_demo_kb(&app).await;
        // The follower indexes in commit order: once the last article is found, all are.
        until(&app, &last.replace('-', " "), Some(&app.admin.token), |s| s.contains(&last)).await;
        // Adding a group through the API makes this node re-read every group at once.
        let (status, _) = app
            .call("POST", "/api/v1/kb/synonyms", Some(&app.admin.token), Some(json!({"terms": "gizmo, gadget"})))
            .await;
        assert_eq!(status, 201);
        let judged: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(kb_dir().join("judged.json")).unwrap()).unwrap();
        let (mut answerable, mut p1, mut rr) = (0usize, 0.0f64, 0.0f64);
        let mut confident_no_answer = Vec::new();
        for j in &judged {
            let q = j["q"].as_str().unwrap();
            let expect: Vec<&str> = j["expect"].as_array().unwrap().iter().filter_map(|s| s.as_str()).collect();
            let mut path = format!("/api/v1/kb/search?limit=10&q={}", enc(q));
            if let Some(l) = j["locale"].as_str() {
                path.push_str(&format!("&locale={l}"));
            }
            let hits = search(&app, &path, None).await;
            if expect.is_empty() {
                if hits.first().is_some_and(|h| h["confident"] == true) {
                    confident_no_answer.push(format!("{q} → {}", hits[0]["slug"]));
                }
                continue;
            }
            answerable += 1;
            let rank = hits.iter().position(|h| expect.contains(&h["slug"].as_str().unwrap()));
            if rank == Some(0) {
                p1 += 1.0;
            }
            rr += rank.map_or(0.0, |r| 1.0 / (r as f64 + 1.0));
        }
        let (p1, mrr) = (p1 / answerable as f64, rr / answerable as f64);
        println!("kb judged set: {answerable} answerable queries, P@1 {p1:.3}, MRR {mrr:.3}");
        assert!(answerable >= 60);
        assert!(mrr >= 0.85, "MRR {mrr:.3} is below 0.85");
        assert!(confident_no_answer.is_empty(), "confident on no-answer queries: {confident_no_answer:?}");
        // The draft that would answer "pick up my order in store" is never found.
        for token in [None, Some(app.admin.token.as_str())] {
            let hits = search(&app, "/api/v1/kb/search?q=click%20and%20collect", token).await;
            assert!(!slugs(&hits).contains(&"click-and-collect".to_owned()));
        }
    }

    async fn who_sees_what(app) {
        let v = admin_viewer(&app);
        for (word, vis, status) in [
            ("aardvark", Visibility::Public, ArticleStatus::Published),
            ("bandicoot", Visibility::Customers, ArticleStatus::Published),
            ("capybara", Visibility::Internal, ArticleStatus::Published),
            ("dugong", Visibility::Public, ArticleStatus::Draft),
            ("echidna", Visibility::Public, ArticleStatus::Archived),
        ] {
            publish(&app.db, &v, &format!("All about the {word}"), &format!("The {word} lives here."), vis, status).await;
        }
        until(&app, "capybara", Some(&app.agent.token), |s| !s.is_empty()).await;
        let words = "aardvark bandicoot capybara dugong echidna";
        let found = |hits: Vec<Value>| {
            let mut t: Vec<String> = hits.iter().map(|h| h["title"].as_str().unwrap().replace("All about the ", "")).collect();
            t.sort();
            t
        };
        let path = format!("/api/v1/kb/search?q={}", enc(words));
        assert_eq!(found(search(&app, &path, None).await), ["aardvark"]);
        assert_eq!(found(search(&app, &path, Some(&app.agent.token)).await), ["aardvark", "bandicoot", "capybara"]);
        let suggest = format!("/api/v1/kb/suggest?q={}", enc("capyb"));
        assert!(search(&app, &suggest, None).await.is_empty());
        assert_eq!(found(search(&app, &suggest, Some(&app.agent.token)).await), ["capybara"]);

        // A signed-in portal customer also sees customer-only articles.
        let token = rapport_store::secrets::random_hex(16);
        let hash = rapport_store::secrets::token_hash(&token);
        let t = now();
        app.db
            .write(op!(c => {
                let email = EmailAddress::parse("reader@example.com").unwrap();
                let id = rapport_store::customers::find_or_create(c, &email, None, t).await?;
                rapport_store::portal::create_session(c, id, &hash, t, 3600).await
            }))
            .await
            .unwrap();
        let resp = app
            .http
            .get(app.url(&path))
            .header("cookie", format!("rapport_portal={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(found(body["hits"].as_array().unwrap().clone()), ["aardvark", "bandicoot"]);
        // A stale cookie reads as the public; a bad token is refused.
        let resp = app.http.get(app.url(&path)).header("cookie", "rapport_portal=nope").send().await.unwrap();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(found(body["hits"].as_array().unwrap().clone()), ["aardvark"]);
        let (status, _) = app.call("GET", &path, Some("not-a-token"), None).await;
        assert_eq!(status, 401);
    }

    async fn the_index_follows_changes(app) {
        let v = admin_viewer(&app);
        let a = publish(&app.db, &v, "Pairing the walrus speaker", "Hold the button for five seconds.", Visibility::Public, ArticleStatus::Published).await;
        until(&app, "walrus", None, |s| s == [a.slug.clone()]).await;
        let patch = ArticlePatch {
            body: Some(ArticleBody::parse("## Narwhal mode\n\nPress the narwhal button twice.").unwrap()),
            title: Some(ArticleTitle::parse("Pairing the speaker").unwrap()),
            ..ArticlePatch::default()
        };
        let (v2, t, id) = (v.clone(), now(), a.id);
        app.db.write(op!(c => kb::update(c, &v2, id, patch, t).await)).await.unwrap();
        until(&app, "narwhal", None, |s| s == [a.slug.clone()]).await;
        until(&app, "walrus", None, |s| s.is_empty()).await;
        let hits = search(&app, "/api/v1/kb/search?q=narwhal", None).await;
        assert_eq!(hits[0]["anchor"], "narwhal-mode");
        assert_eq!(hits[0]["url"], format!("/help/articles/{}#narwhal-mode", a.slug));
        assert!(hits[0]["snippet_html"].as_str().unwrap().contains("<mark>"));

        let archive = ArticlePatch { status: Some(ArticleStatus::Archived), ..ArticlePatch::default() };
        let (v2, t) = (v.clone(), now());
        app.db.write(op!(c => kb::update(c, &v2, id, archive, t).await)).await.unwrap();
        until(&app, "narwhal", Some(&app.admin.token), |s| s.is_empty()).await;

        let b = publish(&app.db, &v, "Cleaning the manatee filter", "Rinse it.", Visibility::Public, ArticleStatus::Published).await;
        until(&app, "manatee", None, |s| s == [b.slug.clone()]).await;
        let (v2, t, id) = (v.clone(), now(), b.id);
        app.db.write(op!(c => kb::delete(c, &v2, id, t).await)).await.unwrap();
        until(&app, "manatee", None, |s| s.is_empty()).await;
    }

    async fn searches_are_logged(app) {
        let v = admin_viewer(&app);
        let a = publish(&app.db, &v, "Resetting the okapi router", "Unplug it.", Visibility::Public, ArticleStatus::Published).await;
        // Wait with suggestions, which are not logged.
        for _ in 0..200 {
            if !search(&app, "/api/v1/kb/suggest?q=okapi", None).await.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // An agent's search is not logged.
        let (status, _) = app.call("GET", "/api/v1/kb/search?q=okapi%20agent", Some(&app.agent.token), None).await;
        assert_eq!(status, 200);
        // Searches are logged (suggestions only when asked), as the API's: a client cannot
        // say where it searched. A client without the visitor cookie is logged as no one.
        let resp = app.http.get(app.url("/api/v1/kb/search?q=Okapi%20routers")).send().await.unwrap();
        let cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(cookie.starts_with("rapport_visitor="), "{cookie}");
        let token = cookie.trim_start_matches("rapport_visitor=").split(';').next().unwrap().to_owned();
        let resp = app.http.get(app.url("/api/v1/kb/suggest?q=okap")).header("cookie", format!("rapport_visitor={token}")).send().await.unwrap();
        assert!(resp.headers().get("set-cookie").is_none(), "a known visitor keeps its cookie");
        let resp = app.http.get(app.url("/api/v1/kb/suggest?q=zzzebra&log=1")).header("cookie", format!("rapport_visitor={token}")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let mut rows = Vec::new();
        for _ in 0..200 {
            rows = app.db.read(op!(c => kb::searches::recent(c, 10).await)).await.unwrap();
            if rows.len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(rows.len(), 2, "{rows:?}");
        let first = rows.iter().find(|r| r.search.query == "Okapi routers").unwrap();
        assert_eq!(first.search.normalized, "okapi routers");
        assert_eq!(first.search.source, kb::searches::Source::Api);
        assert_eq!(first.search.hits, 1);
        assert!(first.search.confident);
        assert_eq!(first.search.top_article_id, Some(a.id));
        assert_eq!(first.search.visitor, None, "no cookie came with it");
        let none = rows.iter().find(|r| r.search.query == "zzzebra").unwrap();
        assert_eq!((none.search.hits, none.search.confident, none.search.source), (0, false, kb::searches::Source::Api));
        assert_eq!(none.search.visitor.as_deref(), Some(rapport_store::secrets::token_hash(&token).as_str()));
    }

    async fn bad_input_names_the_field(app) {
        for (path, field) in [
            ("/api/v1/kb/search", "q"),
            ("/api/v1/kb/search?q=%20", "q"),
            (&*format!("/api/v1/kb/search?q={}", "a".repeat(201)), "q"),
            ("/api/v1/kb/search?q=x&limit=0", "limit"),
            ("/api/v1/kb/suggest?q=x&limit=51", "limit"),
            ("/api/v1/kb/search?q=x&limit=many", "limit"),
            ("/api/v1/kb/search?q=x&locale=english", "locale"),
            ("/api/v1/kb/search?q=x&source=elsewhere", "source"),
            ("/api/v1/kb/search?q=x&source=help", "source"),
            ("/api/v1/kb/search?q=x&sort=new", "sort"),
        ] {
            let (status, body) = app.call("GET", path, None, None).await;
            assert_eq!(status, 422, "{path}: {body}");
            assert_eq!(body["error"]["field"], field, "{path}: {body}");
        }
        let (status, _) = app.call("GET", &format!("/api/v1/kb/search?q={}", "a".repeat(200)), None, None).await;
        assert_eq!(status, 200);
        // Synonym groups: agents read, admins write.
        let (status, groups) = app.call("GET", "/api/v1/kb/synonyms", Some(&app.agent.token), None).await;
        assert_eq!(status, 200);
        assert!(groups.as_array().unwrap().iter().any(|g| g["built_in"] == true));
        let (status, _) = app.call("POST", "/api/v1/kb/synonyms", Some(&app.agent.token), Some(json!({"terms": "a, b"}))).await;
        assert_eq!(status, 403);
        let (status, body) = app.call("POST", "/api/v1/kb/synonyms", Some(&app.admin.token), Some(json!({"terms": "lonely"}))).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("terms")));
        let (status, g) = app.call("POST", "/api/v1/kb/synonyms", Some(&app.admin.token), Some(json!({"terms": "Gadget, Widget"}))).await;
        assert_eq!(status, 201);
        assert_eq!(g["terms"], "gadget, widget");
        let (status, body) = app.call("POST", "/api/v1/kb/synonyms", Some(&app.admin.token), Some(json!({"terms": "widget,gadget "}))).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("terms")));
        let id = g["id"].as_i64().unwrap();
        let (status, _) = app.call("DELETE", &format!("/api/v1/kb/synonyms/{id}"), Some(&app.admin.token), None).await;
        assert_eq!(status, 204);
        let (status, _) = app.call("DELETE", &format!("/api/v1/kb/synonyms/{id}"), Some(&app.admin.token), None).await;
        assert_eq!(status, 404);
    }
}

/// Past its allowance, a client address gets 429 from search and suggestions alike.
async fn rate_limited(backend: Backend) {
    let app = TestApp::spawn_with(backend, std::sync::Arc::new(SystemClock), |c| {
        c.kb_search_per_minute = 3;
    })
    .await;
    for _ in 0..3 {
        let (status, _) = app.call("GET", "/api/v1/kb/search?q=x", None, None).await;
        assert_eq!(status, 200);
    }
    let (status, body) = app.call("GET", "/api/v1/kb/suggest?q=x", None, None).await;
    assert_eq!(status, 429, "{body}");
}

mod searches_are_rate_limited {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        rate_limited(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        rate_limited(Backend::Postgres).await;
    }
}
