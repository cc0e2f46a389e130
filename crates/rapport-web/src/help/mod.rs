//! The public help center: `/help` (categories, popular and recent articles, a search
//! box), `/help/categories/{slug}`, `/help/articles/{slug}` (the article in the reader's
//! language, its table of contents, related articles, "Was this helpful?"),
//! `/help/search`, and for search engines `/sitemap.xml` and `/robots.txt`. No sign-in:
//! an anonymous reader sees public articles; a customer signed in to the portal also
//! customer-only ones; drafts, archived and internal articles are never found here,
//! whatever the URL. The look (name, colour, logo) is the admin's, from
//! `/admin/branding`.

pub mod articles;
pub mod branding;
pub mod categories;
pub mod feedback;
pub mod home;
pub mod search;
pub mod seo;

use axum::http::HeaderMap;
use rapport_domain::kb::Locale;
use rapport_domain::{Principal, Timestamp};
use rapport_http::AppState;
use rapport_store::Conn;
use rapport_store::portal;
use rapport_store::secrets::token_hash;
use rapport_store::settings::{self, Branding};

use crate::portal::signin::PORTAL_SESSION;
use crate::sessions::cookie;

/// What every help center page's frame shows.
pub struct Layout {
    /// The help desk's name.
    pub brand: String,
    /// Whether there is a logo to show.
    pub has_logo: bool,
    /// Changes when the branding does: the stylesheet's and logo's URLs carry it.
    pub version: i64,
    /// Whether a customer is signed in to the portal.
    pub signed_in: bool,
    /// The search box's text.
    pub query: String,
}

impl Layout {
    fn of(b: &Branding, reader: Option<&Principal>, query: &str) -> Self {
        Self {
            brand: b.name.clone(),
            has_logo: b.logo.is_some(),
            version: b.updated_at.micros(),
            signed_in: reader.is_some(),
            query: query.to_owned(),
        }
    }
}

/// Who reads, as the request says: the hash of the portal session cookie, if any.
#[derive(Clone)]
pub struct ReaderKey {
    session_hash: Option<String>,
    now: Timestamp,
}

impl ReaderKey {
    /// The reader of a request.
    pub fn of(st: &AppState, headers: &HeaderMap) -> Self {
        Self {
            session_hash: cookie(headers, PORTAL_SESSION, st.https).map(token_hash),
            now: st.now(),
        }
    }
}

/// The reader (`None`: anonymous; a signed-in portal customer otherwise) and the layout,
/// read inside the page's own read.
pub async fn frame(
    c: &mut dyn Conn,
    key: &ReaderKey,
    query: &str,
) -> rapport_store::Result<(Option<Principal>, Layout)> {
    let reader = match &key.session_hash {
        Some(hash) => portal::session_customer(c, hash, key.now)
            .await?
            .map(Principal::Customer),
        None => None,
    };
    let brand = settings::branding(c).await?;
    let layout = Layout::of(&brand, reader.as_ref(), query);
    Ok((reader, layout))
}

/// The language a reader asked for: `?lang=` when it names one of `available`, else the
/// best of `Accept-Language`, else `default`.
pub fn pick_locale(
    lang: Option<&str>,
    headers: &HeaderMap,
    available: &[Locale],
    default: &Locale,
) -> Locale {
    if let Some(asked) = lang.and_then(|l| Locale::parse(l).ok())
        && let Some(found) = available
            .iter()
            .find(|a| **a == asked)
            .or_else(|| available.iter().find(|a| a.language() == asked.language()))
    {
        return found.clone();
    }
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Locale::negotiate(accept, available)
        .cloned()
        .unwrap_or_else(|| default.clone())
}

/// The name of a language in itself, for the language switcher (the tag when unknown).
pub fn language_name(l: &Locale) -> String {
    let name = match l.language() {
        "en" => "English",
        "de" => "Deutsch",
        "fr" => "Français",
        "es" => "Español",
        "it" => "Italiano",
        "nl" => "Nederlands",
        "pt" => "Português",
        "sv" => "Svenska",
        "da" => "Dansk",
        "no" | "nb" => "Norsk",
        "fi" => "Suomi",
        "pl" => "Polski",
        "cs" => "Čeština",
        "ja" => "日本語",
        "zh" => "中文",
        "ko" => "한국어",
        "ru" => "Русский",
        "tr" => "Türkçe",
        _ => return l.as_str().to_owned(),
    };
    if l.as_str() == l.language() {
        name.to_owned()
    } else {
        format!("{name} ({})", l.as_str())
    }
}

/// Plain text cut to about `max` characters at a word boundary, with an ellipsis when
/// cut (for descriptions and excerpts).
pub fn excerpt(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let cut: String = flat.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a);
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locales(tags: &[&str]) -> Vec<Locale> {
        tags.iter().map(|t| Locale::parse(t).unwrap()).collect()
    }

    #[test]
    fn lang_beats_accept_language_beats_the_default() {
        let avail = locales(&["en", "de"]);
        let en = Locale::english();
        let mut h = HeaderMap::new();
        h.insert("accept-language", "de-CH, de;q=0.9, en;q=0.5".parse().unwrap());
        assert_eq!(pick_locale(None, &h, &avail, &en).as_str(), "de");
        assert_eq!(pick_locale(Some("en"), &h, &avail, &en).as_str(), "en");
        assert_eq!(pick_locale(Some("fr"), &h, &avail, &en).as_str(), "de", "unknown ?lang is ignored");
        assert_eq!(pick_locale(Some("<x>"), &HeaderMap::new(), &avail, &en).as_str(), "en");
    }

    #[test]
    fn excerpts_end_at_a_word() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("one two three four", 10), "one two…");
        assert_eq!(excerpt("a\n\nb", 10), "a b");
    }
}
