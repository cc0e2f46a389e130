//! Where links to articles lead: an old slug redirects to the article's new address
//! (unless another article took it), agents' search hits for internal articles lead into
//! the workspace, and article pages show images from https addresses — only there, and
//! never `data:` ones.

use reqwest::header;
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::TestApp;
use crate::kb::Browser;

/// Creates an article through the API as an agent.
async fn article(app: &TestApp, body: Value) -> Value {
    let (s, a) = app
        .call(
            "POST",
            "/api/v1/kb/articles",
            Some(&app.agent.token),
            Some(body),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    a
}

async fn rename(app: &TestApp, id: &Value, slug: &str) {
    let (s, a) = app
        .patch(&format!("/api/v1/kb/articles/{id}"), json!({"slug": slug}))
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["slug"], slug);
}

/// GET without following redirects: status, Location, body.
async fn fetch(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, String, String) {
    let mut req = crate::web::client().get(app.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// A signed-in portal customer's cookie.
pub(crate) async fn portal_cookie(app: &TestApp, email: &str) -> String {
    let customer = app.ticket("Hello", "A question", email).await["customer"]["id"]
        .as_i64()
        .unwrap();
    let token = rapport_store::secrets::random_hex(32);
    let hash = rapport_store::secrets::token_hash(&token);
    let now = rapport_domain::Clock::now(&rapport_domain::SystemClock);
    app.db
        .write(rapport_store::op!(c => rapport_store::portal::create_session(c, customer, &hash, now, 3600).await))
        .await
        .unwrap();
    format!("rapport_portal={token}")
}

/// The `img-src` directive of a response's Content-Security-Policy.
fn img_src(h: &header::HeaderMap) -> String {
    h[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("img-src"))
        .unwrap_or_default()
        .to_owned()
}

both_backends! {
    async fn old_slugs_lead_to_the_new_address(app) {
        let a = article(&app, json!({"title": "Reset your password", "body": "Open settings.",
            "status": "published", "visibility": "public", "slug": "reset-password"})).await;
        let (s, _) = app.patch(&format!("/api/v1/kb/articles/{}", a["id"]),
            json!({"locale": "de", "title": "Passwort zurücksetzen", "body": "Einstellungen öffnen."})).await;
        assert_eq!(s, 200);
        rename(&app, &a["id"], "reset-your-password").await;
        let (s, loc, _) = fetch(&app, "/help/articles/reset-password", None).await;
        assert_eq!((s, loc.as_str()), (301, "/help/articles/reset-your-password"));
        let (s, loc, _) = fetch(&app, "/help/articles/reset-password?lang=de", None).await;
        assert_eq!((s, loc.as_str()), (301, "/help/articles/reset-your-password?lang=de"), "the language is kept");
        let (s, _, html) = fetch(&app, "/help/articles/reset-your-password", None).await;
        assert_eq!(s, 200);
        assert!(html.contains("Reset your password"));
        // A page opened before the rename still takes its reader's vote.
        let csrf = "0123456789abcdef0123456789abcdef";
        let r = crate::web::client()
            .post(app.url("/help/articles/reset-password/feedback"))
            .header("cookie", format!("rapport_portal_csrf={csrf}"))
            .form(&[("csrf", csrf), ("helpful", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()[header::LOCATION], "/help/articles/reset-your-password#feedback");
        let votes = rapport_store::testing::scalar(
            &app.db,
            &format!("SELECT COUNT(*) FROM kb_feedback WHERE article_id = {} AND helpful", a["id"]),
        )
        .await
        .unwrap();
        assert_eq!(votes, 1);
        // Renamed again: every old slug leads straight to the newest (no chains).
        rename(&app, &a["id"], "password-reset").await;
        for old in ["reset-password", "reset-your-password"] {
            let (s, loc, _) = fetch(&app, &format!("/help/articles/{old}"), None).await;
            assert_eq!((s, loc.as_str()), (301, "/help/articles/password-reset"), "{old}");
        }
        // Another article taking an old slug wins over the history.
        let b = article(&app, json!({"title": "Reset the device", "body": "Hold the button.",
            "status": "published", "visibility": "public", "slug": "reset-password"})).await;
        let (s, _, html) = fetch(&app, "/help/articles/reset-password", None).await;
        assert_eq!(s, 200);
        assert!(html.contains("Reset the device") && !html.contains("Open settings"), "{html}");
        // …and when it moves on, its own old slug leads to it.
        rename(&app, &b["id"], "reset-the-device").await;
        let (s, loc, _) = fetch(&app, "/help/articles/reset-password", None).await;
        assert_eq!((s, loc.as_str()), (301, "/help/articles/reset-the-device"));

        // Who may not read an article is not told where it went.
        let internal = article(&app, json!({"title": "Playbook", "body": "Agents only.",
            "status": "published", "visibility": "internal", "slug": "playbook"})).await;
        rename(&app, &internal["id"], "secret-playbook").await;
        let draft = article(&app, json!({"title": "Draft", "body": "Not yet.",
            "status": "draft", "visibility": "public", "slug": "draft-one"})).await;
        rename(&app, &draft["id"], "draft-two").await;
        let cookie = portal_cookie(&app, "pat@example.com").await;
        for old in ["playbook", "draft-one"] {
            for who in [None, Some(cookie.as_str())] {
                let (s, loc, html) = fetch(&app, &format!("/help/articles/{old}"), who).await;
                assert_eq!(s, 404, "{old} for {who:?}");
                assert!(loc.is_empty() && !html.contains("secret-playbook") && !html.contains("draft-two"), "{html}");
            }
        }
        // A customers-only article: the public is led on to the sign-in page; a customer reads it.
        let members = article(&app, json!({"title": "Member prices", "body": "Code M-1.",
            "status": "published", "visibility": "customers", "slug": "member-prices"})).await;
        rename(&app, &members["id"], "prices-for-members").await;
        let (s, loc, _) = fetch(&app, "/help/articles/member-prices", None).await;
        assert_eq!((s, loc.as_str()), (301, "/help/articles/prices-for-members"));
        let (s, _, html) = fetch(&app, "/help/articles/prices-for-members", None).await;
        assert_eq!(s, 403);
        assert!(!html.contains("M-1"));
        let (s, _, html) = fetch(&app, "/help/articles/prices-for-members", Some(&cookie)).await;
        assert_eq!(s, 200);
        assert!(html.contains("M-1"));
        // A deleted article's old slugs go with it.
        let (s, _) = app.call("DELETE", &format!("/api/v1/kb/articles/{}", a["id"]), Some(&app.supervisor.token), None).await;
        assert_eq!(s, 204);
        let (s, loc, _) = fetch(&app, "/help/articles/reset-your-password", None).await;
        assert_eq!((s, loc.as_str()), (404, ""));
        app.stop().await;
    }

    async fn agents_hits_for_internal_articles_lead_into_the_workspace(app) {
        let public = article(&app, json!({"title": "Escalation for customers", "body": "Ask for a supervisor.",
            "status": "published", "visibility": "public"})).await;
        let internal = article(&app, json!({"title": "Escalation playbook", "body": "Page the on-call lead.\n\n## Escalation steps\n\nCall twice.",
            "status": "published", "visibility": "internal"})).await;
        let members = article(&app, json!({"title": "Escalation for members", "body": "Members get a call back.",
            "status": "published", "visibility": "customers"})).await;
        for endpoint in ["search", "suggest"] {
            let (s, r) = app.call("GET", &format!("/api/v1/kb/{endpoint}?q=escalation&limit=10"), Some(&app.agent.token), None).await;
            assert_eq!(s, 200, "{r}");
            let hits = r["hits"].as_array().unwrap();
            assert_eq!(hits.len(), 3, "{r}");
            for h in hits {
                let url = h["url"].as_str().unwrap();
                if h["id"] == internal["id"] {
                    assert!(url == format!("/kb/articles/{}/edit", internal["id"]), "{endpoint}: {url}");
                } else if h["id"] == public["id"] {
                    assert!(url.starts_with(&format!("/help/articles/{}", public["slug"].as_str().unwrap())), "{url}");
                } else {
                    assert_eq!(h["id"], members["id"]);
                    assert!(url.starts_with("/help/articles/"), "{url}");
                }
            }
        }
        // The link works for the agent.
        let b = Browser::agent(&app, "agent.a@example.com").await;
        let (s, _, html) = b.get(&app, &format!("/kb/articles/{}/edit", internal["id"])).await;
        assert_eq!(s, 200);
        assert!(html.contains("Escalation playbook"));
        // The public sees public articles only, with their help-center addresses.
        let (s, r) = app.call("GET", "/api/v1/kb/search?q=escalation", None, None).await;
        assert_eq!(s, 200);
        let ids: Vec<&Value> = r["hits"].as_array().unwrap().iter().map(|h| &h["id"]).collect();
        assert_eq!(ids, vec![&public["id"]], "{r}");
        app.stop().await;
    }

    async fn article_pages_show_https_images_only(app) {
        let body = "Look:\n\n![The diagram](https://images.example.com/diagram.png \"Diagram\")\n\n\
                    <img src=\"https://cdn.example.com/photo.jpg\" alt=\"Photo\" width=\"320\" height=\"200\" onerror=\"alert(1)\" style=\"border:9px\">\n\n\
                    ![plain](http://insecure.example.com/a.png)\n\n![inline](data:image/png;base64,iVBORw0KGgo=)\n\n\
                    <img src=\"//cdn.example.com/relative.png\" alt=\"r\">";
        let a = article(&app, json!({"title": "Pictures", "body": body, "status": "published", "visibility": "public"})).await;
        let path = format!("/help/articles/{}", a["slug"].as_str().unwrap());
        let r = crate::web::client().get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let img = img_src(r.headers());
        let html = r.text().await.unwrap();
        // The page's policy lets https images load, and nothing else from elsewhere.
        assert_eq!(img, "img-src 'self' https:");
        assert!(html.contains("<img src=\"https://images.example.com/diagram.png\" alt=\"The diagram\" title=\"Diagram\""), "{html}");
        assert!(html.contains("src=\"https://cdn.example.com/photo.jpg\""), "{html}");
        assert!(html.contains("alt=\"Photo\"") && html.contains("width=\"320\"") && html.contains("height=\"200\""), "{html}");
        let lower = html.to_ascii_lowercase();
        for bad in ["onerror", "border:9px", "data:image", "http://insecure", "//cdn.example.com/relative"] {
            assert!(!lower.contains(bad), "{bad} survived: {html}");
        }
        // Other pages keep the strict policy: no images from elsewhere.
        let help = crate::web::client().get(app.url("/help")).send().await.unwrap();
        assert!(!img_src(help.headers()).contains("https:"), "{}", img_src(help.headers()));
        let b = Browser::agent(&app, "agent.a@example.com").await;
        let r = b.http.get(app.url("/kb")).header("cookie", &b.cookie).send().await.unwrap();
        assert!(!img_src(r.headers()).contains("https:"));
        // The editor's live preview shows the article as the help center will.
        for path in [format!("/kb/articles/{}/edit", a["id"]), "/kb/new".to_owned()] {
            let r = b.http.get(app.url(&path)).header("cookie", &b.cookie).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            assert_eq!(img_src(r.headers()), "img-src 'self' https:", "{path}");
        }
        let (_, api) = (200, app.http.get(app.url("/api/v1/kb/search?q=pictures")).send().await.unwrap());
        assert!(!img_src(api.headers()).contains("https:"));
        // An article that is not found keeps the strict policy too.
        let r = crate::web::client().get(app.url("/help/articles/nothing-here")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        assert!(!img_src(r.headers()).contains("https:"));
        app.stop().await;
    }
}
