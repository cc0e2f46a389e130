//! Service-level agreements: targets for the first response, every next response and the
//! resolution of a ticket, measured in business hours of a [`calendar::Calendar`] (or in
//! calendar hours), chosen by a [`policy::Policy`]'s conditions, and paused while the
//! ticket waits on the customer ([`clock`]).

pub mod calendar;
pub mod clock;
pub mod glance;
pub mod policy;
pub mod spec;
