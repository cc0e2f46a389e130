//! Agents, teams and API tokens: who may use the help desk and as what.

use rapport_domain::{EmailAddress, FieldError, Role, Timestamp, Viewer, Zone};
use serde::Serialize;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// An agent, supervisor or admin.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Database id.
    pub id: i64,
    /// Sign-in address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `admin`, `supervisor` or `agent`.
    pub role: Role,
    /// False once deactivated.
    pub active: bool,
    /// The teams they belong to.
    pub team_ids: Vec<i64>,
    /// When the account was made.
    pub created_at: Timestamp,
}

/// A group of agents that owns tickets.
#[derive(Debug, Clone, Serialize)]
pub struct Team {
    /// Database id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Members' user ids.
    pub member_ids: Vec<i64>,
    /// When it was made.
    pub created_at: Timestamp,
}

/// What a new agent is made of; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in address.
    pub email: EmailAddress,
    /// Display name (not blank).
    pub name: String,
    /// Role.
    pub role: Role,
    /// An Argon2 hash, or none for token-only accounts.
    pub password_hash: Option<String>,
}

const USER_COLS: &str = "id, email, name, role, active, created_at";

async fn user_from(c: &mut dyn Conn, r: &Row) -> Result<User> {
    let id = r.int("id")?;
    Ok(User {
        id,
        email: r.text("email")?,
        name: r.text("name")?,
        role: Role::parse(&r.text("role")?)?,
        active: r.bool("active")?,
        team_ids: team_ids_of(c, id).await?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

async fn team_ids_of(c: &mut dyn Conn, user_id: i64) -> Result<Vec<i64>> {
    c.query(
        "SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id",
        &[user_id.into()],
    )
    .await?
    .iter()
    .map(|r| r.int("team_id"))
    .collect()
}

/// Creates an agent; a taken email is a conflict on the `email` field.
pub async fn create_user(c: &mut dyn Conn, u: NewUser, now: Timestamp) -> Result<User> {
    let name = u.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(FieldError::new("name", "must be 1 to 200 characters").into());
    }
    if c.opt(
        "SELECT id FROM users WHERE email = $1",
        &[u.email.as_str().into()],
    )
    .await?
    .is_some()
    {
        return Err(FieldError::new("email", "an agent with this email already exists").into());
    }
    let row = c
        .one(
            &format!(
                "INSERT INTO users (email, name, role, password_hash, active, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLS}"
            ),
            &[
                u.email.as_str().into(),
                name.into(),
                u.role.as_str().into(),
                u.password_hash.into(),
                true.into(),
                now.into(),
            ],
        )
        .await?;
    user_from(c, &row).await
}

/// One agent by id.
pub async fn get_user(c: &mut dyn Conn, id: i64) -> Result<User> {
    let row = c
        .opt(
            &format!("SELECT {USER_COLS} FROM users WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("user"))?;
    user_from(c, &row).await
}

/// An agent and their password hash, for signing in.
pub async fn user_for_sign_in(
    c: &mut dyn Conn,
    email: &EmailAddress,
) -> Result<Option<(User, Option<String>)>> {
    let Some(row) = c
        .opt(
            &format!("SELECT {USER_COLS}, password_hash FROM users WHERE email = $1"),
            &[email.as_str().into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let hash = row.opt_text("password_hash")?;
    Ok(Some((user_from(c, &row).await?, hash)))
}

/// One agent by sign-in address.
pub async fn user_by_email(c: &mut dyn Conn, email: &EmailAddress) -> Result<User> {
    Ok(user_for_sign_in(c, email)
        .await?
        .ok_or(StoreError::NotFound("user"))?
        .0)
}

/// Every agent, by name.
pub async fn list_users(c: &mut dyn Conn) -> Result<Vec<User>> {
    let rows = c
        .query(
            &format!("SELECT {USER_COLS} FROM users ORDER BY name, id"),
            &[],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(user_from(c, r).await?);
    }
    Ok(out)
}

/// The viewer behind a token hash, if the token exists, is neither revoked nor expired at
/// `now`, and its agent is active.
pub async fn viewer_for_token(
    c: &mut dyn Conn,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<TokenViewer>> {
    // The agent's teams come in the same statement: a row per team (one with none when
    // the agent is in no team). Every API request makes this read.
    let rows = c
        .query(
            "SELECT u.id, u.role, t.expires_at, m.team_id
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             LEFT JOIN team_members m ON m.user_id = u.id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active = $2
               AND (t.expires_at IS NULL OR t.expires_at > $3)
             ORDER BY m.team_id",
            &[token_hash.into(), true.into(), now.into()],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let mut team_ids = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(team) = r.opt_int("team_id")? {
            team_ids.push(team);
        }
    }
    Ok(Some(TokenViewer {
        viewer: Viewer {
            user_id: row.int("id")?,
            role: Role::parse(&row.text("role")?)?,
            team_ids,
        },
        expires_at: row.opt_int("expires_at")?.map(Timestamp),
    }))
}

/// The agent behind a live API token, and when that token expires (if ever): a token
/// may only make tokens that expire no later than itself.
#[derive(Debug, Clone)]
pub struct TokenViewer {
    /// The agent.
    pub viewer: Viewer,
    /// When the token used expires, if ever.
    pub expires_at: Option<Timestamp>,
}

/// Creates a team; a taken name is a conflict on `name`.
pub async fn create_team(c: &mut dyn Conn, name: &str, now: Timestamp) -> Result<Team> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "must be 1 to 100 characters").into());
    }
    if c.opt("SELECT id FROM teams WHERE name = $1", &[name.into()])
        .await?
        .is_some()
    {
        return Err(FieldError::new("name", "a team with this name already exists").into());
    }
    let id = c
        .one(
            "INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id",
            &[name.into(), now.into()],
        )
        .await?
        .int("id")?;
    get_team(c, id).await
}

/// One team with its members.
pub async fn get_team(c: &mut dyn Conn, id: i64) -> Result<Team> {
    let row = c
        .opt(
            "SELECT id, name, created_at FROM teams WHERE id = $1",
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("team"))?;
    let member_ids = c
        .query(
            "SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id",
            &[id.into()],
        )
        .await?
        .iter()
        .map(|r| r.int("user_id"))
        .collect::<Result<_>>()?;
    Ok(Team {
        id: row.int("id")?,
        name: row.text("name")?,
        member_ids,
        created_at: Timestamp(row.int("created_at")?),
    })
}

/// Every team.
pub async fn list_teams(c: &mut dyn Conn) -> Result<Vec<Team>> {
    let ids: Vec<i64> = c
        .query("SELECT id FROM teams ORDER BY name", &[])
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(get_team(c, id).await?);
    }
    Ok(out)
}

/// Adds an agent to a team (idempotent).
pub async fn add_member(c: &mut dyn Conn, team_id: i64, user_id: i64) -> Result<Team> {
    get_team(c, team_id).await?;
    if c.opt("SELECT id FROM users WHERE id = $1", &[user_id.into()])
        .await?
        .is_none()
    {
        return Err(FieldError::new("user_id", "no agent has this id").into());
    }
    c.execute(
        "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[team_id.into(), user_id.into()],
    )
    .await?;
    get_team(c, team_id).await
}

/// The time zone an agent reads times in (UTC unless they chose one; a zone the bundled
/// database no longer knows reads as UTC).
pub async fn time_zone(c: &mut dyn Conn, user_id: i64) -> Result<Zone> {
    Ok(c.opt(
        "SELECT time_zone FROM users WHERE id = $1",
        &[user_id.into()],
    )
    .await?
    .map(|r| r.text("time_zone"))
    .transpose()?
    .map_or_else(Zone::utc, |name| Zone::from_stored(&name)))
}

/// Sets the time zone an agent reads times in.
pub async fn set_time_zone(c: &mut dyn Conn, user_id: i64, zone: &Zone) -> Result<()> {
    c.execute(
        "UPDATE users SET time_zone = $1 WHERE id = $2",
        &[zone.name().into(), user_id.into()],
    )
    .await?;
    Ok(())
}

/// What an admin (or the CLI) may change about an agent; `None` leaves it as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserChange {
    /// Deactivate (`false`) or reactivate (`true`).
    pub active: Option<bool>,
    /// A new role.
    pub role: Option<Role>,
}

/// Changes an agent's role or active flag. The last active admin can be neither
/// deactivated nor demoted (a refusal on `active` or `role`), so the help desk always
/// keeps someone who can manage people. Deactivating an agent ends every browser session
/// they have; their API tokens stop working because every token check requires an active
/// agent.
pub async fn update_user(
    c: &mut dyn Conn,
    id: i64,
    change: UserChange,
    now: Timestamp,
) -> Result<User> {
    let before = get_user(c, id).await?;
    let loses_admin = before.active
        && before.role == Role::Admin
        && (change.active == Some(false) || change.role.is_some_and(|r| r != Role::Admin));
    if loses_admin {
        // Lock every active admin row, so two admins demoting each other at once on
        // PostgreSQL cannot both pass the count.
        let admins = c
            .query(
                &format!(
                    "SELECT u.id FROM users u WHERE u.role = $1 AND u.active = $2 ORDER BY u.id{}",
                    crate::dialect::row_lock(c.backend(), "u")
                ),
                &[Role::Admin.as_str().into(), true.into()],
            )
            .await?;
        let others = admins
            .iter()
            .map(|r| r.int("id"))
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .filter(|a| *a != id)
            .count();
        if others == 0 {
            let field = if change.active == Some(false) {
                "active"
            } else {
                "role"
            };
            return Err(FieldError::new(
                field,
                "this is the last active admin; make another admin first",
            )
            .into());
        }
    }
    if let Some(active) = change.active {
        c.execute(
            "UPDATE users SET active = $1 WHERE id = $2",
            &[active.into(), id.into()],
        )
        .await?;
        if !active {
            // Deactivation ends every session and revokes every API token for good:
            // reactivating the agent does not bring a (possibly stolen) token back.
            crate::sessions::end_all_for_user(c, id, None).await?;
            crate::tokens::revoke_all_for_user(c, id, now).await?;
        }
    }
    if let Some(role) = change.role {
        c.execute(
            "UPDATE users SET role = $1 WHERE id = $2",
            &[role.as_str().into(), id.into()],
        )
        .await?;
    }
    get_user(c, id).await
}

/// Sets an agent's password (already hashed) and ends their browser sessions except
/// `keep` (the session that made the change, by its token hash), so a thief holding an
/// old session is signed out by the change.
pub async fn set_password(
    c: &mut dyn Conn,
    id: i64,
    password_hash: &str,
    keep: Option<&str>,
) -> Result<()> {
    let n = c
        .execute(
            "UPDATE users SET password_hash = $1 WHERE id = $2",
            &[password_hash.into(), id.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("user"));
    }
    crate::sessions::end_all_for_user(c, id, keep).await?;
    Ok(())
}
