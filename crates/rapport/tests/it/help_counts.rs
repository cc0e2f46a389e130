//! Numbers and lists the help center serves stay exact under load: "Was this helpful?"
//! totals with many readers voting at once, and the sitemap, rendered once and kept until
//! an article changes.

use rapport_domain::kb::Locale;
use rapport_domain::{Clock, SystemClock};
use rapport_store::kb::feedback::{self, NewVote, Voter};
use rapport_store::{op, testing};
use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

async fn counters(app: &TestApp, id: i64) -> (i64, i64) {
    let r = &testing::rows(
        &app.db,
        "SELECT helpful_yes, helpful_no FROM kb_articles WHERE id = $1",
        vec![id.into()],
    )
    .await
    .unwrap()[0];
    (r.int("helpful_yes").unwrap(), r.int("helpful_no").unwrap())
}

/// Every voter in `voters` votes at once, each in their own transaction.
async fn vote_at_once(app: &TestApp, id: i64, voters: &[(String, bool)]) {
    let mut tasks = Vec::new();
    for (who, helpful) in voters {
        let db = app.db.clone();
        let v = NewVote {
            article_id: id,
            locale: Locale::english(),
            helpful: *helpful,
            comment: None,
            voter: Voter::Visitor(who.clone()),
        };
        tasks.push(tokio::spawn(async move {
            let now = SystemClock.now();
            db.write(op!(c => feedback::vote(c, &v, now).await)).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
}

async fn sitemap(app: &TestApp) -> String {
    let r = app.http.get(app.url("/sitemap.xml")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// The sitemap once `ready` holds (the node's follower of the event stream applies an
/// article change within a quarter second); fails after ten seconds.
async fn sitemap_when(app: &TestApp, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let mut xml = String::new();
    for _ in 0..200 {
        xml = sitemap(app).await;
        if ready(&xml) {
            return xml;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the sitemap never showed {what}: {xml}");
}

/// Publishes an article through the API.
async fn publish(app: &TestApp, title: &str, visibility: &str) -> serde_json::Value {
    let (s, a) = app
        .call(
            "POST",
            "/api/v1/kb/articles",
            Some(&app.agent.token),
            Some(json!({
                "title": title, "body": "Text.", "status": "published", "visibility": visibility,
            })),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    a
}

both_backends! {
    async fn helpful_totals_are_exact_when_many_vote_at_once(app) {
        let (s, a) = app.call("POST", "/api/v1/kb/articles", Some(&app.agent.token), Some(json!({
            "title": "Popular", "body": "Everyone reads this.", "status": "published", "visibility": "public",
        }))).await;
        assert_eq!(s, 201, "{a}");
        let id = a["id"].as_i64().unwrap();
        // 90 first votes at once: 60 yes, 30 no.
        let voters: Vec<(String, bool)> = (0..90).map(|i| (format!("{i:064x}"), i % 3 != 0)).collect();
        vote_at_once(&app, id, &voters).await;
        assert_eq!(counters(&app, id).await, (60, 30));
        // Then everyone changes their mind at once.
        let flipped: Vec<(String, bool)> = voters.iter().map(|(v, h)| (v.clone(), !h)).collect();
        vote_at_once(&app, id, &flipped).await;
        assert_eq!(counters(&app, id).await, (30, 60));
        let (_, a) = app.get(&format!("/api/v1/kb/articles/{id}")).await;
        assert_eq!((a["helpful_yes"].as_i64(), a["helpful_no"].as_i64()), (Some(30), Some(60)), "{a}");
        app.stop().await;
    }

    async fn the_sitemap_is_kept_until_an_article_changes(app) {
        let first = publish(&app, "First article", "public").await;
        let xml = sitemap_when(&app, "the first article", |x| x.contains("/help/articles/first-article<")).await;
        // A change no article event announces (made behind Rapport's back) is not seen:
        // the sitemap is not read again for every request.
        testing::execute(&app.db, "UPDATE kb_articles SET slug = 'behind-the-back' WHERE id = $1",
            vec![first["id"].as_i64().unwrap().into()]).await.unwrap();
        for _ in 0..3 {
            assert_eq!(sitemap(&app).await, xml, "served from the cache");
        }
        // Any article's change renders it anew.
        publish(&app, "Second article", "public").await;
        let xml = sitemap_when(&app, "the second article", |x| x.contains("/help/articles/second-article<")).await;
        assert!(xml.contains("/help/articles/behind-the-back<"), "{xml}");
        assert!(!xml.contains("first-article"), "{xml}");
        // Only what the public may read, as ever.
        let internal = publish(&app, "Internal article", "internal").await;
        let members = publish(&app, "Members article", "customers").await;
        let draft = publish(&app, "Draft article", "public").await;
        let (s, _) = app.patch(&format!("/api/v1/kb/articles/{}", draft["id"]), json!({"status": "draft"})).await;
        assert_eq!(s, 200);
        for a in [&internal, &members] {
            let (s, _) = app.patch(&format!("/api/v1/kb/articles/{}", a["id"]), json!({"visibility": "public"})).await;
            assert_eq!(s, 200);
        }
        let xml = sitemap_when(&app, "the articles made public", |x| x.contains("internal-article") && x.contains("members-article")).await;
        assert!(!xml.contains("draft-article"), "{xml}");
        let (s, _) = app.patch(&format!("/api/v1/kb/articles/{}", members["id"]), json!({"visibility": "customers"})).await;
        assert_eq!(s, 200);
        let (s, _) = app.patch(&format!("/api/v1/kb/articles/{}", internal["id"]), json!({"visibility": "internal"})).await;
        assert_eq!(s, 200);
        sitemap_when(&app, "no customers-only or internal article", |x| !x.contains("internal-article") && !x.contains("members-article")).await;
        app.stop().await;
    }

    async fn the_front_page_lists_are_kept_per_reader_until_an_article_changes(app) {
        let home = |cookie: Option<String>| {
            let app = &app;
            async move {
                let mut r = crate::web::client().get(app.url("/help"));
                if let Some(c) = cookie {
                    r = r.header("cookie", c);
                }
                let r = r.send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.text().await.unwrap()
            }
        };
        let cookie = crate::kb_links::portal_cookie(&app, "member@example.com").await;
        let first = publish(&app, "Alpha guide", "public").await;
        // The writing node sees its own write at once.
        assert!(home(None).await.contains("Alpha guide"));
        assert!(home(Some(cookie.clone())).await.contains("Alpha guide"));
        // A change no article event announces is not seen: the lists are kept.
        testing::execute(&app.db, "UPDATE kb_translations SET title = 'Behind the back' WHERE article_id = $1",
            vec![first["id"].as_i64().unwrap().into()]).await.unwrap();
        for _ in 0..3 {
            let page = home(None).await;
            assert!(page.contains("Alpha guide") && !page.contains("Behind the back"), "served from the kept lists");
        }
        // Any article's change reads them anew; each kind of reader keeps its own.
        publish(&app, "Members guide", "customers").await;
        let anonymous = home(None).await;
        assert!(anonymous.contains("Behind the back"), "{anonymous}");
        assert!(!anonymous.contains("Members guide"), "not the public's: {anonymous}");
        let member = home(Some(cookie)).await;
        assert!(member.contains("Members guide") && member.contains("Behind the back"), "{member}");
        app.stop().await;
    }
}
