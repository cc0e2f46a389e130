//! Mailboxes: the addresses mail is accepted for, and their IMAP fetching.

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_store::imap::{self, ImapSettings};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// `POST /api/v1/mailboxes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMailboxRequest {
    /// The address to receive for.
    pub address: String,
    /// Its display name.
    pub name: String,
    /// An existing mailbox to fetch from over IMAP (optional).
    pub imap: Option<ImapRequest>,
    /// Acknowledge each new ticket by email, with an honest expected answer time
    /// (default false).
    pub acknowledge: Option<bool>,
}

/// Where to fetch a mailbox's mail over IMAP.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapRequest {
    /// Server host.
    pub host: String,
    /// Port; 993 with TLS, 143 without by default.
    pub port: Option<u16>,
    /// Implicit TLS (default true).
    pub tls: Option<bool>,
    /// Login.
    pub user: String,
    /// Password; stored encrypted.
    pub password: String,
    /// Folder to fetch (default `INBOX`).
    pub folder: Option<String>,
    /// Folder to move fetched messages to; without one they are flagged seen.
    pub move_to: Option<String>,
    /// Seconds without a successful fetch before the mailbox raises an alert (default 900).
    pub stall_after_secs: Option<i64>,
}

impl ImapRequest {
    fn into_settings(self, sealer: &rapport_store::secrets::Sealer) -> ApiResult<ImapSettings> {
        if self.password.is_empty() {
            return Err(ApiError::field("imap.password", "must not be empty"));
        }
        let tls = self.tls.unwrap_or(true);
        Ok(ImapSettings {
            host: self.host,
            port: self.port.unwrap_or(if tls { 993 } else { 143 }),
            tls,
            user: self.user,
            sealed_password: sealer.seal(&self.password),
            folder: self.folder.unwrap_or_else(|| "INBOX".into()),
            move_to: self.move_to.filter(|f| !f.trim().is_empty()),
            stall_secs: self.stall_after_secs.unwrap_or(900),
        })
    }
}

/// Where a mailbox's fetching stands, for the workspace alert, the admin page and the
/// metrics.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FetchHealth)]
pub struct FetchHealthView {
    /// The mailbox id.
    pub mailbox_id: i64,
    /// Its address.
    pub address: String,
    /// IMAP host, port, user and folder (never the password).
    pub host: String,
    /// IMAP port.
    pub port: i64,
    /// Implicit TLS.
    pub tls: bool,
    /// IMAP login.
    pub user: String,
    /// Folder fetched.
    pub folder: String,
    /// Folder fetched messages are moved to, if any.
    pub move_to: Option<String>,
    /// Seconds without a successful fetch after which the mailbox is stalled.
    pub stall_after_secs: i64,
    /// Last successful fetch (µs since the epoch).
    pub last_fetch_at: Option<i64>,
    /// Seconds since the last successful fetch (or since IMAP was set up).
    pub silent_for_secs: i64,
    /// The last error, until a fetch works again.
    pub last_error: Option<String>,
    /// True when the mailbox has not fetched for longer than allowed.
    pub stalled: bool,
    /// Messages set aside (too large or refused), with the newest reason.
    pub set_aside: i64,
    /// Why the newest one was set aside.
    pub set_aside_reason: Option<String>,
}

impl From<imap::FetchHealth> for FetchHealthView {
    fn from(h: imap::FetchHealth) -> Self {
        Self {
            mailbox_id: h.mailbox_id,
            address: h.address,
            host: h.host,
            port: h.port,
            tls: h.tls,
            user: h.user,
            folder: h.folder,
            move_to: h.move_to,
            stall_after_secs: h.stall_after_secs,
            last_fetch_at: h.last_fetch_at,
            silent_for_secs: h.silent_for_secs,
            last_error: h.last_error,
            stalled: h.stalled,
            set_aside: h.set_aside,
            set_aside_reason: h.set_aside_reason,
        }
    }
}

/// A mailbox, with how its IMAP fetching is doing when it has IMAP settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailboxView {
    /// Database id.
    pub id: i64,
    /// The address.
    pub address: String,
    /// The display name.
    pub name: String,
    /// IMAP settings (never the password) and fetching health.
    pub imap: Option<FetchHealthView>,
    /// Whether new tickets get an acknowledgement.
    pub acknowledge: bool,
}

async fn mailbox_views(st: &AppState) -> ApiResult<Vec<MailboxView>> {
    let now = st.now();
    let (boxes, health) = st
        .db
        .read(op!(c => {
            Ok((
                rapport_store::mail::mailboxes(c).await?,
                rapport_store::imap::health(c, now).await?,
            ))
        }))
        .await?;
    Ok(boxes
        .into_iter()
        .map(|m| MailboxView {
            acknowledge: m.acknowledge,
            imap: health
                .iter()
                .find(|h| h.mailbox_id == m.id)
                .cloned()
                .map(Into::into),
            id: m.id,
            address: m.address,
            name: m.name,
        })
        .collect())
}

/// Adds a mailbox the SMTP listener accepts mail for and, with `imap`, fetches mail
/// from (admins).
#[utoipa::path(post, path = "/api/v1/mailboxes", tag = "ops",
    request_body = CreateMailboxRequest,
    responses((status = 201, body = MailboxView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_mailbox(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    crate::extract::JsonBody(req): crate::extract::JsonBody<CreateMailboxRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<MailboxView>)> {
    require(&viewer, rapport_domain::Permission::ManageUsers)?;
    let address = rapport_domain::EmailAddress::parse(&req.address)
        .map_err(|e| ApiError::field("address", e.message))?;
    let imap = req.imap.map(|i| i.into_settings(&st.sealer)).transpose()?;
    let now = st.now();
    let m = st
        .db
        .write(op!(c => {
            let m = rapport_store::mail::create_mailbox(c, &address, &req.name, now).await?;
            if let Some(imap) = &imap {
                rapport_store::imap::set_settings(c, m.id, Some(imap), now).await?;
            }
            if req.acknowledge == Some(true) {
                rapport_store::notify::set_acknowledge(c, m.id, true).await?;
            }
            Ok(m)
        }))
        .await?;
    let view = mailbox_views(&st)
        .await?
        .into_iter()
        .find(|v| v.id == m.id)
        .ok_or(ApiError::not_found("mailbox"))?;
    Ok((axum::http::StatusCode::CREATED, Json(view)))
}

/// The mailboxes, with their IMAP fetching health (supervisors and admins).
#[utoipa::path(get, path = "/api/v1/mailboxes", tag = "ops",
    responses((status = 200, body = Vec<MailboxView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_mailboxes(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<Vec<MailboxView>>> {
    require(&viewer, Permission::ViewJobs)?;
    Ok(Json(mailbox_views(&st).await?))
}

/// Changes to a mailbox; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchMailboxRequest {
    /// A new display name.
    pub name: Option<String>,
    /// Acknowledge new tickets or not.
    pub acknowledge: Option<bool>,
    /// New IMAP settings (fetching starts over from the folder's current state, and
    /// Message-IDs already received are recognised), or `null` to stop fetching.
    #[serde(default, deserialize_with = "crate::api::tickets::double")]
    #[schema(value_type = Option<ImapRequest>)]
    pub imap: Option<Option<ImapRequest>>,
}

/// Changes a mailbox: its name, acknowledgements, IMAP settings (admins).
#[utoipa::path(patch, path = "/api/v1/mailboxes/{id}", tag = "ops",
    params(("id" = i64, Path, description = "Mailbox id")),
    request_body = PatchMailboxRequest,
    responses((status = 200, body = MailboxView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch_mailbox(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    crate::extract::ApiPath(id): crate::extract::ApiPath<i64>,
    crate::extract::JsonBody(req): crate::extract::JsonBody<PatchMailboxRequest>,
) -> ApiResult<Json<MailboxView>> {
    require(&viewer, rapport_domain::Permission::ManageUsers)?;
    let imap = match req.imap {
        Some(Some(i)) => Some(Some(i.into_settings(&st.sealer)?)),
        Some(None) => Some(None),
        None => None,
    };
    let now = st.now();
    st.db
        .write(op!(c => {
            if !rapport_store::mail::mailboxes(c)
                .await?
                .iter()
                .any(|m| m.id == id)
            {
                return Err(rapport_store::StoreError::NotFound("mailbox"));
            }
            if let Some(name) = &req.name {
                rapport_store::mail::rename_mailbox(c, id, name).await?;
            }
            if let Some(on) = req.acknowledge {
                rapport_store::notify::set_acknowledge(c, id, on).await?;
            }
            if let Some(imap) = &imap {
                rapport_store::imap::set_settings(c, id, imap.as_ref(), now).await?;
            }
            Ok(())
        }))
        .await?;
    let view = mailbox_views(&st)
        .await?
        .into_iter()
        .find(|v| v.id == id)
        .ok_or(ApiError::not_found("mailbox"))?;
    Ok(Json(view))
}
