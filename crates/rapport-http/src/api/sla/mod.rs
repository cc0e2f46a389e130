//! Service-level agreements: policies, business-hours calendars, and how a ticket's
//! clocks read (`view`, part of every ticket's JSON).

pub mod calendars;
pub mod policies;
pub mod terms;
pub mod view;
