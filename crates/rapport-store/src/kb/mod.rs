//! The knowledge base: articles, their search log, readers' feedback, deflection and the
//! reports that read them.

pub mod deflection;
pub mod reports;
