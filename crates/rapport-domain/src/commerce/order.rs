//! An order as the shop pushes it: its id in the shop (`external_id`, the key that makes a
//! push idempotent), lines, money, status and shipments. The shop is the source of truth;
//! the help desk checks what it is given and keeps the latest version.

use super::money::{Currency, MAX_MINOR};
use crate::clock::Timestamp;
use crate::customer::CustomerName;
use crate::email::EmailAddress;
use crate::error::FieldError;
use crate::ticket::wire_enum;

wire_enum!(
    /// Where an order stands, as the shop says.
    OrderStatus, "status" {
        /// Placed, not yet paid.
        Pending = "pending",
        /// Paid, not yet sent.
        Paid = "paid",
        /// Being picked and packed.
        Processing = "processing",
        /// Handed to a carrier.
        Shipped = "shipped",
        /// Arrived.
        Delivered = "delivered",
        /// Called off before it was sent.
        Cancelled = "cancelled",
        /// Paid back in full.
        Refunded = "refunded",
    }
);

wire_enum!(
    /// Where a parcel is, as the carrier says.
    ShipmentStatus, "status" {
        /// The label exists; the carrier does not have it yet.
        Pending = "pending",
        /// On its way.
        InTransit = "in-transit",
        /// With the courier today.
        OutForDelivery = "out-for-delivery",
        /// Arrived.
        Delivered = "delivered",
        /// Held up: lost, damaged, refused or undeliverable.
        Exception = "exception",
        /// Sent back to the shop.
        Returned = "returned",
    }
);

/// The longest external id, SKU or carrier name.
pub const MAX_ID_CHARS: usize = 100;
/// The longest product name.
pub const MAX_NAME_CHARS: usize = 300;
/// The most lines on one order.
pub const MAX_LINES: usize = 500;
/// The largest quantity on one line.
pub const MAX_QUANTITY: i64 = 1_000_000;

/// Checks a short identifier: 1 to `max` printable characters, trimmed.
fn short_text(field: &str, raw: &str, max: usize, what: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("give {what} in 1 to {max} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(FieldError::new(field, "no control characters"));
    }
    Ok(t.to_owned())
}

/// The order's id in the shop: 1 to 100 printable characters, unique per help desk.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    /// Checks an external id.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        short_text(field, raw, MAX_ID_CHARS, "the shop's order id").map(Self)
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One checked line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    /// The product's stock-keeping unit.
    pub sku: String,
    /// The product's name.
    pub name: String,
    /// How many, 1 to a million.
    pub quantity: i64,
    /// The price of one, in minor units (not negative).
    pub unit_price: i64,
}

impl NewLine {
    /// Checks a line; errors name `lines[i].field`.
    pub fn parse(
        i: usize,
        sku: &str,
        name: &str,
        quantity: i64,
        unit_price: &str,
        currency: Currency,
    ) -> Result<Self, FieldError> {
        let f = |name: &str| format!("lines[{i}].{name}");
        let sku = short_text(&f("sku"), sku, MAX_ID_CHARS, "the SKU")?;
        let name = short_text(&f("name"), name, MAX_NAME_CHARS, "the product's name")?;
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(FieldError::new(
                f("quantity"),
                format!("must be a whole number from 1 to {MAX_QUANTITY}"),
            ));
        }
        let unit_price = currency.amount(&f("unit_price"), unit_price)?;
        if unit_price < 0 {
            return Err(FieldError::new(f("unit_price"), "must not be negative"));
        }
        Ok(Self {
            sku,
            name,
            quantity,
            unit_price,
        })
    }

    /// Quantity times unit price (never overflows: both are bounded).
    pub fn total(&self) -> i64 {
        self.quantity.saturating_mul(self.unit_price)
    }
}

/// The order's total: its lines, plus shipping and tax, less discounts — refused when it
/// comes out negative or too large to keep.
pub fn order_total(
    lines: &[NewLine],
    shipping: i64,
    tax: i64,
    discount: i64,
) -> Result<i64, FieldError> {
    if lines.len() > MAX_LINES {
        return Err(FieldError::new(
            "lines",
            format!("at most {MAX_LINES} lines an order"),
        ));
    }
    for (field, v) in [("shipping", shipping), ("tax", tax), ("discount", discount)] {
        if v < 0 {
            return Err(FieldError::new(field, "must not be negative"));
        }
    }
    let sum = lines.iter().map(|l| i128::from(l.total())).sum::<i128>()
        + i128::from(shipping)
        + i128::from(tax)
        - i128::from(discount);
    if sum < 0 {
        return Err(FieldError::new(
            "discount",
            "must not be more than the lines, shipping and tax",
        ));
    }
    i64::try_from(sum)
        .ok()
        .filter(|s| s.unsigned_abs() <= MAX_MINOR)
        .ok_or_else(|| FieldError::new("lines", "the order's total is too large"))
}

/// Checks a carrier's name or a tracking number.
pub fn shipment_text(field: &str, raw: &str) -> Result<String, FieldError> {
    short_text(field, raw, MAX_ID_CHARS, "a value")
}

/// One checked shipment of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewShipment {
    /// Who carries it ("DHL").
    pub carrier: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// Where it is.
    pub status: ShipmentStatus,
    /// When it is expected to arrive.
    pub expected_at: Option<Timestamp>,
}

/// A shipment as given, before checking.
#[derive(Debug, Clone, Default)]
pub struct RawShipment<'a> {
    /// Carrier.
    pub carrier: &'a str,
    /// Tracking number.
    pub tracking_number: &'a str,
    /// Status (default `pending`).
    pub status: Option<&'a str>,
    /// Expected arrival.
    pub expected_at: Option<Timestamp>,
}

/// A line as given, before checking.
#[derive(Debug, Clone, Default)]
pub struct RawLine<'a> {
    /// SKU.
    pub sku: &'a str,
    /// Product name.
    pub name: &'a str,
    /// Quantity.
    pub quantity: i64,
    /// Unit price as decimal text.
    pub unit_price: &'a str,
}

/// An order as given (API body, CSV row), before checking.
#[derive(Debug, Clone, Default)]
pub struct RawOrder<'a> {
    /// The shop's id.
    pub external_id: &'a str,
    /// The customer's address.
    pub email: &'a str,
    /// The customer's name, if given.
    pub name: Option<&'a str>,
    /// ISO 4217 code.
    pub currency: &'a str,
    /// Status (default `pending`).
    pub status: Option<&'a str>,
    /// When it was placed (default: now).
    pub placed_at: Option<Timestamp>,
    /// The lines.
    pub lines: Vec<RawLine<'a>>,
    /// Shipping, decimal text.
    pub shipping: Option<&'a str>,
    /// Tax, decimal text.
    pub tax: Option<&'a str>,
    /// Discount, decimal text.
    pub discount: Option<&'a str>,
    /// Its shipments.
    pub shipments: Vec<RawShipment<'a>>,
}

/// A checked order, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The shop's id: the key of an idempotent push.
    pub external_id: ExternalId,
    /// Whose it is.
    pub email: EmailAddress,
    /// Their name, if the shop gave one.
    pub name: Option<CustomerName>,
    /// In which currency.
    pub currency: Currency,
    /// Where it stands.
    pub status: OrderStatus,
    /// When it was placed.
    pub placed_at: Timestamp,
    /// Its lines.
    pub lines: Vec<NewLine>,
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
    /// Its shipments.
    pub shipments: Vec<NewShipment>,
}

/// The most shipments on one order.
pub const MAX_SHIPMENTS: usize = 50;

impl NewOrder {
    /// Checks an order; the error names the field as the caller spelled it
    /// (`lines[2].unit_price`, `customer.email`).
    pub fn parse(raw: &RawOrder<'_>, now: Timestamp) -> Result<Self, FieldError> {
        let external_id = ExternalId::parse("external_id", raw.external_id)?;
        let email = EmailAddress::parse(raw.email).map_err(|e| e.within("customer"))?;
        let name = match raw.name {
            Some(n) => CustomerName::parse(n).map_err(|e| e.within("customer"))?,
            None => None,
        };
        let currency = Currency::parse("currency", raw.currency)?;
        let status = raw
            .status
            .map(OrderStatus::parse)
            .transpose()?
            .unwrap_or(OrderStatus::Pending);
        let placed_at = raw.placed_at.unwrap_or(now);
        if placed_at > now.plus_secs(86_400) {
            return Err(FieldError::new("placed_at", "must not be in the future"));
        }
        let lines = raw
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| NewLine::parse(i, l.sku, l.name, l.quantity, l.unit_price, currency))
            .collect::<Result<Vec<_>, _>>()?;
        let money = |field: &str, v: Option<&str>| match v {
            Some(t) => currency.amount(field, t),
            None => Ok(0),
        };
        let (shipping, tax, discount) = (
            money("shipping", raw.shipping)?,
            money("tax", raw.tax)?,
            money("discount", raw.discount)?,
        );
        let total = order_total(&lines, shipping, tax, discount)?;
        if raw.shipments.len() > MAX_SHIPMENTS {
            return Err(FieldError::new(
                "shipments",
                format!("at most {MAX_SHIPMENTS} shipments an order"),
            ));
        }
        let shipments = raw
            .shipments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let f = |name: &str| format!("shipments[{i}].{name}");
                Ok(NewShipment {
                    carrier: shipment_text(&f("carrier"), s.carrier)?,
                    tracking_number: shipment_text(&f("tracking_number"), s.tracking_number)?,
                    status: s
                        .status
                        .map(|t| {
                            ShipmentStatus::parse(t)
                                .map_err(|e| e.within(&format!("shipments[{i}]")))
                        })
                        .transpose()?
                        .unwrap_or(ShipmentStatus::Pending),
                    expected_at: s.expected_at,
                })
            })
            .collect::<Result<Vec<_>, FieldError>>()?;
        Ok(Self {
            external_id,
            email,
            name,
            currency,
            status,
            placed_at,
            subtotal: lines.iter().map(NewLine::total).sum(),
            lines,
            shipping,
            tax,
            discount,
            total,
            shipments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur() -> Currency {
        Currency::parse("currency", "EUR").unwrap()
    }

    #[test]
    fn lines_are_checked_field_by_field() {
        let l = NewLine::parse(0, " SKU-1 ", "Mug", 3, "4.50", eur()).unwrap();
        assert_eq!(
            (l.sku.as_str(), l.quantity, l.unit_price, l.total()),
            ("SKU-1", 3, 450, 1350)
        );
        let field = |r: Result<NewLine, FieldError>| r.unwrap_err().field;
        assert_eq!(
            field(NewLine::parse(2, "", "Mug", 1, "1", eur())),
            "lines[2].sku"
        );
        assert_eq!(
            field(NewLine::parse(2, "S", "", 1, "1", eur())),
            "lines[2].name"
        );
        assert_eq!(
            field(NewLine::parse(2, "S", "M", 0, "1", eur())),
            "lines[2].quantity"
        );
        assert_eq!(
            field(NewLine::parse(2, "S", "M", 1, "-1", eur())),
            "lines[2].unit_price"
        );
        assert_eq!(
            field(NewLine::parse(2, "S", "M", 1, "1.001", eur())),
            "lines[2].unit_price"
        );
        assert_eq!(
            field(NewLine::parse(2, "S\u{7}", "M", 1, "1", eur())),
            "lines[2].sku"
        );
    }

    #[test]
    fn totals_add_lines_shipping_and_tax_less_discounts() {
        let lines = vec![
            NewLine::parse(0, "A", "A", 2, "10.00", eur()).unwrap(),
            NewLine::parse(1, "B", "B", 1, "0.99", eur()).unwrap(),
        ];
        assert_eq!(order_total(&lines, 495, 0, 100), Ok(2000 + 99 + 495 - 100));
        assert_eq!(
            order_total(&lines, 0, 0, 5000).unwrap_err().field,
            "discount"
        );
        assert_eq!(order_total(&lines, -1, 0, 0).unwrap_err().field, "shipping");
        let huge =
            vec![NewLine::parse(0, "A", "A", MAX_QUANTITY, "999999999999.99", eur()).unwrap()];
        assert_eq!(order_total(&huge, 0, 0, 0).unwrap_err().field, "lines");
        assert_eq!(order_total(&[], 0, 0, 0), Ok(0));
    }

    #[test]
    fn orders_are_checked_whole() {
        let now = Timestamp(1_000_000_000_000_000);
        let raw = RawOrder {
            external_id: "1001",
            email: "Ada@Example.com",
            currency: "eur",
            lines: vec![RawLine {
                sku: "MUG",
                name: "Mug",
                quantity: 2,
                unit_price: "4.50",
            }],
            shipping: Some("3.95"),
            shipments: vec![RawShipment {
                carrier: "DHL",
                tracking_number: "JD0001",
                ..RawShipment::default()
            }],
            ..RawOrder::default()
        };
        let o = NewOrder::parse(&raw, now).unwrap();
        assert_eq!(
            (o.subtotal, o.total, o.status, o.placed_at),
            (900, 1295, OrderStatus::Pending, now)
        );
        assert_eq!(o.shipments[0].status, ShipmentStatus::Pending);
        let err = |r: RawOrder<'_>| NewOrder::parse(&r, now).unwrap_err().field;
        assert_eq!(
            err(RawOrder {
                email: "nope",
                ..raw.clone()
            }),
            "customer.email"
        );
        assert_eq!(
            err(RawOrder {
                currency: "EURO",
                ..raw.clone()
            }),
            "currency"
        );
        assert_eq!(
            err(RawOrder {
                status: Some("lost"),
                ..raw.clone()
            }),
            "status"
        );
        assert_eq!(
            err(RawOrder {
                placed_at: Some(now.plus_secs(3 * 86_400)),
                ..raw.clone()
            }),
            "placed_at"
        );
        let bad_ship = vec![RawShipment {
            carrier: "DHL",
            tracking_number: "1",
            status: Some("flying"),
            expected_at: None,
        }];
        assert_eq!(
            err(RawOrder {
                shipments: bad_ship,
                ..raw.clone()
            }),
            "shipments[0].status"
        );
    }

    #[test]
    fn statuses_read_their_wire_names() {
        assert_eq!(OrderStatus::parse("Shipped"), Ok(OrderStatus::Shipped));
        assert_eq!(
            ShipmentStatus::parse("in-transit"),
            Ok(ShipmentStatus::InTransit)
        );
        assert_eq!(OrderStatus::parse("lost").unwrap_err().field, "status");
        assert!(ExternalId::parse("external_id", "  ").is_err());
        assert_eq!(
            ExternalId::parse("external_id", " 1001 ").unwrap().as_str(),
            "1001"
        );
    }
}
