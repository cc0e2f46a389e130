//! The knowledge base's core: articles through the store (unique slugs, versions and
//! restore, translations, who reads what), their `article_changed` events on the stream
//! (which subscribers and the live fan-out cope with), and the API over them.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rapport_domain::kb::{ArticleBody, ArticleStatus, ArticleTitle, Locale, Slug, Visibility};
use rapport_domain::{EventKind, Principal, Role, SystemClock, Tag, Timestamp, Viewer};
use rapport_jobs::{Runner, RunnerConfig, Subscriber};
use rapport_store::kb::{self, ArticleFilter, ArticlePatch, NewArticle, NewCategory};
use rapport_store::stream::{self, Position, StreamEvent};
use rapport_store::{Conn, Db, StoreError, op};
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::TestApp;

fn viewer(id: i64, role: Role) -> Viewer {
    Viewer {
        user_id: id,
        role,
        team_ids: vec![],
    }
}

fn now() -> Timestamp {
    use rapport_domain::Clock;
    SystemClock.now()
}

fn draft(title: &str, body: &str) -> NewArticle {
    NewArticle::draft(
        ArticleTitle::parse(title).unwrap(),
        ArticleBody::parse(body).unwrap(),
    )
}

async fn create(db: &Db, v: &Viewer, a: NewArticle) -> Result<kb::Article, StoreError> {
    let v = v.clone();
    let t = now();
    db.write(op!(c => kb::create(c, &v, a, t).await)).await
}

async fn update(db: &Db, v: &Viewer, id: i64, p: ArticlePatch) -> Result<kb::Article, StoreError> {
    let v = v.clone();
    let t = now();
    db.write(op!(c => kb::update(c, &v, id, p, t).await)).await
}

async fn by_slug(db: &Db, who: Option<Principal>, slug: &str) -> Result<kb::Article, StoreError> {
    let slug = slug.to_owned();
    db.read(op!(c => kb::get_by_slug(c, who.as_ref(), &slug).await))
        .await
}

/// Waits (bounded) until every committed event is past the stream's horizon (PostgreSQL's
/// horizon is the cluster's oldest running transaction; other tests run beside this one).
async fn quiet(db: &Db) {
    for _ in 0..1_000 {
        let (head, latest) = db
            .read(op!(c => Ok((stream::head(c).await?, stream::latest(c).await?))))
            .await
            .unwrap();
        if head == latest {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the stream's horizon never caught up");
}

/// Every event after `from` in commit order.
async fn events_after(db: &Db, from: Position) -> Vec<StreamEvent> {
    quiet(db).await;
    db.read(op!(c => stream::after(c, from, 10_000).await))
        .await
        .unwrap()
}

async fn head(db: &Db) -> Position {
    quiet(db).await;
    db.read(op!(c => stream::head(c).await)).await.unwrap()
}

/// A subscriber that remembers the article events it handled, as job rows written in its
/// handling transaction.
struct ArticleWatcher;

impl Subscriber for ArticleWatcher {
    fn name(&self) -> &'static str {
        "test.kb.watcher"
    }

    fn wants(&self, e: &StreamEvent) -> bool {
        e.kind == EventKind::ArticleChanged
    }

    fn handle<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        e: &'a StreamEvent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            assert_eq!(e.ticket_id, None);
            let job = rapport_store::jobs::NewJob {
                kind: "test.kb.watcher".into(),
                payload: e.data.clone(),
                run_at: now.plus_secs(365 * 86_400),
                max_attempts: 1,
                idempotency_key: None,
            };
            rapport_store::jobs::enqueue(c, job, now).await.map(|_| ())
        })
    }
}

async fn watched(db: &Db) -> Vec<Value> {
    db.read(op!(c => {
        rapport_store::testing::query_in(
            c,
            "SELECT payload FROM jobs WHERE kind = 'test.kb.watcher' ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| Ok(serde_json::from_str(&r.text(0)?)?))
        .collect()
    }))
    .await
    .unwrap()
}

both_backends! {
    async fn slugs_are_unique_numbered_when_made_and_refused_when_asked(app) {
        let me = viewer(app.agent.id, Role::Agent);
        let a = create(&app.db, &me, draft("How do I reset my password?", "Open settings.")).await.unwrap();
        assert_eq!(a.slug, "how-do-i-reset-my-password");
        let b = create(&app.db, &me, draft("How do I reset my password?", "Again.")).await.unwrap();
        assert_eq!(b.slug, "how-do-i-reset-my-password-2");
        let c = create(&app.db, &me, draft("How do I reset my password", "Third.")).await.unwrap();
        assert_eq!(c.slug, "how-do-i-reset-my-password-3");
        // A title whose slug fills the limit: its numbered forms are shortened to fit,
        // and the third one must still find a free slug (a review found it did not).
        let long = "word ".repeat(20);
        let mut longs = Vec::new();
        for _ in 0..4 {
            longs.push(create(&app.db, &me, draft(&long, "x")).await.unwrap().slug);
        }
        longs.sort();
        longs.dedup();
        assert_eq!(longs.len(), 4, "{longs:?}");
        assert!(longs.iter().all(|s| s.len() <= Slug::MAX), "{longs:?}");
        let mut explicit = draft("Other", "x");
        explicit.slug = Some(Slug::parse("how-do-i-reset-my-password").unwrap());
        let e = create(&app.db, &me, explicit).await.unwrap_err();
        assert!(matches!(&e, StoreError::Invalid(f) if f.field == "slug"), "{e:?}");
        // Renaming onto a taken slug is refused too; onto a free one works.
        let p = ArticlePatch { slug: Some(Slug::parse(&a.slug).unwrap()), ..ArticlePatch::default() };
        let e = update(&app.db, &me, b.id, p).await.unwrap_err();
        assert!(matches!(&e, StoreError::Invalid(f) if f.field == "slug"), "{e:?}");
        let p = ArticlePatch { slug: Some(Slug::parse("reset-password").unwrap()), ..ArticlePatch::default() };
        assert_eq!(update(&app.db, &me, b.id, p).await.unwrap().slug, "reset-password");
        // A refused create leaves nothing behind.
        let n = crate::harness::count(&app.db, "SELECT COUNT(*) FROM kb_articles").await;
        assert_eq!(n, 3 + 4);
        app.stop().await;
    }

    async fn text_changes_are_versions_per_language_and_restore_writes_a_new_one(app) {
        let me = viewer(app.agent.id, Role::Agent);
        let a = create(&app.db, &me, draft("Refunds", "Version one.")).await.unwrap();
        assert_eq!(a.translations.len(), 1);
        assert_eq!(a.translations[0].version, 1);
        assert_eq!(a.default_locale, Locale::english());
        let p = ArticlePatch {
            body: Some(ArticleBody::parse("Version two.").unwrap()),
            note: Some("clearer".into()),
            ..ArticlePatch::default()
        };
        let a2 = update(&app.db, &me, a.id, p).await.unwrap();
        assert_eq!(a2.translations[0].version, 2);
        assert_eq!(a2.translations[0].body, "Version two.");
        assert_eq!(a2.title(), "Refunds", "the title stays");
        // The same text again is no new version.
        let p = ArticlePatch { body: Some(ArticleBody::parse("Version two.").unwrap()), ..ArticlePatch::default() };
        assert_eq!(update(&app.db, &me, a.id, p).await.unwrap().translations[0].version, 2);
        // A German translation: its own versions.
        let de = Locale::parse("de").unwrap();
        let p = ArticlePatch {
            locale: Some(de.clone()),
            body: Some(ArticleBody::parse("Erstattung.").unwrap()),
            ..ArticlePatch::default()
        };
        let e = update(&app.db, &me, a.id, p).await.unwrap_err();
        assert!(matches!(&e, StoreError::Invalid(f) if f.field == "title"), "a new translation needs a title: {e:?}");
        let p = ArticlePatch {
            locale: Some(de.clone()),
            title: Some(ArticleTitle::parse("Erstattungen").unwrap()),
            body: Some(ArticleBody::parse("Erstattung.").unwrap()),
            ..ArticlePatch::default()
        };
        let a3 = update(&app.db, &me, a.id, p).await.unwrap();
        assert_eq!(a3.locales(), vec![Locale::english(), de.clone()], "default language first");
        assert_eq!(a3.translation(&de).unwrap().version, 1);
        let (id, v) = (a.id, me.clone());
        let (en_versions, all) = app.db.read(op!(c => Ok((
            kb::versions::list(c, &v, id, Some(&Locale::english())).await?,
            kb::versions::list(c, &v, id, None).await?,
        )))).await.unwrap();
        assert_eq!(en_versions.iter().map(|x| x.version).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(en_versions[0].note, "clearer");
        assert_eq!(en_versions[1].note, "created");
        assert_eq!(all.len(), 3);
        let v = me.clone();
        let v1 = app.db.read(op!(c => kb::versions::get(c, &v, id, &Locale::english(), 1).await)).await.unwrap();
        assert_eq!(v1.body, "Version one.");
        let t = now();
        let v = me.clone();
        let restored = app.db.write(op!(c => kb::versions::restore(c, &v, id, &Locale::english(), 1, t).await)).await.unwrap();
        assert_eq!(restored.translations[0].body, "Version one.");
        assert_eq!(restored.translations[0].version, 3);
        assert_eq!(restored.translation(&de).unwrap().body, "Erstattung.", "other languages untouched");
        let v = me.clone();
        let latest = app.db.read(op!(c => kb::versions::list(c, &v, id, Some(&Locale::english())).await)).await.unwrap();
        assert_eq!(latest[0].note, "restored version 1");
        let v = me.clone();
        let missing = app.db.read(op!(c => kb::versions::get(c, &v, id, &Locale::english(), 9).await)).await.unwrap_err();
        assert!(matches!(missing, StoreError::NotFound(_)));
        // The default language's text cannot be removed; another one can.
        let p = ArticlePatch { remove_locale: Some(Locale::english()), ..ArticlePatch::default() };
        assert!(matches!(update(&app.db, &me, id, p).await.unwrap_err(), StoreError::Invalid(f) if f.field == "remove_locale"));
        let p = ArticlePatch { default_locale: Some(Locale::parse("fr").unwrap()), ..ArticlePatch::default() };
        assert!(matches!(update(&app.db, &me, id, p).await.unwrap_err(), StoreError::Invalid(f) if f.field == "default_locale"));
        let p = ArticlePatch { remove_locale: Some(de.clone()), ..ArticlePatch::default() };
        assert_eq!(update(&app.db, &me, id, p).await.unwrap().locales(), vec![Locale::english()]);
        app.stop().await;
    }

    async fn who_reads_which_article(app) {
        let me = viewer(app.agent.id, Role::Agent);
        let mut cases = Vec::new();
        for status in [ArticleStatus::Draft, ArticleStatus::Published, ArticleStatus::Archived] {
            for vis in [Visibility::Public, Visibility::Customers, Visibility::Internal] {
                let mut a = draft(&format!("{} {}", status.as_str(), vis.as_str()), "Body");
                a.status = status;
                a.visibility = vis;
                let a = create(&app.db, &me, a).await.unwrap();
                assert_eq!(a.published_at.is_some(), status == ArticleStatus::Published);
                cases.push((a, status, vis));
            }
        }
        let customer = Principal::Customer(1);
        let agent = Principal::Agent(me.clone());
        for (a, status, vis) in &cases {
            let published = *status == ArticleStatus::Published;
            assert_eq!(by_slug(&app.db, None, &a.slug).await.is_ok(), published && *vis == Visibility::Public, "{}", a.slug);
            assert_eq!(by_slug(&app.db, Some(customer.clone()), &a.slug).await.is_ok(), published && *vis != Visibility::Internal, "{}", a.slug);
            assert!(by_slug(&app.db, Some(agent.clone()), &a.slug).await.is_ok());
            if let Err(e) = by_slug(&app.db, None, &a.slug).await {
                assert!(matches!(e, StoreError::NotFound("article")), "hidden means not found: {e:?}");
            }
        }
        let lists = app.db.read(op!(c => {
            let f = ArticleFilter::default();
            Ok((
                kb::list(c, None, &f).await?,
                kb::list(c, Some(&customer), &f).await?,
                kb::list(c, Some(&agent), &f).await?,
                kb::published_for_index(c).await?,
                kb::count(c, None, &f).await?,
            ))
        })).await.unwrap();
        let slugs = |v: &Vec<kb::Article>| { let mut s: Vec<String> = v.iter().map(|a| a.slug.clone()).collect(); s.sort(); s };
        assert_eq!(slugs(&lists.0), vec!["published-public"]);
        assert_eq!(slugs(&lists.1), vec!["published-customers", "published-public"]);
        assert_eq!(lists.2.len(), 9);
        assert_eq!(slugs(&lists.3), vec!["published-customers", "published-internal", "published-public"]);
        assert_eq!(lists.4, 1);
        // An agent's filters narrow; an anonymous reader's filter cannot widen.
        let agent = Principal::Agent(me.clone());
        let lists = app.db.read(op!(c => {
            let drafts = ArticleFilter { status: Some(ArticleStatus::Draft), ..ArticleFilter::default() };
            let titled = ArticleFilter { q: Some("ARCHIVED in".into()), ..ArticleFilter::default() };
            Ok((
                kb::list(c, None, &drafts).await?,
                kb::list(c, Some(&agent), &drafts).await?,
                kb::list(c, Some(&agent), &titled).await?,
            ))
        })).await.unwrap();
        assert!(lists.0.is_empty());
        assert_eq!(lists.1.len(), 3);
        assert_eq!(slugs(&lists.2), vec!["archived-internal"]);
        app.stop().await;
    }

    async fn categories_tags_and_publishing(app) {
        let me = viewer(app.agent.id, Role::Agent);
        let sup = viewer(app.supervisor.id, Role::Supervisor);
        let t = now();
        let new = NewCategory { slug: Slug::parse("billing").unwrap(), name: "Billing".into(), description: "Money".into(), position: 1 };
        let v = me.clone();
        let refused = app.db.write(op!(c => kb::categories::create(c, &v, new, t).await)).await.unwrap_err();
        assert!(matches!(refused, StoreError::Forbidden(_)), "agents do not manage categories");
        let new = NewCategory { slug: Slug::parse("billing").unwrap(), name: "Billing".into(), description: "Money".into(), position: 1 };
        let v = sup.clone();
        let cat = app.db.write(op!(c => kb::categories::create(c, &v, new, t).await)).await.unwrap();
        let again = NewCategory { slug: Slug::parse("billing").unwrap(), name: "B".into(), description: String::new(), position: 0 };
        let v = sup.clone();
        let e = app.db.write(op!(c => kb::categories::create(c, &v, again, t).await)).await.unwrap_err();
        assert!(matches!(&e, StoreError::Invalid(f) if f.field == "slug"), "{e:?}");
        let mut a = draft("Invoices", "Where to find them.");
        a.category_id = Some(cat.id);
        a.section = "Paying".into();
        a.tags = Tag::parse_list(&["Money", "invoice", "money"]).unwrap();
        let a = create(&app.db, &me, a).await.unwrap();
        assert_eq!(a.category.as_ref().map(|k| k.slug.as_str()), Some("billing"));
        assert_eq!(a.tags, vec!["invoice", "money"]);
        assert_eq!(a.section, "Paying");
        let mut bad = draft("X", "y");
        bad.category_id = Some(9999);
        let e = create(&app.db, &me, bad).await.unwrap_err();
        assert!(matches!(&e, StoreError::Invalid(f) if f.field == "category"), "{e:?}");
        // Publishing stamps published_at once.
        let p = ArticlePatch { status: Some(ArticleStatus::Published), ..ArticlePatch::default() };
        let pubd = update(&app.db, &me, a.id, p).await.unwrap();
        let first = pubd.published_at.expect("published");
        let p = ArticlePatch { status: Some(ArticleStatus::Archived), ..ArticlePatch::default() };
        update(&app.db, &me, a.id, p).await.unwrap();
        let p = ArticlePatch { status: Some(ArticleStatus::Published), ..ArticlePatch::default() };
        assert_eq!(update(&app.db, &me, a.id, p).await.unwrap().published_at, Some(first));
        let cats = app.db.read(op!(c => kb::categories::list(c, None).await)).await.unwrap();
        assert_eq!(cats.len(), 1);
        assert_eq!(cats[0].articles, 1);
        // A category with articles is not deleted; agents delete nothing.
        let id = cat.id;
        let v = sup.clone();
        let e = app.db.write(op!(c => kb::categories::delete(c, &v, id).await)).await.unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");
        let aid = a.id;
        let v = me.clone();
        let e = app.db.write(op!(c => kb::delete(c, &v, aid, t).await)).await.unwrap_err();
        assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
        let v = sup.clone();
        app.db.write(op!(c => kb::delete(c, &v, aid, t).await)).await.unwrap();
        let v = sup.clone();
        app.db.write(op!(c => kb::categories::delete(c, &v, id).await)).await.unwrap();
        assert_eq!(crate::harness::count(&app.db, "SELECT COUNT(*) FROM kb_versions").await, 0);
        app.stop().await;
    }

    async fn every_write_records_article_changed_and_subscribers_see_it(app) {
        let watcher = Runner::new(app.db.clone(), Arc::new(SystemClock), Arc::new(ArticleWatcher), RunnerConfig {
            batch: 100,
            idle_wait: Duration::from_millis(5),
            max_backoff: Duration::from_millis(100),
        });
        watcher.settle().await.unwrap();
        let mail = Runner::new(app.db.clone(), Arc::new(SystemClock), Arc::new(rapport_mail::notices::Notices), RunnerConfig::default());
        mail.settle().await.unwrap();
        let start = head(&app.db).await;
        let me = viewer(app.agent.id, Role::Agent);
        let sup = viewer(app.supervisor.id, Role::Supervisor);
        let a = create(&app.db, &me, draft("Shipping times", "Two days.")).await.unwrap();
        let p = ArticlePatch { status: Some(ArticleStatus::Published), ..ArticlePatch::default() };
        update(&app.db, &me, a.id, p).await.unwrap();
        let p = ArticlePatch { body: Some(ArticleBody::parse("Three days.").unwrap()), ..ArticlePatch::default() };
        update(&app.db, &me, a.id, p).await.unwrap();
        let (id, t) = (a.id, now());
        let v = me.clone();
        app.db.write(op!(c => kb::versions::restore(c, &v, id, &Locale::english(), 1, t).await)).await.unwrap();
        let v = sup.clone();
        app.db.write(op!(c => kb::delete(c, &v, id, t).await)).await.unwrap();
        // A ticket's events still flow beside them.
        app.ticket("Where is my parcel?", "Hello", "parcel@example.com").await;
        let events = events_after(&app.db, start).await;
        let articles: Vec<&StreamEvent> = events.iter().filter(|e| e.kind == EventKind::ArticleChanged).collect();
        let actions: Vec<&str> = articles.iter().map(|e| e.data["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["created", "published", "updated", "restored", "deleted"]);
        for e in &articles {
            assert_eq!(e.ticket_id, None);
            assert_eq!(e.data["article_id"], json!(a.id));
            assert_eq!(e.data["slug"], json!(a.slug));
            assert!(rapport_mail::notices::notice_for(e).is_none());
            assert!(rapport_mail::outbox::reply_to_send(e).is_none());
        }
        assert!(events.iter().any(|e| e.kind == EventKind::TicketCreated && e.ticket_id.is_some()));
        // A subscriber handles each article event once; the mail subscribers pass over them.
        watcher.settle().await.unwrap();
        let seen = watched(&app.db).await;
        assert_eq!(seen.iter().map(|d| d["action"].as_str().unwrap()).collect::<Vec<_>>(), actions);
        mail.settle().await.unwrap();
        assert_eq!(crate::harness::count(&app.db, "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.notify'").await, 0);
        app.stop().await;
    }

    async fn the_live_fan_out_never_sends_article_events_to_browsers(app) {
        let live = Arc::new(rapport_http::live::Live::default());
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let tail = tokio::spawn({
            let (live, db) = (Arc::clone(&live), app.db.clone());
            async move { live.tail(db, stop_rx).await }
        });
        // Let the fan-out take its starting position before anything happens.
        quiet(&app.db).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let mut browser = Box::pin(live.events_for(app.db.clone(), |_| true, None));
        let me = viewer(app.agent.id, Role::Agent);
        create(&app.db, &me, draft("Live article", "x")).await.unwrap();
        let t = app.ticket("Live ticket", "Hello", "live@example.com").await;
        use futures::StreamExt;
        let first = tokio::time::timeout(Duration::from_secs(20), browser.next()).await.unwrap().unwrap();
        assert_eq!(first.ticket_id, t["id"].as_i64(), "the article event was passed over: {first:?}");
        assert_eq!(first.kind, "ticket_created");
        let _ = stop.send(true);
        tail.await.unwrap();
        app.stop().await;
    }
}

// ------------------------------------------------------------------------ the API

both_backends! {
    async fn the_api_creates_reads_lists_changes_and_deletes_articles(app) {
        let (s, cat) = app.call("POST", "/api/v1/kb/categories", Some(&app.supervisor.token),
            Some(json!({"slug": "billing", "name": "Billing", "description": "Money matters"}))).await;
        assert_eq!(s, 201, "{cat}");
        let (s, a) = app.call("POST", "/api/v1/kb/articles", Some(&app.agent.token), Some(json!({
            "title": "How do refunds work?",
            "body": "Lead.\n\n## Asking for one\n\nWrite to us.",
            "status": "published",
            "visibility": "public",
            "category": "billing",
            "section": "Refunds",
            "tags": ["refund", "Money"],
        }))).await;
        assert_eq!(s, 201, "{a}");
        assert_eq!(a["slug"], "how-do-refunds-work");
        assert_eq!(a["url"], "/help/articles/how-do-refunds-work");
        assert_eq!(a["status"], "published");
        assert_eq!(a["category"]["slug"], "billing");
        assert_eq!(a["category"]["id"], cat["id"]);
        assert_eq!(a["tags"], json!(["money", "refund"]));
        assert_eq!(a["default_locale"], "en");
        assert_eq!(a["translations"][0]["version"], 1);
        assert!(a["published_at"].is_string());
        let id = a["id"].as_i64().unwrap();
        // The category by id works too; the same title gets a numbered slug.
        let (s, b) = app.call("POST", "/api/v1/kb/articles", Some(&app.agent.token), Some(json!({
            "title": "How do refunds work?", "body": "Draft.", "status": "draft",
            "visibility": "internal", "category": cat["id"], "locale": "de",
        }))).await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["slug"], "how-do-refunds-work-2");
        assert_eq!(b["default_locale"], "de");
        // Read, any status.
        let (s, got) = app.call("GET", &format!("/api/v1/kb/articles/{}", b["id"]), Some(&app.agent_b.token), None).await;
        assert_eq!(s, 200, "{got}");
        assert_eq!(got["body"], "Draft.");
        // List with filters and paging.
        let (s, page) = app.get("/api/v1/kb/articles?status=draft").await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(page["total"], 1);
        assert_eq!(page["items"][0]["id"], b["id"]);
        assert_eq!(page["items"][0]["locales"], json!(["de"]));
        let (_, page) = app.get("/api/v1/kb/articles?limit=1").await;
        assert_eq!(page["total"], 2);
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert_eq!(page["next_offset"], 1);
        let (_, page) = app.get("/api/v1/kb/articles?limit=1&offset=1").await;
        assert!(page["next_offset"].is_null());
        let (_, page) = app.get("/api/v1/kb/articles?q=REFUNDS&category=billing&locale=en").await;
        assert_eq!(page["total"], 1, "{page}");
        let (_, page) = app.get("/api/v1/kb/articles?category=none").await;
        assert_eq!(page["total"], 0);
        // Change: a new version of the text, and a translation.
        let (s, p) = app.call("PATCH", &format!("/api/v1/kb/articles/{id}"), Some(&app.agent.token), Some(json!({
            "body": "Lead.\n\n## Asking for one\n\nWrite to us within 30 days.", "note": "30 days",
        }))).await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["translations"][0]["version"], 2);
        let (s, p) = app.call("PATCH", &format!("/api/v1/kb/articles/{id}"), Some(&app.agent.token), Some(json!({
            "locale": "de", "title": "Wie funktionieren Erstattungen?", "body": "Schreiben Sie uns.",
            "category": null, "tags": [],
        }))).await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["translations"][1]["locale"], "de");
        assert!(p["category"].is_null());
        assert_eq!(p["tags"], json!([]));
        // Versions and restore.
        let (s, vs) = app.get(&format!("/api/v1/kb/articles/{id}/versions")).await;
        assert_eq!(s, 200, "{vs}");
        assert_eq!(vs.as_array().unwrap().len(), 3);
        let (_, vs) = app.get(&format!("/api/v1/kb/articles/{id}/versions?locale=en")).await;
        assert_eq!(vs[0]["version"], 2);
        assert_eq!(vs[0]["note"], "30 days");
        let (s, v1) = app.get(&format!("/api/v1/kb/articles/{id}/versions/1")).await;
        assert_eq!(s, 200, "{v1}");
        assert_eq!(v1["body"], "Lead.\n\n## Asking for one\n\nWrite to us.");
        let (s, r) = app.call("POST", &format!("/api/v1/kb/articles/{id}/versions/1/restore"), Some(&app.agent.token), None).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["body"], v1["body"]);
        assert_eq!(r["translations"][0]["version"], 3);
        let (s, _) = app.get(&format!("/api/v1/kb/articles/{id}/versions/9")).await;
        assert_eq!(s, 404);
        // Delete: supervisors and admins.
        let (s, e) = app.call("DELETE", &format!("/api/v1/kb/articles/{id}"), Some(&app.agent.token), None).await;
        crate::harness::assert_error(s, &e, 403, None);
        let (s, _) = app.call("DELETE", &format!("/api/v1/kb/articles/{id}"), Some(&app.supervisor.token), None).await;
        assert_eq!(s, 204);
        let (s, _) = app.get(&format!("/api/v1/kb/articles/{id}")).await;
        assert_eq!(s, 404);
        // Categories: list with counts, a full one refuses to go, an empty one goes.
        let (s, cats) = app.get("/api/v1/kb/categories").await;
        assert_eq!(s, 200);
        assert_eq!(cats[0]["articles"], 1);
        let cid = cat["id"].as_i64().unwrap();
        let (s, e) = app.call("DELETE", &format!("/api/v1/kb/categories/{cid}"), Some(&app.supervisor.token), None).await;
        crate::harness::assert_error(s, &e, 409, None);
        let (s, k) = app.call("PATCH", &format!("/api/v1/kb/categories/{cid}"), Some(&app.supervisor.token), Some(json!({"name": "Payments"}))).await;
        assert_eq!(s, 200, "{k}");
        assert_eq!(k["name"], "Payments");
        let (s, _) = app.call("PATCH", &format!("/api/v1/kb/articles/{}", b["id"]), Some(&app.agent.token), Some(json!({"category": null}))).await;
        assert_eq!(s, 200);
        let (s, _) = app.call("DELETE", &format!("/api/v1/kb/categories/{cid}"), Some(&app.supervisor.token), None).await;
        assert_eq!(s, 204);
        app.stop().await;
    }

    async fn the_api_names_the_field_of_bad_input(app) {
        let post = |body: Value| {
            let app = &app;
            async move { app.call("POST", "/api/v1/kb/articles", Some(&app.agent.token), Some(body)).await }
        };
        let ok = json!({"title": "T", "body": "B", "status": "draft", "visibility": "public"});
        for (field, patch) in [
            ("title", json!({"title": ""})),
            ("title", json!({"title": "x".repeat(201)})),
            ("body", json!({"body": "x".repeat(256 * 1024 + 1)})),
            ("body", json!({"body": "a\u{0}b"})),
            ("status", json!({"status": "live"})),
            ("visibility", json!({"visibility": "everyone"})),
            ("locale", json!({"locale": "english"})),
            ("slug", json!({"slug": "Not A Slug"})),
            ("tags", json!({"tags": ["bad tag!"]})),
            ("category", json!({"category": "nope"})),
            ("category", json!({"category": 99999})),
            ("section", json!({"section": "x".repeat(101)})),
            ("source_ticket_id", json!({"source_ticket_id": 99999})),
            ("status", json!({"status": null})),
        ] {
            let mut body = ok.clone();
            for (k, v) in patch.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (s, e) = post(body).await;
            crate::harness::assert_error(s, &e, 422, Some(field));
        }
        // Missing required fields are named.
        let (s, e) = post(json!({"title": "T", "body": "B", "status": "draft"})).await;
        crate::harness::assert_error(s, &e, 422, Some("visibility"));
        // A taken slug asked for by name is refused.
        let (s, _) = post(json!({"title": "T", "body": "B", "status": "draft", "visibility": "public", "slug": "taken"})).await;
        assert_eq!(s, 201);
        let (s, e) = post(json!({"title": "U", "body": "B", "status": "draft", "visibility": "public", "slug": "taken"})).await;
        crate::harness::assert_error(s, &e, 422, Some("slug"));
        assert_eq!(crate::harness::count(&app.db, "SELECT COUNT(*) FROM kb_articles").await, 1, "refusals write nothing");
        // Patches and lists name their fields too.
        let (_, page) = app.get("/api/v1/kb/articles").await;
        let id = page["items"][0]["id"].as_i64().unwrap();
        for (field, body) in [
            ("title", json!({"locale": "fr", "body": "Bonjour"})),
            ("default_locale", json!({"default_locale": "fr"})),
            ("default_locale", json!({"default_locale": "not a tag"})),
            ("remove_locale", json!({"remove_locale": "en"})),
            ("note", json!({"body": "new", "note": "x".repeat(501)})),
        ] {
            let (s, e) = app.call("PATCH", &format!("/api/v1/kb/articles/{id}"), Some(&app.agent.token), Some(body)).await;
            crate::harness::assert_error(s, &e, 422, Some(field));
        }
        for (field, query) in [("limit", "limit=0"), ("limit", "limit=201"), ("order", "order=best"), ("status", "status=live"), ("q", &format!("q={}", "x".repeat(201)) as &str)] {
            let (s, e) = app.get(&format!("/api/v1/kb/articles?{query}")).await;
            crate::harness::assert_error(s, &e, 422, Some(field));
        }
        let (s, e) = app.call("POST", "/api/v1/kb/categories", Some(&app.supervisor.token), Some(json!({"slug": "ok", "name": ""}))).await;
        crate::harness::assert_error(s, &e, 422, Some("name"));
        let (s, e) = app.call("POST", "/api/v1/kb/categories", Some(&app.supervisor.token), Some(json!({"slug": "Bad Slug", "name": "x"}))).await;
        crate::harness::assert_error(s, &e, 422, Some("slug"));
        app.stop().await;
    }

    async fn the_api_is_for_agents_only(app) {
        let (s, a) = app.call("POST", "/api/v1/kb/articles", Some(&app.agent.token),
            Some(json!({"title": "Internal how-to", "body": "x", "status": "draft", "visibility": "internal"}))).await;
        assert_eq!(s, 201, "{a}");
        let id = a["id"].as_i64().unwrap();
        // Without a token, or with a wrong one: 401, whatever the article.
        for (method, path) in [
            ("GET", "/api/v1/kb/articles".to_owned()),
            ("GET", format!("/api/v1/kb/articles/{id}")),
            ("GET", format!("/api/v1/kb/articles/{id}/versions")),
            ("PATCH", format!("/api/v1/kb/articles/{id}")),
            ("DELETE", format!("/api/v1/kb/articles/{id}")),
            ("GET", "/api/v1/kb/categories".to_owned()),
        ] {
            let body = (method == "PATCH").then(|| json!({"title": "Hacked"}));
            let (s, e) = app.call(method, &path, None, body.clone()).await;
            crate::harness::assert_error(s, &e, 401, None);
            let (s, e) = app.call(method, &path, Some("not-a-token"), body).await;
            crate::harness::assert_error(s, &e, 401, None);
        }
        let (s, e) = app.call("POST", "/api/v1/kb/articles", None,
            Some(json!({"title": "Spam", "body": "x", "status": "published", "visibility": "public"}))).await;
        crate::harness::assert_error(s, &e, 401, None);
        // A portal customer's session is not an API credential either.
        let r = app.http.get(app.url("/api/v1/kb/articles")).header("cookie", "rapport_portal=whatever").send().await.unwrap();
        assert_eq!(r.status(), 401);
        // Agents may not manage categories.
        let (s, e) = app.call("POST", "/api/v1/kb/categories", Some(&app.agent.token), Some(json!({"slug": "x", "name": "X"}))).await;
        crate::harness::assert_error(s, &e, 403, None);
        let (_, got) = app.get(&format!("/api/v1/kb/articles/{id}")).await;
        assert_eq!(got["title"], "Internal how-to", "nothing changed");
        app.stop().await;
    }

    async fn unsafe_markdown_is_stored_as_written_and_rendered_harmless(app) {
        let evil = "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))\n\n<img src=\"https://x.test/a.png\" onerror=\"alert(3)\">\n\n![d](data:text/html;base64,PHNjcmlwdD4=)\n";
        let (s, a) = app.call("POST", "/api/v1/kb/articles", Some(&app.agent.token),
            Some(json!({"title": "Evil", "body": evil, "status": "published", "visibility": "public"}))).await;
        assert_eq!(s, 201, "{a}");
        assert_eq!(a["body"], evil.trim_end(), "the API keeps the author's markdown");
        let html = rapport_web::render::article_html(a["body"].as_str().unwrap()).html;
        for bad in ["<script", "javascript:", "onerror", "data:"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("<h1 id=\"title\">Title</h1>"), "{html}");
        app.stop().await;
    }
}

// ------------------------------------------------------------------ workspace pages

/// An agent signed in to the workspace, with their session cookie and form token.
pub(crate) struct Browser {
    pub(crate) http: reqwest::Client,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

impl Browser {
    pub(crate) async fn agent(app: &TestApp, email: &str) -> Browser {
        crate::web::set_password(app, email, "correct horse battery").await;
        let http = crate::web::client();
        let (session, csrf) = crate::web::sign_in(app, &http, email, "correct horse battery").await;
        Browser {
            http,
            cookie: format!("rapport_session={session}"),
            csrf,
        }
    }

    pub(crate) async fn get(&self, app: &TestApp, path: &str) -> (u16, String, String) {
        let r = self
            .http
            .get(app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, r.text().await.unwrap())
    }

    pub(crate) async fn post(
        &self,
        app: &TestApp,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, String, String) {
        let mut fields: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        fields.extend_from_slice(form);
        let r = self
            .http
            .post(app.url(path))
            .header("cookie", &self.cookie)
            .form(&fields)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, location, r.text().await.unwrap())
    }
}

fn article_id(location: &str) -> i64 {
    location
        .trim_start_matches("/kb/articles/")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

both_backends! {
    async fn agents_write_preview_translate_and_restore_in_the_workspace(app) {
        // No session: the sign-in page.
        let r = crate::web::client().get(app.url("/kb")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let b = Browser::agent(&app, "agent.a@example.com").await;
        let (s, _, html) = b.get(&app, "/kb").await;
        assert_eq!(s, 200);
        assert!(html.contains("Knowledge base"));
        let (s, _, html) = b.get(&app, "/kb/new").await;
        assert_eq!(s, 200);
        assert!(html.contains("id=\"kb-preview\""));
        // The live preview renders as the help center does, sanitised, with the TOC.
        let (s, _, json) = b.post(&app, "/kb/preview", &[("body", "## Step one\n\n<script>x()</script>Do it.")]).await;
        assert_eq!(s, 200, "{json}");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert!(v["html"].as_str().unwrap().contains("<h2 id=\"step-one\">Step one</h2>"), "{v}");
        assert!(!v["html"].as_str().unwrap().contains("<script"));
        assert_eq!(v["toc"][0]["anchor"], "step-one");
        let r = b.http.post(app.url("/kb/preview")).header("cookie", &b.cookie).form(&[("csrf", "wrong"), ("body", "x")]).send().await.unwrap();
        assert_eq!(r.status(), 403, "the preview needs the form token");
        let big = "x".repeat(256 * 1024 + 1);
        let (s, _, json) = b.post(&app, "/kb/preview", &[("body", big.as_str())]).await;
        assert_eq!(s, 422, "{json}");
        // Bad input shows the editor again, with what was typed.
        let (s, _, html) = b.post(&app, "/kb/new", &[("title", ""), ("body", "Kept text"), ("locale", "en"), ("status", "draft"), ("visibility", "public")]).await;
        assert_eq!(s, 422);
        assert!(html.contains("title:") && html.contains("Kept text"), "{html}");
        // Create, then edit: a new version.
        let (s, loc, _) = b.post(&app, "/kb/new", &[("title", "Reset your password"), ("body", "Open settings."), ("locale", "en"), ("status", "draft"), ("visibility", "public"), ("tags", "login, password")]).await;
        assert_eq!(s, 303);
        let id = article_id(&loc);
        let (s, _, html) = b.get(&app, &loc).await;
        assert_eq!(s, 200);
        assert!(html.contains("Reset your password") && html.contains("login, password"));
        let edit = format!("/kb/articles/{id}/edit");
        let (s, loc, _) = b.post(&app, &edit, &[("title", "Reset your password"), ("body", "Open settings.\nChoose Reset."), ("locale", "en"), ("note", "more steps"), ("status", "published"), ("visibility", "public"), ("tags", "password"), ("slug", "reset-password")]).await;
        assert_eq!(s, 303);
        assert_eq!(loc, format!("/kb/articles/{id}/edit?lang=en"));
        let (_, a) = app.get(&format!("/api/v1/kb/articles/{id}")).await;
        assert_eq!(a["status"], "published");
        assert_eq!(a["slug"], "reset-password");
        assert_eq!(a["translations"][0]["version"], 2);
        // A translation through the language tab.
        let (s, _, html) = b.get(&app, &format!("{edit}?lang=de")).await;
        assert_eq!(s, 200);
        assert!(html.contains("New translation: de"));
        let (s, _, _) = b.post(&app, &edit, &[("title", "Passwort zurücksetzen"), ("body", "Einstellungen öffnen."), ("locale", "de"), ("status", "published"), ("visibility", "public"), ("tags", "password"), ("slug", "reset-password")]).await;
        assert_eq!(s, 303);
        let (_, a) = app.get(&format!("/api/v1/kb/articles/{id}")).await;
        assert_eq!(a["translations"][1]["title"], "Passwort zurücksetzen");
        // History: the diff of the newest English version, then restore version 1.
        let (s, _, html) = b.get(&app, &format!("/kb/articles/{id}/history?lang=en")).await;
        assert_eq!(s, 200);
        assert!(html.contains("<ins>Choose Reset.</ins>"), "{html}");
        assert!(html.contains("<del>Open settings.</del>") || html.contains("Open settings."), "{html}");
        assert!(html.contains("more steps"));
        let (s, _, html) = b.get(&app, &format!("/kb/articles/{id}/history?lang=en&v=1")).await;
        assert_eq!(s, 200);
        assert!(html.contains("<ins>Open settings.</ins>"), "version 1 against nothing: {html}");
        let (s, loc, _) = b.post(&app, &format!("/kb/articles/{id}/restore"), &[("locale", "en"), ("version", "1")]).await;
        assert_eq!(s, 303, "{loc}");
        let (_, a) = app.get(&format!("/api/v1/kb/articles/{id}")).await;
        assert_eq!(a["body"], "Open settings.");
        assert_eq!(a["translations"][0]["version"], 3);
        // The list shows it; agents may not delete.
        let (_, _, html) = b.get(&app, "/kb?status=published").await;
        assert!(html.contains("Reset your password"));
        let (s, _, _) = b.post(&app, &format!("/kb/articles/{id}/delete"), &[]).await;
        assert_eq!(s, 403);
        app.stop().await;
    }

    async fn a_reply_becomes_a_draft_and_articles_go_into_replies(app) {
        let t = app.ticket("How do I export my invoices?", "Please help", "export@example.com").await;
        let tid = t["id"].as_i64().unwrap();
        let (s, m) = app.call("POST", &format!("/api/v1/tickets/{tid}/messages"), Some(&app.agent.token),
            Some(json!({"body": "Go to **Billing** and press Export."}))).await;
        assert_eq!(s, 201, "{m}");
        let mid = m["id"].as_i64().unwrap();
        let b = Browser::agent(&app, "agent.a@example.com").await;
        let (s, _, html) = b.get(&app, &format!("/tickets/{tid}")).await;
        assert_eq!(s, 200);
        assert!(html.contains("Make article"), "the reply offers it");
        assert!(html.contains("Insert article"), "the reply box has the article search");
        let (s, loc, _) = b.post(&app, "/kb/from-reply", &[("ticket", &tid.to_string()), ("message", &mid.to_string())]).await;
        assert_eq!(s, 303, "{loc}");
        let id = article_id(&loc);
        let (_, a) = app.get(&format!("/api/v1/kb/articles/{id}")).await;
        assert_eq!(a["status"], "draft");
        assert_eq!(a["title"], "How do I export my invoices?");
        assert_eq!(a["body"], "Go to **Billing** and press Export.");
        assert_eq!(a["source_ticket_id"], tid);
        // A customer's message is not an agent's answer.
        let (_, thread) = app.get(&format!("/api/v1/tickets/{tid}/messages")).await;
        let first = thread[0]["id"].as_i64().unwrap();
        let (s, _, _) = b.post(&app, "/kb/from-reply", &[("ticket", &tid.to_string()), ("message", &first.to_string())]).await;
        assert_eq!(s, 404);
        // The lookup offers published articles customers may read, with public URLs.
        let (s, _, json) = b.get(&app, "/kb/lookup?q=export").await;
        assert_eq!(s, 200);
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap()["hits"], json!([]), "a draft is not offered");
        let (s, _) = app.patch(&format!("/api/v1/kb/articles/{id}"), json!({"status": "published"})).await;
        assert_eq!(s, 200);
        let (_, _, json) = b.get(&app, "/kb/lookup?q=EXPORT").await;
        let hits = serde_json::from_str::<Value>(&json).unwrap()["hits"].clone();
        assert_eq!(hits[0]["title"], "How do I export my invoices?");
        assert!(hits[0]["url"].as_str().unwrap().ends_with("/help/articles/how-do-i-export-my-invoices"), "{hits}");
        let (s, _) = app.patch(&format!("/api/v1/kb/articles/{id}"), json!({"visibility": "internal"})).await;
        assert_eq!(s, 200);
        let (_, _, json) = b.get(&app, "/kb/lookup?q=export").await;
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap()["hits"], json!([]), "internal articles are not for customers");
        app.stop().await;
    }
}
