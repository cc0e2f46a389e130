//! `/help/categories/{slug}`: a category's articles the reader may read, grouped by
//! section, in the order agents gave them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rapport_http::AppState;
use rapport_store::kb::{self, ArticleFilter, ArticleOrder};
use rapport_store::op;
use serde::Deserialize;

use super::home::{ArticleLink, published};
use super::{Layout, ReaderKey, frame};
use crate::page::{page, store_error};

/// Articles on one page of a category.
const PER_PAGE: i64 = 50;

/// One section of a category and its articles.
pub struct SectionView {
    heading: String,
    articles: Vec<ArticleLink>,
}

#[derive(Template)]
#[template(path = "help/category.html")]
struct CategoryPage {
    layout: Layout,
    canonical: String,
    name: String,
    description: String,
    sections: Vec<SectionView>,
    prev: Option<String>,
    next: Option<String>,
}

/// `?page=` (1 first).
#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<i64>,
}

/// A category's page.
pub async fn category(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let key = ReaderKey::of(&st, &headers);
    let n = q.page.unwrap_or(1).clamp(1, 10_000);
    let loaded = st
        .db
        .read(op!(c => {
            let (reader, layout) = frame(c, &key, "").await?;
            let k = kb::categories::get_by_slug(c, reader.as_ref(), &slug).await?;
            // A category holding nothing this reader may open is not theirs to see
            // (not even its name): the same as the home page, which lists none such.
            if k.articles == 0 {
                return Err(rapport_store::StoreError::NotFound("category"));
            }
            let articles = published(c, reader.as_ref(), ArticleFilter {
                category_id: Some(k.id),
                order: ArticleOrder::Position,
                limit: PER_PAGE + 1,
                offset: (n - 1) * PER_PAGE,
                ..ArticleFilter::default()
            })
            .await?;
            // A page past the last one is not found, rather than an empty page.
            if articles.is_empty() && n > 1 {
                return Err(rapport_store::StoreError::NotFound("page"));
            }
            Ok((layout, k, articles))
        }))
        .await;
    let (layout, k, mut articles) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let more = articles.len() > usize::try_from(PER_PAGE).unwrap_or(usize::MAX);
    articles.truncate(usize::try_from(PER_PAGE).unwrap_or(usize::MAX));
    // Sections in the order their first article comes; articles without one first.
    let mut sections: Vec<SectionView> = Vec::new();
    articles.sort_by_key(|a| !a.section.is_empty());
    for a in &articles {
        let link = ArticleLink::of(a, &headers);
        match sections.iter_mut().find(|s| s.heading == a.section) {
            Some(s) => s.articles.push(link),
            None => sections.push(SectionView {
                heading: a.section.clone(),
                articles: vec![link],
            }),
        }
    }
    let base = format!("/help/categories/{}", k.slug);
    page(&CategoryPage {
        layout,
        canonical: format!("{}{base}", st.public_url),
        prev: (n > 1).then(|| format!("{base}?page={}", n - 1)),
        next: more.then(|| format!("{base}?page={}", n + 1)),
        name: k.name,
        description: k.description,
        sections,
    })
}
