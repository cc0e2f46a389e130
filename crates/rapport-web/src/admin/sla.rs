//! The SLA admin page (`/admin/sla`, supervisors): the policies in the order they are
//! tried (add, change, delete) and the business-hours calendars they measure in (add,
//! delete). The same checks as the API's (`rapport_http::api::sla`).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_http::api::sla::calendars::{CalendarRequest, CalendarView};
use rapport_http::api::sla::policies::{ConditionsView, PolicyRequest, PolicyView, TargetsView};
use rapport_http::{ApiError, AppState};
use rapport_store::op;
use rapport_store::sla::{calendars, policies};
use serde::Deserialize;

use crate::page::{MeView, error_page, page, require, store_error, write_then};
use crate::sessions::{CsrfForm, Me, NoFields};

#[derive(Template)]
#[template(path = "admin_sla.html")]
struct SlaPage {
    me: MeView,
    notice: Option<String>,
    policies: Vec<PolicyRow>,
    calendars: Vec<CalendarRow>,
    editing: Option<PolicyRow>,
}

struct PolicyRow {
    id: i64,
    name: String,
    position: i64,
    enabled: bool,
    priorities: String,
    categories: String,
    channels: String,
    tiers: String,
    organizations: String,
    first: String,
    next: String,
    resolution: String,
    calendar_id: Option<i64>,
    calendar: String,
}

struct CalendarRow {
    id: i64,
    name: String,
    time_zone: String,
    hours: String,
    holidays: String,
}

/// `?done=` and `?edit=`.
#[derive(Deserialize)]
pub struct SlaQuery {
    done: Option<String>,
    edit: Option<i64>,
}

fn back(what: &str) -> Response {
    let q: String = form_urlencoded::byte_serialize(what.as_bytes()).collect();
    Redirect::to(&format!("/admin/sla?done={q}")).into_response()
}

fn refused(e: &ApiError) -> Response {
    error_page(e.status(), "Please check your input", e.message())
}

fn minutes(m: Option<i64>) -> String {
    m.map(|m| m.to_string()).unwrap_or_default()
}

/// The SLA page.
pub async fn index(State(st): State<AppState>, me: Me, Query(q): Query<SlaQuery>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageSla) {
        return r;
    }
    let data = st
        .db
        .read(op!(c => Ok((policies::list(c).await?, calendars::list(c).await?))))
        .await;
    let (ps, cs) = match data {
        Ok(d) => d,
        Err(e) => return store_error(e),
    };
    let calendars: Vec<CalendarRow> = cs
        .into_iter()
        .map(|r| {
            let v = CalendarView::from(r);
            CalendarRow {
                id: v.id,
                name: v.name,
                time_zone: v.time_zone,
                hours: v
                    .hours
                    .iter()
                    .map(|(d, blocks)| format!("{d} {}", blocks.join(" ")))
                    .collect::<Vec<_>>()
                    .join("\n"),
                holidays: v.holidays.join(", "),
            }
        })
        .collect();
    let policies: Vec<PolicyRow> = ps
        .into_iter()
        .map(|p| {
            let v = PolicyView::from(p);
            let calendar = v
                .calendar_id
                .and_then(|id| calendars.iter().find(|c| c.id == id))
                .map_or_else(|| "calendar hours".to_owned(), |c| c.name.clone());
            PolicyRow {
                id: v.id,
                name: v.name,
                position: v.position,
                enabled: v.enabled,
                priorities: v.conditions.priorities.join(", "),
                categories: v.conditions.categories.join(", "),
                channels: v.conditions.channels.join(", "),
                tiers: v.conditions.tiers.join(", "),
                organizations: v
                    .conditions
                    .organizations
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                first: minutes(v.targets.first_response_minutes),
                next: minutes(v.targets.next_response_minutes),
                resolution: minutes(v.targets.resolution_minutes),
                calendar_id: v.calendar_id,
                calendar,
            }
        })
        .collect();
    let editing = q.edit.and_then(|id| {
        policies.iter().find(|p| p.id == id).map(|p| PolicyRow {
            id: p.id,
            name: p.name.clone(),
            position: p.position,
            enabled: p.enabled,
            priorities: p.priorities.clone(),
            categories: p.categories.clone(),
            channels: p.channels.clone(),
            tiers: p.tiers.clone(),
            organizations: p.organizations.clone(),
            first: p.first.clone(),
            next: p.next.clone(),
            resolution: p.resolution.clone(),
            calendar_id: p.calendar_id,
            calendar: p.calendar.clone(),
        })
    });
    page(&SlaPage {
        me: MeView::of(&me, ""),
        notice: q.done,
        policies,
        calendars,
        editing,
    })
}

/// The policy form.
#[derive(Deserialize)]
pub struct PolicyForm {
    name: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    priorities: String,
    #[serde(default)]
    categories: String,
    #[serde(default)]
    channels: String,
    #[serde(default)]
    tiers: String,
    #[serde(default)]
    first_response_minutes: String,
    #[serde(default)]
    next_response_minutes: String,
    #[serde(default)]
    resolution_minutes: String,
    #[serde(default)]
    calendar_id: String,
}

fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn number(raw: &str, field: &str) -> Result<Option<i64>, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| ApiError::field(field, "must be a whole number"))
}

impl PolicyForm {
    fn request(self) -> Result<PolicyRequest, ApiError> {
        Ok(PolicyRequest {
            name: self.name,
            position: number(&self.position, "position")?,
            enabled: Some(self.enabled.is_some()),
            conditions: ConditionsView {
                priorities: list(&self.priorities),
                categories: list(&self.categories),
                channels: list(&self.channels),
                organizations: Vec::new(),
                tiers: list(&self.tiers),
            },
            targets: TargetsView {
                first_response_minutes: number(
                    &self.first_response_minutes,
                    "targets.first_response_minutes",
                )?,
                next_response_minutes: number(
                    &self.next_response_minutes,
                    "targets.next_response_minutes",
                )?,
                resolution_minutes: number(&self.resolution_minutes, "targets.resolution_minutes")?,
            },
            calendar_id: number(&self.calendar_id, "calendar_id")?,
        })
    }
}

/// Adds a policy.
pub async fn create_policy(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<PolicyForm>,
) -> Response {
    save_policy(&st, &me, None, f).await
}

/// Changes a policy.
pub async fn update_policy(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<PolicyForm>,
) -> Response {
    save_policy(&st, &me, Some(id), f).await
}

/// Keeps the form's policy: a new one (`id` none) or in place of policy `id`, which keeps
/// its organisations (the form has no field for them; they are set through the API).
async fn save_policy(st: &AppState, me: &Me, id: Option<i64>, f: PolicyForm) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageSla) {
        return r;
    }
    let kept = match id {
        Some(id) => match st.db.read(op!(c => policies::get(c, id).await)).await {
            Ok(p) => p.conditions.organizations,
            Err(e) => return store_error(e),
        },
        None => Vec::new(),
    };
    let input = match f.request().and_then(|mut r| {
        r.conditions.organizations = kept;
        r.parse()
    }) {
        Ok(i) => i,
        Err(e) => return refused(&e),
    };
    let now = st.now();
    let terms = st.sla_terms.clone();
    write_then(
        st,
        op!(c => match id {
            Some(id) => policies::update(c, id, &input, now).await,
            None => policies::create(c, &input, now).await,
        }),
        move |p| {
            terms.forget();
            back(&format!("Saved the policy \u{201c}{}\u{201d}", p.name))
        },
    )
    .await
}

/// Deletes a policy.
pub async fn delete_policy(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageSla) {
        return r;
    }
    let terms = st.sla_terms.clone();
    write_then(&st, op!(c => policies::delete(c, id).await), move |()| {
        terms.forget();
        back("Deleted the policy")
    })
    .await
}

/// The calendar form: hours one weekday a line (`mon 09:00-12:00 13:00-17:00`).
#[derive(Deserialize)]
pub struct CalendarForm {
    name: String,
    time_zone: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    holidays: String,
}

/// Adds a calendar.
pub async fn create_calendar(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<CalendarForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageSla) {
        return r;
    }
    let mut hours: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in f.hours.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut words = line.split_whitespace();
        let day = words.next().unwrap_or_default().trim_end_matches(':');
        hours
            .entry(day.to_ascii_lowercase())
            .or_default()
            .extend(words.map(|w| w.trim_end_matches(',').to_owned()));
    }
    let req = CalendarRequest {
        name: f.name,
        time_zone: f.time_zone,
        hours,
        holidays: list(&f.holidays),
        closures: Vec::new(),
    };
    let cal = match req.spec().parse() {
        Ok(c) => c,
        Err(e) => return store_error(e.into()),
    };
    let now = st.now();
    let terms = st.sla_terms.clone();
    let name = req.name.clone();
    write_then(
        &st,
        op!(c => calendars::create(c, &name, &cal, now).await),
        move |r| {
            terms.forget();
            back(&format!("Added the calendar \u{201c}{}\u{201d}", r.name))
        },
    )
    .await
}

/// Deletes a calendar (refused while a policy measures in it).
pub async fn delete_calendar(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageSla) {
        return r;
    }
    let terms = st.sla_terms.clone();
    write_then(&st, op!(c => calendars::delete(c, id).await), move |()| {
        terms.forget();
        back("Deleted the calendar")
    })
    .await
}
