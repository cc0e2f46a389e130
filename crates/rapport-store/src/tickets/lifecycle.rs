//! A ticket's lifecycle: opening it (numbered, with its first message), changing its
//! fields, merging it into another.

use rapport_domain::score::{self, Signals};
use rapport_domain::{
    Body, Category, Channel, CustomerName, EmailAddress, EventKind, FieldError, Priority, Subject,
    Tag, TicketStatus, Timestamp, Viewer,
};
use serde_json::{Map, Value as Json, json};

use super::{CustomerRef, Ticket, get_unchecked};
use crate::db::Conn;
use crate::dialect;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::messages::{self, NewAttachment};
use crate::value::Value;
use crate::{customers, search};

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
    pub customer_name: Option<CustomerName>,
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
    let sql = dialect::next_ticket_number(c.backend());
    c.one(sql, &[]).await?.int("number")
}

async fn write_tags(c: &mut dyn Conn, ticket_id: i64, tags: &[String]) -> Result<()> {
    c.execute(
        "DELETE FROM ticket_tags WHERE ticket_id = $1",
        &[ticket_id.into()],
    )
    .await?;
    insert_tags(c, ticket_id, tags).await
}

/// Adds tags to a ticket that has none of them, in one statement.
async fn insert_tags(c: &mut dyn Conn, ticket_id: i64, tags: &[String]) -> Result<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let mut params: Vec<Value> = vec![ticket_id.into()];
    let rows: Vec<String> = tags
        .iter()
        .map(|t| {
            params.push(t.as_str().into());
            format!("($1, ${})", params.len())
        })
        .collect();
    c.execute(
        &format!(
            "INSERT INTO ticket_tags (ticket_id, tag) VALUES {}",
            rows.join(", ")
        ),
        &params,
    )
    .await?;
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
    create_expecting(c, by, t, now, None).await
}

/// [`create`] by a creator that worked out the ticket's SLA clocks already (from policies
/// it keeps in memory): the row is written with their soonest due time (`sla_due`; none
/// running: `None`), so the `sla.clocks` subscriber, which stores the clocks a moment
/// later, need not write the ticket again. A wrong guess costs only that second write.
pub async fn create_expecting(
    c: &mut dyn Conn,
    by: Option<&Viewer>,
    t: NewTicket,
    now: Timestamp,
    sla_due: Option<Timestamp>,
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
    parse_custom_fields(&Json::Object(t.custom_fields.clone()))?;
    let (customer_id, tier) =
        customers::find_or_create_with_tier(c, &t.customer_email, t.customer_name.as_ref(), now)
            .await?;
    let signals = Signals::read(&[t.subject.as_str(), t.body.as_str()], tier.as_deref())
        .felt(t.body.sentiment());
    let standing = score::standing(&signals, t.priority);
    let number = next_number(c).await?;
    let tags: Vec<String> = t.tags.iter().map(|t| t.as_str().to_owned()).collect();
    let tags_json = serde_json::to_string(&tags)?;
    let fields_json = Json::Object(t.custom_fields.clone()).to_string();
    let id = c
        .one(
            "INSERT INTO tickets (number, subject, status, priority, category, channel, customer_id,
                                  team_id, assignee_id, tags, custom_fields, message_count,
                                  last_message_at, created_at, updated_at, score_standing,
                                  score_signals, status_since, sla_due_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12, $12, $13, $14, $12,
                     $15)
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
                standing.into(),
                crate::score::stored(&signals)?.into(),
                sla_due
                    .map_or(crate::sla::clocks::NO_DUE, |d| d.micros())
                    .into(),
            ],
        )
        .await?
        .int("id")?;
    insert_tags(c, id, &tags).await?;
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
            name: t
                .customer_name
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default(),
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
        sla: None,
        signals,
        classification: None,
    })
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
    apply(c, Some(viewer), id, patch, None, now).await
}

/// Applies a patch for an automation rule: recorded as Rapport's change, with
/// `provenance` (the rule and the chain of rules that led to it) in the event, so the
/// rules it sets off know where it came from. No team check: rules act on every ticket.
pub async fn update_by_rule(
    c: &mut dyn Conn,
    id: i64,
    patch: TicketPatch,
    provenance: Json,
    now: Timestamp,
) -> Result<Ticket> {
    apply(c, None, id, patch, Some(provenance), now).await
}

async fn apply(
    c: &mut dyn Conn,
    viewer: Option<&Viewer>,
    id: i64,
    patch: TicketPatch,
    provenance: Option<Json>,
    now: Timestamp,
) -> Result<Ticket> {
    let may_see = |team: Option<i64>| viewer.is_none_or(|v| v.can_see_team(team));
    let mut t = get_unchecked(c, id, true).await?;
    if !may_see(t.team_id) {
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
        if !may_see(team) {
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
        // Checked here, not only by the API, so every caller (the workspace form, a job)
        // meets the same rules: the patch, then the merged whole.
        let fields = parse_custom_fields(&Json::Object(fields))?;
        let mut merged = t.custom_fields.as_object().cloned().unwrap_or_default();
        for (k, v) in fields {
            if v.is_null() {
                merged.remove(&k);
            } else {
                merged.insert(k, v);
            }
        }
        let to = Json::Object(parse_custom_fields(&Json::Object(merged))?);
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
                assignee_id = $6, tags = $7, custom_fields = $8, solved_at = $9, updated_at = $10,
                score_standing = $12,
                status_since = CASE WHEN status = $2 THEN status_since ELSE $10 END
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
            score::standing(&t.signals, t.priority).into(),
        ],
    )
    .await?;
    if tags_changed {
        write_tags(c, id, &t.tags).await?;
    }
    if changes.contains_key("subject") {
        search::reindex_ticket(c, id, &t.subject).await?;
    }
    let actor = viewer.map_or(Actor::System, |v| Actor::User(v.user_id));
    if let Some(p) = provenance {
        changes.insert("automation".into(), p);
    }
    events::record(
        c,
        id,
        actor,
        EventKind::FieldsChanged,
        &Json::Object(changes),
        now,
    )
    .await?;
    Ok(t)
}

fn change_status_open(t: &mut Ticket, changes: &mut Map<String, Json>) {
    changes.insert(
        "status".into(),
        json!({"from": TicketStatus::New, "to": TicketStatus::Open}),
    );
    t.status = TicketStatus::Open;
}

/// Whether a merge may join two customers' tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossCustomer {
    /// Refuse a merge across customers (422 naming `confirm_other_customer`).
    Refuse,
    /// The agent confirmed: merge anyway.
    Confirmed,
}

/// Merges ticket `source` into `target`: the thread moves over, tags are united, the
/// source is closed with a pointer to the target, and both record the merge. Tickets of
/// two customers merge only when the agent confirmed it (`cross`); the moved messages stay
/// the source customer's conversation, so the target's customer never reads them in the
/// portal (nor the other way round).
pub async fn merge(
    c: &mut dyn Conn,
    viewer: &Viewer,
    source: i64,
    target: i64,
    cross: CrossCustomer,
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
    // A chat's visitor reads their ticket's thread with nothing but the widget's token,
    // and their address was only typed: another ticket's messages must never land there.
    if crate::chat::exists(c, target).await? {
        return Err(FieldError::new(
            "into",
            "this ticket is a live chat, whose visitor would see the merged messages; merge the chat into the other ticket instead",
        )
        .into());
    }
    if s.customer.id != t.customer.id && cross != CrossCustomer::Confirmed {
        return Err(FieldError::new(
            "confirm_other_customer",
            format!(
                "ticket #{} belongs to another customer ({}); confirm to merge anyway",
                t.number, t.customer.email
            ),
        )
        .into());
    }
    // The moved messages stay the conversation of the customer they were written to/by.
    c.execute(
        "UPDATE messages SET recipient_customer_id = $1
         WHERE ticket_id = $2 AND recipient_customer_id IS NULL",
        &[s.customer.id.into(), source.into()],
    )
    .await?;
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
        "UPDATE tickets SET status = $1, merged_into_id = $2, message_count = 0, updated_at = $3,
                status_since = CASE WHEN status = $1 THEN status_since ELSE $3 END
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
