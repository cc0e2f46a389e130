//! The knowledge base.

pub mod feedback;
pub mod views;
