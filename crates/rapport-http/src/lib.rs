//! Rapport's HTTP edge. [`api_router`] holds the JSON API under `/api/v1`, its generated
//! OpenAPI document and the health check; [`serve`] wraps a router (the API merged with
//! the pages of `rapport-web`) in what every request passes: the fallback 404, tracing, a
//! timeout, panic recovery, a body size limit and security headers. This crate also holds
//! what the API and the pages share: the state, authentication and [`auth::require`], the
//! one error mapping, the rate limiter, the extractors and the live feed.
//! It parses and authorises; it holds no business rules of its own.

pub mod api;
pub mod article_views;
pub mod auth;
pub mod client;
pub mod cookies;
pub mod csp;
pub mod error;
pub mod extract;
pub mod limit;
pub mod live;
pub mod password_check;
pub mod reader;
pub mod rendered;
pub mod state;
pub mod throttle;
pub mod visitor;

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, SessionPolicy};

/// The largest request body accepted: enough for a message with 25 MiB of attachments
/// in base64.
pub const MAX_BODY_BYTES: usize = 40 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Rapport API", description = "The help desk's JSON API. Authenticate with 'Authorization: Bearer <token>' (create one with 'rapport token create')."),
    modifiers(&BearerAuth),
    components(schemas(error::ErrorBody, error::ErrorDetail))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn routes() -> OpenApiRouter<AppState> {
    use api::{
        attachments, categories, chat, community, customers, health, jobs, kb, mailboxes, metrics,
        people, portal_links, preferences, search, stats, tickets, tokens,
    };
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(tickets::create_ticket, tickets::list_tickets))
        .routes(routes!(tickets::get_ticket, tickets::patch_ticket))
        .routes(routes!(tickets::create_message, tickets::list_messages))
        .routes(routes!(tickets::list_events))
        .routes(routes!(tickets::merge_ticket))
        .routes(routes!(portal_links::revoke_portal_link))
        .routes(routes!(
            customers::get_customer,
            api::crm::profile::patch_customer
        ))
        .routes(routes!(api::crm::profile::upcoming_dates))
        .routes(routes!(api::crm::timeline::customer_timeline))
        .routes(routes!(api::crm::card::customer_card))
        .routes(routes!(api::crm::merge::merge_customer))
        .routes(routes!(api::crm::import::import_customers))
        .routes(routes!(api::crm::import::import_organizations))
        .routes(routes!(api::crm::privacy::export_customer))
        .routes(routes!(api::crm::privacy::erase_customer))
        .routes(routes!(
            api::crm::organizations::list_organizations,
            api::crm::organizations::create_organization
        ))
        .routes(routes!(
            api::crm::organizations::get_organization,
            api::crm::organizations::patch_organization
        ))
        .routes(routes!(api::crm::organizations::list_members))
        .routes(routes!(
            api::crm::organizations::add_member,
            api::crm::organizations::remove_member
        ))
        .routes(routes!(
            api::crm::attributes::list_attributes,
            api::crm::attributes::create_attribute
        ))
        .routes(routes!(api::crm::attributes::delete_attribute))
        .routes(routes!(
            api::crm::segments::list_segments,
            api::crm::segments::create_segment
        ))
        .routes(routes!(
            api::crm::segments::get_segment,
            api::crm::segments::delete_segment
        ))
        .routes(routes!(api::crm::segments::segment_customers))
        .routes(routes!(api::commerce::push_order))
        .routes(routes!(api::commerce::push_orders))
        .routes(routes!(api::commerce::import::import_orders))
        .routes(routes!(api::commerce::get_order))
        .routes(routes!(api::commerce::customer_orders))
        .routes(routes!(
            api::commerce::link_order,
            api::commerce::ticket_orders
        ))
        .routes(routes!(api::commerce::billing::push_invoice))
        .routes(routes!(api::commerce::billing::push_payment))
        .routes(routes!(api::commerce::billing::customer_billing))
        .routes(routes!(
            api::commerce::billing::issue_refund,
            api::commerce::billing::list_refunds
        ))
        .routes(routes!(api::commerce::billing::refund_done))
        .routes(routes!(api::commerce::products::product_report))
        .routes(routes!(api::commerce::returns::request_return))
        .routes(routes!(api::commerce::returns::move_return))
        .routes(routes!(api::commerce::returns::get_return))
        .routes(routes!(api::commerce::returns::customer_returns))
        .routes(routes!(api::loyalty::issue_voucher))
        .routes(routes!(api::loyalty::redeem_voucher))
        .routes(routes!(api::loyalty::customer_vouchers))
        .routes(routes!(
            api::loyalty::points::customer_points,
            api::loyalty::points::give_points
        ))
        .routes(routes!(api::loyalty::points::redeem_points))
        .routes(routes!(api::loyalty::approvals::list_approvals))
        .routes(routes!(api::loyalty::approvals::approve))
        .routes(routes!(api::loyalty::approvals::decline))
        .routes(routes!(
            api::loyalty::limits::get_limits,
            api::loyalty::limits::put_limits
        ))
        .routes(routes!(api::loyalty::limits::goodwill_report))
        .routes(routes!(
            api::loyalty::limits::get_settings,
            api::loyalty::limits::put_settings
        ))
        .routes(routes!(api::sentiment::customer_mood))
        .routes(routes!(api::surveys::ticket_survey))
        .routes(routes!(api::reports::summary))
        .routes(routes!(api::reports::dashboard::get))
        .routes(routes!(api::reports::themes::get))
        .routes(routes!(
            api::surveys::get_customer_surveys,
            api::surveys::put_customer_surveys
        ))
        .routes(routes!(
            api::surveys::get_survey_settings,
            api::surveys::put_survey_settings
        ))
        .routes(routes!(search::search))
        .routes(routes!(attachments::get_attachment))
        .routes(routes!(people::me))
        .routes(routes!(people::change_password))
        .routes(routes!(
            preferences::get_preferences,
            preferences::put_preferences
        ))
        .routes(routes!(people::list_users, people::create_user))
        .routes(routes!(people::patch_user))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(people::list_teams, people::create_team))
        .routes(routes!(people::add_member))
        .routes(routes!(
            categories::list_categories,
            categories::create_category
        ))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(stats::daily_stats))
        .routes(routes!(api::kb::reports::articles_report))
        .routes(routes!(api::kb::reports::article_comments))
        .routes(routes!(api::kb::reports::deflection_report))
        .routes(routes!(api::kb::reports::gaps_report))
        .routes(routes!(api::kb::reports::draft_from_gap))
        .routes(routes!(
            mailboxes::create_mailbox,
            mailboxes::list_mailboxes
        ))
        .routes(routes!(mailboxes::patch_mailbox))
        .routes(routes!(metrics::metrics))
        .routes(routes!(
            kb::articles::create_article,
            kb::articles::list_articles
        ))
        .routes(routes!(
            kb::articles::get_article,
            kb::articles::patch_article,
            kb::articles::delete_article
        ))
        .routes(routes!(kb::articles::list_versions))
        .routes(routes!(kb::articles::get_version))
        .routes(routes!(kb::articles::restore_version))
        .routes(routes!(
            kb::categories::list_kb_categories,
            kb::categories::create_kb_category
        ))
        .routes(routes!(
            kb::categories::patch_kb_category,
            kb::categories::delete_kb_category
        ))
        .routes(routes!(kb::search::search))
        .routes(routes!(kb::search::suggest))
        .routes(routes!(
            kb::synonyms::list_synonyms,
            kb::synonyms::create_synonyms
        ))
        .routes(routes!(kb::synonyms::delete_synonyms))
        .routes(routes!(api::bot::ask))
        .routes(routes!(api::bot::report))
        .routes(routes!(community::list_topics))
        .routes(routes!(community::get_topic))
        .routes(routes!(community::suggest))
        .routes(routes!(community::moderation::moderate_post))
        .routes(routes!(community::moderation::lock_topic))
        .routes(routes!(community::moderation::queue))
        .routes(routes!(community::moderation::topic_to_ticket))
        .routes(routes!(community::moderation::topic_to_article))
        .routes(routes!(chat::start_conversation))
        .routes(routes!(chat::get_settings, chat::put_settings))
        .routes(routes!(chat::history::history))
        .routes(routes!(chat::files::get_file))
        .routes(routes!(
            chat::agents::get_availability,
            chat::agents::put_availability
        ))
        .routes(routes!(chat::agents::transfer))
        .routes(routes!(
            api::sla::policies::list_policies,
            api::sla::policies::create_policy
        ))
        .routes(routes!(
            api::sla::policies::get_policy,
            api::sla::policies::put_policy,
            api::sla::policies::delete_policy
        ))
        .routes(routes!(
            api::sla::calendars::list_calendars,
            api::sla::calendars::create_calendar
        ))
        .routes(routes!(
            api::webhooks::create_webhook,
            api::webhooks::list_webhooks
        ))
        .routes(routes!(
            api::webhooks::get_webhook,
            api::webhooks::patch_webhook,
            api::webhooks::delete_webhook
        ))
        .routes(routes!(api::webhooks::list_deliveries))
        .routes(routes!(
            api::webhooks::get_webhook_settings,
            api::webhooks::put_webhook_settings
        ))
        .routes(routes!(
            api::promises::make_promise,
            api::promises::list_promises
        ))
        .routes(routes!(api::promises::promise_done))
        .routes(routes!(api::promises::promise_report))
        .routes(routes!(
            api::routing::get_team_routing,
            api::routing::put_team_routing
        ))
        .routes(routes!(
            api::routing::get_agent_routing,
            api::routing::patch_agent_routing
        ))
        .routes(routes!(api::routing::transfer, api::routing::last_transfer))
        .routes(routes!(
            api::automations::list_automations,
            api::automations::create_automation
        ))
        .routes(routes!(
            api::automations::get_automation,
            api::automations::put_automation,
            api::automations::delete_automation
        ))
        .routes(routes!(api::automations::automation_runs))
        .routes(routes!(api::automations::ticket_automation_runs))
        .routes(routes!(
            api::automations::get_check_ins,
            api::automations::put_check_ins
        ))
        .routes(routes!(
            api::classify::get_classifier,
            api::classify::put_classifier
        ))
        .routes(routes!(api::classify::retrain))
        .routes(routes!(
            api::snooze::snooze_ticket,
            api::snooze::get_snooze,
            api::snooze::wake_ticket
        ))
        .routes(routes!(
            api::sla::calendars::get_calendar,
            api::sla::calendars::put_calendar,
            api::sla::calendars::delete_calendar
        ))
}

/// The OpenAPI document, generated from the handlers' annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not accept that method",
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server failed; the request was not applied",
    )
    .into_response()
}

/// The JSON API's routes, with `/api/v1/openapi.json`, before state and middleware.
pub fn api_router() -> Router<AppState> {
    let (router, doc) = routes().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router
        .route("/api/v1/chat/ws", get(api::chat::ws::chat_ws))
        // A visitor's file: a larger body than the API's default, and no more.
        .route(
            "/api/v1/chat/files",
            axum::routing::post(api::chat::files::send_file)
                .options(|| async { StatusCode::NO_CONTENT })
                .layer(axum::extract::DefaultBodyLimit::max(
                    api::chat::files::MAX_UPLOAD_BYTES,
                )),
        )
        // The widget's preflight (answered by the CORS layer below; the route only makes
        // OPTIONS reach it instead of the 405 fallback).
        .route(
            "/api/v1/chat/conversations",
            axum::routing::options(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            "/api/v1/chat/history",
            axum::routing::options(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            "/api/v1/chat/files/{id}",
            axum::routing::options(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .layer(api::chat::cors())
}

/// The JSON API alone, ready to serve.
pub fn app(state: AppState) -> Router {
    serve(api_router(), state)
}

/// `router` (the API, merged with whatever else the binary mounts) ready to serve: the
/// JSON 404 and 405, the state, and the middleware every request passes.
pub fn serve(router: Router<AppState>, state: AppState) -> Router {
    // Over TLS, browsers are told to use nothing else for a year (HSTS); over plain HTTP
    // (local use) the header would be ignored and is not sent.
    let hsts = state
        .https
        .then(|| HeaderValue::from_static("max-age=31536000"));
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp::policy,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &axum::response::Response| hsts.clone(),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
}
