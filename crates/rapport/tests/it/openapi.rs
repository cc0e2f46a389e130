//! The OpenAPI document is generated from the code and covers every endpoint.

use crate::both_backends;

both_backends! {
    async fn openapi_covers_every_endpoint(app) {
        let (s, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
        assert_eq!(s, 200);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let paths = doc["paths"].as_object().unwrap();
        let expect = [
            ("/healthz", "get"),
            ("/api/v1/tickets", "post"),
            ("/api/v1/tickets", "get"),
            ("/api/v1/tickets/{id}", "get"),
            ("/api/v1/tickets/{id}", "patch"),
            ("/api/v1/tickets/{id}/messages", "post"),
            ("/api/v1/tickets/{id}/messages", "get"),
            ("/api/v1/tickets/{id}/events", "get"),
            ("/api/v1/tickets/{id}/merge", "post"),
            ("/api/v1/customers/{id}", "get"),
            ("/api/v1/search", "get"),
            ("/api/v1/attachments/{id}", "get"),
            ("/api/v1/me", "get"),
            ("/api/v1/users", "get"),
            ("/api/v1/users", "post"),
            ("/api/v1/teams", "get"),
            ("/api/v1/teams", "post"),
            ("/api/v1/teams/{id}/members", "post"),
            ("/api/v1/categories", "get"),
            ("/api/v1/categories", "post"),
            ("/api/v1/jobs", "get"),
            ("/api/v1/stats/daily", "get"),
            ("/api/v1/mailboxes", "post"),
            ("/api/v1/mailboxes", "get"),
            ("/api/v1/me/preferences", "get"),
            ("/api/v1/me/preferences", "put"),
            ("/api/v1/mailboxes/{id}", "patch"),
            ("/metrics", "get"),
        ];
        for (path, method) in expect {
            assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing");
        }
        let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(documented, expect.len(), "an endpoint is documented but not listed here");
        assert!(doc["components"]["schemas"]["Ticket"].is_object());
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
        app.stop().await;
    }
}
