//! `/help/search?q=`: the knowledge base's search (the node's in-memory index, the same
//! engine as the API's) as a page of ranked results, each linking to the passage that
//! answers (`url#anchor`) with its snippet, the query's words highlighted. No result —
//! or an empty query — offers to contact support. Each search is logged (source `help`)
//! for the content-gap report, with the signed-in customer or the visitor's hashed
//! cookie — unless the browser also holds an agent's workspace session: agents trying the
//! help center out are not customers looking for answers (they still see it as the public
//! does).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rapport_domain::kb::Visibility;
use rapport_http::AppState;
use rapport_http::api::kb::search::log_search;
use rapport_http::client::ClientIp;
use rapport_http::visitor::{Visitor, ensure_cookie};
use rapport_index::kb::KbQuery;
use rapport_store::kb::searches::Source;
use rapport_store::op;
use serde::Deserialize;

use super::{Layout, ReaderKey, frame};
use crate::page::{error_page, page, store_error};
use crate::sessions::Me;

/// The longest query, in characters (as the API).
const MAX_QUERY_CHARS: usize = 200;
/// Results on the page.
const RESULTS: usize = 20;

/// `?q=`.
#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// One result.
pub struct ResultView {
    url: String,
    title: String,
    heading: String,
    lang: String,
    /// Escaped text with `<mark>` around the query's words (the index makes it).
    snippet_html: String,
}

#[derive(Template)]
#[template(path = "help/search.html")]
struct SearchPage {
    layout: Layout,
    query: String,
    results: Vec<ResultView>,
    error: Option<String>,
}

/// The results page.
pub async fn search(
    State(st): State<AppState>,
    me: Option<Me>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    visitor: Visitor,
    Query(q): Query<SearchQuery>,
) -> Response {
    let query = q.q.unwrap_or_default().trim().to_owned();
    let key = ReaderKey::of(&st, &headers);
    let shown: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let in_box = shown.clone();
    let framed = st.db.read(op!(c => frame(c, &key, &in_box).await)).await;
    let (reader, layout) = match framed {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let mut status = StatusCode::OK;
    let mut error = None;
    let mut results = Vec::new();
    if query.chars().count() > MAX_QUERY_CHARS {
        status = StatusCode::UNPROCESSABLE_ENTITY;
        error = Some("Your search is too long: use at most 200 characters.".to_owned());
    } else if !query.is_empty() {
        if st.kb_search_limit.is_blocked(ip) {
            return error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Slow down",
                "Too many searches from your address. Please wait a minute.",
            );
        }
        st.kb_search_limit.fail(ip);
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let preferred = accept
            .split(',')
            .next()
            .and_then(|l| rapport_domain::kb::Locale::parse(l.split(';').next()?).ok());
        let hits = st.kb_index.search(&KbQuery {
            text: &query,
            readable: Visibility::readable_by(reader.as_ref()),
            locale: preferred.as_ref(),
            limit: RESULTS,
            suggest: false,
        });
        // An agent's search is left out of the log (`log_search` skips agents).
        let searcher = me.map(|me| me.principal()).or_else(|| reader.clone());
        log_search(
            &st,
            &query,
            Source::Help,
            &hits,
            searcher.as_ref(),
            &visitor,
        );
        results = hits
            .into_iter()
            .map(|h| ResultView {
                url: h.url,
                title: h.title,
                heading: h.heading,
                lang: h.locale.as_str().to_owned(),
                snippet_html: h.snippet_html,
            })
            .collect();
    }
    let mut r = page(&SearchPage {
        layout,
        query: shown,
        results,
        error,
    });
    *r.status_mut() = status;
    ensure_cookie(r.headers_mut(), &visitor, st.https);
    r
}
