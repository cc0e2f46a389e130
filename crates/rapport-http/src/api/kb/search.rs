//! `GET /api/v1/kb/search` and `GET /api/v1/kb/suggest`: the knowledge base's search,
//! public. Without a token a reader sees public articles; a signed-in portal customer
//! also customer-only ones; an agent (bearer token or workspace session) every published
//! article. Drafts and archived articles are never in the index. Answers come from the
//! node's in-memory index (`AppState::kb_index`); each search is logged in `kb_searches`
//! on a background task after answering (a crash may lose that log row, never the answer),
//! with the source `api` — where a search was made is the server's to say, never the
//! client's (the help center's page and the portal's form log their own).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use rapport_domain::Principal;
use rapport_domain::kb::{Locale, Visibility};
use rapport_index::kb::{KbHit, KbQuery};
use rapport_store::kb::searches::{self, NewSearch, Source};
use rapport_store::op;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::reader::Reader;
use crate::state::AppState;
use crate::visitor::{Visitor, ensure_cookie};

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// What to search for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KbSearchParams {
    /// The words to find (at most 200 characters). Misspellings, synonyms and word forms
    /// are forgiven; `"quoted phrases"` must match as phrases.
    pub q: String,
    /// The reader's language (`en`, `de`, …): each article's passage is taken in it when
    /// the article has that translation.
    pub locale: Option<String>,
    /// At most this many hits (1–50; default 10 for search, 5 for suggestions).
    pub limit: Option<usize>,
    /// Suggestions only: `1` logs this one (the final query of a typing burst).
    pub log: Option<String>,
}

/// One article found.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = KbSearchHit)]
pub struct KbHitView {
    /// Article id.
    pub id: i64,
    /// Its slug.
    pub slug: String,
    /// Its title, in the passage's language.
    pub title: String,
    /// Where to read it: `/help/articles/{slug}[?lang=xx][#anchor]`; for an internal
    /// article (found by agents only) its page in the workspace,
    /// `/kb/articles/{id}/edit[?lang=xx]`.
    pub url: String,
    /// A plain-text excerpt of the best passage.
    pub snippet: String,
    /// The same excerpt, HTML-escaped, the words found in `<mark>`.
    pub snippet_html: String,
    /// Relevance (higher is better; comparable within one query only).
    pub score: f32,
    /// The best passage's anchor (empty: the article's lead).
    pub anchor: String,
    /// The best passage's heading (empty: the lead).
    pub heading: String,
    /// The passage's language.
    pub locale: String,
    /// Whether this hit answers the query (most of its words, weighted by rarity, are
    /// there); a "no answer" question gets no confident hit.
    pub confident: bool,
}

impl From<KbHit> for KbHitView {
    fn from(h: KbHit) -> Self {
        Self {
            id: h.article_id,
            slug: h.slug,
            title: h.title,
            url: h.url,
            snippet: h.snippet,
            snippet_html: h.snippet_html,
            score: h.score,
            anchor: h.anchor,
            heading: h.heading,
            locale: h.locale.to_string(),
            confident: h.confident,
        }
    }
}

/// Articles found, best first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = KbSearchResults)]
pub struct KbSearchResults {
    /// Best first.
    pub hits: Vec<KbHitView>,
}

struct Parsed {
    q: String,
    locale: Option<Locale>,
    limit: usize,
}

fn parse(p: KbSearchParams, default_limit: usize) -> ApiResult<Parsed> {
    let q = p.q.trim().to_owned();
    if q.is_empty() {
        return Err(ApiError::field("q", "is required"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::field("q", "is longer than 200 characters"));
    }
    let locale = p
        .locale
        .filter(|l| !l.trim().is_empty())
        .map(|l| Locale::parse(&l))
        .transpose()?;
    let limit = p.limit.unwrap_or(default_limit);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 50"));
    }
    Ok(Parsed { q, locale, limit })
}

/// Counts the request against the client address's allowance.
fn throttle(st: &AppState, ip: ClientIp) -> ApiResult<()> {
    if st.kb_search_limit.is_blocked(ip.0) {
        return Err(ApiError::too_often());
    }
    st.kb_search_limit.fail(ip.0);
    Ok(())
}

/// Records a search made at `source` by `who` (the reader) in the log, on a background
/// task (never slowing the answer). Who asked is the signed-in customer and the visitor's
/// cookie — only when the request carried it: a client that keeps no cookie would be a
/// new "person" at every search. Agents' searches are not logged: the log measures what
/// customers and visitors look for.
pub fn log_search(
    st: &AppState,
    query: &str,
    source: Source,
    hits: &[KbHit],
    who: Option<&Principal>,
    visitor: &Visitor,
) {
    let found = Found {
        hits: hits.len(),
        confident: hits.first().is_some_and(|h| h.confident),
        top_article_id: hits.first().map(|h| h.article_id),
    };
    record_search(st, query, source, &found, who, visitor);
}

/// What a search found, as the log keeps it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Found {
    /// How many hits.
    pub hits: usize,
    /// Whether the best one answers the query.
    pub confident: bool,
    /// The best hit, when it is an article.
    pub top_article_id: Option<i64>,
}

/// [`log_search`] for a search whose hits are not articles (the community's topics).
pub fn record_search(
    st: &AppState,
    query: &str,
    source: Source,
    found: &Found,
    who: Option<&Principal>,
    visitor: &Visitor,
) {
    if matches!(who, Some(Principal::Agent(_) | Principal::System)) {
        return;
    }
    let s = NewSearch {
        query: query.to_owned(),
        normalized: rapport_index::query::Parsed::normalized(query),
        source,
        hits: i64::try_from(found.hits).unwrap_or(i64::MAX),
        confident: found.confident,
        top_article_id: found.top_article_id,
        customer_id: who.and_then(Principal::customer),
        visitor: (!visitor.is_new()).then(|| visitor.hash.clone()),
    };
    let (db, now) = (st.db.clone(), st.now());
    tokio::spawn(async move {
        if let Err(e) = db.write(op!(c => searches::record(c, &s, now).await)).await {
            tracing::warn!(error = %e, "could not log a search");
        }
    });
}

fn run(st: &AppState, reader: &Reader, p: &Parsed, suggest: bool) -> Vec<KbHit> {
    let readable: &[Visibility] = Visibility::readable_by(reader.0.as_ref());
    st.kb_index.search(&KbQuery {
        text: &p.q,
        readable,
        locale: p.locale.as_ref(),
        limit: p.limit,
        suggest,
    })
}

fn answer(st: &AppState, visitor: &Visitor, hits: Vec<KbHit>) -> Response {
    let mut headers = HeaderMap::new();
    ensure_cookie(&mut headers, visitor, st.https);
    (
        headers,
        Json(KbSearchResults {
            hits: hits.into_iter().map(Into::into).collect(),
        }),
    )
        .into_response()
}

/// Searches the knowledge base (public; a portal customer or an agent sees more).
#[utoipa::path(get, path = "/api/v1/kb/search", tag = "kb",
    params(KbSearchParams),
    responses((status = 200, body = KbSearchResults), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn search(
    State(st): State<AppState>,
    ip: ClientIp,
    reader: Reader,
    visitor: Visitor,
    ApiQuery(p): ApiQuery<KbSearchParams>,
) -> ApiResult<Response> {
    let p = parse(p, 10)?;
    throttle(&st, ip)?;
    let hits = run(&st, &reader, &p, false);
    log_search(&st, &p.q, Source::Api, &hits, reader.0.as_ref(), &visitor);
    Ok(answer(&st, &visitor, hits))
}

/// Suggests articles while someone types: the last word also matches the words it begins.
/// Not logged unless `log=1`.
#[utoipa::path(get, path = "/api/v1/kb/suggest", tag = "kb",
    params(KbSearchParams),
    responses((status = 200, body = KbSearchResults), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn suggest(
    State(st): State<AppState>,
    ip: ClientIp,
    reader: Reader,
    visitor: Visitor,
    ApiQuery(p): ApiQuery<KbSearchParams>,
) -> ApiResult<Response> {
    let log = matches!(p.log.as_deref(), Some("1" | "true"));
    let p = parse(p, 5)?;
    throttle(&st, ip)?;
    let hits = run(&st, &reader, &p, true);
    if log {
        log_search(&st, &p.q, Source::Api, &hits, reader.0.as_ref(), &visitor);
    }
    Ok(answer(&st, &visitor, hits))
}
