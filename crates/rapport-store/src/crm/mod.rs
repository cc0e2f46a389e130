//! The CRM: customers and organisations with typed custom attributes ([`attributes`],
//! [`organizations`], [`profile`]), one timeline per customer across every channel
//! ([`timeline`]), merging duplicates ([`merge`]), CSV import with a dry run
//! ([`import`]), GDPR export and erasure ([`privacy`]), and the customer card — value,
//! history and churn risk ([`card`]).

pub mod attributes;
pub mod card;
pub mod import;
pub mod merge;
pub mod organizations;
pub mod privacy;
pub mod profile;
pub mod segments;
pub mod timeline;
