//! The automations admin page (`/admin/automations`, supervisors): every rule with what
//! it does and how often it ran, a form to write one (conditions and actions as JSON, the
//! same as the API's), switching a rule on or off, and each rule's latest runs.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_domain::automation::action::PLACEHOLDERS;
use rapport_domain::automation::{Trigger, When};
use rapport_http::AppState;
use rapport_http::api::automations::AutomationRequest;
use rapport_store::automations::{self, Stored};
use rapport_store::op;
use serde::Deserialize;

use super::Done;
use crate::page::{MeView, page, require, store_error, write_then};
use crate::sessions::{CsrfForm, Me};

#[derive(Template)]
#[template(path = "admin_automations.html")]
struct AutomationsPage {
    me: MeView,
    notice: Option<String>,
    rules: Vec<RuleRow>,
    editing: Option<RuleRow>,
    runs: Vec<RunRow>,
    triggers: String,
    placeholders: String,
}

struct RuleRow {
    id: i64,
    name: String,
    enabled: bool,
    trigger: &'static str,
    events: String,
    conditions: String,
    actions: String,
    runs: i64,
    last_run: String,
}

struct RunRow {
    ticket_id: i64,
    ok: bool,
    detail: String,
    at: String,
}

fn row(s: Stored) -> RuleRow {
    let (trigger, events) = match &s.rule.when {
        When::Events(e) => (
            "event",
            e.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "),
        ),
        When::Time => ("time", String::new()),
    };
    let pretty = |v: serde_json::Result<String>| v.unwrap_or_default();
    RuleRow {
        id: s.id,
        name: s.rule.name,
        enabled: s.rule.enabled,
        trigger,
        events,
        conditions: pretty(serde_json::to_string_pretty(&s.rule.conditions)),
        actions: pretty(serde_json::to_string_pretty(&s.rule.actions)),
        runs: s.runs,
        last_run: s
            .last_run_at
            .map(utc_minute)
            .unwrap_or_else(|| "never".to_owned()),
    }
}

fn utc_minute(t: rapport_domain::Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M").to_string()
}

fn back(what: &str) -> Response {
    let q: String = form_urlencoded::byte_serialize(what.as_bytes()).collect();
    Redirect::to(&format!("/admin/automations?done={q}")).into_response()
}

async fn show(st: &AppState, me: &Me, notice: Option<String>, editing: Option<i64>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageAutomations) {
        return r;
    }
    let data = st
        .db
        .read(op!(c => {
            let rules = automations::list(c).await?;
            let runs = match editing {
                Some(id) => {
                    automations::get(c, id).await?;
                    automations::runs_of_rule(c, id, 50).await?
                }
                None => Vec::new(),
            };
            Ok((rules, runs))
        }))
        .await;
    let (rules, runs) = match data {
        Ok(d) => d,
        Err(e) => return store_error(e),
    };
    let rules: Vec<RuleRow> = rules.into_iter().map(row).collect();
    let editing = editing.and_then(|id| {
        rules.iter().find(|r| r.id == id).map(|r| RuleRow {
            id: r.id,
            name: r.name.clone(),
            enabled: r.enabled,
            trigger: r.trigger,
            events: r.events.clone(),
            conditions: r.conditions.clone(),
            actions: r.actions.clone(),
            runs: r.runs,
            last_run: r.last_run.clone(),
        })
    });
    page(&AutomationsPage {
        me: MeView::of(me, ""),
        notice,
        rules,
        editing,
        runs: runs
            .into_iter()
            .map(|r| RunRow {
                ticket_id: r.ticket_id,
                ok: r.ok,
                detail: if r.ok {
                    r.detail["done"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|d| d.as_str())
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .unwrap_or_default()
                } else {
                    r.detail["error"].as_str().unwrap_or_default().to_owned()
                },
                at: utc_minute(r.created_at),
            })
            .collect(),
        triggers: Trigger::ALL
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        placeholders: PLACEHOLDERS
            .iter()
            .map(|(p, _)| format!("{{{{{p}}}}}"))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The automations page.
pub async fn index(State(st): State<AppState>, me: Me, Query(q): Query<Done>) -> Response {
    show(&st, &me, q.done, None).await
}

/// One rule's form and runs.
pub async fn edit(State(st): State<AppState>, me: Me, Path(id): Path<i64>) -> Response {
    show(&st, &me, None, Some(id)).await
}

/// The rule form.
#[derive(Deserialize)]
pub struct RuleForm {
    name: String,
    trigger: String,
    #[serde(default)]
    events: String,
    #[serde(default)]
    conditions: String,
    #[serde(default)]
    actions: String,
    #[serde(default)]
    enabled: Option<String>,
}

impl RuleForm {
    fn rule(self) -> Result<rapport_domain::automation::Rule, rapport_domain::FieldError> {
        let list = |raw: &str,
                    field: &str|
         -> Result<Vec<serde_json::Value>, rapport_domain::FieldError> {
            if raw.trim().is_empty() {
                return Ok(Vec::new());
            }
            serde_json::from_str(raw).map_err(|e| {
                rapport_domain::FieldError::new(field, format!("is not a JSON list: {e}"))
            })
        };
        AutomationRequest {
            name: self.name,
            enabled: self.enabled.is_some(),
            trigger: self.trigger,
            events: self
                .events
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            conditions: list(&self.conditions, "conditions")?,
            actions: list(&self.actions, "actions")?,
        }
        .rule()
    }
}

/// Writes a new rule.
pub async fn create(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<RuleForm>,
) -> Response {
    save(&st, &me, None, f).await
}

/// Replaces a rule.
pub async fn update(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<RuleForm>,
) -> Response {
    save(&st, &me, Some(id), f).await
}

/// Keeps the form's rule: a new one (`id` none) or in place of rule `id`.
async fn save(st: &AppState, me: &Me, id: Option<i64>, f: RuleForm) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageAutomations) {
        return r;
    }
    let rule = match f.rule() {
        Ok(r) => r,
        Err(e) => return store_error(e.into()),
    };
    let now = st.now();
    write_then(
        st,
        op!(c => match id {
            Some(id) => automations::update(c, id, rule.clone(), now).await,
            None => automations::create(c, rule.clone(), now).await,
        }),
        |s| back(&format!("Saved the rule \u{201c}{}\u{201d}", s.rule.name)),
    )
    .await
}

/// Switches a rule on or off.
pub async fn toggle(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::sessions::NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageAutomations) {
        return r;
    }
    let now = st.now();
    write_then(
        &st,
        op!(c => {
            let s = automations::get(c, id).await?;
            automations::set_enabled(c, id, !s.rule.enabled, now).await
        }),
        |s| {
            back(&format!(
                "The rule \u{201c}{}\u{201d} is {}",
                s.rule.name,
                if s.rule.enabled { "on" } else { "off" }
            ))
        },
    )
    .await
}

/// Deletes a rule.
pub async fn delete(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<crate::sessions::NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageAutomations) {
        return r;
    }
    write_then(&st, op!(c => automations::delete(c, id).await), |()| {
        back("Deleted the rule")
    })
    .await
}
