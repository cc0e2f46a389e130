//! The assistant bot's rules over the engine alone, on the demo knowledge base and the
//! bot's judged set (`crates/rapport-demo/kb/bot_questions.tsv`): the same measures as
//! `crates/rapport/tests/it/bot.rs` (which goes through the API on both databases), in a
//! second, printing every miss and each message's best coverage, for tuning.

#![expect(
    clippy::expect_used,
    reason = "a test over the demo files: a missing or malformed one should fail loudly"
)]

use std::collections::HashMap;
use std::path::PathBuf;

use rapport_domain::bot::{self, Context, Source};
use rapport_domain::kb::{Locale, Visibility};
use rapport_index::kb::{ArticleDoc, KbHit, KbIndex, KbQuery};

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

fn source(h: KbHit) -> Source {
    Source {
        title: h.title,
        url: h.url,
        slug: h.slug,
        heading: h.heading,
        text: h.text,
        coverage: h.coverage,
        confident: h.confident,
    }
}

#[test]
fn bot_judged_set() {
    let kb = demo_index();
    let raw = std::fs::read_to_string(kb_dir().join("bot_questions.tsv")).expect("the set");
    let (mut answerable, mut right, mut due, mut handed, mut wrong, mut all) = (0, 0, 0, 0, 0, 0);
    for line in raw.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let mut f = line.splitn(3, '\t');
        let (expect, kind, q) = (
            f.next().expect("expect"),
            f.next().expect("kind"),
            f.next().expect("question"),
        );
        all += 1;
        let expect: Vec<&str> = expect.split('|').collect();
        let locale = bot::language(q).map(|l| Locale::parse(l).expect("a locale"));
        let reply = bot::respond(q, &Context::default(), &mut |t: &str| {
            kb.passages(&KbQuery {
                text: t,
                readable: &[Visibility::Public],
                locale: locale.as_ref(),
                limit: 5,
                suggest: false,
            })
            .into_iter()
            .map(source)
            .collect()
        });
        let top = reply.sources.first().map(|s| s.slug.as_str());
        let best: Vec<String> = reply
            .considered
            .iter()
            .take(2)
            .map(|s| {
                format!(
                    "{}:{:.2}{}",
                    s.slug,
                    s.coverage,
                    if s.confident { "*" } else { "" }
                )
            })
            .collect();
        let verdict = if expect == ["handoff"] {
            due += 1;
            if reply.handoff() {
                handed += 1;
                "ok"
            } else {
                wrong += 1;
                "WRONG (answered)"
            }
        } else {
            answerable += 1;
            match top {
                Some(s) if !reply.handoff() && expect.contains(&s) => {
                    right += 1;
                    "ok"
                }
                Some(_) if !reply.handoff() => {
                    wrong += 1;
                    "WRONG"
                }
                _ => "handed over",
            }
        };
        println!("{verdict:>16} [{kind}] {q:?} → {top:?} {best:?} expected {expect:?}");
    }
    let right_share = f64::from(right) / f64::from(answerable);
    let handoff_share = f64::from(handed) / f64::from(due);
    let wrong_share = f64::from(wrong) / f64::from(all);
    println!(
        "bot: right {right}/{answerable} = {right_share:.3}, handed over {handed}/{due} = \
         {handoff_share:.3}, confident wrong {wrong}/{all} = {wrong_share:.3}"
    );
    assert!(right_share >= 0.80, "right-source answers {right_share:.3}");
    assert!(handoff_share >= 0.90, "handoffs {handoff_share:.3}");
    assert!(
        wrong_share <= 0.05,
        "confident wrong answers {wrong_share:.3}"
    );
}
