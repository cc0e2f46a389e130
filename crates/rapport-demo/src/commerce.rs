//! The demo's shop: orders for the first customers (delivered, on the way, being packed),
//! a few returns at different steps, reward points, vouchers, the agents' goodwill limits
//! and one gift waiting for a supervisor — so a newcomer sees orders and loyalty beside
//! every conversation.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_domain::commerce::{Currency, Money};
use rapport_domain::commerce::{NewOrder, RawLine, RawOrder, RawShipment, ReturnMove};
use rapport_domain::loyalty::{GoodwillKind, VoucherValue};
use rapport_domain::{Principal, Role, Timestamp, Viewer};
use rapport_store::commerce::{orders, returns};
use rapport_store::events::Actor;
use rapport_store::loyalty::limits::{self, Limit};
use rapport_store::loyalty::{gifts, points};
use rapport_store::{Db, StoreError, op};

/// The catalogue: SKU, name, price in euros.
const PRODUCTS: &[(&str, &str, &str)] = &[
    ("BOOT-42", "Trail walking boots", "89.90"),
    ("MUG-01", "Stoneware mug", "12.50"),
    ("TEA-09", "Breakfast tea, 250 g", "7.20"),
    ("JKT-M", "Rain jacket", "129.00"),
    ("BAG-20", "Day pack, 20 l", "54.00"),
    ("SOCK-3", "Wool socks, three pairs", "19.90"),
    ("LAMP-7", "Desk lamp", "39.00"),
    ("KETL-1", "Electric kettle", "34.99"),
];

const DAY: i64 = 86_400;

/// What the shop seeded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shop {
    /// Orders pushed.
    pub orders: usize,
    /// Returns asked for.
    pub returns: usize,
}

/// Seeds the shop for `emails` (the first customers) as the shop and the agents would.
pub async fn populate(
    db: &Db,
    now: Timestamp,
    emails: &[String],
    agent: Viewer,
    supervisor: Viewer,
) -> Result<Shop, StoreError> {
    let mut rng = StdRng::seed_from_u64(14);
    let mut shop = Shop::default();
    let mut first_orders = Vec::new();
    for (i, email) in emails.iter().enumerate() {
        for k in 0..rng.gen_range(1..=3) {
            let days_ago = rng.gen_range(1..60);
            let placed = now.plus_secs(-days_ago * DAY - rng.gen_range(0..DAY));
            let picks: Vec<usize> = (0..rng.gen_range(1..=3))
                .map(|_| rng.gen_range(0..PRODUCTS.len()))
                .collect();
            let mut lines: Vec<RawLine<'_>> = Vec::new();
            for p in picks {
                if lines.iter().all(|l| l.sku != PRODUCTS[p].0) {
                    lines.push(RawLine {
                        sku: PRODUCTS[p].0,
                        name: PRODUCTS[p].1,
                        quantity: rng.gen_range(1..=2),
                        unit_price: PRODUCTS[p].2,
                    });
                }
            }
            let (status, shipment) = match days_ago {
                0..=2 => ("processing", None),
                3..=6 => ("shipped", Some(("in-transit", placed.plus_secs(5 * DAY)))),
                _ => ("delivered", Some(("delivered", placed.plus_secs(3 * DAY)))),
            };
            let tracking = format!("JD01460{i:03}{k}");
            let external = format!("SHOP-{}", 10_000 + i * 3 + k);
            let order = NewOrder::parse(
                &RawOrder {
                    external_id: &external,
                    email,
                    currency: "EUR",
                    status: Some(status),
                    placed_at: Some(placed),
                    lines,
                    shipping: Some("4.95"),
                    shipments: shipment
                        .map(|(s, at)| RawShipment {
                            carrier: "DHL",
                            tracking_number: &tracking,
                            status: Some(s),
                            expected_at: Some(at),
                        })
                        .into_iter()
                        .collect(),
                    ..RawOrder::default()
                },
                now,
            )?;
            let (o, _) = db
                .write(op!(c => orders::push(c, Actor::System, &order, now).await))
                .await?;
            shop.orders += 1;
            if k == 0 {
                first_orders.push(o);
            }
        }
    }
    let eur = Currency::parse("currency", "EUR")?;
    let staff = Viewer {
        user_id: agent.user_id,
        role: Role::Agent,
        team_ids: agent.team_ids.clone(),
    };
    let limits = vec![
        Limit {
            scope: limits::role_scope(Role::Agent),
            kind: GoodwillKind::Voucher,
            currency: "EUR".into(),
            max_per_month: 2_500,
        },
        Limit {
            scope: limits::role_scope(Role::Agent),
            kind: GoodwillKind::VoucherPercent,
            currency: String::new(),
            max_per_month: 15,
        },
        Limit {
            scope: limits::role_scope(Role::Agent),
            kind: GoodwillKind::Points,
            currency: String::new(),
            max_per_month: 500,
        },
    ];
    db.write(op!(c => limits::replace(c, &limits).await))
        .await?;
    // Returns at three steps: asked, on the way back, refunded.
    let steps: [&[ReturnMove]; 3] = [
        &[],
        &[ReturnMove::Approve, ReturnMove::SendInstructions],
        &[
            ReturnMove::Approve,
            ReturnMove::SendInstructions,
            ReturnMove::Receive,
            ReturnMove::Refund,
        ],
    ];
    for (o, moves) in first_orders.iter().skip(1).zip(steps) {
        let Some(line) = o.lines.first() else {
            continue;
        };
        let by = returns::By::Agent(supervisor.clone());
        let lines = vec![(line.sku.clone(), 1)];
        let (id, moves) = (o.id, moves.to_vec());
        db.write(op!(c => {
            let r = returns::request(c, &by, id, &lines, "It arrived damaged.", None, now).await?;
            for m in moves {
                returns::advance(c, &by, r.id, m, None, None, now).await?;
            }
            Ok(())
        }))
        .await?;
        shop.returns += 1;
    }
    // Points for the loyal, a voucher given at once, and one waiting for approval.
    for (i, o) in first_orders.iter().enumerate().take(12) {
        // A welcome bonus, not tied to an order: orders earn their own points by the rule
        // the CRM demo sets (`crm::populate`).
        let (cid, n) = (o.customer_id, 100 + 25 * i as i64);
        db.write(op!(c => {
            let about = points::About::default();
            points::apply(c, cid, n, points::EARN, "Welcome to the club", about, now).await.map(|_| ())
        }))
        .await?;
    }
    // Agents give from a ticket they work: the first two customers with one of those get
    // a voucher — within the limit, and above it (waiting for a supervisor).
    let mut gifts_left = vec![
        (
            VoucherValue::amount(Money::new(1_000, eur))?,
            "Sorry the parcel was late",
        ),
        (
            VoucherValue::amount(Money::new(4_000, eur))?,
            "The boots fell apart after a week",
        ),
    ];
    for o in &first_orders {
        if gifts_left.is_empty() {
            break;
        }
        let (cid, v) = (o.customer_id, staff.clone());
        let who = Principal::Agent(staff.clone());
        let ticket = db
            .read(op!(c => Ok(rapport_store::tickets::for_customer(c, &who, cid).await?.first().map(|t| t.id))))
            .await?;
        let Some(ticket) = ticket else { continue };
        let (value, reason) = gifts_left.remove(0);
        let gift = gifts::Gift::Voucher {
            customer_id: cid,
            value,
            expires_at: Some(now.plus_secs(90 * DAY)),
            reason: reason.into(),
            ticket_id: Some(ticket),
        };
        db.write(op!(c => gifts::give(c, &v, &gift, now).await.map(|_| ())))
            .await?;
    }
    Ok(shop)
}
