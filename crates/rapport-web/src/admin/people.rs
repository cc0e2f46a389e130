//! Agents, teams and team members on the admin page: adding agents, deactivating and
//! reactivating them, changing roles, resetting passwords and revoking API tokens.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rapport_domain::{EmailAddress, Permission, Role};
use rapport_http::AppState;
use rapport_http::password_check::hash_new_password;
use rapport_store::people::{self, NewUser, UserChange};
use rapport_store::{op, secrets, tokens};
use serde::Deserialize;

use super::done;
use crate::confirm::ReauthForm;
use crate::page::{require, store_error, write_then};
use crate::sessions::{CsrfForm, Me, NoFields, SESSION_COOKIE, cookie};

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
    let hash = match hash_new_password("password", f.password).await {
        Ok(h) => h,
        Err(e) => return store_error(e),
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

/// Hashes a password typed into an admin form, or the page refusing it (on `password`).
async fn hash_form_password(password: String) -> Result<String, Response> {
    hash_new_password("password", password)
        .await
        .map_err(store_error)
}

/// The deactivate / reactivate form.
#[derive(Deserialize)]
pub struct ActiveForm {
    active: bool,
}

/// Deactivates (their sessions end, their API tokens are revoked for good) or
/// reactivates an agent (admins only; never the last active admin). Reactivating an admin
/// takes the password again, as making one does.
pub async fn set_active(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    form: ReauthForm<ActiveForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageUsers) {
        return r;
    }
    let active = form.fields.active;
    if active {
        let user = match st.db.read(op!(c => people::get_user(c, id).await)).await {
            Ok(u) => u,
            Err(e) => return store_error(e),
        };
        if user.role == Role::Admin
            && let Err(r) = form.reauthenticate(&st).await
        {
            return r;
        }
    }
    let change = UserChange {
        active: Some(active),
        role: None,
    };
    let now = st.now();
    write_then(
        &st,
        op!(c => people::update_user(c, id, change, now).await),
        |u| {
            let what = if u.active {
                "Reactivated"
            } else {
                "Deactivated"
            };
            done(&format!("{what} {}", u.name))
        },
    )
    .await
}

/// The role form.
#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

/// Changes an agent's role (admins only; never demotes the last active admin).
pub async fn set_role(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    form: ReauthForm<RoleForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageUsers) {
        return r;
    }
    let role = match Role::parse(&form.fields.role) {
        Ok(r) => r,
        Err(e) => return store_error(e.into()),
    };
    // Making an admin takes the password again.
    if role == Role::Admin
        && let Err(r) = form.reauthenticate(&st).await
    {
        return r;
    }
    let change = UserChange {
        active: None,
        role: Some(role),
    };
    let now = st.now();
    write_then(
        &st,
        op!(c => people::update_user(c, id, change, now).await),
        |u| done(&format!("{} is now {}", u.name, u.role.as_str())),
    )
    .await
}

/// The password reset form.
#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// Sets a new password for an agent (admins only). Every browser session of theirs ends
/// — but the admin's own, when they reset their own password here.
pub async fn reset_password(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    headers: HeaderMap,
    form: ReauthForm<PasswordForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageUsers) {
        return r;
    }
    // Setting someone's password hands over their account: the password again.
    if let Err(r) = form.reauthenticate(&st).await {
        return r;
    }
    let hash = match hash_form_password(form.fields.password).await {
        Ok(h) => h,
        Err(r) => return r,
    };
    let keep = (id == me.session.viewer.user_id)
        .then(|| cookie(&headers, SESSION_COOKIE, st.https).map(secrets::token_hash))
        .flatten();
    write_then(
        &st,
        op!(c => {
            people::set_password(c, id, &hash, keep.as_deref()).await?;
            people::get_user(c, id).await
        }),
        |u| {
            done(&format!(
                "Set a new password for {}; their sessions ended",
                u.name
            ))
        },
    )
    .await
}

/// Revokes an API token (admins only).
pub async fn revoke_token(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageUsers) {
        return r;
    }
    let now = st.now();
    write_then(&st, op!(c => tokens::revoke(c, id, now).await), |t| {
        done(&format!(
            "Revoked token {}",
            t.prefix.unwrap_or_else(|| t.id.to_string())
        ))
    })
    .await
}
