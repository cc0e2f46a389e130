//! Configuration: environment variables, mirrored by command-line flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Where Rapport keeps its data and where it listens.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Directory for the SQLite database and other local state.
    #[arg(long, env = "RAPPORT_DATA_DIR", default_value = "./rapport-data")]
    pub data_dir: PathBuf,
    /// Address the HTTP server listens on.
    #[arg(long, env = "RAPPORT_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// `postgres://…` to run on PostgreSQL; default SQLite in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// The address people reach Rapport at, used in every link it sends.
    #[arg(long, env = "RAPPORT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Where the SMTP/LMTP listener accepts mail (for example `127.0.0.1:2525`); off when unset.
    #[arg(long, env = "RAPPORT_SMTP_ADDR")]
    pub smtp_addr: Option<SocketAddr>,
    /// A PEM certificate chain: the SMTP listener then offers STARTTLS.
    #[arg(long, env = "RAPPORT_SMTP_TLS_CERT", requires = "smtp_tls_key")]
    pub smtp_tls_cert: Option<String>,
    /// The PEM private key of `RAPPORT_SMTP_TLS_CERT`.
    #[arg(long, env = "RAPPORT_SMTP_TLS_KEY", requires = "smtp_tls_cert")]
    pub smtp_tls_key: Option<String>,
    /// The SMTP relay replies go out through: `smtp://[user:password@]host[:port]`.
    #[arg(long, env = "RAPPORT_SMTP_RELAY")]
    pub smtp_relay: Option<String>,
    /// What the SMTP listener takes from whom.
    #[command(flatten)]
    pub smtp_limits: SmtpLimitsConfig,
    /// Days after being solved that a customer's email still reopens the ticket; later
    /// mail (or mail to a closed ticket) opens a linked follow-up.
    #[arg(long, env = "RAPPORT_REOPEN_DAYS", default_value_t = 30)]
    pub reopen_days: i64,
    /// Automatic mail (acknowledgements, portal sign-in links) the help desk sends per hour
    /// at most, to all addresses together; past it, new tickets are not acknowledged and no
    /// sign-in link goes out. Sign-in links may use at most half of it (rounded up), so
    /// link requests cannot use up the acknowledgements' share. 0: no automatic mail.
    #[arg(long, env = "RAPPORT_AUTO_MAIL_PER_HOUR", default_value_t = 200)]
    pub auto_mail_per_hour: i64,
    /// Let webhooks go to loopback, private and link-local addresses (tests, a help desk
    /// and its receivers on one host). Off: such a webhook's deliveries fail.
    #[arg(long, env = "RAPPORT_WEBHOOK_ALLOW_PRIVATE", default_value_t = false)]
    pub webhook_allow_private: bool,
    /// The 64-hex-digit key that seals secrets stored in the database (IMAP passwords).
    /// Unset: a key file `secret.key` in the data directory, made on first use. Nodes
    /// sharing one PostgreSQL database must share this key.
    #[arg(long, env = "RAPPORT_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// A PEM file of certificate authorities to trust for IMAP over TLS besides the public
    /// ones (a company's own mail server).
    #[arg(long, env = "RAPPORT_IMAP_CA_FILE")]
    pub imap_ca_file: Option<String>,
    /// Seconds between IMAP polls of a healthy mailbox.
    #[arg(long, env = "RAPPORT_IMAP_POLL_SECS", default_value_t = 30)]
    pub imap_poll_secs: u64,
    /// Reverse proxies trusted to say who the client is, for rate limits: a number of
    /// hops (`1` behind one proxy) or a comma-separated list of the proxies' addresses or
    /// CIDR networks. The client is then read from `X-Forwarded-For`, counting from the
    /// right past the trusted proxies. Unset: the header is ignored and the client is the
    /// socket peer.
    #[arg(long, env = "RAPPORT_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Knowledge-base searches and suggestions (`/api/v1/kb/search`, `/suggest`) one client
    /// address may make per minute.
    #[arg(long, env = "RAPPORT_KB_SEARCH_PER_MINUTE", default_value_t = 600)]
    pub kb_search_per_minute: u32,
    /// Background workers in this process.
    #[arg(long, env = "RAPPORT_WORKERS", default_value_t = 2)]
    pub workers: usize,
    /// Minutes without use after which an agent's browser session ends (each use slides it).
    #[arg(long, env = "RAPPORT_SESSION_IDLE_MINUTES", default_value_t = 480)]
    pub session_idle_minutes: i64,
    /// Days after signing in after which an agent's browser session ends however much it
    /// is used.
    #[arg(long, env = "RAPPORT_SESSION_MAX_DAYS", default_value_t = 7)]
    pub session_max_days: i64,
    /// Seconds between writes of the help center's article view counts (each node adds
    /// views up in memory meanwhile). 0: write every view at once.
    #[arg(long, env = "RAPPORT_VIEW_FLUSH_SECS", default_value_t = 5)]
    pub view_flush_secs: u64,
    /// Days the self-service logs are kept — the knowledge-base search log, the portal's
    /// deflection attempts and the visitors who filed portal requests (pseudonymous: hashed
    /// cookies); older rows are deleted once a day. The reports reach back this far.
    #[arg(long, env = "RAPPORT_KB_LOG_RETENTION_DAYS", default_value_t = 400,
        value_parser = clap::value_parser!(i64).range(1..=36_600))]
    pub kb_log_retention_days: i64,
    /// The assistant bot's optional generator: the base URL of an OpenAI-compatible
    /// chat-completions API over plain HTTP (`http://127.0.0.1:8000/v1`). Unset: the bot
    /// answers by retrieval and templates alone, with no model and no network.
    #[arg(long, env = "RAPPORT_BOT_LLM_URL")]
    pub bot_llm_url: Option<String>,
    /// The model the generator is asked for.
    #[arg(long, env = "RAPPORT_BOT_LLM_MODEL", default_value = "default")]
    pub bot_llm_model: String,
    /// A bearer key for the generator, if it wants one.
    #[arg(long, env = "RAPPORT_BOT_LLM_KEY", hide_env_values = true)]
    pub bot_llm_key: Option<String>,
    /// Seconds to wait for the generator before answering without it.
    #[arg(long, env = "RAPPORT_BOT_LLM_TIMEOUT_SECS", default_value_t = 15)]
    pub bot_llm_timeout_secs: u64,
}

impl Config {
    /// The public URL, defaulting to `http://` and the listen address.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .map_or_else(
                || format!("http://{bound}"),
                |u| u.trim_end_matches('/').to_owned(),
            )
    }

    /// Which proxies may say who the client is (`RAPPORT_TRUSTED_PROXIES`).
    pub fn trusted_proxies(&self) -> anyhow::Result<rapport_http::client::TrustedProxies> {
        rapport_http::client::TrustedProxies::parse(self.trusted_proxies.as_deref().unwrap_or(""))
            .map_err(|e| anyhow::anyhow!("RAPPORT_TRUSTED_PROXIES: {e}"))
    }

    /// The sealer for secrets at rest: from `RAPPORT_SECRET_KEY`, or from the key file in
    /// the data directory (created, readable by the owner only, on first use).
    pub fn sealer(&self) -> anyhow::Result<rapport_store::secrets::Sealer> {
        use anyhow::Context;
        use rapport_store::secrets::Sealer;
        if let Some(k) = self.secret_key.as_deref().filter(|k| !k.trim().is_empty()) {
            return Sealer::from_hex(k).map_err(|e| anyhow::anyhow!("RAPPORT_SECRET_KEY: {e}"));
        }
        let path = self.data_dir.join("secret.key");
        if !path.exists() {
            rapport_store::private_files::create_private_dir(&self.data_dir)
                .with_context(|| format!("creating {}", self.data_dir.display()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(mut f) => {
                    std::io::Write::write_all(&mut f, Sealer::generate_key().as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    f.sync_all()?;
                }
                // Another process made it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        let key = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Sealer::from_hex(&key).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// How long agents' browser sessions last; both limits must be positive, and the idle
    /// timeout no longer than the cap.
    pub fn session_policy(&self) -> anyhow::Result<rapport_http::SessionPolicy> {
        if !(1..=366 * 1440).contains(&self.session_idle_minutes) {
            anyhow::bail!("RAPPORT_SESSION_IDLE_MINUTES must be 1 to 527040");
        }
        if !(1..=366).contains(&self.session_max_days) {
            anyhow::bail!("RAPPORT_SESSION_MAX_DAYS must be 1 to 366");
        }
        Ok(rapport_http::SessionPolicy {
            idle_secs: (self.session_idle_minutes * 60).min(self.session_max_days * 86_400),
            max_secs: self.session_max_days * 86_400,
        })
    }

    /// The assistant bot's generator, when `RAPPORT_BOT_LLM_URL` is set.
    pub fn bot_generator(
        &self,
    ) -> anyhow::Result<Option<rapport_http::api::bot::generator::Generator>> {
        use rapport_http::api::bot::generator::{Generator, GeneratorConfig};
        let Some(url) = self.bot_llm_url.clone().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let g = Generator::new(GeneratorConfig {
            url,
            model: self.bot_llm_model.clone(),
            key: self.bot_llm_key.clone(),
            timeout: std::time::Duration::from_secs(self.bot_llm_timeout_secs.max(1)),
        })?;
        Ok(Some(g))
    }

    /// A configuration for a scratch directory (tests and benchmarks).
    pub fn for_dir(data_dir: PathBuf, database_url: Option<String>) -> Self {
        Self {
            data_dir,
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            public_url: None,
            smtp_addr: None,
            smtp_relay: None,
            smtp_tls_cert: None,
            smtp_tls_key: None,
            smtp_limits: SmtpLimitsConfig::default(),
            reopen_days: 30,
            auto_mail_per_hour: 200,
            webhook_allow_private: false,
            secret_key: None,
            imap_ca_file: None,
            imap_poll_secs: 30,
            trusted_proxies: None,
            workers: 1,
            session_idle_minutes: 480,
            session_max_days: 7,
            view_flush_secs: 5,
            kb_search_per_minute: 600,
            kb_log_retention_days: rapport_store::kb::retention::DEFAULT_DAYS,
            bot_llm_url: None,
            bot_llm_model: "default".to_owned(),
            bot_llm_key: None,
            bot_llm_timeout_secs: 15,
        }
    }
}

/// The SMTP listener's limits (defaults in `rapport_mail::smtp_limits::SmtpLimits`). Each
/// limit set to 0 means "no limit".
#[derive(Debug, Clone, Args)]
pub struct SmtpLimitsConfig {
    /// Recipients per message (RCPT commands per envelope); the next gets `452`. 0: no
    /// limit.
    #[arg(long, env = "RAPPORT_SMTP_MAX_RECIPIENTS", default_value_t = 50)]
    pub smtp_max_recipients: usize,
    /// SMTP sessions open at once; the next connection gets `421`. 0: no limit.
    #[arg(long, env = "RAPPORT_SMTP_MAX_SESSIONS", default_value_t = 100)]
    pub smtp_max_sessions: usize,
    /// SMTP sessions open at once from one client address (IPv6: one /64). 0: no limit.
    #[arg(
        long,
        env = "RAPPORT_SMTP_MAX_SESSIONS_PER_CLIENT",
        default_value_t = 10
    )]
    pub smtp_max_sessions_per_client: usize,
    /// Messages one client address may send per hour; then `450`/`421` until the hour
    /// ends. Raise it (or set 0: no limit) when all mail arrives through one relay.
    #[arg(
        long,
        env = "RAPPORT_SMTP_MAX_MESSAGES_PER_CLIENT_HOUR",
        default_value_t = 300
    )]
    pub smtp_max_messages_per_client_hour: u32,
}

impl Default for SmtpLimitsConfig {
    fn default() -> Self {
        let d = rapport_mail::smtp_limits::SmtpLimits::default();
        Self {
            smtp_max_recipients: d.max_recipients,
            smtp_max_sessions: d.max_sessions,
            smtp_max_sessions_per_client: d.max_sessions_per_client,
            smtp_max_messages_per_client_hour: d.max_messages_per_client,
        }
    }
}

impl SmtpLimitsConfig {
    /// The listener's limits; 0 means no limit (a limit of nothing would refuse all mail,
    /// so 0 is how an operator turns one off, e.g. behind a relay they trust).
    pub fn limits(&self) -> rapport_mail::smtp_limits::SmtpLimits {
        fn or_none(n: usize) -> usize {
            if n == 0 { usize::MAX } else { n }
        }
        let messages = self.smtp_max_messages_per_client_hour;
        rapport_mail::smtp_limits::SmtpLimits {
            max_recipients: or_none(self.smtp_max_recipients),
            max_sessions: or_none(self.smtp_max_sessions),
            max_sessions_per_client: or_none(self.smtp_max_sessions_per_client),
            max_messages_per_client: if messages == 0 { u32::MAX } else { messages },
            window: std::time::Duration::from_secs(3600),
            ..rapport_mail::smtp_limits::SmtpLimits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_smtp_limit_means_no_limit() {
        let none = SmtpLimitsConfig {
            smtp_max_recipients: 0,
            smtp_max_sessions: 0,
            smtp_max_sessions_per_client: 0,
            smtp_max_messages_per_client_hour: 0,
        }
        .limits();
        assert_eq!(none.max_recipients, usize::MAX);
        assert_eq!(none.max_sessions, usize::MAX);
        assert_eq!(none.max_sessions_per_client, usize::MAX);
        assert_eq!(none.max_messages_per_client, u32::MAX);
        let set = SmtpLimitsConfig::default().limits();
        assert_eq!(set, rapport_mail::smtp_limits::SmtpLimits::default());
    }
}
