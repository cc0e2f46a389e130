//! Agents, teams and team members on the admin page.

use axum::extract::State;
use axum::response::Response;
use rapport_domain::{EmailAddress, Permission, Role};
use rapport_http::AppState;
use rapport_http::api::people::MIN_PASSWORD;
use rapport_store::op;
use rapport_store::people::{self, NewUser};
use rapport_store::secrets;
use serde::Deserialize;

use super::done;
use crate::confirm::ReauthForm;
use crate::page::{require, store_error, write_then};
use crate::sessions::{CsrfForm, Me};

/// The add-agent form.
#[derive(Deserialize)]
pub struct UserForm {
    email: String,
    name: String,
    role: String,
    password: String,
}

/// Adds an agent (admins only).
pub async fn add_user(State(st): State<AppState>, me: Me, form: ReauthForm<UserForm>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageUsers) {
        return r;
    }
    let parsed = EmailAddress::parse(&form.fields.email)
        .and_then(|e| Ok((e, Role::parse(&form.fields.role)?)));
    let (email, role) = match parsed {
        Ok(x) => x,
        Err(e) => return store_error(e.into()),
    };
    // Making an admin takes the password again.
    if role == Role::Admin
        && let Err(r) = form.reauthenticate(&st).await
    {
        return r;
    }
    let f = form.fields;
    if f.password.chars().count() < MIN_PASSWORD {
        return store_error(
            rapport_domain::FieldError::new(
                "password",
                format!("must be at least {MIN_PASSWORD} characters"),
            )
            .into(),
        );
    }
    let password = f.password;
    let hash = match tokio::task::spawn_blocking(move || secrets::hash_password(&password)).await {
        Ok(Ok(h)) => h,
        _ => return store_error(rapport_store::StoreError::Db("hashing failed".into())),
    };
    let now = st.now();
    let new = NewUser {
        email,
        name: f.name,
        role,
        password_hash: Some(hash),
    };
    write_then(&st, op!(c => people::create_user(c, new, now).await), |u| {
        done(&format!("Added {}", u.name))
    })
    .await
}

/// The add-team form.
#[derive(Deserialize)]
pub struct TeamForm {
    name: String,
}

/// Adds a team.
pub async fn add_team(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<TeamForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageTeams) {
        return r;
    }
    let now = st.now();
    write_then(
        &st,
        op!(c => people::create_team(c, &f.name, now).await),
        |t| done(&format!("Added team {}", t.name)),
    )
    .await
}

/// The add-member form.
#[derive(Deserialize)]
pub struct MemberForm {
    team_id: i64,
    user_id: i64,
}

/// Adds an agent to a team.
pub async fn add_member(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<MemberForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageTeams) {
        return r;
    }
    write_then(
        &st,
        op!(c => people::add_member(c, f.team_id, f.user_id).await),
        |t| done(&format!("Updated team {}", t.name)),
    )
    .await
}
