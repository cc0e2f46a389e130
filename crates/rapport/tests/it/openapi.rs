//! The OpenAPI document is generated from the code, covers every endpoint, keeps the
//! schema names clients know, and describes the bodies the API really sends.

use std::collections::BTreeSet;

use rapport_domain::{Clock, SystemClock};
use rapport_store::jobs::{self, NewJob};
use rapport_store::op;
use rapport_store::stats;
use serde_json::{Value, json};

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
            ("/api/v1/tickets/{id}/portal-link/revoke", "post"),
            ("/api/v1/customers/{id}", "get"),
            ("/api/v1/customers/{id}/mood", "get"),
            ("/api/v1/customers/{id}/surveys", "get"),
            ("/api/v1/customers/{id}/surveys", "put"),
            ("/api/v1/tickets/{id}/survey", "get"),
            ("/api/v1/surveys/settings", "get"),
            ("/api/v1/surveys/settings", "put"),
            ("/api/v1/reports/summary", "get"),
            ("/api/v1/reports/dashboard", "get"),
            ("/api/v1/reports/themes", "get"),
            ("/api/v1/search", "get"),
            ("/api/v1/attachments/{id}", "get"),
            ("/api/v1/me", "get"),
            ("/api/v1/me/password", "post"),
            ("/api/v1/users", "get"),
            ("/api/v1/users", "post"),
            ("/api/v1/users/{id}", "patch"),
            ("/api/v1/tokens", "get"),
            ("/api/v1/tokens", "post"),
            ("/api/v1/tokens/{id}", "delete"),
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
            ("/api/v1/community/topics", "get"),
            ("/api/v1/community/topics/{id}", "get"),
            ("/api/v1/community/suggest", "get"),
            ("/api/v1/community/posts/{id}/moderate", "post"),
            ("/api/v1/community/topics/{id}/lock", "post"),
            ("/api/v1/community/moderation", "get"),
            ("/api/v1/community/topics/{id}/ticket", "post"),
            ("/api/v1/community/topics/{id}/article", "post"),
            ("/api/v1/kb/articles", "post"),
            ("/api/v1/kb/articles", "get"),
            ("/api/v1/kb/articles/{id}", "get"),
            ("/api/v1/kb/articles/{id}", "patch"),
            ("/api/v1/kb/articles/{id}", "delete"),
            ("/api/v1/kb/articles/{id}/versions", "get"),
            ("/api/v1/kb/articles/{id}/versions/{n}", "get"),
            ("/api/v1/kb/articles/{id}/versions/{n}/restore", "post"),
            ("/api/v1/kb/categories", "get"),
            ("/api/v1/kb/categories", "post"),
            ("/api/v1/kb/categories/{id}", "patch"),
            ("/api/v1/kb/categories/{id}", "delete"),
            ("/api/v1/kb/search", "get"),
            ("/api/v1/kb/suggest", "get"),
            ("/api/v1/kb/synonyms", "get"),
            ("/api/v1/kb/synonyms", "post"),
            ("/api/v1/kb/synonyms/{id}", "delete"),
            ("/api/v1/kb/reports/articles", "get"),
            ("/api/v1/kb/reports/articles/{id}/comments", "get"),
            ("/api/v1/kb/reports/deflection", "get"),
            ("/api/v1/kb/reports/gaps", "get"),
            ("/api/v1/kb/reports/gaps/draft", "post"),
            ("/api/v1/bot/ask", "post"),
            ("/api/v1/bot/report", "get"),
            ("/api/v1/chat/conversations", "post"),
            ("/api/v1/chat/settings", "get"),
            ("/api/v1/chat/settings", "put"),
            ("/api/v1/chat/history", "post"),
            ("/api/v1/chat/files/{id}", "get"),
            ("/api/v1/chat/agents/{id}", "get"),
            ("/api/v1/chat/agents/{id}", "put"),
            ("/api/v1/chat/conversations/{id}/transfer", "post"),
            ("/api/v1/sla/policies", "get"),
            ("/api/v1/sla/policies", "post"),
            ("/api/v1/sla/policies/{id}", "get"),
            ("/api/v1/sla/policies/{id}", "put"),
            ("/api/v1/sla/policies/{id}", "delete"),
            ("/api/v1/sla/calendars", "get"),
            ("/api/v1/sla/calendars", "post"),
            ("/api/v1/sla/calendars/{id}", "get"),
            ("/api/v1/sla/calendars/{id}", "put"),
            ("/api/v1/sla/calendars/{id}", "delete"),
            ("/api/v1/webhooks", "post"),
            ("/api/v1/webhooks", "get"),
            ("/api/v1/webhooks/{id}", "get"),
            ("/api/v1/webhooks/{id}", "patch"),
            ("/api/v1/webhooks/{id}", "delete"),
            ("/api/v1/webhooks/{id}/deliveries", "get"),
            ("/api/v1/tickets/{id}/promises", "post"),
            ("/api/v1/tickets/{id}/promises", "get"),
            ("/api/v1/promises/{id}/done", "post"),
            ("/api/v1/reports/promises", "get"),
            ("/api/v1/teams/{id}/routing", "get"),
            ("/api/v1/teams/{id}/routing", "put"),
            ("/api/v1/agents/{id}/routing", "get"),
            ("/api/v1/agents/{id}/routing", "patch"),
            ("/api/v1/tickets/{id}/transfer", "post"),
            ("/api/v1/tickets/{id}/transfer", "get"),
            ("/api/v1/classifier", "get"),
            ("/api/v1/classifier", "put"),
            ("/api/v1/classifier/retrain", "post"),
            ("/api/v1/tickets/{id}/snooze", "post"),
            ("/api/v1/tickets/{id}/snooze", "get"),
            ("/api/v1/tickets/{id}/snooze", "delete"),
            ("/api/v1/automations", "get"),
            ("/api/v1/automations", "post"),
            ("/api/v1/automations/{id}", "get"),
            ("/api/v1/automations/{id}", "put"),
            ("/api/v1/automations/{id}", "delete"),
            ("/api/v1/automations/{id}/runs", "get"),
            ("/api/v1/tickets/{id}/automation-runs", "get"),
            ("/api/v1/customers/{id}/check-ins", "get"),
            ("/api/v1/customers/{id}/check-ins", "put"),
            ("/api/v1/webhooks/settings", "get"),
            ("/api/v1/webhooks/settings", "put"),
            ("/api/v1/orders", "post"),
            ("/api/v1/orders/batch", "post"),
            ("/api/v1/orders/{id}", "get"),
            ("/api/v1/customers/{id}/orders", "get"),
            ("/api/v1/tickets/{id}/orders", "post"),
            ("/api/v1/tickets/{id}/orders", "get"),
            ("/api/v1/vouchers", "post"),
            ("/api/v1/vouchers/{code}/redeem", "post"),
            ("/api/v1/customers/{id}/vouchers", "get"),
            ("/api/v1/customers/{id}/points", "get"),
            ("/api/v1/customers/{id}/points", "post"),
            ("/api/v1/customers/{id}/points/redeem", "post"),
            ("/api/v1/approvals", "get"),
            ("/api/v1/approvals/{id}/approve", "post"),
            ("/api/v1/approvals/{id}/decline", "post"),
            ("/api/v1/goodwill/limits", "get"),
            ("/api/v1/goodwill/limits", "put"),
            ("/api/v1/reports/goodwill", "get"),
            ("/api/v1/customers/{id}/timeline", "get"),
            ("/api/v1/orders/{id}/returns", "post"),
            ("/api/v1/returns/{id}/moves", "post"),
            ("/api/v1/returns/{id}", "get"),
            ("/api/v1/customers/{id}/returns", "get"),
            ("/api/v1/customers/{id}", "patch"),
            ("/api/v1/customers/dates", "get"),
            ("/api/v1/customers/{id}/card", "get"),
            ("/api/v1/customers/{id}/merge", "post"),
            ("/api/v1/customers/import", "post"),
            ("/api/v1/organizations/import", "post"),
            ("/api/v1/customers/{id}/export", "get"),
            ("/api/v1/customers/{id}/erase", "post"),
            ("/api/v1/organizations", "get"),
            ("/api/v1/organizations", "post"),
            ("/api/v1/organizations/{id}", "get"),
            ("/api/v1/organizations/{id}", "patch"),
            ("/api/v1/organizations/{id}/members", "get"),
            ("/api/v1/organizations/{id}/members/{customer_id}", "put"),
            ("/api/v1/organizations/{id}/members/{customer_id}", "delete"),
            ("/api/v1/attributes", "get"),
            ("/api/v1/attributes", "post"),
            ("/api/v1/attributes/{id}", "delete"),
            ("/api/v1/invoices", "post"),
            ("/api/v1/payments", "post"),
            ("/api/v1/customers/{id}/billing", "get"),
            ("/api/v1/refunds", "post"),
            ("/api/v1/refunds", "get"),
            ("/api/v1/refunds/{id}/done", "post"),
            ("/api/v1/loyalty/settings", "get"),
            ("/api/v1/loyalty/settings", "put"),
            ("/api/v1/segments", "get"),
            ("/api/v1/segments", "post"),
            ("/api/v1/segments/{id}", "get"),
            ("/api/v1/segments/{id}", "delete"),
            ("/api/v1/segments/{id}/customers", "get"),
            ("/api/v1/reports/products", "get"),
            ("/api/v1/orders/import", "post"),
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

/// The schema names clients generate code from; renaming one breaks them.
const SCHEMA_NAMES: [&str; 220] = [
    "AddMemberRequest",
    "AgentRouting",
    "AgentRoutingRequest",
    "Approval",
    "AskRequest",
    "AttachmentInput",
    "AttachmentMeta",
    "AttributeDefinition",
    "Author",
    "Automation",
    "AutomationRequest",
    "AutomationRun",
    "Backlog",
    "BillingRecord",
    "BotAnswer",
    "BotReport",
    "BotSource",
    "BusinessCalendar",
    "BusinessCalendarRequest",
    "CalendarClosure",
    "CardMood",
    "CardRating",
    "CardScores",
    "CategoryExamples",
    "CategoryInfo",
    "CategoryKey",
    "ChangePasswordRequest",
    "ChatAvailability",
    "ChatAvailabilityRequest",
    "ChatHistory",
    "ChatHistoryConversation",
    "ChatHistoryMessage",
    "ChatHistoryRequest",
    "ChatIdentity",
    "ChatPlaced",
    "ChatSettings",
    "ChatSettingsRequest",
    "ChatStarted",
    "ChatTransferRequest",
    "CheckIns",
    "ChurnRisk",
    "Classifier",
    "ClassifierRequest",
    "CommunityAuthor",
    "CommunityPost",
    "CommunitySuggestion",
    "CommunitySuggestions",
    "CommunityThread",
    "CommunityTopic",
    "CommunityTopics",
    "CreateArticleRequest",
    "CreateCategoryRequest",
    "CreateKbCategoryRequest",
    "CreateMailboxRequest",
    "CreateMessageRequest",
    "CreateSynonymsRequest",
    "CreateTeamRequest",
    "CreateTicketRequest",
    "CreateTokenRequest",
    "CreateUserRequest",
    "CreateWebhookRequest",
    "Customer",
    "CustomerBilling",
    "CustomerCard",
    "CustomerDate",
    "CustomerErasure",
    "CustomerInput",
    "CustomerMerge",
    "CustomerMergeRequest",
    "CustomerPatch",
    "CustomerRef",
    "CustomerWithTickets",
    "DailyStat",
    "DayVolume",
    "DecisionRequest",
    "ErrorBody",
    "ErrorDetail",
    "Event",
    "FetchHealth",
    "Figure",
    "Figures",
    "GivePointsRequest",
    "GoodwillLimit",
    "GoodwillLimits",
    "GoodwillRow",
    "Health",
    "Hit",
    "ImapRequest",
    "ImportRefused",
    "ImportReport",
    "ImportRowError",
    "IssueRefund",
    "IssueVoucherRequest",
    "Job",
    "KbArticle",
    "KbArticlePage",
    "KbArticleStats",
    "KbArticleSummary",
    "KbArticlesReport",
    "KbCategory",
    "KbCategoryRef",
    "KbComment",
    "KbComments",
    "KbDeflectionPeriod",
    "KbDeflectionReport",
    "KbFollowedGap",
    "KbGapAnswer",
    "KbGapDraft",
    "KbGapDraftRequest",
    "KbGapsReport",
    "KbSearchHit",
    "KbSearchResults",
    "KbTranslation",
    "KbUnansweredGap",
    "KbVersion",
    "KbVersionSummary",
    "LifetimeValue",
    "LinkOrderRequest",
    "LockRequest",
    "LoyaltySettings",
    "MailboxView",
    "MakePromiseRequest",
    "MergeRequest",
    "Message",
    "ModerateRequest",
    "MoodPoint",
    "MoodTrend",
    "MoveReturnRequest",
    "NewAttribute",
    "NewOrganization",
    "NewSegment",
    "NewToken",
    "NpsFigure",
    "Order",
    "OrderBatchRequest",
    "OrderBatchResponse",
    "OrderBatchResult",
    "OrderCustomer",
    "OrderLine",
    "OrderLineInput",
    "OrderRequest",
    "Organization",
    "OrganizationMember",
    "OrganizationPatch",
    "PatchArticleRequest",
    "PatchKbCategoryRequest",
    "PatchMailboxRequest",
    "PatchTicketRequest",
    "PatchUserRequest",
    "PatchWebhookRequest",
    "PersonFigures",
    "Points",
    "PointsEntry",
    "PortalLink",
    "Preferences",
    "PreferencesUpdate",
    "ProductRates",
    "ProductReport",
    "ProductWeek",
    "Promise",
    "PromiseReport",
    "PromiseTally",
    "PushInvoice",
    "PushPayment",
    "RedeemPointsRequest",
    "RedeemVoucherRequest",
    "Refund",
    "RefundDone",
    "ReportDashboard",
    "ReportSummary",
    "ReportThemes",
    "RequestReturnRequest",
    "Return",
    "ReturnLine",
    "ReturnStep",
    "SearchResults",
    "Segment",
    "SegmentMember",
    "SegmentMembers",
    "SentimentView",
    "Share",
    "Shipment",
    "ShipmentInput",
    "SkillsView",
    "SlaClock",
    "SlaConditions",
    "SlaPolicy",
    "SlaPolicyRequest",
    "SlaTargets",
    "Snooze",
    "SnoozeRequest",
    "StartChatRequest",
    "SurveyFigure",
    "SurveyOptOut",
    "SurveySettings",
    "SurveyView",
    "SynonymGroup",
    "Team",
    "TeamRouting",
    "TeamRoutingRequest",
    "ThemeQuote",
    "ThemeView",
    "Ticket",
    "TicketClassification",
    "TicketPage",
    "TicketScore",
    "TicketSla",
    "TimeFigure",
    "Timeline",
    "TimelineItem",
    "Token",
    "TopicArticle",
    "TopicTicket",
    "Transfer",
    "TransferRequest",
    "User",
    "Voucher",
    "Webhook",
    "WebhookDelivery",
    "WebhookSettings",
];

/// The property names a component schema declares; a flattened schema (`allOf`) has
/// those of its parts.
fn declared(doc: &Value, name: &str) -> BTreeSet<String> {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    let parts = match schema["allOf"].as_array() {
        Some(parts) => parts.clone(),
        None => vec![schema.clone()],
    };
    let mut out = BTreeSet::new();
    for part in &parts {
        match part["$ref"].as_str() {
            Some(r) => out.extend(declared(doc, r.trim_start_matches("#/components/schemas/"))),
            None => out.extend(part["properties"].as_object().unwrap().keys().cloned()),
        }
    }
    out
}

/// Asserts that a JSON body has exactly the properties its schema declares.
fn fits(doc: &Value, name: &str, body: &Value) {
    let keys: BTreeSet<String> = body
        .as_object()
        .unwrap_or_else(|| panic!("{name} body is not an object: {body}"))
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        declared(doc, name),
        "{name} in the document vs the body {body}"
    );
}

both_backends! {
    async fn openapi_schema_names_are_stable(app) {
        let (s, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
        assert_eq!(s, 200);
        let names: Vec<&str> = doc["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(names, SCHEMA_NAMES, "a schema was renamed, added or removed");
        app.stop().await;
    }

    async fn openapi_schemas_describe_the_bodies(app) {
        let (_, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
        let (s, t) = app
            .post(
                "/api/v1/tickets",
                json!({
                    "subject": "Invoice attached twice",
                    "body": "See the file.",
                    "customer": {"email": "schema@example.com", "name": "Sam"},
                    "channel": "email",
                    "attachments": [{"filename": "a.txt", "content_type": "text/plain", "data_base64": "aGk="}]
                }),
            )
            .await;
        assert_eq!(s, 201, "{t}");
        fits(&doc, "Ticket", &t);
        fits(&doc, "CustomerRef", &t["customer"]);
        let id = t["id"].as_i64().unwrap();
        let (s, m) = app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "On it."})).await;
        assert_eq!(s, 201, "{m}");
        fits(&doc, "Message", &m);
        let (_, thread) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        fits(&doc, "Message", &thread[0]);
        fits(&doc, "Author", &thread[0]["author"]);
        fits(&doc, "AttachmentMeta", &thread[0]["attachments"][0]);
        let (_, events) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
        fits(&doc, "Event", &events[0]);
        let (_, page) = app.get("/api/v1/tickets?limit=1").await;
        fits(&doc, "TicketPage", &page);
        let cid = t["customer"]["id"].as_i64().unwrap();
        let (_, customer) = app.get(&format!("/api/v1/customers/{cid}")).await;
        fits(&doc, "CustomerWithTickets", &customer);
        let (_, found) = app.get("/api/v1/search?q=invoice").await;
        fits(&doc, "SearchResults", &found);
        fits(&doc, "Hit", &found["hits"][0]);
        let (_, me) = app.get("/api/v1/me").await;
        fits(&doc, "User", &me);
        let (s, chat) = app.call("POST", "/api/v1/chat/conversations", None, Some(json!({"body": "hi"}))).await;
        assert_eq!(s, 201, "{chat}");
        fits(&doc, "ChatStarted", &chat);
        let (_, chat_settings) = app.get("/api/v1/chat/settings").await;
        fits(&doc, "ChatSettings", &chat_settings);
        let (_, teams) = app.get("/api/v1/teams").await;
        fits(&doc, "Team", &teams[0]);
        let (_, categories) = app.get("/api/v1/categories").await;
        fits(&doc, "CategoryInfo", &categories[0]);
        let (_, prefs) = app.get("/api/v1/me/preferences").await;
        fits(&doc, "Preferences", &prefs);
        let (_, health) = app.call("GET", "/healthz", None, None).await;
        fits(&doc, "Health", &health);
        let (s, err) = app.post("/api/v1/tickets", json!({"subject": "", "body": "x", "customer": {"email": "a@example.com"}})).await;
        assert_eq!(s, 422, "{err}");
        fits(&doc, "ErrorBody", &err);
        fits(&doc, "ErrorDetail", &err["error"]);

        let (s, mailbox) = app
            .post(
                "/api/v1/mailboxes",
                json!({"address": "help@example.com", "name": "Help",
                       "imap": {"host": "127.0.0.1", "user": "help", "password": "secret"}}),
            )
            .await;
        assert_eq!(s, 201, "{mailbox}");
        fits(&doc, "MailboxView", &mailbox);
        fits(&doc, "FetchHealth", &mailbox["imap"]);

        let now = SystemClock.now();
        let job = NewJob {
            kind: "schema.check".into(),
            payload: json!({}),
            run_at: now,
            max_attempts: 1,
            idempotency_key: None,
        };
        app.db
            .write(op!(c => {
                    jobs::enqueue(c, job, now).await?;
                    stats::roll_up_day(c, now.day()).await
                }))
            .await
            .unwrap();
        let (_, list) = app.call("GET", "/api/v1/jobs", Some(&app.supervisor.token), None).await;
        fits(&doc, "Job", &list[0]);
        let (_, daily) = app.call("GET", "/api/v1/stats/daily?days=1", Some(&app.supervisor.token), None).await;
        fits(&doc, "DailyStat", &daily[0]);
        let (_, made) = app.post("/api/v1/tokens", json!({"name": "doc", "expires_in_days": 2})).await;
        fits(&doc, "NewToken", &made);
        let (_, tokens) = app.get("/api/v1/tokens").await;
        fits(&doc, "Token", &tokens[0]);
        app.stop().await;
    }
}
