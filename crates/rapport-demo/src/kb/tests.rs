//! The shipped demo files keep the rules: they parse, they are enough, they link only to
//! what their readers may open, and the judged set names articles that exist.

use super::*;
use rapport_domain::kb::{ArticleStatus, Visibility, sections};
use std::collections::HashMap;

fn all() -> Vec<DemoArticle> {
    match articles() {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    }
}

fn public(a: &DemoArticle) -> bool {
    a.status == ArticleStatus::Published && a.visibility == Visibility::Public
}

#[test]
fn the_articles_are_enough_and_well_formed() {
    let all = all();
    assert!(all.len() >= 44, "{} articles", all.len());
    let published = all
        .iter()
        .filter(|a| a.status == ArticleStatus::Published)
        .count();
    assert!(published >= 40, "{published} published");
    for (slug, _, _) in CATEGORIES {
        let n = all
            .iter()
            .filter(|a| a.category == *slug && public(a))
            .count();
        assert!(n >= 8, "category {slug} has {n} public articles");
    }
    let german = all
        .iter()
        .filter(|a| a.translations.iter().any(|t| t.locale.as_str() == "de"))
        .count();
    assert!(german >= 5, "{german} German translations");
    let count = |v: Visibility| all.iter().filter(|a| a.visibility == v).count();
    assert!(count(Visibility::Customers) >= 3);
    assert!(count(Visibility::Internal) >= 2);
    assert!(all.iter().any(|a| a.status == ArticleStatus::Draft));
    for a in &all {
        for t in std::iter::once(&a.text).chain(&a.translations) {
            let words = t.body.as_str().split_whitespace().count();
            assert!(
                (150..=600).contains(&words),
                "{} ({}) has {words} words",
                a.slug,
                t.locale
            );
            let headed = sections(t.body.as_str())
                .iter()
                .filter(|s| !s.anchor.is_empty())
                .count();
            assert!(
                headed >= 3,
                "{} ({}) has {headed} sections",
                a.slug,
                t.locale
            );
        }
        assert!(!a.tags.is_empty(), "{} has no tags", a.slug);
        assert!(!a.section.is_empty(), "{} has no section", a.slug);
    }
}

#[test]
fn articles_link_only_to_articles_their_readers_may_open() {
    let all = all();
    let by_slug: HashMap<&str, &DemoArticle> = all.iter().map(|a| (a.slug.as_str(), a)).collect();
    for a in &all {
        for t in std::iter::once(&a.text).chain(&a.translations) {
            for link in t.body.as_str().split("](/help/articles/").skip(1) {
                let slug = link.split([')', '#', '?']).next().unwrap_or_default();
                let Some(target) = by_slug.get(slug) else {
                    panic!("{} links to a missing article {slug}", a.slug)
                };
                assert_eq!(
                    target.status,
                    ArticleStatus::Published,
                    "{} links to the draft {slug}",
                    a.slug
                );
                let reach = |v: Visibility| match v {
                    Visibility::Public => 0,
                    Visibility::Customers => 1,
                    Visibility::Internal => 2,
                };
                assert!(
                    reach(target.visibility) <= reach(a.visibility),
                    "{} links to {slug}, which its readers may not open",
                    a.slug
                );
            }
        }
    }
}

#[test]
fn the_judged_set_names_public_articles_and_covers_every_kind() {
    let all = all();
    let judged = match judged() {
        Ok(j) => j,
        Err(e) => panic!("judged.json: {e}"),
    };
    assert!(judged.len() >= 70, "{} judged queries", judged.len());
    let kinds = |k: JudgedKind| judged.iter().filter(|j| j.kind == k).count();
    assert!(kinds(JudgedKind::Misspelling) >= 10);
    assert!(kinds(JudgedKind::Synonym) >= 8);
    assert!(kinds(JudgedKind::Question) >= 20);
    assert!(kinds(JudgedKind::German) >= 5);
    assert!(kinds(JudgedKind::NoAnswer) >= 12);
    assert!(kinds(JudgedKind::Exact) >= 1 && kinds(JudgedKind::Phrase) >= 1);
    for j in &judged {
        assert_eq!(
            j.kind == JudgedKind::NoAnswer,
            j.expect.is_empty(),
            "{:?}: only no-answer queries expect nothing",
            j.q
        );
        for slug in &j.expect {
            let Some(a) = all.iter().find(|a| a.slug.as_str() == slug) else {
                panic!("{:?} expects the missing article {slug}", j.q)
            };
            assert!(
                public(a),
                "{:?} expects {slug}, which the public can't read",
                j.q
            );
            if let Some(l) = &j.locale {
                assert!(
                    a.translations.iter().any(|t| t.locale.as_str() == l),
                    "{:?} expects {slug} in {l}",
                    j.q
                );
            }
        }
    }
}

#[test]
fn synonyms_and_community_seeds_parse() {
    let groups = synonym_groups();
    assert!(groups.len() >= 8);
    assert!(
        groups
            .iter()
            .any(|g| g.contains(&"invoice".to_owned()) && g.contains(&"bill".to_owned()))
    );
    let topics = match community_topics() {
        Ok(t) => t,
        Err(e) => panic!("community.json: {e}"),
    };
    assert!(topics.len() >= 10);
    for t in &topics {
        assert!((1..=5).contains(&t.answers.len()), "{}", t.title);
        assert!(
            t.answers.iter().filter(|a| a.accepted).count() <= 1,
            "{}",
            t.title
        );
        assert!(
            matches!(t.author, SeedAuthor::Customer { .. }),
            "{}",
            t.title
        );
        for a in &t.answers {
            if let SeedAuthor::Agent { agent } = &a.author {
                assert!(
                    crate::AGENTS.iter().any(|(e, ..)| e == agent),
                    "{agent} is not a demo agent"
                );
            }
        }
    }
    assert!(topics.iter().any(|t| t.answers.iter().any(|a| a.accepted)));
    assert!(topics.iter().any(|t| t.answers.iter().all(|a| !a.accepted)));
}
