//! The webhooks admin page (`/admin/webhooks`, admins): every receiver with its events
//! and state, its latest deliveries (status and answer), adding one (its signing secret
//! shown once), switching one on or off, deleting one. The same checks as the API's.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_domain::webhook::{WebhookEvent, WebhookSecret};
use rapport_http::api::webhooks::{check_events, check_url};
use rapport_http::{ApiError, AppState};
use rapport_store::op;
use rapport_store::webhooks::{self, WebhookPatch};
use serde::Deserialize;

use super::Done;
use crate::page::{MeView, error_page, page, require, store_error, write_then};
use crate::sessions::{CsrfForm, Me, NoFields};

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage {
    me: MeView,
    notice: Option<String>,
    secret: Option<String>,
    hooks: Vec<HookRow>,
    events: String,
    allow_private: bool,
}

struct HookRow {
    id: i64,
    url: String,
    events: String,
    active: bool,
    disabled_reason: String,
    deliveries: Vec<DeliveryRow>,
}

struct DeliveryRow {
    at: String,
    event: String,
    attempt: i64,
    outcome: String,
}

async fn show(st: &AppState, me: &Me, notice: Option<String>, secret: Option<String>) -> Response {
    let data = st
        .db
        .read(op!(c => {
            let mut out = Vec::new();
            for w in webhooks::list(c).await? {
                let d = webhooks::deliveries(c, w.id, 10).await?;
                out.push((w, d));
            }
            Ok((out, rapport_store::settings::webhooks_allow_private(c).await?))
        }))
        .await;
    let (hooks, allow_private) = match data {
        Ok(d) => d,
        Err(e) => return store_error(e),
    };
    page(&WebhooksPage {
        me: MeView::of(me, ""),
        notice,
        secret,
        hooks: hooks
            .into_iter()
            .map(|(w, ds)| HookRow {
                id: w.id,
                url: w.url,
                events: w
                    .events
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                active: w.active,
                disabled_reason: w.disabled_reason.unwrap_or_default(),
                deliveries: ds
                    .into_iter()
                    .map(|d| DeliveryRow {
                        at: d
                            .created_at
                            .to_datetime()
                            .format("%Y-%m-%d %H:%M:%S")
                            .to_string(),
                        event: d.event_type,
                        attempt: d.attempt,
                        outcome: match (d.status_code, d.error) {
                            (Some(code), _) => format!("HTTP {code}"),
                            (None, Some(e)) => e,
                            (None, None) => "no answer".to_owned(),
                        },
                    })
                    .collect(),
            })
            .collect(),
        events: WebhookEvent::ALL
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        allow_private,
    })
}

/// The shared settings' form.
#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    allow_private: Option<String>,
}

/// Lets webhooks go to private addresses, or not.
pub async fn settings(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<SettingsForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageWebhooks) {
        return r;
    }
    let on = f.allow_private.is_some();
    write_then(
        &st,
        op!(c => rapport_store::settings::set_webhooks_allow_private(c, on).await),
        move |()| {
            back(if on {
                "Webhooks may now go to private and local addresses"
            } else {
                "Webhooks go to public addresses only"
            })
        },
    )
    .await
}

fn back(what: &str) -> Response {
    let q: String = form_urlencoded::byte_serialize(what.as_bytes()).collect();
    Redirect::to(&format!("/admin/webhooks?done={q}")).into_response()
}

fn refused(e: &ApiError) -> Response {
    error_page(e.status(), "Please check your input", e.message())
}

/// The webhooks page.
pub async fn index(State(st): State<AppState>, me: Me, Query(q): Query<Done>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageWebhooks) {
        return r;
    }
    show(&st, &me, q.done, None).await
}

/// The new-webhook form.
#[derive(Deserialize)]
pub struct WebhookForm {
    url: String,
    events: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    stripe_signature: Option<String>,
}

/// Adds a webhook; the page that answers shows a secret Rapport made, once.
pub async fn create(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<WebhookForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageWebhooks) {
        return r;
    }
    let events: Vec<String> = f
        .events
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let checked = check_url(&f.url).and_then(|u| Ok((u, check_events(&events)?)));
    let (url, events) = match checked {
        Ok(x) => x,
        Err(e) => return refused(&e),
    };
    let (secret, made) = if f.secret.trim().is_empty() {
        (rapport_store::secrets::new_webhook_secret(), true)
    } else {
        match WebhookSecret::parse(f.secret.trim(), "secret") {
            Ok(s) => (s, false),
            Err(e) => return store_error(e.into()),
        }
    };
    let now = st.now();
    let sealer = st.sealer.clone();
    let by = me.session.viewer.user_id;
    let stripe = f.stripe_signature.is_some();
    let written = secret.written();
    let done = st
        .db
        .write(op!(c => {
            let w = webhooks::create(c, &sealer, &url, &events, &secret, by, now).await?;
            if stripe {
                let on = WebhookPatch {
                    stripe_header: Some(true),
                    ..WebhookPatch::default()
                };
                webhooks::update(c, &sealer, w.id, on, now).await?;
            }
            Ok(w)
        }))
        .await;
    match done {
        Ok(w) => {
            let notice = format!("Added the webhook to {}", w.url);
            show(&st, &me, Some(notice), made.then_some(written)).await
        }
        Err(e) => store_error(e),
    }
}

/// Switches a webhook on or off (on again after it was turned off for failing).
pub async fn toggle(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageWebhooks) {
        return r;
    }
    let now = st.now();
    let sealer = st.sealer.clone();
    write_then(
        &st,
        op!(c => {
            let w = webhooks::get(c, id).await?;
            let p = WebhookPatch {
                active: Some(!w.active),
                ..WebhookPatch::default()
            };
            webhooks::update(c, &sealer, id, p, now).await
        }),
        |w| {
            back(&format!(
                "The webhook to {} is {}",
                w.url,
                if w.active { "on" } else { "off" }
            ))
        },
    )
    .await
}

/// Deletes a webhook.
pub async fn delete(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageWebhooks) {
        return r;
    }
    write_then(&st, op!(c => webhooks::delete(c, id).await), |()| {
        back("Deleted the webhook")
    })
    .await
}
