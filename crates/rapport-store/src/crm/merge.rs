//! Merging a duplicate customer (the same person under a second address) into another:
//! everything that points at the duplicate is re-pointed, the duplicate's addresses are
//! kept as the customer's other addresses (mail from either finds them), blanks in the
//! customer's details are filled from the duplicate, and the duplicate's row is removed.
//! One transaction: either all of it or none.

use rapport_domain::{EventKind, Timestamp};
use serde_json::{Map, Value, json};

use crate::customers::{self, Customer};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::search;

/// Every column that points at a customer, as `(table, column)`, except those merged with
/// care below (votes and the points balance).
const POINTERS: [(&str, &str); 25] = [
    ("tickets", "customer_id"),
    ("messages", "author_customer_id"),
    ("messages", "recipient_customer_id"),
    ("events", "actor_customer_id"),
    ("portal_tokens", "customer_id"),
    ("kb_searches", "customer_id"),
    ("kb_feedback", "customer_id"),
    ("kb_deflections", "customer_id"),
    ("community_topics", "author_customer_id"),
    ("community_posts", "author_customer_id"),
    ("chat_conversations", "customer_id"),
    ("chat_identities", "customer_id"),
    ("surveys", "customer_id"),
    ("orders", "customer_id"),
    ("vouchers", "customer_id"),
    ("points_ledger", "customer_id"),
    ("goodwill", "customer_id"),
    ("approvals", "customer_id"),
    ("returns", "customer_id"),
    ("return_steps", "customer_id"),
    ("customer_emails", "customer_id"),
    ("portal_sessions", "customer_id"),
    ("invoices", "customer_id"),
    ("payments", "customer_id"),
    ("refunds", "customer_id"),
];

/// What a merge moved.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The customer as they now stand.
    pub customer: Customer,
    /// Tickets moved over.
    pub tickets: u64,
    /// Orders moved over.
    pub orders: u64,
    /// Points moved over.
    pub points: i64,
}

/// Merges customer `duplicate` into customer `keep`. 404 when either is missing, 422
/// when they are the same, 409 when either was erased.
pub async fn merge(
    c: &mut dyn Conn,
    actor: Actor,
    keep: i64,
    duplicate: i64,
    now: Timestamp,
) -> Result<Merged> {
    if keep == duplicate {
        return Err(rapport_domain::FieldError::new(
            "duplicate_id",
            "is the customer itself; name another customer",
        )
        .into());
    }
    let k = customers::get(c, keep).await?;
    let d = customers::get(c, duplicate).await?;
    if k.erased_at.is_some() || d.erased_at.is_some() {
        return Err(StoreError::Conflict(
            "an erased customer cannot be merged".into(),
        ));
    }
    // A vote both cast on the same post counts once.
    let doubled: Vec<i64> = c
        .query(
            "SELECT post_id FROM community_votes WHERE customer_id = $1
             AND post_id IN (SELECT post_id FROM community_votes WHERE customer_id = $2)",
            &[duplicate.into(), keep.into()],
        )
        .await?
        .iter()
        .map(|r| r.int("post_id"))
        .collect::<Result<_>>()?;
    for post in &doubled {
        c.execute(
            "DELETE FROM community_votes WHERE post_id = $1 AND customer_id = $2",
            &[(*post).into(), duplicate.into()],
        )
        .await?;
        c.execute(
            "UPDATE community_posts SET votes = (SELECT COUNT(*) FROM community_votes WHERE post_id = $1)
             WHERE id = $1",
            &[(*post).into()],
        )
        .await?;
        c.execute(
            "UPDATE community_topics SET votes = (SELECT votes FROM community_posts WHERE id = $1)
             WHERE id = (SELECT topic_id FROM community_posts WHERE id = $1 AND is_question)",
            &[(*post).into()],
        )
        .await?;
    }
    c.execute(
        "UPDATE community_votes SET customer_id = $1 WHERE customer_id = $2",
        &[keep.into(), duplicate.into()],
    )
    .await?;
    // An article vote both cast counts once; the duplicate's other votes become the
    // keeper's (votes are keyed `c:<customer>`).
    c.execute(
        "DELETE FROM kb_feedback WHERE customer_id = $1
         AND article_id IN (SELECT article_id FROM kb_feedback WHERE customer_id = $2)",
        &[duplicate.into(), keep.into()],
    )
    .await?;
    c.execute(
        "UPDATE kb_feedback SET voter = $1 WHERE customer_id = $2",
        &[format!("c:{keep}").into(), duplicate.into()],
    )
    .await?;
    // Approval requests name their customer inside the request too.
    let asked = c
        .query(
            "SELECT id, request FROM approvals WHERE customer_id = $1",
            &[duplicate.into()],
        )
        .await?;
    for r in asked {
        let mut req: Value = serde_json::from_str(&r.text("request")?)?;
        req["customer_id"] = Value::from(keep);
        c.execute(
            "UPDATE approvals SET request = $1 WHERE id = $2",
            &[req.to_string().into(), r.int("id")?.into()],
        )
        .await?;
    }
    let mut counts = Vec::new();
    for (table, column) in &POINTERS {
        let n = c
            .execute(
                &format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2"),
                &[keep.into(), duplicate.into()],
            )
            .await?;
        counts.push(((*table, *column), n));
    }
    let moved = |t: &str| {
        counts
            .iter()
            .find(|((table, _), _)| *table == t)
            .map_or(0, |(_, n)| *n)
    };
    // Points: the balances add up (each was never negative, so neither is the sum).
    let points = c
        .opt(
            "SELECT balance FROM points_balances WHERE customer_id = $1",
            &[duplicate.into()],
        )
        .await?
        .map(|r| r.int("balance"))
        .transpose()?
        .unwrap_or(0);
    c.execute(
        "DELETE FROM points_balances WHERE customer_id = $1",
        &[duplicate.into()],
    )
    .await?;
    if points > 0 {
        c.execute(
            "INSERT INTO points_balances (customer_id, balance) VALUES ($1, $2)
             ON CONFLICT (customer_id) DO UPDATE SET balance = points_balances.balance + excluded.balance",
            &[keep.into(), points.into()],
        )
        .await?;
    }
    // Blanks are filled from the duplicate; an opt-out of either holds.
    let mut attrs = match &d.attributes {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if let Value::Object(m) = &k.attributes {
        attrs.extend(m.clone());
    }
    c.execute(
        "UPDATE customers SET
            name = CASE WHEN name = '' THEN $1 ELSE name END,
            phone = COALESCE(phone, $2),
            organization_id = COALESCE(organization_id, $3),
            birthday = COALESCE(birthday, $4),
            tier = COALESCE(tier, $5),
            attributes = $6,
            surveys_opt_out = (surveys_opt_out OR (SELECT surveys_opt_out FROM customers WHERE id = $8)),
            check_ins = (check_ins AND (SELECT check_ins FROM customers WHERE id = $8)),
            created_at = CASE WHEN created_at < $9 THEN created_at ELSE $9 END,
            updated_at = $7
         WHERE id = $10",
        &[
            d.name.as_str().into(),
            d.phone.clone().into(),
            d.organization_id.into(),
            d.birthday.clone().into(),
            d.tier.clone().into(),
            Value::Object(attrs).to_string().into(),
            now.into(),
            duplicate.into(),
            d.created_at.into(),
            keep.into(),
        ],
    )
    .await?;
    search::remove_customer(c, duplicate).await?;
    c.execute("DELETE FROM customers WHERE id = $1", &[duplicate.into()])
        .await?;
    c.execute(
        "INSERT INTO customer_emails (email, customer_id, created_at) VALUES ($1, $2, $3)",
        &[d.email.as_str().into(), keep.into(), now.into()],
    )
    .await?;
    let customer = customers::get(c, keep).await?;
    if customer.name != k.name {
        search::reindex_customer(c, keep, &customer.name, &customer.email).await?;
    }
    let (tickets, orders) = (moved("tickets"), moved("orders"));
    events::record_crm(
        c,
        actor,
        EventKind::CustomersMerged,
        &json!({"customer_id": keep, "duplicate_id": duplicate, "duplicate_email": d.email,
                "tickets": tickets, "orders": orders, "points": points}),
        now,
    )
    .await?;
    Ok(Merged {
        customer,
        tickets,
        orders,
        points,
    })
}
