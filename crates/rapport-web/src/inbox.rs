//! The inbox: views (built-in, per team, per channel, per category, saved), their
//! counts, the ticket lists with sorting, filters and paging, and saving a view.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::{
    Category, Channel, Permission, Priority, TicketStatus, Timestamp, Viewer, Zone,
};
use rapport_http::AppState;
use rapport_store::StoreError;
use rapport_store::op;
use rapport_store::people::{self, Team};
use rapport_store::tickets::{self, PageRequest, SortField, Ticket, TicketFilter};
use rapport_store::views;
use serde::Deserialize;

use crate::page::{MeView, page, require, store_error, write_then};
use crate::render::when;
use crate::sessions::{CsrfForm, Me};

/// One entry of the views menu.
pub struct ViewLink {
    key: String,
    label: String,
    count: String,
    active: bool,
}

/// One row of a ticket list.
pub struct Row {
    id: i64,
    number: i64,
    subject: String,
    customer: String,
    status: String,
    priority: String,
    channel: String,
    tags: Vec<String>,
    updated: String,
    updated_iso: String,
    /// The SLA clock at a glance (empty: not measured) and its state (a CSS class).
    sla: String,
    sla_state: &'static str,
    /// The priority score, its level (a CSS class) and its reasons (the cell's title).
    score: i64,
    score_level: &'static str,
    score_why: String,
}

impl Row {
    fn of(t: &Ticket, zone: &Zone, now: Timestamp) -> Self {
        let (updated, updated_iso) = when(t.updated_at, zone);
        let glance = t.sla.as_ref().and_then(|s| s.glance(now));
        let score = rapport_store::score::of(t, now);
        Self {
            score: score.value,
            score_level: score.level.as_str(),
            score_why: score.explanation(),
            id: t.id,
            number: t.number,
            subject: t.subject.clone(),
            customer: if t.customer.name.is_empty() {
                t.customer.email.clone()
            } else {
                t.customer.name.clone()
            },
            status: t.status.as_str().into(),
            priority: t.priority.as_str().into(),
            channel: t.channel.as_str().into(),
            tags: t.tags.clone(),
            updated,
            updated_iso,
            sla: glance.as_ref().map(|g| g.text.clone()).unwrap_or_default(),
            sla_state: glance.as_ref().map_or("", |g| g.state.as_str()),
        }
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    me: MeView,
    views: Vec<ViewLink>,
    view_title: String,
    view_key: String,
    sort: String,
    sorts: Vec<(&'static str, &'static str)>,
    back: String,
    rows: Vec<Row>,
    next: Option<String>,
    filter: FilterValues,
    filter_query: String,
    filter_statuses: Vec<&'static str>,
    filter_priorities: Vec<&'static str>,
    filter_channels: Vec<&'static str>,
    agents: Vec<(i64, String)>,
    /// Mailboxes that stopped fetching: everyone should know mail may be missing.
    alerts: Vec<String>,
}

/// The workspace alerts: one line per IMAP mailbox that has not fetched for longer than
/// it allows.
async fn mailbox_alerts(
    c: &mut dyn rapport_store::Conn,
    now: rapport_domain::Timestamp,
) -> rapport_store::Result<Vec<String>> {
    Ok(rapport_store::imap::health(c, now)
        .await?
        .into_iter()
        .filter(|h| h.stalled)
        .map(|h| {
            let minutes = h.silent_for_secs / 60;
            match h.last_error {
                Some(e) => format!(
                    "Mailbox {} has not fetched mail for {minutes} minutes: {e}",
                    h.address
                ),
                None => format!(
                    "Mailbox {} has not fetched mail for {minutes} minutes.",
                    h.address
                ),
            }
        })
        .collect())
}

/// The custom filter's current values, as the form shows them.
#[derive(Default, Clone)]
pub struct FilterValues {
    status: String,
    priority: String,
    channel: String,
    assignee_id: String,
    tag: String,
}

impl FilterValues {
    /// The canonical query string of the filter (what a saved view stores).
    fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", &self.status),
            ("priority", &self.priority),
            ("channel", &self.channel),
            ("assignee_id", &self.assignee_id),
            ("tag", &self.tag),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        q.finish()
    }

    fn from_query(query: &str) -> Self {
        let mut f = Self::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let v = v.into_owned();
            match k.as_ref() {
                "status" => f.status = v,
                "priority" => f.priority = v,
                "channel" => f.channel = v,
                "assignee_id" => f.assignee_id = v,
                "tag" => f.tag = v,
                _ => {}
            }
        }
        f
    }

    fn filter(&self, viewer: &Viewer) -> Result<TicketFilter, StoreError> {
        let params: rapport_http::api::tickets::ListParams =
            serde_urlencoded::from_str(&self.query())
                .map_err(|e| rapport_domain::FieldError::new("filter", e.to_string()))?;
        params.parse(viewer).map(|(f, _)| f).map_err(|_| {
            rapport_domain::FieldError::new("filter", "this filter is not valid").into()
        })
    }
}

const SORTS: &[(&str, &str)] = &[
    ("updated", "Last update"),
    ("created", "Newest first"),
    ("oldest", "Oldest first"),
    ("priority", "Priority"),
    ("sla", "SLA due soonest"),
    ("score", "Most pressing (priority score)"),
];

fn sort_of(key: &str) -> (SortField, bool) {
    match key {
        "created" => (SortField::CreatedAt, false),
        "oldest" => (SortField::CreatedAt, true),
        "priority" => (SortField::Priority, false),
        "sla" => (SortField::SlaDue, true),
        "score" => (SortField::Score, false),
        _ => (SortField::UpdatedAt, false),
    }
}

#[derive(Template)]
#[template(path = "inbox_list.html")]
struct InboxList {
    rows: Vec<Row>,
    next: Option<String>,
}

/// Which view, which page, and whether only the list is wanted (live refresh).
#[derive(Deserialize, Default)]
pub struct InboxQuery {
    view: Option<String>,
    sort: Option<String>,
    status: Option<String>,
    priority: Option<String>,
    channel: Option<String>,
    assignee_id: Option<String>,
    tag: Option<String>,
    cursor: Option<String>,
    partial: Option<String>,
}

struct ViewDef {
    key: String,
    label: String,
    filter: TicketFilter,
    counted: bool,
}

fn unsolved() -> BTreeSet<TicketStatus> {
    TicketStatus::ALL
        .iter()
        .copied()
        .filter(|s| s.is_unsolved())
        .collect()
}

fn view_defs(viewer: &Viewer, teams: &[Team]) -> Vec<ViewDef> {
    let mut v = vec![
        ViewDef {
            key: "mine".into(),
            label: "My open tickets".into(),
            filter: TicketFilter {
                statuses: unsolved(),
                assignee_id: Some(Some(viewer.user_id)),
                ..TicketFilter::default()
            },
            counted: true,
        },
        ViewDef {
            key: "unassigned".into(),
            label: "Unassigned".into(),
            filter: TicketFilter {
                statuses: unsolved(),
                assignee_id: Some(None),
                ..TicketFilter::default()
            },
            counted: true,
        },
        ViewDef {
            key: "open".into(),
            label: "All open".into(),
            filter: TicketFilter {
                statuses: unsolved(),
                ..TicketFilter::default()
            },
            counted: true,
        },
        ViewDef {
            key: "pending".into(),
            label: "Pending".into(),
            filter: TicketFilter {
                statuses: BTreeSet::from([TicketStatus::Pending]),
                ..TicketFilter::default()
            },
            counted: true,
        },
        ViewDef {
            key: "solved".into(),
            label: "Solved".into(),
            filter: TicketFilter {
                statuses: BTreeSet::from([TicketStatus::Solved]),
                ..TicketFilter::default()
            },
            counted: false,
        },
    ];
    for t in teams.iter().filter(|t| viewer.can_see_team(Some(t.id))) {
        v.push(ViewDef {
            key: format!("team-{}", t.id),
            label: format!("Team: {}", t.name),
            filter: TicketFilter {
                statuses: unsolved(),
                team_id: Some(Some(t.id)),
                ..TicketFilter::default()
            },
            counted: true,
        });
    }
    for ch in Channel::ALL {
        v.push(ViewDef {
            key: format!("channel-{}", ch.as_str()),
            label: format!("Channel: {}", ch.as_str()),
            filter: TicketFilter {
                statuses: unsolved(),
                channel: Some(*ch),
                ..TicketFilter::default()
            },
            counted: false,
        });
    }
    for (slug, name) in Category::BUILT_IN {
        if let Ok(cat) = Category::parse(slug) {
            v.push(ViewDef {
                key: format!("category-{slug}"),
                label: format!("Category: {name}"),
                filter: TicketFilter {
                    statuses: unsolved(),
                    category: Some(cat),
                    ..TicketFilter::default()
                },
                counted: false,
            });
        }
    }
    v
}

/// The inbox: views with counts, and the chosen view's tickets.
pub async fn inbox(State(st): State<AppState>, me: Me, Query(q): Query<InboxQuery>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let key = q.view.clone().unwrap_or_else(|| "open".into());
    let cursor = q.cursor.clone();
    let partial = q.partial.is_some();
    let sort_key = q
        .sort
        .clone()
        .filter(|k| SORTS.iter().any(|(s, _)| s == k))
        .unwrap_or_else(|| "updated".into());
    let (sort, ascending) = sort_of(&sort_key);
    let custom = FilterValues {
        status: q.status.clone().unwrap_or_default(),
        priority: q.priority.clone().unwrap_or_default(),
        channel: q.channel.clone().unwrap_or_default(),
        assignee_id: q.assignee_id.clone().unwrap_or_default(),
        tag: q.tag.clone().unwrap_or_default(),
    };
    let custom_for_read = custom.clone();
    let cached = st.view_counts.get(me.session.viewer.user_id);
    let now = st.now();
    let result = st
        .db
        .read(op!(c => {
            let teams = people::list_teams(c).await?;
            let agents: Vec<(i64, String)> = if partial {
                Vec::new()
            } else {
                people::list_users(c)
                    .await?
                    .into_iter()
                    .filter(|u| u.active)
                    .map(|u| (u.id, u.name))
                    .collect()
            };
            let mut defs = view_defs(&viewer, &teams);
            for v in views::list(c, viewer.user_id).await? {
                defs.push(ViewDef {
                    key: format!("saved-{}", v.id),
                    label: format!("★ {}", v.name),
                    filter: FilterValues::from_query(&v.query).filter(&viewer)?,
                    counted: false,
                });
            }
            defs.push(ViewDef {
                key: "custom".into(),
                label: "Filtered tickets".into(),
                filter: custom_for_read.filter(&viewer)?,
                counted: false,
            });
            let chosen = defs
                .iter()
                .position(|d| d.key == key)
                .ok_or(StoreError::NotFound("view"))?;
            let page = tickets::list(
                c,
                &viewer,
                &defs[chosen].filter,
                &PageRequest {
                    sort,
                    ascending,
                    limit: 50,
                    cursor,
                    now: now.micros(),
                },
            )
            .await?;
            let mut links = Vec::new();
            let mut fresh = Vec::new();
            let mut computed = false;
            if !partial {
                for (i, d) in defs.iter().enumerate().filter(|(_, d)| d.key != "custom") {
                    let known = cached
                        .as_ref()
                        .and_then(|c| c.iter().find(|(k, _)| *k == d.key))
                        .map(|(_, n)| *n);
                    let count = match (d.counted, known) {
                        (false, _) => String::new(),
                        (true, Some(n)) => {
                            fresh.push((d.key.clone(), n));
                            n.to_string()
                        }
                        (true, None) => {
                            let n = tickets::count(c, &viewer, &d.filter).await?;
                            fresh.push((d.key.clone(), n));
                            computed = true;
                            n.to_string()
                        }
                    };
                    links.push(ViewLink {
                        key: d.key.clone(),
                        label: d.label.clone(),
                        count,
                        active: i == chosen,
                    });
                }
            }
            let alerts = if partial {
                Vec::new()
            } else {
                mailbox_alerts(c, now).await?
            };
            let zone = people::time_zone(c, viewer.user_id).await?;
            Ok((
                defs[chosen].label.clone(),
                defs[chosen].key.clone(),
                page,
                links,
                computed.then_some(fresh),
                (agents, alerts, zone),
            ))
        }))
        .await;
    let (title, key, tickets_page, views, fresh, (agents, alerts, zone)) = match result {
        Ok(r) => r,
        Err(e) => return store_error(e),
    };
    if let Some(counts) = fresh {
        st.view_counts.put(me.session.viewer.user_id, counts);
    }
    let rows: Vec<Row> = tickets_page
        .items
        .iter()
        .map(|t| Row::of(t, &zone, st.now()))
        .collect();
    let filter_query = custom.query();
    let extra = if key == "custom" {
        format!("&{filter_query}")
    } else {
        String::new()
    };
    let next = tickets_page
        .next_cursor
        .map(|c| format!("/inbox?view={key}&sort={sort_key}{extra}&cursor={c}"));
    if partial {
        return page(&InboxList { rows, next });
    }
    page(&InboxPage {
        me: MeView::of(&me, ""),
        views,
        view_title: title,
        back: format!("/inbox?view={key}&sort={sort_key}{extra}"),
        filter: custom,
        filter_query,
        filter_statuses: TicketStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(["unsolved"])
            .collect(),
        filter_priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        filter_channels: Channel::ALL.iter().map(|c| c.as_str()).collect(),
        agents,
        alerts,
        view_key: key,
        sort: sort_key,
        sorts: SORTS.to_vec(),
        rows,
        next,
    })
}

/// The save-view form.
#[derive(Deserialize)]
pub struct SaveViewForm {
    name: String,
    query: String,
}

/// Saves the current filter as a view of the agent's own.
pub async fn save_view(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<SaveViewForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    // Keep only what the filter understands, and check it parses.
    let values = FilterValues::from_query(&f.query);
    if let Err(e) = values.filter(&me.session.viewer) {
        return store_error(e);
    }
    let query = values.query();
    let uid = me.session.viewer.user_id;
    let now = st.now();
    write_then(
        &st,
        op!(c => views::save(c, uid, &f.name, &query, now).await),
        |v| Redirect::to(&format!("/inbox?view=saved-{}", v.id)).into_response(),
    )
    .await
}
