//! The engine alone on the demo knowledge base and its judged queries
//! (`crates/rapport-demo/kb`): precision@1, MRR, and no confident hit for a question the
//! articles do not answer. The same evaluation through the store and the API, on both
//! databases, is `crates/rapport/tests/it/kb_search.rs`; this one runs in a second and
//! prints every miss, for tuning.

#![expect(
    clippy::expect_used,
    reason = "a test over the demo files: a missing or malformed one should fail loudly"
)]

mod common;

use common::{demo_index, kb_dir};
use rapport_domain::kb::{Locale, Visibility};
use rapport_index::kb::KbQuery;

#[test]
fn judged_queries() {
    let kb = demo_index();
    let judged: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(kb_dir().join("judged.json")).expect("judged.json"),
    )
    .expect("judged JSON");
    let (mut answered, mut p1, mut rr, mut confident_wrong) = (0, 0.0, 0.0, Vec::new());
    let mut misses = Vec::new();
    for j in &judged {
        let q = j["q"].as_str().expect("q");
        let expect: Vec<&str> = j["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        let locale = j["locale"]
            .as_str()
            .map(|l| Locale::parse(l).expect("locale"));
        let hits = kb.search(&KbQuery {
            text: q,
            readable: &[Visibility::Public],
            locale: locale.as_ref(),
            limit: 10,
            suggest: false,
        });
        if expect.is_empty() {
            if hits.first().is_some_and(|h| h.confident) {
                confident_wrong.push(format!("{q:?} → {} ({:.2})", hits[0].slug, hits[0].score));
            }
            continue;
        }
        answered += 1;
        let rank = hits.iter().position(|h| expect.contains(&h.slug.as_str()));
        if rank == Some(0) {
            p1 += 1.0;
        }
        rr += rank.map_or(0.0, |r| 1.0 / (r as f64 + 1.0));
        if rank != Some(0) {
            misses.push(format!(
                "{q:?} [{}] expected {expect:?} at {rank:?}; got {:?}",
                j["kind"],
                hits.iter()
                    .take(3)
                    .map(|h| (&h.slug, h.confident))
                    .collect::<Vec<_>>()
            ));
        }
        if rank == Some(0) && !hits[0].confident {
            misses.push(format!("{q:?}: right but not confident"));
        }
    }
    let (p1, mrr) = (p1 / answered as f64, rr / answered as f64);
    println!("judged: {answered} answerable, P@1 {p1:.3}, MRR {mrr:.3}");
    for m in &misses {
        println!("  miss: {m}");
    }
    for c in &confident_wrong {
        println!("  confident on a no-answer query: {c}");
    }
    assert!(mrr >= 0.85, "MRR {mrr:.3} below 0.85");
    assert!(confident_wrong.is_empty(), "{confident_wrong:?}");
}
