//! Reward points earned on orders: every change the shop pushes to an order brings the
//! order's points to what the earn rule gives it now (credited once paid, taken back as
//! far as the balance allows when cancelled or refunded). The expiry of unspent points
//! runs on a schedule (the binary's), not on events.

use futures::future::BoxFuture;
use rapport_domain::{EventKind, Timestamp};
use rapport_store::loyalty::rules;
use rapport_store::stream::StreamEvent;
use rapport_store::{Conn, StoreError};

use crate::subscribers::Subscriber;

/// The subscriber's cursor name.
pub const EARN: &str = "loyalty.earn";

/// Credits and takes back order points.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderPoints;

impl Subscriber for OrderPoints {
    fn name(&self) -> &'static str {
        EARN
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        event.kind == EventKind::OrderChanged
    }

    fn handle<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        event: &'a StreamEvent,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if let Some(order) = event.data["order_id"].as_i64() {
                rules::settle_order(c, order, now).await?;
            }
            Ok(())
        })
    }
}

/// Expires the unspent points past their expiry, a batch of customers at a time; returns
/// how many lost points.
pub async fn expire_points(db: &rapport_store::Db, now: Timestamp) -> Result<usize, StoreError> {
    db.write(rapport_store::op!(c => rules::expire_due(c, now, 500).await))
        .await
}
