//! Custom categories on the admin page.

use axum::extract::State;
use axum::response::Response;
use rapport_domain::{Category, Permission};
use rapport_http::AppState;
use rapport_store::categories;
use rapport_store::op;
use serde::Deserialize;

use super::done;
use crate::page::{require, store_error, write_then};
use crate::sessions::{CsrfForm, Me};

/// The add-category form.
#[derive(Deserialize)]
pub struct CategoryForm {
    slug: String,
    name: String,
}

/// Adds a custom category.
pub async fn add_category(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<CategoryForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageCategories) {
        return r;
    }
    let slug = match Category::parse(&f.slug) {
        Ok(s) => s,
        Err(e) => return store_error(e.into()),
    };
    let now = st.now();
    write_then(
        &st,
        op!(c => categories::create(c, &slug, &f.name, now).await),
        |cat| done(&format!("Added category {}", cat.name)),
    )
    .await
}
