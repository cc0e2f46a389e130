//! The command line: `serve`, `demo`, `migrate`, `user add`, `token create`.

use std::io::Read;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use rapport_domain::{Clock, EmailAddress, Role, SystemClock};
use rapport_store::op;
use rapport_store::people::{self, NewUser};
use rapport_store::secrets;

use crate::Config;

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

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add an agent, supervisor or admin.
    Add {
        #[command(flatten)]
        config: Config,
        /// Sign-in address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// admin, supervisor or agent.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for an agent; the token is the last line printed.
    Create {
        #[command(flatten)]
        config: Config,
        /// The agent's sign-in address.
        #[arg(long)]
        email: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
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
        Command::User {
            command:
                UserCommand::Add {
                    config,
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let password_hash = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the password from standard input")?;
                let p = s.lines().next().unwrap_or("").to_owned();
                if p.chars().count() < 10 {
                    bail!("the password must be at least 10 characters");
                }
                Some(secrets::hash_password(&p).map_err(|e| anyhow::anyhow!(e))?)
            } else {
                None
            };
            let db = crate::open_db(&config, clock.as_ref()).await?;
            let now = clock.now();
            let user = db
                .write(op!(c => {
                    people::create_user(
                        c,
                        NewUser {
                            email,
                            name,
                            role,
                            password_hash,
                        },
                        now,
                    )
                    .await
                }))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "added {} ({}) with id {}",
                user.email,
                user.role.as_str(),
                user.id
            );
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    config,
                    email,
                    name,
                },
        } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let db = crate::open_db(&config, clock.as_ref()).await?;
            let token = secrets::new_token();
            let hash = secrets::token_hash(&token);
            let now = clock.now();
            db.write(op!(c => {
                let user = people::user_by_email(c, &email).await?;
                people::add_token(c, user.id, &hash, &name, now).await
            }))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{token}");
            Ok(())
        }
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
                "demo help desk created: {} tickets, {} messages, {} customers in {:.1}s",
                summary.tickets,
                summary.messages,
                summary.customers,
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
