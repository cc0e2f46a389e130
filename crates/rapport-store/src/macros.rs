//! Macros: canned responses that also change fields, applied in one click.

use rapport_domain::{Body, FieldError, Priority, Tag, TicketStatus, Timestamp, Viewer};
use serde::Serialize;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::tickets::{self, NewReply, Ticket, TicketPatch};
use crate::value::Row;

/// A canned response: text to send and field changes to make, in one click.
#[derive(Debug, Clone, Serialize)]
pub struct Macro {
    /// Database id.
    pub id: i64,
    /// What agents pick it by.
    pub name: String,
    /// The reply it sends (may be empty: a macro can only change fields).
    pub body: String,
    /// Status to set.
    pub set_status: Option<TicketStatus>,
    /// Priority to set.
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
        id: r.int("id")?,
        name: r.text("name")?,
        body: r.text("body")?,
        set_status: r
            .opt_text("set_status")?
            .map(|s| TicketStatus::parse(&s))
            .transpose()?,
        set_priority: r.opt_int("set_priority")?.and_then(Priority::from_rank),
        add_tags: serde_json::from_str(&r.text("add_tags")?)?,
    })
}

const MACRO_COLS: &str = "id, name, body, set_status, set_priority, add_tags";

/// Creates a macro.
pub async fn create(c: &mut dyn Conn, by: i64, m: NewMacro, now: Timestamp) -> Result<Macro> {
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
pub async fn list(c: &mut dyn Conn) -> Result<Vec<Macro>> {
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
pub async fn apply(
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
    let t = tickets::get_for_agent(c, viewer, ticket_id).await?;
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
    tickets::get_for_agent(c, viewer, ticket_id).await
}
