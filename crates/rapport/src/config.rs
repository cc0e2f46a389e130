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
    /// Days after being solved that a customer's email still reopens the ticket; later
    /// mail (or mail to a closed ticket) opens a linked follow-up.
    #[arg(long, env = "RAPPORT_REOPEN_DAYS", default_value_t = 30)]
    pub reopen_days: i64,
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
    /// Background workers in this process.
    #[arg(long, env = "RAPPORT_WORKERS", default_value_t = 2)]
    pub workers: usize,
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
            reopen_days: 30,
            secret_key: None,
            imap_ca_file: None,
            imap_poll_secs: 30,
            workers: 1,
        }
    }
}
