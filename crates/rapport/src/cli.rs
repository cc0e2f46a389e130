//! The command line: `serve`, `demo`, `migrate`, `user add|deactivate|activate|password`,
//! `token create|list|revoke`.

use std::sync::Arc;

use clap::{Parser, Subcommand};
use rapport_domain::{Clock, SystemClock};

use crate::Config;
use crate::accounts::{self, TokenCommand, UserCommand};

/// Rapport, the customer-support platform.
#[derive(Debug, Parser)]
#[command(name = "rapport", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server and background workers.
    Serve {
        #[command(flatten)]
        config: Config,
        /// Fill an empty database with the demo help desk first.
        #[arg(long)]
        demo: bool,
    },
    /// Run a populated demo help desk (fills an empty database, then serves).
    Demo {
        #[command(flatten)]
        config: Config,
        /// How many tickets to generate.
        #[arg(long, default_value_t = 3000)]
        tickets: usize,
        /// How many customers to generate.
        #[arg(long, default_value_t = 300)]
        customers: usize,
    },
    /// Create or update the database schema, then exit.
    Migrate {
        #[command(flatten)]
        config: Config,
    },
    /// Manage agents.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command {
        Command::Serve { config, demo } => serve(&config, clock, demo.then_some((3000, 300))).await,
        Command::Demo {
            config,
            tickets,
            customers,
        } => serve(&config, clock, Some((tickets, customers))).await,
        Command::Migrate { config } => {
            crate::open_db(&config, clock.as_ref()).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::User { command } => accounts::user_command(command, clock.as_ref()).await,
        Command::Token { command } => accounts::token_command(command, clock.as_ref()).await,
    }
}

async fn serve(
    config: &Config,
    clock: Arc<dyn Clock>,
    demo: Option<(usize, usize)>,
) -> anyhow::Result<()> {
    let db = crate::open_db(config, clock.as_ref()).await?;
    let mut login = None;
    if let Some((tickets, customers)) = demo {
        let size = rapport_demo::DemoSize {
            tickets,
            customers,
            seed: 42,
        };
        #[expect(
            clippy::disallowed_methods,
            reason = "reports how long the demo took to build, in real time"
        )]
        let started = std::time::Instant::now();
        let summary = rapport_demo::populate(&db, clock.as_ref(), &size)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if summary.created {
            println!(
                "demo help desk created: {} tickets, {} messages, {} customers, {} articles in {:.1}s",
                summary.tickets,
                summary.messages,
                summary.customers,
                summary.articles,
                started.elapsed().as_secs_f64()
            );
        }
        login = Some(summary.login);
    }
    let server = crate::start(config, db, clock, true).await?;
    println!("Rapport is running at {}", server.public_url);
    println!("  health:  {}/healthz", server.public_url);
    println!("  API doc: {}/api/v1/openapi.json", server.public_url);
    if let Some(l) = login {
        println!("  sign in: {} / {}", l.email, l.password);
        println!("  API token (admin): {}", l.token);
    }
    server.wait().await
}
