//! The customer portal's sign-in by emailed link: a one-time token, stored hashed, that
//! expires after half an hour.

use rapport_domain::{EmailAddress, Timestamp};

use crate::db::Conn;
use crate::error::Result;

/// How long a sign-in link works.
pub const LINK_TTL_SECS: i64 = 30 * 60;

/// Records a sign-in token (its hash) for the customer with this address; none when no
/// customer has it (the caller answers the same either way).
pub async fn create_token(
    c: &mut dyn Conn,
    email: &EmailAddress,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<i64>> {
    let Some(r) = c
        .opt(
            "SELECT id FROM customers WHERE email = $1",
            &[email.as_str().into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let customer = r.int("id")?;
    c.execute(
        "INSERT INTO portal_tokens (token_hash, customer_id, expires_at, created_at)
         VALUES ($1, $2, $3, $4)",
        &[
            token_hash.into(),
            customer.into(),
            now.plus_secs(LINK_TTL_SECS).into(),
            now.into(),
        ],
    )
    .await?;
    Ok(Some(customer))
}

/// Whether a token is valid (known, unused, unexpired), without using it up.
pub async fn token_valid(c: &mut dyn Conn, token_hash: &str, now: Timestamp) -> Result<bool> {
    Ok(c.opt(
        "SELECT customer_id FROM portal_tokens
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        &[token_hash.into(), now.into()],
    )
    .await?
    .is_some())
}

/// Uses a token up: the customer it signs in, if it was valid.
pub async fn consume_token(
    c: &mut dyn Conn,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<i64>> {
    c.opt(
        "UPDATE portal_tokens SET used_at = $1
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
         RETURNING customer_id",
        &[now.into(), token_hash.into()],
    )
    .await?
    .map(|r| r.int("customer_id"))
    .transpose()
}
