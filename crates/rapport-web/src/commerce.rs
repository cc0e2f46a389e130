//! Orders on the ticket page: the customer's recent orders at a glance — status, total,
//! and where each parcel is — with a button to link one to the ticket.

use axum::extract::{Path, State};
use axum::response::Response;
use rapport_domain::Permission;
use rapport_domain::commerce::ShipmentStatus;
use rapport_domain::commerce::format_minor as money_text;
use rapport_http::AppState;
use rapport_store::commerce::orders::{self, Order};
use rapport_store::op;
use serde::Deserialize;

use crate::page::{require, write_then};
use crate::sessions::{CsrfForm, Me};
use crate::tickets::to_ticket;

/// How many of the customer's orders the ticket page shows.
pub const ON_TICKET: i64 = 5;

/// An order as the ticket page lists it.
pub struct OrderRow {
    pub(crate) id: i64,
    pub(crate) external_id: String,
    pub(crate) placed: String,
    pub(crate) status: &'static str,
    pub(crate) total: String,
    pub(crate) items: String,
    /// "DHL JD014600: in transit, expected 2026-11-24 13:00", one per parcel.
    pub(crate) shipments: Vec<String>,
    pub(crate) linked: bool,
}

fn shipment_words(s: ShipmentStatus) -> &'static str {
    match s {
        ShipmentStatus::Pending => "label created, not yet with the carrier",
        ShipmentStatus::InTransit => "in transit",
        ShipmentStatus::OutForDelivery => "out for delivery",
        ShipmentStatus::Delivered => "delivered",
        ShipmentStatus::Exception => "held up (exception)",
        ShipmentStatus::Returned => "returned to the shop",
    }
}

impl OrderRow {
    pub(crate) fn of(o: &Order, linked: bool, zone: &rapport_domain::Zone) -> Self {
        let items = o
            .lines
            .iter()
            .map(|l| format!("{} × {}", l.quantity, l.name))
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            id: o.id,
            external_id: o.external_id.clone(),
            placed: zone.local(o.placed_at),
            status: o.status.as_str(),
            total: format!("{} {}", money_text(o.total, &o.currency), o.currency),
            items,
            shipments: o
                .shipments
                .iter()
                .map(|s| {
                    let mut t = format!(
                        "{} {}: {}",
                        s.carrier,
                        s.tracking_number,
                        shipment_words(s.status)
                    );
                    if let Some(at) = s
                        .expected_at
                        .filter(|_| s.status != ShipmentStatus::Delivered)
                    {
                        t.push_str(&format!(", expected {}", zone.local(at)));
                    }
                    t
                })
                .collect(),
            linked,
        }
    }
}

/// The link form.
#[derive(Deserialize)]
pub struct LinkForm {
    order_id: i64,
}

/// Links an order of the ticket's customer to the ticket.
pub async fn link(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<LinkForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        op!(c => orders::link(c, &viewer, id, f.order_id, now).await.map(|_| ())),
        |()| to_ticket(id),
    )
    .await
}
