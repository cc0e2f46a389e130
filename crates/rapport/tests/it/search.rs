//! Full-text search: findable the moment create returns, ranked, highlighted, safe.

use rapport_store::testing;
use serde_json::json;

use crate::both_backends;

/// 60,000 index entries, numbered by `ref_id` 1..=60,000 (newest last), each with one of a
/// few texts, so that every query below has identical matches and the best hits are simply
/// the newest matching entries: `alpha` every third of the newest 20,000 (found by the
/// first walk on PostgreSQL), `bravo` every fortieth everywhere (a second, longer walk),
/// `charlie` only among the oldest 500 (none in the first walk: the GIN index).
async fn fill_index(app: &crate::harness::TestApp) {
    testing::execute(
        &app.db,
        "INSERT INTO search_index (title, body, kind, ticket_id, ref_id)
         WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 60000)
         SELECT '', CASE
                      WHEN n > 40000 AND n % 3 = 0 THEN 'alpha filler'
                      WHEN n % 40 = 1 THEN 'bravo filler'
                      WHEN n <= 500 THEN 'charlie filler'
                      ELSE 'filler'
                    END, 'customer', NULL, n
         FROM g",
        vec![],
    )
    .await
    .unwrap();
}

fn expected(matches: impl Fn(i64) -> bool) -> Vec<i64> {
    (1..=60_000)
        .rev()
        .filter(|&n| matches(n))
        .take(100)
        .collect()
}

both_backends! {
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
        fill_index(&app).await;
        let alpha = |n: i64| n > 40_000 && n % 3 == 0;
        let bravo = |n: i64| !alpha(n) && n % 40 == 1;
        let charlie = |n: i64| !alpha(n) && !bravo(n) && n <= 500;
        for (q, want) in [
            ("alpha", expected(alpha)),
            ("bravo", expected(bravo)),
            ("charlie", expected(charlie)),
            ("zulu", Vec::new()),
        ] {
            let (s, found) = app.get(&format!("/api/v1/search?q={q}&limit=100")).await;
            assert_eq!(s, 200, "{found}");
            let got: Vec<i64> = found["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["customer_id"].as_i64().unwrap())
                .collect();
            assert_eq!(got, want, "{q}");
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
