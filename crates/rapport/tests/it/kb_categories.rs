//! The knowledge base's categories in the workspace (`/kb/categories`): supervisors and
//! admins list, create, rename, reorder and delete them; agents may not; a category that
//! still holds articles is not deleted, and the page says why.

use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::TestApp;
use crate::kb::Browser;

/// The categories the API lists, as (slug, name, position), in order.
async fn listed(app: &TestApp) -> Vec<(String, String, i64)> {
    let (s, cats) = app.get("/api/v1/kb/categories").await;
    assert_eq!(s, 200, "{cats}");
    cats.as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["slug"].as_str().unwrap().to_owned(),
                k["name"].as_str().unwrap().to_owned(),
                k["position"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn id_of(app: &TestApp, slug: &str) -> i64 {
    let (_, cats) = app.get("/api/v1/kb/categories").await;
    cats.as_array()
        .unwrap()
        .iter()
        .find(|k| k["slug"] == slug)
        .unwrap_or_else(|| panic!("no category {slug}: {cats}"))["id"]
        .as_i64()
        .unwrap()
}

/// The agent search's slugs for `q`.
async fn found(app: &TestApp, q: &str) -> Vec<String> {
    let (s, r) = app
        .call(
            "GET",
            &format!("/api/v1/kb/search?q={q}"),
            Some(&app.agent.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["slug"].as_str().unwrap().to_owned())
        .collect()
}

both_backends! {
    async fn supervisors_manage_categories_in_the_workspace(app) {
        // No session: the sign-in page. An agent: not allowed, and no link from /kb.
        let r = crate::web::client().get(app.url("/kb/categories")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let agent = Browser::agent(&app, "agent.a@example.com").await;
        let (s, _, html) = agent.get(&app, "/kb").await;
        assert_eq!(s, 200);
        assert!(!html.contains("href=\"/kb/categories\""), "{html}");
        let (s, _, _) = agent.get(&app, "/kb/categories").await;
        assert_eq!(s, 403);
        let (s, _, _) = agent.post(&app, "/kb/categories", &[("name", "Sneaky"), ("slug", "sneaky")]).await;
        assert_eq!(s, 403);
        assert!(listed(&app).await.is_empty(), "an agent's form changes nothing");

        // A supervisor finds the page from /kb; every field has its label.
        let sup = Browser::agent(&app, "sup@example.com").await;
        let (_, _, html) = sup.get(&app, "/kb").await;
        assert!(html.contains("href=\"/kb/categories\""), "{html}");
        let (s, _, html) = sup.get(&app, "/kb/categories").await;
        assert_eq!(s, 200, "{html}");
        assert!(html.contains("<h1>Categories</h1>"), "{html}");
        for id in ["new-name", "new-slug", "new-description", "new-position"] {
            assert!(html.contains(&format!("<label for=\"{id}\"")), "no label for {id}: {html}");
            assert!(html.contains(&format!("id=\"{id}\"")), "no field {id}");
        }

        // Create: the slug from the name when left empty; positions as given.
        let (s, loc, body) = sup.post(&app, "/kb/categories", &[("name", "Billing & payments"), ("slug", ""), ("description", "Money matters"), ("position", "2")]).await;
        assert_eq!((s, loc.as_str()), (303, "/kb/categories"), "{body}");
        let (s, _, _) = sup.post(&app, "/kb/categories", &[("name", "Getting started"), ("slug", "start"), ("description", ""), ("position", "1")]).await;
        assert_eq!(s, 303);
        assert_eq!(listed(&app).await, vec![
            ("start".to_owned(), "Getting started".to_owned(), 1),
            ("billing-payments".to_owned(), "Billing & payments".to_owned(), 2),
        ]);
        // Bad input: the page again, 422, naming the field and keeping what was typed.
        let (s, _, html) = sup.post(&app, "/kb/categories", &[("name", "Twice"), ("slug", "start"), ("description", "typed text")]).await;
        assert_eq!(s, 422, "{html}");
        assert!(html.contains("slug") && html.contains("already exists"), "{html}");
        assert!(html.contains("typed text"), "{html}");
        assert!(html.contains("role=\"alert\""), "{html}");
        let (s, _, html) = sup.post(&app, "/kb/categories", &[("name", ""), ("slug", "empty")]).await;
        assert_eq!(s, 422);
        assert!(html.contains("name"), "{html}");
        let (s, _, _) = sup.post(&app, "/kb/categories", &[("name", "Bad"), ("slug", "Not A Slug")]).await;
        assert_eq!(s, 422);
        let (s, _, _) = sup.post(&app, "/kb/categories", &[("name", "Nope"), ("slug", "nope"), ("position", "first")]).await;
        assert_eq!(s, 422);
        // A stale form is refused.
        let r = sup.http.post(app.url("/kb/categories")).header("cookie", &sup.cookie)
            .form(&[("csrf", "stale"), ("name", "Forged"), ("slug", "forged")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(listed(&app).await.len(), 2, "refusals write nothing");

        // The page lists them in order, each with its own labelled fields.
        let billing = id_of(&app, "billing-payments").await;
        let start = id_of(&app, "start").await;
        let (_, _, html) = sup.get(&app, "/kb/categories").await;
        let (a, b) = (html.find("Getting started").unwrap(), html.find("Billing &#38; payments").unwrap());
        assert!(a < b, "in position order");
        for field in ["name", "slug", "description", "position"] {
            let id = format!("cat-{billing}-{field}");
            assert!(html.contains(&format!("<label for=\"{id}\"")) && html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
        }

        // An article filed in Billing; renaming the category re-indexes it (search finds
        // it by the category's new name at once).
        let (s, art) = app.call("POST", "/api/v1/kb/articles", Some(&app.agent.token), Some(json!({
            "title": "Money back", "body": "Refunds arrive within five days.", "status": "published",
            "visibility": "public", "category": billing,
        }))).await;
        assert_eq!(s, 201, "{art}");
        assert!(!found(&app, "treasury").await.contains(&"money-back".to_owned()));
        let (s, loc, body) = sup.post(&app, &format!("/kb/categories/{billing}"), &[("name", "Treasury"), ("slug", "treasury"), ("description", "Money"), ("position", "0")]).await;
        assert_eq!((s, loc.as_str()), (303, "/kb/categories"), "{body}");
        assert_eq!(listed(&app).await, vec![
            ("treasury".to_owned(), "Treasury".to_owned(), 0),
            ("start".to_owned(), "Getting started".to_owned(), 1),
        ], "renamed and moved to the top");
        assert_eq!(found(&app, "treasury").await, vec!["money-back".to_owned()]);
        let (_, a) = app.get(&format!("/api/v1/kb/articles/{}", art["id"])).await;
        assert_eq!(a["category"]["slug"], "treasury");
        // A rename to a taken slug is refused on the page.
        let (s, _, html) = sup.post(&app, &format!("/kb/categories/{billing}"), &[("name", "Treasury"), ("slug", "start"), ("description", ""), ("position", "0")]).await;
        assert_eq!(s, 422);
        assert!(html.contains("already exists"), "{html}");
        let (s, _, _) = sup.post(&app, "/kb/categories/999999", &[("name", "Ghost"), ("slug", "ghost"), ("description", ""), ("position", "0")]).await;
        assert_eq!(s, 404);
        // Agents may not rename or delete either.
        let (s, _, _) = agent.post(&app, &format!("/kb/categories/{start}"), &[("name", "Hacked"), ("slug", "start"), ("description", ""), ("position", "1")]).await;
        assert_eq!(s, 403);
        let (s, _, _) = agent.post(&app, &format!("/kb/categories/{start}/delete"), &[]).await;
        assert_eq!(s, 403);

        // A category holding an article is not deleted: the page says why.
        let (_, _, html) = sup.get(&app, "/kb/categories").await;
        assert!(html.contains("holds 1 article"), "{html}");
        let (s, _, html) = sup.post(&app, &format!("/kb/categories/{billing}/delete"), &[]).await;
        assert_eq!(s, 409, "{html}");
        assert!(html.contains("still holds 1 article") && html.contains("role=\"alert\""), "{html}");
        assert_eq!(listed(&app).await.len(), 2);
        // Moved out, the category goes.
        let (s, _) = app.patch(&format!("/api/v1/kb/articles/{}", art["id"]), json!({"category": Value::Null})).await;
        assert_eq!(s, 200);
        let (s, loc, _) = sup.post(&app, &format!("/kb/categories/{billing}/delete"), &[]).await;
        assert_eq!((s, loc.as_str()), (303, "/kb/categories"));
        assert_eq!(listed(&app).await, vec![("start".to_owned(), "Getting started".to_owned(), 1)]);
        let r = sup.http.post(app.url(&format!("/kb/categories/{start}/delete"))).header("cookie", &sup.cookie)
            .form(&[("csrf", "stale")]).send().await.unwrap();
        assert_eq!(r.status(), 403, "deleting needs the form token too");
        assert_eq!(listed(&app).await.len(), 1);
        app.stop().await;
    }
}
