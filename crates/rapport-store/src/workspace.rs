//! What agents use around the conversation: macros (canned responses that also change
//! fields), time logged per agent, and splitting a message out into its own ticket.

use rapport_domain::{Body, EventKind, FieldError, Priority, Tag, TicketStatus, Timestamp, Viewer};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::search;
use crate::tickets::{self, NewReply, Ticket, TicketPatch};
use crate::value::Row;

/// A canned response: text to send and field changes to make, in one click.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Macro {
    /// Database id.
    pub id: i64,
    /// What agents pick it by.
    pub name: String,
    /// The reply it sends (may be empty: a macro can only change fields).
    pub body: String,
    /// Status to set.
    #[schema(value_type = Option<String>)]
    pub set_status: Option<TicketStatus>,
    /// Priority to set.
    #[schema(value_type = Option<String>)]
    pub set_priority: Option<Priority>,
    /// Tags to add.
    pub add_tags: Vec<String>,
}

/// A macro to create, already parsed.
#[derive(Debug, Clone)]
pub struct NewMacro {
    /// Name (unique).
    pub name: String,
    /// Reply text, possibly empty.
    pub body: String,
    /// Status to set.
    pub set_status: Option<TicketStatus>,
    /// Priority to set.
    pub set_priority: Option<Priority>,
    /// Tags to add.
    pub add_tags: Vec<Tag>,
}

fn macro_from(r: &Row) -> Result<Macro> {
    Ok(Macro {
        id: r.int(0)?,
        name: r.text(1)?,
        body: r.text(2)?,
        set_status: r
            .opt_text(3)?
            .map(|s| TicketStatus::parse(&s))
            .transpose()?,
        set_priority: r.opt_int(4)?.and_then(Priority::from_rank),
        add_tags: serde_json::from_str(&r.text(5)?)?,
    })
}

const MACRO_COLS: &str = "id, name, body, set_status, set_priority, add_tags";

/// Creates a macro.
pub async fn create_macro(c: &mut dyn Conn, by: i64, m: NewMacro, now: Timestamp) -> Result<Macro> {
    let name = m.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "must be 1 to 100 characters").into());
    }
    if m.body.trim().is_empty()
        && m.set_status.is_none()
        && m.set_priority.is_none()
        && m.add_tags.is_empty()
    {
        return Err(FieldError::new("body", "a macro needs a reply or a change to make").into());
    }
    if m.body.len() > Body::MAX_BYTES {
        return Err(FieldError::new("body", "is longer than 256 KiB").into());
    }
    if c.opt(
        "SELECT id FROM macros WHERE name = $1",
        &[name.clone().into()],
    )
    .await?
    .is_some()
    {
        return Err(FieldError::new("name", "a macro with this name already exists").into());
    }
    let tags: Vec<&str> = m.add_tags.iter().map(Tag::as_str).collect();
    let row = c
        .one(
            &format!(
                "INSERT INTO macros (name, body, set_status, set_priority, add_tags, created_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {MACRO_COLS}"
            ),
            &[
                name.into(),
                m.body.trim_end().into(),
                m.set_status.map(|s| s.as_str()).into(),
                m.set_priority.map(Priority::rank).into(),
                serde_json::to_string(&tags)?.into(),
                by.into(),
                now.into(),
            ],
        )
        .await?;
    macro_from(&row)
}

/// Every macro, by name.
pub async fn list_macros(c: &mut dyn Conn) -> Result<Vec<Macro>> {
    c.query(
        &format!("SELECT {MACRO_COLS} FROM macros ORDER BY name"),
        &[],
    )
    .await?
    .iter()
    .map(macro_from)
    .collect()
}

/// Applies a macro to a ticket: its field changes, then its reply (if it has one).
pub async fn apply_macro(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
    macro_id: i64,
    now: Timestamp,
) -> Result<Ticket> {
    let m = c
        .opt(
            &format!("SELECT {MACRO_COLS} FROM macros WHERE id = $1"),
            &[macro_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("macro"))?;
    let m = macro_from(&m)?;
    let t = tickets::get(c, viewer, ticket_id).await?;
    let mut tags = Tag::parse_list(&t.tags)?;
    for add in Tag::parse_list(&m.add_tags)? {
        if !tags.contains(&add) {
            tags.push(add);
        }
    }
    let patch = TicketPatch {
        priority: m.set_priority,
        tags: Some(tags),
        ..TicketPatch::default()
    };
    tickets::update(c, viewer, ticket_id, patch, now).await?;
    if m.body.trim().is_empty() {
        if let Some(s) = m.set_status {
            let p = TicketPatch {
                status: Some(s),
                ..TicketPatch::default()
            };
            tickets::update(c, viewer, ticket_id, p, now).await?;
        }
    } else {
        let reply = NewReply {
            body: Body::parse(&m.body)?,
            internal: false,
            attachments: Vec::new(),
            status: m.set_status,
            deliver: true,
        };
        tickets::reply(c, viewer, ticket_id, reply, now).await?;
    }
    tickets::get(c, viewer, ticket_id).await
}

/// Time logged on a ticket, per agent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimeSpent {
    /// The agent.
    pub user_id: i64,
    /// Their name.
    pub name: String,
    /// Seconds in total.
    pub seconds: i64,
}

/// Logs time an agent spent on a ticket (1 second to 24 hours per entry).
pub async fn log_time(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
    seconds: i64,
    note: &str,
    now: Timestamp,
) -> Result<()> {
    if !(1..=86_400).contains(&seconds) {
        return Err(FieldError::new("minutes", "must be between 1 minute and 24 hours").into());
    }
    tickets::get(c, viewer, ticket_id).await?;
    c.execute(
        "INSERT INTO time_entries (ticket_id, user_id, seconds, note, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[
            ticket_id.into(),
            viewer.user_id.into(),
            seconds.into(),
            note.trim().chars().take(500).collect::<String>().into(),
            now.into(),
        ],
    )
    .await?;
    events::record(
        c,
        ticket_id,
        Actor::User(viewer.user_id),
        EventKind::TimeLogged,
        &json!({"seconds": seconds}),
        now,
    )
    .await
}

/// The time logged on a ticket, per agent.
pub async fn time_spent(c: &mut dyn Conn, ticket_id: i64) -> Result<Vec<TimeSpent>> {
    c.query(
        "SELECT e.user_id, u.name, CAST(SUM(e.seconds) AS BIGINT) FROM time_entries e JOIN users u ON u.id = e.user_id
         WHERE e.ticket_id = $1 GROUP BY e.user_id, u.name ORDER BY u.name",
        &[ticket_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(TimeSpent {
            user_id: r.int(0)?,
            name: r.text(1)?,
            seconds: r.int(2)?,
        })
    })
    .collect()
}

/// Splits one customer message out into a new ticket of its own (same customer,
/// channel, team), moving the message; both tickets record the split.
pub async fn split_message(
    c: &mut dyn Conn,
    viewer: &Viewer,
    message_id: i64,
    now: Timestamp,
) -> Result<Ticket> {
    let m = c
        .opt(
            "SELECT ticket_id, author_kind FROM messages WHERE id = $1",
            &[message_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("message"))?;
    let source_id = m.int(0)?;
    let source = tickets::get(c, viewer, source_id).await?;
    if m.text(1)? != "customer" {
        return Err(
            FieldError::new("message_id", "only a customer's message can start a ticket").into(),
        );
    }
    if source.message_count <= 1 {
        return Err(StoreError::Conflict(
            "a ticket's only message cannot be split off".into(),
        ));
    }
    let subject = format!("{} (split from #{})", source.subject, source.number);
    let subject: String = subject.chars().take(255).collect();
    let number = tickets::next_number(c).await?;
    let id = c
        .one(
            "INSERT INTO tickets (number, subject, status, priority, category, channel, customer_id,
                                  team_id, tags, custom_fields, message_count, last_message_at,
                                  created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '[]', '{}', 1, $9, $9, $9) RETURNING id",
            &[
                number.into(),
                subject.clone().into(),
                TicketStatus::Open.as_str().into(),
                source.priority.rank().into(),
                source.category.clone().into(),
                source.channel.as_str().into(),
                source.customer.id.into(),
                source.team_id.into(),
                now.into(),
            ],
        )
        .await?
        .int(0)?;
    c.execute(
        "UPDATE messages SET ticket_id = $1 WHERE id = $2",
        &[id.into(), message_id.into()],
    )
    .await?;
    c.execute(
        "UPDATE search_index SET ticket_id = $1 WHERE kind = 'message' AND ref_id = $2",
        &[id.into(), message_id.into()],
    )
    .await?;
    c.execute(
        "UPDATE tickets SET message_count = message_count - 1, updated_at = $1 WHERE id = $2",
        &[now.into(), source_id.into()],
    )
    .await?;
    search::index_ticket(c, id, &subject).await?;
    let actor = Actor::User(viewer.user_id);
    events::record(
        c,
        id,
        actor,
        EventKind::SplitFrom,
        &json!({"from": source_id, "from_number": source.number, "message_id": message_id}),
        now,
    )
    .await?;
    events::record(
        c,
        source_id,
        actor,
        EventKind::SplitInto,
        &json!({"into": id, "into_number": number, "message_id": message_id}),
        now,
    )
    .await?;
    tickets::get(c, viewer, id).await
}

/// An inbox view an agent saved.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavedView {
    /// Database id.
    pub id: i64,
    /// The name in the views menu.
    pub name: String,
    /// The filters, as the list's query string (`status=open&channel=email`).
    pub query: String,
}

/// Saves a view for an agent (a name they already use is replaced).
pub async fn save_view(
    c: &mut dyn Conn,
    user_id: i64,
    name: &str,
    query: &str,
    now: Timestamp,
) -> Result<SavedView> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(FieldError::new("name", "must be 1 to 60 characters").into());
    }
    if query.len() > 1_000 {
        return Err(FieldError::new("query", "is too long").into());
    }
    let row = c
        .one(
            "INSERT INTO saved_views (user_id, name, query, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query
             RETURNING id, name, query",
            &[user_id.into(), name.into(), query.into(), now.into()],
        )
        .await?;
    Ok(SavedView {
        id: row.int(0)?,
        name: row.text(1)?,
        query: row.text(2)?,
    })
}

/// An agent's saved views, by name.
pub async fn saved_views(c: &mut dyn Conn, user_id: i64) -> Result<Vec<SavedView>> {
    c.query(
        "SELECT id, name, query FROM saved_views WHERE user_id = $1 ORDER BY name",
        &[user_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(SavedView {
            id: r.int(0)?,
            name: r.text(1)?,
            query: r.text(2)?,
        })
    })
    .collect()
}

/// A custom ticket field an admin defined.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomFieldDef {
    /// The key in `custom_fields`.
    pub key: String,
    /// The label agents see.
    pub label: String,
}

/// Defines a custom field; the key must be new.
pub async fn define_field(
    c: &mut dyn Conn,
    key: &str,
    label: &str,
    now: Timestamp,
) -> Result<CustomFieldDef> {
    let key = key.trim();
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
    if !ok {
        return Err(FieldError::new(
            "key",
            "use 1 to 64 lower-case letters, digits or underscores",
        )
        .into());
    }
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(FieldError::new("label", "must be 1 to 100 characters").into());
    }
    let n = c
        .execute(
            "INSERT INTO custom_field_defs (key, label, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            &[key.into(), label.into(), now.into()],
        )
        .await?;
    if n == 0 {
        return Err(FieldError::new("key", "a field with this key already exists").into());
    }
    Ok(CustomFieldDef {
        key: key.to_owned(),
        label: label.to_owned(),
    })
}

/// Every defined custom field, by label.
pub async fn fields(c: &mut dyn Conn) -> Result<Vec<CustomFieldDef>> {
    c.query(
        "SELECT key, label FROM custom_field_defs ORDER BY label",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(CustomFieldDef {
            key: r.text(0)?,
            label: r.text(1)?,
        })
    })
    .collect()
}
