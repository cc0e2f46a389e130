//! The knowledge base in the workspace: authoring, and the reports on articles, deflection
//! and content gaps ([`reports`]).

pub mod reports;
