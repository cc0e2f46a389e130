//! Custom ticket fields on the admin page.

use axum::extract::State;
use axum::response::Response;
use rapport_domain::Permission;
use rapport_http::AppState;
use serde::Deserialize;

use super::done;
use crate::page::{require, write_then};
use crate::sessions::{CsrfForm, Me};
use rapport_store::fields;
use rapport_store::op;

/// The add-field form.
#[derive(Deserialize)]
pub struct FieldForm {
    key: String,
    label: String,
}

/// Defines a custom ticket field (admins only).
pub async fn add_field(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<FieldForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageUsers) {
        return r;
    }
    let now = st.now();
    write_then(
        &st,
        op!(c => fields::define(c, &f.key, &f.label, now).await),
        |d| done(&format!("Added field {}", d.label)),
    )
    .await
}
