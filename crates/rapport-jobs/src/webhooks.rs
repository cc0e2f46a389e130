//! Outbound webhooks. The `webhooks.fanout` subscriber turns each ticket event a receiver
//! subscribed to into one `webhook.deliver` job per receiver, with the body built then (so
//! every attempt sends the same bytes under the same `webhook-id`). The job posts it signed
//! the Standard Webhooks way — `webhook-id`, `webhook-timestamp` and `webhook-signature:
//! v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one signature per secret that signs
//! now (two during a rotation) — and logs every attempt. A 2xx is delivered; `410 Gone`
//! turns the receiver off at once; anything else is retried by the job queue (doubling from
//! 2 s to an hour, then hourly: about three days), after which the receiver is turned off.
//! Requests never go to loopback, private or link-local addresses — checked on the
//! address each name resolves to (the connection uses exactly those addresses) and on a
//! literal IP — unless the server was started with `RAPPORT_WEBHOOK_ALLOW_PRIVATE=true` or
//! an admin allowed it (`PUT /api/v1/webhooks/settings`, the webhooks admin page).
//! Redirects are not followed (a 3xx is a failed attempt) and no proxy is used.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures::future::BoxFuture;
use hmac::{Hmac, Mac};
use rapport_domain::net::is_public;
use rapport_domain::webhook::{WebhookEvent, WebhookSecret};
use rapport_domain::{Clock, Timestamp};
use rapport_store::jobs::{self, Job, NewJob};
use rapport_store::secrets::Sealer;
use rapport_store::stream::StreamEvent;
use rapport_store::webhooks::{self, Delivery};
use rapport_store::{Conn, Db, StoreError, op};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::Handler;
use crate::subscribers::Subscriber;

/// The subscriber's durable name.
pub const FANOUT: &str = "webhooks.fanout";

/// The job kind of one delivery.
pub const DELIVER: &str = "webhook.deliver";

/// Attempts before a receiver counts as failing for good: doubling waits up to an hour,
/// then hourly, about three days in all.
pub const MAX_ATTEMPTS: i64 = 84;

/// The longest a receiver may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// The longest a connection may take to open (a receiver that never answers holds a
/// worker for [`TIMEOUT`] at most, this part of it at the start).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How much of a receiver's answer is kept in the log.
pub const RESPONSE_KEPT: usize = 2_048;

/// A delivery job's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliverPayload {
    /// The receiver.
    pub webhook_id: i64,
    /// `webhook-id`: the same for every attempt.
    pub msg_id: String,
    /// The event's name.
    pub event_type: String,
    /// The exact body to post.
    pub body: String,
}

/// Queues one delivery on the job queue (retried for about three days; its `msg_id` is
/// the idempotency key, so it is queued once).
pub async fn enqueue(
    c: &mut dyn Conn,
    payload: &DeliverPayload,
    now: Timestamp,
) -> Result<(), StoreError> {
    jobs::enqueue(
        c,
        NewJob {
            kind: DELIVER.to_owned(),
            payload: serde_json::to_value(payload)?,
            run_at: now,
            max_attempts: MAX_ATTEMPTS,
            idempotency_key: Some(format!("webhook:{}", payload.msg_id)),
        },
        now,
    )
    .await?;
    Ok(())
}

/// Queues deliveries for the events receivers subscribed to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fanout;

impl Subscriber for Fanout {
    fn name(&self) -> &'static str {
        FANOUT
    }

    fn wants(&self, event: &StreamEvent) -> bool {
        WebhookEvent::of(event.kind).is_some_and(|k| event.ticket_id.is_some() || !k.needs_ticket())
    }

    /// The receivers are read once per batch (most help desks have none or a few).
    fn handle_batch<'a>(
        &'a self,
        c: &'a mut dyn Conn,
        events: &'a [StreamEvent],
        now: Timestamp,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let hooks = webhooks::active(c).await?;
            if hooks.is_empty() {
                return Ok(());
            }
            for event in events {
                fan_out(c, &hooks, event, now).await?;
            }
            Ok(())
        })
    }
}

/// Queues one event's deliveries to the receivers (of `hooks`) that asked for it.
async fn fan_out(
    c: &mut dyn Conn,
    hooks: &[webhooks::Webhook],
    event: &StreamEvent,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(kind) = WebhookEvent::of(event.kind) else {
        return Ok(());
    };
    if kind.needs_ticket() && event.ticket_id.is_none() {
        return Ok(());
    }
    let receivers: Vec<i64> = hooks
        .iter()
        .filter(|w| w.events.contains(&kind))
        .map(|w| w.id)
        .collect();
    if receivers.is_empty() {
        return Ok(());
    }
    let ticket = match event.ticket_id {
        Some(t) => webhooks::ticket_summary(c, t).await?,
        None => None,
    };
    let actor = match event.actor {
        rapport_store::events::Actor::User(id) => serde_json::json!({"kind": "agent", "id": id}),
        rapport_store::events::Actor::Customer(id) => {
            serde_json::json!({"kind": "customer", "id": id})
        }
        rapport_store::events::Actor::System => serde_json::json!({"kind": "system"}),
        rapport_store::events::Actor::Bot => serde_json::json!({"kind": "bot"}),
    };
    let body = serde_json::json!({
        "type": kind.as_str(),
        "timestamp": event.created_at,
        "data": {
            "ticket": ticket,
            "actor": actor,
            "details": event.data,
        }
    })
    .to_string();
    let event_id = event.position.id;
    for webhook_id in receivers {
        let payload = DeliverPayload {
            webhook_id,
            msg_id: format!("msg_{event_id}_{webhook_id}"),
            event_type: kind.as_str().to_owned(),
            body: body.clone(),
        };
        enqueue(c, &payload, now).await?;
    }
    Ok(())
}

/// The `webhook-signature` header: one `v1,<base64>` per secret, space-separated.
pub fn signature(secrets: &[WebhookSecret], msg_id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .filter_map(|s| {
            // HMAC takes a key of any length: this never skips a secret.
            let mut mac = Hmac::<Sha256>::new_from_slice(s.key()).ok()?;
            mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
            let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
            Some(format!("v1,{sig}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The Stripe-style `rapport-signature` header: `t=<timestamp>`, then one
/// `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">` per secret, keyed with the secret's
/// whole written form (`whsec_…`), as Stripe's receivers check it.
pub fn stripe_signature(secrets: &[WebhookSecret], timestamp: i64, body: &str) -> String {
    let mut out = format!("t={timestamp}");
    for s in secrets {
        // HMAC takes a key of any length: this never skips a secret.
        if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(s.written().as_bytes()) {
            mac.update(format!("{timestamp}.{body}").as_bytes());
            out.push_str(",v1=");
            out.push_str(&hex::encode(mac.finalize().into_bytes()));
        }
    }
    out
}

/// Resolves names for webhook requests, refusing any that resolves to an address that is
/// not public (unless allowed).
struct Guarded {
    allow_private: bool,
}

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if !allow && addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(format!(
                    "{} resolves to a private or local address; webhooks go to public addresses only",
                    name.as_str()
                )
                .into());
            }
            let it: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(it)
        })
    }
}

/// Whether a URL may be requested: http(s), and a literal IP host must be public (a
/// name's addresses are checked when it is resolved).
pub fn url_allowed(url: &reqwest::Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https addresses".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("no user name or password in the address".into());
    }
    match url.host() {
        None => Err("the address has no host".into()),
        Some(url::Host::Ipv4(ip)) if !allow_private && !is_public(ip.into()) => {
            Err("a private or local address; webhooks go to public addresses only".into())
        }
        Some(url::Host::Ipv6(ip)) if !allow_private && !is_public(ip.into()) => {
            Err("a private or local address; webhooks go to public addresses only".into())
        }
        _ => Ok(()),
    }
}

/// Posts deliveries.
pub struct Deliver {
    sealer: Sealer,
    clock: Arc<dyn Clock>,
    /// The client, or why it could not be built (every delivery then fails with that).
    client: Result<reqwest::Client, String>,
    /// The same without the address guard, for when private addresses are allowed.
    open_client: Result<reqwest::Client, String>,
    allow_private: bool,
}

impl Deliver {
    /// A deliverer signing with secrets opened by `sealer`.
    pub fn new(sealer: Sealer, clock: Arc<dyn Clock>, allow_private: bool) -> Self {
        // No redirects (a 3xx is a failed attempt, as Standard Webhooks advises: following
        // one would turn the POST into a GET or send the signed body elsewhere), no proxy
        // from the environment (a proxy would resolve the name itself, past the guard).
        let build = |allow_private: bool| {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .referer(false)
                .dns_resolver(Arc::new(Guarded { allow_private }))
                .user_agent("Rapport-Webhooks/1")
                .build()
                .map_err(|e| format!("the webhook HTTP client could not be built: {e}"))
        };
        Self {
            sealer,
            clock,
            client: build(allow_private),
            open_client: build(true),
            allow_private,
        }
    }

    async fn attempt(&self, db: &Db, job: &Job, p: &DeliverPayload) -> Result<(), String> {
        let now = self.clock.now();
        let sealer = self.sealer.clone();
        let id = p.webhook_id;
        // Private addresses: allowed by the server's setting, or by an admin's.
        let (signing, admin_allows) = db
            .read(op!(c => Ok((
                webhooks::signing(c, &sealer, id, now).await?,
                rapport_store::settings::webhooks_allow_private(c).await?,
            ))))
            .await
            .map_err(|e| e.to_string())?;
        let allow_private = self.allow_private || admin_allows;
        let Some(signing) = signing.filter(|s| s.webhook.active) else {
            return Ok(()); // deleted or turned off: nothing to send
        };
        let url = reqwest::Url::parse(&signing.webhook.url).map_err(|e| e.to_string())?;
        let timestamp = now.0.div_euclid(1_000_000);
        let mut delivery = Delivery {
            id: 0,
            msg_id: p.msg_id.clone(),
            event_type: p.event_type.clone(),
            attempt: job.attempts.max(1),
            status_code: None,
            response: String::new(),
            error: None,
            duration_ms: 0,
            created_at: now,
        };
        let outcome = match url_allowed(&url, allow_private) {
            Err(e) => Err(e),
            Ok(()) => {
                let client = if allow_private {
                    &self.open_client
                } else {
                    &self.client
                };
                let client = client.as_ref().map_err(Clone::clone)?;
                let mut req = client
                    .post(url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &p.msg_id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header(
                        "webhook-signature",
                        signature(&signing.secrets, &p.msg_id, timestamp, &p.body),
                    );
                if signing.webhook.stripe_header {
                    req = req.header(
                        "rapport-signature",
                        stripe_signature(&signing.secrets, timestamp, &p.body),
                    );
                }
                let sent = req.body(p.body.clone()).send().await;
                match sent {
                    // Without the URL: the error is kept on the job, which supervisors read.
                    Err(e) => Err(rapport_store::error::with_causes(&e.without_url())),
                    Ok(mut resp) => {
                        let status = resp.status().as_u16();
                        // The start of the answer only, however much the receiver sends.
                        let mut kept: Vec<u8> = Vec::new();
                        while kept.len() < RESPONSE_KEPT {
                            match resp.chunk().await {
                                Ok(Some(bytes)) => kept.extend_from_slice(&bytes),
                                _ => break,
                            }
                        }
                        kept.truncate(RESPONSE_KEPT);
                        delivery.status_code = Some(i64::from(status));
                        delivery.response = String::from_utf8_lossy(&kept).into_owned();
                        Ok(status)
                    }
                }
            }
        };
        delivery.duration_ms = (self.clock.now().0 - now.0).max(0) / 1_000;
        let result = match outcome {
            Ok(s) if (200..300).contains(&s) => Ok(None),
            Ok(410) => Ok(Some("the receiver answered 410 Gone")),
            Ok(s) => Err(format!("the receiver answered {s}")),
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            delivery.error = Some(e.clone());
        }
        let disable = result.as_ref().ok().copied().flatten();
        let seen = signing.webhook.updated_at;
        db.write(op!(c => {
            webhooks::record(c, id, &delivery).await?;
            if let Some(reason) = disable {
                webhooks::disable_unless_changed(c, id, reason, seen, now).await?;
            }
            Ok(())
        }))
        .await
        .map_err(|e| e.to_string())?;
        result.map(|_| ())
    }
}

impl Handler for Deliver {
    fn run<'a>(&'a self, db: &'a Db, job: &'a Job) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let p: DeliverPayload = crate::payload(job)?;
            self.attempt(db, job, &p).await
        })
    }

    fn gave_up<'a>(&'a self, db: &'a Db, job: &'a Job, error: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Ok(p) = crate::payload::<DeliverPayload>(job) else {
                return;
            };
            let now = self.clock.now();
            let reason = format!("turned off after {} failed attempts: {error}", job.attempts);
            let id = p.webhook_id;
            if let Err(e) = db
                .write(op!(c => webhooks::disable(c, id, &reason, now).await))
                .await
            {
                tracing::warn!(error = %e, webhook = id, "could not turn off a failing webhook");
            }
        })
    }
}
