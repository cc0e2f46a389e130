//! Server settings kept in the database and shared by every node: named secrets and keys
//! (the portal's link key, …) made on first use, and the help center's branding.

use rapport_domain::branding::{BrandColor, BrandName, LogoFormat};
use rapport_domain::{Permission, Timestamp, Viewer};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::secrets::random_hex;

/// A named server secret, made on first use and shared by every node.
pub async fn secret(c: &mut dyn Conn, key: &str) -> Result<String> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        &[key.into(), random_hex(32).into()],
    )
    .await?;
    c.one("SELECT value FROM settings WHERE key = $1", &[key.into()])
        .await?
        .text("value")
}

/// The help center's look as an admin set it (or the defaults: "Help center", Rapport's
/// blue, no logo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    /// The help desk's name.
    pub name: String,
    /// Its colour.
    pub color: BrandColor,
    /// The logo's format, when there is one (the bytes are read apart: [`logo`]).
    pub logo: Option<LogoFormat>,
    /// When it last changed (0 when never): the logo's URL carries it, so browsers may
    /// cache the logo for long.
    pub updated_at: Timestamp,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            name: "Help center".into(),
            color: BrandColor::DEFAULT,
            logo: None,
            updated_at: Timestamp(0),
        }
    }
}

/// What an admin changes.
#[derive(Debug, Clone)]
pub struct BrandingChange {
    /// The new name.
    pub name: BrandName,
    /// The new colour.
    pub color: BrandColor,
    /// A new logo (format, checked bytes), to replace the old one.
    pub logo: Option<(LogoFormat, Vec<u8>)>,
    /// Removes the logo (ignored when a new one is given).
    pub remove_logo: bool,
}

/// The help center's look (defaults when no admin set one).
pub async fn branding(c: &mut dyn Conn) -> Result<Branding> {
    let Some(r) = c
        .opt(
            "SELECT name, color, logo_type, updated_at FROM branding WHERE id = 1",
            &[],
        )
        .await?
    else {
        return Ok(Branding::default());
    };
    let color = r.text("color")?;
    Ok(Branding {
        name: r.text("name")?,
        color: BrandColor::parse(&color)
            .map_err(|_| StoreError::Db(format!("stored brand colour {color:?} is not #rrggbb")))?,
        logo: r
            .opt_text("logo_type")?
            .and_then(|t| LogoFormat::from_content_type(&t)),
        updated_at: Timestamp(r.int("updated_at")?),
    })
}

/// Sets the help center's look. Admins only.
pub async fn set_branding(
    c: &mut dyn Conn,
    who: &Viewer,
    change: BrandingChange,
    now: Timestamp,
) -> Result<Branding> {
    if !who.can(Permission::ManageBranding) {
        return Err(StoreError::Forbidden(
            "only admins change the help center's look",
        ));
    }
    c.execute(
        "INSERT INTO branding (id, name, color, updated_at) VALUES (1, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, color = excluded.color,
                                        updated_at = excluded.updated_at",
        &[
            change.name.as_str().into(),
            change.color.hex().into(),
            now.into(),
        ],
    )
    .await?;
    if let Some((format, data)) = change.logo {
        c.execute(
            "UPDATE branding SET logo_type = $1, logo = $2 WHERE id = 1",
            &[format.content_type().into(), data.into()],
        )
        .await?;
    } else if change.remove_logo {
        c.execute(
            "UPDATE branding SET logo_type = NULL, logo = NULL WHERE id = 1",
            &[],
        )
        .await?;
    }
    branding(c).await
}

/// The logo's format and bytes, if there is one.
pub async fn logo(c: &mut dyn Conn) -> Result<Option<(LogoFormat, Vec<u8>)>> {
    let Some(r) = c
        .opt(
            "SELECT logo_type, logo FROM branding WHERE id = 1 AND logo IS NOT NULL",
            &[],
        )
        .await?
    else {
        return Ok(None);
    };
    let Some(format) = r
        .opt_text("logo_type")?
        .and_then(|t| LogoFormat::from_content_type(&t))
    else {
        return Ok(None);
    };
    Ok(Some((format, r.blob("logo")?)))
}

/// The settings row that lets webhooks go to private, loopback and link-local addresses.
const WEBHOOKS_ALLOW_PRIVATE: &str = "webhooks.allow_private";

/// Whether an admin let webhooks go to private, loopback and link-local addresses (a
/// single-host setup whose receivers run beside Rapport). Off unless set.
pub async fn webhooks_allow_private(c: &mut dyn Conn) -> Result<bool> {
    Ok(c.opt(
        "SELECT value FROM settings WHERE key = $1",
        &[WEBHOOKS_ALLOW_PRIVATE.into()],
    )
    .await?
    .map(|r| r.text("value"))
    .transpose()?
    .is_some_and(|v| v == "true"))
}

/// Lets webhooks go to private addresses, or not.
pub async fn set_webhooks_allow_private(c: &mut dyn Conn, on: bool) -> Result<()> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[WEBHOOKS_ALLOW_PRIVATE.into(), on.to_string().into()],
    )
    .await?;
    Ok(())
}
