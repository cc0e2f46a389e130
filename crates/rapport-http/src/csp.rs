//! The Content-Security-Policy every response carries, set by [`crate::serve`]: scripts,
//! styles and images from this site only (`data:` images too, for the workspace), forms
//! posting to it, no frames. Two kinds of page may ask for more: a help-center article,
//! whose author may show images from other https sites ([`HttpsImages`]), and the
//! article editor, whose live preview shows the article as it will be. Nothing else
//! widens the policy, and no handler writes the header itself — `serve` overrides it.

use axum::http::HeaderValue;
use axum::response::Response;

/// The policy of every page and answer.
pub const STRICT: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The policy of a page that shows images from https sites: [`STRICT`] with `img-src`
/// allowing `https:` — and no longer `data:`, which the article sanitiser removes anyway.
pub const HTTPS_IMAGES: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' https:; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Put in a response's extensions by a page that shows images from https sites (an
/// article in the help center or its editor's preview, whose HTML `render::article_html`
/// has sanitised: `<img>`
/// keeps only an `https://` source and its plain attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpsImages;

/// The policy for `response`.
pub fn policy(response: &Response) -> Option<HeaderValue> {
    Some(HeaderValue::from_static(
        if response.extensions().get::<HttpsImages>().is_some() {
            HTTPS_IMAGES
        } else {
            STRICT
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marked_responses_allow_https_images() {
        let plain = Response::new(axum::body::Body::empty());
        assert_eq!(policy(&plain).unwrap(), STRICT);
        let mut marked = Response::new(axum::body::Body::empty());
        marked.extensions_mut().insert(HttpsImages);
        assert_eq!(policy(&marked).unwrap(), HTTPS_IMAGES);
        // The two differ in img-src alone.
        let differ: Vec<(&str, &str)> = STRICT
            .split("; ")
            .zip(HTTPS_IMAGES.split("; "))
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(
            differ,
            vec![("img-src 'self' data:", "img-src 'self' https:")]
        );
    }
}
