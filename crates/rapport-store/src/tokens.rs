//! API tokens: made, listed, given an expiry and revoked. Only a token's SHA-256 is
//! stored (see [`crate::secrets`]) with a short public prefix — its first characters,
//! which carry no secret worth having — so people can tell tokens apart and revoke one
//! by id or by prefix. A token answers only while it is neither revoked nor expired and
//! its agent is active ([`crate::people::viewer_for_token`]).

use rapport_domain::{FieldError, Timestamp};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::secrets::TOKEN_PREFIX;
use crate::value::Row;

/// How many characters of a token (after `rpt_`) are kept in clear to name it.
pub const SHOWN_CHARS: usize = 8;

/// The longest lifetime a token may be given, in days (ten years).
pub const MAX_DAYS: i64 = 3650;

/// An API token as people see it: never the token itself.
#[derive(Debug, Clone)]
pub struct Token {
    /// Database id.
    pub id: i64,
    /// Whose it is.
    pub user_id: i64,
    /// A label.
    pub name: String,
    /// `rpt_` and the first characters of the token (none for tokens made before
    /// prefixes were kept).
    pub prefix: Option<String>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stops working, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl Token {
    /// Whether the token works at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

/// The public prefix of a token: `rpt_` and its first [`SHOWN_CHARS`] characters.
pub fn shown_prefix(token: &str) -> String {
    let body = token.strip_prefix(TOKEN_PREFIX).unwrap_or(token);
    let shown: String = body.chars().take(SHOWN_CHARS).collect();
    format!("{TOKEN_PREFIX}{shown}")
}

/// When a token made at `now` for `days` days expires: 1 to [`MAX_DAYS`] days, refused
/// on `field` otherwise.
pub fn expiry_in_days(now: Timestamp, days: i64, field: &str) -> Result<Timestamp> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(FieldError::new(field, format!("must be 1 to {MAX_DAYS} days")).into());
    }
    Ok(now.plus_secs(days * 86_400))
}

const COLS: &str = "id, user_id, name, prefix, created_at, expires_at, revoked_at";

fn token_from(r: &Row) -> Result<Token> {
    Ok(Token {
        id: r.int("id")?,
        user_id: r.int("user_id")?,
        name: r.text("name")?,
        prefix: r.opt_text("prefix")?,
        created_at: Timestamp(r.int("created_at")?),
        expires_at: r.opt_int("expires_at")?.map(Timestamp),
        revoked_at: r.opt_int("revoked_at")?.map(Timestamp),
    })
}

/// What a new token is made of: the token itself is hashed here and never stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Whose it is.
    pub user_id: i64,
    /// The token (from [`crate::secrets::new_token`]).
    pub token: String,
    /// A label (1 to 100 characters).
    pub name: String,
    /// When it stops working, if ever (must be after `now`).
    pub expires_at: Option<Timestamp>,
}

/// Stores a new token (its hash and public prefix) and returns it.
pub async fn create(c: &mut dyn Conn, new: NewToken, now: Timestamp) -> Result<Token> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(
            FieldError::new("name", "must be 1 to 100 characters, no control characters").into(),
        );
    }
    if new.expires_at.is_some_and(|e| e <= now) {
        return Err(FieldError::new("expires_at", "must be in the future").into());
    }
    if c.opt("SELECT id FROM users WHERE id = $1", &[new.user_id.into()])
        .await?
        .is_none()
    {
        return Err(FieldError::new("user_id", "no agent has this id").into());
    }
    let row = c
        .one(
            &format!(
                "INSERT INTO api_tokens (user_id, token_hash, name, created_at, expires_at, prefix)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLS}"
            ),
            &[
                new.user_id.into(),
                crate::secrets::token_hash(&new.token).into(),
                name.into(),
                now.into(),
                new.expires_at.into(),
                shown_prefix(&new.token).into(),
            ],
        )
        .await?;
    token_from(&row)
}

/// Revokes every live token of an agent (on deactivation); returns how many.
pub async fn revoke_all_for_user(c: &mut dyn Conn, user_id: i64, now: Timestamp) -> Result<u64> {
    c.execute(
        "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        &[now.into(), user_id.into()],
    )
    .await
}

/// Tokens, newest first: one agent's, or everyone's with `None`.
pub async fn list(c: &mut dyn Conn, user_id: Option<i64>) -> Result<Vec<Token>> {
    let rows = match user_id {
        Some(u) => {
            c.query(
                &format!("SELECT {COLS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"),
                &[u.into()],
            )
            .await?
        }
        None => {
            c.query(
                &format!("SELECT {COLS} FROM api_tokens ORDER BY id DESC"),
                &[],
            )
            .await?
        }
    };
    rows.iter().map(token_from).collect()
}

/// One token by id.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Token> {
    let row = c
        .opt(
            &format!("SELECT {COLS} FROM api_tokens WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("token"))?;
    token_from(&row)
}

/// The token an id (`42`) or a public prefix (`rpt_1a2b3c4d`, or the token itself)
/// names. A prefix shared by several tokens is refused rather than guessed.
pub async fn find(c: &mut dyn Conn, id_or_prefix: &str) -> Result<Token> {
    let key = id_or_prefix.trim();
    if let Ok(id) = key.parse::<i64>() {
        return get(c, id).await;
    }
    if !key.starts_with(TOKEN_PREFIX) {
        return Err(FieldError::new("token", "give a token id or its rpt_… prefix").into());
    }
    let rows = c
        .query(
            &format!("SELECT {COLS} FROM api_tokens WHERE prefix = $1 ORDER BY id"),
            &[shown_prefix(key).into()],
        )
        .await?;
    match rows.as_slice() {
        [] => Err(StoreError::NotFound("token")),
        [one] => token_from(one),
        _ => Err(FieldError::new("token", "several tokens share this prefix; use the id").into()),
    }
}

/// Revokes a token (idempotent: revoking it again keeps the first time) and returns it.
pub async fn revoke(c: &mut dyn Conn, id: i64, now: Timestamp) -> Result<Token> {
    c.execute(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        &[now.into(), id.into()],
    )
    .await?;
    get(c, id).await
}
