//! The engine alone on the demo knowledge base and its judged queries
//! (`crates/rapport-demo/kb`): precision@1, MRR, and no confident hit for a question the
//! articles do not answer. The same evaluation through the store and the API, on both
//! databases, is `crates/rapport/tests/it/kb_search.rs`; this one runs in a second and
//! prints every miss, for tuning.

#![expect(
    clippy::expect_used,
    reason = "a test over the demo files: a missing or malformed one should fail loudly"
)]

use std::collections::HashMap;
use std::path::PathBuf;

use rapport_domain::kb::{Locale, Visibility};
use rapport_index::kb::{ArticleDoc, KbIndex, KbQuery};

fn kb_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rapport-demo/kb")
}

/// `key = "value"` and `key = ["a", "b"]` lines of a `+++` front matter, and the body.
fn front_matter(raw: &str) -> (HashMap<String, String>, Vec<String>, String) {
    let mut fields = HashMap::new();
    let mut tags = Vec::new();
    let rest = raw.trim_start().strip_prefix("+++").unwrap_or(raw);
    let (head, body) = rest.split_once("\n+++").unwrap_or(("", rest));
    for line in head.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.split(" #").next().unwrap_or(v).trim();
        if k.trim() == "tags" {
            tags = v
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|t| t.trim().trim_matches('"').to_owned())
                .filter(|t| !t.is_empty())
                .collect();
        } else {
            fields.insert(k.trim().to_owned(), v.trim_matches('"').to_owned());
        }
    }
    (fields, tags, body.trim_start_matches('\n').to_owned())
}

fn demo_index() -> KbIndex {
    let mut docs: HashMap<String, ArticleDoc> = HashMap::new();
    let mut translations = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(kb_dir().join("articles"))
        .expect("the demo articles")
        .map(|e| e.expect("an entry").path())
        .collect();
    paths.sort();
    for (i, path) in paths.iter().enumerate() {
        let raw = std::fs::read_to_string(path).expect("an article");
        let (f, tags, body) = front_matter(&raw);
        let locale = Locale::parse(f.get("locale").map_or("en", String::as_str)).expect("locale");
        let slug = f["slug"].clone();
        if locale != Locale::english() {
            translations.push((slug, locale, f["title"].clone(), body));
            continue;
        }
        if f.get("status").map(String::as_str) != Some("published") {
            continue;
        }
        docs.insert(
            slug.clone(),
            ArticleDoc {
                id: i as i64 + 1,
                slug,
                visibility: Visibility::parse(&f["visibility"]).expect("visibility"),
                default_locale: locale.clone(),
                tags,
                category: None,
                translations: vec![(locale, f["title"].clone(), body)],
            },
        );
    }
    for (slug, locale, title, body) in translations {
        if let Some(d) = docs.get_mut(&slug) {
            d.translations.push((locale, title, body));
        }
    }
    let kb = KbIndex::default();
    kb.put(&docs.into_values().collect::<Vec<_>>())
        .expect("indexed");
    let synonyms = std::fs::read_to_string(kb_dir().join("synonyms.txt")).expect("synonyms");
    kb.set_synonyms(synonyms.lines().filter(|l| !l.trim().is_empty()));
    kb
}

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
