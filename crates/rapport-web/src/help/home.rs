//! `/help`: the front page — the search box, the categories with how many articles each
//! holds for this reader, and the most read and newest articles.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use rapport_domain::Principal;
use rapport_domain::kb::ArticleStatus;
use rapport_http::AppState;
use rapport_http::state::FrontLists;
use rapport_store::kb::{self, Article, ArticleFilter, ArticleOrder};
use rapport_store::{Conn, op};

use super::{Layout, ReaderKey, frame, pick_locale};
use crate::page::{page, store_error};

/// A link to an article, in the reader's language.
pub struct ArticleLink {
    /// `/help/articles/{slug}` (with `?lang=` when not the default language).
    pub url: String,
    /// The title.
    pub title: String,
    /// The language of the title, when not English (for `lang=` on the link).
    pub lang: String,
    /// When it last changed, as a date (`2026-11-26`).
    pub date: String,
    /// The same as an ISO instant.
    pub iso: String,
}

impl ArticleLink {
    /// The link to `a` for a reader whose headers are `headers`.
    pub fn of(a: &Article, headers: &HeaderMap) -> Self {
        let locale = pick_locale(None, headers, &a.locales(), &a.default_locale);
        let t = a.translation(&locale).or_else(|| a.default_translation());
        let (title, locale) = t.map_or_else(
            || (a.slug.clone(), a.default_locale.clone()),
            |t| (t.title.clone(), t.locale.clone()),
        );
        let url = if locale == a.default_locale {
            format!("/help/articles/{}", a.slug)
        } else {
            format!("/help/articles/{}?lang={locale}", a.slug)
        };
        let when = a.updated_at.to_datetime();
        Self {
            url,
            title,
            lang: locale.as_str().to_owned(),
            date: when.format("%Y-%m-%d").to_string(),
            iso: when.to_rfc3339(),
        }
    }
}

/// A category on the front page.
pub struct CategoryCard {
    slug: String,
    name: String,
    description: String,
    count: i64,
}

#[derive(Template)]
#[template(path = "help/home.html")]
struct HomePage {
    layout: Layout,
    canonical: String,
    categories: Vec<CategoryCard>,
    popular: Vec<ArticleLink>,
    recent: Vec<ArticleLink>,
}

/// How many articles each list on the front page shows.
const LISTED: i64 = 8;

/// Published articles the reader may read, in `order`, at most `limit`, with their
/// titles (not their text: every caller lists links).
pub async fn published(
    c: &mut dyn Conn,
    reader: Option<&Principal>,
    mut f: ArticleFilter,
) -> rapport_store::Result<Vec<Article>> {
    f.status = Some(ArticleStatus::Published);
    f.titles_only = true;
    kb::list(c, reader, &f).await
}

/// The front page's lists for `reader`.
async fn front_lists(
    c: &mut dyn Conn,
    reader: Option<&Principal>,
) -> rapport_store::Result<FrontLists> {
    Ok(FrontLists {
        categories: kb::categories::list(c, reader).await?,
        popular: published(
            c,
            reader,
            ArticleFilter {
                order: ArticleOrder::Popular,
                limit: LISTED,
                ..ArticleFilter::default()
            },
        )
        .await?,
        recent: published(
            c,
            reader,
            ArticleFilter {
                order: ArticleOrder::Recent,
                limit: LISTED,
                ..ArticleFilter::default()
            },
        )
        .await?,
    })
}

/// The front page. Its lists are kept per kind of reader (`AppState::help_front`) until
/// an article changes, so a busy front page reads only the reader and the branding.
pub async fn home(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let key = ReaderKey::of(&st, &headers);
    let (reader, layout) = match st.db.read(op!(c => frame(c, &key, "").await)).await {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let kept = if reader.is_some() {
        &st.help_front.customers
    } else {
        &st.help_front.anonymous
    };
    let lists = kept
        .get_or_render(
            || st.kb_index.changes(),
            || async {
                let lists = st
                    .db
                    .read(op!(c => front_lists(c, reader.as_ref()).await))
                    .await?;
                Ok::<_, rapport_store::StoreError>(Arc::new(lists))
            },
        )
        .await;
    let lists = match lists {
        Ok(l) => l,
        Err(e) => return store_error(e),
    };
    page(&HomePage {
        layout,
        canonical: format!("{}/help", st.public_url),
        categories: lists
            .categories
            .iter()
            .filter(|k| k.articles > 0)
            .map(|k| CategoryCard {
                slug: k.slug.clone(),
                name: k.name.clone(),
                description: k.description.clone(),
                count: k.articles,
            })
            .collect(),
        popular: lists
            .popular
            .iter()
            .map(|a| ArticleLink::of(a, &headers))
            .collect(),
        recent: lists
            .recent
            .iter()
            .map(|a| ArticleLink::of(a, &headers))
            .collect(),
    })
}
