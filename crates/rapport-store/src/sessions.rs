//! Browser sessions. Session cookies hold a random token; only its SHA-256 is stored,
//! like API tokens.

use rapport_domain::{Role, Timestamp, Viewer};

use crate::db::Conn;
use crate::error::Result;

/// A signed-in browser session as a page needs it.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Who, with role and teams.
    pub viewer: Viewer,
    /// Their display name.
    pub name: String,
    /// The token every form of this session must carry.
    pub csrf: String,
}

/// Stores a new session.
pub async fn create(
    c: &mut dyn Conn,
    user_id: i64,
    token_hash: &str,
    csrf: &str,
    now: Timestamp,
    ttl_secs: i64,
) -> Result<()> {
    c.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        &[
            token_hash.into(),
            user_id.into(),
            csrf.into(),
            now.into(),
            now.plus_secs(ttl_secs).into(),
        ],
    )
    .await?;
    // Sessions that ran out are removed as new ones are made.
    c.execute("DELETE FROM sessions WHERE expires_at < $1", &[now.into()])
        .await?;
    Ok(())
}

/// The live session behind a token hash, if any.
pub async fn lookup(
    c: &mut dyn Conn,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<SessionInfo>> {
    let Some(r) = c
        .opt(
            "SELECT u.id, u.role, u.name, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = $3",
            &[token_hash.into(), now.into(), true.into()],
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
    }))
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
