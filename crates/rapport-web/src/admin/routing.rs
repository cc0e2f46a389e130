//! The routing admin page (`/admin/routing`, supervisors): each team's method of handing
//! out new tickets, and each agent's capacity of open tickets and skills.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::Permission;
use rapport_domain::routing::{RoutingMethod, Skills, ticket_limit};
use rapport_http::AppState;
use rapport_store::{op, people, routing};
use serde::Deserialize;

use super::Done;
use crate::page::{MeView, page, require, store_error, write_then};
use crate::sessions::{CsrfForm, Me};

#[derive(Template)]
#[template(path = "admin_routing.html")]
struct RoutingPage {
    me: MeView,
    notice: Option<String>,
    teams: Vec<TeamRow>,
    agents: Vec<AgentRow>,
    methods: Vec<(&'static str, &'static str)>,
}

struct TeamRow {
    id: i64,
    name: String,
    method: &'static str,
    members: usize,
}

struct AgentRow {
    id: i64,
    name: String,
    status: &'static str,
    open: i64,
    limit: i64,
    categories: String,
    languages: String,
}

fn method_label(m: RoutingMethod) -> &'static str {
    match m {
        RoutingMethod::Manual => "Manual (agents take from the queue)",
        RoutingMethod::RoundRobin => "Round-robin",
        RoutingMethod::LeastLoaded => "Least-loaded",
    }
}

fn back(what: &str) -> Response {
    let q: String = form_urlencoded::byte_serialize(what.as_bytes()).collect();
    Redirect::to(&format!("/admin/routing?done={q}")).into_response()
}

/// The routing page.
pub async fn index(State(st): State<AppState>, me: Me, Query(q): Query<Done>) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageTeams) {
        return r;
    }
    let data = st
        .db
        .read(op!(c => {
            let teams = people::list_teams(c).await?;
            let mut team_rows = Vec::new();
            for t in teams {
                let m = routing::team_method(c, t.id).await?;
                team_rows.push(TeamRow {
                    id: t.id,
                    name: t.name,
                    method: m.as_str(),
                    members: t.member_ids.len(),
                });
            }
            let mut agents = Vec::new();
            for u in people::list_users(c).await?.into_iter().filter(|u| u.active) {
                let a = routing::agent(c, u.id).await?;
                agents.push(AgentRow {
                    id: u.id,
                    name: u.name,
                    status: a.status.as_str(),
                    open: a.open_tickets,
                    limit: a.ticket_limit,
                    categories: a.skills.categories.join(", "),
                    languages: a.skills.languages.join(", "),
                });
            }
            Ok((team_rows, agents))
        }))
        .await;
    let (teams, agents) = match data {
        Ok(d) => d,
        Err(e) => return store_error(e),
    };
    page(&RoutingPage {
        me: MeView::of(&me, ""),
        notice: q.done,
        teams,
        agents,
        methods: RoutingMethod::ALL
            .iter()
            .map(|m| (m.as_str(), method_label(*m)))
            .collect(),
    })
}

/// The team form.
#[derive(Deserialize)]
pub struct TeamForm {
    routing: String,
}

/// Sets a team's routing method.
pub async fn set_team(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<TeamForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageTeams) {
        return r;
    }
    let m = match RoutingMethod::parse(&f.routing) {
        Ok(m) => m,
        Err(e) => return store_error(e.into()),
    };
    write_then(
        &st,
        op!(c => routing::set_team_method(c, id, m).await),
        |()| back("Saved the team's routing"),
    )
    .await
}

/// The agent form: capacity, and skills as comma-separated lists.
#[derive(Deserialize)]
pub struct AgentForm {
    ticket_limit: String,
    #[serde(default)]
    categories: String,
    #[serde(default)]
    languages: String,
}

fn list(raw: &str) -> Vec<&str> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Sets an agent's capacity and skills.
pub async fn set_agent(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<AgentForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::ManageTeams) {
        return r;
    }
    let parsed = f
        .ticket_limit
        .trim()
        .parse::<i64>()
        .map_err(|_| rapport_domain::FieldError::new("ticket_limit", "must be a number"))
        .and_then(ticket_limit)
        .and_then(|limit| {
            Ok((
                limit,
                Skills::parse(&list(&f.categories), &list(&f.languages))?,
            ))
        });
    let (limit, skills) = match parsed {
        Ok(x) => x,
        Err(e) => return store_error(e.into()),
    };
    write_then(
        &st,
        op!(c => routing::set_agent(c, id, Some(limit), Some(&skills)).await),
        |_| back("Saved the agent's capacity and skills"),
    )
    .await
}
