//! Commerce: the shop's orders as the help desk knows them — lines, money, status and
//! shipments — pushed by the shop (API or CSV) so an agent sees what a customer bought
//! and where it is without leaving the ticket. Money is kept in integer minor units of
//! an ISO 4217 currency, never in floating point.

pub mod billing;
pub mod csv;
pub mod money;
pub mod order;
pub mod returns;

pub use money::{Currency, Money, format_minor};
pub use order::{
    ExternalId, NewLine, NewOrder, NewShipment, OrderStatus, RawLine, RawOrder, RawShipment,
    ShipmentStatus,
};
pub use returns::{ReturnMove, ReturnState};
