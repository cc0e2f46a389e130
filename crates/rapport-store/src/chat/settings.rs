//! The chat's admin settings, shared by every node: the secret a site signs its
//! signed-in users' ids with (sealed at rest; Rapport must read it back to check a
//! signature, and never sends it anywhere) and the origins allowed to embed the widget.

use hmac::{Hmac, Mac};
use rapport_domain::chat::{AllowedOrigins, ExternalId};
use rapport_domain::{FieldError, Permission, Viewer};
use sha2::Sha256;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::secrets::Sealer;

const SECRET_KEY: &str = "chat.identity_secret";
const ORIGINS_KEY: &str = "chat.allowed_origins";
const PREVIEW_KEY: &str = "chat.typing_preview";
const BOT_KEY: &str = "chat.bot_enabled";

/// The chat settings as an admin sees them (the secret itself is never read out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatSettings {
    /// Whether a verified-identity secret is set.
    pub identity_secret_set: bool,
    /// Origins allowed to embed the widget (empty: any).
    pub allowed_origins: AllowedOrigins,
    /// Whether agents see what the visitor types before it is sent (off by default).
    pub typing_preview: bool,
    /// Whether the assistant bot answers in chats nobody has taken over (default on).
    pub bot_enabled: bool,
}

async fn get_value(c: &mut dyn Conn, key: &str) -> Result<Option<String>> {
    c.opt("SELECT value FROM settings WHERE key = $1", &[key.into()])
        .await?
        .map(|r| r.text("value"))
        .transpose()
}

async fn put_value(c: &mut dyn Conn, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) => {
            c.execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[key.into(), v.into()],
            )
            .await?;
        }
        None => {
            c.execute("DELETE FROM settings WHERE key = $1", &[key.into()])
                .await?;
        }
    }
    Ok(())
}

/// The origins allowed to embed the widget (empty: any).
pub async fn allowed_origins(c: &mut dyn Conn) -> Result<AllowedOrigins> {
    let Some(raw) = get_value(c, ORIGINS_KEY).await? else {
        return Ok(AllowedOrigins::default());
    };
    let list: Vec<String> = serde_json::from_str(&raw)?;
    Ok(AllowedOrigins::parse(&list)?)
}

/// Whether the typing preview is on (agents see the visitor's unsent text).
pub async fn typing_preview(c: &mut dyn Conn) -> Result<bool> {
    Ok(get_value(c, PREVIEW_KEY).await?.as_deref() == Some("on"))
}

/// Whether the assistant bot answers in chats (default: yes).
pub async fn bot_enabled(c: &mut dyn Conn) -> Result<bool> {
    Ok(get_value(c, BOT_KEY).await?.as_deref() != Some("false"))
}

/// The settings (admins only).
pub async fn get(c: &mut dyn Conn, viewer: &Viewer) -> Result<ChatSettings> {
    if !viewer.can(Permission::ManageChat) {
        return Err(StoreError::Forbidden("only admins manage the chat"));
    }
    Ok(ChatSettings {
        identity_secret_set: get_value(c, SECRET_KEY).await?.is_some(),
        allowed_origins: allowed_origins(c).await?,
        typing_preview: typing_preview(c).await?,
        bot_enabled: bot_enabled(c).await?,
    })
}

/// A change to the settings; `None` leaves a setting alone.
#[derive(Debug, Clone, Default)]
pub struct SettingsChange {
    /// The new identity secret; `Some(None)` removes it (verified identities are then
    /// refused).
    pub identity_secret: Option<Option<String>>,
    /// The new list of origins.
    pub allowed_origins: Option<AllowedOrigins>,
    /// Turns the typing preview on or off.
    pub typing_preview: Option<bool>,
    /// Turn the assistant bot on or off.
    pub bot_enabled: Option<bool>,
}

/// Changes the settings (admins only); the secret is sealed with `sealer`.
pub async fn set(
    c: &mut dyn Conn,
    viewer: &Viewer,
    sealer: &Sealer,
    change: SettingsChange,
) -> Result<ChatSettings> {
    if !viewer.can(Permission::ManageChat) {
        return Err(StoreError::Forbidden("only admins manage the chat"));
    }
    if let Some(secret) = change.identity_secret {
        if let Some(s) = &secret
            && (s.len() < 32 || s.len() > 256)
        {
            return Err(FieldError::new("identity_secret", "must be 32 to 256 characters").into());
        }
        let sealed = secret.map(|s| sealer.seal(&s));
        put_value(c, SECRET_KEY, sealed.as_deref()).await?;
    }
    if let Some(origins) = change.allowed_origins {
        let json = serde_json::to_string(origins.as_slice())?;
        put_value(c, ORIGINS_KEY, Some(&json)).await?;
    }
    if let Some(on) = change.typing_preview {
        put_value(c, PREVIEW_KEY, on.then_some("on")).await?;
        if !on {
            // Turned off: forget what was kept.
            c.execute(
                "UPDATE chat_conversations SET visitor_draft = NULL WHERE visitor_draft IS NOT NULL",
                &[],
            )
            .await?;
        }
    }
    if let Some(on) = change.bot_enabled {
        put_value(c, BOT_KEY, Some(if on { "true" } else { "false" })).await?;
    }
    get(c, viewer).await
}

/// Whether `signature` (hex) is the HMAC-SHA256 of the site user's id under the identity
/// secret. Refused (an error naming `identity.signature`) when it is not, or when no
/// secret is set. The comparison takes the same time whatever the signature.
pub async fn verify_identity(
    c: &mut dyn Conn,
    sealer: &Sealer,
    id: &ExternalId,
    signature: &str,
) -> Result<()> {
    let bad = || FieldError::new("identity.signature", "does not match the customer id");
    let Some(sealed) = get_value(c, SECRET_KEY).await? else {
        return Err(FieldError::new(
            "identity",
            "verified identities are not set up on this help desk",
        )
        .into());
    };
    let secret = sealer.open(&sealed).map_err(StoreError::Db)?;
    let sig = hex::decode(signature.trim()).map_err(|_| bad())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| StoreError::Db(e.to_string()))?;
    mac.update(id.as_str().as_bytes());
    mac.verify_slice(&sig).map_err(|_| bad())?;
    Ok(())
}
