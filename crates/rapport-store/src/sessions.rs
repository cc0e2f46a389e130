//! Browser sessions. Session cookies hold a random token; only its SHA-256 is stored,
//! like API tokens. A session ends when it has been idle too long (each use slides it,
//! see [`touch`]) or at its absolute cap (`expires_at`), whichever comes first.

use rapport_domain::{Role, Timestamp, Viewer};

use crate::db::Conn;
use crate::error::Result;

/// A use of a session moves its idle deadline at most this often: a session is written
/// once a minute at most, not on every request.
pub const TOUCH_EVERY_SECS: i64 = 60;

/// A signed-in browser session as a page needs it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Who, with role and teams.
    pub viewer: Viewer,
    /// Their display name.
    pub name: String,
    /// The token every form of this session must carry.
    pub csrf: String,
    /// The session's key in the store (the token's hash).
    pub token_hash: String,
    /// When it was last used, as recorded (at most [`TOUCH_EVERY_SECS`] behind).
    pub last_seen_at: Timestamp,
    /// When its agent last gave the password (signing in counts).
    pub reauth_at: Option<Timestamp>,
}

impl SessionInfo {
    /// Whether a use now should record itself (see [`touch`]).
    pub fn due_for_touch(&self, now: Timestamp) -> bool {
        now.micros().saturating_sub(self.last_seen_at.micros()) >= TOUCH_EVERY_SECS * 1_000_000
    }

    /// Whether the password was given within the last `secs` seconds.
    pub fn reauthenticated_within(&self, now: Timestamp, secs: i64) -> bool {
        self.reauth_at.is_some_and(|at| at > now.plus_secs(-secs))
    }
}

/// Stores a new session that lasts at most `max_secs`; a sign-in counts as having just
/// given the password.
pub async fn create(
    c: &mut dyn Conn,
    user_id: i64,
    token_hash: &str,
    csrf: &str,
    now: Timestamp,
    max_secs: i64,
) -> Result<()> {
    c.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at, last_seen_at, reauth_at)
         VALUES ($1, $2, $3, $4, $5, $4, $4)",
        &[
            token_hash.into(),
            user_id.into(),
            csrf.into(),
            now.into(),
            now.plus_secs(max_secs).into(),
        ],
    )
    .await?;
    // Sessions that ran out are removed as new ones are made.
    c.execute("DELETE FROM sessions WHERE expires_at < $1", &[now.into()])
        .await?;
    Ok(())
}

/// The live session behind a token hash, if any: under its absolute cap, and used within
/// the last `idle_secs`.
pub async fn lookup(
    c: &mut dyn Conn,
    token_hash: &str,
    now: Timestamp,
    idle_secs: i64,
) -> Result<Option<SessionInfo>> {
    let Some(r) = c
        .opt(
            "SELECT u.id, u.role, u.name, s.csrf, s.reauth_at,
                    COALESCE(s.last_seen_at, s.created_at) AS last_seen_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = $3
               AND COALESCE(s.last_seen_at, s.created_at) > $4",
            &[
                token_hash.into(),
                now.into(),
                true.into(),
                now.plus_secs(-idle_secs).into(),
            ],
        )
        .await?
    else {
        return Ok(None);
    };
    let user_id = r.int("id")?;
    let team_ids = c
        .query(
            "SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id",
            &[user_id.into()],
        )
        .await?
        .iter()
        .map(|t| t.int("team_id"))
        .collect::<Result<_>>()?;
    Ok(Some(SessionInfo {
        viewer: Viewer {
            user_id,
            role: Role::parse(&r.text("role")?)?,
            team_ids,
        },
        name: r.text("name")?,
        csrf: r.text("csrf")?,
        token_hash: token_hash.to_owned(),
        last_seen_at: Timestamp(r.int("last_seen_at")?),
        reauth_at: r.opt_int("reauth_at")?.map(Timestamp),
    }))
}

/// Records a use of a session: its idle deadline moves to `now` plus the idle timeout.
pub async fn touch(c: &mut dyn Conn, token_hash: &str, now: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2",
        &[now.into(), token_hash.into()],
    )
    .await?;
    Ok(())
}

/// Records that the session's agent gave the password again just now.
pub async fn reauthenticated(c: &mut dyn Conn, token_hash: &str, now: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE sessions SET reauth_at = $1, last_seen_at = $1 WHERE token_hash = $2",
        &[now.into(), token_hash.into()],
    )
    .await?;
    Ok(())
}

/// The sign-in address and password hash of an active agent (`None` when the agent is
/// unknown or deactivated): the one read of a password hash by agent id, for every check
/// of a signed-in agent's own password.
pub async fn password_of(
    c: &mut dyn Conn,
    user_id: i64,
) -> Result<Option<(String, Option<String>)>> {
    c.opt(
        "SELECT email, password_hash FROM users WHERE id = $1 AND active = $2",
        &[user_id.into(), true.into()],
    )
    .await?
    .map(|r| Ok((r.text("email")?, r.opt_text("password_hash")?)))
    .transpose()
}

/// Ends a session.
pub async fn delete(c: &mut dyn Conn, token_hash: &str) -> Result<()> {
    c.execute(
        "DELETE FROM sessions WHERE token_hash = $1",
        &[token_hash.into()],
    )
    .await?;
    Ok(())
}

/// Ends every browser session of an agent except `keep` (a session's token hash), and
/// returns how many ended: on deactivation (keep none) and on a password change or reset
/// (keep the session that made it, if any).
pub async fn end_all_for_user(c: &mut dyn Conn, user_id: i64, keep: Option<&str>) -> Result<u64> {
    match keep {
        Some(keep) => {
            c.execute(
                "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
                &[user_id.into(), keep.into()],
            )
            .await
        }
        None => {
            c.execute("DELETE FROM sessions WHERE user_id = $1", &[user_id.into()])
                .await
        }
    }
}
