//! Deflection attempts: a visit of the portal's new-request form that was shown article
//! suggestions. The form carries an id the server issued when it rendered the form
//! ([`issue`]): a random nonce and the time of issue, signed (HMAC-SHA-256, cut to 128
//! bits) under a key derived from the server's secret key and bound to the visitor's
//! cookie. A beacon's id is checked ([`Attempt::check`]) before anything is counted: a
//! made-up, altered, expired or another browser's id is refused, and since attempts are
//! keyed by the id's SHA-256, one id is one attempt and counts at most one deflection.
//! Only the hash is stored. No text the customer typed is kept here.
//!
//! Outcomes are not stored but read ([`Outcome::of`]) at a given `now`, so a report
//! evaluates the 30-minute rule at the moment it is read (and a test at a later `now`).

use rapport_domain::{Principal, Timestamp, Viewer, kb::Visibility};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::secrets::{self, Sealer};
use crate::tickets;

/// How long after its last activity an attempt without a ticket is settled (deflected
/// when an article was opened, abandoned otherwise).
pub const SETTLE_SECS: i64 = 30 * 60;

/// The most articles one attempt records as shown.
pub const MAX_ARTICLES: i64 = 30;

/// How long after the form was rendered its id is taken by the beacons: a day.
pub const TOKEN_TTL_SECS: i64 = 86_400;

/// How far in the future an id's time of issue may be (clocks of several nodes differ).
const CLOCK_SKEW_SECS: i64 = 300;

/// The label of the ids' key, derived from the server's secret key.
const TOKEN_KEY_LABEL: &str = "portal deflection ids v1";

/// Hex digits of an id: the nonce (128 bits), the time of issue (seconds, 64 bits) and
/// the signature (128 bits).
const NONCE_HEX: usize = 32;
const ISSUED_HEX: usize = 16;
const MAC_BYTES: usize = 16;
/// The length of an id.
pub const TOKEN_LEN: usize = NONCE_HEX + ISSUED_HEX + 2 * MAC_BYTES;

/// Why a deflection id is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not the shape of an id (refused before any hashing).
    #[error("not a deflection id")]
    Malformed,
    /// Not signed by this help desk for this visitor (made up, altered, or another
    /// browser's).
    #[error("not a deflection id issued to this visitor")]
    Forged,
    /// Issued longer ago than [`TOKEN_TTL_SECS`] (or too far in the future).
    #[error("an expired deflection id")]
    Expired,
}

impl From<TokenError> for StoreError {
    fn from(_: TokenError) -> Self {
        StoreError::NotFound("deflection attempt")
    }
}

fn mac(sealer: &Sealer, body: &str, visitor: &str) -> Option<hmac::Hmac<sha2::Sha256>> {
    use hmac::Mac;
    let key = sealer.derive_key(TOKEN_KEY_LABEL);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(b"deflection:");
    mac.update(body.as_bytes());
    mac.update(b":");
    mac.update(visitor.as_bytes());
    Some(mac)
}

/// A fresh deflection id for a form rendered at `now` for `visitor` (the SHA-256 of the
/// visitor's cookie, `rapport_http::visitor::Visitor::hash`).
pub fn issue(sealer: &Sealer, visitor: &str, now: Timestamp) -> String {
    use hmac::Mac;
    let issued = u64::try_from(now.micros().div_euclid(1_000_000)).unwrap_or(0);
    let body = format!("{}{issued:016x}", secrets::random_hex(NONCE_HEX / 2));
    let Some(m) = mac(sealer, &body, visitor) else {
        return String::new();
    };
    let tag = m.finalize().into_bytes();
    format!("{body}{}", hex::encode(&tag[..MAC_BYTES]))
}

/// Whether `token` has the shape of an id ([`TOKEN_LEN`] lower-case hex digits).
/// Anything else is refused before it costs a hash or a query.
pub fn token_ok(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A deflection id checked against the server's key and the visitor: what the store's
/// operations take, so none can count an id the server did not issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    hash: String,
}

impl Attempt {
    /// Checks `token` for `visitor` at `now`: issued here, to this visitor, within
    /// [`TOKEN_TTL_SECS`].
    pub fn check(
        sealer: &Sealer,
        token: &str,
        visitor: &str,
        now: Timestamp,
    ) -> std::result::Result<Self, TokenError> {
        let issued = Self::signed(sealer, token, visitor)?;
        let now_secs = now.micros().div_euclid(1_000_000);
        if issued > now_secs + CLOCK_SKEW_SECS || now_secs - issued > TOKEN_TTL_SECS {
            return Err(TokenError::Expired);
        }
        Ok(Self::of(token))
    }

    /// Checks `token` for `visitor` whatever its age: a request submitted the next day
    /// still closes the attempt its form began (nothing is counted for it that was not
    /// recorded while the id was fresh).
    pub fn check_any_age(
        sealer: &Sealer,
        token: &str,
        visitor: &str,
    ) -> std::result::Result<Self, TokenError> {
        Self::signed(sealer, token, visitor)?;
        Ok(Self::of(token))
    }

    /// The time of issue (seconds) of a well-signed id.
    fn signed(sealer: &Sealer, token: &str, visitor: &str) -> std::result::Result<i64, TokenError> {
        use hmac::Mac;
        if !token_ok(token) {
            return Err(TokenError::Malformed);
        }
        let (body, tag) = token.split_at(NONCE_HEX + ISSUED_HEX);
        let tag = hex::decode(tag).map_err(|_| TokenError::Malformed)?;
        let m = mac(sealer, body, visitor).ok_or(TokenError::Forged)?;
        m.verify_truncated_left(&tag)
            .map_err(|_| TokenError::Forged)?;
        let issued =
            u64::from_str_radix(&body[NONCE_HEX..], 16).map_err(|_| TokenError::Malformed)?;
        i64::try_from(issued).map_err(|_| TokenError::Malformed)
    }

    fn of(token: &str) -> Self {
        Self {
            hash: secrets::token_hash(token),
        }
    }
}

/// Records that the form of `attempt` showed `article_ids` (best first): the attempt is
/// created the first time, articles are added (up to [`MAX_ARTICLES`]). Ids of articles
/// `who` may not read (drafts, internal, unknown) are ignored. Nothing changes once a
/// ticket was submitted with the id. Returns how many articles were newly recorded.
pub async fn shown(
    c: &mut dyn Conn,
    who: Option<&Principal>,
    attempt: &Attempt,
    visitor: Option<&str>,
    article_ids: &[i64],
    now: Timestamp,
) -> Result<i64> {
    let th = attempt.hash.clone();
    let customer = who.and_then(Principal::customer);
    c.execute(
        "INSERT INTO kb_deflections (token_hash, visitor, customer_id, shown_at, active_at)
         VALUES ($1, $2, (SELECT id FROM customers WHERE id = $3), $4, $4)
         ON CONFLICT (token_hash) DO NOTHING",
        &[
            th.clone().into(),
            visitor.map(str::to_owned).into(),
            customer.into(),
            now.into(),
        ],
    )
    .await?;
    let row = c
        .one(
            "SELECT d.id, d.submitted_at,
                    (SELECT COUNT(*) FROM kb_deflection_articles a WHERE a.deflection_id = d.id) AS n
             FROM kb_deflections d WHERE d.token_hash = $1",
            &[th.into()],
        )
        .await?;
    if row.opt_int("submitted_at")?.is_some() {
        return Ok(0);
    }
    let id = row.int("id")?;
    let mut count = row.int("n")?;
    let readable: Vec<&str> = Visibility::readable_by(who)
        .iter()
        .map(|v| v.as_str())
        .collect();
    let mut added = 0;
    for &article in article_ids.iter().take(MAX_ARTICLES as usize) {
        if count >= MAX_ARTICLES {
            break;
        }
        let n = c
            .execute(
                "INSERT INTO kb_deflection_articles (deflection_id, article_id, position, shown_at)
                 SELECT CAST($1 AS BIGINT), id, CAST($3 AS BIGINT), CAST($4 AS BIGINT) FROM kb_articles
                 WHERE id = $2 AND status = 'published'
                   AND visibility IN ($5, $6, $7)
                 ON CONFLICT (deflection_id, article_id) DO NOTHING",
                &[
                    id.into(),
                    article.into(),
                    count.into(),
                    now.into(),
                    readable.first().copied().into(),
                    readable.get(1).copied().into(),
                    readable.get(2).copied().into(),
                ],
            )
            .await?;
        let n = i64::try_from(n).unwrap_or(0);
        count += n;
        added += n;
    }
    c.execute(
        "UPDATE kb_deflections SET active_at = $2 WHERE id = $1",
        &[id.into(), now.into()],
    )
    .await?;
    Ok(added)
}

/// Records that the customer of `attempt` opened `article_id` — one of the articles the
/// attempt showed (others are refused as not found). Opening again changes nothing but
/// the attempt's last activity.
pub async fn opened(
    c: &mut dyn Conn,
    attempt: &Attempt,
    article_id: i64,
    now: Timestamp,
) -> Result<()> {
    let row = c
        .opt(
            "SELECT id FROM kb_deflections WHERE token_hash = $1 AND submitted_at IS NULL",
            &[attempt.hash.clone().into()],
        )
        .await?
        .ok_or(StoreError::NotFound("deflection attempt"))?;
    let id = row.int("id")?;
    let n = c
        .execute(
            "UPDATE kb_deflection_articles SET opened_at = COALESCE(opened_at, $3)
             WHERE deflection_id = $1 AND article_id = $2",
            &[id.into(), article_id.into(), now.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("suggested article"));
    }
    c.execute(
        "UPDATE kb_deflections SET opened_at = COALESCE(opened_at, $2), active_at = $2
         WHERE id = $1",
        &[id.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// Closes `attempt` with the ticket its form created (in the ticket's own transaction):
/// the attempt counts as submitted, and its articles are what the ticket's customer saw.
/// An id that showed nothing (no script, no suggestion) records nothing. Returns whether
/// an attempt was closed.
pub async fn submitted(
    c: &mut dyn Conn,
    attempt: &Attempt,
    ticket_id: i64,
    customer_id: i64,
    now: Timestamp,
) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE kb_deflections
             SET ticket_id = $2, submitted_at = $3, active_at = $3,
                 customer_id = COALESCE(customer_id, $4)
             WHERE token_hash = $1 AND submitted_at IS NULL",
            &[
                attempt.hash.clone().into(),
                ticket_id.into(),
                now.into(),
                customer_id.into(),
            ],
        )
        .await?;
    Ok(n > 0)
}

/// Remembers the anonymous visitor (hashed cookie) who filed `ticket_id` through the
/// portal, for the content-gap report's "search followed by a ticket".
pub async fn record_visitor(
    c: &mut dyn Conn,
    ticket_id: i64,
    visitor: &str,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "INSERT INTO ticket_visitors (ticket_id, visitor, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (ticket_id) DO NOTHING",
        &[ticket_id.into(), visitor.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// An article a ticket's customer was shown on the portal before writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenArticle {
    /// The article.
    pub article_id: i64,
    /// Its slug (for the help center's link).
    pub slug: String,
    /// Its title in its default language.
    pub title: String,
    /// Whether the customer opened it (else it was only shown).
    pub opened: bool,
}

/// What the customer of `ticket_id` was shown (and opened) before submitting it, opened
/// ones first; empty when the ticket did not come through the portal's suggestions.
/// The viewer must be allowed to see the ticket.
pub async fn seen_on_ticket(
    c: &mut dyn Conn,
    viewer: &Viewer,
    ticket_id: i64,
) -> Result<Vec<SeenArticle>> {
    tickets::get(c, &Principal::Agent(viewer.clone()), ticket_id).await?;
    c.query(
        "SELECT a.id, a.slug, t.title, da.opened_at, da.position
         FROM kb_deflections d
         JOIN kb_deflection_articles da ON da.deflection_id = d.id
         JOIN kb_articles a ON a.id = da.article_id
         JOIN kb_translations t ON t.article_id = a.id AND t.locale = a.default_locale
         WHERE d.ticket_id = $1
         ORDER BY CASE WHEN da.opened_at IS NULL THEN 1 ELSE 0 END, da.position, a.id",
        &[ticket_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(SeenArticle {
            article_id: r.int("id")?,
            slug: r.text("slug")?,
            title: r.text("title")?,
            opened: r.opt_int("opened_at")?.is_some(),
        })
    })
    .collect()
}

/// How an attempt ended, as of a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A ticket was submitted from the form.
    Submitted,
    /// An article was opened and no ticket followed within [`SETTLE_SECS`].
    Deflected,
    /// Suggestions were shown, nothing opened, no ticket.
    Abandoned,
    /// Still within [`SETTLE_SECS`] of the last activity.
    Pending,
}

impl Outcome {
    /// The outcome of an attempt with these facts, as of `now`.
    pub fn of(submitted: bool, opened: bool, active_at: Timestamp, now: Timestamp) -> Self {
        if submitted {
            Self::Submitted
        } else if now.micros() < active_at.plus_secs(SETTLE_SECS).micros() {
            Self::Pending
        } else if opened {
            Self::Deflected
        } else {
            Self::Abandoned
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_the_thirty_minute_rule() {
        let t = Timestamp(1_000_000_000_000);
        let later = t.plus_secs(SETTLE_SECS);
        let before = t.plus_secs(SETTLE_SECS - 1);
        assert_eq!(Outcome::of(true, true, t, later), Outcome::Submitted);
        assert_eq!(Outcome::of(false, true, t, before), Outcome::Pending);
        assert_eq!(Outcome::of(false, true, t, later), Outcome::Deflected);
        assert_eq!(Outcome::of(false, false, t, later), Outcome::Abandoned);
        assert_eq!(Outcome::of(true, false, t, t), Outcome::Submitted);
    }

    #[test]
    fn ids_are_issued_signed_bound_and_expire() {
        let sealer = Sealer::new([7; 32]);
        let t = Timestamp(1_800_000_000_000_000);
        let id = issue(&sealer, "visitor-a", t);
        assert!(token_ok(&id), "{id}");
        assert_ne!(
            issue(&sealer, "visitor-a", t),
            id,
            "a fresh nonce each time"
        );
        let ok = Attempt::check(&sealer, &id, "visitor-a", t.plus_secs(3600)).unwrap();
        assert_eq!(
            ok,
            Attempt::check_any_age(&sealer, &id, "visitor-a").unwrap()
        );
        // Another visitor, another server key, an altered digit: forged.
        assert_eq!(
            Attempt::check(&sealer, &id, "visitor-b", t),
            Err(TokenError::Forged)
        );
        let other = Sealer::new([8; 32]);
        assert_eq!(
            Attempt::check(&other, &id, "visitor-a", t),
            Err(TokenError::Forged)
        );
        for i in [0, NONCE_HEX, NONCE_HEX + ISSUED_HEX - 1, TOKEN_LEN - 1] {
            let mut b = id.clone().into_bytes();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            let altered = String::from_utf8(b).unwrap();
            assert_eq!(
                Attempt::check(&sealer, &altered, "visitor-a", t),
                Err(TokenError::Forged),
                "digit {i}"
            );
        }
        // Too old, or from the future.
        let late = t.plus_secs(TOKEN_TTL_SECS + 1);
        assert_eq!(
            Attempt::check(&sealer, &id, "visitor-a", late),
            Err(TokenError::Expired)
        );
        assert!(Attempt::check_any_age(&sealer, &id, "visitor-a").is_ok());
        let early = t.plus_secs(-CLOCK_SKEW_SECS - 1);
        assert_eq!(
            Attempt::check(&sealer, &id, "visitor-a", early),
            Err(TokenError::Expired)
        );
        // The old shape (32 hex digits), upper case, other characters: malformed.
        for bad in [
            "abc".to_owned(),
            "a".repeat(32),
            id.to_uppercase(),
            format!("{}g", &id[1..]),
        ] {
            assert_eq!(
                Attempt::check(&sealer, &bad, "visitor-a", t),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
    }
}
