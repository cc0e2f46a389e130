//! Orders pushed by the shop: an idempotent upsert by the shop's id (lines and shipments
//! replaced whole; an identical push writes nothing), reads for a customer and a ticket,
//! and links from tickets to orders.

use rapport_domain::commerce::{NewOrder, OrderStatus, ShipmentStatus};
use rapport_domain::{EventKind, Timestamp, Viewer};
use serde_json::json;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::value::{Row, Value};

/// One line of a stored order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Stock-keeping unit.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// How many.
    pub quantity: i64,
    /// Price of one (minor units).
    pub unit_price: i64,
}

/// One shipment of a stored order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    /// Carrier.
    pub carrier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Where it is.
    pub status: ShipmentStatus,
    /// When it is expected.
    pub expected_at: Option<Timestamp>,
}

/// A stored order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its id here.
    pub id: i64,
    /// The shop's id.
    pub external_id: String,
    /// Whose.
    pub customer_id: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Where it stands.
    pub status: OrderStatus,
    /// The lines' sum (minor units).
    pub subtotal: i64,
    /// Shipping (minor units).
    pub shipping: i64,
    /// Tax (minor units).
    pub tax: i64,
    /// Discounts (minor units).
    pub discount: i64,
    /// What the customer pays (minor units).
    pub total: i64,
    /// When it was placed.
    pub placed_at: Timestamp,
    /// First pushed.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// Its lines, in order.
    pub lines: Vec<Line>,
    /// Its shipments, in order.
    pub shipments: Vec<Shipment>,
}

const COLS: &str = "id, external_id, customer_id, currency, status, subtotal, shipping, tax,
                    discount, total, placed_at, created_at, updated_at";

fn bad(what: &str) -> StoreError {
    StoreError::Db(format!("bad stored {what}"))
}

fn from_row(r: &Row) -> Result<Order> {
    Ok(Order {
        id: r.int("id")?,
        external_id: r.text("external_id")?,
        customer_id: r.int("customer_id")?,
        currency: r.text("currency")?,
        status: OrderStatus::parse(&r.text("status")?).map_err(|_| bad("order status"))?,
        subtotal: r.int("subtotal")?,
        shipping: r.int("shipping")?,
        tax: r.int("tax")?,
        discount: r.int("discount")?,
        total: r.int("total")?,
        placed_at: Timestamp(r.int("placed_at")?),
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
        lines: Vec::new(),
        shipments: Vec::new(),
    })
}

/// Fills in the lines and shipments of `orders`.
async fn with_parts(c: &mut dyn Conn, mut orders: Vec<Order>) -> Result<Vec<Order>> {
    if orders.is_empty() {
        return Ok(orders);
    }
    let ids: Vec<Value> = orders.iter().map(|o| o.id.into()).collect();
    let marks = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let at = |orders: &[Order], id: i64| orders.iter().position(|o| o.id == id);
    for r in c
        .query(
            &format!(
                "SELECT order_id, sku, name, quantity, unit_price FROM order_lines
                 WHERE order_id IN ({marks}) ORDER BY order_id, position"
            ),
            &ids,
        )
        .await?
    {
        if let Some(i) = at(&orders, r.int("order_id")?) {
            orders[i].lines.push(Line {
                sku: r.text("sku")?,
                name: r.text("name")?,
                quantity: r.int("quantity")?,
                unit_price: r.int("unit_price")?,
            });
        }
    }
    for r in c
        .query(
            &format!(
                "SELECT order_id, carrier, tracking_number, status, expected_at FROM shipments
                 WHERE order_id IN ({marks}) ORDER BY order_id, position"
            ),
            &ids,
        )
        .await?
    {
        if let Some(i) = at(&orders, r.int("order_id")?) {
            orders[i].shipments.push(Shipment {
                carrier: r.text("carrier")?,
                tracking_number: r.text("tracking_number")?,
                status: ShipmentStatus::parse(&r.text("status")?)
                    .map_err(|_| bad("shipment status"))?,
                expected_at: r.opt_int("expected_at")?.map(Timestamp),
            });
        }
    }
    Ok(orders)
}

/// One order.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Order> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM orders WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("order"))?;
    let mut v = with_parts(c, vec![from_row(&r)?]).await?;
    v.pop().ok_or(StoreError::NotFound("order"))
}

async fn by_external_id(c: &mut dyn Conn, external_id: &str) -> Result<Option<Order>> {
    match c
        .opt(
            &format!("SELECT {COLS} FROM orders WHERE external_id = $1"),
            &[external_id.into()],
        )
        .await?
    {
        Some(r) => Ok(with_parts(c, vec![from_row(&r)?]).await?.pop()),
        None => Ok(None),
    }
}

/// Whether the stored order already says everything `o` says.
fn same(stored: &Order, customer_id: i64, o: &NewOrder) -> bool {
    stored.customer_id == customer_id
        && stored.currency == o.currency.code()
        && stored.status == o.status
        && (
            stored.subtotal,
            stored.shipping,
            stored.tax,
            stored.discount,
            stored.total,
        ) == (o.subtotal, o.shipping, o.tax, o.discount, o.total)
        && stored.placed_at == o.placed_at
        && stored.lines.len() == o.lines.len()
        && stored.lines.iter().zip(&o.lines).all(|(a, b)| {
            (a.sku.as_str(), a.name.as_str(), a.quantity, a.unit_price)
                == (b.sku.as_str(), b.name.as_str(), b.quantity, b.unit_price)
        })
        && stored.shipments.len() == o.shipments.len()
        && stored.shipments.iter().zip(&o.shipments).all(|(a, b)| {
            (
                a.carrier.as_str(),
                a.tracking_number.as_str(),
                a.status,
                a.expected_at,
            ) == (
                b.carrier.as_str(),
                b.tracking_number.as_str(),
                b.status,
                b.expected_at,
            )
        })
}

/// Rows of `(position, …)` for one multi-row insert, numbered from `$1`.
fn insert_rows(order_id: i64, rows: Vec<Vec<Value>>) -> (String, Vec<Value>) {
    let mut p: Vec<Value> = Vec::new();
    let mut tuples = Vec::new();
    for (i, row) in rows.into_iter().enumerate() {
        p.push(order_id.into());
        p.push((i as i64).into());
        let from = p.len() - 1;
        let n = row.len();
        p.extend(row);
        tuples.push(format!(
            "({})",
            (from..=from + n + 1)
                .map(|k| format!("${k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    (tuples.join(", "), p)
}

/// Writes the lines and shipments of order `id` (after deleting what was there).
async fn write_parts(c: &mut dyn Conn, id: i64, o: &NewOrder, replace: bool) -> Result<()> {
    if replace {
        c.execute("DELETE FROM order_lines WHERE order_id = $1", &[id.into()])
            .await?;
        c.execute("DELETE FROM shipments WHERE order_id = $1", &[id.into()])
            .await?;
    }
    // At most 500 lines of 6 values: well under either database's parameter limit.
    if !o.lines.is_empty() {
        let (tuples, p) = insert_rows(
            id,
            o.lines
                .iter()
                .map(|l| {
                    vec![
                        l.sku.as_str().into(),
                        l.name.as_str().into(),
                        l.quantity.into(),
                        l.unit_price.into(),
                    ]
                })
                .collect(),
        );
        c.execute(
            &format!(
                "INSERT INTO order_lines (order_id, position, sku, name, quantity, unit_price)
                 VALUES {tuples}"
            ),
            &p,
        )
        .await?;
    }
    if !o.shipments.is_empty() {
        let (tuples, p) = insert_rows(
            id,
            o.shipments
                .iter()
                .map(|s| {
                    vec![
                        s.carrier.as_str().into(),
                        s.tracking_number.as_str().into(),
                        s.status.as_str().into(),
                        s.expected_at.into(),
                    ]
                })
                .collect(),
        );
        c.execute(
            &format!(
                "INSERT INTO shipments (order_id, position, carrier, tracking_number, status,
                                        expected_at)
                 VALUES {tuples}"
            ),
            &p,
        )
        .await?;
    }
    Ok(())
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// A new order.
    Created,
    /// An existing order changed.
    Updated,
    /// The order was already exactly so: nothing written.
    Unchanged,
}

/// Stores the order the shop pushed: created the first time its `external_id` is seen,
/// updated (lines and shipments replaced) after that, untouched when nothing differs.
/// The customer is found or created by address. Records `OrderChanged` when it wrote.
pub async fn push(
    c: &mut dyn Conn,
    actor: Actor,
    o: &NewOrder,
    now: Timestamp,
) -> Result<(Order, Pushed)> {
    let customer_id = crate::customers::find_or_create(c, &o.email, o.name.as_ref(), now).await?;
    let values = |p: &mut Vec<Value>| {
        p.extend([
            customer_id.into(),
            o.currency.code().into(),
            o.status.as_str().into(),
            o.subtotal.into(),
            o.shipping.into(),
            o.tax.into(),
            o.discount.into(),
            o.total.into(),
            o.placed_at.into(),
            now.into(),
        ]);
    };
    let mut existing = by_external_id(c, o.external_id.as_str()).await?;
    if existing.is_none() {
        let mut p: Vec<Value> = vec![o.external_id.as_str().into()];
        values(&mut p);
        let inserted = c
            .opt(
                "INSERT INTO orders (external_id, customer_id, currency, status, subtotal,
                                     shipping, tax, discount, total, placed_at, created_at,
                                     updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
                 ON CONFLICT (external_id) DO NOTHING RETURNING id",
                &p,
            )
            .await?;
        match inserted {
            Some(r) => {
                let id = r.int("id")?;
                write_parts(c, id, o, false).await?;
                record(c, actor, id, o, customer_id, Pushed::Created, now).await?;
                return Ok((get(c, id).await?, Pushed::Created));
            }
            // Another push of the same order won the race a moment ago: update it.
            None => existing = by_external_id(c, o.external_id.as_str()).await?,
        }
    }
    let stored = existing.ok_or(StoreError::NotFound("order"))?;
    if same(&stored, customer_id, o) {
        return Ok((stored, Pushed::Unchanged));
    }
    let mut p: Vec<Value> = vec![stored.id.into()];
    values(&mut p);
    c.execute(
        "UPDATE orders SET customer_id = $2, currency = $3, status = $4, subtotal = $5,
                shipping = $6, tax = $7, discount = $8, total = $9, placed_at = $10,
                updated_at = $11
         WHERE id = $1",
        &p,
    )
    .await?;
    write_parts(c, stored.id, o, true).await?;
    record(c, actor, stored.id, o, customer_id, Pushed::Updated, now).await?;
    Ok((get(c, stored.id).await?, Pushed::Updated))
}

async fn record(
    c: &mut dyn Conn,
    actor: Actor,
    id: i64,
    o: &NewOrder,
    customer_id: i64,
    what: Pushed,
    now: Timestamp,
) -> Result<()> {
    events::record_order(
        c,
        actor,
        EventKind::OrderChanged,
        &json!({
            "order_id": id,
            "external_id": o.external_id.as_str(),
            "customer_id": customer_id,
            "status": o.status.as_str(),
            "created": what == Pushed::Created,
        }),
        now,
    )
    .await
}

/// Imports orders (a CSV file's, checked): all in this transaction. Returns how many
/// were new and how many existed (updated or unchanged); a dry run writes nothing and
/// counts what a real run would do.
pub async fn import(
    c: &mut dyn Conn,
    actor: Actor,
    list: &[NewOrder],
    dry_run: bool,
    now: Timestamp,
) -> Result<(usize, usize)> {
    let (mut created, mut existed) = (0, 0);
    for o in list {
        if dry_run {
            if by_external_id(c, o.external_id.as_str()).await?.is_some() {
                existed += 1;
            } else {
                created += 1;
            }
            continue;
        }
        match push(c, actor, o, now).await?.1 {
            Pushed::Created => created += 1,
            Pushed::Updated | Pushed::Unchanged => existed += 1,
        }
    }
    Ok((created, existed))
}

/// A customer's orders, newest placed first (at most `limit`).
pub async fn for_customer(c: &mut dyn Conn, customer_id: i64, limit: i64) -> Result<Vec<Order>> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLS} FROM orders WHERE customer_id = $1
                 ORDER BY placed_at DESC, id DESC LIMIT $2"
            ),
            &[customer_id.into(), limit.into()],
        )
        .await?;
    let orders = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    with_parts(c, orders).await
}

/// Links a ticket the agent may work to an order of the ticket's customer (linking
/// twice is the same as once).
pub async fn link(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
    order_id: i64,
    now: Timestamp,
) -> Result<Order> {
    let t = crate::tickets::get_for_agent(c, viewer, ticket_id).await?;
    let order = get(c, order_id).await?;
    if order.customer_id != t.customer.id {
        return Err(StoreError::Conflict(
            "the order is not the ticket's customer's".into(),
        ));
    }
    c.execute(
        "INSERT INTO ticket_orders (ticket_id, order_id, linked_by, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (ticket_id, order_id) DO NOTHING",
        &[
            ticket_id.into(),
            order_id.into(),
            viewer.user_id.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(order)
}

/// The orders linked to a ticket the viewer may see, newest placed first.
pub async fn linked(c: &mut dyn Conn, viewer: &Viewer, ticket_id: i64) -> Result<Vec<Order>> {
    crate::tickets::get_for_agent(c, viewer, ticket_id).await?;
    let rows = c
        .query(
            "SELECT o.id, o.external_id, o.customer_id, o.currency, o.status, o.subtotal,
                    o.shipping, o.tax, o.discount, o.total, o.placed_at, o.created_at,
                    o.updated_at
             FROM ticket_orders l JOIN orders o ON o.id = l.order_id
             WHERE l.ticket_id = $1 ORDER BY o.placed_at DESC, o.id DESC",
            &[ticket_id.into()],
        )
        .await?;
    let orders = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    with_parts(c, orders).await
}
