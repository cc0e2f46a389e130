//! What search engines read: `/sitemap.xml` — the help center's front page, its
//! categories that hold public articles, and every public published article in every
//! language it is written in, each with its `xhtml:link` alternates (and `x-default`) —
//! and `/robots.txt`, which points to it. Only what an anonymous reader may open is
//! listed: drafts, archived, internal and customer-only articles never are.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rapport_domain::kb::Visibility;
use rapport_http::AppState;
use rapport_store::kb::{self, Article};
use rapport_store::op;

use super::articles::article_path;
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

/// The sitemap's XML for `articles` (public published ones) and `categories` (slugs).
pub fn sitemap_xml(base: &str, categories: &[String], articles: &[Article]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    out.push_str(&format!("<url><loc>{}</loc></url>\n", xml(&format!("{base}/help"))));
    for slug in categories {
        out.push_str(&format!(
            "<url><loc>{}</loc></url>\n",
            xml(&format!("{base}/help/categories/{slug}"))
        ));
    }
    for a in articles {
        let alternates: String = a
            .translations
            .iter()
            .map(|t| {
                format!(
                    "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                    xml(t.locale.as_str()),
                    xml(&format!("{base}{}", article_path(a, &t.locale)))
                )
            })
            .chain(std::iter::once(format!(
                "<xhtml:link rel=\"alternate\" hreflang=\"x-default\" href=\"{}\"/>",
                xml(&format!("{base}/help/articles/{}", a.slug))
            )))
            .collect();
        for t in &a.translations {
            out.push_str(&format!(
                "<url><loc>{}</loc><lastmod>{}</lastmod>{alternates}</url>\n",
                xml(&format!("{base}{}", article_path(a, &t.locale))),
                t.updated_at.to_datetime().format("%Y-%m-%d"),
            ));
        }
    }
    out.push_str("</urlset>\n");
    out
}

/// `/sitemap.xml`.
pub async fn sitemap(State(st): State<AppState>) -> Response {
    let loaded = st
        .db
        .read(op!(c => {
            let categories = kb::categories::list(c, None).await?;
            let articles = kb::published_for_index(c).await?;
            Ok((categories, articles))
        }))
        .await;
    let (categories, mut articles) = match loaded {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    // What an anonymous reader may open, by the store's own rule.
    articles.retain(|a| a.readable_by(None) && a.visibility == Visibility::Public);
    let categories: Vec<String> = categories
        .into_iter()
        .filter(|k| k.articles > 0)
        .map(|k| k.slug)
        .collect();
    (
        [
            (header::CONTENT_TYPE, "application/xml; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        sitemap_xml(&st.public_url, &categories, &articles),
    )
        .into_response()
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
}
