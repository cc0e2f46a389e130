//! The chat widget's asset and what a page on another origin needs from the API: the
//! script is served as JavaScript (cacheable), never puts server text into `innerHTML`,
//! and only the chat widget's routes answer other origins' preflight.

use serde_json::{Value, json};

use crate::both_backends;

/// `OPTIONS path` as a browser's preflight from `origin` for a JSON POST.
async fn preflight(base: &str, path: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{base}{path}"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn allow_origin(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

both_backends! {
    async fn the_widget_script_is_served_as_javascript_and_inserts_text_only(app) {
        let r = reqwest::get(format!("{}/widget.js", app.base)).await.unwrap();
        assert_eq!(r.status(), 200);
        let h = r.headers().clone();
        assert_eq!(h["content-type"], "application/javascript; charset=utf-8");
        assert!(h["cache-control"].to_str().unwrap().contains("max-age="), "{:?}", h["cache-control"]);
        let js = r.text().await.unwrap();
        // It talks to the host it came from, in a shadow root, by the protocol's routes.
        assert!(js.contains("document.currentScript"));
        assert!(js.contains("attachShadow"));
        assert!(js.contains("/api/v1/chat/conversations") && js.contains("/api/v1/chat/ws"));
        // Server text only ever goes in as text: no HTML-parsing sink at all.
        for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
            assert!(!js.contains(sink), "widget.js uses {sink}");
        }
        assert!(js.contains("textContent"));
    }

    async fn only_the_chat_routes_answer_other_origins(app) {
        let origin = "https://shop.example.com";
        let r = preflight(&app.base, "/api/v1/chat/conversations", origin).await;
        assert!(r.status().is_success(), "{}", r.status());
        assert_eq!(allow_origin(&r).as_deref(), Some(origin));
        // The start itself carries the header, so the page can read its token.
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/chat/conversations", app.base))
            .header("origin", origin)
            .json(&json!({"body": "Is the kettle in stock?"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(allow_origin(&r).as_deref(), Some(origin));
        assert!(r.json::<Value>().await.unwrap()["token"].as_str().unwrap().starts_with("rchat_"));
        // The widget's other routes: a verified user's history, files (with the token in
        // `Authorization`, so that header is allowed; still no credentials).
        for path in ["/api/v1/chat/history", "/api/v1/chat/files", "/api/v1/chat/files/12"] {
            let r = reqwest::Client::new()
                .request(reqwest::Method::OPTIONS, format!("{}{path}", app.base))
                .header("origin", origin)
                .header("access-control-request-method", "GET")
                .header("access-control-request-headers", "authorization")
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{path}: {}", r.status());
            assert_eq!(allow_origin(&r).as_deref(), Some(origin), "{path}");
            let allowed = r.headers()["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
            assert!(allowed.contains("authorization"), "{path}: {allowed}");
            assert!(r.headers().get("access-control-allow-credentials").is_none(), "{path}");
        }
        // Any other route of the API stays closed to other origins.
        for path in ["/api/v1/tickets", "/api/v1/chat/settings", "/api/v1/tokens", "/api/v1/chat/files/x/y", "/api/v1/attachments/1"] {
            let r = preflight(&app.base, path, origin).await;
            assert_eq!(allow_origin(&r), None, "{path}");
        }
        let (s, _) = app.get("/api/v1/tickets").await;
        assert_eq!(s, 200);
    }
}
