//! Files in a chat, both ways. A visitor's file is stored with the existing attachment
//! store, on a message of their own (once per client id, like a text message); an agent's
//! attachment on a public reply reaches the visitor as metadata on the message, and the
//! bytes only through [`download`] — with the conversation's token, for that one
//! conversation's public messages, never a note's file and never another ticket's.

use rapport_domain::chat::ClientId;
use rapport_domain::chat_file::ChatFile;
use rapport_domain::{Body, FieldError, Principal, Timestamp};

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

/// The most bytes of files a visitor may send into one conversation (25 MiB).
pub const MAX_VISITOR_FILE_BYTES: i64 = 25 * 1024 * 1024;

/// Stores a visitor's file as a message of theirs whose text is the file's name, once per
/// `client_id` (a resend returns the message stored before). A conversation holds at most
/// [`MAX_VISITOR_FILE_BYTES`] of the visitor's files.
pub async fn post(
    c: &mut dyn Conn,
    conv: &Conversation,
    client_id: &ClientId,
    file: ChatFile,
    data: Vec<u8>,
    now: Timestamp,
) -> Result<Stored> {
    let body = Body::parse(&file.filename)?;
    let resent = c
        .opt(
            "SELECT message_id FROM chat_sent WHERE ticket_id = $1 AND client_id = $2",
            &[conv.ticket_id.into(), client_id.as_str().into()],
        )
        .await?
        .is_some();
    if !resent {
        let used = c
            .one(
                "SELECT CAST(COALESCE(SUM(a.size), 0) AS BIGINT) AS n
                 FROM attachments a JOIN messages m ON m.id = a.message_id
                 WHERE m.ticket_id = $1 AND m.author_customer_id IS NOT NULL",
                &[conv.ticket_id.into()],
            )
            .await?
            .int("n")?;
        if used + data.len() as i64 > MAX_VISITOR_FILE_BYTES {
            return Err(FieldError::new(
                "file",
                "this conversation already holds 25 MiB of your files; send more by email",
            )
            .into());
        }
    }
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
