//! Service-level agreements: business-hours calendars, policies, and each ticket's clocks.

pub mod calendars;
pub mod clocks;
pub mod policies;
