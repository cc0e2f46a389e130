//! Automatic mail: the acknowledgement of a new ticket (queued by mail ingest in the
//! transaction that files the ticket), agents' notifications (assigned to you, the
//! customer replied — queued by the email channel's notices subscriber in the transaction
//! that moves its cursor past the event), portal sign-in links. The `mail.notify` job
//! renders and sends it later. Automatic mail to
//! customers is rate-limited per address and logged, so two robots can never keep
//! answering each other.

use rapport_domain::Timestamp;
use rapport_domain::expectation::Expectation;
use serde::{Deserialize, Serialize};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::jobs::{self, NewJob};

/// The job kind that sends automatic mail.
pub const NOTIFY_JOB: &str = "mail.notify";

/// At most this many automatic mails to one address per hour…
pub const AUTO_PER_HOUR: i64 = 3;
/// …and per day.
pub const AUTO_PER_DAY: i64 = 10;

/// One automatic mail to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// "We received your request #n", with the honest expected wait.
    Ack {
        /// The new ticket.
        ticket_id: i64,
        /// The customer's Message-ID, to thread under.
        in_reply_to: Option<String>,
        /// What the customer is told about the wait.
        expectation: String,
    },
    /// A ticket was assigned to an agent by someone else.
    Assigned {
        /// The agent.
        user_id: i64,
        /// The ticket.
        ticket_id: i64,
        /// Who assigned it.
        by: i64,
    },
    /// A reminder to an agent: a snoozed ticket woke, or a promise of theirs comes due.
    Reminder {
        /// The agent.
        user_id: i64,
        /// The ticket.
        ticket_id: i64,
        /// What to remember (plain text).
        text: String,
        /// The mail's subject (absent: "Reminder"); an automation rule's notice names
        /// its rule.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
    },
    /// The customer wrote again on an agent's ticket.
    CustomerReplied {
        /// The agent.
        user_id: i64,
        /// The ticket.
        ticket_id: i64,
    },
    /// A portal sign-in link for a customer; the token is sealed.
    PortalLink {
        /// The customer.
        customer_id: i64,
        /// The sign-in token, sealed with the server's key.
        sealed_token: String,
        /// The page of this site to land on after signing in (already checked to be a
        /// local path; checked again when the link is used).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next: Option<String>,
    },
    /// A return moved a step: its customer hears where it stands.
    ReturnStep {
        /// The return.
        return_id: i64,
        /// The state it reached (`requested`, `approved`, …).
        state: String,
    },
    /// A survey to its customer: CSAT after a solved ticket, or NPS (its links are signed
    /// when the mail is written).
    Survey {
        /// The survey.
        survey_id: i64,
    },
    /// A chat's transcript, asked for by its visitor.
    ChatTranscript {
        /// The conversation's ticket.
        ticket_id: i64,
        /// The address the visitor gave.
        to: String,
    },
}

/// Queues a notice (a no-op when no mailbox exists: there is no address to send from,
/// and an installation without email should not collect failing jobs).
pub async fn queue(c: &mut dyn Conn, notice: &Notice, now: Timestamp) -> Result<bool> {
    queue_within(c, notice, None, now).await
}

/// Queues an automatic mail to `address` (`kind`: `ack`, `signin`, `transcript`, …) if
/// it would go out and the address's allowance ([`take_auto_allowance`]) has room; the
/// allowance is taken only for a mail actually queued.
pub async fn queue_automatic(
    c: &mut dyn Conn,
    notice: &Notice,
    address: &str,
    kind: &str,
    now: Timestamp,
) -> Result<bool> {
    queue_within(c, notice, Some((address, kind)), now).await
}

async fn queue_within(
    c: &mut dyn Conn,
    notice: &Notice,
    allowance: Option<(&str, &str)>,
    now: Timestamp,
) -> Result<bool> {
    if c.opt("SELECT id FROM mailboxes LIMIT 1", &[])
        .await?
        .is_none()
    {
        return Ok(false);
    }
    if !goes_out(c, notice).await? {
        return Ok(false);
    }
    if let Some((address, kind)) = allowance
        && !take_auto_allowance(c, address, kind, now).await?
    {
        return Ok(false);
    }
    let idempotency_key = match notice {
        Notice::Ack { ticket_id, .. } => Some(format!("{NOTIFY_JOB}:ack:{ticket_id}")),
        Notice::Survey { survey_id } => Some(format!("{NOTIFY_JOB}:survey:{survey_id}")),
        Notice::ReturnStep { return_id, state } => {
            Some(format!("{NOTIFY_JOB}:return:{return_id}:{state}"))
        }
        _ => None,
    };
    jobs::enqueue(
        c,
        NewJob {
            kind: NOTIFY_JOB.into(),
            payload: serde_json::to_value(notice)?,
            run_at: now,
            max_attempts: 8,
            idempotency_key,
        },
        now,
    )
    .await?;
    Ok(true)
}

/// Whether one more automatic mail may go to `address` now; when it may, it is logged
/// as sent (call this in the transaction that queues it).
pub async fn take_auto_allowance(
    c: &mut dyn Conn,
    address: &str,
    kind: &str,
    now: Timestamp,
) -> Result<bool> {
    let address = address.to_ascii_lowercase();
    let r = c
        .one(
            "SELECT COUNT(*) AS day,
                    COALESCE(SUM(CASE WHEN created_at >= $2 THEN 1 ELSE 0 END), 0) AS hour
             FROM auto_mail_log WHERE address = $1 AND created_at >= $3",
            &[
                address.clone().into(),
                now.plus_secs(-3_600).into(),
                now.plus_secs(-86_400).into(),
            ],
        )
        .await?;
    if r.int("day")? >= AUTO_PER_DAY || r.int("hour")? >= AUTO_PER_HOUR {
        return Ok(false);
    }
    c.execute(
        "INSERT INTO auto_mail_log (address, kind, created_at) VALUES ($1, $2, $3)",
        &[address.into(), kind.into(), now.into()],
    )
    .await?;
    Ok(true)
}

/// How many automatic mails were sent to anyone in the hour before `now` (for the
/// overall hourly cap).
pub async fn auto_mail_last_hour(c: &mut dyn Conn, now: Timestamp) -> Result<i64> {
    c.one(
        "SELECT COUNT(*) AS n FROM auto_mail_log WHERE created_at >= $1",
        &[now.plus_secs(-3_600).into()],
    )
    .await?
    .int("n")
}

/// How many automatic mails of `kind` (`ack`, `signin`) were sent in the hour before
/// `now` (for a kind's share of the overall cap).
pub async fn auto_mail_kind_last_hour(c: &mut dyn Conn, kind: &str, now: Timestamp) -> Result<i64> {
    c.one(
        "SELECT COUNT(*) AS n FROM auto_mail_log WHERE kind = $1 AND created_at >= $2",
        &[kind.into(), now.plus_secs(-3_600).into()],
    )
    .await?
    .int("n")
}

/// Whether one more portal sign-in link may go out now under the overall hourly cap
/// (`per_hour`, `RAPPORT_AUTO_MAIL_PER_HOUR`): all automatic mail together stays under
/// it, and sign-in links use at most half of it (rounded up), so requests for links —
/// which anyone can make for any customer's address — never use up the
/// acknowledgements' budget.
pub async fn signin_link_within_cap(
    c: &mut dyn Conn,
    per_hour: i64,
    now: Timestamp,
) -> Result<bool> {
    kind_within_cap(c, "signin", per_hour, 2, now).await
}

/// Whether one more automatic mail of `kind` may go out now: all automatic mail together
/// stays under `per_hour` (`RAPPORT_AUTO_MAIL_PER_HOUR`), and this kind uses at most
/// `1/share_of` of it (rounded up) — what strangers can ask for (sign-in links: half;
/// chat transcripts: a quarter) never uses up what the rest needs.
pub async fn kind_within_cap(
    c: &mut dyn Conn,
    kind: &str,
    per_hour: i64,
    share_of: i64,
    now: Timestamp,
) -> Result<bool> {
    let share_of = share_of.max(1);
    let share = (per_hour.max(0) + share_of - 1) / share_of;
    Ok(auto_mail_last_hour(c, now).await? < per_hour
        && auto_mail_kind_last_hour(c, kind, now).await? < share)
}

/// How long the customer of a ticket created `now` can expect to wait: from the first
/// answers of the past 14 days and the unanswered tickets ahead of it.
pub async fn expectation(c: &mut dyn Conn, ticket_id: i64, now: Timestamp) -> Result<Expectation> {
    let waits = c
        .query(
            "SELECT first_response_at - created_at AS wait FROM tickets
             WHERE created_at >= $1 AND first_response_at IS NOT NULL
             ORDER BY created_at DESC LIMIT 2000",
            &[now.plus_secs(-14 * 86_400).into()],
        )
        .await?
        .iter()
        .map(|r| Ok(r.int("wait")? / 1_000_000))
        .collect::<Result<Vec<i64>>>()?;
    let q = c
        .one(
            "SELECT COUNT(*) AS ahead, MIN(created_at) AS oldest FROM tickets
             WHERE status IN ('new', 'open') AND first_response_at IS NULL AND id < $1",
            &[ticket_id.into()],
        )
        .await?;
    let ahead = q.int("ahead")?;
    let oldest = q
        .opt_int("oldest")?
        .map_or(0, |t| (now.micros() - t).max(0) / 1_000_000);
    Ok(Expectation::estimate(waits, ahead, oldest))
}

/// A customer's address and name, to send them automatic mail.
pub async fn customer_recipient(c: &mut dyn Conn, customer_id: i64) -> Result<(String, String)> {
    let r = c
        .opt(
            "SELECT email, name FROM customers WHERE id = $1",
            &[customer_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("customer"))?;
    Ok((r.text("email")?, r.text("name")?))
}

/// Whether mailboxes acknowledge new tickets, per mailbox id.
pub async fn acknowledges(c: &mut dyn Conn, mailbox_id: i64) -> Result<bool> {
    Ok(c.opt(
        "SELECT acknowledge FROM mailboxes WHERE id = $1",
        &[mailbox_id.into()],
    )
    .await?
    .map(|r| r.bool("acknowledge"))
    .transpose()?
    .unwrap_or(false))
}

/// Turns acknowledgements on or off for a mailbox.
pub async fn set_acknowledge(c: &mut dyn Conn, mailbox_id: i64, on: bool) -> Result<()> {
    c.execute(
        "UPDATE mailboxes SET acknowledge = $1 WHERE id = $2",
        &[i64::from(on).into(), mailbox_id.into()],
    )
    .await?;
    Ok(())
}

/// Whether an agent wants notification emails (on unless they turned them off).
pub async fn email_notifications(c: &mut dyn Conn, user_id: i64) -> Result<bool> {
    Ok(c.opt(
        "SELECT email_notifications FROM users WHERE id = $1",
        &[user_id.into()],
    )
    .await?
    .map(|r| r.bool("email_notifications"))
    .transpose()?
    .unwrap_or(false))
}

/// Whether a notice may be mailed: a notice to an agent only while the agent is active and
/// wants notification emails (checked when it is queued and again when it is sent, so a
/// deactivated agent gets nothing more).
pub async fn goes_out(c: &mut dyn Conn, notice: &Notice) -> Result<bool> {
    if let Notice::ReturnStep { return_id, .. } = notice {
        // Never to an erased customer.
        return Ok(c
            .opt(
                "SELECT x.id FROM returns r JOIN customers x ON x.id = r.customer_id
                 WHERE r.id = $1 AND x.erased_at IS NULL",
                &[(*return_id).into()],
            )
            .await?
            .is_some());
    }
    let (Notice::Assigned { user_id, .. }
    | Notice::CustomerReplied { user_id, .. }
    | Notice::Reminder { user_id, .. }) = notice
    else {
        return Ok(true);
    };
    Ok(c.opt(
        "SELECT id FROM users WHERE id = $1 AND active = $2 AND email_notifications = $3",
        &[(*user_id).into(), true.into(), true.into()],
    )
    .await?
    .is_some())
}

/// Turns an agent's notification emails on or off.
pub async fn set_email_notifications(c: &mut dyn Conn, user_id: i64, on: bool) -> Result<()> {
    c.execute(
        "UPDATE users SET email_notifications = $1 WHERE id = $2",
        &[i64::from(on).into(), user_id.into()],
    )
    .await?;
    Ok(())
}
