//! Admin pages: agents, teams, categories, macros, custom fields and mailboxes.
//! Supervisors manage teams, categories and macros; only admins add agents, fields and
//! mailboxes. One module per capability; this one is the page that lists them all.

pub mod automations;
pub mod categories;
pub mod classify;
pub mod fields;
pub mod macros;
pub mod mailboxes;
pub mod people;
pub mod routing;
pub mod sla;
pub mod webhooks;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_http::AppState;
use rapport_store::categories as store_categories;
use rapport_store::op;
use rapport_store::people as store_people;
use serde::Deserialize;

use crate::page::{MeView, page, require, store_error};
use crate::sessions::Me;
use mailboxes::{MailboxRow, mailbox_row};

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    me: MeView,
    notice: Option<String>,
    can_manage_users: bool,
    users: Vec<UserRow>,
    tokens: Vec<TokenRow>,
    user_ids: Vec<(i64, String)>,
    teams: Vec<(i64, String, String)>,
    categories: Vec<(String, String)>,
    macros: Vec<String>,
    fields: Vec<(String, String)>,
    mailboxes: Vec<MailboxRow>,
}

/// An agent's row: who, role, teams, and whether they may sign in.
struct UserRow {
    id: i64,
    name: String,
    email: String,
    role: String,
    teams: String,
    active: bool,
}

/// An API token's row (never the token itself).
struct TokenRow {
    id: i64,
    prefix: String,
    agent: String,
    name: String,
    expires: String,
    state: &'static str,
    live: bool,
}

/// `?done=` shows what the last action did.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The admin page.
pub async fn index(State(st): State<AppState>, me: Me, Query(q): Query<Done>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageTeams) {
        return r;
    }
    let now = st.now();
    let data = st
        .db
        .read(op!(c => {
            let users = store_people::list_users(c).await?;
            let teams = store_people::list_teams(c).await?;
            let cats = store_categories::list(c).await?;
            let macros = rapport_store::macros::list(c).await?;
            let fields = rapport_store::fields::list(c).await?;
            let mailboxes = rapport_store::mail::mailboxes(c).await?;
            let tokens = rapport_store::tokens::list(c, None).await?;
            let health = rapport_store::imap::health(c, now).await?;
            let mailboxes = mailboxes
                .into_iter()
                .map(|m| mailbox_row(m, &health))
                .collect::<Vec<_>>();
            Ok((users, teams, cats, macros, fields, mailboxes, tokens))
        }))
        .await;
    let (users, teams, cats, macros, fields, mailboxes, tokens) = match data {
        Ok(d) => d,
        Err(e) => return store_error(e),
    };
    let team_name = |id: &i64| {
        teams
            .iter()
            .find(|t| t.id == *id)
            .map_or_else(String::new, |t| t.name.clone())
    };
    let user_name = |id: &i64| {
        users
            .iter()
            .find(|u| u.id == *id)
            .map_or_else(String::new, |u| u.name.clone())
    };
    page(&AdminPage {
        notice: q.done,
        can_manage_users: me.session.viewer.can(Permission::ManageUsers),
        me: MeView::of(&me, ""),
        users: users
            .iter()
            .map(|u| UserRow {
                id: u.id,
                name: u.name.clone(),
                email: u.email.clone(),
                role: u.role.as_str().to_owned(),
                teams: u
                    .team_ids
                    .iter()
                    .map(team_name)
                    .collect::<Vec<_>>()
                    .join(", "),
                active: u.active,
            })
            .collect(),
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                id: t.id,
                live: t.is_live(now),
                state: match (t.revoked_at, t.is_live(now)) {
                    (Some(_), _) => "revoked",
                    (None, false) => "expired",
                    (None, true) => "active",
                },
                prefix: t.prefix.clone().unwrap_or_else(|| format!("#{}", t.id)),
                agent: users
                    .iter()
                    .find(|u| u.id == t.user_id)
                    .map_or_else(String::new, |u| u.email.clone()),
                name: t.name,
                expires: t
                    .expires_at
                    .map_or_else(|| "never".to_owned(), |e| e.to_datetime().to_rfc3339()),
            })
            .collect(),
        user_ids: users.iter().map(|u| (u.id, u.name.clone())).collect(),
        teams: teams
            .iter()
            .map(|t| {
                let members = t.member_ids.iter().map(user_name).collect::<Vec<_>>();
                let members = if members.is_empty() {
                    "no members yet".to_owned()
                } else {
                    members.join(", ")
                };
                (t.id, t.name.clone(), members)
            })
            .collect(),
        categories: cats.into_iter().map(|c| (c.slug, c.name)).collect(),
        macros: macros.into_iter().map(|m| m.name).collect(),
        fields: fields.into_iter().map(|f| (f.key, f.label)).collect(),
        mailboxes,
    })
}

pub(crate) fn done(what: &str) -> Response {
    let q: String = form_urlencoded::byte_serialize(what.as_bytes()).collect();
    Redirect::to(&format!("/admin?done={q}")).into_response()
}
