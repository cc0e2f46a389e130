//! "Was this helpful?": the form post under each article. Yes or no first, then an
//! optional comment (at most 2000 characters). One vote per reader per article — the
//! signed-in customer, or else the anonymous visitor's cookie (made here if the reader has
//! none; only its SHA-256 is stored) — and voting again changes the vote. The form carries
//! the portal's double-submit CSRF token, and posts count against the client address's
//! allowance for public forms.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::kb::Locale;
use rapport_domain::{FieldError, Principal};
use rapport_http::AppState;
use rapport_http::client::ClientIp;
use rapport_store::kb::feedback::{self, Comment, NewVote, Voter};
use rapport_store::kb::{self};
use rapport_store::secrets::{random_hex, token_hash};
use rapport_store::{StoreError, op};
use serde::Deserialize;

use super::ReaderKey;
use super::articles::article_path;
use crate::page::{error_page, store_error};
use crate::portal::refuse_post;
use crate::sessions::{cookie, set_cookie};

/// The anonymous visitor's cookie: a random token, the same one help-center search
/// uses to tie a search to a later ticket. Only its hash is stored.
pub const VISITOR_COOKIE: &str = "rapport_visitor";
/// A year.
const VISITOR_SECS: i64 = 365 * 86_400;

/// The anonymous voter of a request, from its visitor cookie (or `fresh`, a cookie about
/// to be set). `None` when there is neither.
pub fn voter_of(st: &AppState, headers: &HeaderMap, fresh: Option<&str>) -> Option<Voter> {
    let token = fresh.or_else(|| {
        cookie(headers, VISITOR_COOKIE, st.https)
            .filter(|t| t.len() >= 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
    })?;
    Some(Voter::Visitor(token_hash(token)))
}

/// The feedback form.
#[derive(Deserialize)]
pub struct FeedbackForm {
    csrf: String,
    /// `yes` or `no`.
    helpful: String,
    /// Optional.
    comment: Option<String>,
    /// The language read.
    lang: Option<String>,
}

/// Records a vote (and comment) and goes back to the article's feedback box.
pub async fn submit(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Form(f): Form<FeedbackForm>,
) -> Response {
    if let Some(r) = refuse_post(&st, &headers, &f.csrf, ip) {
        return r;
    }
    st.portal_posts.fail(ip);
    let parsed = (|| {
        let helpful = match f.helpful.trim() {
            "yes" => true,
            "no" => false,
            _ => return Err(FieldError::new("helpful", "must be yes or no")),
        };
        let comment = f.comment.as_deref().map(Comment::parse).transpose()?;
        let locale = f
            .lang
            .as_deref()
            .filter(|l| !l.is_empty())
            .map(Locale::parse)
            .transpose()?;
        Ok((helpful, comment, locale))
    })();
    let (helpful, comment, locale) = match parsed {
        Ok(x) => x,
        Err(e) => return store_error(e.into()),
    };
    let key = ReaderKey::of(&st, &headers);
    let mut new_cookie = None;
    let visitor = match voter_of(&st, &headers, None) {
        Some(v) => Some(v),
        None => {
            let token = random_hex(16);
            let v = voter_of(&st, &headers, Some(&token));
            new_cookie = Some(token);
            v
        }
    };
    let now = st.now();
    let done = st
        .db
        .write(op!(c => {
            let (reader, _) = super::frame(c, &key, "").await?;
            let a = kb::get_by_slug(c, reader.as_ref(), &slug).await?;
            let voter = match reader {
                Some(Principal::Customer(id)) => Voter::Customer(id),
                _ => visitor.ok_or(StoreError::Forbidden("no visitor"))?,
            };
            let locale = locale
                .filter(|l| a.translation(l).is_some())
                .unwrap_or_else(|| a.default_locale.clone());
            let vote = NewVote { article_id: a.id, locale: locale.clone(), helpful, comment, voter };
            feedback::vote(c, &vote, now).await?;
            Ok(article_path(&a, &locale))
        }))
        .await;
    let path = match done {
        Ok(p) => p,
        Err(StoreError::NotFound(_)) => {
            return error_page(StatusCode::NOT_FOUND, "Not found", "There is no such article.");
        }
        Err(e) => return store_error(e),
    };
    let mut r = Redirect::to(&format!("{path}#feedback")).into_response();
    if let Some(token) = new_cookie {
        r.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(VISITOR_COOKIE, &token, VISITOR_SECS, "Lax", st.https),
        );
    }
    r
}
