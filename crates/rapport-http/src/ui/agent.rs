//! The agent workspace: inbox views, the ticket page with its customer sidebar, search,
//! customer profiles, live updates and presence.

use std::collections::HashMap;
use std::convert::Infallible;

use askama::Template;
use axum::Form;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures::{Stream, StreamExt};
use rapport_domain::{Body, Category, Channel, Permission, Priority, Tag, TicketStatus, Viewer};
use rapport_store::categories;
use rapport_store::events::{self, Event};
use rapport_store::messages::{self, Message, NewAttachment};
use rapport_store::people::{self, Team, User};
use rapport_store::search;
use rapport_store::sessions;
use rapport_store::tickets::{
    self, NewReply, PageRequest, SortField, Ticket, TicketFilter, TicketPatch,
};
use rapport_store::{StoreError, customers, workspace};
use serde::Deserialize;

use super::render::{MessageView, message_view, when};
use super::{Me, page, store_error, write_then};
use crate::state::AppState;

/// What the agent layout needs.
pub struct MeView {
    /// Display name.
    pub name: String,
    /// CSRF token for forms.
    pub csrf: String,
    /// Shows the admin link.
    pub is_admin: bool,
    /// The search box's text.
    pub query: String,
}

impl MeView {
    /// The layout data for `me`, with `query` in the search box.
    pub fn of(me: &Me, query: &str) -> Self {
        Self {
            name: me.session.name.clone(),
            csrf: me.session.csrf.clone(),
            is_admin: me.session.viewer.can(Permission::ManageTeams),
            query: query.to_owned(),
        }
    }
}

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
}

impl Row {
    fn of(t: &Ticket) -> Self {
        let (updated, updated_iso) = when(t.updated_at);
        Self {
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
        let params: crate::api::tickets::ListParams = serde_urlencoded::from_str(&self.query())
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
];

fn sort_of(key: &str) -> (SortField, bool) {
    match key {
        "created" => (SortField::CreatedAt, false),
        "oldest" => (SortField::CreatedAt, true),
        "priority" => (SortField::Priority, false),
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

fn unsolved() -> Vec<TicketStatus> {
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
                statuses: vec![TicketStatus::Pending],
                ..TicketFilter::default()
            },
            counted: true,
        },
        ViewDef {
            key: "solved".into(),
            label: "Solved".into(),
            filter: TicketFilter {
                statuses: vec![TicketStatus::Solved],
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
        .read(move |c| {
            Box::pin(async move {
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
                for v in workspace::saved_views(c, viewer.user_id).await? {
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
                Ok((
                    defs[chosen].label.clone(),
                    defs[chosen].key.clone(),
                    page,
                    links,
                    computed.then_some(fresh),
                    (agents, alerts),
                ))
            })
        })
        .await;
    let (title, key, tickets_page, views, fresh, (agents, alerts)) = match result {
        Ok(r) => r,
        Err(e) => return store_error(e),
    };
    if let Some(counts) = fresh {
        st.view_counts.put(me.session.viewer.user_id, counts);
    }
    let rows: Vec<Row> = tickets_page.items.iter().map(Row::of).collect();
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

/// The ticket's fields as the form shows them.
pub struct TicketView {
    id: i64,
    number: i64,
    subject: String,
    status: String,
    priority: String,
    category: String,
    team_id: String,
    assignee_id: String,
    tags: String,
    customer_id: i64,
    customer_name: String,
    customer_email: String,
}

/// A line of the customer's history.
pub struct HistoryRow {
    id: i64,
    number: i64,
    subject: String,
    status: String,
    channel: String,
    created: String,
}

impl HistoryRow {
    fn of(t: &Ticket) -> Self {
        Self {
            id: t.id,
            number: t.number,
            subject: t.subject.clone(),
            status: t.status.as_str().into(),
            channel: t.channel.as_str().into(),
            created: when(t.created_at).0,
        }
    }
}

/// A line of the activity log.
pub struct ActivityRow {
    at: String,
    at_iso: String,
    text: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    me: MeView,
    t: TicketView,
    closed: bool,
    messages: Vec<MessageView>,
    activity: Vec<ActivityRow>,
    history: Vec<HistoryRow>,
    statuses: Vec<&'static str>,
    priorities: Vec<&'static str>,
    categories: Vec<(String, String)>,
    teams: Vec<(String, String)>,
    agents: Vec<(String, String)>,
    macros: Vec<(i64, String)>,
    time: Vec<(String, String)>,
    fields: Vec<(String, String, String)>,
    csrf: String,
}

#[derive(Template)]
#[template(path = "thread.html")]
struct ThreadPart {
    messages: Vec<MessageView>,
    csrf: String,
}

/// `?partial=thread` asks for the thread alone.
#[derive(Deserialize, Default)]
pub struct PartialQuery {
    partial: Option<String>,
}

fn describe(e: &Event, name: &dyn Fn(Option<i64>) -> String) -> String {
    let who = if e.actor_customer_id.is_some() {
        "The customer".to_owned()
    } else {
        name(e.actor_user_id)
    };
    match e.kind.as_str() {
        "ticket_created" => format!("{who} opened the ticket"),
        "reply_added" => format!("{who} replied"),
        "note_added" => format!("{who} added a note"),
        "merged_into" => format!("{who} merged this ticket into #{}", e.data["into_number"]),
        "merged_from" => format!("{who} merged #{} into this ticket", e.data["from_number"]),
        "follow_up_of" => format!(
            "Follow-up of #{}, written after it was closed",
            e.data["number"]
        ),
        "split_into" => format!("{who} split a message off into #{}", e.data["into_number"]),
        "split_from" => format!("{who} split this ticket off #{}", e.data["from_number"]),
        "time_logged" => format!(
            "{who} logged {} minutes",
            e.data["seconds"].as_i64().unwrap_or(0) / 60
        ),
        "fields_changed" => {
            let parts: Vec<String> = e
                .data
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            let show = |x: &serde_json::Value| match x {
                                serde_json::Value::Null => "none".to_owned(),
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            let (from, to) = match k.as_str() {
                                "assignee_id" => (name(v["from"].as_i64()), name(v["to"].as_i64())),
                                _ => (show(&v["from"]), show(&v["to"])),
                            };
                            format!("{} from {from} to {to}", k.trim_end_matches("_id"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!("{who} changed {}", parts.join(", "))
        }
        other => format!("{who}: {other}"),
    }
}

struct TicketData {
    t: Ticket,
    msgs: Vec<Message>,
    evs: Vec<Event>,
    history: Vec<Ticket>,
    teams: Vec<Team>,
    users: Vec<User>,
    cats: Vec<(String, String)>,
    macros: Vec<workspace::Macro>,
    time: Vec<workspace::TimeSpent>,
    fields: Vec<workspace::CustomFieldDef>,
}

async fn load_ticket(st: &AppState, viewer: Viewer, id: i64) -> Result<TicketData, StoreError> {
    st.db
        .read(move |c| {
            Box::pin(async move {
                let t = tickets::get(c, &viewer, id).await?;
                let msgs = messages::for_ticket(c, id).await?;
                let evs = events::for_ticket(c, id).await?;
                let history = tickets::for_customer(c, &viewer, t.customer.id).await?;
                let teams = people::list_teams(c).await?;
                let users = people::list_users(c).await?;
                let cats = categories::list(c)
                    .await?
                    .into_iter()
                    .map(|c| (c.slug, c.name))
                    .collect();
                let macros = workspace::list_macros(c).await?;
                let time = workspace::time_spent(c, id).await?;
                let fields = workspace::fields(c).await?;
                Ok(TicketData {
                    fields,
                    t,
                    msgs,
                    evs,
                    history,
                    teams,
                    users,
                    cats,
                    macros,
                    time,
                })
            })
        })
        .await
}

/// The ticket page.
pub async fn ticket(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Query(q): Query<PartialQuery>,
) -> Response {
    let TicketData {
        t,
        msgs,
        evs,
        mut history,
        teams,
        users,
        cats,
        macros,
        time,
        fields,
    } = match load_ticket(&st, me.session.viewer.clone(), id).await {
        Ok(d) => d,
        Err(e) => return store_error(e),
    };
    let names: HashMap<i64, String> = users.iter().map(|u| (u.id, u.name.clone())).collect();
    let agent_name = |id: i64| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("agent {id}"))
    };
    let customer_name = if t.customer.name.is_empty() {
        t.customer.email.clone()
    } else {
        t.customer.name.clone()
    };
    let splittable = msgs.len() > 1 && t.status != TicketStatus::Closed;
    let messages: Vec<MessageView> = msgs
        .iter()
        .map(|m| {
            let mut v = message_view(m, &customer_name, &agent_name);
            if splittable && m.author.kind == "customer" {
                v.split = Some(m.id);
            }
            v
        })
        .collect();
    let csrf = me.session.csrf.clone();
    if q.partial.as_deref() == Some("thread") {
        return page(&ThreadPart { messages, csrf });
    }
    let opt_name = |id: Option<i64>| id.map_or_else(|| "nobody".to_owned(), agent_name);
    let activity = evs
        .iter()
        .rev()
        .map(|e| {
            let (at, at_iso) = when(e.created_at);
            ActivityRow {
                at,
                at_iso,
                text: describe(e, &opt_name),
            }
        })
        .collect();
    history.truncate(50);
    let viewer = &me.session.viewer;
    page(&TicketPage {
        me: MeView::of(&me, ""),
        closed: t.status == TicketStatus::Closed,
        t: TicketView {
            id: t.id,
            number: t.number,
            subject: t.subject.clone(),
            status: t.status.as_str().into(),
            priority: t.priority.as_str().into(),
            category: t.category.clone().unwrap_or_default(),
            team_id: t.team_id.map(|i| i.to_string()).unwrap_or_default(),
            assignee_id: t.assignee_id.map(|i| i.to_string()).unwrap_or_default(),
            tags: t.tags.join(", "),
            customer_id: t.customer.id,
            customer_name,
            customer_email: t.customer.email.clone(),
        },
        messages,
        activity,
        history: history.iter().map(HistoryRow::of).collect(),
        statuses: TicketStatus::ALL.iter().map(|s| s.as_str()).collect(),
        priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        categories: cats,
        teams: teams
            .iter()
            .filter(|t| viewer.can_see_team(Some(t.id)))
            .map(|t| (t.id.to_string(), t.name.clone()))
            .collect(),
        agents: users
            .iter()
            .filter(|u| u.active)
            .map(|u| (u.id.to_string(), u.name.clone()))
            .collect(),
        macros: macros.into_iter().map(|m| (m.id, m.name)).collect(),
        time: time
            .into_iter()
            .map(|e| {
                (
                    e.name,
                    format!("{} h {:02} min", e.seconds / 3600, (e.seconds % 3600) / 60),
                )
            })
            .collect(),
        fields: fields
            .into_iter()
            .map(|f| {
                let value = match &t.custom_fields[&f.key] {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (f.key, f.label, value)
            })
            .collect(),
        csrf,
    })
}

/// The macro form.
#[derive(Deserialize)]
pub struct MacroForm {
    csrf: String,
    macro_id: i64,
}

/// Applies a macro to the ticket.
pub async fn apply_macro(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Form(f): Form<MacroForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        move |c| {
            Box::pin(async move { workspace::apply_macro(c, &viewer, id, f.macro_id, now).await })
        },
        |_| to_ticket(id),
    )
    .await
}

/// The time form.
#[derive(Deserialize)]
pub struct TimeForm {
    csrf: String,
    minutes: String,
}

/// Logs time on the ticket.
pub async fn log_time(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Form(f): Form<TimeForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    let Ok(minutes) = f.minutes.trim().parse::<i64>() else {
        return store_error(
            rapport_domain::FieldError::new("minutes", "enter a whole number of minutes").into(),
        );
    };
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        move |c| {
            Box::pin(async move {
                workspace::log_time(c, &viewer, id, minutes.saturating_mul(60), "", now).await
            })
        },
        |()| to_ticket(id),
    )
    .await
}

/// Splits a customer message off into a new ticket.
pub async fn split(
    State(st): State<AppState>,
    me: Me,
    Path(message_id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        move |c| {
            Box::pin(async move { workspace::split_message(c, &viewer, message_id, now).await })
        },
        |t| Redirect::to(&format!("/tickets/{}", t.id)).into_response(),
    )
    .await
}

/// Back to the ticket page after a form.
fn to_ticket(id: i64) -> Response {
    Redirect::to(&format!("/tickets/{id}")).into_response()
}

/// A reply or note form.
#[derive(Deserialize)]
pub struct MessageForm {
    csrf: String,
    body: String,
    status: Option<String>,
}

async fn post_message(
    st: AppState,
    me: Me,
    id: i64,
    f: MessageForm,
    internal: bool,
    attachments: Vec<NewAttachment>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    let body = match Body::parse(&f.body) {
        Ok(b) => b,
        Err(e) => return store_error(e.into()),
    };
    let status = match f
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(TicketStatus::parse)
    {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => return store_error(e.into()),
    };
    let viewer = me.session.viewer.clone();
    let now = st.now();
    let reply = NewReply {
        body,
        internal,
        attachments,
        status,
        deliver: true,
    };
    write_then(
        &st,
        move |c| Box::pin(async move { tickets::reply(c, &viewer, id, reply, now).await }),
        |_| to_ticket(id),
    )
    .await
}

/// Sends a public reply, with an optional attachment (a multipart form).
pub async fn reply(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    form: Multipart,
) -> Response {
    let form = match super::read_multipart(form).await {
        Ok(f) => f,
        Err((status, msg)) => return super::error_page(status, "The form could not be sent", &msg),
    };
    let f = MessageForm {
        csrf: form.text("csrf"),
        body: form.text("body"),
        status: form.fields.get("status").cloned(),
    };
    let files = form.files;
    post_message(st, me, id, f, false, files).await
}

/// Adds an internal note.
pub async fn note(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Form(f): Form<MessageForm>,
) -> Response {
    post_message(st, me, id, f, true, Vec::new()).await
}

/// The properties form.
#[derive(Deserialize)]
pub struct UpdateForm {
    csrf: String,
    status: String,
    priority: String,
    category: String,
    team_id: String,
    assignee_id: String,
    tags: String,
    #[serde(flatten)]
    custom: HashMap<String, String>,
}

fn opt_id(field: &str, raw: &str) -> Result<Option<i64>, rapport_domain::FieldError> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        raw.trim()
            .parse()
            .map(Some)
            .map_err(|_| rapport_domain::FieldError::new(field, "is not an id"))
    }
}

fn parse_update(f: &UpdateForm) -> Result<TicketPatch, rapport_domain::FieldError> {
    let tags: Vec<&str> = f
        .tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    Ok(TicketPatch {
        status: Some(TicketStatus::parse(&f.status)?),
        priority: Some(Priority::parse(&f.priority)?),
        category: Some(if f.category.is_empty() {
            None
        } else {
            Some(Category::parse(&f.category)?)
        }),
        team_id: Some(opt_id("team_id", &f.team_id)?),
        assignee_id: Some(opt_id("assignee_id", &f.assignee_id)?),
        tags: Some(Tag::parse_list(&tags)?),
        custom_fields: Some(
            f.custom
                .iter()
                .filter_map(|(k, v)| {
                    let key = k.strip_prefix("cf_")?;
                    let value = if v.trim().is_empty() {
                        serde_json::Value::Null
                    } else {
                        serde_json::Value::String(v.trim().to_owned())
                    };
                    Some((key.to_owned(), value))
                })
                .collect(),
        ),
        ..TicketPatch::default()
    })
}

async fn apply_patch(st: &AppState, me: &Me, id: i64, patch: TicketPatch) -> Response {
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        st,
        move |c| Box::pin(async move { tickets::update(c, &viewer, id, patch, now).await }),
        |_| to_ticket(id),
    )
    .await
}

/// Saves the properties form.
pub async fn update(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Form(f): Form<UpdateForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    match parse_update(&f) {
        Ok(patch) => apply_patch(&st, &me, id, patch).await,
        Err(e) => store_error(e.into()),
    }
}

/// A form carrying only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

/// Takes the ticket.
pub async fn assign_me(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    let patch = TicketPatch {
        assignee_id: Some(Some(me.session.viewer.user_id)),
        ..TicketPatch::default()
    };
    apply_patch(&st, &me, id, patch).await
}

/// The save-view form.
#[derive(Deserialize)]
pub struct SaveViewForm {
    csrf: String,
    name: String,
    query: String,
}

/// Saves the current filter as a view of the agent's own.
pub async fn save_view(
    State(st): State<AppState>,
    me: Me,
    Form(f): Form<SaveViewForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
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
        move |c| Box::pin(async move { workspace::save_view(c, uid, &f.name, &query, now).await }),
        |v| Redirect::to(&format!("/inbox?view=saved-{}", v.id)).into_response(),
    )
    .await
}

/// The merge form.
#[derive(Deserialize)]
pub struct MergeForm {
    csrf: String,
    into: String,
}

/// Merges this ticket into the one with the given number.
pub async fn merge(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Form(f): Form<MergeForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    let Ok(number) = f.into.trim().trim_start_matches('#').parse::<i64>() else {
        return store_error(
            rapport_domain::FieldError::new("into", "enter a ticket number like 1042").into(),
        );
    };
    let viewer = me.session.viewer.clone();
    let now = st.now();
    let merged = st
        .db
        .write(move |c| {
            Box::pin(async move {
                let target = tickets::id_by_number(c, number).await?;
                tickets::merge(c, &viewer, id, target, now).await
            })
        })
        .await;
    match merged {
        Ok(t) => Redirect::to(&format!("/tickets/{}", t.id)).into_response(),
        Err(e) => store_error(e),
    }
}

/// Applies one action to the tickets selected in a list. The form repeats `ids`, so it is
/// read as pairs rather than into a struct.
pub async fn bulk(State(st): State<AppState>, me: Me, body: Bytes) -> Response {
    let mut csrf = String::new();
    let mut action = String::new();
    let mut tag = String::new();
    let mut back = "/inbox".to_owned();
    let mut ids = Vec::new();
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "csrf" => csrf = v.into_owned(),
            "action" => action = v.into_owned(),
            "tag" => tag = v.into_owned(),
            "back" if v.starts_with("/inbox") => back = v.into_owned(),
            "ids" => {
                if let Ok(id) = v.parse::<i64>() {
                    ids.push(id);
                }
            }
            _ => {}
        }
    }
    if let Some(r) = me.reject_csrf(&csrf) {
        return r;
    }
    if ids.is_empty() || ids.len() > 200 {
        return Redirect::to(&back).into_response();
    }
    let status = |s: TicketStatus| TicketPatch {
        status: Some(s),
        ..TicketPatch::default()
    };
    let mut add_tag = None;
    let patch = match action.as_str() {
        "assign-me" => TicketPatch {
            assignee_id: Some(Some(me.session.viewer.user_id)),
            ..TicketPatch::default()
        },
        other if other.starts_with("assign-") => match other["assign-".len()..].parse::<i64>() {
            Ok(agent) => TicketPatch {
                assignee_id: Some(Some(agent)),
                ..TicketPatch::default()
            },
            Err(_) => {
                return store_error(
                    rapport_domain::FieldError::new("action", "is not a bulk action").into(),
                );
            }
        },
        "status-open" => status(TicketStatus::Open),
        "status-pending" => status(TicketStatus::Pending),
        "status-solved" => status(TicketStatus::Solved),
        "tag" => match Tag::parse(&tag) {
            Ok(t) => {
                add_tag = Some(t);
                TicketPatch::default()
            }
            Err(e) => return store_error(e.into()),
        },
        _ => {
            return store_error(
                rapport_domain::FieldError::new("action", "is not a bulk action").into(),
            );
        }
    };
    let viewer = me.session.viewer.clone();
    let now = st.now();
    // All or nothing: one transaction for the whole selection.
    let done = st
        .db
        .write(move |c| {
            Box::pin(async move {
                for id in ids {
                    let mut p = patch.clone();
                    if let Some(t) = &add_tag {
                        let current = tickets::get(c, &viewer, id).await?;
                        let mut tags = Tag::parse_list(&current.tags)?;
                        if !tags.contains(t) {
                            tags.push(t.clone());
                        }
                        p.tags = Some(tags);
                    }
                    tickets::update(c, &viewer, id, p, now).await?;
                }
                Ok(())
            })
        })
        .await;
    match done {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => store_error(e),
    }
}

/// A presence ping from the ticket page.
#[derive(Deserialize)]
pub struct PresenceForm {
    csrf: String,
    typing: Option<String>,
}

/// Records that this agent is on the ticket and answers who else is.
pub async fn presence(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Form(f): Form<PresenceForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let typing = f.typing.as_deref() == Some("1");
    let now = st.now();
    let r = st
        .db
        .write(move |c| {
            Box::pin(async move {
                tickets::get(c, &viewer, id).await?;
                sessions::touch_presence(c, id, viewer.user_id, typing, now).await?;
                sessions::others_present(c, id, viewer.user_id, now).await
            })
        })
        .await;
    match r {
        Ok(others) => Json(
            others
                .into_iter()
                .map(|(name, typing)| serde_json::json!({"name": name, "typing": typing}))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    me: MeView,
    hits: Vec<(String, String, String)>,
}

/// The search box's query.
#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// Search results.
pub async fn search(State(st): State<AppState>, me: Me, Query(q): Query<SearchQuery>) -> Response {
    let text = q.q.unwrap_or_default();
    let viewer = me.session.viewer.clone();
    let query = text.clone();
    let hits = match st
        .db
        .read(move |c| Box::pin(async move { search::search(c, &viewer, &query, 50).await }))
        .await
    {
        Ok(h) => h,
        Err(e) => return store_error(e),
    };
    let hits = hits
        .into_iter()
        .map(|h| match (h.ticket_id, h.ticket_number) {
            (Some(id), Some(n)) => (
                format!("/tickets/{id}"),
                format!("#{n} {}", h.title),
                h.snippet,
            ),
            _ => (
                format!("/customers/{}", h.customer_id.unwrap_or_default()),
                format!("Customer: {}", h.title),
                h.snippet,
            ),
        })
        .collect();
    page(&SearchPage {
        me: MeView::of(&me, &text),
        hits,
    })
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    me: MeView,
    name: String,
    email: String,
    phone: Option<String>,
    since: String,
    history: Vec<HistoryRow>,
}

/// A customer's profile with every conversation.
pub async fn customer(State(st): State<AppState>, me: Me, Path(id): Path<i64>) -> Response {
    let viewer = me.session.viewer.clone();
    let c = match st
        .db
        .read(move |c| Box::pin(async move { customers::get_with_tickets(c, &viewer, id).await }))
        .await
    {
        Ok(c) => c,
        Err(e) => return store_error(e),
    };
    page(&CustomerPage {
        me: MeView::of(&me, ""),
        name: if c.customer.name.is_empty() {
            c.customer.email.clone()
        } else {
            c.customer.name.clone()
        },
        email: c.customer.email.clone(),
        phone: c.customer.phone.clone(),
        since: when(c.customer.created_at).0,
        history: c.tickets.iter().map(HistoryRow::of).collect(),
    })
}

/// Downloads an attachment (signed-in agents who may see its ticket).
pub async fn attachment(State(st): State<AppState>, me: Me, Path(id): Path<i64>) -> Response {
    let viewer = me.session.viewer.clone();
    match st
        .db
        .read(move |c| Box::pin(async move { messages::visible_attachment(c, &viewer, id).await }))
        .await
    {
        Ok(f) => crate::api::customers::download(f),
        Err(e) => store_error(e),
    }
}

/// Server-sent events: one `ticket` event per change to a ticket this agent may see, each
/// with its stream position as the event id, so a reconnecting browser (`Last-Event-ID`)
/// resumes where it stopped.
pub async fn live(
    State(st): State<AppState>,
    me: Me,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let viewer = me.session.viewer;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let events = st
        .live
        .events_for(st.db.clone(), move |team| viewer.can_see_team(team), resume);
    let stream = events.map(|e| {
        let data = serde_json::to_string(&e).unwrap_or_default();
        Ok(SseEvent::default()
            .event("ticket")
            .id(e.position.to_string())
            .data(data))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// 404 for the browser side.
pub async fn not_found() -> Response {
    super::error_page(StatusCode::NOT_FOUND, "Not found", "There is no page here.")
}

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    me: MeView,
    email_notifications: bool,
    saved: bool,
}

/// `?saved=1` after a save.
#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// The signed-in agent's preferences page.
pub async fn preferences(
    State(st): State<AppState>,
    me: Me,
    Query(q): Query<SavedQuery>,
) -> Response {
    let id = me.session.viewer.user_id;
    match st
        .db
        .read(move |c| {
            Box::pin(async move { rapport_store::notify::email_notifications(c, id).await })
        })
        .await
    {
        Ok(on) => page(&PreferencesPage {
            me: MeView::of(&me, ""),
            email_notifications: on,
            saved: q.saved.is_some(),
        }),
        Err(e) => store_error(e),
    }
}

/// The preferences form.
#[derive(Deserialize)]
pub struct PreferencesForm {
    csrf: String,
    #[serde(default)]
    email_notifications: Option<String>,
}

/// Saves the agent's preferences.
pub async fn save_preferences(
    State(st): State<AppState>,
    me: Me,
    Form(f): Form<PreferencesForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    let id = me.session.viewer.user_id;
    let on = f.email_notifications.is_some();
    write_then(
        &st,
        move |c| {
            Box::pin(async move { rapport_store::notify::set_email_notifications(c, id, on).await })
        },
        |()| Redirect::to("/preferences?saved=1").into_response(),
    )
    .await
}
