//! The SLA policies and calendars, kept in memory for a few seconds so a new ticket's answer
//! can carry the clocks the `sla.clocks` subscriber is about to store without reading the
//! database again (on SQLite that read cost a third of the creation rate). Only for that
//! answer: the stored clocks are the subscriber's, from the database. A change through this
//! node's API forgets the copy; another node's change shows within [`KEEP_MICROS`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rapport_domain::Timestamp;
use rapport_domain::sla::calendar::Calendar;
use rapport_domain::sla::clock::TicketSla;
use rapport_domain::sla::policy::{Policy, TicketFacts, pick};
use rapport_domain::{Category, TicketStatus};
use rapport_store::op;
use rapport_store::sla::{calendars, policies};
use rapport_store::tickets::Ticket;

use crate::state::AppState;

/// How long a copy is used.
pub const KEEP_MICROS: i64 = 5_000_000;

/// Policies and calendars as of `loaded`.
#[derive(Debug)]
pub struct Terms {
    policies: Vec<Policy>,
    calendars: HashMap<i64, Calendar>,
    loaded: Timestamp,
}

/// The shared copy.
#[derive(Debug, Clone, Default)]
pub struct TermsCache(Arc<Mutex<Option<Arc<Terms>>>>);

impl TermsCache {
    /// Drops the copy (after a change of policies or calendars).
    pub fn forget(&self) {
        if let Ok(mut g) = self.0.lock() {
            *g = None;
        }
    }

    async fn get(&self, st: &AppState, now: Timestamp) -> Option<Arc<Terms>> {
        let kept = self.0.lock().ok().and_then(|g| g.clone());
        if let Some(t) = kept.filter(|t| now.0 - t.loaded.0 < KEEP_MICROS && now >= t.loaded) {
            return Some(t);
        }
        let (policies, calendars) = st
            .db
            .read(op!(c => Ok((policies::list(c).await?, calendars::list(c).await?))))
            .await
            .ok()?;
        let terms = Arc::new(Terms {
            policies,
            calendars: calendars.into_iter().map(|r| (r.id, r.calendar)).collect(),
            loaded: now,
        });
        if let Ok(mut g) = self.0.lock() {
            *g = Some(Arc::clone(&terms));
        }
        Some(terms)
    }

    /// The clocks a ticket just created starts with, from the copy — `None` when no policy
    /// applies, or when one that might depends on the customer's organisation or tier
    /// (those are left to the subscriber and to reads).
    pub async fn started(&self, st: &AppState, t: &Ticket) -> Option<TicketSla> {
        let facts = TicketFacts {
            priority: t.priority,
            category: t.category.as_deref().and_then(|c| Category::parse(c).ok()),
            channel: t.channel,
            organization: None,
            tier: None,
        };
        self.starting(st, &facts, t.created_at).await
    }

    /// The clocks a ticket with these facts (organisation and tier unknown) starts with
    /// when created at `at` — see [`TermsCache::started`].
    pub async fn starting(
        &self,
        st: &AppState,
        facts: &TicketFacts,
        at: Timestamp,
    ) -> Option<TicketSla> {
        let terms = self.get(st, st.now()).await?;
        let customer_matters = terms.policies.iter().any(|p| {
            p.enabled && (!p.conditions.organizations.is_empty() || !p.conditions.tiers.is_empty())
        });
        if customer_matters {
            return None;
        }
        let policy = pick(&terms.policies, facts)?;
        let always = Calendar::always();
        let calendar = match policy.calendar_id {
            Some(id) => terms.calendars.get(&id)?,
            None => &always,
        };
        Some(TicketSla::start(
            policy.id,
            &policy.targets,
            calendar,
            at,
            TicketStatus::New,
        ))
    }
}
