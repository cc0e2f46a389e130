//! The customer portal's sign-in by emailed link (a one-time token, stored hashed, that
//! expires after half an hour), its sessions (kept here so that signing out ends them),
//! and the generation each request's private links are signed with (bumped to revoke
//! them).

use rapport_domain::{EmailAddress, Timestamp};

use crate::db::Conn;
use crate::error::Result;
use crate::secrets::Sealer;

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
    let Some(customer) = crate::customers::id_by_email(c, email).await? else {
        return Ok(None);
    };
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

/// Starts a portal session for a customer (the cookie's token, stored hashed) that lasts
/// `ttl_secs`; sessions that ran out are removed as new ones are made.
pub async fn create_session(
    c: &mut dyn Conn,
    customer_id: i64,
    token_hash: &str,
    now: Timestamp,
    ttl_secs: i64,
) -> Result<()> {
    c.execute(
        "INSERT INTO portal_sessions (token_hash, customer_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
        &[
            token_hash.into(),
            customer_id.into(),
            now.into(),
            now.plus_secs(ttl_secs).into(),
        ],
    )
    .await?;
    c.execute(
        "DELETE FROM portal_sessions WHERE expires_at < $1",
        &[now.into()],
    )
    .await?;
    Ok(())
}

/// The customer a live portal session signs in, if any.
pub async fn session_customer(
    c: &mut dyn Conn,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<i64>> {
    c.opt(
        "SELECT customer_id FROM portal_sessions WHERE token_hash = $1 AND expires_at > $2",
        &[token_hash.into(), now.into()],
    )
    .await?
    .map(|r| r.int("customer_id"))
    .transpose()
}

/// Ends a portal session.
pub async fn end_session(c: &mut dyn Conn, token_hash: &str) -> Result<()> {
    c.execute(
        "DELETE FROM portal_sessions WHERE token_hash = $1",
        &[token_hash.into()],
    )
    .await?;
    Ok(())
}

/// The generation a request's private links are signed with; `NotFound` for no ticket.
pub async fn link_generation(c: &mut dyn Conn, ticket_id: i64) -> Result<i64> {
    c.opt(
        "SELECT portal_link_gen FROM tickets WHERE id = $1",
        &[ticket_id.into()],
    )
    .await?
    .ok_or(crate::StoreError::NotFound("ticket"))?
    .int("portal_link_gen")
}

/// Revokes every private link of a request an agent can see: the generation moves on, so
/// links signed before no longer open, and every portal session of the request's customer
/// ends (a session would otherwise list the request with its new link). Returns the new
/// generation.
pub async fn revoke_links(
    c: &mut dyn Conn,
    viewer: &rapport_domain::Viewer,
    ticket_id: i64,
) -> Result<i64> {
    crate::tickets::get_for_agent(c, viewer, ticket_id).await?;
    c.execute(
        "UPDATE tickets SET portal_link_gen = portal_link_gen + 1 WHERE id = $1",
        &[ticket_id.into()],
    )
    .await?;
    c.execute(
        "DELETE FROM portal_sessions
         WHERE customer_id = (SELECT customer_id FROM tickets WHERE id = $1)",
        &[ticket_id.into()],
    )
    .await?;
    link_generation(c, ticket_id).await
}

/// The link generation of every request of a customer, by ticket id.
pub async fn link_generations(
    c: &mut dyn Conn,
    customer_id: i64,
) -> Result<std::collections::HashMap<i64, i64>> {
    c.query(
        "SELECT id, portal_link_gen FROM tickets WHERE customer_id = $1",
        &[customer_id.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.int("id")?, r.int("portal_link_gen")?)))
    .collect()
}

/// The label of the private links' key, derived from the server's secret key.
const LINK_KEY_LABEL: &str = "portal request links v1";

/// The signature of a request's private links of one generation, under a key derived
/// from the server's secret key (never stored, so a copy of the database cannot forge a
/// link).
pub fn link_signature(sealer: &Sealer, ticket_id: i64, generation: i64) -> String {
    use hmac::{Hmac, Mac};
    let key = sealer.derive_key(LINK_KEY_LABEL);
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&key) else {
        return String::new();
    };
    mac.update(format!("portal-request:{ticket_id}:{generation}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A request's private link (path and query) of one generation.
pub fn link_path(sealer: &Sealer, ticket_id: i64, generation: i64) -> String {
    format!(
        "/portal/requests/{ticket_id}?key={}",
        link_signature(sealer, ticket_id, generation)
    )
}
