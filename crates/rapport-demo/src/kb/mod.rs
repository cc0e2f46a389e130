//! The demo's knowledge base: four categories, some fifty articles (a few in German),
//! the judged queries search is measured against, default synonyms and community seed
//! threads. [`populate`] writes the articles through the same store operations the API
//! uses, so every article gets its versions and `article_changed` events.

mod files;

pub use files::{
    BadFile, CATEGORIES, DemoArticle, DemoText, JudgedKind, JudgedQuery, SeedAnswer, SeedAuthor,
    SeedTopic, articles, community_topics, judged, synonym_groups,
};

use rapport_domain::kb::{ArticleStatus, Slug};
use rapport_domain::{Clock, Principal, Role, Viewer};
use rapport_store::kb::{self, ArticleFilter, ArticlePatch, NewArticle, NewCategory};
use rapport_store::{Db, StoreError, op};

/// What [`populate`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KbSummary {
    /// False when the knowledge base already had articles and was left alone.
    pub created: bool,
    /// Categories created.
    pub categories: usize,
    /// Articles created.
    pub articles: usize,
    /// Translations added to them.
    pub translations: usize,
    /// Synonym groups added (each run adds the ones missing).
    pub synonyms: usize,
}

/// Days before "now" the i-th article was written: spread over the last half year, so
/// the help center's "recent" list and the version history look lived in.
fn age_days(i: usize) -> i64 {
    let i = i64::try_from(i).unwrap_or(0);
    (i * 37) % 180 + 1
}

/// Writes the demo knowledge base — categories, articles and their translations — unless
/// the knowledge base already holds an article, and adds the demo's synonym groups that
/// are missing. `author_id` is the agent (an admin or supervisor) the articles are written
/// by. One transaction: all of it or nothing.
///
/// # Errors
/// A store error, or `StoreError::Db` naming a shipped file that breaks the rules (a
/// unit test keeps them valid).
pub async fn populate(db: &Db, clock: &dyn Clock, author_id: i64) -> Result<KbSummary, StoreError> {
    let demo = articles().map_err(|e| StoreError::Db(e.to_string()))?;
    let now = clock.now();
    let groups = synonym_groups();
    db.write(op!(c => {
        let system = Principal::System;
        let mut synonyms = 0;
        for g in &groups {
            if kb::synonyms::ensure(c, Some(author_id), &g.join(", "), now).await? {
                synonyms += 1;
            }
        }
        if kb::count(c, Some(&system), &ArticleFilter::default()).await? > 0 {
            return Ok(KbSummary {
                synonyms,
                ..KbSummary::default()
            });
        }
        let author = Viewer {
            user_id: author_id,
            role: Role::Admin,
            team_ids: Vec::new(),
        };
        let mut summary = KbSummary {
            created: true,
            synonyms,
            ..KbSummary::default()
        };
        // An admin may have made some categories already: reuse those with our slugs.
        let existing = kb::categories::list(c, Some(&system)).await?;
        let mut category_ids = Vec::new();
        for (position, (slug, name, description)) in CATEGORIES.iter().enumerate() {
            let id = match existing.iter().find(|k| k.slug == *slug) {
                Some(k) => k.id,
                None => {
                    summary.categories += 1;
                    let new = NewCategory {
                        slug: Slug::parse(slug)?,
                        name: (*name).to_owned(),
                        description: (*description).to_owned(),
                        position: i64::try_from(position).unwrap_or(0),
                    };
                    kb::categories::create(c, &author, new, now).await?.id
                }
            };
            category_ids.push((*slug, id));
        }
        let mut positions = std::collections::HashMap::new();
        for (i, a) in demo.iter().enumerate() {
            let written = now.plus_secs(-age_days(i) * 86_400);
            let category_id = category_ids
                .iter()
                .find(|(s, _)| *s == a.category)
                .map(|(_, id)| *id);
            let position = positions.entry(a.category.as_str()).or_insert(0_i64);
            *position += 1;
            let new = NewArticle {
                title: a.text.title.clone(),
                body: a.text.body.clone(),
                locale: a.text.locale.clone(),
                slug: Some(a.slug.clone()),
                status: a.status,
                visibility: a.visibility,
                category_id,
                section: a.section.clone(),
                tags: a.tags.clone(),
                source_ticket_id: None,
                position: *position,
            };
            let created = kb::create(c, &author, new, written).await?;
            summary.articles += 1;
            for t in &a.translations {
                let patch = ArticlePatch {
                    locale: Some(t.locale.clone()),
                    title: Some(t.title.clone()),
                    body: Some(t.body.clone()),
                    note: Some("translation".to_owned()),
                    ..ArticlePatch::default()
                };
                kb::update(c, &author, created.id, patch, written.plus_secs(3_600)).await?;
                summary.translations += 1;
            }
        }
        Ok(summary)
    }))
    .await
}

/// How many demo articles are published (what a fresh demo's help center lists, before
/// visibility narrows it).
pub fn published_count() -> usize {
    articles()
        .map(|a| {
            a.iter()
                .filter(|a| a.status == ArticleStatus::Published)
                .count()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
