//! Admin pages: agents, teams and categories. Supervisors manage teams and categories;
//! only admins add agents.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::{Category, EmailAddress, Permission, Priority, Role, Tag, TicketStatus};
use rapport_store::people::{self, NewUser};
use rapport_store::workspace::{self, NewMacro};
use rapport_store::{categories, secrets};
use serde::Deserialize;

use super::agent::MeView;
use super::auth::forbidden;
use super::{Me, page, store_error, write_then};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    me: MeView,
    notice: Option<String>,
    can_manage_users: bool,
    users: Vec<(String, String, String, String)>,
    user_ids: Vec<(i64, String)>,
    teams: Vec<(i64, String, String)>,
    categories: Vec<(String, String)>,
    macros: Vec<String>,
    fields: Vec<(String, String)>,
    mailboxes: Vec<MailboxRow>,
}

/// A mailbox as the admin page lists it, with how its fetching is doing.
struct MailboxRow {
    id: i64,
    address: String,
    name: String,
    /// "IMAP user@host:port/folder", or empty for SMTP only.
    imap: String,
    /// "fetched 2 minutes ago", the last error, set-aside messages.
    status: String,
    stalled: bool,
    acknowledge: bool,
    /// IMAP over TLS (what the edit form's box starts as).
    tls: bool,
}

fn mailbox_row(
    m: rapport_store::mail::Mailbox,
    health: &[rapport_store::imap::FetchHealth],
) -> MailboxRow {
    let acknowledge = m.acknowledge;
    let Some(h) = health.iter().find(|h| h.mailbox_id == m.id) else {
        return MailboxRow {
            id: m.id,
            address: m.address,
            name: m.name,
            imap: String::new(),
            status: String::new(),
            stalled: false,
            acknowledge,
            tls: true,
        };
    };
    let mut status = match h.last_fetch_at {
        Some(_) => format!("last fetched {} s ago", h.silent_for_secs),
        None => "not fetched yet".to_owned(),
    };
    if let Some(e) = &h.last_error {
        status.push_str(&format!("; failing: {e}"));
    }
    if h.set_aside > 0 {
        status.push_str(&format!(
            "; {} message(s) set aside, newest: {}",
            h.set_aside,
            h.set_aside_reason.as_deref().unwrap_or("")
        ));
    }
    MailboxRow {
        imap: format!(
            "IMAP {}@{}:{}/{}{}",
            h.user,
            h.host,
            h.port,
            h.folder,
            if h.tls { " (TLS)" } else { "" }
        ),
        id: m.id,
        address: m.address,
        name: m.name,
        status,
        stalled: h.stalled,
        acknowledge,
        tls: h.tls,
    }
}

/// `?done=` shows what the last action did.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// The admin page.
pub async fn index(State(st): State<AppState>, me: Me, Query(q): Query<Done>) -> Response {
    if !me.session.viewer.can(Permission::ManageTeams) {
        return forbidden();
    }
    let now = st.now();
    let data = st
        .db
        .read(move |c| {
            Box::pin(async move {
                let users = people::list_users(c).await?;
                let teams = people::list_teams(c).await?;
                let cats = categories::list(c).await?;
                let macros = workspace::list_macros(c).await?;
                let fields = workspace::fields(c).await?;
                let mailboxes = rapport_store::mail::mailboxes(c).await?;
                let health = rapport_store::imap::health(c, now).await?;
                let mailboxes = mailboxes
                    .into_iter()
                    .map(|m| mailbox_row(m, &health))
                    .collect::<Vec<_>>();
                Ok((users, teams, cats, macros, fields, mailboxes))
            })
        })
        .await;
    let (users, teams, cats, macros, fields, mailboxes) = match data {
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
            .map(|u| {
                (
                    u.name.clone(),
                    u.email.clone(),
                    u.role.as_str().to_owned(),
                    u.team_ids
                        .iter()
                        .map(team_name)
                        .collect::<Vec<_>>()
                        .join(", "),
                )
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

fn done(what: &str) -> Response {
    let q: String = form_urlencoded::byte_serialize(what.as_bytes()).collect();
    Redirect::to(&format!("/admin?done={q}")).into_response()
}

/// The add-agent form.
#[derive(Deserialize)]
pub struct UserForm {
    csrf: String,
    email: String,
    name: String,
    role: String,
    password: String,
}

/// Adds an agent (admins only).
pub async fn add_user(State(st): State<AppState>, me: Me, Form(f): Form<UserForm>) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    if !me.session.viewer.can(Permission::ManageUsers) {
        return forbidden();
    }
    let parsed = EmailAddress::parse(&f.email).and_then(|e| Ok((e, Role::parse(&f.role)?)));
    let (email, role) = match parsed {
        Ok(x) => x,
        Err(e) => return store_error(e.into()),
    };
    if f.password.chars().count() < 10 {
        return store_error(
            rapport_domain::FieldError::new("password", "must be at least 10 characters").into(),
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
    write_then(
        &st,
        move |c| Box::pin(async move { people::create_user(c, new, now).await }),
        |u| done(&format!("Added {}", u.name)),
    )
    .await
}

/// The add-team form.
#[derive(Deserialize)]
pub struct TeamForm {
    csrf: String,
    name: String,
}

/// Adds a team.
pub async fn add_team(State(st): State<AppState>, me: Me, Form(f): Form<TeamForm>) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    if !me.session.viewer.can(Permission::ManageTeams) {
        return forbidden();
    }
    let now = st.now();
    write_then(
        &st,
        move |c| Box::pin(async move { people::create_team(c, &f.name, now).await }),
        |t| done(&format!("Added team {}", t.name)),
    )
    .await
}

/// The add-member form.
#[derive(Deserialize)]
pub struct MemberForm {
    csrf: String,
    team_id: i64,
    user_id: i64,
}

/// Adds an agent to a team.
pub async fn add_member(State(st): State<AppState>, me: Me, Form(f): Form<MemberForm>) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    if !me.session.viewer.can(Permission::ManageTeams) {
        return forbidden();
    }
    write_then(
        &st,
        move |c| Box::pin(async move { people::add_member(c, f.team_id, f.user_id).await }),
        |t| done(&format!("Updated team {}", t.name)),
    )
    .await
}

/// The add-category form.
#[derive(Deserialize)]
pub struct CategoryForm {
    csrf: String,
    slug: String,
    name: String,
}

/// Adds a custom category.
pub async fn add_category(
    State(st): State<AppState>,
    me: Me,
    Form(f): Form<CategoryForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    if !me.session.viewer.can(Permission::ManageCategories) {
        return forbidden();
    }
    let slug = match Category::parse(&f.slug) {
        Ok(s) => s,
        Err(e) => return store_error(e.into()),
    };
    let now = st.now();
    write_then(
        &st,
        move |c| Box::pin(async move { categories::create(c, &slug, &f.name, now).await }),
        |cat| done(&format!("Added category {}", cat.name)),
    )
    .await
}

/// The add-macro form.
#[derive(Deserialize)]
pub struct MacroForm {
    csrf: String,
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
pub async fn add_macro(State(st): State<AppState>, me: Me, Form(f): Form<MacroForm>) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    if !me.session.viewer.can(Permission::ManageTeams) {
        return forbidden();
    }
    let new = match parse_macro(&f) {
        Ok(m) => m,
        Err(e) => return store_error(e.into()),
    };
    let by = me.session.viewer.user_id;
    let now = st.now();
    write_then(
        &st,
        move |c| Box::pin(async move { workspace::create_macro(c, by, new, now).await }),
        |m| done(&format!("Added macro {}", m.name)),
    )
    .await
}

/// The add-field form.
#[derive(Deserialize)]
pub struct FieldForm {
    csrf: String,
    key: String,
    label: String,
}

/// Defines a custom ticket field (admins only).
pub async fn add_field(State(st): State<AppState>, me: Me, Form(f): Form<FieldForm>) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    if !me.session.viewer.can(Permission::ManageUsers) {
        return forbidden();
    }
    let now = st.now();
    write_then(
        &st,
        move |c| Box::pin(async move { workspace::define_field(c, &f.key, &f.label, now).await }),
        |d| done(&format!("Added field {}", d.label)),
    )
    .await
}

/// The add-mailbox form.
#[derive(Deserialize)]
pub struct MailboxForm {
    csrf: String,
    address: String,
    name: String,
    #[serde(default)]
    acknowledge: Option<String>,
    #[serde(flatten)]
    imap: ImapFields,
}

/// Adds a mailbox (admins only).
pub async fn add_mailbox(
    State(st): State<AppState>,
    me: Me,
    Form(f): Form<MailboxForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    if !me.session.viewer.can(Permission::ManageUsers) {
        return forbidden();
    }
    let address = match EmailAddress::parse(&f.address) {
        Ok(a) => a,
        Err(e) => return store_error(e.into()),
    };
    let imap = match f.imap.settings(None, &st.sealer) {
        Ok(i) => i,
        Err(e) => return store_error(e.into()),
    };
    let now = st.now();
    write_then(
        &st,
        move |c| {
            Box::pin(async move {
                let m = rapport_store::mail::create_mailbox(c, &address, &f.name, now).await?;
                if let Some(imap) = &imap {
                    rapport_store::imap::set_settings(c, m.id, Some(imap), now).await?;
                }
                if f.acknowledge.is_some() {
                    rapport_store::notify::set_acknowledge(c, m.id, true).await?;
                }
                Ok(m)
            })
        },
        |m| done(&format!("Added mailbox {}", m.address)),
    )
    .await
}

/// The edit-mailbox form: the same fields as adding one, without the address, plus
/// "stop fetching".
#[derive(Deserialize)]
pub struct EditMailboxForm {
    csrf: String,
    name: String,
    #[serde(default)]
    acknowledge: Option<String>,
    #[serde(default)]
    imap_off: Option<String>,
    #[serde(flatten)]
    imap: ImapFields,
}

/// The IMAP fields of the mailbox forms.
#[derive(Deserialize, Default)]
pub struct ImapFields {
    #[serde(default)]
    imap_host: String,
    #[serde(default)]
    imap_port: String,
    #[serde(default)]
    imap_tls: Option<String>,
    #[serde(default)]
    imap_user: String,
    #[serde(default)]
    imap_password: String,
    #[serde(default)]
    imap_folder: String,
    #[serde(default)]
    imap_move_to: String,
}

impl ImapFields {
    /// The IMAP settings the form asks for, or none without a host. When editing, blank
    /// fields keep what `existing` has — so a new password alone rotates it.
    fn settings(
        &self,
        existing: Option<&rapport_store::imap::ImapSettings>,
        sealer: &rapport_store::secrets::Sealer,
    ) -> Result<Option<rapport_store::imap::ImapSettings>, rapport_domain::FieldError> {
        use rapport_domain::FieldError;
        let typed = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let Some(host) = typed(&self.imap_host).or_else(|| existing.map(|e| e.host.clone())) else {
            return Ok(None);
        };
        let tls = self.imap_tls.is_some();
        let port = match typed(&self.imap_port) {
            Some(p) => p
                .parse()
                .map_err(|_| FieldError::new("imap.port", "must be 1 to 65535"))?,
            None => existing.map_or(if tls { 993 } else { 143 }, |e| e.port),
        };
        let sealed_password = match (self.imap_password.is_empty(), existing) {
            (false, _) => sealer.seal(&self.imap_password),
            (true, Some(e)) => e.sealed_password.clone(),
            (true, None) => return Err(FieldError::new("imap.password", "must not be empty")),
        };
        Ok(Some(rapport_store::imap::ImapSettings {
            host,
            port,
            tls,
            user: typed(&self.imap_user)
                .or_else(|| existing.map(|e| e.user.clone()))
                .unwrap_or_default(),
            sealed_password,
            folder: typed(&self.imap_folder)
                .or_else(|| existing.map(|e| e.folder.clone()))
                .unwrap_or_else(|| "INBOX".into()),
            move_to: typed(&self.imap_move_to).or_else(|| existing.and_then(|e| e.move_to.clone())),
            stall_secs: existing.map_or(900, |e| e.stall_secs),
        }))
    }
}

/// Changes a mailbox: name, acknowledgements, IMAP settings (left blank: unchanged), or
/// stops fetching (admins only).
pub async fn edit_mailbox(
    State(st): State<AppState>,
    me: Me,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Form(f): Form<EditMailboxForm>,
) -> Response {
    if let Some(r) = me.reject_csrf(&f.csrf) {
        return r;
    }
    if !me.session.viewer.can(Permission::ManageUsers) {
        return forbidden();
    }
    let existing = match st
        .db
        .read(move |c| Box::pin(async move { rapport_store::imap::mailbox(c, id).await }))
        .await
    {
        Ok(e) => e.map(|m| m.settings),
        Err(e) => return store_error(e),
    };
    let imap = match f.imap.settings(existing.as_ref(), &st.sealer) {
        Ok(i) => i,
        Err(e) => return store_error(e.into()),
    };
    let now = st.now();
    let stop = f.imap_off.is_some();
    let ack = f.acknowledge.is_some();
    write_then(
        &st,
        move |c| {
            Box::pin(async move {
                rapport_store::mail::rename_mailbox(c, id, &f.name).await?;
                rapport_store::notify::set_acknowledge(c, id, ack).await?;
                if stop {
                    rapport_store::imap::set_settings(c, id, None, now).await?;
                } else if let Some(imap) = &imap {
                    rapport_store::imap::set_settings(c, id, Some(imap), now).await?;
                }
                Ok(f.name)
            })
        },
        |name| done(&format!("Saved mailbox {name}")),
    )
    .await
}
