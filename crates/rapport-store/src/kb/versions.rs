//! An article's history: every version of each language's text, and restoring one (which
//! writes it again as the newest version, so nothing is ever lost). Agents only.

use rapport_domain::kb::Locale;
use rapport_domain::{Principal, Timestamp, Viewer};
use serde::Serialize;

use super::articles::{Text, get_for_update, require_write, write_text};
use super::{Action, Article, parse_locale, record_change};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::Actor;
use crate::value::Row;

/// One version of one language's text, without the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionSummary {
    /// The language.
    pub locale: Locale,
    /// Its number within that language (1, 2, …).
    pub version: i64,
    /// The title it had.
    pub title: String,
    /// What the change was ("created", "restored version 2", or the writer's note).
    pub note: String,
    /// Who wrote it.
    pub author_id: Option<i64>,
    /// When.
    pub created_at: Timestamp,
}

/// One version with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    /// Everything but the text.
    #[serde(flatten)]
    pub summary: VersionSummary,
    /// The markdown it had.
    pub body: String,
}

fn summary_from(r: &Row) -> Result<VersionSummary> {
    Ok(VersionSummary {
        locale: parse_locale(&r.text("locale")?)?,
        version: r.int("version")?,
        title: r.text("title")?,
        note: r.text("note")?,
        author_id: r.opt_int("author_id")?,
        created_at: Timestamp(r.int("created_at")?),
    })
}

async fn exists(c: &mut dyn Conn, article_id: i64) -> Result<()> {
    c.opt(
        "SELECT id FROM kb_articles WHERE id = $1",
        &[article_id.into()],
    )
    .await?
    .ok_or(StoreError::NotFound("article"))
    .map(|_| ())
}

/// An article's versions, newest first: of one language, or of all of them (by language,
/// then newest first).
pub async fn list(
    c: &mut dyn Conn,
    _viewer: &Viewer,
    article_id: i64,
    locale: Option<&Locale>,
) -> Result<Vec<VersionSummary>> {
    exists(c, article_id).await?;
    let rows = match locale {
        Some(l) => {
            c.query(
                "SELECT locale, version, title, note, author_id, created_at FROM kb_versions
                 WHERE article_id = $1 AND locale = $2 ORDER BY version DESC",
                &[article_id.into(), l.as_str().into()],
            )
            .await?
        }
        None => {
            c.query(
                "SELECT locale, version, title, note, author_id, created_at FROM kb_versions
                 WHERE article_id = $1 ORDER BY locale, version DESC",
                &[article_id.into()],
            )
            .await?
        }
    };
    rows.iter().map(summary_from).collect()
}

/// One version of one language's text.
pub async fn get(
    c: &mut dyn Conn,
    _viewer: &Viewer,
    article_id: i64,
    locale: &Locale,
    version: i64,
) -> Result<Version> {
    exists(c, article_id).await?;
    let r = c
        .opt(
            "SELECT locale, version, title, body, note, author_id, created_at FROM kb_versions
             WHERE article_id = $1 AND locale = $2 AND version = $3",
            &[article_id.into(), locale.as_str().into(), version.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("version"))?;
    Ok(Version {
        summary: summary_from(&r)?,
        body: r.text("body")?,
    })
}

/// Makes an old version's text the current one again, as a new version ("restored
/// version n"), and records `article_changed` (`restored`).
pub async fn restore(
    c: &mut dyn Conn,
    viewer: &Viewer,
    article_id: i64,
    locale: &Locale,
    version: i64,
    now: Timestamp,
) -> Result<Article> {
    require_write(viewer)?;
    let article = get_for_update(c, article_id).await?;
    let old = get(c, viewer, article_id, locale, version).await?;
    let note = format!("restored version {version}");
    let text = Text {
        locale,
        title: &old.summary.title,
        body: &old.body,
        note: &note,
    };
    write_text(c, article_id, text, viewer.user_id, now).await?;
    c.execute(
        "UPDATE kb_articles SET updated_at = $1 WHERE id = $2",
        &[now.into(), article_id.into()],
    )
    .await?;
    record_change(
        c,
        Actor::User(viewer.user_id),
        article_id,
        &article.slug,
        Action::Restored,
        now,
    )
    .await?;
    super::articles::get(c, Some(&Principal::System), article_id).await
}
