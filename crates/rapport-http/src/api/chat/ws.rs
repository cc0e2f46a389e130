//! The visitor's socket, `GET /api/v1/chat/ws`. The first frame authenticates (the
//! token never appears in a URL or a log); then the socket carries the visitor's
//! messages in (stored once per client id, acknowledged after the commit) and the
//! conversation's messages out, as the event stream brings them — from this node or any
//! other, so a visitor on one node hears an agent who replied through another.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rapport_domain::EmailAddress;
use rapport_domain::chat::{ClientId, message_body};
use rapport_store::chat::{self, Conversation, messages as chat_messages};
use rapport_store::{StoreError, op};
use serde_json::Value;

use super::assistant;
use super::check_origin;
use super::hub::{ChatHub, Side, Signal, Wake};
use super::protocol::{ClientFrame, FrameSource, ServerFrame};
use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use tokio::sync::broadcast::error::RecvError;

/// Bytes read from the network at a time (allocated up front for every socket); small, so
/// that ten thousand idle sockets stay small (axum's default is 128 KiB each). A bigger
/// frame takes several reads.
pub const READ_BUFFER: usize = 1024;
/// Bytes gathered before a write: none, each frame goes out at once (chat frames are
/// small and each is flushed anyway; a write buffer only held memory per socket).
pub const WRITE_BUFFER: usize = 0;
/// The largest frame a visitor may send; anything bigger closes the socket (1009).
/// Messages between [`rapport_domain::chat::MAX_MESSAGE_BYTES`] and this get an error
/// frame instead.
pub const MAX_FRAME: usize = 64 * 1024;
/// How long a new socket may take to authenticate.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages sent per read of the thread.
const BATCH: usize = 200;

/// Opens a visitor's chat socket (the WebSocket protocol is in docs/CHAT.md).
pub async fn chat_ws(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    check_origin(&st, &headers).await?;
    let busy = || {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many chat connections from this address; wait a minute",
        )
    };
    if !ChatHub::take(&st.chat.connects, ip) {
        return Err(busy());
    }
    let Some(open) = st.chat.open_socket(ip) else {
        return Err(busy());
    };
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| async move {
            let typing_at = rapport_domain::Timestamp(0);
            Session {
                st,
                ip,
                socket,
                typing_at,
                survey_asked: false,
            }
            .run()
            .await;
            drop(open);
        }))
}

struct Session {
    st: AppState,
    ip: IpAddr,
    socket: WebSocket,
    /// When the visitor's typing was last stored.
    typing_at: rapport_domain::Timestamp,
    /// Whether this socket asked the visitor how the solved conversation went.
    survey_asked: bool,
}

/// Why a frame could not be read.
#[expect(
    clippy::result_large_err,
    reason = "the refusal is sent at once; one per frame read"
)]
fn frame_error(raw: &str) -> Result<ClientFrame, ServerFrame> {
    let v: Value = serde_json::from_str(raw)
        .map_err(|_| ServerFrame::error("bad_json", "the frame is not a JSON object"))?;
    let Some(kind) = v.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return Err(ServerFrame::error(
            "unknown_type",
            "the frame has no \"type\"",
        ));
    };
    const KNOWN: &[&str] = &[
        "auth",
        "message",
        "resume",
        "typing",
        "read",
        "continue_by_email",
        "transcript",
        "ping",
        "profile",
        "handoff",
    ];
    if !KNOWN.contains(&kind.as_str()) {
        return Err(ServerFrame::error(
            "unknown_type",
            format!("no frame has the type {kind:?}"),
        ));
    }
    serde_json::from_value(v).map_err(|e| {
        let text = e.to_string();
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.starts_with("missing field") || text.starts_with("invalid type"))
            .map(str::to_owned);
        ServerFrame::Error {
            code: "invalid",
            message: format!("the {kind} frame is malformed: {text}"),
            field,
            client_id: None,
        }
    })
}

fn store_frame(e: &StoreError, client_id: Option<String>) -> ServerFrame {
    let (code, message, field) = match e {
        StoreError::Invalid(f) => ("invalid", f.message.clone(), Some(f.field.clone())),
        StoreError::Conflict(m) if m.contains("closed") => ("closed", m.clone(), None),
        StoreError::Conflict(m) => ("conflict", m.clone(), None),
        StoreError::NotFound(_) | StoreError::Forbidden(_) => (
            "unauthorized",
            "this conversation is not yours".to_owned(),
            None,
        ),
        StoreError::Db(m) => {
            tracing::error!(error = %m, "chat: database failure");
            (
                "internal",
                "the server failed; send it again".to_owned(),
                None,
            )
        }
    };
    ServerFrame::Error {
        code,
        message,
        field,
        client_id,
    }
}

/// The frame for mail asked for past its limits ([`ChatHub::take_mail`]).
fn mail_limited() -> ServerFrame {
    ServerFrame::error(
        "rate_limited",
        "too many emails asked for; try again in an hour",
    )
}

/// An API error as an error frame (the bot's failures: nothing half-written).
fn api_frame(e: &ApiError) -> ServerFrame {
    if e.status() == axum::http::StatusCode::CONFLICT {
        return ServerFrame::error("closed", "this conversation is closed");
    }
    tracing::warn!(error = ?e, "chat: the bot failed");
    ServerFrame::error("internal", "the server failed; try again")
}

impl Session {
    /// The bot's turn after a visitor's new message; a handoff it decided is announced.
    async fn bot_answer(&mut self, ticket_id: i64, message_id: i64, body: &str) -> bool {
        match assistant::answer(&self.st, ticket_id, message_id, body).await {
            Ok(Some(h)) => {
                self.send(&ServerFrame::Handoff {
                    assigned: h.placed.assignee_id.is_some(),
                    expected_reply: h.expected_reply,
                })
                .await
            }
            Ok(None) => true,
            Err(e) => {
                // The visitor's message is stored and acknowledged; only the bot's answer
                // is missing, and agents see the message.
                tracing::warn!(error = ?e, ticket_id, "chat: the bot could not answer");
                true
            }
        }
    }

    async fn send(&mut self, f: &ServerFrame) -> bool {
        self.socket
            .send(Message::Text(f.json().into()))
            .await
            .is_ok()
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        let _ = self
            .socket
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }

    /// The first frame must be `auth` with a valid token.
    async fn authenticate(&mut self) -> Option<Conversation> {
        let first = tokio::time::timeout(AUTH_TIMEOUT, self.socket.recv()).await;
        let text = match first {
            Err(_) => {
                self.send(&ServerFrame::error(
                    "auth_timeout",
                    "send the auth frame first",
                ))
                .await;
                self.close(4001, "auth timeout").await;
                return None;
            }
            Ok(Some(Ok(Message::Text(t)))) => t,
            Ok(_) => return None,
        };
        let token = match frame_error(&text) {
            Ok(ClientFrame::Auth { token }) => token,
            _ => {
                self.send(&ServerFrame::error(
                    "unauthorized",
                    "the first frame must be {\"type\":\"auth\",\"token\":…}",
                ))
                .await;
                self.close(4003, "unauthorized").await;
                return None;
            }
        };
        let found = self
            .st
            .db
            .read(op!(c => chat::authenticate(c, &token).await))
            .await;
        match found {
            Ok(conv) => Some(conv),
            Err(e) => {
                if !matches!(e, StoreError::NotFound(_)) {
                    tracing::error!(error = %e, "chat: authentication failed");
                }
                // A wrong token counts like a wrong API token.
                self.st.auth_failures.fail(self.ip);
                self.send(&ServerFrame::error(
                    "unauthorized",
                    "this token opens no conversation",
                ))
                .await;
                self.close(4003, "unauthorized").await;
                None
            }
        }
    }

    /// The socket's life: authentication, `ready`, then frames both ways until either side
    /// stops. An idle socket waits in the loop below, so everything else it awaits is boxed
    /// (`Box::pin`): the task of an idle socket stays the size of that loop's state, not of
    /// the largest database call it ever makes (ten thousand idle sockets, docs/BENCHMARKS.md).
    async fn run(mut self) {
        let Some(mut conv) = Box::pin(self.open()).await else {
            return;
        };
        let ticket = conv.ticket_id;
        // In the room before reading where the thread stands, so nothing falls between.
        self.st.chat.follow(&self.st.live, &self.st.db);
        let mut room = self.st.chat.join(ticket);
        let mut stopped = self.st.live.stopped();
        if *stopped.borrow_and_update() {
            return;
        }
        // The newest message the browser has been sent (or said it has).
        let Some(mut cursor) = Box::pin(self.ready(&conv)).await else {
            return;
        };
        // A conversation solved and offered its survey while nobody was connected.
        if !Box::pin(self.ask_survey(&conv)).await {
            return;
        }
        loop {
            tokio::select! {
                frame = self.socket.recv() => {
                    let text = match frame {
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Binary(_))) => {
                            let refused = ServerFrame::error("bad_frame", "send JSON text frames");
                            if !Box::pin(self.send(&refused)).await {
                                return;
                            }
                            continue;
                        }
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => {
                            // A frame over the size limit ends up here (1009).
                            tracing::debug!(error = %e, "chat socket read failed");
                            Box::pin(self.close(1009, "frame too big")).await;
                            return;
                        }
                        None => return,
                    };
                    if !Box::pin(self.handle(&text, &mut conv, &mut cursor)).await {
                        return;
                    }
                }
                changed = stopped.changed() => {
                    let stopping = changed.is_err() || *stopped.borrow_and_update();
                    if stopping {
                        Box::pin(self.close(1001, "server stopping")).await;
                        return;
                    }
                }
                w = room.rx.recv() => {
                    let f = match w {
                        // Fell behind: read the thread again, which is all a wake says.
                        Ok(Wake::Changed) | Err(RecvError::Lagged(_)) => {
                            if !Box::pin(self.push_after(&mut conv, &mut cursor)).await {
                                return;
                            }
                            continue;
                        }
                        Err(RecvError::Closed) => return,
                        Ok(Wake::SurveyOffered) => {
                            if !Box::pin(self.push_after(&mut conv, &mut cursor)).await
                                || !Box::pin(self.ask_survey(&conv)).await
                            {
                                return;
                            }
                            continue;
                        }
                        Ok(Wake::Signal(s)) if s.side() == Side::Agent => match s {
                            Signal::Typing { name, .. } => ServerFrame::Typing { author: "agent", name },
                            Signal::Read { up_to, .. } => ServerFrame::Read { author: "agent", up_to },
                        },
                        Ok(Wake::Signal(_)) => continue,
                    };
                    if !Box::pin(self.send(&f)).await {
                        return;
                    }
                }
            }
        }
    }

    /// Refuses a blocked address, or authenticates: the conversation, if any.
    async fn open(&mut self) -> Option<Conversation> {
        if self.st.auth_failures.is_blocked(self.ip) {
            self.send(&ServerFrame::error(
                "rate_limited",
                "too many failed attempts",
            ))
            .await;
            self.close(4029, "rate limited").await;
            return None;
        }
        self.authenticate().await
    }

    /// Sends `ready`: where the thread stands. The newest message id, or `None` when the
    /// socket is done for.
    async fn ready(&mut self, conv: &Conversation) -> Option<i64> {
        let st = self.st.clone();
        let now = st.now();
        let c2 = conv.clone();
        let ready = st
            .db
            .read(op!(c => {
                let last = chat_messages::last_id(c, &c2).await?;
                let read = chat::agent_read_up_to(c, c2.ticket_id).await?;
                let preview = chat::settings::typing_preview(c).await?;
                Ok((last, read, chat::agents_online(c, now).await?, preview))
            }))
            .await;
        let Ok((last_id, agent_read_up_to, agents_online, typing_preview)) = ready else {
            self.send(&ServerFrame::error(
                "internal",
                "the server failed; reconnect",
            ))
            .await;
            return None;
        };
        self.send(&ServerFrame::Ready {
            conversation_id: conv.ticket_id,
            last_id,
            agent_read_up_to,
            agents_online,
            by_email: conv.by_email,
            typing_preview,
        })
        .await
        .then_some(last_id)
    }

    /// Sends every message after `cursor` the visitor may read, and moves it.
    async fn push_after(&mut self, conv: &mut Conversation, cursor: &mut i64) -> bool {
        loop {
            let (ticket, after) = (conv.ticket_id, *cursor);
            let batch = self
                .st
                .db
                .read(op!(c => {
                    let now = chat::current(c, ticket).await?;
                    let batch = chat_messages::after(c, &now, after, BATCH).await?;
                    Ok((now, batch))
                }))
                .await;
            let batch = match batch {
                Ok((now, b)) => {
                    *conv = now;
                    b
                }
                Err(e) => return self.send(&store_frame(&e, None)).await,
            };
            let full = batch.len() == BATCH;
            for m in batch {
                *cursor = m.id;
                let f = ServerFrame::Message {
                    id: m.id,
                    author: m.author,
                    name: m.name,
                    body: m.body,
                    at: m.at,
                    attachments: m.files.into_iter().map(Into::into).collect(),
                    sources: m
                        .sources
                        .into_iter()
                        .map(|(title, url)| FrameSource { title, url })
                        .collect(),
                    asks_verdict: m.asks_verdict,
                };
                if !self.send(&f).await {
                    return false;
                }
            }
            if !full {
                return true;
            }
        }
    }

    /// Asks the visitor how the conversation went, once per socket, if its survey was
    /// offered (the `surveys.offer` subscriber, when it was solved) and is unanswered:
    /// when the socket opens, and on the `survey_offered` event.
    async fn ask_survey(&mut self, conv: &Conversation) -> bool {
        if self.survey_asked {
            return true;
        }
        let ticket = conv.ticket_id;
        let offered = self
            .st
            .db
            .read(op!(c => rapport_store::surveys::for_ticket(c, ticket).await))
            .await;
        let Ok(Some(s)) = offered else {
            return true;
        };
        if s.answered_at.is_some() {
            return true;
        }
        self.survey_asked = true;
        let url = format!(
            "{}/survey/{}",
            self.st.public_url,
            rapport_store::surveys::link_token(&self.st.sealer, s.id)
        );
        self.send(&ServerFrame::Survey { url }).await
    }

    /// Sets the visitor's name and/or address (`profile` frame); answers `profile`.
    async fn profile(
        &mut self,
        conv: &mut Conversation,
        name: Option<String>,
        email: Option<String>,
    ) -> bool {
        let parsed = (|| {
            let name = match name.as_deref() {
                Some(n) => rapport_domain::CustomerName::parse(n)?,
                None => None,
            };
            let email = email
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .map(EmailAddress::parse)
                .transpose()?;
            Ok::<_, rapport_domain::FieldError>((name, email))
        })();
        let (name, email) = match parsed {
            Ok(p) => p,
            Err(f) => return self.send(&store_frame(&f.into(), None)).await,
        };
        if name.is_none() && email.is_none() {
            let f = rapport_domain::FieldError::new("name", "give a name or an email");
            return self.send(&store_frame(&f.into(), None)).await;
        }
        let (ticket, now) = (conv.ticket_id, self.st.now());
        let said = name.as_ref().map(|n| n.as_str().to_owned());
        let r = self
            .st
            .db
            .write(op!(c => {
                let now_conv = chat::open(c, ticket).await?;
                chat::profile::set(c, &now_conv, name.as_ref(), email.as_ref(), now).await
            }))
            .await;
        match r {
            Ok(next) => {
                let email = next.email.clone();
                *conv = next;
                self.send(&ServerFrame::Profile { name: said, email }).await
            }
            Err(e) => self.send(&store_frame(&e, None)).await,
        }
    }

    /// Handles one text frame; false when the socket is gone.
    async fn handle(&mut self, text: &str, conv: &mut Conversation, cursor: &mut i64) -> bool {
        let frame = match frame_error(text) {
            Ok(f) => f,
            Err(e) => return self.send(&e).await,
        };
        let is_message = matches!(frame, ClientFrame::Message { .. });
        if !is_message && !ChatHub::take(&self.st.chat.frames_by_address, self.ip) {
            return self
                .send(&ServerFrame::error(
                    "rate_limited",
                    "too many frames; slow down",
                ))
                .await;
        }
        let now = self.st.now();
        match frame {
            ClientFrame::Auth { .. } => {
                self.send(&ServerFrame::error("invalid", "already authenticated"))
                    .await
            }
            ClientFrame::Ping => self.send(&ServerFrame::Pong).await,
            ClientFrame::Handoff => match assistant::hand_over(&self.st, conv.ticket_id).await {
                Ok(h) => {
                    self.send(&ServerFrame::Handoff {
                        assigned: h.placed.assignee_id.is_some(),
                        expected_reply: h.expected_reply,
                    })
                    .await
                }
                Err(e) => self.send(&api_frame(&e)).await,
            },
            ClientFrame::Message { client_id, body } => {
                let echo = Some(client_id.chars().take(64).collect::<String>());
                let parsed =
                    ClientId::parse(&client_id).and_then(|id| Ok((id, message_body(&body)?)));
                let (id, body) = match parsed {
                    Ok(p) => p,
                    Err(f) => {
                        let code = if f.field == "body"
                            && body.len() > rapport_domain::chat::MAX_MESSAGE_BYTES
                        {
                            "too_big"
                        } else {
                            "invalid"
                        };
                        return self
                            .send(&ServerFrame::Error {
                                code,
                                message: f.message,
                                field: Some(f.field),
                                client_id: echo,
                            })
                            .await;
                    }
                };
                if !self.st.chat.take_message(self.ip, conv.ticket_id) {
                    return self
                        .send(&ServerFrame::Error {
                            code: "rate_limited",
                            message: "too many messages; wait a minute and send it again".into(),
                            field: None,
                            client_id: echo,
                        })
                        .await;
                }
                let (ticket, id2) = (conv.ticket_id, id.clone());
                let text = body.as_str().to_owned();
                // Its mood is read here, not inside the write.
                body.sentiment();
                let stored = self
                    .st
                    .db
                    .write(op!(c => {
                        let now_conv = chat::current(c, ticket).await?;
                        let s = chat_messages::post(c, &now_conv, &id2, &body, now).await?;
                        chat::preview::clear(c, ticket).await?;
                        Ok((now_conv, s))
                    }))
                    .await
                    .map(|(now_conv, s)| {
                        *conv = now_conv;
                        s
                    });
                match stored {
                    // The write returned: it is committed (on disk, on SQLite).
                    Ok(s) => {
                        let acked = self
                            .send(&ServerFrame::Ack {
                                client_id: id.as_str().to_owned(),
                                id: s.id,
                                at: s.at,
                            })
                            .await;
                        // The bot answers a new message (not a resend) after the ack; its
                        // message reaches this socket through the event stream.
                        if acked && s.new {
                            return self.bot_answer(conv.ticket_id, s.id, &text).await;
                        }
                        acked
                    }
                    Err(e) => self.send(&store_frame(&e, echo)).await,
                }
            }
            ClientFrame::Resume { after } => {
                *cursor = after.max(0);
                self.push_after(conv, cursor).await
            }
            ClientFrame::Typing { text } => {
                if let Some(text) = text {
                    // Kept only when the admin turned the preview on.
                    let c2 = conv.clone();
                    let r = self
                        .st
                        .db
                        .write(op!(c => {
                            let kept = chat::preview::set_draft(c, &c2, &text).await?;
                            if kept {
                                chat::visitor_typing(c, &c2, now).await?;
                            }
                            Ok(kept)
                        }))
                        .await;
                    match r {
                        Ok(true) => self.typing_at = now,
                        Ok(false) => {}
                        Err(e) => return self.send(&store_frame(&e, None)).await,
                    }
                }
                // Stored at most every few seconds, for agents on any node.
                if now.micros() - self.typing_at.micros() >= 3_000_000 {
                    self.typing_at = now;
                    let c2 = conv.clone();
                    let r = self
                        .st
                        .db
                        .write(op!(c => chat::visitor_typing(c, &c2, now).await))
                        .await;
                    if let Err(e) = r {
                        return self.send(&store_frame(&e, None)).await;
                    }
                }
                self.st.chat.signal(Signal::Typing {
                    ticket_id: conv.ticket_id,
                    side: Side::Visitor,
                    name: String::new(),
                });
                true
            }
            ClientFrame::Read { up_to } => {
                let c2 = conv.clone();
                let r = self
                    .st
                    .db
                    .write(op!(c => chat::mark_read(c, &c2, up_to).await))
                    .await;
                if let Err(e) = r {
                    return self.send(&store_frame(&e, None)).await;
                }
                self.st.chat.signal(Signal::Read {
                    ticket_id: conv.ticket_id,
                    side: Side::Visitor,
                    up_to,
                });
                true
            }
            ClientFrame::Profile { name, email } => self.profile(conv, name, email).await,
            ClientFrame::ContinueByEmail { email } => {
                let email = match EmailAddress::parse(&email) {
                    Ok(e) => e,
                    Err(f) => return self.send(&store_frame(&f.into(), None)).await,
                };
                if !self.st.chat.take_mail(self.ip, conv.ticket_id) {
                    return self.send(&mail_limited()).await;
                }
                let ticket_id = conv.ticket_id;
                let r = self
                    .st
                    .db
                    .write(
                        op!(c => chat::email::continue_by_email(c, ticket_id, &email, now).await),
                    )
                    .await;
                match r {
                    Ok(next) => {
                        let email = next.email.clone().unwrap_or_default();
                        *conv = next;
                        self.send(&ServerFrame::ByEmail { email }).await
                    }
                    Err(e) => self.send(&store_frame(&e, None)).await,
                }
            }
            ClientFrame::Transcript { email } => {
                let email = match email.as_deref().map(EmailAddress::parse).transpose() {
                    Ok(e) => e,
                    Err(f) => return self.send(&store_frame(&f.into(), None)).await,
                };
                if !self.st.chat.take_mail(self.ip, conv.ticket_id) {
                    return self.send(&mail_limited()).await;
                }
                let (ticket_id, cap) = (conv.ticket_id, self.st.auto_mail_per_hour);
                let r = self
                    .st
                    .db
                    .write(op!(c => chat::email::transcript(c, ticket_id, email.as_ref(), cap, now).await))
                    .await;
                match r {
                    Ok(queued) => self.send(&ServerFrame::Transcript { queued }).await,
                    Err(e) => self.send(&store_frame(&e, None)).await,
                }
            }
        }
    }
}
