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
    /// The SMTP relay replies go out through: `smtp://[user:password@]host[:port]`.
    #[arg(long, env = "RAPPORT_SMTP_RELAY")]
    pub smtp_relay: Option<String>,
    /// Days after being solved that a customer's email still reopens the ticket; later
    /// mail (or mail to a closed ticket) opens a linked follow-up.
    #[arg(long, env = "RAPPORT_REOPEN_DAYS", default_value_t = 30)]
    pub reopen_days: i64,
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

    /// A configuration for a scratch directory (tests and benchmarks).
    pub fn for_dir(data_dir: PathBuf, database_url: Option<String>) -> Self {
        Self {
            data_dir,
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            public_url: None,
            smtp_addr: None,
            smtp_relay: None,
            reopen_days: 30,
            workers: 1,
        }
    }
}
