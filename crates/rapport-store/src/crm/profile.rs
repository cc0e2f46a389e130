//! Changing a customer's details: name, phone, organisation, birthday, tier and custom
//! attributes (checked against their definitions). Recorded as `customer_changed`.

use rapport_domain::crm::dates::{self, Date};
use rapport_domain::crm::{AttributeTarget, Birthday, Tier, attributes};
use rapport_domain::{CustomerName, EventKind, Timestamp};
use serde_json::{Map, Value, json};

use crate::customers::{self, Customer};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::search;

/// A change: each field given is set (`Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// A new name (or none).
    pub name: Option<Option<CustomerName>>,
    /// A new phone (or none).
    pub phone: Option<Option<String>>,
    /// Another organisation (or none).
    pub organization_id: Option<Option<i64>>,
    /// A birthday (or none).
    pub birthday: Option<Option<Birthday>>,
    /// A tier (or none).
    pub tier: Option<Option<Tier>>,
    /// Attribute values to set (`null` removes one).
    pub attributes: Option<Map<String, Value>>,
}

impl Change {
    /// The names of the fields it sets.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        let mut add = |given: bool, name| {
            if given {
                f.push(name);
            }
        };
        add(self.name.is_some(), "name");
        add(self.phone.is_some(), "phone");
        add(self.organization_id.is_some(), "organization_id");
        add(self.birthday.is_some(), "birthday");
        add(self.tier.is_some(), "tier");
        add(self.attributes.is_some(), "attributes");
        f
    }
}

/// Applies a change and returns the customer as they now stand. An erased customer
/// cannot be changed (409).
pub async fn update(
    c: &mut dyn Conn,
    actor: Actor,
    id: i64,
    change: &Change,
    now: Timestamp,
) -> Result<Customer> {
    let current = customers::get(c, id).await?;
    if current.erased_at.is_some() {
        return Err(StoreError::Conflict("this customer was erased".into()));
    }
    if let Some(Some(org)) = change.organization_id {
        super::organizations::get(c, org).await?;
    }
    let stored = match &current.attributes {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let attrs = match &change.attributes {
        Some(a) => {
            let defs = super::attributes::defs(c, AttributeTarget::Customer).await?;
            attributes::apply(&defs, &stored, a)?
        }
        None => stored,
    };
    let name = match &change.name {
        Some(n) => n.as_ref().map_or("", CustomerName::as_str).to_owned(),
        None => current.name.clone(),
    };
    let phone = change.phone.clone().unwrap_or(current.phone.clone());
    let org = change.organization_id.unwrap_or(current.organization_id);
    let birthday = match change.birthday {
        Some(b) => b.map(|b| b.written()),
        None => current.birthday.clone(),
    };
    let tier = match &change.tier {
        Some(t) => t.as_ref().map(|t| t.as_str().to_owned()),
        None => current.tier.clone(),
    };
    c.execute(
        "UPDATE customers SET name = $1, phone = $2, organization_id = $3, birthday = $4,
                tier = $5, attributes = $6, updated_at = $7
         WHERE id = $8",
        &[
            name.as_str().into(),
            phone.into(),
            org.into(),
            birthday.into(),
            tier.into(),
            Value::Object(attrs).to_string().into(),
            now.into(),
            id.into(),
        ],
    )
    .await?;
    if name != current.name {
        search::reindex_customer(c, id, &name, &current.email).await?;
    }
    events::record_crm(
        c,
        actor,
        EventKind::CustomerChanged,
        &json!({"customer_id": id, "fields": change.fields()}),
        now,
    )
    .await?;
    if org != current.organization_id {
        super::organizations::record_move(c, actor, id, current.organization_id, org, now).await?;
    }
    customers::get(c, id).await
}

/// A birthday or anniversary coming up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upcoming {
    /// The customer.
    pub customer_id: i64,
    /// Their name.
    pub name: String,
    /// Their address.
    pub email: String,
    /// `birthday` or `anniversary`.
    pub kind: &'static str,
    /// The day it falls on.
    pub on: Date,
    /// The age they turn, or the years as a customer (when known).
    pub years: Option<i16>,
}

/// The birthdays and customer anniversaries (a year or more since their first order, or
/// since they were first seen when they never ordered) from `today` for `days` days,
/// soonest first. Erased customers have none.
pub async fn upcoming(c: &mut dyn Conn, today: Date, days: i64) -> Result<Vec<Upcoming>> {
    let until = dates::add_days(today, days);
    let rows = c
        .query(
            "SELECT x.id, x.name, x.email, x.birthday,
                    COALESCE((SELECT MIN(o.placed_at) FROM orders o WHERE o.customer_id = x.id),
                             x.created_at) AS since
             FROM customers x WHERE x.erased_at IS NULL",
            &[],
        )
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let (id, name, email) = (r.int("id")?, r.text("name")?, r.text("email")?);
        if let Some(b) = r.opt_text("birthday")?
            && let Ok(b) = Birthday::parse("birthday", &b, today)
        {
            let on = b.next(today);
            if on <= until {
                out.push(Upcoming {
                    customer_id: id,
                    name: name.clone(),
                    email: email.clone(),
                    kind: "birthday",
                    on,
                    years: b.turning(today),
                });
            }
        }
        let since = dates::utc_date(Timestamp(r.int("since")?));
        if let Some((on, years)) = dates::next_anniversary(since, today)
            && on <= until
        {
            out.push(Upcoming {
                customer_id: id,
                name,
                email,
                kind: "anniversary",
                on,
                years: Some(years),
            });
        }
    }
    out.sort_by(|a, b| (a.on, a.customer_id, a.kind).cmp(&(b.on, b.customer_id, b.kind)));
    Ok(out)
}
