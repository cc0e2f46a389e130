//! The new-request form's deflection beacons: its script tells the server which articles
//! it suggested and which one the customer opened, under the form's random id (the only
//! thing that names the attempt: no cookie, no text the customer typed). Both are
//! anonymous, so they are limited per client address; an id that is not 32 hex digits is
//! refused before any query.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rapport_domain::Principal;
use rapport_http::AppState;
use rapport_http::client::ClientIp;
use rapport_http::error::ApiError;
use rapport_http::visitor::Visitor;
use rapport_store::kb::deflection;
use rapport_store::op;
use serde::Deserialize;

use super::signin::portal_customer;

/// The anonymous visitor (`rapport_http::visitor`'s cookie, set by the help center and
/// the search API), hashed as the search log keeps it; `None` without a cookie.
pub(crate) fn visitor(st: &AppState, headers: &HeaderMap) -> Option<String> {
    let v = Visitor::from_headers(headers, st.https);
    (!v.is_new()).then_some(v.hash)
}

/// The most article ids one beacon may carry.
const MAX_IDS: usize = 10;

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

fn limited(st: &AppState, ip: std::net::IpAddr) -> Option<Response> {
    if st.deflection_beacons.is_blocked(ip) {
        return Some(ApiError::too_many().into_response());
    }
    st.deflection_beacons.fail(ip);
    None
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
/// begins with the first). 204; 404 for an id of the wrong shape; 429 past the limit.
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
    if !deflection::token_ok(&token) {
        return ApiError::not_found("deflection attempt").into_response();
    }
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
            deflection::shown(c, who.as_ref(), &token, visitor.as_deref(), &ids, now).await
        }))
        .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `POST /portal/deflection/{id}/opened`: the customer opened one of the suggested
/// articles. 204; 404 when the attempt or the suggestion is unknown.
pub async fn opened(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Form(f): Form<OpenedForm>,
) -> Response {
    if let Some(r) = limited(&st, ip) {
        return r;
    }
    if !deflection::token_ok(&token) {
        return ApiError::not_found("deflection attempt").into_response();
    }
    let Ok(article) = f.article.trim().parse::<i64>() else {
        return ApiError::field("article", "must be an article id").into_response();
    };
    let now = st.now();
    match st
        .db
        .write(op!(c => deflection::opened(c, &token, article, now).await))
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}
