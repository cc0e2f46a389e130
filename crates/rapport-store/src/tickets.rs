//! Tickets: create with the first message, read, list for inbox views with cursor
//! pagination, change fields, reply and note, merge. Every write records its events and
//! updates the search index in the same transaction.

use base64::Engine;
use rapport_domain::{
    Body, Category, Channel, EmailAddress, EventKind, FieldError, Priority, Subject, Tag,
    TicketStatus, Timestamp, Viewer,
};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use utoipa::ToSchema;

use crate::db::{Backend, Conn};
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::messages::{self, Message, NewAttachment};
use crate::value::{Row, Value};
use crate::{customers, search};

/// The customer as shown on a ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerRef {
    /// Customer id.
    pub id: i64,
    /// Their address.
    pub email: String,
    /// Their name (may be empty).
    pub name: String,
}

/// A ticket as the API returns it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Ticket {
    /// Database id.
    pub id: i64,
    /// Human-readable number, quoted as `#1042`.
    pub number: i64,
    /// Subject line.
    pub subject: String,
    /// `new`, `open`, `pending`, `on-hold`, `solved` or `closed`.
    #[schema(value_type = String, example = "open")]
    pub status: TicketStatus,
    /// `low`, `normal`, `high` or `urgent`.
    #[schema(value_type = String, example = "normal")]
    pub priority: Priority,
    /// Category slug, if categorised.
    pub category: Option<String>,
    /// Channel of origin.
    #[schema(value_type = String, example = "email")]
    pub channel: Channel,
    /// Tags, normalised.
    pub tags: Vec<String>,
    /// Custom fields.
    #[schema(value_type = Object)]
    pub custom_fields: Json,
    /// Who asked.
    pub customer: CustomerRef,
    /// Owning team.
    pub team_id: Option<i64>,
    /// Assigned agent.
    pub assignee_id: Option<i64>,
    /// Set when this ticket was merged into another.
    pub merged_into_id: Option<i64>,
    /// Messages in the thread (replies and notes).
    pub message_count: i64,
    /// Created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last changed in any way.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Last message.
    #[schema(value_type = String, format = DateTime)]
    pub last_message_at: Timestamp,
    /// First public reply by an agent.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_response_at: Option<Timestamp>,
    /// Last time it was solved.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub solved_at: Option<Timestamp>,
}

const TICKET_COLS: &str = "t.id, t.number, t.subject, t.status, t.priority, t.category, t.channel,
    t.tags, t.custom_fields, t.customer_id, c.email, c.name, t.team_id, t.assignee_id,
    t.merged_into_id, t.message_count, t.created_at, t.updated_at, t.last_message_at,
    t.first_response_at, t.solved_at";
const TICKET_FROM: &str = "FROM tickets t JOIN customers c ON c.id = t.customer_id";

fn ticket_from(r: &Row) -> Result<Ticket> {
    Ok(Ticket {
        id: r.int(0)?,
        number: r.int(1)?,
        subject: r.text(2)?,
        status: TicketStatus::parse(&r.text(3)?)?,
        priority: Priority::from_rank(r.int(4)?)
            .ok_or_else(|| StoreError::Db("bad stored priority".into()))?,
        category: r.opt_text(5)?,
        channel: Channel::parse(&r.text(6)?)?,
        tags: serde_json::from_str(&r.text(7)?)?,
        custom_fields: serde_json::from_str(&r.text(8)?)?,
        customer: CustomerRef {
            id: r.int(9)?,
            email: r.text(10)?,
            name: r.text(11)?,
        },
        team_id: r.opt_int(12)?,
        assignee_id: r.opt_int(13)?,
        merged_into_id: r.opt_int(14)?,
        message_count: r.int(15)?,
        created_at: Timestamp(r.int(16)?),
        updated_at: Timestamp(r.int(17)?),
        last_message_at: Timestamp(r.int(18)?),
        first_response_at: r.opt_int(19)?.map(Timestamp),
        solved_at: r.opt_int(20)?.map(Timestamp),
    })
}

/// Checks custom fields: an object of at most 100 keys (letters, digits, `_`, `-`, up to
/// 64 characters) whose values are text, numbers, booleans or null.
pub fn parse_custom_fields(v: &Json) -> Result<Map<String, Json>, FieldError> {
    let Json::Object(map) = v else {
        return Err(FieldError::new("custom_fields", "must be an object"));
    };
    if map.len() > 100 {
        return Err(FieldError::new("custom_fields", "at most 100 fields"));
    }
    for (k, v) in map {
        let ok_key = !k.is_empty()
            && k.len() <= 64
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok_key {
            return Err(FieldError::new(
                format!("custom_fields.{k}"),
                "field names are 1 to 64 letters, digits, dashes or underscores",
            ));
        }
        let ok_val = match v {
            Json::String(s) => s.len() <= 10_000,
            Json::Null | Json::Bool(_) | Json::Number(_) => true,
            _ => false,
        };
        if !ok_val {
            return Err(FieldError::new(
                format!("custom_fields.{k}"),
                "must be text (up to 10,000 bytes), a number, true/false or null",
            ));
        }
    }
    Ok(map.clone())
}

/// Everything needed to open a ticket, already parsed.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Subject line.
    pub subject: Subject,
    /// The customer's first message.
    pub body: Body,
    /// The customer's address.
    pub customer_email: EmailAddress,
    /// The customer's name, if given.
    pub customer_name: Option<String>,
    /// Channel of origin.
    pub channel: Channel,
    /// Priority.
    pub priority: Priority,
    /// Category, if known.
    pub category: Option<Category>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Custom fields.
    pub custom_fields: Map<String, Json>,
    /// Owning team.
    pub team_id: Option<i64>,
    /// Assignee.
    pub assignee_id: Option<i64>,
    /// Files attached to the first message.
    pub attachments: Vec<NewAttachment>,
}

async fn check_category(c: &mut dyn Conn, cat: &Category) -> Result<()> {
    if c.opt(
        "SELECT slug FROM categories WHERE slug = $1",
        &[cat.as_str().into()],
    )
    .await?
    .is_none()
    {
        return Err(FieldError::new("category", format!("no category {cat:?} exists")).into());
    }
    Ok(())
}

async fn check_team(c: &mut dyn Conn, team: i64) -> Result<()> {
    if c.opt("SELECT id FROM teams WHERE id = $1", &[team.into()])
        .await?
        .is_none()
    {
        return Err(FieldError::new("team_id", "no team has this id").into());
    }
    Ok(())
}

async fn check_assignee(c: &mut dyn Conn, user: i64) -> Result<()> {
    if c.opt(
        "SELECT id FROM users WHERE id = $1 AND active = $2",
        &[user.into(), true.into()],
    )
    .await?
    .is_none()
    {
        return Err(FieldError::new("assignee_id", "no active agent has this id").into());
    }
    Ok(())
}

pub(crate) async fn next_number(c: &mut dyn Conn) -> Result<i64> {
    let sql = match c.backend() {
        Backend::Sqlite => {
            "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number' RETURNING value"
        }
        Backend::Postgres => "SELECT nextval('ticket_number_seq')",
    };
    c.one(sql, &[]).await?.int(0)
}

async fn write_tags(c: &mut dyn Conn, ticket_id: i64, tags: &[String]) -> Result<()> {
    c.execute(
        "DELETE FROM ticket_tags WHERE ticket_id = $1",
        &[ticket_id.into()],
    )
    .await?;
    for t in tags {
        c.execute(
            "INSERT INTO ticket_tags (ticket_id, tag) VALUES ($1, $2)",
            &[ticket_id.into(), t.into()],
        )
        .await?;
    }
    Ok(())
}

/// Opens a ticket: finds or creates the customer, numbers the ticket, stores the first
/// message (written by the customer), indexes both for search and records the event.
/// `by` is the agent who entered it, if not the customer themselves.
pub async fn create(
    c: &mut dyn Conn,
    by: Option<&Viewer>,
    t: NewTicket,
    now: Timestamp,
) -> Result<Ticket> {
    if let Some(cat) = &t.category {
        check_category(c, cat).await?;
    }
    if let Some(team) = t.team_id {
        check_team(c, team).await?;
        if let Some(v) = by
            && !v.can_see_team(Some(team))
        {
            return Err(StoreError::Forbidden("you are not in that team"));
        }
    }
    if let Some(a) = t.assignee_id {
        check_assignee(c, a).await?;
    }
    NewAttachment::check_all(&t.attachments)?;
    let customer_id =
        customers::find_or_create(c, &t.customer_email, t.customer_name.as_deref(), now).await?;
    let number = next_number(c).await?;
    let tags: Vec<String> = t.tags.iter().map(|t| t.as_str().to_owned()).collect();
    let tags_json = serde_json::to_string(&tags)?;
    let fields_json = Json::Object(t.custom_fields.clone()).to_string();
    let id = c
        .one(
            "INSERT INTO tickets (number, subject, status, priority, category, channel, customer_id,
                                  team_id, assignee_id, tags, custom_fields, message_count,
                                  last_message_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12, $12)
             RETURNING id",
            &[
                number.into(),
                t.subject.as_str().into(),
                TicketStatus::New.as_str().into(),
                t.priority.rank().into(),
                t.category.as_ref().map(|c| c.as_str().to_owned()).into(),
                t.channel.as_str().into(),
                customer_id.into(),
                t.team_id.into(),
                t.assignee_id.into(),
                tags_json.into(),
                fields_json.into(),
                now.into(),
            ],
        )
        .await?
        .int(0)?;
    if !tags.is_empty() {
        write_tags(c, id, &tags).await?;
    }
    messages::insert(
        c,
        id,
        Actor::Customer(customer_id),
        false,
        t.channel,
        &t.body,
        t.attachments,
        now,
    )
    .await?;
    search::index_ticket(c, id, t.subject.as_str()).await?;
    let actor = by.map_or(Actor::Customer(customer_id), |v| Actor::User(v.user_id));
    events::record(
        c,
        id,
        actor,
        EventKind::TicketCreated,
        &json!({"number": number, "channel": t.channel, "priority": t.priority}),
        now,
    )
    .await?;
    Ok(Ticket {
        id,
        number,
        subject: t.subject.as_str().to_owned(),
        status: TicketStatus::New,
        priority: t.priority,
        category: t.category.map(String::from),
        channel: t.channel,
        tags,
        custom_fields: Json::Object(t.custom_fields),
        customer: CustomerRef {
            id: customer_id,
            email: t.customer_email.to_string(),
            name: t.customer_name.unwrap_or_default().trim().to_owned(),
        },
        team_id: t.team_id,
        assignee_id: t.assignee_id,
        merged_into_id: None,
        message_count: 1,
        created_at: now,
        updated_at: now,
        last_message_at: now,
        first_response_at: None,
        solved_at: None,
    })
}

/// One ticket, if the viewer may see it.
pub async fn get(c: &mut dyn Conn, viewer: &Viewer, id: i64) -> Result<Ticket> {
    let t = get_unchecked(c, id, false).await?;
    if !viewer.can_see_team(t.team_id) {
        return Err(StoreError::Forbidden(
            "this ticket belongs to a team you are not in",
        ));
    }
    Ok(t)
}

async fn get_unchecked(c: &mut dyn Conn, id: i64, for_update: bool) -> Result<Ticket> {
    let lock = if for_update && c.backend() == Backend::Postgres {
        " FOR UPDATE OF t"
    } else {
        ""
    };
    let row = c
        .opt(
            &format!("SELECT {TICKET_COLS} {TICKET_FROM} WHERE t.id = $1{lock}"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("ticket"))?;
    ticket_from(&row)
}

/// The id of the ticket with this human-readable number.
pub async fn id_by_number(c: &mut dyn Conn, number: i64) -> Result<i64> {
    c.opt("SELECT id FROM tickets WHERE number = $1", &[number.into()])
        .await?
        .ok_or(StoreError::NotFound("ticket"))?
        .int(0)
}

/// A customer's tickets that the viewer may see, newest first.
pub async fn for_customer(c: &mut dyn Conn, viewer: &Viewer, customer: i64) -> Result<Vec<Ticket>> {
    let rows = c
        .query(
            &format!(
                "SELECT {TICKET_COLS} {TICKET_FROM} WHERE t.customer_id = $1
                 ORDER BY t.created_at DESC, t.id DESC LIMIT 500"
            ),
            &[customer.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let t = ticket_from(r)?;
        if viewer.can_see_team(t.team_id) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Which column an inbox listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// Last change (the default: what moved most recently).
    #[default]
    UpdatedAt,
    /// Creation time.
    CreatedAt,
    /// Priority, ties by id.
    Priority,
    /// Ticket number.
    Number,
}

impl SortField {
    /// Parses `updated_at`, `created_at`, `priority` or `number`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "updated_at" => Ok(Self::UpdatedAt),
            "created_at" => Ok(Self::CreatedAt),
            "priority" => Ok(Self::Priority),
            "number" => Ok(Self::Number),
            _ => Err(FieldError::new(
                "sort",
                "must be one of: updated_at, created_at, priority, number",
            )),
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::UpdatedAt => "t.updated_at",
            Self::CreatedAt => "t.created_at",
            Self::Priority => "t.priority",
            Self::Number => "t.number",
        }
    }

    fn value(self, t: &Ticket) -> i64 {
        match self {
            Self::UpdatedAt => t.updated_at.micros(),
            Self::CreatedAt => t.created_at.micros(),
            Self::Priority => t.priority.rank(),
            Self::Number => t.number,
        }
    }
}

/// Filters of an inbox view. Empty means "everything the viewer may see".
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    /// Any of these statuses.
    pub statuses: Vec<TicketStatus>,
    /// This priority.
    pub priority: Option<Priority>,
    /// This category.
    pub category: Option<Category>,
    /// This channel.
    pub channel: Option<Channel>,
    /// This team (`Some(None)`: no team).
    pub team_id: Option<Option<i64>>,
    /// This assignee (`Some(None)`: unassigned).
    pub assignee_id: Option<Option<i64>>,
    /// This customer.
    pub customer_id: Option<i64>,
    /// Carrying this tag.
    pub tag: Option<Tag>,
}

/// Where a page starts and how it is ordered.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Sort column.
    pub sort: SortField,
    /// Ascending instead of descending.
    pub ascending: bool,
    /// Up to this many (1–200).
    pub limit: usize,
    /// The cursor from the previous page.
    pub cursor: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketPage {
    /// The tickets on this page.
    pub items: Vec<Ticket>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn encode_cursor(v: i64, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{v}:{id}"))
}

fn decode_cursor(s: &str) -> Result<(i64, i64), FieldError> {
    let bad = || FieldError::new("cursor", "is not a cursor this server gave out");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (v, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        v.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// Adds a parameter and returns its placeholder.
fn bind(v: Value, params: &mut Vec<Value>) -> String {
    params.push(v);
    format!("${}", params.len())
}

/// The WHERE conditions of a filter other than status, with the viewer's team scope.
fn conditions(viewer: &Viewer, f: &TicketFilter, params: &mut Vec<Value>) -> Vec<String> {
    let p = bind;
    let mut wh = Vec::new();
    if let Some(pr) = f.priority {
        wh.push(format!("t.priority = {}", p(pr.rank().into(), params)));
    }
    if let Some(cat) = &f.category {
        wh.push(format!("t.category = {}", p(cat.as_str().into(), params)));
    }
    if let Some(ch) = f.channel {
        wh.push(format!("t.channel = {}", p(ch.as_str().into(), params)));
    }
    match f.team_id {
        Some(Some(team)) => wh.push(format!("t.team_id = {}", p(team.into(), params))),
        Some(None) => wh.push("t.team_id IS NULL".into()),
        None => {}
    }
    match f.assignee_id {
        Some(Some(a)) => wh.push(format!("t.assignee_id = {}", p(a.into(), params))),
        Some(None) => wh.push("t.assignee_id IS NULL".into()),
        None => {}
    }
    if let Some(cu) = f.customer_id {
        wh.push(format!("t.customer_id = {}", p(cu.into(), params)));
    }
    if let Some(tag) = &f.tag {
        wh.push(format!(
            "EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = t.id AND tt.tag = {})",
            p(tag.as_str().into(), params)
        ));
    }
    if let Some(teams) = viewer.team_scope() {
        let list: Vec<String> = teams.iter().map(|t| p((*t).into(), params)).collect();
        if list.is_empty() {
            wh.push("t.team_id IS NULL".into());
        } else {
            wh.push(format!(
                "(t.team_id IS NULL OR t.team_id IN ({}))",
                list.join(", ")
            ));
        }
    }
    wh
}

/// How many tickets a view holds (for the counts beside each inbox view).
pub async fn count(c: &mut dyn Conn, viewer: &Viewer, f: &TicketFilter) -> Result<i64> {
    let mut params = Vec::new();
    let mut wh = conditions(viewer, f, &mut params);
    if !f.statuses.is_empty() {
        let list: Vec<String> = f
            .statuses
            .iter()
            .map(|s| bind(s.as_str().into(), &mut params))
            .collect();
        wh.push(format!("t.status IN ({})", list.join(", ")));
    }
    let where_sql = if wh.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", wh.join(" AND "))
    };
    c.one(
        &format!("SELECT COUNT(*) FROM tickets t {where_sql}"),
        &params,
    )
    .await?
    .int(0)
}

/// Lists tickets for an inbox view: filtered, sorted, one page at a time. Keyset
/// pagination (sort value, id) keeps every page as fast as the first.
pub async fn list(
    c: &mut dyn Conn,
    viewer: &Viewer,
    f: &TicketFilter,
    page: &PageRequest,
) -> Result<TicketPage> {
    let mut params: Vec<Value> = Vec::new();
    let mut wh = conditions(viewer, f, &mut params);
    let p = bind;
    let col = page.sort.column();
    let (cmp, dir) = if page.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some(cur) = &page.cursor {
        let (v, id) = decode_cursor(cur)?;
        let pv = p(v.into(), &mut params);
        let pid = p(id.into(), &mut params);
        wh.push(format!("({col}, t.id) {cmp} ({pv}, {pid})"));
    }
    let limit = page.limit.clamp(1, 200);
    let order = format!("ORDER BY {col} {dir}, t.id {dir} LIMIT {}", limit + 1);
    let where_sql = |extra: Option<String>| {
        let all: Vec<&str> = extra
            .as_deref()
            .into_iter()
            .chain(wh.iter().map(String::as_str))
            .collect();
        if all.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", all.join(" AND "))
        }
    };
    let sql = if f.statuses.len() > 1 {
        // One index range per status, each already sorted and cut to a page, then merged:
        // an inbox of open work stays as fast with a million solved tickets behind it.
        let arms: Vec<String> = f
            .statuses
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let ps = p(s.as_str().into(), &mut params);
                format!(
                    "SELECT * FROM (SELECT t.id FROM tickets t {} {order}) AS a{i}",
                    where_sql(Some(format!("t.status = {ps}")))
                )
            })
            .collect();
        format!(
            "SELECT {TICKET_COLS} {TICKET_FROM} WHERE t.id IN ({}) {order}",
            arms.join(" UNION ALL ")
        )
    } else {
        let status = f
            .statuses
            .first()
            .map(|s| format!("t.status = {}", p(s.as_str().into(), &mut params)));
        format!(
            "SELECT {TICKET_COLS} {TICKET_FROM} {} {order}",
            where_sql(status)
        )
    };
    let rows = c.query(&sql, &params).await?;
    let mut items = rows.iter().map(ticket_from).collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items
            .last()
            .map(|t| encode_cursor(page.sort.value(t), t.id))
    } else {
        None
    };
    Ok(TicketPage { items, next_cursor })
}

/// A change to a ticket's fields; `None` leaves a field alone. For the nullable fields,
/// `Some(None)` clears them.
#[derive(Debug, Clone, Default)]
pub struct TicketPatch {
    /// New subject.
    pub subject: Option<Subject>,
    /// New status (checked against the allowed moves).
    pub status: Option<TicketStatus>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New category or none.
    pub category: Option<Option<Category>>,
    /// New team or none.
    pub team_id: Option<Option<i64>>,
    /// New assignee or none.
    pub assignee_id: Option<Option<i64>>,
    /// Replaces the tags.
    pub tags: Option<Vec<Tag>>,
    /// Merged into the custom fields; a null value removes a field.
    pub custom_fields: Option<Map<String, Json>>,
}

impl TicketPatch {
    /// Whether the patch changes nothing at all.
    pub fn is_empty(&self) -> bool {
        self.subject.is_none()
            && self.status.is_none()
            && self.priority.is_none()
            && self.category.is_none()
            && self.team_id.is_none()
            && self.assignee_id.is_none()
            && self.tags.is_none()
            && self.custom_fields.is_none()
    }
}

/// Applies a patch, recording one `fields_changed` event listing each real change.
pub async fn update(
    c: &mut dyn Conn,
    viewer: &Viewer,
    id: i64,
    patch: TicketPatch,
    now: Timestamp,
) -> Result<Ticket> {
    let mut t = get_unchecked(c, id, true).await?;
    if !viewer.can_see_team(t.team_id) {
        return Err(StoreError::Forbidden(
            "this ticket belongs to a team you are not in",
        ));
    }
    let mut changes = Map::new();
    let mut change = |field: &str, from: Json, to: Json| {
        if from != to {
            changes.insert(field.to_owned(), json!({"from": from, "to": to}));
        }
    };
    if let Some(s) = patch.subject {
        change("subject", json!(t.subject), json!(s.as_str()));
        t.subject = s.as_str().to_owned();
    }
    if let Some(s) = patch.status {
        let to = t.status.transition(s)?;
        change("status", json!(t.status), json!(to));
        if to == TicketStatus::Solved && t.status != TicketStatus::Solved {
            t.solved_at = Some(now);
        }
        t.status = to;
    }
    if let Some(p) = patch.priority {
        change("priority", json!(t.priority), json!(p));
        t.priority = p;
    }
    if let Some(cat) = patch.category {
        if let Some(cat) = &cat {
            check_category(c, cat).await?;
        }
        let to = cat.map(String::from);
        change("category", json!(t.category), json!(to));
        t.category = to;
    }
    if let Some(team) = patch.team_id {
        if let Some(team) = team {
            check_team(c, team).await?;
        }
        if !viewer.can_see_team(team) {
            return Err(StoreError::Forbidden(
                "you cannot hand a ticket to a team you are not in",
            ));
        }
        change("team_id", json!(t.team_id), json!(team));
        t.team_id = team;
    }
    if let Some(a) = patch.assignee_id {
        if let Some(a) = a {
            check_assignee(c, a).await?;
        }
        change("assignee_id", json!(t.assignee_id), json!(a));
        t.assignee_id = a;
    }
    let mut tags_changed = false;
    if let Some(tags) = patch.tags {
        let to: Vec<String> = tags.iter().map(|t| t.as_str().to_owned()).collect();
        tags_changed = to != t.tags;
        change("tags", json!(t.tags), json!(to));
        t.tags = to;
    }
    if let Some(fields) = patch.custom_fields {
        let mut merged = t.custom_fields.as_object().cloned().unwrap_or_default();
        for (k, v) in fields {
            if v.is_null() {
                merged.remove(&k);
            } else {
                merged.insert(k, v);
            }
        }
        let to = Json::Object(merged);
        change("custom_fields", t.custom_fields.clone(), to.clone());
        t.custom_fields = to;
    }
    if changes.is_empty() {
        return Ok(t);
    }
    if t.status == TicketStatus::New && !changes.contains_key("status") {
        // Somebody worked on it: it is no longer untouched.
        change_status_open(&mut t, &mut changes);
    }
    t.updated_at = now;
    c.execute(
        "UPDATE tickets SET subject = $1, status = $2, priority = $3, category = $4, team_id = $5,
                assignee_id = $6, tags = $7, custom_fields = $8, solved_at = $9, updated_at = $10
         WHERE id = $11",
        &[
            t.subject.clone().into(),
            t.status.as_str().into(),
            t.priority.rank().into(),
            t.category.clone().into(),
            t.team_id.into(),
            t.assignee_id.into(),
            serde_json::to_string(&t.tags)?.into(),
            t.custom_fields.to_string().into(),
            t.solved_at.into(),
            now.into(),
            id.into(),
        ],
    )
    .await?;
    if tags_changed {
        write_tags(c, id, &t.tags).await?;
    }
    if changes.contains_key("subject") {
        search::reindex_ticket(c, id, &t.subject).await?;
    }
    let newly_assigned = changes
        .contains_key("assignee_id")
        .then_some(t.assignee_id)
        .flatten()
        .filter(|a| *a != viewer.user_id);
    events::record(
        c,
        id,
        Actor::User(viewer.user_id),
        EventKind::FieldsChanged,
        &Json::Object(changes),
        now,
    )
    .await?;
    if let Some(user_id) = newly_assigned {
        let notice = crate::notify::Notice::Assigned {
            user_id,
            ticket_id: id,
            by: viewer.user_id,
        };
        crate::notify::queue(c, &notice, now).await?;
    }
    Ok(t)
}

fn change_status_open(t: &mut Ticket, changes: &mut Map<String, Json>) {
    changes.insert(
        "status".into(),
        json!({"from": TicketStatus::New, "to": TicketStatus::Open}),
    );
    t.status = TicketStatus::Open;
}

/// A reply or note from an agent.
#[derive(Debug, Clone)]
pub struct NewReply {
    /// The text.
    pub body: Body,
    /// A note instead of a public reply.
    pub internal: bool,
    /// Files.
    pub attachments: Vec<NewAttachment>,
    /// A status to set in the same step ("reply and solve"); a public reply on a new or
    /// open ticket otherwise leaves it pending on the customer.
    pub status: Option<TicketStatus>,
    /// Send a public reply to the customer through the ticket's channel (email today).
    /// False only for replies that are history, such as imported or generated ones.
    pub deliver: bool,
}

/// Adds an agent's reply or note. A public reply counts as the first response if none
/// came before, and moves the ticket to `pending` (waiting on the customer) unless a
/// status is given; a note changes no status.
pub async fn reply(
    c: &mut dyn Conn,
    viewer: &Viewer,
    id: i64,
    r: NewReply,
    now: Timestamp,
) -> Result<Message> {
    let t = get_unchecked(c, id, true).await?;
    if !viewer.can_see_team(t.team_id) {
        return Err(StoreError::Forbidden(
            "this ticket belongs to a team you are not in",
        ));
    }
    if t.status == TicketStatus::Closed {
        return Err(StoreError::Conflict(
            "this ticket is closed; open a follow-up ticket instead".into(),
        ));
    }
    NewAttachment::check_all(&r.attachments)?;
    let to = match (r.status, r.internal) {
        (Some(s), _) => t.status.transition(s)?,
        (None, true) => t.status,
        (None, false) => TicketStatus::Pending,
    };
    let msg = messages::insert(
        c,
        id,
        Actor::User(viewer.user_id),
        r.internal,
        t.channel,
        &r.body,
        r.attachments,
        now,
    )
    .await?;
    let first_response = t
        .first_response_at
        .or(if r.internal { None } else { Some(now) });
    let solved_at = if to == TicketStatus::Solved && t.status != TicketStatus::Solved {
        Some(now)
    } else {
        t.solved_at
    };
    c.execute(
        "UPDATE tickets SET status = $1, message_count = message_count + 1, last_message_at = $2,
                updated_at = $2, first_response_at = $3, solved_at = $4
         WHERE id = $5",
        &[
            to.as_str().into(),
            now.into(),
            first_response.into(),
            solved_at.into(),
            id.into(),
        ],
    )
    .await?;
    if r.deliver && !r.internal && t.channel == Channel::Email {
        crate::mail::queue_delivery(c, msg.id, now).await?;
    }
    let kind = if r.internal {
        EventKind::NoteAdded
    } else {
        EventKind::ReplyAdded
    };
    let mut data = json!({"message_id": msg.id});
    if to != t.status {
        data["status"] = json!({"from": t.status, "to": to});
    }
    events::record(c, id, Actor::User(viewer.user_id), kind, &data, now).await?;
    Ok(msg)
}

/// Adds a message the customer wrote (a reply by email, chat or the portal). A solved
/// ticket reopens; a closed one refuses, so the channel can open a follow-up instead.
pub async fn customer_reply(
    c: &mut dyn Conn,
    id: i64,
    body: &Body,
    channel: Channel,
    attachments: Vec<NewAttachment>,
    now: Timestamp,
) -> Result<Message> {
    let t = get_unchecked(c, id, true).await?;
    if t.status == TicketStatus::Closed {
        return Err(StoreError::Conflict(
            "this ticket is closed; open a follow-up ticket instead".into(),
        ));
    }
    NewAttachment::check_all(&attachments)?;
    let customer = Actor::Customer(t.customer.id);
    let msg = messages::insert(c, id, customer, false, channel, body, attachments, now).await?;
    let to = t.status.on_customer_reply();
    c.execute(
        "UPDATE tickets SET status = $1, message_count = message_count + 1, last_message_at = $2,
                updated_at = $2
         WHERE id = $3",
        &[to.as_str().into(), now.into(), id.into()],
    )
    .await?;
    let mut data = json!({"message_id": msg.id});
    if to != t.status {
        data["status"] = json!({"from": t.status, "to": to});
    }
    events::record(c, id, customer, EventKind::ReplyAdded, &data, now).await?;
    if let Some(user_id) = t.assignee_id {
        let notice = crate::notify::Notice::CustomerReplied {
            user_id,
            ticket_id: id,
        };
        crate::notify::queue(c, &notice, now).await?;
    }
    Ok(msg)
}

/// Adds a note written by Rapport itself (a bounce, an automation), visible to agents only.
pub async fn system_note(
    c: &mut dyn Conn,
    id: i64,
    body: &Body,
    now: Timestamp,
) -> Result<Message> {
    let t = get_unchecked(c, id, true).await?;
    let msg =
        messages::insert(c, id, Actor::System, true, t.channel, body, Vec::new(), now).await?;
    c.execute(
        "UPDATE tickets SET message_count = message_count + 1, updated_at = $1 WHERE id = $2",
        &[now.into(), id.into()],
    )
    .await?;
    events::record(
        c,
        id,
        Actor::System,
        EventKind::NoteAdded,
        &json!({"message_id": msg.id}),
        now,
    )
    .await?;
    Ok(msg)
}

/// Merges ticket `source` into `target`: the thread moves over, tags are united, the
/// source is closed with a pointer to the target, and both record the merge.
pub async fn merge(
    c: &mut dyn Conn,
    viewer: &Viewer,
    source: i64,
    target: i64,
    now: Timestamp,
) -> Result<Ticket> {
    if source == target {
        return Err(FieldError::new("into", "a ticket cannot be merged into itself").into());
    }
    let s = get_unchecked(c, source, true).await?;
    let t = match get_unchecked(c, target, true).await {
        Err(StoreError::NotFound(_)) => {
            return Err(FieldError::new("into", "no ticket has this id").into());
        }
        other => other?,
    };
    if !viewer.can_see_team(s.team_id) || !viewer.can_see_team(t.team_id) {
        return Err(StoreError::Forbidden(
            "one of these tickets belongs to a team you are not in",
        ));
    }
    if s.merged_into_id.is_some() {
        return Err(StoreError::Conflict(
            "this ticket was already merged".into(),
        ));
    }
    if t.status == TicketStatus::Closed {
        return Err(FieldError::new("into", "cannot merge into a closed ticket").into());
    }
    let moved = c
        .execute(
            "UPDATE messages SET ticket_id = $1 WHERE ticket_id = $2",
            &[target.into(), source.into()],
        )
        .await?;
    search::move_messages(c, source, target).await?;
    let mut tags = t.tags.clone();
    for tag in &s.tags {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    let moved = i64::try_from(moved).unwrap_or(0);
    c.execute(
        "UPDATE tickets SET message_count = message_count + $1, tags = $2, updated_at = $3,
                last_message_at = CASE WHEN last_message_at > $4 THEN last_message_at ELSE $4 END
         WHERE id = $5",
        &[
            moved.into(),
            serde_json::to_string(&tags)?.into(),
            now.into(),
            s.last_message_at.into(),
            target.into(),
        ],
    )
    .await?;
    write_tags(c, target, &tags).await?;
    c.execute(
        "UPDATE tickets SET status = $1, merged_into_id = $2, message_count = 0, updated_at = $3
         WHERE id = $4",
        &[
            TicketStatus::Closed.as_str().into(),
            target.into(),
            now.into(),
            source.into(),
        ],
    )
    .await?;
    let actor = Actor::User(viewer.user_id);
    events::record(
        c,
        source,
        actor,
        EventKind::MergedInto,
        &json!({"into": target, "into_number": t.number, "messages_moved": moved}),
        now,
    )
    .await?;
    events::record(
        c,
        target,
        actor,
        EventKind::MergedFrom,
        &json!({"from": source, "from_number": s.number, "messages_moved": moved}),
        now,
    )
    .await?;
    get_unchecked(c, target, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = encode_cursor(-5, 42);
        assert_eq!(decode_cursor(&c).unwrap(), (-5, 42));
        assert_eq!(decode_cursor("!!!").unwrap_err().field, "cursor");
    }

    #[test]
    fn custom_fields_must_be_flat() {
        assert!(parse_custom_fields(&json!({"order_id": "A-1", "vip": true, "n": 3})).is_ok());
        assert_eq!(
            parse_custom_fields(&json!({"nested": {"a": 1}}))
                .unwrap_err()
                .field,
            "custom_fields.nested"
        );
        assert!(parse_custom_fields(&json!([1])).is_err());
        assert!(parse_custom_fields(&json!({"bad key": 1})).is_err());
    }
}
