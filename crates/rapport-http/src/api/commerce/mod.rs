//! Orders: pushed by the shop (`POST /api/v1/orders`, idempotent by `external_id`, and
//! `POST /api/v1/orders/batch` for imports), read by agents (`GET /api/v1/orders/{id}`,
//! `GET /api/v1/customers/{id}/orders`) and linked to tickets
//! (`POST`/`GET /api/v1/tickets/{id}/orders`). Money is sent and shown as decimal text in
//! the order's currency ("19.99"); a JSON number is read by its digits, never rounded.
//! Returns and exchanges are in [`returns`].

pub mod billing;
pub mod import;
pub mod products;
pub mod returns;

use std::fmt;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rapport_domain::commerce::{NewOrder, RawLine, RawOrder, RawShipment};
use rapport_domain::{FieldError, Permission, Timestamp};
use rapport_store::commerce::orders::{self, Order, Pushed};
use rapport_store::events::Actor;
use rapport_store::op;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;

/// An amount as sent: decimal text (`"19.99"`) or a JSON number (`19.99`), kept as the
/// digits given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Amount(pub String);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount as decimal text (\"19.99\") or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Amount, E> {
                Ok(Amount(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Amount, E> {
                Ok(Amount(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Amount, E> {
                // The shortest text that reads back as the same double: the digits the
                // client wrote for any amount with a few decimals.
                if v.is_finite() {
                    Ok(Amount(v.to_string()))
                } else {
                    Err(E::custom("not a finite number"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The customer an order belongs to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderCustomer)]
pub struct OrderCustomer {
    /// Their address: found, or created as a new customer.
    pub email: String,
    /// Their name (fills in a blank one).
    pub name: Option<String>,
}

/// One line of a pushed order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderLineInput)]
pub struct LineInput {
    /// Stock-keeping unit.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// How many (1 to a million).
    pub quantity: i64,
    /// Price of one, as decimal text or a number, with no more decimals than the currency.
    #[schema(value_type = String, example = "19.99")]
    pub unit_price: Amount,
}

/// One shipment of a pushed order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ShipmentInput)]
pub struct ShipmentInput {
    /// Carrier ("DHL").
    pub carrier: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// `pending` (default), `in-transit`, `out-for-delivery`, `delivered`, `exception` or
    /// `returned`.
    pub status: Option<String>,
    /// When it is expected to arrive.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expected_at: Option<Timestamp>,
}

/// `POST /api/v1/orders`: an order as the shop knows it. Pushing the same
/// `external_id` again updates the order (lines and shipments replaced).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The shop's id of the order.
    pub external_id: String,
    /// Whose order.
    pub customer: OrderCustomer,
    /// ISO 4217 code (`EUR`).
    pub currency: String,
    /// The lines.
    #[serde(default)]
    pub lines: Vec<LineInput>,
    /// `pending` (default), `paid`, `processing`, `shipped`, `delivered`, `cancelled` or
    /// `refunded`.
    pub status: Option<String>,
    /// When it was placed (default: now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub placed_at: Option<Timestamp>,
    /// Shipping charged.
    #[schema(value_type = Option<String>)]
    pub shipping: Option<Amount>,
    /// Tax charged.
    #[schema(value_type = Option<String>)]
    pub tax: Option<Amount>,
    /// Discounts given.
    #[schema(value_type = Option<String>)]
    pub discount: Option<Amount>,
    /// Its shipments (replacing those pushed before).
    #[serde(default)]
    pub shipments: Vec<ShipmentInput>,
}

impl OrderRequest {
    fn parse(&self, now: Timestamp) -> Result<NewOrder, FieldError> {
        let raw = RawOrder {
            external_id: &self.external_id,
            email: &self.customer.email,
            name: self.customer.name.as_deref(),
            currency: &self.currency,
            status: self.status.as_deref(),
            placed_at: self.placed_at,
            lines: self
                .lines
                .iter()
                .map(|l| RawLine {
                    sku: &l.sku,
                    name: &l.name,
                    quantity: l.quantity,
                    unit_price: &l.unit_price.0,
                })
                .collect(),
            shipping: self.shipping.as_ref().map(|a| a.0.as_str()),
            tax: self.tax.as_ref().map(|a| a.0.as_str()),
            discount: self.discount.as_ref().map(|a| a.0.as_str()),
            shipments: self
                .shipments
                .iter()
                .map(|s| RawShipment {
                    carrier: &s.carrier,
                    tracking_number: &s.tracking_number,
                    status: s.status.as_deref(),
                    expected_at: s.expected_at,
                })
                .collect(),
        };
        NewOrder::parse(&raw, now)
    }
}

/// One line of an order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrderLine)]
pub struct LineView {
    /// Stock-keeping unit.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// How many.
    pub quantity: i64,
    /// Price of one.
    pub unit_price: String,
    /// Quantity times price.
    pub total: String,
}

/// One shipment of an order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Shipment)]
pub struct ShipmentView {
    /// Carrier.
    pub carrier: String,
    /// Tracking number.
    pub tracking_number: String,
    /// Where it is.
    pub status: &'static str,
    /// When it is expected.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expected_at: Option<Timestamp>,
}

/// An order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Order)]
pub struct OrderView {
    /// Its id here.
    pub id: i64,
    /// The shop's id.
    pub external_id: String,
    /// Whose.
    pub customer_id: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Where it stands.
    pub status: &'static str,
    /// The lines' sum.
    pub subtotal: String,
    /// Shipping.
    pub shipping: String,
    /// Tax.
    pub tax: String,
    /// Discounts.
    pub discount: String,
    /// What the customer pays.
    pub total: String,
    /// When it was placed.
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: Timestamp,
    /// First pushed.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// The lines.
    pub lines: Vec<LineView>,
    /// The shipments.
    pub shipments: Vec<ShipmentView>,
}

pub(crate) use rapport_domain::commerce::format_minor as money_text;

impl From<Order> for OrderView {
    fn from(o: Order) -> Self {
        let cur = o.currency.clone();
        let money = |minor: i64| money_text(minor, &cur);
        Self {
            id: o.id,
            external_id: o.external_id,
            customer_id: o.customer_id,
            currency: o.currency.clone(),
            status: o.status.as_str(),
            subtotal: money(o.subtotal),
            shipping: money(o.shipping),
            tax: money(o.tax),
            discount: money(o.discount),
            total: money(o.total),
            placed_at: o.placed_at,
            created_at: o.created_at,
            updated_at: o.updated_at,
            lines: o
                .lines
                .into_iter()
                .map(|l| LineView {
                    total: money(l.quantity.saturating_mul(l.unit_price)),
                    unit_price: money(l.unit_price),
                    sku: l.sku,
                    name: l.name,
                    quantity: l.quantity,
                })
                .collect(),
            shipments: o
                .shipments
                .into_iter()
                .map(|s| ShipmentView {
                    carrier: s.carrier,
                    tracking_number: s.tracking_number,
                    status: s.status.as_str(),
                    expected_at: s.expected_at,
                })
                .collect(),
        }
    }
}

/// Creates an order the first time its `external_id` is pushed (201), updates it after
/// that (200, never a duplicate). Shops push with an administrator's API token.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders",
    request_body = OrderRequest,
    responses((status = 201, body = OrderView, description = "A new order"),
        (status = 200, body = OrderView, description = "The order existed: updated (or already so)"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn push_order(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<OrderRequest>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    require(&viewer, Permission::ManageOrders)?;
    let now = st.now();
    let order = req.parse(now)?;
    let actor = Actor::User(viewer.user_id);
    let (o, pushed) = st
        .db
        .write(op!(c => orders::push(c, actor, &order, now).await))
        .await?;
    let status = if pushed == Pushed::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(o.into())))
}

/// The most orders in one batch.
pub const MAX_BATCH: usize = 1_000;

/// `POST /api/v1/orders/batch`: many orders at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderBatchRequest {
    /// Up to 1,000 orders, each as for `POST /api/v1/orders`.
    pub orders: Vec<OrderRequest>,
}

/// What a batch did to one order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrderBatchResult)]
pub struct BatchResultView {
    /// The shop's id.
    pub external_id: String,
    /// Its id here.
    pub id: i64,
    /// `created`, `updated` or `unchanged`.
    pub result: &'static str,
}

/// What a batch did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = OrderBatchResponse)]
pub struct BatchView {
    /// Orders created.
    pub created: usize,
    /// Orders changed.
    pub updated: usize,
    /// Orders pushed again as they were.
    pub unchanged: usize,
    /// Each order, in the order sent.
    pub results: Vec<BatchResultView>,
}

/// Stores many orders in one transaction (imports): every order is checked first, and
/// one bad order (named `orders[i].field`) stores none.
#[utoipa::path(post, path = "/api/v1/orders/batch", tag = "orders",
    request_body = OrderBatchRequest,
    responses((status = 200, body = BatchView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn push_orders(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<OrderBatchRequest>,
) -> ApiResult<Json<BatchView>> {
    require(&viewer, Permission::ManageOrders)?;
    if req.orders.is_empty() || req.orders.len() > MAX_BATCH {
        return Err(FieldError::new("orders", format!("send 1 to {MAX_BATCH} orders")).into());
    }
    let now = st.now();
    let parsed = req
        .orders
        .iter()
        .enumerate()
        .map(|(i, o)| o.parse(now).map_err(|e| e.within(&format!("orders[{i}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    let actor = Actor::User(viewer.user_id);
    // Written in the order of the shop's ids (two imports of the same new orders then
    // take their rows in the same order and never deadlock), answered in the order sent.
    let mut order: Vec<usize> = (0..parsed.len()).collect();
    order.sort_by(|a, b| {
        parsed[*a]
            .external_id
            .as_str()
            .cmp(parsed[*b].external_id.as_str())
    });
    let done = st
        .db
        .write(op!(c => {
            let mut done = vec![None; parsed.len()];
            for i in order {
                let (o, pushed) = orders::push(c, actor, &parsed[i], now).await?;
                done[i] = Some((o.external_id, o.id, pushed));
            }
            Ok(done.into_iter().flatten().collect::<Vec<_>>())
        }))
        .await?;
    let count = |p: Pushed| done.iter().filter(|d| d.2 == p).count();
    Ok(Json(BatchView {
        created: count(Pushed::Created),
        updated: count(Pushed::Updated),
        unchanged: count(Pushed::Unchanged),
        results: done
            .into_iter()
            .map(|(external_id, id, p)| BatchResultView {
                external_id,
                id,
                result: match p {
                    Pushed::Created => "created",
                    Pushed::Updated => "updated",
                    Pushed::Unchanged => "unchanged",
                },
            })
            .collect(),
    }))
}

/// One order.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = i64, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_order(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let o = st.db.read(op!(c => orders::get(c, id).await)).await?;
    Ok(Json(o.into()))
}

/// The most orders a customer's list shows.
const CUSTOMER_ORDERS: i64 = 50;

/// A customer's recent orders, newest placed first (up to 50).
#[utoipa::path(get, path = "/api/v1/customers/{id}/orders", tag = "orders",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = Vec<OrderView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn customer_orders(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<OrderView>>> {
    require(&viewer, Permission::ReadCustomers)?;
    let list = st
        .db
        .read(op!(c => {
            rapport_store::customers::get(c, id).await?;
            orders::for_customer(c, id, CUSTOMER_ORDERS).await
        }))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// `POST /api/v1/tickets/{id}/orders`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkOrderRequest {
    /// An order of the ticket's customer.
    pub order_id: i64,
}

/// Links a ticket to an order of its customer (again: no change).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/orders", tag = "orders",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = LinkOrderRequest,
    responses((status = 200, body = OrderView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Another customer's order")),
    security(("bearer" = [])))]
pub async fn link_order(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
    JsonBody(req): JsonBody<LinkOrderRequest>,
) -> ApiResult<Json<OrderView>> {
    require(&viewer, Permission::WorkTickets)?;
    let now = st.now();
    let order_id = req.order_id;
    let o = st
        .db
        .write(op!(c => orders::link(c, &viewer, id, order_id, now).await))
        .await?;
    Ok(Json(o.into()))
}

/// The orders linked to a ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/orders", tag = "orders",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = Vec<OrderView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ticket_orders(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<OrderView>>> {
    require(&viewer, Permission::WorkTickets)?;
    let list = st
        .db
        .read(op!(c => orders::linked(c, &viewer, id).await))
        .await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}
