//! Server settings kept in the database and shared by every node: named secrets and keys
//! (the portal's link key, …) made on first use.

use crate::db::Conn;
use crate::error::Result;
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
