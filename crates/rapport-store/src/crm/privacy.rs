//! GDPR: exporting everything about a customer as one machine-readable document, and
//! erasing them — personal data deleted, their conversations anonymised, while the
//! numbers every report counts (tickets, times, ratings, order totals) stay. Both are
//! audited (`customer_exported`, `customer_erased`).

use rapport_domain::{EventKind, Timestamp};
use serde_json::{Map, Value as Json, json};

use crate::customers;
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::search;
use crate::value::{Row, Value};

/// What erased text reads as.
pub const ERASED: &str = "[erased]";

/// The export format's name.
pub const FORMAT: &str = "rapport.customer-export.v1";

fn to_json(r: &Row) -> Json {
    let mut m = Map::new();
    for name in r.names() {
        let v = match r.value(name.as_str()) {
            Ok(Value::Int(i)) => json!(i),
            Ok(Value::Real(f)) => json!(f),
            Ok(Value::Text(t)) => json!(t),
            Ok(Value::Bool(b)) => json!(b),
            // Bytes (attachments) are listed, not embedded.
            Ok(Value::Blob(_) | Value::Null) | Err(_) => Json::Null,
        };
        m.insert(name.clone(), v);
    }
    Json::Object(m)
}

async fn rows(c: &mut dyn Conn, sql: &str, id: i64) -> Result<Json> {
    Ok(Json::Array(
        c.query(sql, &[id.into()])
            .await?
            .iter()
            .map(to_json)
            .collect(),
    ))
}

/// Their own tickets (on others' tickets, only what they wrote is theirs).
const THEIR_TICKETS: &str = "SELECT id FROM tickets WHERE customer_id = $1";

/// Everything about a customer, section by section (see [`FORMAT`]). Secrets (token
/// hashes) are left out; attachments are listed by name, type, size and checksum.
pub async fn export(c: &mut dyn Conn, actor: Actor, id: i64, now: Timestamp) -> Result<Json> {
    let customer = customers::get(c, id).await?;
    let mut out = Map::new();
    out.insert("format".into(), json!(FORMAT));
    out.insert("exported_at".into(), json!(now.to_datetime()));
    out.insert("customer".into(), serde_json::to_value(&customer)?);
    let sections: [(&str, String); 23] = [
        ("organization", "SELECT * FROM organizations WHERE id = (SELECT organization_id FROM customers WHERE id = $1)".into()),
        ("tickets", "SELECT * FROM tickets WHERE customer_id = $1 ORDER BY id".into()),
        // The public conversation of their tickets, and what they wrote on others';
        // internal notes are the team's, not theirs.
        ("messages", format!(
            "SELECT id, ticket_id, author_kind, author_user_id, author_customer_id, channel,
                    body, html, from_address, sentiment, created_at
             FROM messages
             WHERE internal = FALSE AND (ticket_id IN ({THEIR_TICKETS}) OR author_customer_id = $1)
             ORDER BY id")),
        ("attachments", format!(
            "SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256, a.created_at
             FROM attachments a JOIN messages m ON m.id = a.message_id
             WHERE m.internal = FALSE AND (m.ticket_id IN ({THEIR_TICKETS}) OR m.author_customer_id = $1)
             ORDER BY a.id")),
        ("chats", "SELECT ticket_id, customer_id, anonymous, email, by_email, external_id, created_at
             FROM chat_conversations WHERE customer_id = $1 ORDER BY ticket_id".into()),
        ("chat_identities", "SELECT external_id, created_at FROM chat_identities WHERE customer_id = $1".into()),
        ("surveys", "SELECT * FROM surveys WHERE customer_id = $1 ORDER BY id".into()),
        ("orders", "SELECT * FROM orders WHERE customer_id = $1 ORDER BY id".into()),
        ("order_lines", "SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.customer_id = $1".into()),
        ("shipments", "SELECT s.* FROM shipments s JOIN orders o ON o.id = s.order_id WHERE o.customer_id = $1".into()),
        ("returns", "SELECT * FROM returns WHERE customer_id = $1 ORDER BY id".into()),
        ("return_steps", "SELECT s.* FROM return_steps s JOIN returns r ON r.id = s.return_id WHERE r.customer_id = $1".into()),
        ("vouchers", "SELECT * FROM vouchers WHERE customer_id = $1 ORDER BY id".into()),
        ("invoices", "SELECT * FROM invoices WHERE customer_id = $1 ORDER BY id".into()),
        ("payments", "SELECT * FROM payments WHERE customer_id = $1 ORDER BY id".into()),
        ("refunds", "SELECT * FROM refunds WHERE customer_id = $1 ORDER BY id".into()),
        ("points", "SELECT * FROM points_ledger WHERE customer_id = $1 ORDER BY id".into()),
        ("goodwill", "SELECT * FROM goodwill WHERE customer_id = $1".into()),
        ("community_topics", "SELECT * FROM community_topics WHERE author_customer_id = $1 ORDER BY id".into()),
        ("community_posts", "SELECT id, topic_id, body, state, votes, created_at, updated_at
             FROM community_posts WHERE author_customer_id = $1 ORDER BY id".into()),
        ("community_votes", "SELECT post_id, created_at FROM community_votes WHERE customer_id = $1".into()),
        ("article_feedback", "SELECT article_id, locale, helpful, comment, created_at, updated_at
             FROM kb_feedback WHERE customer_id = $1".into()),
        ("help_searches", "SELECT query, source, hits, created_at FROM kb_searches WHERE customer_id = $1".into()),
    ];
    for (name, sql) in sections {
        let v = rows(c, &sql, id).await?;
        let v = if name == "organization" {
            v.as_array()
                .and_then(|a| a.first().cloned())
                .unwrap_or(Json::Null)
        } else {
            v
        };
        out.insert(name.into(), v);
    }
    events::record_crm(
        c,
        actor,
        EventKind::CustomerExported,
        &json!({"customer_id": id}),
        now,
    )
    .await?;
    Ok(Json::Object(out))
}

/// What an erasure changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// Tickets whose subject and messages were anonymised.
    pub tickets: u64,
    /// Messages whose text was erased.
    pub messages: u64,
    /// Attachments deleted.
    pub attachments: u64,
    /// Survey comments erased.
    pub survey_comments: u64,
    /// Community posts erased.
    pub community_posts: u64,
}

/// Erases a customer: their name, addresses, phone, birthday and attributes; the
/// subjects, texts and attachments of their conversations, their survey comments,
/// community posts, the mail they sent as received, and their sessions. What reports
/// count stays: the tickets (status, times, team), message times and sentiment, ratings,
/// orders and their totals, vouchers and points. Search finds nothing of them after.
/// Erasing twice is a 409.
pub async fn erase(c: &mut dyn Conn, actor: Actor, id: i64, now: Timestamp) -> Result<Erased> {
    let customer = customers::get(c, id).await?;
    if customer.erased_at.is_some() {
        return Err(StoreError::Conflict(
            "this customer was already erased".into(),
        ));
    }
    let tickets: Vec<i64> = c
        .query(THEIR_TICKETS, &[id.into()])
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect::<Result<_>>()?;
    // Their examples leave the classifier first: its lock before any ticket row, the
    // order its subscriber takes them in. An example keeps the text of its ticket's first
    // message, so so do other customers' tickets whose first message they wrote (a merge).
    let mut examples = tickets.clone();
    for r in c
        .query(
            "SELECT DISTINCT m.ticket_id FROM messages m JOIN tickets t ON t.id = m.ticket_id
             WHERE m.author_customer_id = $1 AND t.customer_id <> $1
               AND m.id = (SELECT MIN(f.id) FROM messages f WHERE f.ticket_id = m.ticket_id)",
            &[id.into()],
        )
        .await?
    {
        examples.push(r.int("ticket_id")?);
    }
    crate::classify::forget(c, &examples).await?;
    let mut done = Erased::default();
    let erased_text: Value = ERASED.into();
    for t in &tickets {
        let t = *t;
        done.tickets += c
            .execute(
                "UPDATE tickets SET subject = $1 WHERE id = $2",
                &[erased_text.clone(), t.into()],
            )
            .await?;
        done.attachments += c
            .execute(
                "DELETE FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE ticket_id = $1)",
                &[t.into()],
            )
            .await?;
        done.messages += c
            .execute(
                "UPDATE messages SET body = $1, html = NULL, from_address = NULL WHERE ticket_id = $2",
                &[erased_text.clone(), t.into()],
            )
            .await?;
        c.execute(
            "UPDATE inbound_mail SET raw = $1, envelope_from = '', size = 0 WHERE ticket_id = $2",
            &[Value::Blob(Vec::new()), t.into()],
        )
        .await?;
        for sql in [
            "UPDATE tickets SET custom_fields = '{}' WHERE id = $1",
            "UPDATE promises SET text = '[erased]' WHERE ticket_id = $1",
            "UPDATE snoozes SET note = '' WHERE ticket_id = $1",
            "UPDATE bot_conversations SET summary = NULL WHERE ticket_id = $1",
            "UPDATE bot_turns SET question = '[erased]', answer = '[erased]', reason = NULL
             WHERE conversation_id IN (SELECT id FROM bot_conversations WHERE ticket_id = $1)",
        ] {
            c.execute(sql, &[t.into()]).await?;
        }
        search::remove_ticket(c, t).await?;
        scrub_events(c, t).await?;
    }
    // On other customers' tickets, only what they wrote.
    let authored: Vec<i64> = c
        .query(
            "SELECT m.id FROM messages m JOIN tickets t ON t.id = m.ticket_id
             WHERE m.author_customer_id = $1 AND t.customer_id <> $1",
            &[id.into()],
        )
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect::<Result<_>>()?;
    for m in authored {
        done.attachments += c
            .execute("DELETE FROM attachments WHERE message_id = $1", &[m.into()])
            .await?;
        done.messages += c
            .execute(
                "UPDATE messages SET body = $1, html = NULL, from_address = NULL WHERE id = $2",
                &[erased_text.clone(), m.into()],
            )
            .await?;
        search::remove_message(c, m).await?;
    }
    scrub_customer_events(c, id).await?;
    let mut addresses = customer.other_emails.clone();
    addresses.push(customer.email.clone());
    for a in &addresses {
        c.execute(
            "UPDATE inbound_mail SET raw = $1, envelope_from = '', size = 0 WHERE envelope_from = $2",
            &[Value::Blob(Vec::new()), a.as_str().into()],
        )
        .await?;
        c.execute(
            "DELETE FROM auto_mail_log WHERE address = $1",
            &[a.as_str().into()],
        )
        .await?;
    }
    done.survey_comments = c
        .execute(
            "UPDATE surveys SET comment = NULL WHERE customer_id = $1 AND comment IS NOT NULL",
            &[id.into()],
        )
        .await?;
    let topics: Vec<i64> = c
        .query(
            "SELECT DISTINCT topic_id FROM community_posts WHERE author_customer_id = $1",
            &[id.into()],
        )
        .await?
        .iter()
        .map(|r| r.int("topic_id"))
        .collect::<Result<_>>()?;
    done.community_posts = c
        .execute(
            "UPDATE community_posts SET body = $1 WHERE author_customer_id = $2",
            &[erased_text.clone(), id.into()],
        )
        .await?;
    c.execute(
        "UPDATE community_topics SET title = $1 WHERE author_customer_id = $2",
        &[erased_text.clone(), id.into()],
    )
    .await?;
    for t in topics {
        events::record_topic(
            c,
            actor,
            EventKind::TopicChanged,
            &json!({"topic_id": t, "action": "erased"}),
            now,
        )
        .await?;
    }
    for sql in [
        "UPDATE chat_conversations SET email = NULL, visitor_draft = NULL, external_id = NULL WHERE customer_id = $1",
        "DELETE FROM chat_identities WHERE customer_id = $1",
        "DELETE FROM portal_sessions WHERE customer_id = $1",
        "DELETE FROM portal_tokens WHERE customer_id = $1",
        "DELETE FROM customer_emails WHERE customer_id = $1",
        "UPDATE kb_feedback SET comment = '' WHERE customer_id = $1",
        "UPDATE kb_searches SET query = '', normalized = '' WHERE customer_id = $1",
        "UPDATE returns SET reason = '' WHERE customer_id = $1",
        "UPDATE return_steps SET note = NULL
         WHERE return_id IN (SELECT id FROM returns WHERE customer_id = $1)",
        "UPDATE refunds SET reason = '' WHERE customer_id = $1",
        "UPDATE vouchers SET reason = '' WHERE customer_id = $1",
    ] {
        c.execute(sql, &[id.into()]).await?;
    }
    c.execute(
        "UPDATE customers SET email = $1, name = '', phone = NULL, birthday = NULL, tier = NULL,
                attributes = '{}', organization_id = NULL, erased_at = $2, updated_at = $2,
                surveys_opt_out = TRUE, check_ins = FALSE
         WHERE id = $3",
        &[erased_address(id).into(), now.into(), id.into()],
    )
    .await?;
    search::remove_customer(c, id).await?;
    events::record_crm(
        c,
        actor,
        EventKind::CustomerErased,
        &json!({"customer_id": id, "tickets": done.tickets, "messages": done.messages,
                "attachments": done.attachments}),
        now,
    )
    .await?;
    Ok(done)
}

/// The placeholder address an erased customer keeps (unique, and undeliverable: the
/// `.invalid` top-level domain is reserved).
pub fn erased_address(id: i64) -> String {
    format!("erased-{id}@erased.invalid")
}

/// Takes the subject, survey comments, return notes and reasons out of a ticket's
/// history.
async fn scrub_events(c: &mut dyn Conn, ticket_id: i64) -> Result<()> {
    let rows = c
        .query(
            "SELECT id, kind, data FROM events WHERE ticket_id = $1
             AND kind IN ('fields_changed', 'survey_answered', 'automation_ran', 'return_changed',
                          'voucher_issued', 'points_given', 'approval_requested',
                          'approval_decided', 'refund_issued', 'promise_made', 'snoozed',
                          'snooze_ended', 'handed_over', 'transferred')",
            &[ticket_id.into()],
        )
        .await?;
    scrub_rows(c, rows).await
}

/// Events about them with no ticket: a merge's kept address, their returns' notes and
/// reasons, their approval requests (whose reasons are the agents' words about them).
async fn scrub_customer_events(c: &mut dyn Conn, id: i64) -> Result<()> {
    let returns: Vec<i64> = c
        .query(
            "SELECT id FROM returns WHERE customer_id = $1",
            &[id.into()],
        )
        .await?
        .iter()
        .map(|r| r.int("id"))
        .collect::<Result<_>>()?;
    let rows = c
        .query(
            "SELECT id, kind, data FROM events WHERE ticket_id IS NULL
             AND kind IN ('customers_merged', 'return_changed', 'approval_requested',
                          'approval_decided', 'refund_issued', 'voucher_issued')",
            &[],
        )
        .await?;
    let mine: Vec<crate::value::Row> = rows
        .into_iter()
        .filter(|r| {
            let data: Json = r
                .text("data")
                .ok()
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default();
            data["customer_id"].as_i64() == Some(id)
                || data["return_id"]
                    .as_i64()
                    .is_some_and(|rid| returns.contains(&rid))
        })
        .collect();
    scrub_rows(c, mine).await?;
    // Approval requests keep the agent's reason in their request.
    let approvals = c
        .query(
            "SELECT id, request FROM approvals WHERE customer_id = $1",
            &[id.into()],
        )
        .await?;
    for r in approvals {
        let mut req: Json = serde_json::from_str(&r.text("request")?)?;
        if req.get("reason").is_some() {
            req["reason"] = Json::String(String::new());
            c.execute(
                "UPDATE approvals SET request = $1, note = NULL WHERE id = $2",
                &[req.to_string().into(), r.int("id")?.into()],
            )
            .await?;
        }
    }
    Ok(())
}

/// Rewrites events without the personal words they carry.
async fn scrub_rows(c: &mut dyn Conn, rows: Vec<crate::value::Row>) -> Result<()> {
    for r in rows {
        let mut data: Json = serde_json::from_str(&r.text("data")?)?;
        let before = data.clone();
        if let Some(s) = data.get_mut("subject") {
            *s = json!({"from": ERASED, "to": ERASED});
        }
        if let Some(Json::Object(changes)) = data.get_mut("changes")
            && let Some(s) = changes.get_mut("subject")
        {
            *s = json!({"from": ERASED, "to": ERASED});
        }
        for key in [
            "comment",
            "note",
            "reason",
            "duplicate_email",
            "text",
            "summary",
        ] {
            if let Some(v) = data.get_mut(key)
                && v.is_string()
            {
                *v = Json::String(ERASED.into());
            }
        }
        if let Some(d) = data.get_mut("detail") {
            *d = json!({"erased": true});
        }
        if data != before {
            c.execute(
                "UPDATE events SET data = $1 WHERE id = $2",
                &[data.to_string().into(), r.int("id")?.into()],
            )
            .await?;
        }
    }
    Ok(())
}
