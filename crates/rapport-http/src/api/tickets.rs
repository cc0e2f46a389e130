//! `/api/v1/tickets`: open, read, list, change, reply, note, merge.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use rapport_domain::{
    Body, Category, Channel, CustomerName, EmailAddress, Permission, Principal, Priority, Subject,
    Tag, TicketStatus, Timestamp, Viewer,
};
use rapport_store::events;

use crate::api::classify::ClassificationView;
use crate::api::score::ScoreView;
use crate::api::sla::view::SlaView;
use rapport_domain::sla::policy::TicketFacts;
use rapport_store::messages::{self, NewAttachment};
use rapport_store::op;
use rapport_store::tickets::{
    self, NewReply, NewTicket, PageRequest, SortField, TicketFilter, TicketPatch,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::events::EventView;
use crate::api::messages::MessageView;
use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// The customer as shown on a ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CustomerRef)]
pub struct CustomerRefView {
    /// Customer id.
    pub id: i64,
    /// Their address.
    pub email: String,
    /// Their name (may be empty).
    pub name: String,
}

impl From<tickets::CustomerRef> for CustomerRefView {
    fn from(c: tickets::CustomerRef) -> Self {
        Self {
            id: c.id,
            email: c.email,
            name: c.name,
        }
    }
}

/// A ticket as the API returns it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Ticket)]
pub struct TicketView {
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
    pub custom_fields: serde_json::Value,
    /// Who asked.
    pub customer: CustomerRefView,
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
    /// Its SLA clocks (absent: no policy applies).
    pub sla: Option<SlaView>,
    /// Its priority score now, with the reasons.
    pub score: ScoreView,
    /// The classifier's verdict (null when it gave none: an agent set the category, or it
    /// had fewer than two categories to choose between): the category it chose, how sure
    /// it was, and whether it applied it.
    pub classification: Option<ClassificationView>,
}

impl TicketView {
    /// The ticket as it reads at `now` (its SLA clocks' breaches depend on it).
    pub fn new(t: tickets::Ticket, now: Timestamp) -> Self {
        let score = ScoreView::of(&t, now);
        Self {
            score,
            classification: t.classification.clone().map(Into::into),
            id: t.id,
            number: t.number,
            subject: t.subject,
            status: t.status,
            priority: t.priority,
            category: t.category,
            channel: t.channel,
            tags: t.tags,
            custom_fields: t.custom_fields,
            customer: t.customer.into(),
            team_id: t.team_id,
            assignee_id: t.assignee_id,
            merged_into_id: t.merged_into_id,
            message_count: t.message_count,
            created_at: t.created_at,
            updated_at: t.updated_at,
            last_message_at: t.last_message_at,
            first_response_at: t.first_response_at,
            solved_at: t.solved_at,
            sla: t.sla.as_ref().map(|s| SlaView::new(s, now)),
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TicketPage)]
pub struct TicketPageView {
    /// The tickets on this page.
    pub items: Vec<TicketView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl TicketPageView {
    /// The page as it reads at `now`.
    pub fn new(p: tickets::TicketPage, now: Timestamp) -> Self {
        Self {
            items: p
                .items
                .into_iter()
                .map(|t| TicketView::new(t, now))
                .collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// The customer a new ticket is for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    /// Their address; the customer is found or created by it.
    pub email: String,
    /// Their name.
    pub name: Option<String>,
}

/// A file, base64-encoded.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// The bytes, standard base64.
    pub data_base64: String,
}

fn decode_attachments(list: Option<Vec<AttachmentInput>>) -> ApiResult<Vec<NewAttachment>> {
    list.unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let data = base64::engine::general_purpose::STANDARD
                .decode(a.data_base64.trim())
                .map_err(|_| {
                    ApiError::field(
                        format!("attachments[{i}].data_base64"),
                        "is not valid base64",
                    )
                })?;
            Ok(NewAttachment {
                filename: a.filename,
                content_type: a.content_type,
                data,
                content_id: None,
            })
        })
        .collect()
}

/// `POST /api/v1/tickets`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    /// Subject line.
    pub subject: String,
    /// The customer's first message.
    pub body: String,
    /// Who is asking.
    pub customer: CustomerInput,
    /// Channel of origin (default `api`).
    pub channel: Option<String>,
    /// `low`, `normal` (default), `high` or `urgent`.
    pub priority: Option<String>,
    /// A category slug.
    pub category: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Custom fields: an object of text, numbers, booleans.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Value>,
    /// Owning team.
    pub team_id: Option<i64>,
    /// Assigned agent.
    pub assignee_id: Option<i64>,
    /// Files on the first message.
    pub attachments: Option<Vec<AttachmentInput>>,
}

impl CreateTicketRequest {
    fn parse(self) -> ApiResult<NewTicket> {
        let customer_email =
            EmailAddress::parse(&self.customer.email).map_err(|e| e.within("customer"))?;
        let customer_name = self
            .customer
            .name
            .as_deref()
            .map(CustomerName::parse)
            .transpose()
            .map_err(|e| e.within("customer"))?
            .flatten();
        Ok(NewTicket {
            subject: Subject::parse(&self.subject)?,
            body: Body::parse(&self.body)?,
            customer_email,
            customer_name,
            channel: self
                .channel
                .as_deref()
                .map_or(Ok(Channel::Api), Channel::parse)?,
            priority: self
                .priority
                .as_deref()
                .map_or(Ok(Priority::Normal), Priority::parse)?,
            category: self.category.as_deref().map(Category::parse).transpose()?,
            tags: Tag::parse_list(&self.tags.unwrap_or_default())?,
            custom_fields: self
                .custom_fields
                .as_ref()
                .map(tickets::parse_custom_fields)
                .transpose()?
                .unwrap_or_default(),
            team_id: self.team_id,
            assignee_id: self.assignee_id,
            attachments: decode_attachments(self.attachments)?,
        })
    }
}

/// Opens a ticket with its first message.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets",
    request_body = CreateTicketRequest,
    responses(
        (status = 201, description = "Created and durable", body = TicketView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_ticket(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<CreateTicketRequest>,
) -> ApiResult<(StatusCode, Json<TicketView>)> {
    require(&viewer, Permission::WorkTickets)?;
    let new = req.parse()?;
    let now = st.now();
    // The clocks the `sla.clocks` subscriber starts a moment later: from the policies kept
    // in memory (the ticket is written with their due time, so the subscriber need not
    // write it again), or (when the customer's organisation or tier may matter) a read
    // after the commit.
    let facts = TicketFacts {
        priority: new.priority,
        category: new.category.clone(),
        channel: new.channel,
        organization: None,
        tier: None,
    };
    let expected = st.sla_terms.starting(&st, &facts, now).await;
    // The customer's mood is read here, not inside the write.
    new.body.sentiment();
    let due = expected.as_ref().and_then(|s| s.next_due());
    let mut t = st
        .db
        .write(op!(c => tickets::create_expecting(c, Some(&viewer), new, now, due).await))
        .await?;
    t.sla = expected;
    let t = with_clocks(&st, t).await;
    Ok((StatusCode::CREATED, Json(TicketView::new(t, now))))
}

/// A ticket just written, with the SLA clocks the `sla.clocks` subscriber is about to
/// store when it has not yet: worked out on a read snapshot after the commit (not inside
/// the write, which on SQLite every other write waits for), and left out if that read
/// fails — the write is acknowledged either way.
async fn with_clocks(st: &AppState, mut t: tickets::Ticket) -> tickets::Ticket {
    if t.sla.is_some() {
        return t;
    }
    let id = t.id;
    if let Ok(sla) = st
        .db
        .read(op!(c => Ok(rapport_store::sla::clocks::started_unless_stored(c, id).await.ok().flatten())))
        .await
    {
        t.sla = sla;
    }
    t
}

/// Reads one ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_ticket(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TicketView>> {
    require(&viewer, Permission::WorkTickets)?;
    let who = Principal::Agent(viewer);
    let t = st
        .db
        .read(op!(c => {
            let mut t = tickets::get(c, &who, id).await?;
            rapport_store::sla::clocks::fill_in(c, &mut t).await;
            Ok(t)
        }))
        .await?;
    Ok(Json(TicketView::new(t, st.now())))
}

/// Filters and paging of `GET /api/v1/tickets`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Comma-separated statuses, or `unsolved` (new, open, pending, on-hold).
    pub status: Option<String>,
    /// Priority.
    pub priority: Option<String>,
    /// Category slug.
    pub category: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Team id, or `none`.
    pub team_id: Option<String>,
    /// Agent id, `me`, or `none` for unassigned.
    pub assignee_id: Option<String>,
    /// Customer id.
    pub customer_id: Option<i64>,
    /// A tag.
    pub tag: Option<String>,
    /// `updated_at` (default), `created_at`, `priority`, `number`, `sla_due` (the soonest SLA
    /// due time first with `order=asc`; tickets without a running clock last) or `score`
    /// (the priority score, most pressing first).
    pub sort: Option<String>,
    /// `desc` (default) or `asc`.
    pub order: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn id_or_none(field: &str, raw: &str, me: i64) -> ApiResult<Option<i64>> {
    match raw {
        "none" => Ok(None),
        "me" if field == "assignee_id" => Ok(Some(me)),
        _ => raw
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::field(field, "must be an id or none")),
    }
}

impl ListParams {
    /// The filter and page these parameters ask for.
    pub fn parse(self, viewer: &Viewer) -> ApiResult<(TicketFilter, PageRequest)> {
        // A set: `open,open,…` asks for open once.
        let mut statuses = BTreeSet::new();
        for s in self.status.iter().flat_map(|s| s.split(',')).map(str::trim) {
            if s == "unsolved" {
                statuses.extend(TicketStatus::ALL.iter().filter(|s| s.is_unsolved()));
            } else if !s.is_empty() {
                statuses.insert(TicketStatus::parse(s)?);
            }
        }
        let filter = TicketFilter {
            statuses,
            priority: self.priority.as_deref().map(Priority::parse).transpose()?,
            category: self.category.as_deref().map(Category::parse).transpose()?,
            channel: self.channel.as_deref().map(Channel::parse).transpose()?,
            team_id: self
                .team_id
                .as_deref()
                .map(|r| id_or_none("team_id", r, viewer.user_id))
                .transpose()?,
            assignee_id: self
                .assignee_id
                .as_deref()
                .map(|r| id_or_none("assignee_id", r, viewer.user_id))
                .transpose()?,
            customer_id: self.customer_id,
            tag: self.tag.as_deref().map(Tag::parse).transpose()?,
        };
        let ascending = match self.order.as_deref() {
            None | Some("desc") => false,
            Some("asc") => true,
            Some(_) => return Err(ApiError::field("order", "must be asc or desc")),
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ApiError::field("limit", "must be between 1 and 200"));
        }
        let page = PageRequest {
            sort: self
                .sort
                .as_deref()
                .map_or(Ok(SortField::UpdatedAt), SortField::parse)?,
            ascending,
            limit,
            cursor: self.cursor,
            now: 0,
        };
        Ok((filter, page))
    }
}

/// Lists tickets for an inbox view, newest change first by default.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets",
    params(ListParams),
    responses((status = 200, body = TicketPageView), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tickets(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<TicketPageView>> {
    require(&viewer, Permission::WorkTickets)?;
    let (filter, mut page) = params.parse(&viewer)?;
    page.now = st.now().micros();
    let p = st
        .db
        .read(op!(c => tickets::list(c, &viewer, &filter, &page).await))
        .await?;
    Ok(Json(TicketPageView::new(p, st.now())))
}

/// Tells a field set to `null` (`Some(None)`) from a field left out (`None`).
pub(crate) fn double<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `PATCH /api/v1/tickets/{id}`: only the fields present change; `null` clears the
/// nullable ones.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTicketRequest {
    /// New subject.
    pub subject: Option<String>,
    /// New status.
    pub status: Option<String>,
    /// New priority.
    pub priority: Option<String>,
    /// New category, or null.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// New team, or null.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    /// New assignee, or null.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Merged into the custom fields; null removes one.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Value>,
}

impl PatchTicketRequest {
    fn parse(self) -> ApiResult<TicketPatch> {
        let p = TicketPatch {
            subject: self.subject.as_deref().map(Subject::parse).transpose()?,
            status: self
                .status
                .as_deref()
                .map(TicketStatus::parse)
                .transpose()?,
            priority: self.priority.as_deref().map(Priority::parse).transpose()?,
            category: self
                .category
                .map(|c| c.as_deref().map(Category::parse).transpose())
                .transpose()?,
            team_id: self.team_id,
            assignee_id: self.assignee_id,
            tags: self.tags.as_deref().map(Tag::parse_list).transpose()?,
            custom_fields: self
                .custom_fields
                .as_ref()
                .map(tickets::parse_custom_fields)
                .transpose()?,
        };
        if p.is_empty() {
            return Err(ApiError::field("body", "name at least one field to change"));
        }
        Ok(p)
    }
}

/// Changes a ticket's fields.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = PatchTicketRequest,
    responses((status = 200, body = TicketView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_ticket(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<PatchTicketRequest>,
) -> ApiResult<Json<TicketView>> {
    require(&viewer, Permission::WorkTickets)?;
    let patch = req.parse()?;
    let now = st.now();
    let t = st
        .db
        .write(op!(c => tickets::update(c, &viewer, id, patch, now).await))
        .await?;
    let t = with_clocks(&st, t).await;
    Ok(Json(TicketView::new(t, st.now())))
}

/// `POST /api/v1/tickets/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessageRequest {
    /// The text.
    pub body: String,
    /// True for an internal note (default false: a public reply).
    #[serde(default)]
    pub internal: bool,
    /// Set the status in the same step (e.g. `solved`).
    pub status: Option<String>,
    /// Files.
    pub attachments: Option<Vec<AttachmentInput>>,
}

/// Adds a public reply or an internal note.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/messages", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = CreateMessageRequest,
    responses((status = 201, body = MessageView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_message(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<CreateMessageRequest>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    require(&viewer, Permission::WorkTickets)?;
    let reply = NewReply {
        body: Body::parse(&req.body)?,
        internal: req.internal,
        status: req.status.as_deref().map(TicketStatus::parse).transpose()?,
        attachments: decode_attachments(req.attachments)?,
        deliver: true,
    };
    let now = st.now();
    let m = st
        .db
        .write(op!(c => tickets::reply(c, &viewer, id, reply, now).await))
        .await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// The thread, oldest first, notes included.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/messages", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = Vec<MessageView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_messages(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<MessageView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let who = Principal::Agent(viewer);
    let m = st
        .db
        .read(op!(c => messages::for_ticket(c, &who, id).await))
        .await?;
    Ok(Json(m.into_iter().map(Into::into).collect()))
}

/// The ticket's history: every change, who made it and when.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/events", tag = "tickets",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = Vec<EventView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_events(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<EventView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let who = Principal::Agent(viewer);
    let e = st
        .db
        .read(op!(c => {
            tickets::get(c, &who, id).await?;
            events::for_ticket(c, id).await
        }))
        .await?;
    Ok(Json(e.into_iter().map(Into::into).collect()))
}

/// `POST /api/v1/tickets/{id}/merge`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The ticket that lives on.
    pub into: i64,
    /// Must be `true` to merge into a ticket of another customer (otherwise 422 naming
    /// this field). The moved messages stay visible only to their own customer.
    #[serde(default)]
    pub confirm_other_customer: bool,
}

/// Merges this ticket into another: the thread moves, this one closes.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/merge", tag = "tickets",
    params(("id" = i64, Path, description = "The duplicate ticket")),
    request_body = MergeRequest,
    responses((status = 200, description = "The surviving ticket", body = TicketView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn merge_ticket(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<MergeRequest>,
) -> ApiResult<Json<TicketView>> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    let into = req.into;
    let cross = if req.confirm_other_customer {
        tickets::CrossCustomer::Confirmed
    } else {
        tickets::CrossCustomer::Refuse
    };
    let t = st
        .db
        .write(op!(c => tickets::merge(c, &viewer, id, into, cross, now).await))
        .await?;
    let t = with_clocks(&st, t).await;
    Ok(Json(TicketView::new(t, st.now())))
}
