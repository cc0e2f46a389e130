//! The help center's look: the admin page `/admin/branding` (name, colour `#rrggbb`, an
//! uploaded logo — PNG, JPEG, GIF or WebP, told by its bytes, at most 200 KB), and what
//! the public pages load from it: `/help/brand.css` (the colour, with the text colour that
//! contrasts with it) and `/help/logo`. Both are served from this site, as the pages'
//! Content-Security-Policy requires, and cached by browsers under a URL that changes with
//! the branding.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_domain::branding::{BrandColor, BrandName, LogoFormat};
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::settings::{self, BrandingChange};
use serde::Deserialize;

use crate::page::{MeView, error_page, page, read_multipart, require, store_error};
use crate::sessions::Me;

#[derive(Template)]
#[template(path = "help/branding.html")]
struct BrandingPage {
    me: MeView,
    name: String,
    color: String,
    has_logo: bool,
    version: i64,
    notice: Option<String>,
    error: Option<String>,
}

/// `?saved=1` after a change.
#[derive(Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

/// The branding page (admins).
pub async fn form(State(st): State<AppState>, me: Me, Query(q): Query<Saved>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageBranding) {
        return r;
    }
    match st.db.read(op!(c => settings::branding(c).await)).await {
        Ok(b) => page(&BrandingPage {
            me: MeView::of(&me, ""),
            name: b.name,
            color: b.color.hex(),
            has_logo: b.logo.is_some(),
            version: b.updated_at.micros(),
            notice: q.saved.map(|_| "Saved.".to_owned()),
            error: None,
        }),
        Err(e) => store_error(e),
    }
}

/// Saves the branding form (multipart: `csrf`, `name`, `color`, optional `logo` file,
/// `remove_logo`).
pub async fn save(State(st): State<AppState>, me: Me, form: Multipart) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageBranding) {
        return r;
    }
    let form = match read_multipart(form).await {
        Ok(f) => f,
        Err((status, msg)) => return error_page(status, "The form could not be sent", &msg),
    };
    if let Some(r) = me.reject_csrf(&form.text("csrf")) {
        return r;
    }
    let name = form.text("name");
    let color = form.text("color");
    let parsed = (|| {
        let logo = match form.files.first() {
            Some(f) => Some((LogoFormat::sniff(&f.data)?, f.data.clone())),
            None => None,
        };
        Ok::<_, rapport_domain::FieldError>(BrandingChange {
            name: BrandName::parse(&name)?,
            color: BrandColor::parse(&color)?,
            logo,
            remove_logo: !form.text("remove_logo").is_empty(),
        })
    })();
    let change = match parsed {
        Ok(c) => c,
        Err(e) => {
            let mut r = page(&BrandingPage {
                me: MeView::of(&me, ""),
                name,
                color,
                has_logo: false,
                version: 0,
                notice: None,
                error: Some(format!("Please check the {}: {}", e.field, e.message)),
            });
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return r;
        }
    };
    let viewer = me.session.viewer.clone();
    let now = st.now();
    match st
        .db
        .write(op!(c => settings::set_branding(c, &viewer, change, now).await))
        .await
    {
        Ok(_) => Redirect::to("/admin/branding?saved=1").into_response(),
        Err(e) => store_error(e),
    }
}

/// `?v=`: the branding's version, which the pages put in the URL.
#[derive(Deserialize)]
pub struct Version {
    v: Option<String>,
}

impl Version {
    /// A versioned URL may be kept a year (a change makes a new URL); an unversioned one
    /// five minutes.
    fn cache(&self) -> &'static str {
        if self.v.is_some() {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=300"
        }
    }
}

/// `/help/brand.css`: the colour as CSS custom properties.
pub async fn css(State(st): State<AppState>, Query(v): Query<Version>) -> Response {
    match st.db.read(op!(c => settings::branding(c).await)).await {
        Ok(b) => (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, v.cache()),
            ],
            format!(
                ":root {{ --brand: {}; --brand-text: {}; }}\n",
                b.color.hex(),
                b.color.text_on()
            ),
        )
            .into_response(),
        Err(e) => store_error(e),
    }
}

/// `/help/logo`: the uploaded logo, served with the type its bytes showed (and
/// `nosniff`, like every response).
pub async fn logo(State(st): State<AppState>, Query(v): Query<Version>) -> Response {
    match st.db.read(op!(c => settings::logo(c).await)).await {
        Ok(Some((format, data))) => (
            [
                (header::CONTENT_TYPE, format.content_type()),
                (header::CACHE_CONTROL, v.cache()),
            ],
            data,
        )
            .into_response(),
        Ok(None) => error_page(StatusCode::NOT_FOUND, "Not found", "There is no logo."),
        Err(e) => store_error(e),
    }
}
