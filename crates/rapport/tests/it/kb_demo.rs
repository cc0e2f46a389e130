//! The demo's knowledge base and forum: it loads through the store (categories,
//! articles, translations, versions and events, synonyms, community threads), the public
//! sees exactly the public published articles, every judged query names an article a
//! visitor can open, and loading twice adds nothing.

use rapport_demo::kb::{self as demo, JudgedKind};
use rapport_domain::kb::{ArticleStatus, Locale, Visibility};
use rapport_domain::{Principal, SystemClock};
use rapport_store::community::list::{self, TopicFilter};
use rapport_store::kb::{self, ArticleFilter};
use rapport_store::{Db, StoreError, op};

use crate::both_backends;
use crate::harness::count;

async fn every_article(db: &Db) -> Vec<kb::Article> {
    let f = ArticleFilter {
        limit: 500,
        ..ArticleFilter::default()
    };
    db.read(op!(c => kb::list(c, Some(&Principal::System), &f).await))
        .await
        .unwrap()
}

async fn by_slug(db: &Db, who: Option<Principal>, slug: &str) -> Result<kb::Article, StoreError> {
    let slug = slug.to_owned();
    db.read(op!(c => kb::get_by_slug(c, who.as_ref(), &slug).await))
        .await
}

both_backends! {
    async fn the_demo_knowledge_base_loads_with_its_categories_and_translations(app) {
        let shipped = demo::articles().unwrap();
        let summary = demo::populate(&app.db, &SystemClock, app.admin.id).await.unwrap();
        assert!(summary.created);
        assert_eq!(summary.categories, 4);
        assert_eq!(summary.articles, shipped.len());
        assert!(summary.translations >= 5);

        let all = every_article(&app.db).await;
        assert_eq!(all.len(), shipped.len());
        let published: Vec<_> = all
            .iter()
            .filter(|a| a.status == ArticleStatus::Published)
            .collect();
        assert!(published.len() >= 40, "{} published", published.len());
        let de = Locale::parse("de").unwrap();
        let german = all.iter().filter(|a| a.translation(&de).is_some()).count();
        assert!(german >= 5, "{german} German translations");
        assert_eq!(german, summary.translations);
        for a in &all {
            let category = a.category.as_ref().expect("every demo article has a category");
            assert!(demo::CATEGORIES.iter().any(|(s, _, _)| *s == category.slug));
            assert!(!a.tags.is_empty(), "{} has no tags", a.slug);
            assert!(a.published_at.is_some() == (a.status == ArticleStatus::Published));
        }
        let categories = app
            .db
            .read(op!(c => kb::categories::list(c, None).await))
            .await
            .unwrap();
        assert_eq!(categories.len(), 4);
        assert!(categories.iter().all(|k| k.articles >= 8), "{categories:?}");

        // Every text is a version of its language, and every write an event.
        let versions = count(&app.db, "SELECT COUNT(*) FROM kb_versions").await;
        assert_eq!(versions, i64::try_from(all.len() + german).unwrap());
        let events = count(
            &app.db,
            "SELECT COUNT(*) FROM events WHERE kind = 'article_changed'",
        )
        .await;
        assert!(events >= i64::try_from(all.len()).unwrap());

        // The index loads what the public may find, and nothing else is public.
        let indexed = app
            .db
            .read(op!(c => kb::published_for_index(c).await))
            .await
            .unwrap();
        assert_eq!(indexed.len(), published.len());
        let public = app
            .db
            .read(op!(c => kb::count(c, None, &ArticleFilter::default()).await))
            .await
            .unwrap();
        let shipped_public = shipped
            .iter()
            .filter(|a| a.status == ArticleStatus::Published && a.visibility == Visibility::Public)
            .count();
        assert_eq!(public, i64::try_from(shipped_public).unwrap());

        // The demo's synonym groups are there, beside the built-in ones.
        assert!(summary.synonyms >= 10, "{} synonym groups", summary.synonyms);
        let groups = app
            .db
            .read(op!(c => kb::synonyms::list(c).await))
            .await
            .unwrap();
        // Groups are stored normalised (lower case, sorted): compare them as sets.
        let as_set = |terms: &[String]| {
            let mut v: Vec<String> = terms.iter().map(|t| t.trim().to_lowercase()).collect();
            v.sort();
            v
        };
        for g in demo::synonym_groups() {
            let want = as_set(&g);
            assert!(
                groups.iter().any(|k| {
                    as_set(&k.terms.split(',').map(str::to_owned).collect::<Vec<_>>()) == want
                }),
                "{} missing",
                g.join(", ")
            );
        }
    }

    async fn the_demo_forum_has_threads_with_votes_and_accepted_answers(app) {
        let seeds = demo::community_topics().unwrap();
        let summary = rapport_demo::community::populate(&app.db, &SystemClock, app.admin.id)
            .await
            .unwrap();
        assert!(summary.created);
        assert_eq!(summary.topics, seeds.len());
        let answers: usize = seeds.iter().map(|t| t.answers.len()).sum();
        assert_eq!(summary.answers, answers);
        let accepted = seeds.iter().filter(|t| t.answers.iter().any(|a| a.accepted)).count();
        assert_eq!(summary.accepted, accepted);
        let votes: u32 = seeds.iter().flat_map(|t| &t.answers).map(|a| a.votes).sum();
        assert_eq!(summary.votes, usize::try_from(votes).unwrap());

        // A visitor sees every thread: nothing held by the spam filter.
        let all = TopicFilter { limit: 100, ..TopicFilter::default() };
        let visible = app
            .db
            .read(op!(c => list::list(c, None, &all).await))
            .await
            .unwrap()
            .topics;
        assert_eq!(visible.len(), seeds.len());
        assert_eq!(
            count(&app.db, "SELECT COUNT(*) FROM community_topics WHERE accepted_post_id IS NOT NULL").await,
            i64::try_from(accepted).unwrap()
        );
        assert_eq!(
            count(&app.db, "SELECT COUNT(*) FROM community_votes").await,
            i64::from(votes)
        );
        assert_eq!(
            count(&app.db, "SELECT COUNT(*) FROM community_posts WHERE state <> 'visible'").await,
            0
        );
        // Agents' answers are agents' (the test server has no demo agents: the admin).
        let by_agents = count(
            &app.db,
            "SELECT COUNT(*) FROM community_posts WHERE author_user_id IS NOT NULL",
        )
        .await;
        let seeded_agents = seeds
            .iter()
            .flat_map(|t| &t.answers)
            .filter(|a| matches!(a.author, demo::SeedAuthor::Agent { .. }))
            .count();
        assert_eq!(by_agents, i64::try_from(seeded_agents).unwrap());

        let again = rapport_demo::community::populate(&app.db, &SystemClock, app.admin.id)
            .await
            .unwrap();
        assert!(!again.created);
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM community_topics").await, i64::try_from(seeds.len()).unwrap());
    }

    async fn every_judged_query_names_an_article_a_visitor_can_open(app) {
        demo::populate(&app.db, &SystemClock, app.admin.id).await.unwrap();
        let judged = demo::judged().unwrap();
        assert!(judged.len() >= 70);
        let mut named = 0;
        for j in &judged {
            assert_eq!(j.kind == JudgedKind::NoAnswer, j.expect.is_empty(), "{}", j.q);
            for slug in &j.expect {
                let a = by_slug(&app.db, None, slug).await.unwrap_or_else(|e| {
                    panic!("{:?} expects {slug}, which a visitor can't open: {e}", j.q)
                });
                if let Some(l) = &j.locale {
                    let l = Locale::parse(l).unwrap();
                    assert!(a.translation(&l).is_some(), "{slug} has no {l} text");
                }
                named += 1;
            }
        }
        assert!(named >= 55);
    }

    async fn drafts_and_internal_demo_articles_stay_out_of_public_reach(app) {
        demo::populate(&app.db, &SystemClock, app.admin.id).await.unwrap();
        let customer = Principal::Customer(1);
        for a in demo::articles().unwrap() {
            let slug = a.slug.as_str();
            let public = by_slug(&app.db, None, slug).await;
            let signed_in = by_slug(&app.db, Some(customer.clone()), slug).await;
            let agent = by_slug(&app.db, Some(Principal::System), slug).await;
            assert!(agent.is_ok(), "{slug}");
            let published = a.status == ArticleStatus::Published;
            assert_eq!(
                public.is_ok(),
                published && a.visibility == Visibility::Public,
                "{slug} for the public"
            );
            assert_eq!(
                signed_in.is_ok(),
                published && a.visibility != Visibility::Internal,
                "{slug} for a customer"
            );
            if let Err(e) = public {
                assert!(matches!(e, StoreError::NotFound(_)), "{slug}: {e}");
            }
        }
    }

    async fn loading_twice_adds_nothing(app) {
        let first = demo::populate(&app.db, &SystemClock, app.admin.id).await.unwrap();
        assert!(first.created);
        let articles = count(&app.db, "SELECT COUNT(*) FROM kb_articles").await;
        let versions = count(&app.db, "SELECT COUNT(*) FROM kb_versions").await;
        let events = count(&app.db, "SELECT COUNT(*) FROM events").await;
        let again = demo::populate(&app.db, &SystemClock, app.admin.id).await.unwrap();
        assert!(!again.created);
        assert_eq!(again.articles, 0);
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM kb_articles").await, articles);
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM kb_versions").await, versions);
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM events").await, events);
        assert_eq!(count(&app.db, "SELECT COUNT(*) FROM kb_categories").await, 4);
    }

    async fn the_demo_help_desk_brings_its_knowledge_base(app) {
        // The test server's admin is the demo's admin address, so this is a demo made
        // before the knowledge base existed: populating again adds the articles once.
        let size = rapport_demo::DemoSize { tickets: 3, customers: 2, seed: 1 };
        let summary = rapport_demo::populate(&app.db, &SystemClock, &size).await.unwrap();
        assert!(!summary.created);
        assert_eq!(summary.articles, demo::articles().unwrap().len());
        assert_eq!(summary.topics, demo::community_topics().unwrap().len());
        let again = rapport_demo::populate(&app.db, &SystemClock, &size).await.unwrap();
        assert_eq!(again.articles, 0);
        assert_eq!(again.topics, 0);
        let a = by_slug(&app.db, None, "reset-your-password").await.unwrap();
        assert_eq!(a.author_id, app.admin.id);
        assert_eq!(a.default_locale, Locale::english());
    }
}
