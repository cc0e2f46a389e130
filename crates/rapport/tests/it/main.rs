//! The integration tests: one binary (one link), each module a part of the contract.
//! Every scenario runs against SQLite and against PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod harness;

mod admin_pages;
mod attack_fixes;
mod automations;
mod bot;
mod chat;
mod chat_bot;
mod chat_trust;
mod chat_visitor;
mod classify;
mod commerce;
mod community;
mod community_search;
mod community_trust;
mod credentials;
mod crm;
mod deflection;
mod durability;
mod email;
mod errors;
mod help;
mod help_counts;
mod imap;
mod jobs;
mod kb;
mod kb_categories;
mod kb_demo;
mod kb_links;
mod kb_logs;
mod kb_search;
mod limits;
mod live;
mod loyalty;
mod migrations;
mod openapi;
mod peers;
mod permissions;
mod principal;
mod promises;
mod reports;
mod reports_dashboard;
mod reports_rollup;
mod review_fixes;
mod routing;
mod score;
mod search;
mod sentiment;
mod sessions_trust;
mod sla;
mod sla_judge;
mod snooze;
mod storage_trust;
mod subscribers;
mod surveys;
mod tickets;
mod trust_mail;
mod web;
mod webhooks;
mod widget;
mod workspace;
mod zones;
