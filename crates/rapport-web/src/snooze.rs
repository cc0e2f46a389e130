//! Snoozing on the ticket page: put a ticket to sleep until a time (in the agent's own
//! time zone), until the customer replies, or both, with a note for later; wake it now.

use axum::extract::{Path, State};
use axum::response::Response;
use rapport_domain::Permission;
use rapport_domain::snooze::{Until, note};
use rapport_http::AppState;
use rapport_store::{op, people, snooze};
use serde::Deserialize;

use crate::page::{require, store_error, write_then};
use crate::sessions::{CsrfForm, Me, NoFields};
use crate::tickets::to_ticket;

/// A snooze as the ticket page shows it: "until 2026-11-28 09:00 (your time)", the note.
pub struct SnoozeLine {
    pub(crate) until: String,
    pub(crate) note: String,
}

impl SnoozeLine {
    pub(crate) fn of(s: &snooze::Snooze, zone: &rapport_domain::Zone) -> Self {
        let until = match (s.until_at, s.until_reply) {
            (Some(at), true) => format!("until {} or the customer's reply", zone.local(at)),
            (Some(at), false) => format!("until {}", zone.local(at)),
            (None, _) => "until the customer replies".to_owned(),
        };
        Self {
            until,
            note: s.note.clone(),
        }
    }
}

/// The snooze form: `until` a local date and time (may be empty), `reply` a checkbox.
#[derive(Deserialize)]
pub struct SnoozeForm {
    #[serde(default)]
    until: String,
    #[serde(default)]
    reply: Option<String>,
    #[serde(default)]
    note: String,
}

/// Snoozes the ticket and goes back to it.
pub async fn snooze_ticket(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(f): CsrfForm<SnoozeForm>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let note = match note(&f.note) {
        Ok(n) => n,
        Err(e) => return store_error(e.into()),
    };
    let viewer = me.session.viewer.clone();
    let now = st.now();
    let (raw, reply) = (f.until, f.reply.is_some());
    write_then(
        &st,
        op!(c => {
            let at = if raw.trim().is_empty() {
                None
            } else {
                let zone = people::time_zone(c, viewer.user_id).await?;
                Some(zone.parse_local(&raw).ok_or_else(|| {
                    rapport_domain::FieldError::new("until", "give a date and time such as 2026-11-28 09:00")
                })?)
            };
            let until = Until::parse(at, reply, now)?;
            snooze::snooze(c, &viewer, id, until, &note, now).await.map(|_| ())
        }),
        |()| to_ticket(id),
    )
    .await
}

/// Wakes the ticket now and goes back to it.
pub async fn wake(
    State(st): State<AppState>,
    me: Me,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(r) = require(&me.session.viewer, Permission::WorkTickets) {
        return r;
    }
    let viewer = me.session.viewer.clone();
    let now = st.now();
    write_then(
        &st,
        op!(c => snooze::wake(c, &viewer, id, now).await),
        |()| to_ticket(id),
    )
    .await
}
