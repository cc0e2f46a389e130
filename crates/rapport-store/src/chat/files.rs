//! Files in a chat, both ways. A visitor's file is stored with the existing attachment
//! store, on a message of their own (once per client id, like a text message); an agent's
//! attachment on a public reply reaches the visitor as metadata on the message, and the
//! bytes only through [`download`] — with the conversation's token, for that one
//! conversation's public messages, never a note's file and never another ticket's.

use rapport_domain::chat::ClientId;
use rapport_domain::chat_file::ChatFile;
use rapport_domain::{Body, Principal, Timestamp};

use super::Conversation;
use super::messages::{Stored, post_with};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::messages::{AttachmentFile, NewAttachment, visible_attachment};

/// What the visitor is told of a file on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// Attachment id (the visitor downloads it with their token).
    pub id: i64,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
}

/// Stores a visitor's file as a message of theirs whose text is the file's name, once per
/// `client_id` (a resend returns the message stored before).
pub async fn post(
    c: &mut dyn Conn,
    conv: &Conversation,
    client_id: &ClientId,
    file: ChatFile,
    data: Vec<u8>,
    now: Timestamp,
) -> Result<Stored> {
    let body = Body::parse(&file.filename)?;
    let attachment = NewAttachment {
        filename: file.filename,
        content_type: file.content_type.to_owned(),
        data,
        content_id: None,
    };
    post_with(c, conv, client_id, &body, vec![attachment], now).await
}

/// The files on the public messages with ids in `first..=last` of a ticket, by message id.
pub(super) async fn of_messages(
    c: &mut dyn Conn,
    ticket_id: i64,
    first: i64,
    last: i64,
) -> Result<Vec<(i64, FileMeta)>> {
    let rows = c
        .query(
            "SELECT a.id, a.message_id, a.filename, a.content_type, a.size
             FROM attachments a JOIN messages m ON m.id = a.message_id
             WHERE m.ticket_id = $1 AND m.id >= $2 AND m.id <= $3 AND m.internal = $4
             ORDER BY a.id",
            &[ticket_id.into(), first.into(), last.into(), false.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.int("message_id")?,
                FileMeta {
                    id: r.int("id")?,
                    filename: r.text("filename")?,
                    content_type: r.text("content_type")?,
                    size: r.int("size")?,
                },
            ))
        })
        .collect()
}

/// A file of this conversation, for its visitor: only a public message's file on this
/// conversation's ticket ("not found" for anything else, as if it did not exist).
pub async fn download(c: &mut dyn Conn, conv: &Conversation, id: i64) -> Result<AttachmentFile> {
    let who = Principal::Customer(conv.customer_id);
    let file = visible_attachment(c, &who, id).await?;
    if file.ticket_id != conv.ticket_id {
        return Err(StoreError::NotFound("attachment"));
    }
    Ok(file)
}
