//! The public help center: its store pieces (feedback, views, branding) and its pages.

use rapport_domain::kb::Locale;
use rapport_domain::{Role, Timestamp, Viewer};
use rapport_store::kb::feedback::{self, Comment, NewVote, Voter};
use rapport_store::kb::views::{self, DayViews};
use rapport_store::settings;
use rapport_store::{op, testing};

use crate::both_backends;
use crate::harness::TestApp;

const DAY: i64 = 86_400_000_000;

/// A bare published article row, for the store's own pieces.
async fn raw_article(app: &TestApp, slug: &str) -> i64 {
    let author = app.admin.id;
    testing::execute(
        &app.db,
        "INSERT INTO kb_articles (slug, status, visibility, default_locale, author_id,
                                  created_at, updated_at)
         VALUES ($1, 'published', 'public', 'en', $2, 1, 1)",
        vec![slug.into(), author.into()],
    )
    .await
    .unwrap();
    testing::rows(
        &app.db,
        "SELECT id FROM kb_articles WHERE slug = $1",
        vec![slug.into()],
    )
    .await
    .unwrap()[0]
        .int("id")
        .unwrap()
}

async fn counters(app: &TestApp, id: i64) -> (i64, i64, i64) {
    let r = &testing::rows(
        &app.db,
        "SELECT helpful_yes, helpful_no, views FROM kb_articles WHERE id = $1",
        vec![id.into()],
    )
    .await
    .unwrap()[0];
    (
        r.int("helpful_yes").unwrap(),
        r.int("helpful_no").unwrap(),
        r.int("views").unwrap(),
    )
}

fn vote(article_id: i64, helpful: bool, voter: Voter, comment: Option<&str>) -> NewVote {
    NewVote {
        article_id,
        locale: Locale::english(),
        helpful,
        comment: comment.map(|c| Comment::parse(c).unwrap()),
        voter,
    }
}

both_backends! {
    async fn one_vote_per_reader_and_the_counters_follow(app) {
        let id = raw_article(&app, "reset-password").await;
        let visitor = Voter::Visitor("ab".repeat(32));
        let db = &app.db;
        let cast = |v: NewVote, at: i64| {
            let db = db.clone();
            async move {
                db.write(op!(c => feedback::vote(c, &v, Timestamp(at)).await))
                    .await
            }
        };
        cast(vote(id, true, visitor.clone(), None), 10).await.unwrap();
        assert_eq!(counters(&app, id).await, (1, 0, 0));
        // The same visitor again: still one vote, changed to "no", with a comment.
        let f = cast(vote(id, false, visitor.clone(), Some("The link expired")), 20)
            .await
            .unwrap();
        assert!(!f.helpful);
        assert_eq!(f.comment, "The link expired");
        assert_eq!(f.created_at, Timestamp(10));
        assert_eq!(counters(&app, id).await, (0, 1, 0));
        // Voting the same way again without a comment keeps the comment.
        let f = cast(vote(id, false, visitor.clone(), None), 30).await.unwrap();
        assert_eq!(f.comment, "The link expired");
        assert_eq!(counters(&app, id).await, (0, 1, 0));
        // Another reader, and a signed-in customer, count apart.
        cast(vote(id, true, Voter::Visitor("cd".repeat(32)), None), 40).await.unwrap();
        let customer = app.ticket("Hi", "Hello", "kim@example.com").await["customer"]["id"]
            .as_i64()
            .unwrap();
        cast(vote(id, true, Voter::Customer(customer), Some("Thanks")), 50).await.unwrap();
        assert_eq!(counters(&app, id).await, (2, 1, 0));
        assert_eq!(
            testing::scalar(&app.db, "SELECT COUNT(*) FROM kb_feedback").await.unwrap(),
            3
        );

        let totals = app
            .db
            .read(op!(c => feedback::totals(c, Timestamp(0), Timestamp(100)).await))
            .await
            .unwrap();
        assert_eq!(totals.len(), 1);
        assert_eq!((totals[0].helpful_yes, totals[0].helpful_no, totals[0].comments), (2, 1, 2));
        let listed = app
            .db
            .read(op!(c => feedback::for_article(c, id, Timestamp(0), Timestamp(45), 10).await))
            .await
            .unwrap();
        assert_eq!(listed.len(), 2, "the period cuts by last change");
        assert_eq!(listed[0].updated_at, Timestamp(40), "newest first");

        let missing = cast(vote(id + 1000, true, visitor, None), 60).await;
        assert!(matches!(missing, Err(rapport_store::StoreError::NotFound(_))), "{missing:?}");
    }

    async fn views_add_up_per_day_and_in_total(app) {
        let a = raw_article(&app, "a").await;
        let b = raw_article(&app, "b").await;
        let batch = vec![
            DayViews { article_id: a, day: 100, views: 3 },
            DayViews { article_id: b, day: 100, views: 1 },
            DayViews { article_id: a, day: 101, views: 2 },
            DayViews { article_id: a + b + 1000, day: 101, views: 9 },
        ];
        let again = vec![DayViews { article_id: a, day: 101, views: 5 }];
        app.db.write(op!(c => views::record(c, &batch).await)).await.unwrap();
        app.db.write(op!(c => views::record(c, &again).await)).await.unwrap();
        assert_eq!(counters(&app, a).await.2, 10);
        assert_eq!(counters(&app, b).await.2, 1);
        let all = app
            .db
            .read(op!(c => views::totals(c, Timestamp(100 * DAY), Timestamp(102 * DAY)).await))
            .await
            .unwrap();
        assert_eq!(all, vec![(a, 10), (b, 1)]);
        let second_day = app
            .db
            .read(op!(c => views::totals(c, Timestamp(100 * DAY + 1), Timestamp(102 * DAY)).await))
            .await
            .unwrap();
        assert_eq!(second_day, vec![(a, 7)]);
        let daily = app
            .db
            .read(op!(c => views::daily(c, a, Timestamp(0), Timestamp(200 * DAY)).await))
            .await
            .unwrap();
        let daily: Vec<_> = daily.iter().map(|d| (d.day, d.views)).collect();
        assert_eq!(daily, vec![(100, 3), (101, 7)]);
    }

    async fn branding_is_admin_only_and_checked(app) {
        use rapport_domain::branding::{BrandColor, BrandName, LogoFormat};
        let defaults = app.db.read(op!(c => settings::branding(c).await)).await.unwrap();
        assert_eq!(defaults.name, "Help center");
        assert!(defaults.logo.is_none());
        let change = |remove_logo: bool| settings::BrandingChange {
            name: BrandName::parse("Acme Help").unwrap(),
            color: BrandColor::parse("#AA0000").unwrap(),
            logo: (!remove_logo).then(|| (LogoFormat::Png, b"\x89PNG\r\n\x1a\nxx".to_vec())),
            remove_logo,
        };
        let sup = Viewer { user_id: app.supervisor.id, role: Role::Supervisor, team_ids: vec![] };
        let refused = app
            .db
            .write(op!(c => settings::set_branding(c, &sup, change(false), Timestamp(5)).await))
            .await;
        assert!(matches!(refused, Err(rapport_store::StoreError::Forbidden(_))), "{refused:?}");
        let admin = Viewer { user_id: app.admin.id, role: Role::Admin, team_ids: vec![] };
        let a2 = admin.clone();
        let b = app
            .db
            .write(op!(c => settings::set_branding(c, &a2, change(false), Timestamp(5)).await))
            .await
            .unwrap();
        assert_eq!((b.name.as_str(), b.color.hex(), b.logo), ("Acme Help", "#aa0000".to_owned(), Some(LogoFormat::Png)));
        let logo = app.db.read(op!(c => settings::logo(c).await)).await.unwrap().unwrap();
        assert_eq!(logo.1, b"\x89PNG\r\n\x1a\nxx");
        let b = app
            .db
            .write(op!(c => settings::set_branding(c, &admin, change(true), Timestamp(6)).await))
            .await
            .unwrap();
        assert!(b.logo.is_none());
        assert_eq!(b.updated_at, Timestamp(6));
        assert!(app.db.read(op!(c => settings::logo(c).await)).await.unwrap().is_none());
    }
}
