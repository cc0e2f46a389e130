//! The domain of Rapport: what a ticket is, who may touch it, and the rules that hold
//! whatever the storage or transport. This crate knows nothing of SQL, HTTP or the
//! network — everything here is plain data and pure functions, so it is tested
//! without any server and reused by every channel.

pub mod automation;
pub mod bot;
pub mod branding;
pub mod chat;
pub mod chat_file;
pub mod classify;
pub mod clock;
pub mod commerce;
pub mod community;
pub mod crm;
pub mod customer;
pub mod email;
pub mod error;
pub mod event;
pub mod expectation;
pub mod job;
pub mod kb;
pub mod loyalty;
pub mod net;
pub mod password;
pub mod people;
pub mod principal;
pub mod promise;
pub mod reports;
pub mod routing;
pub mod score;
pub mod sentiment;
pub mod sla;
pub mod snooze;
pub mod survey;
pub mod text;
pub mod ticket;
pub mod webhook;
pub mod zone;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use customer::CustomerName;
pub use email::EmailAddress;
pub use error::FieldError;
pub use event::EventKind;
pub use password::NewPassword;
pub use people::{Permission, Role, Viewer};
pub use principal::{AuthorKind, MessageSight, Principal};
pub use ticket::{Body, Category, Channel, Priority, Subject, Tag, TicketNumber, TicketStatus};
pub use zone::Zone;
