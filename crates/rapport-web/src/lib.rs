//! Rapport's browser side: the agent workspace, the admin pages and the customer portal,
//! server-rendered with askama templates checked at compile time, plus a little plain
//! JavaScript for live updates, presence and keyboard shortcuts. No Node at build time:
//! assets are compiled into the binary.
//!
//! One module per capability, named as in the store and the API (`tickets`, `search`,
//! `customers`, …). Pages share the API's state, permission check
//! ([`rapport_http::auth::require`]) and error mapping ([`rapport_http::error`]).

pub mod activity;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod bulk;
pub mod chat;
pub mod commerce;
pub mod community;
pub mod confirm;
pub mod crm;
pub mod customers;
pub mod help;
pub mod inbox;
pub mod kb;
pub mod live;
pub mod loyalty;
pub mod macros;
pub mod next;
pub mod page;
pub mod portal;
pub mod preferences;
pub mod presence;
pub mod promises;
pub mod render;
pub mod reports;
pub mod routing;
pub mod search;
pub mod segments;
pub mod sentiment;
pub mod sessions;
pub mod snooze;
pub mod split;
pub mod surveys;
pub mod tickets;
pub mod time_entries;

#[cfg(test)]
mod tests;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rapport_http::AppState;

pub use page::{error_page, page, store_error};
pub use sessions::{CsrfForm, Me, SESSION_COOKIE};

/// Every page and form of the browser side, to merge with the API's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/inbox") }))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/inbox", get(inbox::inbox))
        .route("/tickets/{id}", get(tickets::ticket))
        .route("/tickets/{id}/reply", post(tickets::reply))
        .route("/tickets/{id}/note", post(tickets::note))
        .route("/tickets/{id}/update", post(tickets::update))
        .route("/tickets/{id}/assign-me", post(tickets::assign_me))
        .route("/tickets/{id}/merge", post(tickets::merge))
        .route(
            "/tickets/{id}/portal-link/revoke",
            post(portal::revoke::revoke),
        )
        .route("/tickets/{id}/macro", post(macros::apply_macro))
        .route("/tickets/{id}/time", post(time_entries::log_time))
        .route("/tickets/{id}/promises", post(promises::make))
        .route("/tickets/{id}/snooze", post(snooze::snooze_ticket))
        .route("/tickets/{id}/wake", post(snooze::wake))
        .route("/promises/{id}/done", post(promises::done))
        .route("/tickets/{id}/orders", post(commerce::link))
        .route("/tickets/{id}/vouchers", post(loyalty::give_voucher))
        .route("/tickets/{id}/points", post(loyalty::give_points))
        .route("/approvals", get(loyalty::approvals_page))
        .route("/segments", get(segments::list))
        .route("/segments/{id}", get(segments::view))
        .route("/approvals/{id}/approve", post(loyalty::approve))
        .route("/approvals/{id}/decline", post(loyalty::decline))
        .route("/messages/{id}/split", post(split::split))
        .route("/admin/macros", post(admin::macros::add_macro))
        .route("/inbox/bulk", post(bulk::bulk))
        .route("/inbox/views", post(inbox::save_view))
        .route("/admin/fields", post(admin::fields::add_field))
        .route(
            "/preferences",
            get(preferences::preferences).post(preferences::save_preferences),
        )
        .route("/preferences/password", post(preferences::change_password))
        .route("/admin/mailboxes", post(admin::mailboxes::add_mailbox))
        .route(
            "/admin/mailboxes/{id}",
            post(admin::mailboxes::edit_mailbox),
        )
        .route("/forgot", get(auth::forgot))
        .route("/tickets/{id}/presence", post(presence::presence))
        .route("/search", get(search::search))
        .route("/admin", get(admin::index))
        .route("/admin/users", post(admin::people::add_user))
        .route("/admin/users/{id}/active", post(admin::people::set_active))
        .route("/admin/users/{id}/role", post(admin::people::set_role))
        .route(
            "/admin/users/{id}/password",
            post(admin::people::reset_password),
        )
        .route(
            "/admin/tokens/{id}/revoke",
            post(admin::people::revoke_token),
        )
        .route("/admin/teams", post(admin::people::add_team))
        .route(
            "/admin/automations",
            get(admin::automations::index).post(admin::automations::create),
        )
        .route(
            "/admin/automations/{id}",
            get(admin::automations::edit).post(admin::automations::update),
        )
        .route(
            "/admin/automations/{id}/toggle",
            post(admin::automations::toggle),
        )
        .route(
            "/admin/automations/{id}/delete",
            post(admin::automations::delete),
        )
        .route("/admin/classifier", get(admin::classify::index))
        .route(
            "/admin/classifier/threshold",
            post(admin::classify::set_threshold),
        )
        .route("/admin/classifier/retrain", post(admin::classify::retrain))
        .route("/admin/sla", get(admin::sla::index))
        .route("/admin/sla/policies", post(admin::sla::create_policy))
        .route("/admin/sla/policies/{id}", post(admin::sla::update_policy))
        .route(
            "/admin/sla/policies/{id}/delete",
            post(admin::sla::delete_policy),
        )
        .route("/admin/sla/calendars", post(admin::sla::create_calendar))
        .route(
            "/admin/sla/calendars/{id}/delete",
            post(admin::sla::delete_calendar),
        )
        .route(
            "/admin/webhooks",
            get(admin::webhooks::index).post(admin::webhooks::create),
        )
        .route("/admin/webhooks/settings", post(admin::webhooks::settings))
        .route("/admin/webhooks/{id}/toggle", post(admin::webhooks::toggle))
        .route("/admin/webhooks/{id}/delete", post(admin::webhooks::delete))
        .route("/admin/routing", get(admin::routing::index))
        .route("/admin/routing/teams/{id}", post(admin::routing::set_team))
        .route(
            "/admin/routing/agents/{id}",
            post(admin::routing::set_agent),
        )
        .route("/admin/members", post(admin::people::add_member))
        .route("/admin/categories", post(admin::categories::add_category))
        .route("/customers/{id}", get(customers::customer))
        .route("/customers/{id}/check-ins", post(customers::set_check_ins))
        .route("/live", get(live::live))
        .route("/attachments/{id}", get(attachments::attachment))
        .route("/widget.js", get(chat::widget_js))
        .route("/chat/status", post(chat::set_status))
        .route("/tickets/{id}/transfer", post(routing::transfer))
        .route("/portal", get(|| async { Redirect::to("/portal/new") }))
        .route(
            "/portal/new",
            get(portal::requests::new_form).post(portal::requests::submit),
        )
        .route(
            "/portal/signin",
            get(portal::signin::signin_form).post(portal::signin::signin_request),
        )
        .route(
            "/portal/signin/{token}",
            get(portal::signin::signin_link).post(portal::signin::signin_confirm),
        )
        .route("/portal/requests", get(portal::signin::my_requests))
        .route("/portal/account", get(portal::account::account))
        .route(
            "/portal/orders/{id}/returns",
            post(portal::account::request_return),
        )
        .route("/portal/signout", post(portal::signin::signout))
        .route(
            "/portal/requests/{id}",
            get(portal::requests::view).post(portal::requests::reply),
        )
        .route("/survey/{token}", get(surveys::show).post(surveys::answer))
        .route(
            "/survey/{token}/opt-out",
            get(surveys::opt_out_form).post(surveys::opt_out),
        )
        .route("/help", get(help::home::home))
        .route("/help/categories/{slug}", get(help::categories::category))
        .route("/help/articles/{slug}", get(help::articles::article))
        .route("/help/search", get(help::search::search))
        .route(
            "/help/articles/{slug}/feedback",
            post(help::feedback::submit),
        )
        .route("/help/brand.css", get(help::branding::css))
        .route("/help/logo", get(help::branding::logo))
        .route(
            "/admin/branding",
            get(help::branding::form).post(help::branding::save),
        )
        .route("/sitemap.xml", get(help::seo::sitemap))
        .route("/robots.txt", get(help::seo::robots))
        .route("/assets/help.css", get(help_css))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        .merge(community::routes())
        .merge(kb_routes())
        .route("/assets/deflection.js", get(deflection_js))
        .route("/reports", get(reports::dashboard_page))
        .route("/reports/export.csv", get(reports::export))
        .route("/reports/themes", get(reports::themes::themes_page))
        .route("/reports/kb", get(kb::reports::reports_page))
        .route("/reports/kb/articles/{id}", get(kb::reports::comments_page))
        .route("/reports/kb/gaps/draft", post(kb::reports::draft))
        .route(
            "/portal/deflection/{token}/shown",
            post(portal::deflection::shown),
        )
        .route(
            "/portal/deflection/{token}/opened",
            post(portal::deflection::opened),
        )
        .route(
            "/portal/deflection/{token}/searched",
            post(portal::deflection::searched),
        )
}

async fn deflection_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../assets/deflection.js"),
    )
}

/// The knowledge base's workspace pages.
fn kb_routes() -> Router<AppState> {
    Router::new()
        .route("/kb", get(kb::articles))
        .route("/kb/lookup", get(kb::lookup))
        .route(
            "/kb/categories",
            get(kb::categories::list).post(kb::categories::create),
        )
        .route("/kb/categories/{id}", post(kb::categories::save))
        .route("/kb/categories/{id}/delete", post(kb::categories::delete))
        .route(
            "/kb/new",
            get(kb::editor::new_form).post(kb::editor::create),
        )
        .route("/kb/preview", post(kb::editor::preview))
        .route("/kb/from-reply", post(kb::editor::from_reply))
        .route(
            "/kb/articles/{id}/edit",
            get(kb::editor::edit_form).post(kb::editor::save),
        )
        .route("/kb/articles/{id}/delete", post(kb::editor::delete))
        .route("/kb/articles/{id}/history", get(kb::history::history))
        .route("/kb/articles/{id}/restore", post(kb::history::restore))
        .route("/assets/kb.js", get(kb_js))
}

async fn kb_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../assets/kb.js"),
    )
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", include_str!("../assets/app.css"))
}

async fn help_css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../assets/help.css"),
    )
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    )
}

pub(crate) fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
