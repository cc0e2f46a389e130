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
        assert_eq!(n, 3);
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
