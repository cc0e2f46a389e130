//! The chat socket's frames: JSON text frames, each an object with a `type`. What the
//! visitor's browser sends ([`ClientFrame`]) and what the server answers
//! ([`ServerFrame`]); the full protocol is written down in docs/CHAT.md.

use rapport_domain::Timestamp;
use serde::{Deserialize, Serialize};

/// A frame from the visitor's browser.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// The first frame: the conversation's token.
    Auth {
        /// The token from starting the conversation.
        token: String,
    },
    /// A message; `client_id` makes a resend harmless.
    Message {
        /// The browser's id for it (a UUID).
        client_id: String,
        /// The text.
        body: String,
    },
    /// Send every message after this id (0: the whole conversation).
    Resume {
        /// The last message id the browser has.
        after: i64,
    },
    /// The visitor is typing; `text` (what they typed so far) only when the admin turned
    /// the typing preview on (`ready` says so), otherwise ignored.
    Typing {
        /// The unsent text.
        #[serde(default)]
        text: Option<String>,
    },
    /// The visitor's name and/or address on an open conversation.
    Profile {
        /// Their name.
        #[serde(default)]
        name: Option<String>,
        /// Their address.
        #[serde(default)]
        email: Option<String>,
    },
    /// The visitor has read up to this message.
    Read {
        /// A message id.
        up_to: i64,
    },
    /// Go on by email: agents' replies are mailed to this address from now on.
    ContinueByEmail {
        /// The address.
        email: String,
    },
    /// Mail the transcript (to this address, or the one given before).
    Transcript {
        /// The address, if not given before.
        #[serde(default)]
        email: Option<String>,
    },
    /// Keep-alive; answered with `pong`.
    Ping,
    /// "Talk to a person": the bot hands the conversation over.
    Handoff,
}

/// A link a bot message quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameSource {
    /// The article's title.
    pub title: String,
    /// Its help-center link (a path on this server, `/help/…`).
    pub url: String,
}

/// A file on a message, as the visitor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct FileView {
    /// Attachment id.
    pub id: i64,
    /// File name (show it as text).
    pub filename: String,
    /// MIME type, as the server found it.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
}

impl From<rapport_store::chat::files::FileMeta> for FileView {
    fn from(f: rapport_store::chat::files::FileMeta) -> Self {
        Self {
            id: f.id,
            filename: f.filename,
            content_type: f.content_type,
            size: f.size,
        }
    }
}

/// A frame to the visitor's browser.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The token was accepted.
    Ready {
        /// The conversation.
        conversation_id: i64,
        /// The newest message the visitor may read now.
        last_id: i64,
        /// The newest message an agent has seen (0: none yet).
        agent_read_up_to: i64,
        /// Whether an agent is online.
        agents_online: bool,
        /// Whether the conversation goes on by email.
        by_email: bool,
        /// Whether agents see what the visitor types before sending (tell the visitor).
        typing_preview: bool,
    },
    /// A message was stored (sent only after its commit).
    Ack {
        /// The browser's id for it.
        client_id: String,
        /// Its message id.
        id: i64,
        /// When it was stored.
        at: Timestamp,
    },
    /// A message of the conversation (the visitor's own come back too: match them by id).
    Message {
        /// Message id.
        id: i64,
        /// `agent`, `visitor` or `bot`.
        author: &'static str,
        /// The agent's name (empty for the visitor).
        name: String,
        /// The text (plain text: show it as text, never as HTML).
        body: String,
        /// When it was written.
        at: Timestamp,
        /// Its files (download each with the token: `GET /api/v1/chat/files/{id}`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<FileView>,
        /// The bot's sources (only on `bot` answers).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        sources: Vec<FrameSource>,
        /// The bot asks "Did that solve it?" (a cited answer awaiting the visitor's verdict).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        asks_verdict: bool,
    },
    /// The visitor's name and address were saved.
    Profile {
        /// The name given (absent: unchanged).
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The address the conversation has now, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
    /// The other side is typing.
    Typing {
        /// `agent` or `visitor`.
        author: &'static str,
        /// An agent's name, if known.
        name: String,
    },
    /// The other side has read up to a message.
    Read {
        /// `agent` or `visitor`.
        author: &'static str,
        /// The message id.
        up_to: i64,
    },
    /// The conversation goes on by email now.
    ByEmail {
        /// The address.
        email: String,
    },
    /// Whether the transcript was queued.
    Transcript {
        /// False when no mailbox exists to send from or the address had enough mail.
        queued: bool,
    },
    /// Answer to `ping`.
    Pong,
    /// The conversation was solved and the visitor is asked how it went: `url` opens the
    /// rating page (add `?csat=1`…`5` to choose a rating; the page records it when the
    /// visitor sends it). Sent once per socket, only while the survey is unanswered.
    Survey {
        /// The rating page.
        url: String,
    },
    /// A person takes the conversation over (the visitor asked, or the bot decided).
    Handoff {
        /// Whether an agent has it already (false: waiting for the next free one).
        assigned: bool,
        /// How long a first answer usually takes, honestly.
        expected_reply: String,
    },
    /// A frame was refused; the connection stays open unless `code` is `unauthorized`
    /// or `auth_timeout`.
    Error {
        /// A stable code (see the protocol).
        code: &'static str,
        /// A sentence for people.
        message: String,
        /// The field at fault, if one.
        #[serde(skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        /// The message's client id, for errors about a message.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
}

impl ServerFrame {
    /// An error frame.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        ServerFrame::Error {
            code,
            message: message.into(),
            field: None,
            client_id: None,
        }
    }

    /// The frame as JSON text.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"the server failed"}"#.to_owned()
        })
    }
}
