//! What every handler shares.

use std::sync::Arc;

use rapport_domain::{Clock, Timestamp};
use rapport_store::Db;

use crate::client::TrustedProxies;
use crate::limit::FailureLimiter;
use crate::live::Live;
use crate::throttle::SignInThrottle;

/// The application state: the database, the clock and the configuration handlers need.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// SLA policies and calendars kept for a few seconds (a new ticket's answer).
    pub sla_terms: crate::api::sla::terms::TermsCache,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// The address people reach this server at, for links.
    pub public_url: String,
    /// Seals secrets kept in the database (IMAP passwords).
    pub sealer: rapport_store::secrets::Sealer,
    /// Failed API token authentications per client address (the API's own counter).
    pub auth_failures: Arc<FailureLimiter>,
    /// Failed sign-ins per (account, client address), and per address (the pages' own).
    pub sign_in: Arc<SignInThrottle>,
    /// Which reverse proxies may say who the client is.
    pub trusted_proxies: TrustedProxies,
    /// Portal requests per client address.
    pub portal_posts: Arc<FailureLimiter>,
    /// Community reads (topic lists, suggestions) per client address: 120 a minute.
    pub community_reads: Arc<FailureLimiter>,
    /// The portal's deflection beacons (suggestions shown, articles opened) per client
    /// address.
    pub deflection_beacons: Arc<FailureLimiter>,
    /// Live updates for connected browsers.
    pub live: Arc<Live>,
    /// Whether people reach this server over TLS (cookies are then `Secure`).
    pub https: bool,
    /// The counts beside each agent's inbox views, kept for a few seconds.
    pub view_counts: Arc<ViewCounts>,
    /// How long agents' browser sessions last.
    pub sessions: SessionPolicy,
    /// Article views counted on this node, written in batches.
    pub article_views: Arc<crate::article_views::ArticleViews>,
    /// The overall hourly cap on automatic mail (`RAPPORT_AUTO_MAIL_PER_HOUR`); portal
    /// sign-in links may use half of it.
    pub auto_mail_per_hour: i64,
    /// The knowledge base's search index, in memory on every node, kept fresh from the
    /// event stream (`rapport_index::kb::KbIndex::follow`); the writer of a change calls
    /// `refresh_article` after its commit.
    pub kb_index: rapport_index::kb::KbIndex,
    /// The community's search index (shown topics and posts), in memory on every node,
    /// kept fresh from the event stream (`rapport_index::community::CommunityIndex::follow`);
    /// the writer of a change calls `refresh_topic` after its commit.
    pub community_index: rapport_index::community::CommunityIndex,
    /// Knowledge-base searches and suggestions per client address (public endpoints).
    pub kb_search_limit: Arc<FailureLimiter>,
    /// Live chat on this node: its limits and the relay of typing and read signals.
    pub chat: Arc<crate::api::chat::hub::ChatHub>,
    /// `/sitemap.xml` as last rendered, kept until an article changes (at most ten
    /// minutes).
    pub sitemap: Arc<crate::rendered::Rendered>,
    /// The help center front page's lists, one copy per kind of reader, kept until an
    /// article changes (at most half a minute, so the most read move with the views).
    pub help_front: Arc<HelpFront>,
    /// The assistant bot's generator (`RAPPORT_BOT_LLM_URL`), when one is configured;
    /// without it the bot answers by retrieval and templates alone.
    pub bot_generator: Option<Arc<crate::api::bot::generator::Generator>>,
}

/// The lists of the help center's front page for one kind of reader.
#[derive(Debug)]
pub struct FrontLists {
    /// Every category, with how many articles the reader may read in each.
    pub categories: Vec<rapport_store::kb::Category>,
    /// The most read articles.
    pub popular: Vec<rapport_store::kb::Article>,
    /// The newest articles.
    pub recent: Vec<rapport_store::kb::Article>,
}

/// The front page's lists as kept: what an anonymous reader sees and what a signed-in
/// customer sees (every customer may read the same articles).
#[derive(Debug)]
pub struct HelpFront {
    /// For anonymous readers.
    pub anonymous: crate::rendered::Kept<Arc<FrontLists>>,
    /// For signed-in customers.
    pub customers: crate::rendered::Kept<Arc<FrontLists>>,
}

/// How long an agent's browser session lasts: it ends after `idle_secs` without use (each
/// use slides the deadline) or `max_secs` after signing in, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Seconds without use after which a session ends.
    pub idle_secs: i64,
    /// Seconds after signing in after which a session ends however much it is used.
    pub max_secs: i64,
}

impl Default for SessionPolicy {
    /// Eight hours idle, seven days at most.
    fn default() -> Self {
        Self {
            idle_secs: 8 * 3600,
            max_secs: 7 * 86_400,
        }
    }
}

/// Counts by view key, and when they were taken.
type CountsAt = (Timestamp, Vec<(String, i64)>);

/// The counts beside inbox views, per agent, for [`ViewCounts::TTL`]. Counting every open
/// ticket on each page load costs more than the list itself on a large help desk; counts a
/// few seconds old are what every help desk shows (the list itself is always fresh).
pub struct ViewCounts {
    clock: Arc<dyn Clock>,
    map: std::sync::Mutex<std::collections::HashMap<i64, CountsAt>>,
}

impl std::fmt::Debug for ViewCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewCounts").finish_non_exhaustive()
    }
}

impl ViewCounts {
    /// How long counts are reused.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(15);

    /// Counts timed by `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            map: std::sync::Mutex::default(),
        }
    }

    fn fresh(at: Timestamp, now: Timestamp) -> bool {
        let ttl = i64::try_from(Self::TTL.as_micros()).unwrap_or(i64::MAX);
        (0..ttl).contains(&now.micros().saturating_sub(at.micros()))
    }

    /// An agent's counts by view key, if fresh.
    pub fn get(&self, user_id: i64) -> Option<Vec<(String, i64)>> {
        let now = self.clock.now();
        let map = self.map.lock().ok()?;
        map.get(&user_id)
            .filter(|(at, _)| Self::fresh(*at, now))
            .map(|(_, c)| c.clone())
    }

    /// Stores an agent's counts.
    pub fn put(&self, user_id: i64, counts: Vec<(String, i64)>) {
        let now = self.clock.now();
        if let Ok(mut map) = self.map.lock() {
            if map.len() > 10_000 {
                map.retain(|_, (at, _)| Self::fresh(*at, now));
            }
            map.insert(user_id, (now, counts));
        }
    }
}

impl AppState {
    /// Uses `sealer` for secrets at rest (without it, a key that lives only as long as
    /// this process).
    #[must_use]
    pub fn with_sealer(mut self, sealer: rapport_store::secrets::Sealer) -> Self {
        self.sealer = sealer;
        self
    }

    /// Reads client addresses as `proxies` says (without it, the socket peer).
    #[must_use]
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// State over `db` with default limits.
    pub fn new(db: Db, clock: Arc<dyn Clock>, public_url: String) -> Self {
        let chat_db = db.clone();
        Self {
            db,
            sla_terms: crate::api::sla::terms::TermsCache::default(),
            https: public_url.starts_with("https://"),
            sealer: rapport_store::secrets::Sealer::ephemeral(),
            public_url,
            auth_failures: Arc::new(FailureLimiter::per_minute(clock.clone())),
            sign_in: Arc::new(SignInThrottle::new(clock.clone())),
            trusted_proxies: TrustedProxies::None,
            portal_posts: Arc::new(FailureLimiter::new(
                20,
                std::time::Duration::from_secs(600),
                clock.clone(),
            )),
            community_reads: Arc::new(FailureLimiter::new(
                120,
                std::time::Duration::from_secs(60),
                clock.clone(),
            )),
            deflection_beacons: Arc::new(FailureLimiter::new(
                300,
                std::time::Duration::from_secs(600),
                clock.clone(),
            )),
            live: Arc::new(Live::default()),
            view_counts: Arc::new(ViewCounts::new(clock.clone())),
            article_views: Arc::new(crate::article_views::ArticleViews::new(
                clock.clone(),
                std::time::Duration::from_secs(5),
            )),
            sessions: SessionPolicy::default(),
            auto_mail_per_hour: 200,
            kb_index: rapport_index::kb::KbIndex::default(),
            community_index: rapport_index::community::CommunityIndex::default(),
            kb_search_limit: Arc::new(FailureLimiter::new(
                600,
                std::time::Duration::from_secs(60),
                clock.clone(),
            )),
            chat: Arc::new(crate::api::chat::hub::ChatHub::new(clock.clone(), chat_db)),
            sitemap: Arc::new(crate::rendered::Rendered::new(
                clock.clone(),
                std::time::Duration::from_secs(600),
            )),
            help_front: Arc::new(HelpFront {
                anonymous: crate::rendered::Kept::new(
                    clock.clone(),
                    std::time::Duration::from_secs(30),
                ),
                customers: crate::rendered::Kept::new(
                    clock.clone(),
                    std::time::Duration::from_secs(30),
                ),
            }),
            bot_generator: None,
            clock,
        }
    }

    /// The current instant.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_counts_are_kept_per_agent() {
        let clock = Arc::new(rapport_domain::ManualClock::new(Timestamp(1_000_000)));
        let c = ViewCounts::new(clock.clone());
        assert!(c.get(1).is_none());
        c.put(1, vec![("open".into(), 7)]);
        assert_eq!(c.get(1), Some(vec![("open".to_owned(), 7)]));
        assert!(c.get(2).is_none());
        clock.advance_secs(14);
        assert!(c.get(1).is_some());
        clock.advance_secs(1);
        assert!(c.get(1).is_none(), "counts expire after the TTL");
    }
}
