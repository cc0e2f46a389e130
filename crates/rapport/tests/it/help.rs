//! The public help center: its store pieces (feedback, views, branding) and its pages.

use std::sync::Arc;

use rapport_domain::kb::{ArticleBody, ArticleStatus, ArticleTitle, Locale, Slug, Visibility};
use rapport_domain::{Clock, Role, SystemClock, Tag, Timestamp, Viewer};
use rapport_store::kb::feedback::{self, Comment, NewVote, Voter};
use rapport_store::kb::views::{self, DayViews};
use rapport_store::kb::{self, ArticlePatch, NewArticle, NewCategory};
use rapport_store::settings;
use rapport_store::{op, testing};
use reqwest::header;

use crate::both_backends;
use crate::harness::{Backend, TestApp};
use crate::web::{client, hidden, set_password, sign_in};

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

fn admin_viewer(app: &TestApp) -> Viewer {
    Viewer {
        user_id: app.admin.id,
        role: Role::Admin,
        team_ids: vec![],
    }
}

/// An article made through the store, as an admin.
#[allow(clippy::too_many_arguments, reason = "a test fixture")]
async fn article(
    app: &TestApp,
    title: &str,
    body: &str,
    status: ArticleStatus,
    visibility: Visibility,
    category_id: Option<i64>,
    section: &str,
    tags: &[&str],
) -> kb::Article {
    let mut new = NewArticle::draft(
        ArticleTitle::parse(title).unwrap(),
        ArticleBody::parse(body).unwrap(),
    );
    new.status = status;
    new.visibility = visibility;
    new.category_id = category_id;
    new.section = section.to_owned();
    new.tags = tags.iter().map(|t| Tag::parse(t).unwrap()).collect();
    let who = admin_viewer(app);
    let now = SystemClock.now();
    app.db
        .write(op!(c => kb::create(c, &who, new, now).await))
        .await
        .unwrap()
}

async fn category(app: &TestApp, slug: &str, name: &str) -> i64 {
    let who = admin_viewer(app);
    let new = NewCategory {
        slug: Slug::parse(slug).unwrap(),
        name: name.to_owned(),
        description: format!("All about {name}"),
        position: 0,
    };
    let now = SystemClock.now();
    app.db
        .write(op!(c => kb::categories::create(c, &who, new, now).await))
        .await
        .unwrap()
        .id
}

/// Adds a German translation.
async fn translate(app: &TestApp, id: i64, title: &str, body: &str) {
    let who = admin_viewer(app);
    let patch = ArticlePatch {
        locale: Some(Locale::parse("de").unwrap()),
        title: Some(ArticleTitle::parse(title).unwrap()),
        body: Some(ArticleBody::parse(body).unwrap()),
        ..ArticlePatch::default()
    };
    let now = SystemClock.now();
    app.db
        .write(op!(c => kb::update(c, &who, id, patch, now).await))
        .await
        .unwrap();
}

/// GET a page; status, headers and body.
async fn get_page(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = client().get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let h = resp.headers().clone();
    (status, h, resp.text().await.unwrap())
}

/// The value a response sets for a cookie.
fn set_cookie(h: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    h.get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// A signed-in portal customer's cookie.
async fn portal_cookie(app: &TestApp, email: &str) -> String {
    let customer = app.ticket("Hello", "A question", email).await["customer"]["id"]
        .as_i64()
        .unwrap();
    let token = rapport_store::secrets::random_hex(32);
    let hash = rapport_store::secrets::token_hash(&token);
    let now = SystemClock.now();
    app.db
        .write(op!(c => rapport_store::portal::create_session(c, customer, &hash, now, 3600).await))
        .await
        .unwrap();
    format!("rapport_portal={token}")
}

/// The fixture most page tests share: a category with a public article (English and
/// German), and one article of each kind the public must never see.
struct Fixture {
    public: kb::Article,
    customers: kb::Article,
    internal: kb::Article,
    draft: kb::Article,
    archived: kb::Article,
}

async fn fixture(app: &TestApp) -> Fixture {
    let billing = category(app, "billing", "Billing").await;
    let public = article(
        app,
        "Get a refund",
        "Refunds take five days.\n\n## Ask for a refund\n\nOpen **Orders**.\n\n## When the money arrives\n\nWithin a week.",
        ArticleStatus::Published,
        Visibility::Public,
        Some(billing),
        "Refunds",
        &["refund"],
    )
    .await;
    translate(app, public.id, "Geld zurück erhalten", "Rückerstattungen dauern fünf Tage.\n\n## Rückerstattung anfordern\n\nÖffnen Sie **Bestellungen**.").await;
    let customers = article(
        app,
        "Customer secret prices",
        "Only for customers: code CUST-42.",
        ArticleStatus::Published,
        Visibility::Customers,
        Some(billing),
        "Refunds",
        &["refund"],
    )
    .await;
    let internal = article(
        app,
        "Internal refund playbook",
        "Agents only: approve up to 50.",
        ArticleStatus::Published,
        Visibility::Internal,
        Some(billing),
        "",
        &["refund"],
    )
    .await;
    let draft = article(
        app,
        "Draft refund policy",
        "Not ready: DRAFT-77.",
        ArticleStatus::Draft,
        Visibility::Public,
        Some(billing),
        "",
        &["refund"],
    )
    .await;
    let archived = article(
        app,
        "Old refund rules",
        "Gone: ARCH-99.",
        ArticleStatus::Archived,
        Visibility::Public,
        Some(billing),
        "",
        &["refund"],
    )
    .await;
    Fixture {
        public,
        customers,
        internal,
        draft,
        archived,
    }
}

both_backends! {
    async fn pages_show_only_what_the_reader_may_read(app) {
        let f = fixture(&app).await;
        let hidden_titles = [&f.customers, &f.internal, &f.draft, &f.archived].map(|a| a.title().to_owned());

        for path in ["/help", "/help/categories/billing"] {
            let (s, _, html) = get_page(&app, path, &[]).await;
            assert_eq!(s, 200, "{path}: {html}");
            assert!(html.contains("Get a refund"), "{path}");
            for t in &hidden_titles {
                assert!(!html.contains(t.as_str()), "{path} shows {t}");
            }
        }
        let (_, _, home) = get_page(&app, "/help", &[]).await;
        assert!(home.contains("href=\"/help/categories/billing\""));
        assert!(home.contains("1 article"), "counts only what the public may read");
        let (_, _, cat) = get_page(&app, "/help/categories/billing", &[]).await;
        assert!(cat.contains("<h2 id=\"sec-1\">Refunds</h2>") || cat.contains(">Refunds</h2>"), "sections: {cat}");
        // A page past the last is not found (no empty page for search engines to keep).
        let (s, _, _) = get_page(&app, "/help/categories/billing?page=1", &[]).await;
        assert_eq!(s, 200);
        let (s, _, _) = get_page(&app, "/help/categories/billing?page=2", &[]).await;
        assert_eq!(s, 404);

        // Drafts, archived and internal articles: not found, whoever asks by URL.
        let cookie = portal_cookie(&app, "pat@example.com").await;
        for a in [&f.internal, &f.draft, &f.archived] {
            for who in [None, Some(cookie.as_str())] {
                let h: Vec<(&str, &str)> = who.map(|c| ("cookie", c)).into_iter().collect();
                let (s, _, html) = get_page(&app, &format!("/help/articles/{}", a.slug), &h).await;
                assert_eq!(s, 404, "{} for {who:?}", a.slug);
                assert!(!html.contains("DRAFT-77") && !html.contains("ARCH-99") && !html.contains("approve up to"));
            }
        }
        // Customer-only: the public is asked to sign in and sees none of it.
        let path = format!("/help/articles/{}", f.customers.slug);
        let (s, _, html) = get_page(&app, &path, &[]).await;
        assert_eq!(s, 403);
        assert!(html.contains("/portal/signin") && !html.contains("CUST-42") && !html.contains("secret prices"), "{html}");
        // A signed-in customer reads it, and sees it listed.
        let (s, _, html) = get_page(&app, &path, &[("cookie", &cookie)]).await;
        assert_eq!(s, 200);
        assert!(html.contains("CUST-42"));
        let (_, _, cat) = get_page(&app, "/help/categories/billing", &[("cookie", &cookie)]).await;
        assert!(cat.contains("Customer secret prices"));
        assert!(!cat.contains("Internal refund playbook"));
        // A stale portal cookie reads as the public.
        let (s, _, _) = get_page(&app, &path, &[("cookie", "rapport_portal=00")]).await;
        assert_eq!(s, 403);
        let (s, _, _) = get_page(&app, "/help/articles/no-such-thing", &[]).await;
        assert_eq!(s, 404);
        let (s, _, _) = get_page(&app, "/help/categories/no-such-thing", &[]).await;
        assert_eq!(s, 404);
    }

    async fn articles_speak_the_readers_language(app) {
        let f = fixture(&app).await;
        let path = format!("/help/articles/{}", f.public.slug);
        let (s, h, en) = get_page(&app, &path, &[]).await;
        assert_eq!(s, 200);
        assert!(en.contains("<h1 id=\"article-title\">Get a refund</h1>"), "{en}");
        assert_eq!(en.matches("<h1").count(), 1, "one h1");
        assert!(h[header::VARY].to_str().unwrap().contains("Accept-Language"));
        let (_, _, de) = get_page(&app, &path, &[("accept-language", "de-AT, de;q=0.9, en;q=0.5")]).await;
        assert!(de.contains("Geld zurück erhalten") && de.contains("lang=\"de\""), "{de}");
        let (_, _, forced) = get_page(&app, &format!("{path}?lang=en"), &[("accept-language", "de")]).await;
        assert!(forced.contains("Get a refund") && !forced.contains("Geld zurück"));
        let (_, _, de_by_lang) = get_page(&app, &format!("{path}?lang=de"), &[]).await;
        assert!(de_by_lang.contains("Geld zurück erhalten"));
        let (_, _, fallback) = get_page(&app, &path, &[("accept-language", "fr")]).await;
        assert!(fallback.contains("Get a refund"), "the default language when none matches");

        // hreflang for every translation and x-default; the canonical link of the shown one.
        let base = &app.base;
        for page in [&en, &de] {
            assert!(page.contains(&format!("<link rel=\"alternate\" hreflang=\"en\" href=\"{base}{path}\">")), "{page}");
            assert!(page.contains(&format!("<link rel=\"alternate\" hreflang=\"de\" href=\"{base}{path}?lang=de\">")));
            assert!(page.contains(&format!("<link rel=\"alternate\" hreflang=\"x-default\" href=\"{base}{path}\">")));
        }
        assert!(en.contains(&format!("<link rel=\"canonical\" href=\"{base}{path}\">")));
        assert!(de.contains(&format!("<link rel=\"canonical\" href=\"{base}{path}?lang=de\">")));
        // Open Graph and JSON-LD.
        assert!(en.contains("<meta property=\"og:type\" content=\"article\">"));
        assert!(en.contains("<meta property=\"og:title\" content=\"Get a refund\">"));
        assert!(en.contains(&format!("<meta property=\"og:url\" content=\"{base}{path}\">")));
        assert!(en.contains("og:description\" content=\"Refunds take five days.\""));
        let start = en.find("<script type=\"application/ld+json\">").unwrap();
        let json = &en[start..];
        let json = &json[json.find('>').unwrap() + 1..json.find("</script>").unwrap()];
        let ld: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(ld[0]["@type"], "Article");
        assert_eq!(ld[0]["headline"], "Get a refund");
        assert_eq!(ld[0]["inLanguage"], "en");
        assert!(ld[0]["dateModified"].as_str().unwrap().starts_with("20"));
        assert_eq!(ld[1]["@type"], "BreadcrumbList");
        assert_eq!(ld[1]["itemListElement"][1]["name"], "Billing");
        // Table of contents: the sections' anchors, which the headings carry.
        assert!(en.contains("<a href=\"#ask-for-a-refund\">Ask for a refund</a>"), "{en}");
        assert!(en.contains("id=\"ask-for-a-refund\""));
        assert!(en.contains("Last updated"));
        // The language switcher.
        assert!(en.contains(&format!("href=\"{path}?lang=de\" hreflang=\"de\" lang=\"de\">Deutsch</a>")), "{en}");
    }

    async fn the_sitemap_lists_only_public_articles_in_every_language(app) {
        let f = fixture(&app).await;
        let (s, h, xml) = get_page(&app, "/sitemap.xml", &[]).await;
        assert_eq!(s, 200);
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/xml"));
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
        let sm = "http://www.sitemaps.org/schemas/sitemap/0.9";
        let xhtml = "http://www.w3.org/1999/xhtml";
        let root = doc.root_element();
        assert!(root.has_tag_name((sm, "urlset")));
        let locs: Vec<String> = root
            .descendants()
            .filter(|n| n.has_tag_name((sm, "loc")))
            .map(|n| n.text().unwrap().to_owned())
            .collect();
        let base = &app.base;
        let path = format!("/help/articles/{}", f.public.slug);
        assert!(locs.contains(&format!("{base}/help")));
        assert!(locs.contains(&format!("{base}/help/categories/billing")));
        assert!(locs.contains(&format!("{base}{path}")));
        assert!(locs.contains(&format!("{base}{path}?lang=de")));
        assert_eq!(locs.len(), 4, "{locs:?}");
        for a in [&f.customers, &f.internal, &f.draft, &f.archived] {
            assert!(!xml.contains(&a.slug), "{} in the sitemap", a.slug);
        }
        let url = root
            .children()
            .find(|n| n.has_tag_name((sm, "url")) && n.children().any(|l| l.text() == Some(&format!("{base}{path}?lang=de"))))
            .unwrap();
        let alternates: Vec<(String, String)> = url
            .children()
            .filter(|n| n.has_tag_name((xhtml, "link")))
            .map(|n| (n.attribute("hreflang").unwrap().to_owned(), n.attribute("href").unwrap().to_owned()))
            .collect();
        assert_eq!(alternates, vec![
            ("en".to_owned(), format!("{base}{path}")),
            ("de".to_owned(), format!("{base}{path}?lang=de")),
            ("x-default".to_owned(), format!("{base}{path}")),
        ]);
        assert!(url.children().any(|n| n.has_tag_name((sm, "lastmod"))));

        let (s, _, robots) = get_page(&app, "/robots.txt", &[]).await;
        assert_eq!(s, 200);
        assert!(robots.contains(&format!("Sitemap: {base}/sitemap.xml")), "{robots}");
        assert!(robots.contains("Disallow: /portal/"));
    }

    async fn unsafe_markdown_never_runs(app) {
        let body = "Hello\n\n<script>alert('s')</script>\n\n[click](javascript:alert('j'))\n\n\
                    <img src=\"x\" onerror=\"alert('o')\">\n\n<a href=\"data:text/html,<b>x</b>\">d</a>\n\n\
                    ![pic](data:image/png;base64,iVBORw0KGgo=)\n\n<div onclick=\"alert('c')\" style=\"color:red\">div</div>\n\n\
                    <iframe src=\"https://evil.example\"></iframe>\n\n## </h2><script>alert('h')</script>";
        let a = article(&app, "Safe </title><script>alert('t')</script>", body, ArticleStatus::Published, Visibility::Public, None, "", &[]).await;
        let (s, _, html) = get_page(&app, &format!("/help/articles/{}", a.slug), &[]).await;
        assert_eq!(s, 200);
        let lower = html.to_ascii_lowercase();
        for bad in ["<script>alert", "javascript:", "onerror", "onclick", "data:text", "data:image", "<iframe", "style=\"color"] {
            assert!(!lower.contains(bad), "{bad} survived:\n{html}");
        }
        // The only scripts on the page are the JSON-LD block.
        assert_eq!(lower.matches("<script").count(), 1, "{html}");
        assert!(lower.contains("<script type=\"application/ld+json\">"));
        assert!(html.contains("Safe &#60;/title&#62;&#60;script&#62;"), "the title is escaped: {html}");
    }

    async fn branding_is_set_by_admins_only(app) {
        let http = client();
        set_password(&app, "sup@example.com", "correct horse battery").await;
        set_password(&app, "admin@example.com", "correct horse battery").await;
        let (sup, sup_csrf) = sign_in(&app, &http, "sup@example.com", "correct horse battery").await;
        let (s, _, _) = get_page(&app, "/admin/branding", &[("cookie", &format!("rapport_session={sup}"))]).await;
        assert_eq!(s, 403);
        let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
        let form = |csrf: &str, color: &str, logo: Vec<u8>| {
            reqwest::multipart::Form::new()
                .text("csrf", csrf.to_owned())
                .text("name", "Acme <Help>")
                .text("color", color.to_owned())
                .part("logo", reqwest::multipart::Part::bytes(logo).file_name("logo.png"))
        };
        let resp = http
            .post(app.url("/admin/branding"))
            .header("cookie", format!("rapport_session={sup}"))
            .multipart(form(&sup_csrf, "#aa0000", png.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403);
        // Without a session: to the sign-in page.
        let resp = http.get(app.url("/admin/branding")).send().await.unwrap();
        assert_eq!(resp.status(), 303);

        let (admin, csrf) = sign_in(&app, &http, "admin@example.com", "correct horse battery").await;
        let cookie = format!("rapport_session={admin}");
        for (color, logo, field) in [
            ("red", png.clone(), "color"),
            ("#aa0000", b"<svg onload=alert(1)>".to_vec(), "logo"),
        ] {
            let resp = http
                .post(app.url("/admin/branding"))
                .header("cookie", &cookie)
                .multipart(form(&csrf, color, logo))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 422);
            assert!(resp.text().await.unwrap().contains(field));
        }
        let resp = http
            .post(app.url("/admin/branding"))
            .header("cookie", &cookie)
            .multipart(form("stale", "#aa0000", png.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "a stale form");
        let resp = http
            .post(app.url("/admin/branding"))
            .header("cookie", &cookie)
            .multipart(form(&csrf, "#AA0000", png.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303);

        let (_, _, home) = get_page(&app, "/help", &[]).await;
        assert!(home.contains("Acme &#60;Help&#62;"), "the name, escaped: {home}");
        assert!(home.contains("<img src=\"/help/logo?v="));
        let (s, h, css) = get_page(&app, "/help/brand.css", &[]).await;
        assert_eq!(s, 200);
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
        assert!(css.contains("--brand: #aa0000") && css.contains("--brand-text: #ffffff"), "{css}");
        let logo = http.get(app.url("/help/logo")).send().await.unwrap();
        assert_eq!(logo.status(), 200);
        assert_eq!(logo.headers()[header::CONTENT_TYPE], "image/png");
        assert_eq!(logo.bytes().await.unwrap().to_vec(), png);
    }
}

/// A server that writes each article view at once, so a test can read it back.
async fn spawn_counting_views(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, Arc::new(SystemClock), |c| c.view_flush_secs = 0).await
}

async fn feedback_scenario(app: TestApp) {
    let f = fixture(&app).await;
    let path = format!("/help/articles/{}", f.public.slug);
    let (s, h, html) = get_page(&app, &path, &[]).await;
    assert_eq!(s, 200);
    let csrf_cookie = set_cookie(&h, "rapport_portal_csrf").unwrap();
    let csrf = hidden(&html, "csrf");
    assert_eq!(csrf, csrf_cookie);
    assert!(html.contains("Was this article helpful?"));
    let post = |cookie: String, fields: Vec<(&'static str, String)>| {
        let url = app.url(&format!("{path}/feedback"));
        async move {
            client()
                .post(url)
                .header("cookie", cookie)
                .form(&fields)
                .send()
                .await
                .unwrap()
        }
    };
    let csrf_only = format!("rapport_portal_csrf={csrf}");
    // First vote: a visitor cookie is made, the vote is kept against it.
    let resp = post(
        csrf_only.clone(),
        vec![
            ("csrf", csrf.clone()),
            ("helpful", "yes".into()),
            ("lang", "en".into()),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()[header::LOCATION], format!("{path}#feedback"));
    let visitor = set_cookie(resp.headers(), "rapport_visitor").expect("a visitor cookie");
    let cookies = format!("{csrf_only}; rapport_visitor={visitor}");
    // Voting again (no, with a comment) changes the one vote.
    let resp = post(
        cookies.clone(),
        vec![
            ("csrf", csrf.clone()),
            ("helpful", "no".into()),
            ("comment", "Missing the fee".into()),
            ("lang", "de".into()),
        ],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        resp.headers()[header::LOCATION],
        format!("{path}?lang=de#feedback")
    );
    assert_eq!(
        testing::scalar(&app.db, "SELECT COUNT(*) FROM kb_feedback")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        counters(&app, f.public.id).await.0..=counters(&app, f.public.id).await.1,
        0..=1
    );
    let (_, _, html) = get_page(&app, &path, &[("cookie", &cookies)]).await;
    assert!(
        html.contains("You found this article not helpful") && html.contains("Missing the fee"),
        "{html}"
    );
    // Bad input.
    let long = "x".repeat(2001);
    let resp = post(
        cookies.clone(),
        vec![
            ("csrf", csrf.clone()),
            ("helpful", "no".into()),
            ("comment", long),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("comment"));
    let resp = post(
        cookies.clone(),
        vec![("csrf", csrf.clone()), ("helpful", "maybe".into())],
    )
    .await;
    assert_eq!(resp.status(), 422);
    // The error names the form's own field (`lang`), not the store's word for it.
    let resp = post(
        cookies.clone(),
        vec![
            ("csrf", csrf.clone()),
            ("helpful", "yes".into()),
            ("lang", "<x>".into()),
        ],
    )
    .await;
    assert_eq!(resp.status(), 422);
    let text = resp.text().await.unwrap();
    assert!(text.contains("lang: must be a language tag"), "{text}");
    let resp = post(
        cookies.clone(),
        vec![("csrf", "forged".into()), ("helpful", "yes".into())],
    )
    .await;
    assert_eq!(resp.status(), 403);
    let resp = post(
        format!("rapport_visitor={visitor}"),
        vec![("csrf", csrf.clone()), ("helpful", "yes".into())],
    )
    .await;
    assert_eq!(resp.status(), 403, "no CSRF cookie");
    // Articles the reader may not read take no votes.
    for a in [&f.draft, &f.internal, &f.customers] {
        let resp = client()
            .post(app.url(&format!("/help/articles/{}/feedback", a.slug)))
            .header("cookie", &cookies)
            .form(&[("csrf", csrf.as_str()), ("helpful", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{}", a.slug);
    }
    assert_eq!(
        testing::scalar(&app.db, "SELECT COUNT(*) FROM kb_feedback")
            .await
            .unwrap(),
        1
    );
    // A signed-in customer votes as themselves.
    let portal = portal_cookie(&app, "lee@example.com").await;
    let resp = post(
        format!("{csrf_only}; {portal}"),
        vec![("csrf", csrf.clone()), ("helpful", "yes".into())],
    )
    .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(counters(&app, f.public.id).await.0, 1);
    assert_eq!(
        testing::scalar(
            &app.db,
            "SELECT COUNT(*) FROM kb_feedback WHERE customer_id IS NOT NULL"
        )
        .await
        .unwrap(),
        1
    );
    // The posts count against the address: past the allowance, 429.
    let mut last = 0;
    for _ in 0..25 {
        last = post(
            cookies.clone(),
            vec![("csrf", csrf.clone()), ("helpful", "yes".into())],
        )
        .await
        .status()
        .as_u16();
    }
    assert_eq!(last, 429);

    // Views: three page loads, three views, today.
    let before = counters(&app, f.public.id).await.2;
    for _ in 0..3 {
        get_page(&app, &path, &[]).await;
    }
    assert_eq!(counters(&app, f.public.id).await.2, before + 3);
    let today = SystemClock.now().day();
    let rows = testing::rows(
        &app.db,
        "SELECT views FROM kb_article_views WHERE article_id = $1 AND day = $2",
        vec![f.public.id.into(), today.into()],
    )
    .await
    .unwrap();
    assert_eq!(rows[0].int("views").unwrap(), before + 3);
    // Popular: the most read first.
    let (_, _, home) = get_page(&app, "/help", &[]).await;
    assert!(home.contains("Popular articles"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_is_one_vote_per_reader_sqlite() {
    feedback_scenario(spawn_counting_views(Backend::Sqlite).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_is_one_vote_per_reader_postgres() {
    feedback_scenario(spawn_counting_views(Backend::Postgres).await).await;
}

/// Views are written in batches: none until the interval, all when the server stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_are_written_when_the_server_stops() {
    let scratch = crate::harness::Scratch::new(Backend::Sqlite).await;
    let mut config = scratch.config();
    config.workers = 0;
    config.view_flush_secs = 3600;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let db = rapport::open_db(&config, clock.as_ref()).await.unwrap();
    let author = db
        .write(op!(c => {
            rapport_store::people::create_user(c, rapport_store::people::NewUser {
                email: rapport_domain::EmailAddress::parse("w@example.com").unwrap(),
                name: "Writer".into(),
                role: Role::Admin,
                password_hash: None,
            }, Timestamp(1)).await
        }))
        .await
        .unwrap()
        .id;
    let who = Viewer {
        user_id: author,
        role: Role::Admin,
        team_ids: vec![],
    };
    let mut new = NewArticle::draft(
        ArticleTitle::parse("Counted later").unwrap(),
        ArticleBody::parse("Body").unwrap(),
    );
    new.status = ArticleStatus::Published;
    let a = db
        .write(op!(c => kb::create(c, &who, new, Timestamp(1)).await))
        .await
        .unwrap();
    let server = rapport::start(&config, db.clone(), clock, false)
        .await
        .unwrap();
    let url = format!("http://{}/help/articles/{}", server.addr, a.slug);
    for _ in 0..4 {
        assert_eq!(client().get(&url).send().await.unwrap().status(), 200);
    }
    let views = |db: rapport_store::Db| async move {
        testing::rows(
            &db,
            "SELECT views FROM kb_articles WHERE id = $1",
            vec![a.id.into()],
        )
        .await
        .unwrap()[0]
            .int("views")
            .unwrap()
    };
    assert_eq!(views(db.clone()).await, 0, "held in memory");
    server.shutdown().await.unwrap();
    assert_eq!(views(db.clone()).await, 4, "written at shutdown");
}

/// Fetches `path` until `done` holds for its page (the index follows article changes
/// from the event stream, a quarter of a second apart), or fails after ten seconds.
async fn page_until(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    done: impl Fn(&str) -> bool,
) -> String {
    for _ in 0..100 {
        let (s, _, html) = get_page(app, path, headers).await;
        assert_eq!(s, 200, "{path}: {html}");
        if done(&html) {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never showed what was expected");
}

both_backends! {
    async fn search_results_are_ranked_passages_the_reader_may_read(app) {
        let f = fixture(&app).await;
        // A misspelling still finds it, with the words marked and a link to the passage.
        let html = page_until(&app, "/help/search?q=refnd", &[], |h| h.contains("Get a refund")).await;
        assert!(html.contains(&format!("href=\"/help/articles/{}#", f.public.slug)), "{html}");
        assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"));
        // Every article is tagged "refund": the public sees the public one only.
        let (_, _, marked) = get_page(&app, "/help/search?q=days", &[]).await;
        assert!(marked.contains("<mark>days</mark>"), "the words are marked: {marked}");
        let (_, _, html) = get_page(&app, "/help/search?q=refunds", &[]).await;
        for a in [&f.customers, &f.internal, &f.draft, &f.archived] {
            assert!(!html.contains(a.title()), "{} found by the public", a.slug);
        }
        // A signed-in customer also finds the customer-only one.
        let cookie = portal_cookie(&app, "sam@example.com").await;
        let html = page_until(&app, "/help/search?q=secret+prices", &[("cookie", &cookie)], |h| h.contains("Customer secret prices")).await;
        assert!(!html.contains("Internal refund playbook"));
        // An agent trying the help center out (workspace session) sees what the public
        // sees, and is not logged as a customer looking for answers.
        let agent = crate::community::agent_browser(&app, app.agent.id, SystemClock.now()).await;
        let agent_cookie = format!("{}; rapport_visitor=fedcba9876543210fedcba9876543210", agent.cookie);
        let (s, _, html) = get_page(&app, "/help/search?q=walrus+agent+probe", &[("cookie", &agent_cookie)]).await;
        assert_eq!(s, 200);
        assert!(!html.contains("Internal refund playbook"), "{html}");
        // Nothing found: contact support.
        let (s, _, html) = get_page(&app, "/help/search?q=zebra+xylophone+quasar", &[("cookie", "rapport_visitor=0123456789abcdef0123456789abcdef")]).await;
        assert_eq!(s, 200);
        assert!(html.contains("We found no article") && html.contains("href=\"/portal/new\""), "{html}");
        let (s, _, html) = get_page(&app, "/help/search", &[]).await;
        assert_eq!(s, 200);
        assert!(html.contains("Type what you are looking for"));
        let long = "a".repeat(201);
        let (s, _, html) = get_page(&app, &format!("/help/search?q={long}"), &[]).await;
        assert_eq!(s, 422);
        assert!(html.contains("at most 200 characters"));
        // Searches are logged for the content-gap report, with the visitor.
        for _ in 0..100 {
            if testing::scalar(&app.db, "SELECT COUNT(*) FROM kb_searches WHERE source = 'help' AND visitor IS NOT NULL AND query = 'zebra xylophone quasar'").await.unwrap() >= 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // The agent's search was logged (or not) before the visitor's was.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let logged = testing::rows(&app.db, "SELECT query, confident FROM kb_searches WHERE source = 'help' ORDER BY id", vec![]).await.unwrap();
        let queries: Vec<String> = logged.iter().map(|r| r.text("query").unwrap()).collect();
        assert!(queries.contains(&"zebra xylophone quasar".to_owned()), "{queries:?}");
        assert!(!queries.contains(&"walrus agent probe".to_owned()), "an agent's search is not logged: {queries:?}");
        assert!(!queries.iter().any(|q| q.len() > 200), "the too-long query is refused, not logged");
    }
}
