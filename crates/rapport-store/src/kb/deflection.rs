//! Deflection attempts: a visit of the portal's new-request form that was shown article
//! suggestions. The form carries a random id (128 bits, hex); only its SHA-256 is stored,
//! so the table cannot be used to forge beacons. No text the customer typed is kept here.
//!
//! Outcomes are not stored but read ([`Outcome::of`]) at a given `now`, so a report
//! evaluates the 30-minute rule at the moment it is read (and a test at a later `now`).

use rapport_domain::{Principal, Timestamp, Viewer, kb::Visibility};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::secrets;
use crate::tickets;

/// How long after its last activity an attempt without a ticket is settled (deflected
/// when an article was opened, abandoned otherwise).
pub const SETTLE_SECS: i64 = 30 * 60;

/// The most articles one attempt records as shown.
pub const MAX_ARTICLES: i64 = 30;

/// Whether `token` has the shape of a form's deflection id (32 hex digits). Anything
/// else is refused before it costs a hash or a query.
pub fn token_ok(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A fresh deflection id for a form.
pub fn new_token() -> String {
    secrets::random_hex(16)
}

fn hash(token: &str) -> String {
    secrets::token_hash(&token.to_ascii_lowercase())
}

/// Records that the form of `token` showed `article_ids` (best first): the attempt is
/// created the first time, articles are added (up to [`MAX_ARTICLES`]). Ids of articles
/// `who` may not read (drafts, internal, unknown) are ignored. Nothing changes once a
/// ticket was submitted with the id. Returns how many articles were newly recorded.
pub async fn shown(
    c: &mut dyn Conn,
    who: Option<&Principal>,
    token: &str,
    visitor: Option<&str>,
    article_ids: &[i64],
    now: Timestamp,
) -> Result<i64> {
    if !token_ok(token) {
        return Err(StoreError::NotFound("deflection attempt"));
    }
    let th = hash(token);
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

/// Records that the customer of `token` opened `article_id` — one of the articles the
/// attempt showed (others are refused as not found). Opening again changes nothing but
/// the attempt's last activity.
pub async fn opened(c: &mut dyn Conn, token: &str, article_id: i64, now: Timestamp) -> Result<()> {
    if !token_ok(token) {
        return Err(StoreError::NotFound("deflection attempt"));
    }
    let row = c
        .opt(
            "SELECT id FROM kb_deflections WHERE token_hash = $1 AND submitted_at IS NULL",
            &[hash(token).into()],
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

/// Closes the attempt of `token` with the ticket its form created (in the ticket's own
/// transaction): the attempt counts as submitted, and its articles are what the ticket's
/// customer saw. An id that showed nothing (no script, no suggestion) records nothing.
/// Returns whether an attempt was closed.
pub async fn submitted(
    c: &mut dyn Conn,
    token: &str,
    ticket_id: i64,
    customer_id: i64,
    now: Timestamp,
) -> Result<bool> {
    if !token_ok(token) {
        return Ok(false);
    }
    let n = c
        .execute(
            "UPDATE kb_deflections
             SET ticket_id = $2, submitted_at = $3, active_at = $3,
                 customer_id = COALESCE(customer_id, $4)
             WHERE token_hash = $1 AND submitted_at IS NULL",
            &[
                hash(token).into(),
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
    fn tokens_are_32_hex_digits() {
        assert!(token_ok(&new_token()));
        assert!(!token_ok("abc"));
        assert!(!token_ok(&"g".repeat(32)));
        assert!(!token_ok(&"a".repeat(33)));
    }
}
