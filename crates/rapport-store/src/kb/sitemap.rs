//! What the sitemap lists, and nothing more: for every article an anonymous reader may
//! open, its slug, its languages and when each last changed; the categories holding at
//! least one such article. Two small queries, never an article's text — the sitemap of a
//! knowledge base of 10,000 articles reads no bodies.
//!
//! "May open" is [`super::lookup`]'s own rule for an anonymous reader (its SQL
//! conditions), the same the help center's pages apply.

use std::collections::HashMap;

use rapport_domain::Timestamp;
use rapport_domain::kb::Locale;

use super::lookup::{ARTICLE_FROM, ArticleFilter, conditions};
use super::parse_locale;
use crate::db::Conn;
use crate::error::Result;

/// An article as the sitemap lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its slug.
    pub slug: String,
    /// The language its bare URL shows.
    pub default_locale: Locale,
    /// Each language it is written in, with when that text last changed: the default
    /// language first, then by tag.
    pub translations: Vec<(Locale, Timestamp)>,
}

/// The sitemap's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Slugs of the categories holding an article the public may open, in their order.
    pub categories: Vec<String>,
    /// The articles the public may open, by id.
    pub articles: Vec<Entry>,
}

/// Everything an anonymous reader may open, as the sitemap lists it.
pub async fn public(c: &mut dyn Conn) -> Result<Listing> {
    let (cond, params) = conditions(None, &ArticleFilter::default());
    let rows = c
        .query(
            &format!(
                "SELECT a.id, a.slug, a.default_locale, t.locale, t.updated_at {ARTICLE_FROM}
                 JOIN kb_translations t ON t.article_id = a.id
                 WHERE {cond} ORDER BY a.id, t.locale"
            ),
            &params,
        )
        .await?;
    let mut articles: Vec<Entry> = Vec::new();
    let mut at: HashMap<i64, usize> = HashMap::new();
    for r in &rows {
        let id = r.int("id")?;
        let text = (
            parse_locale(&r.text("locale")?)?,
            Timestamp(r.int("updated_at")?),
        );
        match at.get(&id) {
            Some(&i) => articles[i].translations.push(text),
            None => {
                at.insert(id, articles.len());
                articles.push(Entry {
                    slug: r.text("slug")?,
                    default_locale: parse_locale(&r.text("default_locale")?)?,
                    translations: vec![text],
                });
            }
        }
    }
    for a in &mut articles {
        let default = a.default_locale.clone();
        a.translations
            .sort_by(|x, y| (x.0 != default).cmp(&(y.0 != default)).then(x.0.cmp(&y.0)));
    }
    let categories = c
        .query(
            &format!(
                "SELECT k.slug, k.position, k.name, k.id {ARTICLE_FROM}
                 WHERE {cond} AND k.id IS NOT NULL
                 GROUP BY k.id, k.slug, k.position, k.name ORDER BY k.position, k.name, k.id"
            ),
            &params,
        )
        .await?
        .iter()
        .map(|r| r.text("slug"))
        .collect::<Result<_>>()?;
    Ok(Listing {
        categories,
        articles,
    })
}
