//! `/api/v1/kb/…`: the knowledge base for agents' tools — articles ([`articles`]: create,
//! list, read, change as a new version, delete, versions and restore) and their
//! categories ([`categories`]). Every agent reads and writes articles (drafts and
//! publishing alike: `Permission::WriteArticles`); deleting articles and managing
//! categories needs a supervisor (`Permission::ManageKb`). Customers and anonymous
//! visitors read articles through the help center and search, never here. Search and
//! suggestions over the in-memory index ([`search`]) and the synonym groups search
//! expands ([`synonyms`]) are for everyone and admins respectively; the reports on
//! articles, deflection and content gaps ([`reports`]) are for supervisors.

pub mod articles;
pub mod categories;
pub mod reports;
pub mod search;
pub mod synonyms;

use rapport_domain::kb::Locale;
use rapport_store::kb::categories as store_categories;
use rapport_store::op;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A category named by its id or its slug.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum CategoryKey {
    /// The category's id.
    Id(i64),
    /// The category's slug.
    Slug(String),
}

impl CategoryKey {
    /// The id of the category this names; an unknown one is a 422 on `field`.
    pub async fn resolve(self, st: &AppState, field: &'static str) -> ApiResult<i64> {
        match self {
            CategoryKey::Id(id) => Ok(id),
            CategoryKey::Slug(slug) => {
                let slug = slug.trim().to_owned();
                let who = rapport_domain::Principal::System;
                st.db
                    .read(op!(c => store_categories::get_by_slug(c, Some(&who), &slug).await))
                    .await
                    .map(|k| k.id)
                    .map_err(|e| match e {
                        rapport_store::StoreError::NotFound(_) => {
                            ApiError::field(field, "no knowledge-base category has this slug")
                        }
                        e => e.into(),
                    })
            }
        }
    }
}

/// Parses an optional `locale` field.
pub(crate) fn locale(raw: Option<&str>) -> ApiResult<Option<Locale>> {
    Ok(raw.map(Locale::parse).transpose()?)
}

/// Re-indexes an article on this node right after a write that changed it committed, so
/// the writer's next search sees it (other nodes follow the event stream). A failure is
/// logged, not answered: the write stands and the follower catches up.
pub async fn reindex(st: &AppState, article_id: i64) {
    if let Err(e) = st.kb_index.refresh_article(&st.db, article_id).await {
        tracing::warn!(error = %e, article_id, "could not re-index the article");
    }
}

/// The help-center path of an article.
pub fn article_path(slug: &str) -> String {
    format!("/help/articles/{slug}")
}
