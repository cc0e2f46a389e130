//! Honest numbers from the self-service logs: where a search was made is the server's to
//! say (the endpoint or page that ran it), the content gaps count people — each once, and
//! not the words they typed on the way to a question — and the logs are purged once they
//! are older than the retention.

use std::sync::Arc;
use std::time::Duration;

use rapport_domain::job::JobState;
use rapport_domain::kb::{ArticleStatus, Visibility};
use rapport_domain::{SystemClock, Timestamp};
use rapport_store::jobs::{self, NewJob};
use rapport_store::kb::searches::{self, Source};
use rapport_store::{op, testing};
use reqwest::header;
use serde_json::Value;

use crate::both_backends;
use crate::deflection::{
    article, beacon, chrono_now, instant, search_row, submit, sup, visit, visit_as,
};
use crate::harness::{Backend, TestApp, assert_error};
use crate::web::client;

const DAY_SECS: i64 = 86_400;

/// The search log once it holds `n` rows (searches are logged after answering).
async fn logged(app: &TestApp, n: usize) -> Vec<searches::Search> {
    let deadline = instant() + Duration::from_secs(20);
    loop {
        let rows = app
            .db
            .read(op!(c => searches::recent(c, 100).await))
            .await
            .unwrap();
        if rows.len() >= n {
            return rows;
        }
        assert!(
            instant() < deadline,
            "only {} searches logged: {rows:?}",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get_with_cookie(app: &TestApp, path: &str, visitor: &str) -> u16 {
    client()
        .get(app.url(path))
        .header(header::COOKIE, format!("rapport_visitor={visitor}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

both_backends! {
    async fn the_server_says_where_a_search_was_made(app) {
        let (id, _) = article(&app, "Descale the espresso machine", ArticleStatus::Published, Visibility::Public).await;
        let deadline = instant() + Duration::from_secs(20);
        loop {
            let (_, r) = app.call("GET", "/api/v1/kb/suggest?q=descale%20espresso", None, None).await;
            if r["hits"].as_array().is_some_and(|h| !h.is_empty()) {
                break;
            }
            assert!(instant() < deadline, "the article is indexed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A client may not say where it searched.
        for source in ["portal", "help", "api"] {
            let (s, e) = app.call("GET", &format!("/api/v1/kb/search?q=espresso&source={source}"), None, None).await;
            assert_error(s, &e, 422, Some("source"));
            let (s, e) = app.call("GET", &format!("/api/v1/kb/suggest?q=espresso&log=1&source={source}"), None, None).await;
            assert_error(s, &e, 422, Some("source"));
        }
        // An agent's searches are not the customers' demand: not logged.
        let (s, _) = app.call("GET", "/api/v1/kb/search?q=agent%20only%20words", Some(&app.agent.token), None).await;
        assert_eq!(s, 200);
        let v = visit(&app).await;
        let hash = rapport_store::secrets::token_hash(&v.visitor);
        // The portal's form logs its settled words through its id; bad words are refused.
        assert_eq!(beacon(&app, &v, "searched", &[("q", "descale espresso")]).await, 204);
        assert_eq!(beacon(&app, &v, "searched", &[("q", "  ")]).await, 422);
        assert_eq!(beacon(&app, &v, "searched", &[("q", &"a".repeat(201))]).await, 422);
        // The help center's page and the API, with the same cookie.
        assert_eq!(get_with_cookie(&app, "/help/search?q=descale%20machine", &v.visitor).await, 200);
        assert_eq!(get_with_cookie(&app, "/api/v1/kb/search?q=espresso%20beans", &v.visitor).await, 200);
        // The forum's search page logs what it found (no topic here: a gap).
        assert_eq!(get_with_cookie(&app, "/community?q=espresso%20grinder", &v.visitor).await, 200);
        // A client that keeps no cookie is logged as nobody in particular.
        let (s, _) = app.call("GET", "/api/v1/kb/suggest?q=cookieless&log=1", None, None).await;
        assert_eq!(s, 200);

        let rows = logged(&app, 5).await;
        let mut got: Vec<(String, Source, Option<String>)> = rows
            .iter()
            .map(|r| (r.search.query.clone(), r.search.source, r.search.visitor.clone()))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, vec![
            ("cookieless".to_owned(), Source::Api, None),
            ("descale espresso".to_owned(), Source::Portal, Some(hash.clone())),
            ("descale machine".to_owned(), Source::Help, Some(hash.clone())),
            ("espresso beans".to_owned(), Source::Api, Some(hash.clone())),
            ("espresso grinder".to_owned(), Source::Community, Some(hash.clone())),
        ]);
        let forum = rows.iter().find(|r| r.search.source == Source::Community).unwrap();
        assert_eq!((forum.search.hits, forum.search.confident), (0, false));
        let portal = rows.iter().find(|r| r.search.source == Source::Portal).unwrap();
        assert_eq!(portal.search.top_article_id, Some(id), "logged with what the suggestions found");
        assert!(portal.search.hits >= 1);
        app.stop().await;
    }

    async fn gaps_count_people_not_keystrokes(app) {
        const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        const D: &str = "dddddddddddddddddddddddddddddddd";
        // A types the question as suggestions follow: three steps, one question.
        search_row(&app, "refu", false, None, Some(A), 1000).await;
        search_row(&app, "refund pol", false, None, Some(A), 998).await;
        search_row(&app, "refund policy", false, None, Some(A), 996).await;
        // B asks it, and again more than ten minutes later: one person, two searches.
        search_row(&app, "refund policy", false, None, Some(B), 3000).await;
        search_row(&app, "Refund policy", false, None, Some(B), 1000).await;
        // A signed-in customer asks it too (two hours before writing: not "followed").
        let t = app.ticket("Hello", "First contact", "casey@example.com").await;
        let customer = t["customer"]["id"].as_i64().unwrap();
        search_row(&app, "policy refunds", false, Some(customer), None, 7200).await;
        // Searches by no one we can tell apart (an agent, a client without the cookie)
        // count for no one, however many.
        for _ in 0..5 {
            search_row(&app, "refund policy", false, None, None, 400).await;
        }
        // D types ten prefixes of a question, then files a request through the portal.
        let question = "warranty claim";
        for n in 4..=13 {
            search_row(&app, &question[..n], false, None, Some(D), 900 - i64::try_from(n).unwrap()).await;
        }
        search_row(&app, question, false, None, Some(D), 880).await;
        submit(&app, &visit_as(&app, Some(D)).await, "dana@example.com").await;

        let (s, r) = sup(&app, "/api/v1/kb/reports/gaps").await;
        assert_eq!(s, 200, "{r}");
        let groups = |list: &Value| -> Vec<(String, i64, i64)> {
            list.as_array().unwrap().iter()
                .map(|g| (g["key"].as_str().unwrap().to_owned(), g["people"].as_i64().unwrap(), g["searches"].as_i64().unwrap()))
                .collect()
        };
        assert_eq!(groups(&r["unanswered"]), vec![
            ("policy refund".to_owned(), 3, 4),
            ("claim warranty".to_owned(), 1, 1),
        ], "{r}");
        assert_eq!(groups(&r["followed"]), vec![("claim warranty".to_owned(), 1, 1)], "{r}");
        app.stop().await;
    }
}

/// The old rows of every log, and the new ones that must stay.
async fn seed_logs(app: &TestApp, old_secs: i64, kept_secs: i64) {
    let now = chrono_now();
    let (old, kept) = (now - old_secs * 1_000_000, now - kept_secs * 1_000_000);
    search_row(
        app,
        "ancient question",
        false,
        None,
        Some("v-old"),
        old_secs,
    )
    .await;
    search_row(
        app,
        "recent enough question",
        false,
        None,
        Some("v-kept"),
        kept_secs,
    )
    .await;
    search_row(app, "today's question", false, None, Some("v-now"), 0).await;
    let (a, _) = article(
        app,
        "Kept article",
        ArticleStatus::Published,
        Visibility::Public,
    )
    .await;
    // A deflection attempt of today, through the form and its beacon…
    let v = visit(app).await;
    assert_eq!(
        beacon(app, &v, "shown", &[("articles", &a.to_string())]).await,
        204
    );
    // …and old and kept ones, written as they would have been then.
    let t1 = app
        .ticket("Old request", "Long ago", "old@example.com")
        .await["id"]
        .as_i64()
        .unwrap();
    let t2 = app
        .ticket("Newer request", "Not so long ago", "kept@example.com")
        .await["id"]
        .as_i64()
        .unwrap();
    app.db
        .write(op!(c => {
            for (n, at, ticket) in [(1, old, t1), (2, kept, t2)] {
                testing::execute_in(c,
                    "INSERT INTO kb_deflections (token_hash, visitor, shown_at, opened_at, active_at)
                     VALUES ($1, 'v', $2, $2, $2)",
                    &[format!("seeded-{n}").into(), at.into()]).await?;
                testing::execute_in(c,
                    "INSERT INTO kb_deflection_articles (deflection_id, article_id, position, shown_at)
                     SELECT id, CAST($1 AS BIGINT), 0, CAST($2 AS BIGINT) FROM kb_deflections
                     WHERE token_hash = $3",
                    &[a.into(), at.into(), format!("seeded-{n}").into()]).await?;
                testing::execute_in(c,
                    "INSERT INTO ticket_visitors (ticket_id, visitor, created_at) VALUES ($1, 'v', $2)",
                    &[ticket.into(), at.into()]).await?;
            }
            Ok(())
        }))
        .await
        .unwrap();
}

async fn counts(app: &TestApp) -> [i64; 4] {
    let mut out = [0; 4];
    for (i, table) in [
        "kb_searches",
        "kb_deflections",
        "kb_deflection_articles",
        "ticket_visitors",
    ]
    .iter()
    .enumerate()
    {
        out[i] = testing::scalar(&app.db, &format!("SELECT COUNT(*) FROM {table}"))
            .await
            .unwrap();
    }
    out
}

/// Waits until the job is done (a worker of the server runs it).
async fn done(app: &TestApp, id: i64) {
    let deadline = instant() + Duration::from_secs(30);
    loop {
        let job = app.db.read(op!(c => jobs::get(c, id).await)).await.unwrap();
        if job.state == JobState::Done {
            return;
        }
        assert!(job.state != JobState::Dead, "{job:?}");
        assert!(instant() < deadline, "the job did not run: {job:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// With a retention of 30 days, the server schedules the purge at start-up (a worker runs
/// it), and the purge deletes what is older — searches, attempts with their articles, the
/// portal tickets' visitors — and keeps the rest.
async fn purged(backend: Backend) {
    let app = TestApp::spawn_with(backend, Arc::new(SystemClock), |c| {
        c.workers = 1;
        c.kb_log_retention_days = 30;
    })
    .await;
    let deadline = instant() + Duration::from_secs(30);
    let scheduled = loop {
        let recent = app
            .db
            .read(op!(c => jobs::recent(c, 50).await))
            .await
            .unwrap();
        if let Some(j) = recent
            .into_iter()
            .find(|j| j.kind == rapport_jobs::KB_PURGE)
        {
            break j;
        }
        assert!(instant() < deadline, "the purge is scheduled at start-up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let before = scheduled.payload["before"].as_i64().unwrap();
    let expected = chrono_now() - 30 * DAY_SECS * 1_000_000;
    assert!(
        (before - expected).abs() < 600 * 1_000_000,
        "the cut is 30 days back: {before} vs {expected}"
    );
    assert_eq!(
        scheduled.idempotency_key.as_deref(),
        Some(&*format!("kb.purge:{}", Timestamp(chrono_now()).day())),
        "once a day, whatever the number of nodes"
    );
    done(&app, scheduled.id).await;

    seed_logs(&app, 31 * DAY_SECS, 29 * DAY_SECS).await;
    assert_eq!(counts(&app).await, [3, 3, 3, 2]);
    // Today's job ran on an empty log; the next one runs as it would tomorrow.
    let job = NewJob {
        kind: rapport_jobs::KB_PURGE.into(),
        payload: serde_json::json!({ "before": chrono_now() - 30 * DAY_SECS * 1_000_000 }),
        run_at: Timestamp(chrono_now()),
        max_attempts: 5,
        idempotency_key: None,
    };
    let now = Timestamp(chrono_now());
    let job = app
        .db
        .write(op!(c => jobs::enqueue(c, job, now).await))
        .await
        .unwrap();
    done(&app, job.id).await;
    assert_eq!(
        counts(&app).await,
        [2, 2, 2, 1],
        "the rows older than 30 days are gone"
    );
    let left = testing::rows(
        &app.db,
        "SELECT query FROM kb_searches ORDER BY query",
        vec![],
    )
    .await
    .unwrap();
    let left: Vec<String> = left.iter().map(|r| r.text("query").unwrap()).collect();
    assert_eq!(left, ["recent enough question", "today's question"]);
    app.stop().await;
}

mod old_logs_are_purged_after_the_retention {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        purged(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        purged(Backend::Postgres).await;
    }
}

both_backends! {
    async fn the_default_retention_is_400_days(app) {
        seed_logs(&app, 401 * DAY_SECS, 399 * DAY_SECS).await;
        let now = Timestamp(chrono_now());
        let job = rapport_jobs::schedule_kb_purge(&app.db, now, rapport_store::kb::retention::DEFAULT_DAYS).await.unwrap();
        assert_eq!(rapport_store::kb::retention::DEFAULT_DAYS, 400);
        // This server runs no worker: run the job as one would.
        let clock = Arc::new(SystemClock);
        let w = rapport_jobs::Worker::new(app.db.clone(), clock, rapport_jobs::Registry::standard(),
            rapport_jobs::WorkerConfig { name: "purge".into(), lease_secs: 30, idle_wait: Duration::from_millis(10) });
        assert_eq!(w.step().await.unwrap(), rapport_jobs::Step::Done(job.id));
        assert_eq!(counts(&app).await, [2, 2, 2, 1]);
        app.stop().await;
    }
}
