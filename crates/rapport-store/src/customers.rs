//! Customers (contacts): found or created by email whenever someone writes in, so one
//! person has one history across every channel.

use rapport_domain::{CustomerName, EmailAddress, Timestamp};
use serde::Serialize;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::search;
use crate::tickets::{self, Ticket};

/// A customer with the fields an agent needs at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    /// Database id.
    pub id: i64,
    /// Their address (unique).
    pub email: String,
    /// Their name as they gave it (may be empty).
    pub name: String,
    /// Phone number, if known.
    pub phone: Option<String>,
    /// Their organisation, if any.
    pub organization_id: Option<i64>,
    /// Custom attributes.
    pub attributes: serde_json::Value,
    /// Their birthday, `YYYY-MM-DD` or `--MM-DD` without the year.
    pub birthday: Option<String>,
    /// Their tier (`vip`), if any.
    pub tier: Option<String>,
    /// Other addresses that find them (kept when a duplicate was merged into them).
    pub other_emails: Vec<String>,
    /// When their personal data was erased, if it was.
    pub erased_at: Option<Timestamp>,
    /// First seen.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A customer with every ticket they ever opened, newest first: the agent never has to
/// ask them to explain again.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerWithTickets {
    /// The customer.
    #[serde(flatten)]
    pub customer: Customer,
    /// Their tickets, newest first.
    pub tickets: Vec<Ticket>,
}

/// Finds the customer with this address or creates one; returns their id. A name given
/// later fills in a blank one but never overwrites what is there.
pub async fn find_or_create(
    c: &mut dyn Conn,
    email: &EmailAddress,
    name: Option<&CustomerName>,
    now: Timestamp,
) -> Result<i64> {
    Ok(find_or_create_with_tier(c, email, name, now).await?.0)
}

/// [`find_or_create`], with the customer's tier (see `score::tier`) read in the same
/// statement as the lookup: a new ticket's score needs it, and a statement less per ticket
/// counts on PostgreSQL.
pub(crate) async fn find_or_create_with_tier(
    c: &mut dyn Conn,
    email: &EmailAddress,
    name: Option<&CustomerName>,
    now: Timestamp,
) -> Result<(i64, Option<String>)> {
    let name = name.map_or("", CustomerName::as_str);
    if let Some(row) = c
        .opt(
            "SELECT x.id, x.name, x.tier, x.attributes AS ca, o.attributes AS oa
             FROM customers x LEFT JOIN organizations o ON o.id = x.organization_id
             WHERE x.email = $1
             UNION ALL
             SELECT x.id, x.name, x.tier, x.attributes AS ca, o.attributes AS oa
             FROM customer_emails e JOIN customers x ON x.id = e.customer_id
             LEFT JOIN organizations o ON o.id = x.organization_id
             WHERE e.email = $1",
            &[email.as_str().into()],
        )
        .await?
    {
        let id = row.int("id")?;
        let tier = crate::score::tier_of(&row)?;
        if row.text("name")?.is_empty() && !name.is_empty() {
            c.execute(
                "UPDATE customers SET name = $1, updated_at = $2 WHERE id = $3",
                &[name.into(), now.into(), id.into()],
            )
            .await?;
            search::reindex_customer(c, id, name, email.as_str()).await?;
        }
        return Ok((id, tier));
    }
    let inserted = c
        .opt(
            "INSERT INTO customers (email, name, created_at, updated_at) VALUES ($1, $2, $3, $3)
             ON CONFLICT (email) DO NOTHING RETURNING id",
            &[email.as_str().into(), name.into(), now.into()],
        )
        .await?;
    match inserted {
        Some(row) => {
            let id = row.int("id")?;
            search::index_customer(c, id, name, email.as_str()).await?;
            // A new customer writing in from an organisation's domain joins it.
            // (Its tier can only come from that organisation.)
            let mut tier = None;
            if let Some(org) = crate::crm::organizations::for_domain(c, email.domain()).await? {
                c.execute(
                    "UPDATE customers SET organization_id = $1 WHERE id = $2",
                    &[org.into(), id.into()],
                )
                .await?;
                tier = crate::score::tier(c, id).await?;
            }
            Ok((id, tier))
        }
        // Another node inserted the same address a moment ago.
        None => {
            let id = c
                .one(
                    "SELECT id FROM customers WHERE email = $1",
                    &[email.as_str().into()],
                )
                .await?
                .int("id")?;
            Ok((id, crate::score::tier(c, id).await?))
        }
    }
}

/// Whether a customer with this address (main or other) exists.
pub async fn exists(c: &mut dyn Conn, email: &EmailAddress) -> Result<bool> {
    Ok(id_by_email(c, email).await?.is_some())
}

/// The customer this address finds: the one whose main address it is, or the one that
/// kept it when a duplicate was merged into them.
pub async fn id_by_email(c: &mut dyn Conn, email: &EmailAddress) -> Result<Option<i64>> {
    c.opt(
        "SELECT id FROM customers WHERE email = $1
         UNION ALL
         SELECT customer_id AS id FROM customer_emails WHERE email = $1",
        &[email.as_str().into()],
    )
    .await?
    .map(|r| r.int("id"))
    .transpose()
}

/// One customer.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Customer> {
    let r = c
        .opt(
            "SELECT id, email, name, phone, organization_id, attributes, birthday, tier, erased_at,
                    created_at, updated_at
             FROM customers WHERE id = $1",
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("customer"))?;
    let other_emails = c
        .query(
            "SELECT email FROM customer_emails WHERE customer_id = $1 ORDER BY email",
            &[id.into()],
        )
        .await?
        .iter()
        .map(|r| r.text("email"))
        .collect::<Result<Vec<_>>>()?;
    Ok(Customer {
        id: r.int("id")?,
        email: r.text("email")?,
        name: r.text("name")?,
        phone: r.opt_text("phone")?,
        organization_id: r.opt_int("organization_id")?,
        attributes: serde_json::from_str(&r.text("attributes")?)?,
        birthday: r.opt_text("birthday")?,
        tier: r.opt_text("tier")?,
        other_emails,
        erased_at: r.opt_int("erased_at")?.map(Timestamp),
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
    })
}

/// One customer with their tickets that the viewer may see, newest first.
pub async fn get_with_tickets(
    c: &mut dyn Conn,
    viewer: &rapport_domain::Viewer,
    id: i64,
) -> Result<CustomerWithTickets> {
    let customer = get(c, id).await?;
    let who = rapport_domain::Principal::Agent(viewer.clone());
    let tickets = tickets::for_customer(c, &who, id).await?;
    Ok(CustomerWithTickets { customer, tickets })
}
