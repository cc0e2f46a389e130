//! `/help/articles/{slug}`: one article in the reader's language (`?lang=`, else
//! `Accept-Language`, else the article's default), with its table of contents (the
//! headings' anchors are `kb::sections`' anchors), breadcrumbs, when it last changed,
//! related articles, the language switcher and `hreflang` alternates, the tags search
//! engines read (canonical link, Open Graph, JSON-LD `Article` and `BreadcrumbList`), and
//! "Was this helpful?".
//!
//! Who may read what is the store's rule (`kb::get_by_slug` with the reader): a draft,
//! archived or internal article is "not found" here whatever the URL; a customer-only
//! article asks an anonymous reader to sign in, without showing any of it. A slug the
//! article had before it was renamed answers 301 with its address now (keeping the query),
//! for readers who could open it there; a slug another article holds now is that one's.
//!
//! The page's images may come from https sites: it marks its response with
//! [`HttpsImages`], the one widening of the Content-Security-Policy.

use askama::Template;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rapport_domain::Principal;
use rapport_domain::kb::{ArticleStatus, Locale, Visibility};
use rapport_http::AppState;
use rapport_http::csp::HttpsImages;
use rapport_index::kb::KbQuery;
use rapport_store::kb::feedback::{self, Feedback};
use rapport_store::kb::{self, Article, ArticleFilter, ArticleOrder};
use rapport_store::{Conn, StoreError, op};
use serde::Deserialize;
use serde_json::json;

use super::feedback::voter_of;
use super::home::{ArticleLink, published};
use super::{Layout, ReaderKey, excerpt, frame, language_name, pick_locale};
use crate::page::{error_page, page, store_error};
use crate::portal::{csrf_token, with_csrf};
use crate::render::article_html;

/// `?lang=` picks the language; `?voted=1` follows a vote.
#[derive(Deserialize)]
pub struct ArticleQuery {
    lang: Option<String>,
}

/// A heading in the table of contents.
pub struct TocEntry {
    anchor: String,
    heading: String,
    level: u8,
}

/// A language the article is written in, for the switcher.
pub struct LangLink {
    url: String,
    tag: String,
    name: String,
    current: bool,
}

/// The feedback box's state for this reader.
pub struct FeedbackView {
    csrf: String,
    action: String,
    lang: String,
    /// What the reader voted, if they did.
    voted: Option<bool>,
    comment: String,
}

#[derive(Template)]
#[template(path = "help/article.html")]
struct ArticlePage {
    layout: Layout,
    canonical: String,
    title: String,
    description: String,
    lang: String,
    html: String,
    toc: Vec<TocEntry>,
    category: Option<(String, String)>,
    updated_date: String,
    updated_iso: String,
    languages: Vec<LangLink>,
    alternates: Vec<(String, String)>,
    x_default: String,
    related: Vec<ArticleLink>,
    jsonld: String,
    feedback: FeedbackView,
}

#[derive(Template)]
#[template(path = "help/signin_needed.html")]
struct SignInNeeded {
    layout: Layout,
}

/// An article found for its reader: the frame, the article, its related articles, the
/// reader's vote, and what the reader may see (for the index's related matches).
type Shown = (
    Layout,
    Article,
    Vec<Article>,
    Option<Feedback>,
    &'static [Visibility],
);

/// What the page found.
enum Found {
    Article(Box<Shown>),
    /// Published for signed-in customers only, and the reader is not one.
    SignIn(Layout),
    /// The slug is one the article had before: its slug now.
    Moved(String),
}

/// Whether `reader` is asked to sign in for `a` (published for customers only, and the
/// reader is anonymous) rather than told there is no such article.
fn asks_sign_in(reader: Option<&Principal>, a: &Article) -> bool {
    reader.is_none()
        && a.status == ArticleStatus::Published
        && a.visibility == Visibility::Customers
}

/// What a reader finds at a slug no article they may read holds now: the sign-in page
/// for a customers-only article; the article's new address when the slug is one it had
/// before (`kb_slug_history`) and the reader may read it or would be asked to sign in;
/// otherwise nothing. The system reads here decide only that, and show no content.
async fn not_readable(
    c: &mut dyn Conn,
    reader: Option<&Principal>,
    slug: &str,
    layout: Layout,
) -> rapport_store::Result<Found> {
    let system = Some(&Principal::System);
    match kb::get_by_slug(c, system, slug).await {
        Ok(a) if asks_sign_in(reader, &a) => return Ok(Found::SignIn(layout)),
        Ok(_) => return Err(StoreError::NotFound("article")),
        Err(StoreError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let Some(id) = kb::lookup::renamed(c, slug).await? else {
        return Err(StoreError::NotFound("article"));
    };
    let a = kb::get(c, system, id).await?;
    if a.readable_by(reader) || asks_sign_in(reader, &a) {
        Ok(Found::Moved(a.slug))
    } else {
        Err(StoreError::NotFound("article"))
    }
}

/// The URL of an article in `locale`: the bare one for its default language.
pub fn article_path(a: &Article, locale: &Locale) -> String {
    path_in(&a.slug, &a.default_locale, locale)
}

/// The URL of the article `slug`, whose default language is `default`, in `locale`.
pub fn path_in(slug: &str, default: &Locale, locale: &Locale) -> String {
    if locale == default {
        format!("/help/articles/{slug}")
    } else {
        format!("/help/articles/{slug}?lang={locale}")
    }
}

/// Articles to read next: others of the same category, then others sharing a tag.
async fn related(
    c: &mut dyn Conn,
    reader: Option<&Principal>,
    a: &Article,
) -> rapport_store::Result<Vec<Article>> {
    const MAX: usize = 5;
    let mut out: Vec<Article> = Vec::new();
    if let Some(k) = &a.category {
        out = published(
            c,
            reader,
            ArticleFilter {
                category_id: Some(k.id),
                order: ArticleOrder::Popular,
                limit: i64::try_from(MAX).unwrap_or(5) + 1,
                ..ArticleFilter::default()
            },
        )
        .await?;
    }
    out.retain(|r| r.id != a.id);
    for tag in a.tags.iter().take(3) {
        if out.len() >= MAX {
            break;
        }
        let Ok(tag) = rapport_domain::Tag::parse(tag) else {
            continue;
        };
        let more = published(
            c,
            reader,
            ArticleFilter {
                tag: Some(tag),
                order: ArticleOrder::Popular,
                limit: 6,
                ..ArticleFilter::default()
            },
        )
        .await?;
        for m in more {
            if m.id != a.id && !out.iter().any(|o| o.id == m.id) {
                out.push(m);
            }
        }
    }
    out.truncate(MAX);
    Ok(out)
}

/// The related articles' links: `rel` (same category, shared tags), topped up with the
/// index's best matches for the article's title.
fn related_links(
    st: &AppState,
    headers: &HeaderMap,
    a: &Article,
    rel: &[Article],
    title: &str,
    locale: &Locale,
    readable: &[Visibility],
) -> Vec<ArticleLink> {
    const MAX: usize = 5;
    let mut out: Vec<(i64, ArticleLink)> = rel
        .iter()
        .map(|r| (r.id, ArticleLink::of(r, headers)))
        .collect();
    if out.len() < MAX {
        let hits = st.kb_index.search(&KbQuery {
            text: title,
            readable,
            locale: Some(locale),
            limit: MAX + 1,
            suggest: false,
        });
        for h in hits {
            if out.len() >= MAX {
                break;
            }
            if h.article_id == a.id || out.iter().any(|(id, _)| *id == h.article_id) {
                continue;
            }
            let url = h.url.split('#').next().unwrap_or_default().to_owned();
            out.push((
                h.article_id,
                ArticleLink {
                    url,
                    title: h.title,
                    lang: h.locale.as_str().to_owned(),
                    date: String::new(),
                    iso: String::new(),
                },
            ));
        }
    }
    out.into_iter().map(|(_, l)| l).collect()
}

/// JSON for a `<script type="application/ld+json">`: `<`, `>` and `&` escaped, so no text
/// of the article can close the script element.
fn script_json(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Headings of the body one level down, so the page keeps one `h1` (the title).
fn demote_h1(html: &str) -> String {
    html.replace("<h1", "<h2").replace("</h1>", "</h2>")
}

/// An article's page.
pub async fn article(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(q): Query<ArticleQuery>,
    RawQuery(query): RawQuery,
) -> Response {
    let key = ReaderKey::of(&st, &headers);
    let visitor = voter_of(&st, &headers);
    let loaded = st
        .db
        .read(op!(c => {
            let (reader, layout) = frame(c, &key, "").await?;
            let a = match kb::get_by_slug(c, reader.as_ref(), &slug).await {
                Ok(a) => a,
                Err(StoreError::NotFound(_)) => {
                    return not_readable(c, reader.as_ref(), &slug, layout).await;
                }
                Err(e) => return Err(e),
            };
            let rel = related(c, reader.as_ref(), &a).await?;
            let voter = match &reader {
                Some(Principal::Customer(id)) => Some(feedback::Voter::Customer(*id)),
                _ => visitor,
            };
            let voted = match voter {
                Some(v) => feedback::of_voter(c, a.id, &v).await?,
                None => None,
            };
            let sees = Visibility::readable_by(reader.as_ref());
            Ok(Found::Article(Box::new((layout, a, rel, voted, sees))))
        }))
        .await;
    let (layout, a, rel, voted, reader_sees) = match loaded {
        Ok(Found::Article(found)) => *found,
        Ok(Found::SignIn(layout)) => {
            let mut r = page(&SignInNeeded { layout });
            *r.status_mut() = StatusCode::FORBIDDEN;
            return r;
        }
        Ok(Found::Moved(new_slug)) => {
            let mut to = format!("/help/articles/{new_slug}");
            if let Some(q) = query.filter(|q| !q.is_empty()) {
                to.push('?');
                to.push_str(&q);
            }
            return match HeaderValue::from_str(&to) {
                Ok(to) => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response(),
                Err(_) => error_page(
                    StatusCode::NOT_FOUND,
                    "Not found",
                    "There is no such article.",
                ),
            };
        }
        Err(StoreError::NotFound(_)) => {
            return error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such article. Try searching the help center.",
            );
        }
        Err(e) => return store_error(e),
    };
    if st.article_views.count(a.id) {
        st.article_views.flush(&st.db).await;
    }
    let locales = a.locales();
    let locale = pick_locale(q.lang.as_deref(), &headers, &locales, &a.default_locale);
    let Some(t) = a.translation(&locale).or_else(|| a.default_translation()) else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "This article has no text.",
        );
    };
    let locale = t.locale.clone();
    let rendered = article_html(&t.body);
    let base = &st.public_url;
    let path = article_path(&a, &locale);
    let canonical = format!("{base}{path}");
    let lead = rapport_domain::kb::sections(&t.body)
        .into_iter()
        .map(|s| s.text)
        .find(|s| !s.trim().is_empty())
        .unwrap_or_default();
    let description = excerpt(&lead, 160);
    let modified = t.updated_at.to_datetime();
    let published_at = a.published_at.unwrap_or(a.created_at).to_datetime();
    let mut crumbs = vec![
        json!({"@type": "ListItem", "position": 1, "name": layout.brand, "item": format!("{base}/help")}),
    ];
    if let Some(k) = &a.category {
        crumbs.push(json!({"@type": "ListItem", "position": 2, "name": k.name, "item": format!("{base}/help/categories/{}", k.slug)}));
    }
    crumbs.push(json!({"@type": "ListItem", "position": crumbs.len() + 1, "name": t.title, "item": canonical}));
    let jsonld = script_json(&json!([
        {
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": t.title,
            "description": description,
            "inLanguage": locale.as_str(),
            "datePublished": published_at.to_rfc3339(),
            "dateModified": modified.to_rfc3339(),
            "mainEntityOfPage": canonical,
            "publisher": {"@type": "Organization", "name": layout.brand},
        },
        {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": crumbs,
        }
    ]));
    let languages = a
        .translations
        .iter()
        .map(|tr| LangLink {
            url: article_path(&a, &tr.locale),
            tag: tr.locale.as_str().to_owned(),
            name: language_name(&tr.locale),
            current: tr.locale == locale,
        })
        .collect();
    let alternates = a
        .translations
        .iter()
        .map(|tr| {
            (
                tr.locale.as_str().to_owned(),
                format!("{base}{}", article_path(&a, &tr.locale)),
            )
        })
        .collect();
    let csrf = csrf_token(&st, &headers);
    let p = ArticlePage {
        canonical: canonical.clone(),
        x_default: format!("{base}/help/articles/{}", a.slug),
        title: t.title.clone(),
        description,
        lang: locale.as_str().to_owned(),
        html: demote_h1(&rendered.html),
        toc: rendered
            .toc
            .iter()
            .map(|s| TocEntry {
                anchor: s.anchor.clone(),
                heading: s.heading.clone(),
                level: s.level.max(2),
            })
            .collect(),
        category: a
            .category
            .as_ref()
            .map(|k| (k.slug.clone(), k.name.clone())),
        updated_date: modified.format("%Y-%m-%d").to_string(),
        updated_iso: modified.to_rfc3339(),
        languages,
        alternates,
        related: related_links(&st, &headers, &a, &rel, &t.title, &locale, reader_sees),
        jsonld,
        feedback: FeedbackView {
            csrf: csrf.clone(),
            action: format!("/help/articles/{}/feedback", a.slug),
            lang: locale.as_str().to_owned(),
            voted: voted.as_ref().map(|f| f.helpful),
            comment: voted.map(|f| f.comment).unwrap_or_default(),
        },
        layout,
    };
    let mut r = with_csrf(&st, page(&p), &csrf);
    r.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    // The author's images may come from other https sites (the sanitiser let only those
    // through); this page alone widens the policy for them.
    r.extensions_mut().insert(HttpsImages);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_cannot_close_its_script() {
        let s = script_json(&json!({"headline": "</script><script>alert(1)</script> & more"}));
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(
            back["headline"],
            "</script><script>alert(1)</script> & more"
        );
    }

    #[test]
    fn the_body_has_no_second_h1() {
        assert_eq!(
            demote_h1("<h1 id=\"a\">A</h1><h2>B</h2>"),
            "<h2 id=\"a\">A</h2><h2>B</h2>"
        );
    }
}
