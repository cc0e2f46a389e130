//! Full-text search: findable the moment create returns, ranked, highlighted, safe.

use rapport_store::testing;
use serde_json::json;

use crate::both_backends;

/// Index entries numbered by `ref_id` `from..=to` (newest last), each with one of a few
/// texts, so that every query below has identical matches and the best hits are simply the
/// newest matching entries ([`Word::matches`]).
async fn fill_index(app: &crate::harness::TestApp, from: i64, to: i64) {
    testing::execute(
        &app.db,
        "INSERT INTO search_index (title, body, kind, ticket_id, ref_id)
         WITH RECURSIVE g(n) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT n + 1 FROM g WHERE n < $2)
         SELECT '', CASE
                      WHEN n > 40000 AND n % 3 = 0 THEN 'alpha filler'
                      WHEN n % 150 = 1 THEN 'bravo filler'
                      WHEN n % 110 = 3 THEN 'echo filler'
                      WHEN n <= 500 THEN 'charlie filler'
                      ELSE 'filler'
                    END, 'customer', NULL, n
         FROM g",
        vec![from.into(), to.into()],
    )
    .await
    .unwrap();
}

/// The words of [`fill_index`], and which entries hold each. Among the newest 20,000 (the
/// first look on PostgreSQL): `alpha` thousands of times, `bravo` and `echo` fewer than the
/// 200 candidates (a second look, or every match), `charlie` never (only the oldest 500).
#[derive(Clone, Copy)]
enum Word {
    Alpha,
    Bravo,
    Echo,
    Charlie,
    Zulu,
}

impl Word {
    fn matches(self, n: i64) -> bool {
        let alpha = n > 40_000 && n % 3 == 0;
        let bravo = !alpha && n % 150 == 1;
        let echo = !alpha && !bravo && n % 110 == 3;
        match self {
            Word::Alpha => alpha,
            Word::Bravo => bravo,
            Word::Echo => echo,
            Word::Charlie => !alpha && !bravo && !echo && n <= 500,
            Word::Zulu => false,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Word::Alpha => "alpha",
            Word::Bravo => "bravo",
            Word::Echo => "echo",
            Word::Charlie => "charlie",
            Word::Zulu => "zulu",
        }
    }
}

/// Every word's search returns the newest 100 of its matches among entries `1..=top`.
async fn assert_newest_found(app: &crate::harness::TestApp, top: i64) {
    for word in [
        Word::Alpha,
        Word::Bravo,
        Word::Echo,
        Word::Charlie,
        Word::Zulu,
    ] {
        let want: Vec<i64> = (1..=top)
            .rev()
            .filter(|&n| word.matches(n))
            .take(100)
            .collect();
        let q = word.text();
        let (s, found) = app.get(&format!("/api/v1/search?q={q}&limit=100")).await;
        assert_eq!(s, 200, "{found}");
        let got: Vec<i64> = found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["customer_id"].as_i64().unwrap())
            .collect();
        assert_eq!(got, want, "{q} among 1..={top}");
    }
}

/// Renews the recent search index with `keep`, waiting out the app's own scheduled run
/// (which holds the same lock for a moment at start-up).
async fn renew(app: &crate::harness::TestApp, keep: i64) -> Option<i64> {
    for _ in 0..50 {
        if let Some(floor) = rapport_store::search::renew_recent(&app.db, keep)
            .await
            .unwrap()
        {
            return Some(floor);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

/// The recent search indexes that exist, by name.
async fn recent_indexes(app: &crate::harness::TestApp) -> Vec<String> {
    testing::rows(
        &app.db,
        "SELECT indexname AS name FROM pg_indexes
         WHERE tablename = 'search_index' AND indexname LIKE 'search_recent_%'
         ORDER BY indexname",
        vec![],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.text("name").unwrap())
    .collect()
}

both_backends! {
    async fn entries_changed_before_their_commit_are_changed_in_the_index(app) {
        // On SQLite new entries wait in a staging table until their group commit: a change
        // to them in the same transaction (a message erased, a ticket's entries moved by a
        // merge or a split) must reach them there, and nothing may be left waiting.
        use rapport_store::{op, search};
        app.db
            .write(op!(c => {
                search::index_message(c, 9_000_001, 900, "quokkamatic erased").await?;
                search::index_message(c, 9_000_002, 900, "quokkamatic merged").await?;
                search::index_message(c, 9_000_003, 902, "quokkamatic split").await?;
                search::remove_message(c, 9_000_001).await?;
                search::move_messages(c, 900, 901).await?;
                search::move_message(c, 9_000_003, 903).await
            }))
            .await
            .unwrap();
        let rows = testing::rows(
            &app.db,
            "SELECT ref_id, ticket_id FROM search_index WHERE ref_id >= 9000000 ORDER BY ref_id",
            vec![],
        )
        .await
        .unwrap();
        let got: Vec<(i64, i64)> = rows.iter().map(|r| (r.int(0).unwrap(), r.int(1).unwrap())).collect();
        assert_eq!(got, vec![(9_000_002, 901), (9_000_003, 903)]);
        if app.db.backend() == rapport_store::Backend::Sqlite {
            assert_eq!(testing::scalar(&app.db, "SELECT COUNT(*) FROM search_pending").await.unwrap(), 0);
        }
        let (s, found) = app.get("/api/v1/search?q=quokkamatic").await;
        assert_eq!(s, 200);
        assert!(found["hits"].as_array().is_some(), "{found}");
        app.stop().await;
    }

    async fn a_ticket_is_findable_as_soon_as_it_is_created(app) {
        for i in 0..20 {
            let t = app.ticket(&format!("Printer {i} jams"), &format!("The quokkamatic {i} is stuck"), "p@example.com").await;
            let (s, found) = app.get("/api/v1/search?q=quokkamatic").await;
            assert_eq!(s, 200);
            assert!(found["hits"].as_array().unwrap().iter().any(|h| h["ticket_id"] == t["id"]), "ticket {i} not found at once");
        }
        app.stop().await;
    }

    async fn results_rank_highlight_and_escape(app) {
        let strong = app.ticket("Refund for broken blender", "The blender arrived broken, I want a refund", "r1@example.com").await;
        app.ticket("Shipping question", "When does my order ship? Not about a refund really.", "r2@example.com").await;
        app.ticket("<script>alert(1)</script> blender", "<b>blender</b> & co", "x@example.com").await;
        let (s, found) = app.get("/api/v1/search?q=blender%20refund").await;
        assert_eq!(s, 200);
        let hits = found["hits"].as_array().unwrap();
        assert!(!hits.is_empty());
        assert_eq!(hits[0]["ticket_id"], strong["id"], "subject match ranks first: {found}");
        assert!(hits[0]["snippet"].as_str().unwrap().contains("<mark>"), "{found}");
        assert_eq!(hits[0]["ticket_number"], strong["number"]);
        let (_, found) = app.get("/api/v1/search?q=blender").await;
        for h in found["hits"].as_array().unwrap() {
            let snip = h["snippet"].as_str().unwrap();
            assert!(!snip.contains("<script") && !snip.contains("<b>"), "unescaped: {snip}");
        }
        // Prefix of the last word, stemming, customers by name and address.
        let (_, found) = app.get("/api/v1/search?q=blend").await;
        assert!(!found["hits"].as_array().unwrap().is_empty());
        let (_, found) = app.get("/api/v1/search?q=refunds").await;
        assert!(!found["hits"].as_array().unwrap().is_empty(), "stemming");
        let (_, found) = app.get("/api/v1/search?q=Casey").await;
        assert!(found["hits"].as_array().unwrap().iter().any(|h| h["kind"] == "customer"));
        // Operators are words, not syntax.
        let (s, _) = app.get("/api/v1/search?q=%22OR%20NEAR(%20*").await;
        assert_eq!(s, 200);
        let (s, e) = app.get("/api/v1/search?q=").await;
        crate::harness::assert_error(s, &e, 422, Some("q"));
        let (_, none) = app.get("/api/v1/search?q=xyzzynothing").await;
        assert_eq!(none["hits"], json!([]));
        app.stop().await;
    }

    async fn renamed_subjects_are_reindexed(app) {
        let t = app.ticket("Old wording", "body text", "ren@example.com").await;
        let id = t["id"].as_i64().unwrap();
        app.patch(&format!("/api/v1/tickets/{id}"), json!({"subject": "Flamingo delivery"})).await;
        let (_, found) = app.get("/api/v1/search?q=flamingo").await;
        assert_eq!(found["hits"][0]["ticket_id"], id);
        let (_, old) = app.get("/api/v1/search?q=wording").await;
        assert_eq!(old["hits"], json!([]));
        app.stop().await;
    }

    async fn every_search_path_finds_the_newest_matches(app) {
        fill_index(&app, 1, 60_000).await;
        assert_newest_found(&app, 60_000).await;
        if app.db.backend() == rapport_store::Backend::Postgres {
            // Below twice the size to keep there is no recent index.
            assert_eq!(rapport_store::search::renew_recent(&app.db, 40_000).await.unwrap(), None);
            assert!(recent_indexes(&app).await.is_empty());
            // With one over the newest 25,000 entries, each path answers the same, and a
            // look among the newest entries is answered from it.
            assert_eq!(renew(&app, 25_000).await, Some(35_000));
            assert_eq!(recent_indexes(&app).await, ["search_recent_35000"]);
            assert_newest_found(&app, 60_000).await;
            let plan = app
                .db
                .read(rapport_store::op!(c => {
                    rapport_store::testing::execute_in(c, "SET LOCAL enable_indexscan = off", &[]).await?;
                    rapport_store::testing::query_in(
                        c,
                        "EXPLAIN SELECT id FROM search_index i
                         WHERE i.tsv @@ to_tsquery('english', 'bravo') AND i.id > 40000
                         ORDER BY i.id DESC LIMIT 200",
                        &[],
                    )
                    .await
                }))
                .await
                .unwrap()
                .iter()
                .map(|r| r.text(0).unwrap())
                .collect::<Vec<_>>()
                .join("\n");
            assert!(plan.contains("search_recent_35000"), "{plan}");
            // As the table grows the index moves on: a new one over the newest entries,
            // the old one gone, and searches still find the newest matches.
            fill_index(&app, 60_001, 90_000).await;
            assert_newest_found(&app, 90_000).await;
            assert_eq!(renew(&app, 25_000).await, Some(65_000));
            assert_eq!(recent_indexes(&app).await, ["search_recent_65000"]);
            assert_newest_found(&app, 90_000).await;
            // A run interrupted after building an index it never recorded leaves it
            // behind; the next run drops it.
            testing::execute(
                &app.db,
                "CREATE INDEX search_recent_70000 ON search_index USING GIN (tsv) WHERE id > 70000",
                vec![],
            )
            .await
            .unwrap();
            for _ in 0..50 {
                assert_eq!(rapport_store::search::renew_recent(&app.db, 25_000).await.unwrap(), None);
                if recent_indexes(&app).await.len() == 1 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert_eq!(recent_indexes(&app).await, ["search_recent_65000"]);
        }
        app.stop().await;
    }

    async fn searches_read_no_pending_list_on_postgres(app) {
        // Every PostgreSQL search would read all of the GIN index's pending list, and the
        // write that fills it would stall the event stream while merging it: new entries
        // go straight into the index instead (`fastupdate` off), and nothing is pending.
        if app.db.backend() == rapport_store::Backend::Postgres {
            let bounded = crate::harness::count(
                &app.db,
                "SELECT COUNT(*) FROM pg_class
                 WHERE relname = 'search_index_tsv'
                   AND 'fastupdate=off' = ANY(reloptions)",
            )
            .await;
            assert_eq!(bounded, 1);
        }
        app.stop().await;
    }
}
