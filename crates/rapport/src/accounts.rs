//! The `user` and `token` subcommands: agents and API tokens from the server's shell,
//! through the same store operations the API and the admin page use.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;
use rapport_domain::{Clock, EmailAddress, NewPassword, Role};
use rapport_store::people::{self, NewUser, UserChange};
use rapport_store::tokens::{self, NewToken};
use rapport_store::{op, secrets};

use crate::Config;

/// `rapport user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an agent, supervisor or admin.
    Add {
        /// Where the database is.
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
    /// Deactivate an agent: their API tokens stop working and their sessions end.
    Deactivate {
        /// Where the database is.
        #[command(flatten)]
        config: Config,
        /// The agent's sign-in address.
        email: String,
    },
    /// Reactivate a deactivated agent.
    Activate {
        /// Where the database is.
        #[command(flatten)]
        config: Config,
        /// The agent's sign-in address.
        email: String,
    },
    /// Set an agent's password, read from standard input (first line); their browser
    /// sessions end.
    Password {
        /// Where the database is.
        #[command(flatten)]
        config: Config,
        /// The agent's sign-in address.
        email: String,
    },
}

/// `rapport token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for an agent; the token is the last line printed.
    Create {
        /// Where the database is.
        #[command(flatten)]
        config: Config,
        /// The agent's sign-in address.
        #[arg(long)]
        email: String,
        /// A label for the token.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Days until the token expires (1 to 3650); never when omitted.
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// List API tokens (never the tokens themselves): id, prefix, agent, name, state.
    List {
        /// Where the database is.
        #[command(flatten)]
        config: Config,
        /// Only this agent's tokens.
        #[arg(long)]
        email: Option<String>,
    },
    /// Revoke an API token, named by its id or its `rpt_…` prefix.
    Revoke {
        /// Where the database is.
        #[command(flatten)]
        config: Config,
        /// The token's id, or its prefix as `token list` shows it.
        token: String,
    },
}

fn store(e: rapport_store::StoreError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn email_arg(raw: &str) -> anyhow::Result<EmailAddress> {
    EmailAddress::parse(raw).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The first line of standard input, as a new password (checked as the API checks one).
fn password_from_stdin() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let p = s.lines().next().unwrap_or("").to_owned();
    NewPassword::parse("password", p)
        .map(|p| p.expose().to_owned())
        .map_err(|e| anyhow::anyhow!("the password {}", e.message))
}

/// Runs `rapport user …`.
pub async fn user_command(command: UserCommand, clock: &dyn Clock) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            config,
            email,
            name,
            role,
            password_stdin,
        } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let password_hash = if password_stdin {
                let p = password_from_stdin()?;
                Some(secrets::hash_password(&p).map_err(|e| anyhow::anyhow!(e))?)
            } else {
                None
            };
            let db = crate::open_db(&config, clock).await?;
            let now = clock.now();
            let new = NewUser {
                email,
                name,
                role,
                password_hash,
            };
            let user = db
                .write(op!(c => people::create_user(c, new, now).await))
                .await
                .map_err(store)?;
            println!(
                "added {} ({}) with id {}",
                user.email,
                user.role.as_str(),
                user.id
            );
            Ok(())
        }
        UserCommand::Deactivate { config, email } => {
            set_active(&config, clock, &email, false).await
        }
        UserCommand::Activate { config, email } => set_active(&config, clock, &email, true).await,
        UserCommand::Password { config, email } => {
            let email = email_arg(&email)?;
            let password = password_from_stdin()?;
            let hash = secrets::hash_password(&password).map_err(|e| anyhow::anyhow!(e))?;
            let db = crate::open_db(&config, clock).await?;
            let user = db
                .write(op!(c => {
                    let user = people::user_by_email(c, &email).await?;
                    people::set_password(c, user.id, &hash, None).await?;
                    Ok(user)
                }))
                .await
                .map_err(store)?;
            println!("set the password of {}; their sessions ended", user.email);
            Ok(())
        }
    }
}

async fn set_active(
    config: &Config,
    clock: &dyn Clock,
    email: &str,
    active: bool,
) -> anyhow::Result<()> {
    let email = email_arg(email)?;
    let db = crate::open_db(config, clock).await?;
    let now = clock.now();
    let change = UserChange {
        active: Some(active),
        role: None,
    };
    let user = db
        .write(op!(c => {
            let user = people::user_by_email(c, &email).await?;
            people::update_user(c, user.id, change, now).await
        }))
        .await
        .map_err(store)?;
    if active {
        println!("reactivated {}", user.email);
    } else {
        println!(
            "deactivated {}: their API tokens no longer work and their sessions ended",
            user.email
        );
    }
    Ok(())
}

/// Runs `rapport token …`.
pub async fn token_command(command: TokenCommand, clock: &dyn Clock) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            config,
            email,
            name,
            expires_in_days,
        } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let now = clock.now();
            let expires_at = expires_in_days
                .map(|d| tokens::expiry_in_days(now, d, "expires-in-days"))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--{e}"))?;
            let db = crate::open_db(&config, clock).await?;
            let token = secrets::new_token();
            let secret = token.clone();
            let made = db
                .write(op!(c => {
                    let user = people::user_by_email(c, &email).await?;
                    let new = NewToken {
                        user_id: user.id,
                        token: secret,
                        name,
                        expires_at,
                    };
                    tokens::create(c, new, now).await
                }))
                .await
                .map_err(store)?;
            if let Some(at) = made.expires_at {
                println!(
                    "token {} expires {}",
                    made.id,
                    at.to_datetime().to_rfc3339()
                );
            }
            println!("{token}");
            Ok(())
        }
        TokenCommand::List { config, email } => {
            let email = email.as_deref().map(email_arg).transpose()?;
            let db = crate::open_db(&config, clock).await?;
            let now = clock.now();
            let (list, users) = db
                .read(op!(c => {
                    let whose = match &email {
                        Some(e) => Some(people::user_by_email(c, e).await?.id),
                        None => None,
                    };
                    Ok((tokens::list(c, whose).await?, people::list_users(c).await?))
                }))
                .await
                .map_err(store)?;
            println!("id\tprefix\tagent\tname\tcreated\texpires\tstate");
            for t in list {
                let agent = users
                    .iter()
                    .find(|u| u.id == t.user_id)
                    .map_or("?", |u| u.email.as_str());
                let state = match (t.revoked_at, t.is_live(now)) {
                    (Some(_), _) => "revoked",
                    (None, false) => "expired",
                    (None, true) => "active",
                };
                println!(
                    "{}\t{}\t{agent}\t{}\t{}\t{}\t{state}",
                    t.id,
                    t.prefix.as_deref().unwrap_or("-"),
                    t.name,
                    t.created_at.to_datetime().to_rfc3339(),
                    t.expires_at
                        .map_or_else(|| "never".to_owned(), |e| e.to_datetime().to_rfc3339()),
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { config, token } => {
            let db = crate::open_db(&config, clock).await?;
            let now = clock.now();
            let t = db
                .write(op!(c => {
                    let t = tokens::find(c, &token).await?;
                    tokens::revoke(c, t.id, now).await
                }))
                .await
                .map_err(store)?;
            println!(
                "revoked token {} ({}) of agent {}",
                t.id,
                t.prefix.as_deref().unwrap_or("no prefix"),
                t.user_id
            );
            Ok(())
        }
    }
}
