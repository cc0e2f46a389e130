//! The ticket page (thread, properties, activity, the customer's history), property
//! edits, taking a ticket, merging, replies and notes.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::{
    AuthorKind, Body, Category, Permission, Principal, Priority, Tag, TicketStatus, Viewer, Zone,
};
use rapport_http::AppState;
use rapport_store::StoreError;
use rapport_store::categories;
use rapport_store::events::{self, Event};
use rapport_store::fields;
use rapport_store::kb::deflection;
use rapport_store::macros;
use rapport_store::messages::{self, Message, NewAttachment};
use rapport_store::op;
use rapport_store::people::{self, Team, User};
use rapport_store::tickets::{self, NewReply, Ticket, TicketPatch};
use rapport_store::time_entries;
use serde::Deserialize;

use crate::page::{MeView, error_page, page, read_multipart, require, store_error, write_then};
use crate::render::{MessageView, message_view_in, when};
use crate::sessions::{CsrfForm, Me, NoFields};

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
    /// The SLA clock at a glance ("2 h left"; empty: not measured), its state (a CSS
    /// class) and the soonest due time in the agent's zone.
    sla: String,
    sla_state: &'static str,
    sla_due: String,
    /// The priority score, its level and why.
    score: i64,
    score_level: &'static str,
    score_why: String,
}

/// A line of the customer's history.
pub struct HistoryRow {
    pub(crate) id: i64,
    pub(crate) number: i64,
    pub(crate) subject: String,
    pub(crate) status: String,
    pub(crate) channel: String,
    pub(crate) created: String,
}

impl HistoryRow {
    pub(crate) fn of(t: &Ticket, zone: &Zone) -> Self {
        Self {
            id: t.id,
            number: t.number,
            subject: t.subject.clone(),
            status: t.status.as_str().into(),
            channel: t.channel.as_str().into(),
            created: when(t.created_at, zone).0,
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
    /// A chat's handoff summary, transfer note and queue state.
    chat_top: rapport_store::chat::handoff::Top,
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
    /// "Before writing, the customer read": (link, title, opened).
    kb_seen: Vec<(String, String, bool)>,
    /// Promises made to the customer.
    promises: Vec<crate::promises::PromiseRow>,
    /// The last transfer's note for the new owner: (heading, note, who and when).
    handoff: Option<(String, String, String)>,
    /// What the classifier made of it ("Suggested by the classifier: Billing, 54% sure").
    classified: String,
    /// Its snooze, if it sleeps.
    snoozed: Option<crate::snooze::SnoozeLine>,
    /// The customer's recent orders.
    orders: Vec<crate::commerce::OrderRow>,
    /// Their reward points.
    points: i64,
    /// Their vouchers ("code: worth, state").
    vouchers: Vec<String>,
    /// The customer card.
    card: crate::crm::Card,
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

struct TicketData {
    t: Ticket,
    msgs: Vec<Message>,
    evs: Vec<Event>,
    history: Vec<Ticket>,
    teams: Vec<Team>,
    users: Vec<User>,
    cats: Vec<(String, String)>,
    macros: Vec<macros::Macro>,
    time: Vec<time_entries::TimeSpent>,
    fields: Vec<fields::CustomFieldDef>,
    /// The reader's time zone.
    zone: Zone,
    /// The help-center articles the customer was shown before writing.
    seen: Vec<deflection::SeenArticle>,
    /// A chat's handoff summary and transfer note.
    chat_top: rapport_store::chat::handoff::Top,
    /// What agents promised the customer on this ticket.
    promises: Vec<rapport_store::promises::Promise>,
    /// Its latest transfer.
    transfer: Option<rapport_store::routing::Transfer>,
    /// Its snooze.
    snooze: Option<rapport_store::snooze::Snooze>,
    /// The customer's recent orders, and which are linked to this ticket.
    orders: Vec<(rapport_store::commerce::orders::Order, bool)>,
    /// The customer's points balance and vouchers.
    points: i64,
    vouchers: Vec<rapport_store::loyalty::vouchers::Voucher>,
    /// The customer card.
    card: crate::crm::Card,
}

async fn load_ticket(st: &AppState, viewer: Viewer, id: i64) -> Result<TicketData, StoreError> {
    let now = st.now();
    st.db
        .read(op!(c => {
            let user_id = viewer.user_id;
            let seen = deflection::seen_on_ticket(c, &viewer, id).await?;
            let promises = rapport_store::promises::for_ticket(c, &viewer, id).await?;
            let snooze = rapport_store::snooze::of_ticket(c, &viewer, id).await?;
            let viewer_again = viewer.clone();
            let who = Principal::Agent(viewer);
            let mut t = tickets::get(c, &who, id).await?;
            rapport_store::sla::clocks::fill_in(c, &mut t).await;
            let msgs = messages::for_ticket(c, &who, id).await?;
            let evs = events::for_ticket(c, id).await?;
            let history = tickets::for_customer(c, &who, t.customer.id).await?;
            let teams = people::list_teams(c).await?;
            let users = people::list_users(c).await?;
            let cats = categories::list(c)
                .await?
                .into_iter()
                .map(|c| (c.slug, c.name))
                .collect();
            let macros = macros::list(c).await?;
            let time = time_entries::per_agent(c, id).await?;
            let fields = fields::list(c).await?;
            let zone = people::time_zone(c, user_id).await?;
            let chat_top = rapport_store::chat::handoff::top(c, id).await?;
            let transfer = rapport_store::routing::last_transfer(c, id).await?;
            let linked: Vec<i64> = rapport_store::commerce::orders::linked(c, &viewer_again, id)
                .await?
                .iter()
                .map(|o| o.id)
                .collect();
            let orders = rapport_store::commerce::orders::for_customer(c, t.customer.id, crate::commerce::ON_TICKET)
                .await?
                .into_iter()
                .map(|o| {
                    let l = linked.contains(&o.id);
                    (o, l)
                })
                .collect();
            let points = rapport_store::loyalty::points::balance(c, t.customer.id).await?;
            let vouchers = rapport_store::loyalty::vouchers::for_customer(c, t.customer.id).await?;
            let card = crate::crm::load(c, &viewer_again, t.customer.id, Some(id), now, &zone).await?;
            Ok(TicketData {
                card,
                orders,
                points,
                vouchers,
                snooze,
                transfer,
                promises,
                chat_top,
                seen,
                zone,
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
        }))
        .await
}

/// The ticket page.
pub async fn ticket(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    Query(q): Query<PartialQuery>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
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
        zone,
        seen,
        chat_top,
        promises,
        transfer,
        snooze,
        orders,
        points,
        vouchers,
        card,
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
            let mut v = message_view_in(m, &customer_name, &agent_name, &zone);
            if splittable && m.author.kind == AuthorKind::Customer {
                v.split = Some(m.id);
            }
            v.mood = m.sentiment.as_ref().map(crate::render::mood_marker);
            if m.author.kind == AuthorKind::Agent && !m.internal {
                v.make_article = Some((m.ticket_id, m.id));
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
            let (at, at_iso) = when(e.created_at, &zone);
            ActivityRow {
                at,
                at_iso,
                text: crate::activity::describe(e, &opt_name),
            }
        })
        .collect();
    history.truncate(50);
    let viewer = &me.session.viewer;
    let glance = t.sla.as_ref().and_then(|s| s.glance(st.now()));
    let score = rapport_store::score::of(&t, st.now());
    let handoff = match transfer {
        Some(tr) => Some((
            if tr.to_assignee_id == Some(viewer.user_id) {
                "Transferred to you with a note".to_owned()
            } else {
                "Handoff note".to_owned()
            },
            tr.note,
            format!(
                "from {}, {}",
                opt_name(Some(tr.by_user_id)),
                when(tr.created_at, &zone).0
            ),
        )),
        None => chat_top.transfer_note.clone().map(|n| {
            (
                "Transferred to you with a note".to_owned(),
                n,
                String::new(),
            )
        }),
    };
    let classified = t.classification.as_ref().map_or_else(String::new, |v| {
        let name = cats
            .iter()
            .find(|(slug, _)| *slug == v.category)
            .map_or(v.category.clone(), |(_, n)| n.clone());
        let sure = (v.confidence * 100.0).round();
        if v.applied {
            format!("Set by the classifier: {name}, {sure}% sure")
        } else {
            format!("Suggested by the classifier: {name}, {sure}% sure (below the threshold: left for triage)")
        }
    });
    let now = st.now();
    page(&TicketPage {
        card,
        orders: orders
            .iter()
            .map(|(o, l)| crate::commerce::OrderRow::of(o, *l, &zone))
            .collect(),
        points,
        vouchers: vouchers
            .iter()
            .take(10)
            .map(|v| crate::loyalty::voucher_line(v, now, &me.session.viewer))
            .collect(),
        snoozed: snooze
            .as_ref()
            .map(|s| crate::snooze::SnoozeLine::of(s, &zone)),
        classified,
        handoff,
        promises: promises
            .iter()
            .map(|p| crate::promises::PromiseRow::of(p, &zone))
            .collect(),
        chat_top,
        kb_seen: seen
            .iter()
            .map(|a| {
                (
                    format!("/help/articles/{}", a.slug),
                    a.title.clone(),
                    a.opened,
                )
            })
            .collect(),
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
            sla: glance.as_ref().map(|g| g.text.clone()).unwrap_or_default(),
            sla_state: glance.as_ref().map_or("", |g| g.state.as_str()),
            sla_due: t
                .sla
                .as_ref()
                .and_then(|s| s.next_due())
                .map(|d| zone.local(d))
                .unwrap_or_default(),
            score: score.value,
            score_level: score.level.as_str(),
            score_why: score.explanation(),
        },
        messages,
        activity,
        history: history.iter().map(|h| HistoryRow::of(h, &zone)).collect(),
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

/// Back to the ticket page after a form.
pub(crate) fn to_ticket(id: i64) -> Response {
    Redirect::to(&format!("/tickets/{id}")).into_response()
}

/// A reply or note form.
#[derive(Deserialize)]
pub struct MessageForm {
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
        op!(c => tickets::reply(c, &viewer, id, reply, now).await),
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
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let form = match read_multipart(form).await {
        Ok(f) => f,
        Err((status, msg)) => return error_page(status, "The form could not be sent", &msg),
    };
    if let Some(r) = me.reject_csrf(&form.text("csrf")) {
        return r;
    }
    let f = MessageForm {
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
    CsrfForm(f): CsrfForm<MessageForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    post_message(st, me, id, f, true, Vec::new()).await
}

/// The properties form.
#[derive(Deserialize)]
pub struct UpdateForm {
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
        op!(c => tickets::update(c, &viewer, id, patch, now).await),
        |_| to_ticket(id),
    )
    .await
}

/// Saves the properties form.
pub async fn update(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<UpdateForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    match parse_update(&f) {
        Ok(patch) => apply_patch(&st, &me, id, patch).await,
        Err(e) => store_error(e.into()),
    }
}

/// Takes the ticket.
pub async fn assign_me(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let patch = TicketPatch {
        assignee_id: Some(Some(me.session.viewer.user_id)),
        ..TicketPatch::default()
    };
    apply_patch(&st, &me, id, patch).await
}

/// The merge form.
#[derive(Deserialize)]
pub struct MergeForm {
    into: String,
    /// Set once the agent confirmed a merge into another customer's ticket.
    confirm_other_customer: Option<String>,
}

/// Merges this ticket into the one with the given number.
pub async fn merge(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<MergeForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let Ok(number) = f.into.trim().trim_start_matches('#').parse::<i64>() else {
        return store_error(
            rapport_domain::FieldError::new("into", "enter a ticket number like 1042").into(),
        );
    };
    let viewer = me.session.viewer.clone();
    let now = st.now();
    let cross = if f.confirm_other_customer.is_some() {
        tickets::CrossCustomer::Confirmed
    } else {
        tickets::CrossCustomer::Refuse
    };
    let merged = st
        .db
        .write(op!(c => {
            let target = tickets::id_by_number(c, number).await?;
            tickets::merge(c, &viewer, id, target, cross, now).await
        }))
        .await;
    match merged {
        Ok(t) => Redirect::to(&format!("/tickets/{}", t.id)).into_response(),
        Err(rapport_store::StoreError::Invalid(e)) if e.field == "confirm_other_customer" => {
            crate::confirm::confirm_page(
                "Merge into another customer's ticket?",
                &format!(
                    "{} Their messages stay visible only to their own customer in the portal.",
                    e.message
                ),
                &format!("/tickets/{id}/merge"),
                &[
                    ("csrf".to_owned(), me.session.csrf.clone()),
                    ("into".to_owned(), f.into.clone()),
                ],
                "confirm_other_customer",
                "Merge anyway",
                &format!("/tickets/{id}"),
            )
        }
        Err(e) => store_error(e),
    }
}
