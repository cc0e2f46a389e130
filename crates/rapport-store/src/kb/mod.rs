//! The knowledge base: articles with their text per language and every version of it
//! ([`articles`], [`versions`]), and the categories they are filed in ([`categories`]);
//! what search keeps: the synonym groups it expands ([`synonyms`]) and the log of searches
//! people made ([`searches`]), kept for a limited time ([`retention`]); what the sitemap lists
//! ([`sitemap`]). An article's old slugs stay in `kb_slug_history`, so their addresses lead to
//! it ([`lookup::renamed`]).
//!
//! Who reads what is decided here, so no page, API or search can forget it: an anonymous
//! visitor reads published public articles, a signed-in customer also published
//! customer-only ones, an agent (or Rapport itself) everything, drafts and archived
//! articles included. Every write records an `article_changed` event (no ticket; its data
//! `{"article_id", "slug", "action"}`) in the same transaction, so the search index on
//! every node, and anything else that cares, reacts to the event stream.

use rapport_domain::kb::{ArticleStatus, Locale, Visibility};
use rapport_domain::{EventKind, Principal, Timestamp};
use serde::Serialize;
use serde_json::json;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::value::{Row, Value};

pub mod articles;
pub mod categories;
pub mod deflection;
pub mod feedback;
pub mod lookup;
pub mod reports;
pub mod retention;
pub mod searches;
pub mod sitemap;
pub mod synonyms;
pub mod versions;
pub mod views;

pub use articles::{
    ArticleFilter, ArticleOrder, ArticlePatch, NewArticle, count, create, delete, get, get_by_slug,
    list, published_for_index, update,
};
pub use categories::{Category, CategoryPatch, NewCategory};
pub use versions::{Version, VersionSummary};

/// The category an article is filed in, as the article shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryRef {
    /// Database id.
    pub id: i64,
    /// Its URL name.
    pub slug: String,
    /// Its display name.
    pub name: String,
}

/// An article's current text in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Translation {
    /// The language.
    pub locale: Locale,
    /// The title in that language.
    pub title: String,
    /// The markdown in that language.
    pub body: String,
    /// That language's newest version number (1 for the first text).
    pub version: i64,
    /// When that language's text last changed.
    pub updated_at: Timestamp,
}

/// A knowledge-base article, with every translation's current text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Article {
    /// Database id.
    pub id: i64,
    /// Its URL name (unique): `/help/articles/{slug}`.
    pub slug: String,
    /// The category it is filed in, if any.
    pub category: Option<CategoryRef>,
    /// The section of the category it is listed under (free text; empty: none).
    pub section: String,
    /// Draft, published or archived.
    pub status: ArticleStatus,
    /// Who may read it once published.
    pub visibility: Visibility,
    /// The language shown when a reader's language has no translation.
    pub default_locale: Locale,
    /// The agent who created it.
    pub author_id: i64,
    /// The ticket whose answer it was made from, if any.
    pub source_ticket_id: Option<i64>,
    /// Its order within its category and section (lower first).
    pub position: i64,
    /// Tags, normalised, sorted.
    pub tags: Vec<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed in any way.
    pub updated_at: Timestamp,
    /// First published (kept when archived or set back to draft).
    pub published_at: Option<Timestamp>,
    /// Times its help-center page was read.
    pub views: i64,
    /// "Was this helpful?" yes votes.
    pub helpful_yes: i64,
    /// "Was this helpful?" no votes.
    pub helpful_no: i64,
    /// Its text in each language, the default language first, then by tag.
    pub translations: Vec<Translation>,
}

impl Article {
    /// The text in `locale`, if it has that translation.
    pub fn translation(&self, locale: &Locale) -> Option<&Translation> {
        self.translations.iter().find(|t| &t.locale == locale)
    }

    /// The text in the default language (every article has it; the first translation
    /// should it ever be missing).
    pub fn default_translation(&self) -> Option<&Translation> {
        self.translation(&self.default_locale)
            .or_else(|| self.translations.first())
    }

    /// The title in the default language.
    pub fn title(&self) -> &str {
        self.default_translation().map_or("", |t| t.title.as_str())
    }

    /// The languages it is written in.
    pub fn locales(&self) -> Vec<Locale> {
        self.translations.iter().map(|t| t.locale.clone()).collect()
    }

    /// Whether `who` may read it: see [`readable`].
    pub fn readable_by(&self, who: Option<&Principal>) -> bool {
        readable(who, self.status, self.visibility)
    }
}

/// Whether `who` may read an article with this status and visibility: agents and Rapport
/// every article; anyone else only published ones their visibility lets them read
/// ([`Visibility::readable_by`]).
pub fn readable(who: Option<&Principal>, status: ArticleStatus, visibility: Visibility) -> bool {
    match who {
        Some(Principal::Agent(_) | Principal::System) => true,
        _ => {
            status == ArticleStatus::Published && Visibility::readable_by(who).contains(&visibility)
        }
    }
}

/// What an `article_changed` event says was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Created.
    Created,
    /// Text or properties changed.
    Updated,
    /// Published (created published, or moved to published).
    Published,
    /// Archived.
    Archived,
    /// Moved back to draft.
    Unpublished,
    /// An older version's text restored.
    Restored,
    /// Deleted for good.
    Deleted,
    /// Its category was renamed or moved.
    CategoryChanged,
}

impl Action {
    /// The spelling in the event's data.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Published => "published",
            Action::Archived => "archived",
            Action::Unpublished => "unpublished",
            Action::Restored => "restored",
            Action::Deleted => "deleted",
            Action::CategoryChanged => "category_changed",
        }
    }
}

/// Records `article_changed` for an article (before its row is deleted, if it is).
pub(crate) async fn record_change(
    c: &mut dyn Conn,
    actor: Actor,
    article_id: i64,
    slug: &str,
    action: Action,
    now: Timestamp,
) -> Result<()> {
    let data = json!({"article_id": article_id, "slug": slug, "action": action.as_str()});
    events::record_article(c, article_id, actor, EventKind::ArticleChanged, &data, now).await
}

pub(crate) fn parse_locale(raw: &str) -> Result<Locale> {
    Locale::parse(raw).map_err(|e| StoreError::Db(format!("stored locale: {e}")))
}

pub(crate) fn ids_param(ids: &[i64]) -> Vec<Value> {
    ids.iter().map(|&i| i.into()).collect()
}

pub(crate) fn translation_from(r: &Row) -> Result<Translation> {
    Ok(Translation {
        locale: parse_locale(&r.text("locale")?)?,
        title: r.text("title")?,
        body: r.text("body")?,
        version: r.int("version")?,
        updated_at: Timestamp(r.int("updated_at")?),
    })
}

/// Checks free text of an article or category (a section, a category's name): trimmed,
/// at most `max` characters, no control characters; `field` names it when it is not.
pub(crate) fn check_text(field: &str, raw: &str, max: usize, required: bool) -> Result<String> {
    let s = raw.trim();
    if (required && s.is_empty()) || s.chars().count() > max {
        let what = if required {
            format!("must be 1 to {max} characters")
        } else {
            format!("must be at most {max} characters")
        };
        return Err(rapport_domain::FieldError::new(field.to_owned(), what).into());
    }
    if rapport_domain::text::has_control(s) {
        return Err(rapport_domain::FieldError::new(
            field.to_owned(),
            "must not contain control characters",
        )
        .into());
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_domain::{Role, Viewer};

    #[test]
    fn who_reads_which_articles() {
        use ArticleStatus::*;
        use Visibility::*;
        let agent = Principal::Agent(Viewer {
            user_id: 1,
            role: Role::Agent,
            team_ids: vec![],
        });
        let customer = Principal::Customer(3);
        for s in [Draft, Published, Archived] {
            for v in [Public, Customers, Internal] {
                assert!(readable(Some(&agent), s, v));
                assert!(readable(Some(&Principal::System), s, v));
                assert_eq!(readable(None, s, v), s == Published && v == Public);
                assert_eq!(
                    readable(Some(&customer), s, v),
                    s == Published && v != Internal
                );
            }
        }
    }
}
