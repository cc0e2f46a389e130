//! The anonymous visitor of the help center and the portal: a random cookie
//! (`rapport_visitor`, 128 bits) whose SHA-256 is stored with each search, so the
//! content-gap report can join "searched, found nothing good" to "filed a ticket within the
//! hour" without knowing who anyone is. The cookie itself is never stored.
//!
//! Take [`Visitor`] as an extractor; when it is new, call [`ensure_cookie`] on the response
//! so the browser keeps it.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use rapport_store::secrets::{random_hex, token_hash};

use crate::cookies;
use crate::state::AppState;

/// The visitor cookie's plain name.
pub const COOKIE: &str = "rapport_visitor";

/// How long the browser keeps it: a year.
pub const MAX_AGE_SECS: i64 = 365 * 86_400;

/// The visitor behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visitor {
    /// SHA-256 (hex) of the visitor's cookie: what is stored.
    pub hash: String,
    /// The cookie to set, when the request carried none (or a malformed one).
    new_token: Option<String>,
}

impl Visitor {
    /// The visitor of a request's headers, or a new one.
    pub fn from_headers(headers: &HeaderMap, https: bool) -> Self {
        match cookies::read(headers, COOKIE, https)
            .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            Some(t) => Self {
                hash: token_hash(t),
                new_token: None,
            },
            None => {
                let t = random_hex(16);
                Self {
                    hash: token_hash(&t),
                    new_token: Some(t),
                }
            }
        }
    }

    /// Whether the request carried no cookie: the response should set it.
    pub fn is_new(&self) -> bool {
        self.new_token.is_some()
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Infallible> {
        Ok(Self::from_headers(&parts.headers, st.https))
    }
}

/// Adds the visitor's cookie to a response's headers when it is new.
pub fn ensure_cookie(headers: &mut HeaderMap, visitor: &Visitor, https: bool) {
    if let Some(t) = &visitor.new_token
        && let Some(v) = cookies::set(COOKIE, t, MAX_AGE_SECS, https)
    {
        headers.append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_visitor_is_kept_or_made() {
        let v = Visitor::from_headers(&HeaderMap::new(), false);
        assert!(v.is_new());
        let mut h = HeaderMap::new();
        ensure_cookie(&mut h, &v, false);
        let set = h[header::SET_COOKIE].to_str().unwrap().to_owned();
        let token = set
            .strip_prefix("rapport_visitor=")
            .and_then(|s| s.split(';').next())
            .unwrap();
        assert_eq!(token.len(), 32);
        assert_ne!(v.hash, token, "the stored value is the hash");
        let mut req = HeaderMap::new();
        req.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; rapport_visitor={token}")).unwrap(),
        );
        let again = Visitor::from_headers(&req, false);
        assert!(!again.is_new());
        assert_eq!(again.hash, v.hash);
        req.insert(
            header::COOKIE,
            HeaderValue::from_static("rapport_visitor=<x>"),
        );
        assert!(Visitor::from_headers(&req, false).is_new());
    }
}
