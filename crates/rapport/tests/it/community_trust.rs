//! What the forum may be trusted with: the spam filter learns from moderators only (and
//! unlearns when they change their mind), the public sees a first name and an initial —
//! never a full name or an address — and signing in from a forum page comes back to it,
//! never to another site.

use rapport_domain::{Clock, SystemClock};
use rapport_mail::transport::Relay;
use rapport_store::op;
use reqwest::header;
use serde_json::json;

use crate::community::{Browser, accept, agent_browser, client_from, customer, thread};
use crate::community_search::enc;
use crate::harness::{Backend, TestApp, count};
use crate::peers::{SinkOptions, SmtpSink};

use crate::on_both;

on_both!(
    the_spam_filter_learns_only_from_moderators,
    the_public_sees_first_names_and_initials,
    signing_in_from_the_forum_comes_back_to_it,
);

/// (spam posts learned, good posts learned, tokens counted on either side).
async fn filter(app: &TestApp) -> (i64, i64, i64) {
    (
        count(
            &app.db,
            "SELECT CAST(COALESCE(SUM(docs), 0) AS BIGINT) FROM community_spam_totals WHERE label = 'spam'",
        )
        .await,
        count(
            &app.db,
            "SELECT CAST(COALESCE(SUM(docs), 0) AS BIGINT) FROM community_spam_totals WHERE label = 'ham'",
        )
        .await,
        count(
            &app.db,
            "SELECT COUNT(*) FROM community_spam_tokens WHERE spam <> 0 OR ham <> 0",
        )
        .await,
    )
}

async fn moderate(app: &TestApp, post: i64, action: &str) {
    let (s, p) = app
        .post(
            &format!("/api/v1/community/posts/{post}/moderate"),
            json!({"action": action}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
}

async fn the_spam_filter_learns_only_from_moderators(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let asker = customer(&app, "ada@example.com", "127.0.2.1", now).await;
    let other = customer(&app, "bo@example.com", "127.0.2.2", now).await;
    let topic = asker
        .ask(&app, "Kettle light stays on", "After descaling it.")
        .await;
    let good = other
        .answer(&app, topic, "Hold the button for five seconds.")
        .await;
    let junk = other
        .answer(&app, topic, "Cheap replica watches at cheapwatches shop")
        .await;
    // Customers' posts, shown or not, teach the filter nothing; nor does the asker
    // accepting an answer.
    assert_eq!(accept(&app, &asker, topic, good).await, 303);
    assert_eq!(filter(&app).await, (0, 0, 0));

    // A moderator's spam mark does.
    moderate(&app, junk, "spam").await;
    let (spam, ham, tokens) = filter(&app).await;
    assert_eq!((spam, ham), (1, 0));
    assert!(tokens > 0);
    // Hidden after all (not spam, just unwanted): the lesson is taken back.
    moderate(&app, junk, "hide").await;
    assert_eq!(filter(&app).await, (0, 0, 0));
    // Shown again: learned as good; flagged once more: moved to spam, counted once.
    moderate(&app, junk, "show").await;
    assert_eq!(filter(&app).await.0, 0);
    assert_eq!(filter(&app).await.1, 1);
    moderate(&app, junk, "spam").await;
    assert_eq!(filter(&app).await.0, 1);
    assert_eq!(filter(&app).await.1, 0);
    let cheap = count(
        &app.db,
        "SELECT spam * 10 + ham FROM community_spam_tokens WHERE token = 'cheapwatches'",
    )
    .await;
    assert_eq!(cheap, 10, "one spam, no longer good");
    // An agent accepting an answer is a moderator's judgement: learned as good.
    let agent = agent_browser(&app, app.agent.id, now).await;
    assert_eq!(accept(&app, &agent, topic, good).await, 303);
    assert_eq!(filter(&app).await.1, 1);
    // Hiding it takes that back too.
    moderate(&app, good, "hide").await;
    assert_eq!(filter(&app).await.1, 0);
    app.stop().await;
}

async fn the_public_sees_first_names_and_initials(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let now = SystemClock.now();
    let (s, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Hi", "body": "Hello", "customer": {"email": "maria.schmidt@example.com", "name": "Maria Schmidt"}}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let (s, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Hi", "body": "Hello", "customer": {"email": "nameless@example.com"}}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let maria = signed_in(&app, "maria.schmidt@example.com", "127.0.2.3", now).await;
    let nameless = signed_in(&app, "nameless@example.com", "127.0.2.4", now).await;
    let topic = maria
        .ask(&app, "Where do I find my invoices?", "In my account?")
        .await;
    nameless.answer(&app, topic, "Under Billing.").await;
    agent_browser(&app, app.agent.id, now)
        .await
        .answer(&app, topic, "Billing, then Documents.")
        .await;

    let (_, t) = thread(&app, topic, None).await;
    let names: Vec<&str> = t["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["author"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Maria S.", "Customer", "Test Person"]);
    assert_eq!(t["topic"]["author"]["name"], "Maria S.");
    let anon = client_from("127.0.2.5");
    for path in [
        format!("/community/topics/{topic}"),
        "/community".to_owned(),
    ] {
        let html = anon
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Maria S."), "{path}: {html}");
        for private in ["Schmidt", "maria.schmidt", "nameless@", "@example.com"] {
            assert!(!html.contains(private), "{path} shows {private}");
        }
    }
    let (_, html) = maria
        .page(&app, &format!("/community/topics/{topic}"))
        .await;
    assert!(html.contains("Test Person") && html.contains("agent-badge"));
    let (_, list) = app
        .call("GET", "/api/v1/community/topics", None, None)
        .await;
    assert!(!list.to_string().contains("Schmidt"));
    app.stop().await;
}

/// A portal session for an existing customer.
async fn signed_in(
    app: &TestApp,
    email: &str,
    ip: &str,
    now: rapport_domain::Timestamp,
) -> Browser {
    let token = rapport_store::secrets::random_hex(32);
    let hash = rapport_store::secrets::token_hash(&token);
    let email = email.to_owned();
    app.db
        .write(op!(c => {
            let id = rapport_store::testing::one_in(c, "SELECT id FROM customers WHERE email = $1", &[email.into()])
                .await?
                .int(0)?;
            rapport_store::portal::create_session(c, id, &hash, now, 86_400).await
        }))
        .await
        .unwrap();
    Browser {
        http: client_from(ip),
        cookie: format!("rapport_portal={token}; rapport_portal_csrf=form-token"),
        csrf: "form-token".into(),
    }
}

/// The value of `<input … name="next" value="…">` on a page, if any.
fn next_field(html: &str) -> Option<String> {
    let at = html.find("name=\"next\" value=\"")? + "name=\"next\" value=\"".len();
    Some(
        html[at..at + html[at..].find('"')?]
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

async fn signing_in_from_the_forum_comes_back_to_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sink = SmtpSink::start(SinkOptions::default()).await;
    app.post(
        "/api/v1/mailboxes",
        json!({"address": "help@shop.example", "name": "Shop Help"}),
    )
    .await;
    app.ticket("Hello", "First contact", "lena@example.com")
        .await;
    let http = client_from("127.0.2.6");
    let csrf = "csrf-token-for-this-test";
    let cookie = format!("rapport_portal_csrf={csrf}");
    let form = |fields: Vec<(&'static str, String)>| {
        let mut f = vec![("csrf", csrf.to_owned())];
        f.extend(fields);
        f
    };

    // The forum's "Sign in to answer" carries the topic's page to the sign-in form…
    let asker = customer(&app, "first@example.com", "127.0.2.7", SystemClock.now()).await;
    let topic = asker.ask(&app, "Descaling the kettle", "How often?").await;
    let html = http
        .get(app.url(&format!("/community/topics/{topic}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let back = format!("/community/topics/{topic}");
    let signin = format!("/portal/signin?next={}", enc(&back));
    assert!(
        html.contains(&format!("href=\"{signin}\">Sign in to answer")),
        "{html}"
    );
    let page = http
        .get(app.url(&signin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(next_field(&page).as_deref(), Some(back.as_str()));
    // …which sends it along in the emailed link…
    let r = http
        .post(app.url("/portal/signin"))
        .header(header::COOKIE, &cookie)
        .form(&form(vec![
            ("email", "lena@example.com".into()),
            ("next", back.clone()),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    crate::email::run_jobs_via(&app, Some(Relay::plain("127.0.0.1", sink.port))).await;
    let kept = sink.messages();
    assert_eq!(kept.len(), 1);
    let text = rapport_mail::parse::parse(&kept[0].0).text;
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/portal/signin/"))
        .unwrap();
    let path = link[link.find("/portal/").unwrap()..].to_owned();
    assert!(path.ends_with(&format!("?next={}", enc(&back))), "{path}");
    // …whose confirm button lands back on the topic.
    let page = http
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(next_field(&page).as_deref(), Some(back.as_str()));
    let token_path = path.split('?').next().unwrap().to_owned();
    let r = http
        .post(app.url(&token_path))
        .header(header::COOKIE, &cookie)
        .form(&form(vec![("next", back.clone())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[header::LOCATION], back.as_str());

    // Anywhere else is refused at every step: the form drops it, the link never carries
    // it, and the confirm button lands on "my requests".
    for evil in [
        "//evil.example",
        "https://evil.example",
        "/\\evil",
        "/%2F%2Fevil.example",
        "/\t/evil.example",
    ] {
        let page = http
            .get(app.url(&format!("/portal/signin?next={}", enc(evil))))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(next_field(&page), None, "{evil:?} kept by the form");
        let token = rapport_store::secrets::random_hex(32);
        let hash = rapport_store::secrets::token_hash(&token);
        let now = SystemClock.now();
        app.db
            .write(op!(c => {
                let email = rapport_domain::EmailAddress::parse("lena@example.com").unwrap();
                rapport_store::portal::create_token(c, &email, &hash, now).await?;
                Ok(())
            }))
            .await
            .unwrap();
        let page = http
            .get(app.url(&format!("/portal/signin/{token}?next={}", enc(evil))))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(next_field(&page), None, "{evil:?} kept by the link's page");
        let r = http
            .post(app.url(&format!("/portal/signin/{token}")))
            .header(header::COOKIE, &cookie)
            .form(&form(vec![("next", evil.to_owned())]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{evil:?}");
        assert_eq!(
            r.headers()[header::LOCATION],
            "/portal/requests",
            "{evil:?} followed"
        );
    }
    // A sign-in link asked for with a foreign `next` goes out without one.
    let r = http
        .post(app.url("/portal/signin"))
        .header(header::COOKIE, &cookie)
        .form(&form(vec![
            ("email", "lena@example.com".into()),
            ("next", "//evil.example".into()),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    crate::email::run_jobs_via(&app, Some(Relay::plain("127.0.0.1", sink.port))).await;
    let kept = sink.messages();
    assert_eq!(kept.len(), 2);
    let text = rapport_mail::parse::parse(&kept[1].0).text;
    assert!(
        text.contains("/portal/signin/") && !text.contains("next="),
        "{text}"
    );
    assert!(!text.contains("evil"));
    app.stop().await;
}
