//! Bulk actions on the tickets selected in a list: assign, change status, tag — all or
//! nothing.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::{Permission, Tag, TicketStatus};
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::tickets::{self, TicketPatch};

use crate::page::{require, store_error};
use crate::sessions::{CsrfForm, Me};

/// Applies one action to the tickets selected in a list. The form repeats `ids`, so it is
/// read as pairs rather than into a struct.
pub async fn bulk(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let mut action = String::new();
    let mut tag = String::new();
    let mut back = "/inbox".to_owned();
    let mut ids = Vec::new();
    for (k, v) in pairs {
        match k.as_str() {
            "action" => action = v,
            "tag" => tag = v,
            "back" if v.starts_with("/inbox") => back = v,
            "ids" => {
                if let Ok(id) = v.parse::<i64>() {
                    ids.push(id);
                }
            }
            _ => {}
        }
    }
    if ids.is_empty() || ids.len() > 200 {
        return Redirect::to(&back).into_response();
    }
    let status = |s: TicketStatus| TicketPatch {
        status: Some(s),
        ..TicketPatch::default()
    };
    let mut add_tag = None;
    let patch = match action.as_str() {
        "assign-me" => TicketPatch {
            assignee_id: Some(Some(me.session.viewer.user_id)),
            ..TicketPatch::default()
        },
        other if other.starts_with("assign-") => match other["assign-".len()..].parse::<i64>() {
            Ok(agent) => TicketPatch {
                assignee_id: Some(Some(agent)),
                ..TicketPatch::default()
            },
            Err(_) => {
                return store_error(
                    rapport_domain::FieldError::new("action", "is not a bulk action").into(),
                );
            }
        },
        "status-open" => status(TicketStatus::Open),
        "status-pending" => status(TicketStatus::Pending),
        "status-solved" => status(TicketStatus::Solved),
        "tag" => match Tag::parse(&tag) {
            Ok(t) => {
                add_tag = Some(t);
                TicketPatch::default()
            }
            Err(e) => return store_error(e.into()),
        },
        _ => {
            return store_error(
                rapport_domain::FieldError::new("action", "is not a bulk action").into(),
            );
        }
    };
    let viewer = me.session.viewer.clone();
    let who = me.principal();
    let now = st.now();
    // All or nothing: one transaction for the whole selection.
    let done = st
        .db
        .write(op!(c => {
            for id in ids {
                let mut p = patch.clone();
                if let Some(t) = &add_tag {
                    let current = tickets::get(c, &who, id).await?;
                    let mut tags = Tag::parse_list(&current.tags)?;
                    if !tags.contains(t) {
                        tags.push(t.clone());
                    }
                    p.tags = Some(tags);
                }
                tickets::update(c, &viewer, id, p, now).await?;
            }
            Ok(())
        }))
        .await;
    match done {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => store_error(e),
    }
}
