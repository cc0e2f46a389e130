//! Live chat in the browser: the visitor's widget (`/widget.js`), one static script a site
//! embeds with `<script src="https://HOST/widget.js" async></script>`. It speaks the
//! protocol of docs/CHAT.md to the API's `chat` room. And the agent's side: their chat
//! status (online / away / offline) and limit of concurrent chats, set from the
//! preferences page (`POST /chat/status`).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::chat::{AgentStatus, chat_limit};
use rapport_http::AppState;
use rapport_store::chat::handoff;
use rapport_store::{StoreError, op};
use serde::Deserialize;

use crate::page::{store_error, write_then};
use crate::sessions::{CsrfForm, Me};

/// The chat status form.
#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    chat_limit: Option<String>,
}

/// Sets the signed-in agent's chat status and limit; waiting chats are assigned at once
/// when they become free.
pub async fn set_status(
    State(st): State<AppState>,
    me: Me,
    CsrfForm(f): CsrfForm<StatusForm>,
) -> Response {
    let viewer = me.session.viewer.clone();
    let status = match AgentStatus::parse(&f.status) {
        Ok(s) => s,
        Err(e) => return store_error(StoreError::Invalid(e)),
    };
    let limit = match f
        .chat_limit
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        Some(raw) => match raw
            .parse::<i64>()
            .map_err(|_| {
                rapport_domain::FieldError::new("chat_limit", "must be a number from 0 to 50")
            })
            .and_then(chat_limit)
        {
            Ok(l) => Some(l),
            Err(e) => return store_error(StoreError::Invalid(e)),
        },
        None => None,
    };
    let now = st.now();
    let id = viewer.user_id;
    write_then(
        &st,
        op!(c => handoff::set_availability(c, &viewer, id, Some(status), limit, now).await.map(|_| ())),
        |()| Redirect::to("/preferences?saved=1").into_response(),
    )
    .await
}

/// The widget: plain JavaScript, compiled in.
pub async fn widget_js() -> Response {
    crate::asset(
        "application/javascript; charset=utf-8",
        include_str!("../assets/widget.js"),
    )
}
