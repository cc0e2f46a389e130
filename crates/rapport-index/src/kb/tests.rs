//! The engine over plain articles: ranking, forgiveness, visibility, freshness.

use rapport_domain::kb::{Locale, Visibility};

use super::*;

fn doc(id: i64, slug: &str, vis: Visibility, title: &str, body: &str) -> ArticleDoc {
    ArticleDoc {
        id,
        slug: slug.into(),
        visibility: vis,
        default_locale: Locale::english(),
        tags: Vec::new(),
        category: None,
        translations: vec![(Locale::english(), title.into(), body.into())],
    }
}

fn index() -> KbIndex {
    let kb = KbIndex::default();
    let de = Locale::parse("de").unwrap();
    let mut refund = doc(
        1,
        "refund-policy",
        Visibility::Public,
        "Refund policy",
        "You can ask for a refund within 30 days.\n\n## How refunds are paid\n\nRefunds go back to the card you paid with, within five working days.\n\n## Exceptions\n\nGift cards cannot be refunded.",
    );
    refund.translations.push((
        de,
        "Rückerstattung".into(),
        "Sie können innerhalb von 30 Tagen eine Rückerstattung verlangen.\n\n## Auszahlung\n\nDas Geld geht auf die Karte zurück, mit der Sie bezahlt haben.".into(),
    ));
    kb.put(&[
        refund,
        doc(
            2,
            "reset-password",
            Visibility::Public,
            "Reset your password",
            "Forgot your password? Use the link on the sign-in page.\n\n## Two-factor authentication\n\nIf you lost your phone, contact us.",
        ),
        doc(
            3,
            "download-invoices",
            Visibility::Customers,
            "Download your invoices",
            "Every invoice is in Billing, under Documents. Download it as a PDF.",
        ),
        doc(
            4,
            "escalation-playbook",
            Visibility::Internal,
            "Escalation playbook",
            "When a refund is disputed, escalate to the billing team lead.",
        ),
        doc(
            5,
            "shipping-times",
            Visibility::Public,
            "Shipping times and costs",
            "Standard shipping takes three to five days.\n\n## Express shipping\n\nExpress parcels arrive the next working day.",
        ),
    ])
    .unwrap();
    kb.set_synonyms(["invoice, bill", "refund, money back"]);
    kb
}

fn find(kb: &KbIndex, text: &str, readable: &[Visibility]) -> Vec<KbHit> {
    kb.search(&KbQuery {
        text,
        readable,
        locale: None,
        limit: 10,
        suggest: false,
    })
}

const PUBLIC: &[Visibility] = &[Visibility::Public];

#[test]
fn stems_and_titles_rank() {
    let kb = index();
    let hits = find(&kb, "refunds", PUBLIC);
    assert_eq!(hits[0].slug, "refund-policy");
    assert!(hits[0].confident);
    assert!(hits[0].snippet_html.contains("<mark>"), "{:?}", hits[0]);
    let hits = find(&kb, "how long does express shipping take", PUBLIC);
    assert_eq!(hits[0].slug, "shipping-times");
    assert_eq!(hits[0].anchor, "express-shipping");
    assert_eq!(
        hits[0].url,
        "/help/articles/shipping-times#express-shipping"
    );
}

#[test]
fn misspellings_are_forgiven() {
    let kb = index();
    assert_eq!(find(&kb, "refnd", PUBLIC)[0].slug, "refund-policy");
    assert_eq!(find(&kb, "pasword", PUBLIC)[0].slug, "reset-password");
    assert_eq!(find(&kb, "shiping", PUBLIC)[0].slug, "shipping-times");
}

#[test]
fn synonyms_expand() {
    let kb = index();
    let all = &[Visibility::Public, Visibility::Customers];
    assert_eq!(find(&kb, "bill", all)[0].slug, "download-invoices");
    assert_eq!(
        find(&kb, "i want my money back", PUBLIC)[0].slug,
        "refund-policy"
    );
}

#[test]
fn phrases_must_match() {
    let kb = index();
    let hits = find(&kb, r#""gift cards""#, PUBLIC);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].anchor, "exceptions");
    assert!(find(&kb, r#""cards gift""#, PUBLIC).is_empty());
}

#[test]
fn visibility_is_enforced() {
    let kb = index();
    assert!(find(&kb, "invoices", PUBLIC).is_empty());
    assert!(find(&kb, "escalation playbook", PUBLIC).is_empty());
    assert!(
        find(
            &kb,
            "escalation playbook",
            &[Visibility::Public, Visibility::Customers]
        )
        .is_empty()
    );
    assert_eq!(
        find(&kb, "escalation playbook", Visibility::ALL)[0].slug,
        "escalation-playbook"
    );
    assert!(find(&kb, "refund", &[]).is_empty());
}

#[test]
fn no_answer_is_not_confident() {
    let kb = index();
    let hits = find(
        &kb,
        "refund for gift cards bought in brazil with crypto",
        PUBLIC,
    );
    assert!(hits.iter().all(|h| !h.confident), "{hits:?}");
    assert!(find(&kb, "zebra migration", PUBLIC).is_empty());
    assert!(find(&kb, "the and of", PUBLIC).is_empty());
}

#[test]
fn languages_and_suggestions() {
    let kb = index();
    let de = Locale::parse("de").unwrap();
    let hits = kb.search(&KbQuery {
        text: "Rückerstattungen",
        readable: PUBLIC,
        locale: Some(&de),
        limit: 5,
        suggest: false,
    });
    assert_eq!(hits[0].slug, "refund-policy");
    assert_eq!(hits[0].locale, de);
    assert!(
        hits[0]
            .url
            .starts_with("/help/articles/refund-policy?lang=de")
    );
    let hits = kb.search(&KbQuery {
        text: "reset my passw",
        readable: PUBLIC,
        locale: None,
        limit: 5,
        suggest: true,
    });
    assert_eq!(hits[0].slug, "reset-password");
    let hits = kb.search(&KbQuery {
        text: "expr",
        readable: PUBLIC,
        locale: None,
        limit: 5,
        suggest: true,
    });
    assert_eq!(hits[0].slug, "shipping-times");
}

#[test]
fn updates_and_removals_are_seen() {
    let kb = index();
    kb.put(&[doc(
        5,
        "shipping-times",
        Visibility::Public,
        "Delivery",
        "Couriers bring everything.",
    )])
    .unwrap();
    assert!(find(&kb, "express", PUBLIC).is_empty());
    assert_eq!(find(&kb, "couriers", PUBLIC)[0].title, "Delivery");
    kb.remove(5).unwrap();
    assert!(find(&kb, "couriers", PUBLIC).is_empty());
    assert_eq!(kb.articles(), 4);
}

#[test]
fn passages_may_repeat_an_article() {
    let kb = index();
    let p = kb.passages(&KbQuery {
        text: "refund",
        readable: PUBLIC,
        locale: None,
        limit: 5,
        suggest: false,
    });
    assert!(p.iter().filter(|h| h.slug == "refund-policy").count() >= 2);
}

#[test]
fn snippets_are_escaped() {
    let kb = KbIndex::default();
    kb.put(&[doc(
        9,
        "html",
        Visibility::Public,
        "Scripts",
        "Never paste `<script>` tags & such into the chat.",
    )])
    .unwrap();
    let h = &find(&kb, "script", PUBLIC)[0];
    assert!(!h.snippet_html.contains("<script>"), "{}", h.snippet_html);
    assert!(h.snippet.contains("<script>"), "{}", h.snippet);
    assert!(h.snippet_html.contains("&lt;"));
}

#[test]
fn internal_hits_lead_into_the_workspace() {
    let kb = index();
    let all = &[
        Visibility::Public,
        Visibility::Customers,
        Visibility::Internal,
    ];
    let hits = find(&kb, "escalate disputed refund", all);
    let internal = hits.iter().find(|h| h.article_id == 4).unwrap();
    assert_eq!(internal.url, "/kb/articles/4/edit");
    let public = hits.iter().find(|h| h.article_id == 1).unwrap();
    assert!(
        public.url.starts_with("/help/articles/refund-policy"),
        "{public:?}"
    );
    let mut de = doc(6, "intern", Visibility::Internal, "Intern", "x");
    de.default_locale = Locale::parse("de").unwrap();
    assert_eq!(
        de.url(&Locale::english(), "a"),
        "/kb/articles/6/edit?lang=en"
    );
    assert_eq!(
        de.url(&de.default_locale.clone(), "a"),
        "/kb/articles/6/edit"
    );
}

#[test]
fn clones_share_the_change_count() {
    let kb = index();
    let copy = kb.clone();
    assert_eq!(kb.changes(), 0);
    kb.put(&[doc(7, "new", Visibility::Public, "New", "Text")])
        .unwrap();
    assert_eq!(kb.changes(), 0, "only the follower's applied changes count");
    copy.changed();
    assert_eq!(kb.changes(), 1);
}

#[test]
fn german_words_that_fold_to_stop_words_are_found() {
    // `ändern` (to change) is a word; folded, `andern` is a German stop word. The query
    // must reach the German analyzer unfolded, as the article's text did.
    let kb = KbIndex::default();
    let de = Locale::parse("de").unwrap();
    let mut d = doc(
        7,
        "passwort-aendern",
        Visibility::Public,
        "Passwort ändern",
        "So können Sie Ihr Kennwort ändern.",
    );
    d.default_locale = de.clone();
    d.translations = vec![(de, d.translations[0].1.clone(), d.translations[0].2.clone())];
    kb.put(&[d]).unwrap();
    assert_eq!(find(&kb, "ändern", PUBLIC)[0].slug, "passwort-aendern");
    let typing = kb.search(&KbQuery {
        text: "Kennwort änd",
        readable: PUBLIC,
        locale: None,
        limit: 5,
        suggest: true,
    });
    assert_eq!(typing[0].slug, "passwort-aendern");
}

#[test]
fn unchanged_articles_are_not_committed_again() {
    let kb = KbIndex::default();
    let commits = |kb: &KbIndex| kb.engine().map_or(0, Engine::commits);
    let a = doc(1, "a", Visibility::Public, "Alpha", "Alpha text.");
    kb.put(std::slice::from_ref(&a)).unwrap();
    assert_eq!(commits(&kb), 1);
    // The writer re-indexed it; the follower's refresh of the same text is free.
    kb.put(std::slice::from_ref(&a)).unwrap();
    kb.remove(99).unwrap();
    assert_eq!(commits(&kb), 1, "nothing changed");
    let mut changed = a.clone();
    changed.tags.push("new".into());
    let b = doc(2, "b", Visibility::Public, "Beta", "Beta text.");
    kb.update(&[changed, b], &[]).unwrap();
    assert_eq!(commits(&kb), 2, "a batch is one commit");
    assert_eq!(kb.articles(), 2);
    kb.update(&[], &[1, 2]).unwrap();
    assert_eq!(commits(&kb), 3);
    assert_eq!(kb.articles(), 0);
    assert!(find(&kb, "alpha", PUBLIC).is_empty());
}
