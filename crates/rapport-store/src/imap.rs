//! Storage of IMAP fetching: each mailbox's server settings (the password sealed by the
//! caller), its position (UIDVALIDITY and the last UID taken), its health, and the
//! messages set aside. The position only moves in the transaction that stores a message,
//! and only from the value the fetcher read (compare-and-set), so a crash between fetch
//! and commit neither loses nor doubles a message, and two nodes polling the same mailbox
//! never both take one.

use rapport_domain::{FieldError, Timestamp};
use serde::Serialize;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::mail::{self, Stored};

/// How to reach a mailbox's IMAP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapSettings {
    /// Server host.
    pub host: String,
    /// Server port (993 with TLS, 143 without, by default).
    pub port: u16,
    /// Implicit TLS.
    pub tls: bool,
    /// Login.
    pub user: String,
    /// The password, sealed ([`crate::secrets::Sealer`]).
    pub sealed_password: String,
    /// The folder to fetch from (`INBOX`).
    pub folder: String,
    /// A folder to move fetched messages to; without one they are flagged seen.
    pub move_to: Option<String>,
    /// After how long without a successful fetch the mailbox counts as stalled.
    pub stall_secs: i64,
}

impl ImapSettings {
    /// Checks what an admin typed, naming the field at fault.
    pub fn check(&self) -> std::result::Result<(), FieldError> {
        let bad_text = |s: &str, max: usize| s.trim().is_empty() || s.len() > max;
        if bad_text(&self.host, 253) || self.host.contains(['/', ' ', '@']) {
            return Err(FieldError::new("imap.host", "must be a host name"));
        }
        if self.port == 0 {
            return Err(FieldError::new("imap.port", "must be 1 to 65535"));
        }
        if bad_text(&self.user, 320) {
            return Err(FieldError::new("imap.user", "must be 1 to 320 characters"));
        }
        if bad_text(&self.folder, 200) {
            return Err(FieldError::new(
                "imap.folder",
                "must be 1 to 200 characters",
            ));
        }
        if self.move_to.as_deref().is_some_and(|f| bad_text(f, 200)) {
            return Err(FieldError::new(
                "imap.move_to",
                "must be 1 to 200 characters",
            ));
        }
        if !(60..=7 * 86_400).contains(&self.stall_secs) {
            return Err(FieldError::new(
                "imap.stall_after_secs",
                "must be 60 to 604800 seconds",
            ));
        }
        Ok(())
    }
}

/// Sets (or, with `None`, removes) a mailbox's IMAP settings. Pointing it at another
/// server, account or folder starts from scratch (position unknown, no error); changing
/// only the password, TLS, the move folder or the stall time keeps the position, so a
/// rotated password does not fetch the folder again.
pub async fn set_settings(
    c: &mut dyn Conn,
    mailbox_id: i64,
    s: Option<&ImapSettings>,
    now: Timestamp,
) -> Result<()> {
    if let Some(s) = s {
        s.check()?;
    }
    let current = c
        .opt(
            "SELECT imap_host, imap_port, imap_user, imap_folder FROM mailboxes WHERE id = $1",
            &[mailbox_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("mailbox"))?;
    let same_place = match s {
        Some(s) => {
            current.opt_text("imap_host")?.as_deref() == Some(s.host.trim())
                && current.opt_int("imap_port")? == Some(i64::from(s.port))
                && current.opt_text("imap_user")?.as_deref() == Some(s.user.as_str())
                && current.opt_text("imap_folder")?.as_deref() == Some(s.folder.as_str())
        }
        None => false,
    };
    c.execute(
        "UPDATE mailboxes SET imap_host = $1, imap_port = $2, imap_tls = $3, imap_user = $4,
                imap_password = $5, imap_folder = $6, imap_move_to = $7, imap_stall_secs = $8
         WHERE id = $9",
        &[
            s.map(|s| s.host.trim().to_owned()).into(),
            s.map(|s| i64::from(s.port)).into(),
            i64::from(s.is_none_or(|s| s.tls)).into(),
            s.map(|s| s.user.clone()).into(),
            s.map(|s| s.sealed_password.clone()).into(),
            s.map(|s| s.folder.clone()).into(),
            s.and_then(|s| s.move_to.clone()).into(),
            s.map_or(900, |s| s.stall_secs).into(),
            mailbox_id.into(),
        ],
    )
    .await?;
    if !same_place {
        c.execute(
            "UPDATE mailboxes SET imap_uidvalidity = NULL, imap_last_uid = 0, imap_since = $1,
                    imap_last_fetch_at = NULL, imap_last_error = NULL
             WHERE id = $2",
            &[s.map(|_| now).into(), mailbox_id.into()],
        )
        .await?;
    }
    Ok(())
}

/// A mailbox to fetch, with where fetching stands.
#[derive(Debug, Clone)]
pub struct ImapMailbox {
    /// The mailbox id.
    pub id: i64,
    /// Its address.
    pub address: String,
    /// Server settings.
    pub settings: ImapSettings,
    /// The UIDVALIDITY the position belongs to (none before the first fetch).
    pub uidvalidity: Option<i64>,
    /// The last UID taken.
    pub last_uid: i64,
}

const IMAP_COLS: &str = "id, address, imap_host, imap_port, imap_tls, imap_user, imap_password, imap_folder, imap_move_to, imap_stall_secs, imap_uidvalidity, imap_last_uid";

fn imap_from(r: &crate::value::Row) -> Result<ImapMailbox> {
    Ok(ImapMailbox {
        id: r.int("id")?,
        address: r.text("address")?,
        settings: ImapSettings {
            host: r.text("imap_host")?,
            port: u16::try_from(r.int("imap_port")?).unwrap_or(993),
            tls: r.bool("imap_tls")?,
            user: r.text("imap_user")?,
            sealed_password: r.text("imap_password")?,
            folder: r.text("imap_folder")?,
            move_to: r.opt_text("imap_move_to")?,
            stall_secs: r.int("imap_stall_secs")?,
        },
        uidvalidity: r.opt_int("imap_uidvalidity")?,
        last_uid: r.int("imap_last_uid")?,
    })
}

/// Every mailbox with IMAP settings.
pub async fn mailboxes(c: &mut dyn Conn) -> Result<Vec<ImapMailbox>> {
    c.query(
        &format!("SELECT {IMAP_COLS} FROM mailboxes WHERE imap_host IS NOT NULL ORDER BY id"),
        &[],
    )
    .await?
    .iter()
    .map(imap_from)
    .collect()
}

/// One mailbox's IMAP state, if it has IMAP settings.
pub async fn mailbox(c: &mut dyn Conn, id: i64) -> Result<Option<ImapMailbox>> {
    c.opt(
        &format!("SELECT {IMAP_COLS} FROM mailboxes WHERE id = $1 AND imap_host IS NOT NULL"),
        &[id.into()],
    )
    .await?
    .as_ref()
    .map(imap_from)
    .transpose()
}

/// The server's folder has a new UIDVALIDITY (first fetch, or the folder was rebuilt):
/// start over from UID 0 — unless another fetcher already did, in which case its progress
/// stands. Returns the last UID taken under `uidvalidity`. Messages seen before are
/// recognised by their Message-ID.
pub async fn reset_position(c: &mut dyn Conn, id: i64, uidvalidity: i64) -> Result<i64> {
    c.execute(
        "UPDATE mailboxes SET imap_uidvalidity = $1, imap_last_uid = 0
         WHERE id = $2 AND (imap_uidvalidity IS NULL OR imap_uidvalidity <> $1)",
        &[uidvalidity.into(), id.into()],
    )
    .await?;
    c.one(
        "SELECT imap_last_uid FROM mailboxes WHERE id = $1",
        &[id.into()],
    )
    .await?
    .int("imap_last_uid")
}

/// Moves the position from `from_uid` to `uid`; fails with a conflict when someone else
/// moved it first (another node took the message), which rolls the transaction back.
async fn advance(
    c: &mut dyn Conn,
    id: i64,
    uidvalidity: i64,
    from_uid: i64,
    uid: i64,
) -> Result<()> {
    let n = c
        .execute(
            "UPDATE mailboxes SET imap_last_uid = $1
             WHERE id = $2 AND imap_uidvalidity = $3 AND imap_last_uid = $4",
            &[uid.into(), id.into(), uidvalidity.into(), from_uid.into()],
        )
        .await?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(
            "the mailbox position moved: another fetcher took this message".into(),
        ))
    }
}

/// Where a fetched message sits on the server: the folder's UIDVALIDITY, the position
/// the fetcher read, and the message's UID.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    /// The folder's UIDVALIDITY.
    pub uidvalidity: i64,
    /// The last UID taken, as the fetcher read it.
    pub from_uid: i64,
    /// This message's UID.
    pub uid: i64,
}

/// Stores a fetched message (with its Message-ID, for deduplication) and moves the
/// position past it, in one transaction.
pub async fn commit_fetched(
    c: &mut dyn Conn,
    mailbox_id: i64,
    at: Position,
    message_id: Option<&str>,
    raw: Vec<u8>,
    now: Timestamp,
) -> Result<Stored> {
    advance(c, mailbox_id, at.uidvalidity, at.from_uid, at.uid).await?;
    mail::store_inbound(c, mailbox_id, "", message_id, raw, now).await
}

/// Records a message fetching cannot take (too large, refused by the server) and moves
/// the position past it, so it never blocks the ones after it.
pub async fn set_aside(
    c: &mut dyn Conn,
    mailbox_id: i64,
    at: Position,
    size: i64,
    reason: &str,
    now: Timestamp,
) -> Result<()> {
    advance(c, mailbox_id, at.uidvalidity, at.from_uid, at.uid).await?;
    c.execute(
        "INSERT INTO mail_set_aside (mailbox_id, uidvalidity, uid, size, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            mailbox_id.into(),
            at.uidvalidity.into(),
            at.uid.into(),
            size.into(),
            reason.chars().take(500).collect::<String>().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Records a fetch that worked.
pub async fn fetch_succeeded(c: &mut dyn Conn, id: i64, now: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE mailboxes SET imap_last_fetch_at = $1, imap_last_error = NULL WHERE id = $2",
        &[now.into(), id.into()],
    )
    .await?;
    Ok(())
}

/// Records why a fetch failed (the server is down, the password is wrong…).
pub async fn fetch_failed(c: &mut dyn Conn, id: i64, error: &str) -> Result<()> {
    c.execute(
        "UPDATE mailboxes SET imap_last_error = $1 WHERE id = $2",
        &[
            error.chars().take(1_000).collect::<String>().into(),
            id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Where a mailbox's fetching stands, for the workspace alert, the admin page and the
/// metrics.
#[derive(Debug, Clone, Serialize)]
pub struct FetchHealth {
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

/// The fetching health of every IMAP mailbox.
pub async fn health(c: &mut dyn Conn, now: Timestamp) -> Result<Vec<FetchHealth>> {
    let rows = c
        .query(
            "SELECT m.id, m.address, m.imap_host, m.imap_port, m.imap_tls, m.imap_user, m.imap_folder,
                    m.imap_move_to, m.imap_stall_secs, m.imap_last_fetch_at, m.imap_since,
                    m.imap_last_error,
                    (SELECT COUNT(*) FROM mail_set_aside s WHERE s.mailbox_id = m.id) AS set_aside,
                    (SELECT s.reason FROM mail_set_aside s WHERE s.mailbox_id = m.id
                     ORDER BY s.id DESC LIMIT 1) AS set_aside_reason
             FROM mailboxes m WHERE m.imap_host IS NOT NULL ORDER BY m.address",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let stall = r.int("imap_stall_secs")?;
            let last = r.opt_int("imap_last_fetch_at")?;
            let since = last.or(r.opt_int("imap_since")?).unwrap_or(now.micros());
            let silent = (now.micros() - since).max(0) / 1_000_000;
            Ok(FetchHealth {
                mailbox_id: r.int("id")?,
                address: r.text("address")?,
                host: r.text("imap_host")?,
                port: r.int("imap_port")?,
                tls: r.bool("imap_tls")?,
                user: r.text("imap_user")?,
                folder: r.text("imap_folder")?,
                move_to: r.opt_text("imap_move_to")?,
                stall_after_secs: stall,
                last_fetch_at: last,
                silent_for_secs: silent,
                last_error: r.opt_text("imap_last_error")?,
                stalled: silent > stall,
                set_aside: r.int("set_aside")?,
                set_aside_reason: r.opt_text("set_aside_reason")?,
            })
        })
        .collect()
}
