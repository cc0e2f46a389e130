//! The new-request form's deflection beacons: its script tells the server which articles
//! it suggested, which one the customer opened and, once a field is left, the words the
//! customer settled on (for the search log). Each names the attempt by the id the server
//! issued with the form (`rapport_store::kb::deflection::issue`: signed with the server's
//! key, bound to the visitor's cookie, good for a day), checked before anything is counted:
//! a made-up, altered, expired or another browser's id is refused (404) and counts
//! nothing. The beacons are anonymous, so they are limited per client address; an id of
//! the wrong shape is refused before any hashing.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_domain::Principal;
use rapport_domain::kb::Visibility;
use rapport_http::AppState;
use rapport_http::api::kb::search::{MAX_QUERY_CHARS, log_search};
use rapport_http::client::ClientIp;
use rapport_http::error::ApiError;
use rapport_http::visitor::Visitor;
use rapport_index::kb::KbQuery;
use rapport_store::kb::deflection::{self, Attempt};
use rapport_store::kb::searches::Source;
use rapport_store::op;
use serde::Deserialize;

use super::signin::portal_customer;

/// The anonymous visitor (`rapport_http::visitor`'s cookie, set by the help center and
/// the new-request form), hashed as the search log keeps it; `None` without a cookie.
pub(crate) fn visitor(st: &AppState, headers: &HeaderMap) -> Option<String> {
    let v = Visitor::from_headers(headers, st.https);
    (!v.is_new()).then_some(v.hash)
}

/// The most article ids one beacon may carry.
const MAX_IDS: usize = 10;

/// How many suggestions the form shows (as `/api/v1/kb/suggest` gives it).
const SUGGESTIONS: usize = 5;

/// Which articles the form suggested, best first: `articles=12,7,3`.
#[derive(Debug, Deserialize)]
pub struct ShownForm {
    articles: String,
}

/// Which suggested article the customer opened.
#[derive(Debug, Deserialize)]
pub struct OpenedForm {
    article: String,
}

/// The words the customer settled on (subject and message, as the suggestions read them).
#[derive(Debug, Deserialize)]
pub struct SearchedForm {
    q: String,
}

fn limited(st: &AppState, ip: std::net::IpAddr) -> Option<Response> {
    if st.deflection_beacons.is_blocked(ip) {
        return Some(ApiError::too_often().into_response());
    }
    st.deflection_beacons.fail(ip);
    None
}

/// The attempt a beacon names, checked against the server's key and the request's
/// visitor cookie; `None` (answered 404) otherwise.
fn attempt(st: &AppState, headers: &HeaderMap, token: &str) -> Option<Attempt> {
    let v = Visitor::from_headers(headers, st.https);
    Attempt::check(&st.sealer, token, &v.hash, st.now()).ok()
}

fn refused() -> Response {
    ApiError::not_found("deflection attempt").into_response()
}

fn parse_ids(raw: &str) -> Result<Vec<i64>, ApiError> {
    if raw.len() > 200 {
        return Err(ApiError::field("articles", "too long"));
    }
    let ids: Result<Vec<i64>, _> = raw
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<i64>())
        .collect();
    match ids {
        Ok(ids) if ids.len() <= MAX_IDS => Ok(ids),
        Ok(_) => Err(ApiError::field("articles", "at most 10 articles")),
        Err(_) => Err(ApiError::field(
            "articles",
            "must be article ids separated by commas",
        )),
    }
}

/// `POST /portal/deflection/{id}/shown`: the form showed these suggestions (the attempt
/// begins with the first). 204; 404 for an id this server did not issue to this visitor
/// (or issued more than a day ago); 429 past the limit.
pub async fn shown(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<ShownForm>,
) -> Response {
    if let Some(r) = limited(&st, ip) {
        return r;
    }
    let Some(attempt) = attempt(&st, &headers, &token) else {
        return refused();
    };
    let ids = match parse_ids(&f.articles) {
        Ok(ids) => ids,
        Err(e) => return e.into_response(),
    };
    let who = portal_customer(&st, &headers)
        .await
        .map(Principal::Customer);
    let visitor = visitor(&st, &headers);
    let now = st.now();
    match st
        .db
        .write(op!(c => {
            deflection::shown(c, who.as_ref(), &attempt, visitor.as_deref(), &ids, now).await
        }))
        .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /portal/deflection/{id}/opened`: the customer opened one of the suggested
/// articles. 204; 404 when the id is refused, the attempt unknown or the article was not
/// suggested to it.
pub async fn opened(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<OpenedForm>,
) -> Response {
    if let Some(r) = limited(&st, ip) {
        return r;
    }
    let Some(attempt) = attempt(&st, &headers, &token) else {
        return refused();
    };
    let Ok(article) = f.article.trim().parse::<i64>() else {
        return ApiError::field("article", "must be an article id").into_response();
    };
    let now = st.now();
    match st
        .db
        .write(op!(c => deflection::opened(c, &attempt, article, now).await))
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /portal/deflection/{id}/searched`: the words the customer settled on, logged as
/// a search made on the portal (source `portal`, decided here: only a form this server
/// rendered can log one) with what the suggestions found for them. 204; 404 when the id
/// is refused; 422 for an empty or over-long `q`; 429 past the search limit.
pub async fn searched(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<SearchedForm>,
) -> Response {
    if st.kb_search_limit.is_blocked(ip) {
        return ApiError::too_often().into_response();
    }
    st.kb_search_limit.fail(ip);
    if attempt(&st, &headers, &token).is_none() {
        return refused();
    }
    let q = f.q.trim();
    if q.is_empty() {
        return ApiError::field("q", "is required").into_response();
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return ApiError::field("q", "is longer than 200 characters").into_response();
    }
    let who = portal_customer(&st, &headers)
        .await
        .map(Principal::Customer);
    let hits = st.kb_index.search(&KbQuery {
        text: q,
        readable: Visibility::readable_by(who.as_ref()),
        locale: None,
        limit: SUGGESTIONS,
        suggest: true,
    });
    let v = Visitor::from_headers(&headers, st.https);
    log_search(&st, q, Source::Portal, &hits, who.as_ref(), &v);
    StatusCode::NO_CONTENT.into_response()
}
