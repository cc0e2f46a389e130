//! What search engines read: `/sitemap.xml` — the help center's front page, its
//! categories that hold public articles, and every public published article in every
//! language it is written in, each with its `xhtml:link` alternates (and `x-default`) —
//! and `/robots.txt`, which points to it. Only what an anonymous reader may open is
//! listed: drafts, archived, internal and customer-only articles never are.
//!
//! The sitemap reads slugs, languages and dates only (`kb::sitemap::public`), never an
//! article's text, and is kept rendered (`AppState::sitemap`) until any article changes
//! on any node (the search index's change count, moved by its follower of the event
//! stream within a quarter second of the change) or ten minutes pass.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rapport_domain::kb::Locale;
use rapport_http::AppState;
use rapport_store::kb::sitemap::{self as listing, Entry, Listing};
use rapport_store::op;

use super::articles::path_in;
use crate::page::store_error;

/// Text for XML character data and attribute values.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The help-center path of an entry in `locale`.
fn entry_path(a: &Entry, locale: &Locale) -> String {
    path_in(&a.slug, &a.default_locale, locale)
}

/// The sitemap's XML for what the public may open.
pub fn sitemap_xml(base: &str, listing: &Listing) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    let _ = writeln!(
        out,
        "<url><loc>{}</loc></url>",
        xml(&format!("{base}/help"))
    );
    for slug in &listing.categories {
        let _ = writeln!(
            out,
            "<url><loc>{}</loc></url>",
            xml(&format!("{base}/help/categories/{slug}"))
        );
    }
    for a in &listing.articles {
        let mut alternates = String::new();
        for (locale, _) in &a.translations {
            let _ = write!(
                alternates,
                "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                xml(locale.as_str()),
                xml(&format!("{base}{}", entry_path(a, locale)))
            );
        }
        let _ = write!(
            alternates,
            "<xhtml:link rel=\"alternate\" hreflang=\"x-default\" href=\"{}\"/>",
            xml(&format!("{base}/help/articles/{}", a.slug))
        );
        for (locale, updated_at) in &a.translations {
            let _ = writeln!(
                out,
                "<url><loc>{}</loc><lastmod>{}</lastmod>{alternates}</url>",
                xml(&format!("{base}{}", entry_path(a, locale))),
                updated_at.to_datetime().format("%Y-%m-%d"),
            );
        }
    }
    out.push_str("</urlset>\n");
    out
}

/// `/sitemap.xml`.
pub async fn sitemap(State(st): State<AppState>) -> Response {
    let index = st.kb_index.clone();
    let rendered = st
        .sitemap
        .get_or_render(
            || index.changes(),
            || async {
                let found = st.db.read(op!(c => listing::public(c).await)).await?;
                Ok::<_, rapport_store::StoreError>(axum::body::Bytes::from(sitemap_xml(
                    &st.public_url,
                    &found,
                )))
            },
        )
        .await;
    match rendered {
        Ok(text) => (
            [
                (header::CONTENT_TYPE, "application/xml; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            text,
        )
            .into_response(),
        Err(e) => store_error(e),
    }
}

/// `/robots.txt`: crawl the help center, not the private pages; the sitemap's address.
pub async fn robots(State(st): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        format!(
            "User-agent: *\n\
             Allow: /help\n\
             Allow: /community\n\
             Disallow: /help/search\n\
             Disallow: /portal/\n\
             Disallow: /api/\n\
             Disallow: /admin\n\
             Disallow: /inbox\n\
             Disallow: /tickets/\n\
             Sitemap: {}/sitemap.xml\n",
            st.public_url
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(xml("a&b<c>\"'"), "a&amp;b&lt;c&gt;&quot;&apos;");
    }

    #[test]
    fn every_language_is_listed_with_its_alternates() {
        let (en, de) = (Locale::english(), Locale::parse("de").unwrap());
        let listing = Listing {
            categories: vec!["billing".into()],
            articles: vec![Entry {
                slug: "refunds".into(),
                default_locale: en.clone(),
                translations: vec![
                    (en, rapport_domain::Timestamp(0)),
                    (de, rapport_domain::Timestamp(86_400_000_000)),
                ],
            }],
        };
        let x = sitemap_xml("https://h.test", &listing);
        assert!(
            x.contains("<loc>https://h.test/help/categories/billing</loc>"),
            "{x}"
        );
        assert!(
            x.contains(
                "<loc>https://h.test/help/articles/refunds</loc><lastmod>1970-01-01</lastmod>"
            ),
            "{x}"
        );
        assert!(x.contains("<loc>https://h.test/help/articles/refunds?lang=de</loc><lastmod>1970-01-02</lastmod>"), "{x}");
        assert_eq!(x.matches("hreflang=\"x-default\"").count(), 2, "{x}");
    }
}
