//! Automation rules (supervisors): `GET`/`POST /api/v1/automations`,
//! `GET`/`PUT`/`DELETE /api/v1/automations/{id}`, the run log of a rule
//! (`GET /api/v1/automations/{id}/runs`) and of a ticket
//! (`GET /api/v1/tickets/{id}/automation-runs`), and a customer's check-in messages
//! (`GET`/`PUT /api/v1/customers/{id}/check-ins`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::automation::{Action, Condition, Rule, Trigger, When};
use rapport_domain::{FieldError, Permission, Timestamp};
use rapport_store::automations::{self, Run, Stored};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use serde_json::Value as JsonValue;
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// An automation rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Automation)]
pub struct AutomationView {
    /// Its id (rules run in id order).
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Whether it runs.
    pub enabled: bool,
    /// `event` (runs on the `events`) or `time` (runs once when a ticket crosses the
    /// mark of its `hours_… at_least N` condition).
    pub trigger: &'static str,
    /// For an event rule: `ticket.created`, `ticket.updated`, `customer.replied`,
    /// `agent.replied`, `note.created`, `sla.warning`, `sla.breached`, `promise.due`,
    /// `promise.broken`, `snooze.ended`.
    pub events: Vec<&'static str>,
    /// `{field, op, value}` — all must hold.
    #[schema(value_type = Vec<Object>)]
    pub conditions: Vec<JsonValue>,
    /// `{type, …}` — done in order, all or none.
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<JsonValue>,
    /// How many times it ran.
    pub runs: i64,
    /// When it last ran.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_run_at: Option<Timestamp>,
    /// When it was written.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<Stored> for AutomationView {
    fn from(s: Stored) -> Self {
        let (trigger, events) = match &s.rule.when {
            When::Events(e) => ("event", e.iter().map(|t| t.as_str()).collect()),
            When::Time => ("time", Vec::new()),
        };
        Self {
            id: s.id,
            name: s.rule.name,
            enabled: s.rule.enabled,
            trigger,
            events,
            conditions: s
                .rule
                .conditions
                .iter()
                .filter_map(|c| serde_json::to_value(c).ok())
                .collect(),
            actions: s
                .rule
                .actions
                .iter()
                .filter_map(|a| serde_json::to_value(a).ok())
                .collect(),
            runs: s.runs,
            last_run_at: s.last_run_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

fn yes() -> bool {
    true
}

/// `POST /api/v1/automations` and `PUT /api/v1/automations/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationRequest {
    /// 1–120 characters.
    pub name: String,
    /// Whether it runs (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `event` or `time`.
    pub trigger: String,
    /// An event rule's events (at least one).
    #[serde(default)]
    pub events: Vec<String>,
    /// Up to 30 `{field, op, value}`. Fields: `status`, `priority`, `category`,
    /// `channel`, `team_id`, `assignee_id`, `organization_id`, `tags`, `subject`,
    /// `customer_email`, `customer_tier`, `customer_check_ins`, `hours_since_created`,
    /// `hours_since_updated`, `hours_in_status`, `hours_since_solved`, `field.<key>`.
    /// Ops: `is`, `is_not`, `in`, `not_in`, `contains`, `not_contains`, `at_least`,
    /// `at_most`, `set`, `not_set`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub conditions: Vec<JsonValue>,
    /// 1–20 `{type, …}`: `set_status {status}`, `set_priority {priority}`,
    /// `set_category {category}`, `set_team {team_id}`, `assign {assignee_id}`, `route`,
    /// `add_tags {tags}`, `remove_tags {tags}`, `note {text}`, `reply {text}`,
    /// `notify {to: [assignee|supervisors], text}`, `webhook {webhook_id}`. Texts may use
    /// `{{ticket.number}}`, `{{ticket.subject}}`, `{{customer.name}}`, `{{agent.name}}`,
    /// `{{rule.name}}`.
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<JsonValue>,
}

/// Reads one part of a rule, naming the exact field at fault (`actions[1].text`). An
/// action's fields are read after its `type`, where serde no longer knows the path; a
/// domain error there still says its field (`text: unknown placeholder …`), and that
/// field is named when the action has it.
fn part<T: serde::de::DeserializeOwned>(
    list: &str,
    i: usize,
    v: JsonValue,
) -> Result<T, FieldError> {
    let keys: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    serde_path_to_error::deserialize::<_, T>(v).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        if path != "." && !path.is_empty() {
            return FieldError::new(format!("{list}[{i}].{path}"), message);
        }
        let named = keys.iter().find_map(|k| {
            message
                .strip_prefix(k.as_str())
                .and_then(|rest| rest.strip_prefix(": "))
                .map(|rest| (k, rest.to_owned()))
        });
        match named {
            Some((k, rest)) => FieldError::new(format!("{list}[{i}].{k}"), rest),
            None => FieldError::new(format!("{list}[{i}]"), message),
        }
    })
}

impl AutomationRequest {
    /// The rule as written, checked (errors name the field: `actions[1].priority`).
    pub fn rule(self) -> Result<Rule, FieldError> {
        let when = match self.trigger.trim() {
            "event" => When::Events(
                self.events
                    .iter()
                    .enumerate()
                    .map(|(i, e)| Trigger::parse(e, &format!("events[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            "time" if self.events.is_empty() => When::Time,
            "time" => {
                return Err(FieldError::new(
                    "events",
                    "a time rule runs on no events; leave events out",
                ));
            }
            _ => return Err(FieldError::new("trigger", "must be event or time")),
        };
        let conditions = self
            .conditions
            .into_iter()
            .enumerate()
            .map(|(i, v)| part::<Condition>("conditions", i, v))
            .collect::<Result<_, _>>()?;
        let actions = self
            .actions
            .into_iter()
            .enumerate()
            .map(|(i, v)| part::<Action>("actions", i, v))
            .collect::<Result<_, _>>()?;
        Rule {
            name: self.name,
            enabled: self.enabled,
            when,
            conditions,
            actions,
        }
        .check()
    }
}

/// Every rule, in the order they run.
#[utoipa::path(get, path = "/api/v1/automations", tag = "automations",
    responses((status = 200, body = Vec<AutomationView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_automations(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<AutomationView>>> {
    require(&viewer, Permission::ManageAutomations)?;
    let all = st.db.read(op!(c => automations::list(c).await)).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Writes a rule. It runs from now on; a time rule also goes through the tickets that
/// crossed its mark before.
#[utoipa::path(post, path = "/api/v1/automations", tag = "automations",
    request_body = AutomationRequest,
    responses((status = 201, body = AutomationView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_automation(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<AutomationRequest>,
) -> ApiResult<(StatusCode, Json<AutomationView>)> {
    require(&viewer, Permission::ManageAutomations)?;
    let rule = req.rule()?;
    let now = st.now();
    let s = st
        .db
        .write(op!(c => automations::create(c, rule.clone(), now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

/// One rule.
#[utoipa::path(get, path = "/api/v1/automations/{id}", tag = "automations",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 200, body = AutomationView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_automation(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AutomationView>> {
    require(&viewer, Permission::ManageAutomations)?;
    let s = st.db.read(op!(c => automations::get(c, id).await)).await?;
    Ok(Json(s.into()))
}

/// Replaces a rule (a time rule goes through the tickets again; one it already ran on
/// since its mark is not done twice).
#[utoipa::path(put, path = "/api/v1/automations/{id}", tag = "automations",
    params(("id" = i64, Path, description = "Rule id")),
    request_body = AutomationRequest,
    responses((status = 200, body = AutomationView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_automation(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<AutomationRequest>,
) -> ApiResult<Json<AutomationView>> {
    require(&viewer, Permission::ManageAutomations)?;
    let rule = req.rule()?;
    let now = st.now();
    let s = st
        .db
        .write(op!(c => automations::update(c, id, rule.clone(), now).await))
        .await?;
    Ok(Json(s.into()))
}

/// Deletes a rule (its runs stay in the log).
#[utoipa::path(delete, path = "/api/v1/automations/{id}", tag = "automations",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_automation(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    require(&viewer, Permission::ManageAutomations)?;
    st.db
        .write(op!(c => automations::delete(c, id).await))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One run of a rule on a ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AutomationRun)]
pub struct RunView {
    /// The log entry.
    pub id: i64,
    /// The rule (it may have been deleted since).
    pub rule_id: i64,
    /// The rule's name then.
    pub rule_name: String,
    /// The ticket.
    pub ticket_id: i64,
    /// The event that set it off (null for a time rule).
    pub event_id: Option<i64>,
    /// Whether every action was done (a failure takes them all back).
    pub ok: bool,
    /// `{done: [...]}` in words, or `{error}`.
    #[schema(value_type = Object)]
    pub detail: JsonValue,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Run> for RunView {
    fn from(r: Run) -> Self {
        Self {
            id: r.id,
            rule_id: r.rule_id,
            rule_name: r.rule_name,
            ticket_id: r.ticket_id,
            event_id: r.event_id,
            ok: r.ok,
            detail: r.detail,
            created_at: r.created_at,
        }
    }
}

/// A rule's latest 100 runs, newest first.
#[utoipa::path(get, path = "/api/v1/automations/{id}/runs", tag = "automations",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 200, body = Vec<RunView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn automation_runs(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<RunView>>> {
    require(&viewer, Permission::ManageAutomations)?;
    let runs = st
        .db
        .read(op!(c => {
            automations::get(c, id).await?;
            automations::runs_of_rule(c, id, 100).await
        }))
        .await?;
    Ok(Json(runs.into_iter().map(Into::into).collect()))
}

/// The rules that ran on a ticket, oldest first.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/automation-runs", tag = "automations",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = Vec<RunView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ticket_automation_runs(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<RunView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let runs = st
        .db
        .read(op!(c => automations::runs_on_ticket(c, &viewer, id).await))
        .await?;
    Ok(Json(runs.into_iter().map(Into::into).collect()))
}

/// Whether a customer gets check-in messages after a solved ticket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIns {
    /// On unless the customer asked for none.
    pub enabled: bool,
}

/// Whether a customer gets check-in messages.
#[utoipa::path(get, path = "/api/v1/customers/{id}/check-ins", tag = "automations",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CheckIns), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_check_ins(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CheckIns>> {
    require(&viewer, Permission::ReadCustomers)?;
    let enabled = st
        .db
        .read(op!(c => automations::check_ins(c, id).await))
        .await?;
    Ok(Json(CheckIns { enabled }))
}

/// Turns a customer's check-in messages off (on their request) or on again.
#[utoipa::path(put, path = "/api/v1/customers/{id}/check-ins", tag = "automations",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = CheckIns,
    responses((status = 200, body = CheckIns), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_check_ins(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<CheckIns>,
) -> ApiResult<Json<CheckIns>> {
    require(&viewer, Permission::WorkTickets)?;
    st.db
        .write(op!(c => automations::set_check_ins(c, id, req.enabled).await))
        .await?;
    Ok(Json(req))
}
