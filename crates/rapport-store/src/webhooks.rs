//! Outbound webhooks: the receivers (secrets sealed at rest), which events each gets, and
//! the log of every delivery attempt.

use rapport_domain::webhook::{WebhookEvent, WebhookSecret};
use rapport_domain::{FieldError, Timestamp};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::secrets::Sealer;
use crate::value::Row;

/// How long a rotated-out secret still signs (receivers switch over meanwhile).
pub const ROTATION_GRACE_SECS: i64 = 24 * 3_600;

/// The most webhooks a help desk keeps.
pub const MAX_WEBHOOKS: i64 = 100;

/// A receiver, without its secrets.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Its id.
    pub id: i64,
    /// Where events are posted.
    pub url: String,
    /// What it gets.
    pub events: Vec<WebhookEvent>,
    /// Off: nothing is sent (turned off by an admin, or after `410 Gone` or lasting failure).
    pub active: bool,
    /// Why it was turned off by Rapport.
    pub disabled_reason: Option<String>,
    /// Whether deliveries also carry the Stripe-style `rapport-signature` header.
    pub stripe_header: bool,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A receiver with the secrets that sign for it now (the current one first).
#[derive(Debug, Clone)]
pub struct Signing {
    /// The receiver.
    pub webhook: Webhook,
    /// The secrets to sign with: the current one, and the previous one during a rotation.
    pub secrets: Vec<WebhookSecret>,
}

/// One delivery attempt.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Its id.
    pub id: i64,
    /// The message id (`webhook-id`), the same for every attempt of one event.
    pub msg_id: String,
    /// The event's name.
    pub event_type: String,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// The start of its answer's body.
    pub response: String,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// When.
    pub created_at: Timestamp,
}

const COLS: &str =
    "id, url, events, active, disabled_reason, stripe_header, created_at, updated_at";

fn from_row(r: &Row) -> Result<Webhook> {
    let names: Vec<String> = serde_json::from_str(&r.text("events")?)?;
    Ok(Webhook {
        id: r.int("id")?,
        url: r.text("url")?,
        events: names
            .iter()
            .filter_map(|n| WebhookEvent::parse(n, "events").ok())
            .collect(),
        active: r.bool("active")?,
        disabled_reason: r.opt_text("disabled_reason")?,
        stripe_header: r.bool("stripe_header")?,
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
    })
}

fn events_json(events: &[WebhookEvent]) -> Result<String> {
    let mut names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    Ok(serde_json::to_string(&names)?)
}

/// Adds a receiver.
pub async fn create(
    c: &mut dyn Conn,
    sealer: &Sealer,
    url: &str,
    events: &[WebhookEvent],
    secret: &WebhookSecret,
    by: i64,
    now: Timestamp,
) -> Result<Webhook> {
    if events.is_empty() {
        return Err(FieldError::new("events", "subscribe to at least one event").into());
    }
    let n = c
        .one("SELECT COUNT(*) AS n FROM webhooks", &[])
        .await?
        .int("n")?;
    if n >= MAX_WEBHOOKS {
        return Err(StoreError::Conflict(format!(
            "at most {MAX_WEBHOOKS} webhooks; delete one first"
        )));
    }
    let row = c
        .one(
            "INSERT INTO webhooks (url, events, secret, active, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            &[
                url.into(),
                events_json(events)?.into(),
                sealer.seal(&secret.written()).into(),
                true.into(),
                by.into(),
                now.into(),
            ],
        )
        .await?;
    get(c, row.int("id")?).await
}

/// Every receiver.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<Webhook>> {
    c.query(&format!("SELECT {COLS} FROM webhooks ORDER BY id"), &[])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// One receiver.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Webhook> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM webhooks WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("webhook"))?;
    from_row(&r)
}

/// What a change sets (absent: unchanged).
#[derive(Debug, Default)]
pub struct WebhookPatch {
    /// A new address.
    pub url: Option<String>,
    /// New events.
    pub events: Option<Vec<WebhookEvent>>,
    /// On or off (on again clears the reason Rapport turned it off).
    pub active: Option<bool>,
    /// A new secret; the old one keeps signing for [`ROTATION_GRACE_SECS`].
    pub secret: Option<WebhookSecret>,
    /// The Stripe-style header on or off.
    pub stripe_header: Option<bool>,
}

/// Changes a receiver.
pub async fn update(
    c: &mut dyn Conn,
    sealer: &Sealer,
    id: i64,
    p: WebhookPatch,
    now: Timestamp,
) -> Result<Webhook> {
    let old = get(c, id).await?;
    if let Some(on) = p.stripe_header {
        c.execute(
            "UPDATE webhooks SET stripe_header = $1 WHERE id = $2",
            &[on.into(), id.into()],
        )
        .await?;
    }
    if let Some(url) = &p.url {
        c.execute(
            "UPDATE webhooks SET url = $1 WHERE id = $2",
            &[url.clone().into(), id.into()],
        )
        .await?;
    }
    if let Some(events) = &p.events {
        if events.is_empty() {
            return Err(FieldError::new("events", "subscribe to at least one event").into());
        }
        c.execute(
            "UPDATE webhooks SET events = $1 WHERE id = $2",
            &[events_json(events)?.into(), id.into()],
        )
        .await?;
    }
    if let Some(active) = p.active {
        c.execute(
            "UPDATE webhooks SET active = $1, disabled_reason = NULL WHERE id = $2",
            &[active.into(), id.into()],
        )
        .await?;
    }
    if let Some(secret) = &p.secret {
        c.execute(
            "UPDATE webhooks SET previous_secret = secret, previous_until = $1, secret = $2
             WHERE id = $3",
            &[
                now.plus_secs(ROTATION_GRACE_SECS).into(),
                sealer.seal(&secret.written()).into(),
                id.into(),
            ],
        )
        .await?;
    }
    c.execute(
        "UPDATE webhooks SET updated_at = $1 WHERE id = $2",
        &[now.into(), old.id.into()],
    )
    .await?;
    get(c, id).await
}

/// Deletes a receiver and its delivery log.
pub async fn delete(c: &mut dyn Conn, id: i64) -> Result<()> {
    let gone = c
        .execute("DELETE FROM webhooks WHERE id = $1", &[id.into()])
        .await?;
    if gone == 0 {
        return Err(StoreError::NotFound("webhook"));
    }
    Ok(())
}

/// The receivers that are on.
pub async fn active(c: &mut dyn Conn) -> Result<Vec<Webhook>> {
    c.query(
        &format!("SELECT {COLS} FROM webhooks WHERE active = $1 ORDER BY id"),
        &[true.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// A receiver with the secrets that sign for it at `now` (`None`: gone).
pub async fn signing(
    c: &mut dyn Conn,
    sealer: &Sealer,
    id: i64,
    now: Timestamp,
) -> Result<Option<Signing>> {
    let Some(r) = c
        .opt(
            &format!(
                "SELECT {COLS}, secret, previous_secret, previous_until FROM webhooks WHERE id = $1"
            ),
            &[id.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let open = |sealed: String| -> Result<WebhookSecret> {
        let written = sealer
            .open(&sealed)
            .map_err(|e| StoreError::Db(format!("webhook secret: {e}")))?;
        Ok(WebhookSecret::parse(&written, "secret")?)
    };
    let mut secrets = vec![open(r.text("secret")?)?];
    if let (Some(prev), Some(until)) =
        (r.opt_text("previous_secret")?, r.opt_int("previous_until")?)
        && now.0 < until
    {
        secrets.push(open(prev)?);
    }
    Ok(Some(Signing {
        webhook: from_row(&r)?,
        secrets,
    }))
}

/// Turns a receiver off, saying why, unless it was changed since `seen` (an admin's new
/// address or "on again" is not undone by an attempt that started before).
pub async fn disable_unless_changed(
    c: &mut dyn Conn,
    id: i64,
    reason: &str,
    seen: Timestamp,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "UPDATE webhooks SET active = $1, disabled_reason = $2, updated_at = $3
         WHERE id = $4 AND updated_at = $5",
        &[
            false.into(),
            reason.into(),
            now.into(),
            id.into(),
            seen.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Turns a receiver off, saying why.
pub async fn disable(c: &mut dyn Conn, id: i64, reason: &str, now: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE webhooks SET active = $1, disabled_reason = $2, updated_at = $3 WHERE id = $4",
        &[false.into(), reason.into(), now.into(), id.into()],
    )
    .await?;
    Ok(())
}

/// Logs a delivery attempt.
pub async fn record(c: &mut dyn Conn, webhook_id: i64, d: &Delivery) -> Result<()> {
    c.execute(
        "INSERT INTO webhook_deliveries (webhook_id, msg_id, event_type, attempt, status_code,
             response, error, duration_ms, created_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = $1)",
        &[
            webhook_id.into(),
            d.msg_id.clone().into(),
            d.event_type.clone().into(),
            d.attempt.into(),
            d.status_code.into(),
            d.response.clone().into(),
            d.error.clone().into(),
            d.duration_ms.into(),
            d.created_at.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The newest delivery attempts of a receiver (at most `limit`).
pub async fn deliveries(c: &mut dyn Conn, webhook_id: i64, limit: i64) -> Result<Vec<Delivery>> {
    get(c, webhook_id).await?;
    c.query(
        "SELECT id, msg_id, event_type, attempt, status_code, response, error, duration_ms, created_at
         FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
        &[webhook_id.into(), limit.clamp(1, 200).into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Delivery {
            id: r.int("id")?,
            msg_id: r.text("msg_id")?,
            event_type: r.text("event_type")?,
            attempt: r.int("attempt")?,
            status_code: r.opt_int("status_code")?,
            response: r.text("response")?,
            error: r.opt_text("error")?,
            duration_ms: r.int("duration_ms")?,
            created_at: Timestamp(r.int("created_at")?),
        })
    })
    .collect()
}

/// What a webhook says about a ticket: its id, number, subject, status, priority, channel,
/// team and assignee now (`None`: gone).
pub async fn ticket_summary(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<serde_json::Value>> {
    let Some(r) = c
        .opt(
            "SELECT id, number, subject, status, priority, channel, team_id, assignee_id,
                    customer_id
             FROM tickets WHERE id = $1",
            &[ticket_id.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let priority =
        rapport_domain::Priority::from_rank(r.int("priority")?).map_or("normal", |p| p.as_str());
    Ok(Some(serde_json::json!({
        "id": r.int("id")?,
        "number": r.int("number")?,
        "subject": r.text("subject")?,
        "status": r.text("status")?,
        "priority": priority,
        "channel": r.text("channel")?,
        "team_id": r.opt_int("team_id")?,
        "assignee_id": r.opt_int("assignee_id")?,
        "customer_id": r.int("customer_id")?,
    })))
}
