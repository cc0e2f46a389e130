//! "Was this helpful?": the form post under each article. Yes or no first, then an
//! optional comment (at most 2000 characters). One vote per reader per article — the
//! signed-in customer, or else the anonymous visitor's cookie (`rapport_http::visitor`,
//! made here if the reader has none; only its SHA-256 is stored) — and voting again changes the vote. The form carries
//! the portal's double-submit CSRF token, and posts count against the client address's
//! allowance for public forms.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::kb::Locale;
use rapport_domain::{FieldError, Principal};
use rapport_http::AppState;
use rapport_http::client::ClientIp;
use rapport_http::visitor::{Visitor, ensure_cookie};
use rapport_store::kb::feedback::{self, Comment, NewVote, Voter};
use rapport_store::kb::{self};
use rapport_store::{StoreError, op};
use serde::Deserialize;

use super::ReaderKey;
use super::articles::article_path;
use crate::page::{error_page, store_error};
use crate::portal::refuse_post;

/// The anonymous voter of a request: its visitor cookie (`rapport_http::visitor`, the
/// one help-center search ties a search to a later ticket with), if it carried one.
pub fn voter_of(st: &AppState, headers: &HeaderMap) -> Option<Voter> {
    let v = Visitor::from_headers(headers, st.https);
    (!v.is_new()).then_some(Voter::Visitor(v.hash))
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
    visitor: Visitor,
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
            .map(|l| Locale::parse(l).map_err(|e| FieldError::new("lang", e.message)))
            .transpose()?;
        Ok((helpful, comment, locale))
    })();
    let (helpful, comment, locale) = match parsed {
        Ok(x) => x,
        Err(e) => return store_error(e.into()),
    };
    let key = ReaderKey::of(&st, &headers);
    let anonymous = Voter::Visitor(visitor.hash.clone());
    let now = st.now();
    let done = st
        .db
        .write(op!(c => {
            let (reader, _) = super::frame(c, &key, "").await?;
            // A page opened before a rename posts to the old slug.
            let a = kb::lookup::get_by_any_slug(c, reader.as_ref(), &slug).await?;
            let voter = match reader {
                Some(Principal::Customer(id)) => Voter::Customer(id),
                _ => anonymous,
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
            return error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such article.",
            );
        }
        Err(e) => return store_error(e),
    };
    let mut r = Redirect::to(&format!("{path}#feedback")).into_response();
    ensure_cookie(r.headers_mut(), &visitor, st.https);
    r
}
