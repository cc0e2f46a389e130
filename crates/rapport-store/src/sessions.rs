//! Browser sessions, server-side secrets, and presence (who is viewing or typing on a
//! ticket, for collision detection). Session cookies hold a random token; only its
//! SHA-256 is stored, like API tokens.

use rand::RngCore;
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

/// A random hex string of `bytes` bytes, for tokens and keys.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
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
    let user_id = r.int(0)?;
    let team_ids = c
        .query(
            "SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id",
            &[user_id.into()],
        )
        .await?
        .iter()
        .map(|t| t.int(0))
        .collect::<Result<_>>()?;
    Ok(Some(SessionInfo {
        viewer: Viewer {
            user_id,
            role: Role::parse(&r.text(1)?)?,
            team_ids,
        },
        name: r.text(2)?,
        csrf: r.text(3)?,
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

/// A named server secret, made on first use and shared by every node.
pub async fn secret(c: &mut dyn Conn, key: &str) -> Result<String> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        &[key.into(), random_hex(32).into()],
    )
    .await?;
    c.one("SELECT value FROM settings WHERE key = $1", &[key.into()])
        .await?
        .text(0)
}

/// Records that an agent is looking at (or typing on) a ticket.
pub async fn touch_presence(
    c: &mut dyn Conn,
    ticket_id: i64,
    user_id: i64,
    typing: bool,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "INSERT INTO presence (ticket_id, user_id, typing, seen_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (ticket_id, user_id) DO UPDATE SET typing = excluded.typing, seen_at = excluded.seen_at",
        &[ticket_id.into(), user_id.into(), typing.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// The other agents seen on a ticket in the last 20 seconds: name and whether typing.
pub async fn others_present(
    c: &mut dyn Conn,
    ticket_id: i64,
    me: i64,
    now: Timestamp,
) -> Result<Vec<(String, bool)>> {
    c.query(
        "SELECT u.name, p.typing FROM presence p JOIN users u ON u.id = p.user_id
         WHERE p.ticket_id = $1 AND p.user_id <> $2 AND p.seen_at > $3 ORDER BY u.name",
        &[ticket_id.into(), me.into(), now.plus_secs(-20).into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.text(0)?, r.bool(1)?)))
    .collect()
}
