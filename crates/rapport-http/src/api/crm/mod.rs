//! The CRM's API: a customer's details and dates ([`profile`]), organisations and their
//! members ([`organizations`]), attribute definitions ([`attributes`]), the timeline
//! ([`timeline`]), merging duplicates ([`merge`]), CSV import ([`import`]), GDPR export
//! and erasure ([`privacy`]), and the customer card ([`card`]).

pub mod attributes;
pub mod card;
pub mod import;
pub mod merge;
pub mod organizations;
pub mod privacy;
pub mod profile;
pub mod segments;
pub mod timeline;
