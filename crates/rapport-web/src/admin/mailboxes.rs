//! Mailboxes on the admin page: adding one, editing it (name, acknowledgements, IMAP
//! fetching), and how each one's fetching is doing.

use axum::extract::{Path, State};
use axum::response::Response;
use rapport_domain::{EmailAddress, Permission};
use rapport_http::AppState;
use serde::Deserialize;

use super::done;
use crate::confirm::ReauthForm;
use crate::page::{require, store_error, write_then};
use crate::sessions::Me;
use rapport_store::op;

/// A mailbox as the admin page lists it, with how its fetching is doing.
pub(crate) struct MailboxRow {
    pub(crate) id: i64,
    pub(crate) address: String,
    pub(crate) name: String,
    /// "IMAP user@host:port/folder", or empty for SMTP only.
    pub(crate) imap: String,
    /// "fetched 2 minutes ago", the last error, set-aside messages.
    pub(crate) status: String,
    pub(crate) stalled: bool,
    pub(crate) acknowledge: bool,
    /// IMAP over TLS (what the edit form's box starts as).
    pub(crate) tls: bool,
}

pub(crate) fn mailbox_row(
    m: rapport_store::mail::Mailbox,
    health: &[rapport_store::imap::FetchHealth],
) -> MailboxRow {
    let acknowledge = m.acknowledge;
    let Some(h) = health.iter().find(|h| h.mailbox_id == m.id) else {
        return MailboxRow {
            id: m.id,
            address: m.address,
            name: m.name,
            imap: String::new(),
            status: String::new(),
            stalled: false,
            acknowledge,
            tls: true,
        };
    };
    let mut status = match h.last_fetch_at {
        Some(_) => format!("last fetched {} s ago", h.silent_for_secs),
        None => "not fetched yet".to_owned(),
    };
    if let Some(e) = &h.last_error {
        status.push_str(&format!("; failing: {e}"));
    }
    if h.set_aside > 0 {
        status.push_str(&format!(
            "; {} message(s) set aside, newest: {}",
            h.set_aside,
            h.set_aside_reason.as_deref().unwrap_or("")
        ));
    }
    MailboxRow {
        imap: format!(
            "IMAP {}@{}:{}/{}{}",
            h.user,
            h.host,
            h.port,
            h.folder,
            if h.tls { " (TLS)" } else { "" }
        ),
        id: m.id,
        address: m.address,
        name: m.name,
        status,
        stalled: h.stalled,
        acknowledge,
        tls: h.tls,
    }
}

/// The add-mailbox form.
#[derive(Deserialize)]
pub struct MailboxForm {
    address: String,
    name: String,
    #[serde(default)]
    acknowledge: Option<String>,
    #[serde(flatten)]
    imap: ImapFields,
}

/// Adds a mailbox (admins only).
pub async fn add_mailbox(
    State(st): State<AppState>,
    me: Me,
    form: ReauthForm<MailboxForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageUsers) {
        return r;
    }
    // Setting mailbox credentials (or where they go) takes the password again.
    if form.fields.imap.touches_credentials()
        && let Err(r) = form.reauthenticate(&st).await
    {
        return r;
    }
    let f = form.fields;
    let address = match EmailAddress::parse(&f.address) {
        Ok(a) => a,
        Err(e) => return store_error(e.into()),
    };
    let imap = match f.imap.settings(None, &st.sealer) {
        Ok(i) => i,
        Err(e) => return store_error(e.into()),
    };
    let now = st.now();
    write_then(
        &st,
        op!(c => {
            let m = rapport_store::mail::create_mailbox(c, &address, &f.name, now).await?;
            if let Some(imap) = &imap {
                rapport_store::imap::set_settings(c, m.id, Some(imap), now).await?;
            }
            if f.acknowledge.is_some() {
                rapport_store::notify::set_acknowledge(c, m.id, true).await?;
            }
            Ok(m)
        }),
        |m| done(&format!("Added mailbox {}", m.address)),
    )
    .await
}

/// The edit-mailbox form: the same fields as adding one, without the address, plus
/// "stop fetching".
#[derive(Deserialize)]
pub struct EditMailboxForm {
    name: String,
    #[serde(default)]
    acknowledge: Option<String>,
    #[serde(default)]
    imap_off: Option<String>,
    #[serde(flatten)]
    imap: ImapFields,
}

/// The IMAP fields of the mailbox forms.
#[derive(Deserialize, Default)]
pub struct ImapFields {
    #[serde(default)]
    imap_host: String,
    #[serde(default)]
    imap_port: String,
    #[serde(default)]
    imap_tls: Option<String>,
    #[serde(default)]
    imap_user: String,
    #[serde(default)]
    imap_password: String,
    #[serde(default)]
    imap_folder: String,
    #[serde(default)]
    imap_move_to: String,
}

impl ImapFields {
    /// Whether the form sets where Rapport sends the mailbox's password, or the password
    /// itself: a new host, port, user or password (each asks for the admin's password
    /// again, or a changed host could collect the stored password).
    fn touches_credentials(&self) -> bool {
        [
            &self.imap_host,
            &self.imap_port,
            &self.imap_user,
            &self.imap_password,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }

    /// The IMAP settings the form asks for, or none without a host. When editing, blank
    /// fields keep what `existing` has — so a new password alone rotates it.
    fn settings(
        &self,
        existing: Option<&rapport_store::imap::ImapSettings>,
        sealer: &rapport_store::secrets::Sealer,
    ) -> Result<Option<rapport_store::imap::ImapSettings>, rapport_domain::FieldError> {
        use rapport_domain::FieldError;
        let typed = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(host) = typed(&self.imap_host).or_else(|| existing.map(|e| e.host.clone())) else {
            return Ok(None);
        };
        let tls = self.imap_tls.is_some();
        let port = match typed(&self.imap_port) {
            Some(p) => p
                .parse()
                .map_err(|_| FieldError::new("imap.port", "must be 1 to 65535"))?,
            None => existing.map_or(if tls { 993 } else { 143 }, |e| e.port),
        };
        let sealed_password = match (self.imap_password.is_empty(), existing) {
            (false, _) => sealer.seal(&self.imap_password),
            (true, Some(e)) => e.sealed_password.clone(),
            (true, None) => return Err(FieldError::new("imap.password", "must not be empty")),
        };
        Ok(Some(rapport_store::imap::ImapSettings {
            host,
            port,
            tls,
            user: typed(&self.imap_user)
                .or_else(|| existing.map(|e| e.user.clone()))
                .unwrap_or_default(),
            sealed_password,
            folder: typed(&self.imap_folder)
                .or_else(|| existing.map(|e| e.folder.clone()))
                .unwrap_or_else(|| "INBOX".into()),
            move_to: typed(&self.imap_move_to).or_else(|| existing.and_then(|e| e.move_to.clone())),
            stall_secs: existing.map_or(900, |e| e.stall_secs),
        }))
    }
}

/// Changes a mailbox: name, acknowledgements, IMAP settings (left blank: unchanged), or
/// stops fetching (admins only).
pub async fn edit_mailbox(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    form: ReauthForm<EditMailboxForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageUsers) {
        return r;
    }
    let existing = match st
        .db
        .read(op!(c => rapport_store::imap::mailbox(c, id).await))
        .await
    {
        Ok(e) => e.map(|m| m.settings),
        Err(e) => return store_error(e),
    };
    let imap = match form.fields.imap.settings(existing.as_ref(), &st.sealer) {
        Ok(i) => i,
        Err(e) => return store_error(e.into()),
    };
    // Setting mailbox credentials, where they go, or sending the stored password without
    // TLS takes the password again.
    let drops_tls = existing.as_ref().is_some_and(|e| e.tls)
        && imap.as_ref().is_some_and(|i| !i.tls)
        && form.fields.imap_off.is_none();
    if (form.fields.imap.touches_credentials() || drops_tls)
        && let Err(r) = form.reauthenticate(&st).await
    {
        return r;
    }
    let f = form.fields;
    let now = st.now();
    let stop = f.imap_off.is_some();
    let ack = f.acknowledge.is_some();
    write_then(
        &st,
        op!(c => {
            rapport_store::mail::rename_mailbox(c, id, &f.name).await?;
            rapport_store::notify::set_acknowledge(c, id, ack).await?;
            if stop {
                rapport_store::imap::set_settings(c, id, None, now).await?;
            } else if let Some(imap) = &imap {
                rapport_store::imap::set_settings(c, id, Some(imap), now).await?;
            }
            Ok(f.name)
        }),
        |name| done(&format!("Saved mailbox {name}")),
    )
    .await
}
