//! Macros on the admin page: adding one (applying is in `crate::macros`).

use axum::extract::State;
use axum::response::Response;
use rapport_domain::{Permission, Priority, Tag, TicketStatus};
use rapport_http::AppState;
use rapport_store::macros;
use rapport_store::macros::NewMacro;
use rapport_store::op;
use serde::Deserialize;

use super::done;
use crate::page::{require, store_error, write_then};
use crate::sessions::{CsrfForm, Me};

/// The add-macro form.
#[derive(Deserialize)]
pub struct MacroForm {
    name: String,
    body: String,
    status: String,
    priority: String,
    tags: String,
}

fn parse_macro(f: &MacroForm) -> Result<NewMacro, rapport_domain::FieldError> {
    let tags: Vec<&str> = f
        .tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    Ok(NewMacro {
        name: f.name.clone(),
        body: f.body.clone(),
        set_status: Some(f.status.as_str())
            .filter(|s| !s.is_empty())
            .map(TicketStatus::parse)
            .transpose()?,
        set_priority: Some(f.priority.as_str())
            .filter(|s| !s.is_empty())
            .map(Priority::parse)
            .transpose()?,
        add_tags: Tag::parse_list(&tags)?,
    })
}

/// Adds a macro (supervisors and admins).
pub async fn add_macro(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<MacroForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageTeams) {
        return r;
    }
    let new = match parse_macro(&f) {
        Ok(m) => m,
        Err(e) => return store_error(e.into()),
    };
    let by = me.session.viewer.user_id;
    let now = st.now();
    write_then(&st, op!(c => macros::create(c, by, new, now).await), |m| {
        done(&format!("Added macro {}", m.name))
    })
    .await
}
