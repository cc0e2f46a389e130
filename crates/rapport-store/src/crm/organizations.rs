//! Organisations and their members: the companies customers belong to, each with an
//! optional e-mail domain (a new customer writing in from it joins it) and typed custom
//! attributes. Every change is recorded as an `organization_changed` event.

use rapport_domain::crm::{AttributeTarget, attributes};
use rapport_domain::{EventKind, Timestamp};
use serde_json::{Map, Value, json};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::value::Row;

/// An organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its e-mail domain, if set.
    pub domain: Option<String>,
    /// Its custom attributes.
    pub attributes: Map<String, Value>,
    /// How many customers belong to it.
    pub members: i64,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A change to an organisation: each field given is set (`Some(None)` clears).
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// A new name.
    pub name: Option<String>,
    /// A new domain, or none.
    pub domain: Option<Option<String>>,
    /// Attribute values to set (`null` removes one).
    pub attributes: Option<Map<String, Value>>,
}

const COLS: &str = "o.id, o.name, o.domain, o.attributes, o.created_at, o.updated_at,
                    (SELECT COUNT(*) FROM customers m WHERE m.organization_id = o.id) AS members";

fn of(r: &Row) -> Result<Organization> {
    let attributes = match serde_json::from_str(&r.text("attributes")?)? {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let created_at = Timestamp(r.int("created_at")?);
    let updated = r.int("updated_at")?;
    Ok(Organization {
        id: r.int("id")?,
        name: r.text("name")?,
        domain: r.opt_text("domain")?,
        attributes,
        members: r.int("members")?,
        created_at,
        // Organisations made before this column existed were last changed when made.
        updated_at: if updated == 0 {
            created_at
        } else {
            Timestamp(updated)
        },
    })
}

/// One organisation.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Organization> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM organizations o WHERE o.id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("organization"))?;
    of(&r)
}

/// Organisations by name, optionally those whose name or domain contains `q`; at most
/// `limit`, after the one named `after` (a page).
pub async fn list(
    c: &mut dyn Conn,
    q: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Organization>> {
    let mut params: Vec<crate::value::Value> = Vec::new();
    let mut conds = Vec::new();
    if let Some(q) = q {
        params.push(format!("%{}%", q.to_lowercase().replace(['%', '_', '\\'], "")).into());
        conds.push(format!(
            "(LOWER(o.name) LIKE ${0} OR o.domain LIKE ${0})",
            params.len()
        ));
    }
    if let Some(a) = after {
        params.push(a.into());
        conds.push(format!("o.name > ${}", params.len()));
    }
    params.push(limit.into());
    let cond = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    c.query(
        &format!(
            "SELECT {COLS} FROM organizations o {cond} ORDER BY o.name, o.id LIMIT ${}",
            params.len()
        ),
        &params,
    )
    .await?
    .iter()
    .map(of)
    .collect()
}

/// The organisation with this name, compared without case.
pub async fn by_name(c: &mut dyn Conn, name: &str) -> Result<Option<i64>> {
    c.opt(
        "SELECT id FROM organizations WHERE LOWER(name) = $1 ORDER BY id LIMIT 1",
        &[name.to_lowercase().into()],
    )
    .await?
    .map(|r| r.int("id"))
    .transpose()
}

async fn domain_taken(c: &mut dyn Conn, domain: &str, other_than: i64) -> Result<()> {
    if c.opt(
        "SELECT id FROM organizations WHERE domain = $1 AND id <> $2",
        &[domain.into(), other_than.into()],
    )
    .await?
    .is_some()
    {
        return Err(StoreError::Conflict(format!(
            "another organisation has the domain {domain}"
        )));
    }
    Ok(())
}

async fn name_taken(c: &mut dyn Conn, name: &str, other_than: i64) -> Result<()> {
    if by_name(c, name).await?.is_some_and(|id| id != other_than) {
        return Err(StoreError::Conflict(format!(
            "an organisation is already named {name}"
        )));
    }
    Ok(())
}

/// Creates an organisation (names and domains are unique); attribute values are checked
/// against their definitions.
pub async fn create(
    c: &mut dyn Conn,
    actor: Actor,
    name: &str,
    domain: Option<&str>,
    attrs: &Map<String, Value>,
    now: Timestamp,
) -> Result<Organization> {
    name_taken(c, name, 0).await?;
    if let Some(d) = domain {
        domain_taken(c, d, 0).await?;
    }
    let defs = super::attributes::defs(c, AttributeTarget::Organization).await?;
    let attrs = attributes::apply(&defs, &Map::new(), attrs)?;
    let id = c
        .one(
            "INSERT INTO organizations (name, domain, attributes, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
            &[
                name.into(),
                domain.into(),
                Value::Object(attrs).to_string().into(),
                now.into(),
            ],
        )
        .await?
        .int("id")?;
    events::record_crm(
        c,
        actor,
        EventKind::OrganizationChanged,
        &json!({"organization_id": id, "action": "created", "name": name}),
        now,
    )
    .await?;
    get(c, id).await
}

/// Changes an organisation.
pub async fn update(
    c: &mut dyn Conn,
    actor: Actor,
    id: i64,
    change: &Change,
    now: Timestamp,
) -> Result<Organization> {
    let current = get(c, id).await?;
    if let Some(n) = &change.name {
        name_taken(c, n, id).await?;
    }
    if let Some(Some(d)) = &change.domain {
        domain_taken(c, d, id).await?;
    }
    let attrs = match &change.attributes {
        Some(a) => {
            let defs = super::attributes::defs(c, AttributeTarget::Organization).await?;
            attributes::apply(&defs, &current.attributes, a)?
        }
        None => current.attributes.clone(),
    };
    let name = change.name.clone().unwrap_or(current.name);
    let domain = change.domain.clone().unwrap_or(current.domain);
    c.execute(
        "UPDATE organizations SET name = $1, domain = $2, attributes = $3, updated_at = $4
         WHERE id = $5",
        &[
            name.into(),
            domain.into(),
            Value::Object(attrs).to_string().into(),
            now.into(),
            id.into(),
        ],
    )
    .await?;
    events::record_crm(
        c,
        actor,
        EventKind::OrganizationChanged,
        &json!({"organization_id": id, "action": "updated"}),
        now,
    )
    .await?;
    get(c, id).await
}

/// A member, as the organisation's page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The customer.
    pub customer_id: i64,
    /// Their address.
    pub email: String,
    /// Their name.
    pub name: String,
}

/// The organisation's members by name (at most 1,000).
pub async fn members(c: &mut dyn Conn, id: i64) -> Result<Vec<Member>> {
    get(c, id).await?;
    c.query(
        "SELECT id, email, name FROM customers WHERE organization_id = $1
         ORDER BY name, id LIMIT 1000",
        &[id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Member {
            customer_id: r.int("id")?,
            email: r.text("email")?,
            name: r.text("name")?,
        })
    })
    .collect()
}

/// Puts a customer in an organisation (`Some`) or takes them out of theirs (`None`).
/// Taking a customer out of an organisation they are not in is a 404.
pub async fn set_membership(
    c: &mut dyn Conn,
    actor: Actor,
    customer_id: i64,
    organization_id: Option<i64>,
    leaving: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    let current = crate::customers::get(c, customer_id).await?;
    if let Some(o) = organization_id {
        get(c, o).await?;
    }
    if let Some(l) = leaving
        && current.organization_id != Some(l)
    {
        return Err(StoreError::NotFound("member"));
    }
    if current.organization_id == organization_id {
        return Ok(());
    }
    c.execute(
        "UPDATE customers SET organization_id = $1, updated_at = $2 WHERE id = $3",
        &[organization_id.into(), now.into(), customer_id.into()],
    )
    .await?;
    record_move(
        c,
        actor,
        customer_id,
        current.organization_id,
        organization_id,
        now,
    )
    .await
}

/// Records a customer leaving one organisation and joining another (either may be none).
pub(crate) async fn record_move(
    c: &mut dyn Conn,
    actor: Actor,
    customer_id: i64,
    from: Option<i64>,
    to: Option<i64>,
    now: Timestamp,
) -> Result<()> {
    for (org, action) in [(from, "member_left"), (to, "member_joined")] {
        if let Some(org) = org {
            events::record_crm(
                c,
                actor,
                EventKind::OrganizationChanged,
                &json!({"organization_id": org, "action": action, "customer_id": customer_id}),
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// The organisation whose domain is this address's, for a new customer to join.
pub async fn for_domain(c: &mut dyn Conn, domain: &str) -> Result<Option<i64>> {
    c.opt(
        "SELECT id FROM organizations WHERE domain = $1",
        &[domain.to_ascii_lowercase().into()],
    )
    .await?
    .map(|r| r.int("id"))
    .transpose()
}
