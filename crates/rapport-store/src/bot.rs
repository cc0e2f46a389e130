//! The assistant bot's conversations and turns: who asked (the agent whose token asked,
//! the owner — nobody else reads or continues it), each message with the bot's answer,
//! its sources, confidence and the customer's verdict, the handoff and its summary, the
//! ticket a channel made of it, and how it resolved ([`Resolved`]): `confirmed` when the
//! customer said yes, `left_after_answer` when the conversation stayed quiet for
//! [`IDLE_SECS`] after a cited answer ([`settle_idle`]).

use rapport_domain::Timestamp;
use rapport_domain::bot::{IDLE_SECS, Mood, Reaction, Resolved};
use serde::{Deserialize, Serialize};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Row;

/// A conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Database id.
    pub id: i64,
    /// The agent whose token asked (`None`: a live chat's, owned by its ticket).
    pub user_id: Option<i64>,
    /// The ticket a channel made of it.
    pub ticket_id: Option<i64>,
    /// When it began.
    pub created_at: Timestamp,
    /// The last message.
    pub active_at: Timestamp,
    /// When the bot's unanswered, cited last answer was given.
    pub last_cited_at: Option<Timestamp>,
    /// "That didn't help" so far.
    pub unhelpful: i64,
    /// The worst mood seen (`calm`, `frustrated`, `upset`).
    pub mood: String,
    /// Whether a person has it.
    pub handed_over: bool,
    /// The handoff summary (plain text).
    pub summary: Option<String>,
    /// How it resolved without a person.
    pub outcome: Option<Resolved>,
}

/// A link an answer quoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnSource {
    /// The article's title.
    pub title: String,
    /// The link, with the section's anchor.
    pub url: String,
    /// The article's slug.
    pub slug: String,
}

/// One message and the bot's reply, to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTurn {
    /// What the customer wrote.
    pub question: String,
    /// What the bot replied.
    pub answer: String,
    /// What the reply quoted.
    pub sources: Vec<TurnSource>,
    /// 0–1.
    pub confidence: f32,
    /// `answer`, `handoff`, `confirmed`, `ask_again`.
    pub kind: String,
    /// Whether the bot handed over.
    pub handoff: bool,
    /// Why it handed over.
    pub reason: Option<String>,
    /// The customer's verdict on the previous answer, given by this message.
    pub reaction: Option<Reaction>,
    /// The customer's mood in this message.
    pub mood: Mood,
}

/// A recorded turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Database id.
    pub id: i64,
    /// What was recorded.
    pub turn: NewTurn,
    /// When.
    pub created_at: Timestamp,
}

fn mood_parse(s: &str) -> Result<Mood> {
    [Mood::Calm, Mood::Frustrated, Mood::Upset]
        .into_iter()
        .find(|m| m.as_str() == s)
        .ok_or_else(|| StoreError::Db(format!("unknown mood {s:?}")))
}

fn conversation_from(r: &Row) -> Result<Conversation> {
    let outcome = r
        .opt_text("outcome")?
        .map(|o| {
            Resolved::parse(&o).ok_or_else(|| StoreError::Db(format!("unknown bot outcome {o:?}")))
        })
        .transpose()?;
    Ok(Conversation {
        id: r.int("id")?,
        user_id: r.opt_int("user_id")?,
        ticket_id: r.opt_int("ticket_id")?,
        created_at: Timestamp(r.int("created_at")?),
        active_at: Timestamp(r.int("active_at")?),
        last_cited_at: r.opt_int("last_cited_at")?.map(Timestamp),
        unhelpful: r.int("unhelpful")?,
        mood: r.text("mood")?,
        handed_over: r.bool("handed_over")?,
        summary: r.opt_text("summary")?,
        outcome,
    })
}

const CONVERSATION_COLUMNS: &str = "id, user_id, ticket_id, created_at, active_at, \
    last_cited_at, unhelpful, mood, handed_over, summary, outcome";

/// Starts a conversation for the agent `user_id`.
pub async fn start(c: &mut dyn Conn, user_id: i64, now: Timestamp) -> Result<Conversation> {
    let sql = format!(
        "INSERT INTO bot_conversations (user_id, created_at, active_at) VALUES ($1, $2, $2)
         RETURNING {CONVERSATION_COLUMNS}"
    );
    conversation_from(&c.one(&sql, &[user_id.into(), now.into()]).await?)
}

/// Starts the bot's conversation of the live chat on ticket `ticket_id`.
pub async fn start_for_ticket(
    c: &mut dyn Conn,
    ticket_id: i64,
    now: Timestamp,
) -> Result<Conversation> {
    let sql = format!(
        "INSERT INTO bot_conversations (ticket_id, created_at, active_at) VALUES ($1, $2, $2)
         RETURNING {CONVERSATION_COLUMNS}"
    );
    conversation_from(&c.one(&sql, &[ticket_id.into(), now.into()]).await?)
}

/// The bot's conversation of the live chat on ticket `ticket_id`, if the bot has spoken
/// there.
pub async fn for_ticket(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<Conversation>> {
    let sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM bot_conversations
         WHERE ticket_id = $1 AND user_id IS NULL ORDER BY id LIMIT 1"
    );
    c.opt(&sql, &[ticket_id.into()])
        .await?
        .as_ref()
        .map(conversation_from)
        .transpose()
}

/// The handoff summary the bot left on a ticket (the newest conversation's), if any.
pub async fn summary_for_ticket(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<String>> {
    c.opt(
        "SELECT summary FROM bot_conversations
         WHERE ticket_id = $1 AND summary IS NOT NULL ORDER BY id DESC LIMIT 1",
        &[ticket_id.into()],
    )
    .await?
    .map(|r| r.text("summary"))
    .transpose()
}

/// The conversation `id` if the agent `user_id` owns it; `NotFound` otherwise (another
/// agent's conversation is as unknown as one that does not exist).
pub async fn get(c: &mut dyn Conn, user_id: i64, id: i64) -> Result<Conversation> {
    let sql = format!(
        "SELECT {CONVERSATION_COLUMNS} FROM bot_conversations WHERE id = $1 AND user_id = $2"
    );
    c.opt(&sql, &[id.into(), user_id.into()])
        .await?
        .as_ref()
        .map(conversation_from)
        .transpose()?
        .ok_or(StoreError::NotFound("bot conversation"))
}

/// A conversation's turns, oldest first.
pub async fn turns(c: &mut dyn Conn, conversation_id: i64) -> Result<Vec<Turn>> {
    c.query(
        "SELECT id, question, answer, sources, confidence, kind, handoff, reason, reaction,
                mood, created_at
         FROM bot_turns WHERE conversation_id = $1 ORDER BY id",
        &[conversation_id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        let sources: Vec<TurnSource> = serde_json::from_str(&r.text("sources")?)
            .map_err(|e| StoreError::Db(format!("bot turn sources: {e}")))?;
        let reaction = r
            .opt_text("reaction")?
            .map(|s| {
                Reaction::parse(&s).ok_or_else(|| StoreError::Db(format!("unknown reaction {s:?}")))
            })
            .transpose()?;
        Ok(Turn {
            id: r.int("id")?,
            turn: NewTurn {
                question: r.text("question")?,
                answer: r.text("answer")?,
                sources,
                confidence: r.int("confidence")? as f32 / 1000.0,
                kind: r.text("kind")?,
                handoff: r.bool("handoff")?,
                reason: r.opt_text("reason")?,
                reaction,
                mood: mood_parse(&r.text("mood")?)?,
            },
            created_at: Timestamp(r.int("created_at")?),
        })
    })
    .collect()
}

/// Records a turn of `conv` and what it changes: the activity time, the cited answer
/// awaiting a verdict (set by an answer with sources, cleared by anything else), the
/// count of unhelpful verdicts, the worst mood, the handoff with its `summary`, and the
/// `confirmed` outcome when the customer said yes. Returns the turn's id.
pub async fn record(
    c: &mut dyn Conn,
    conv: &Conversation,
    t: &NewTurn,
    summary: Option<&str>,
    now: Timestamp,
) -> Result<i64> {
    let sources = serde_json::to_string(&t.sources)
        .map_err(|e| StoreError::Db(format!("bot turn sources: {e}")))?;
    let confidence = (t.confidence.clamp(0.0, 1.0) * 1000.0).round() as i64;
    let row = c
        .one(
            "INSERT INTO bot_turns (conversation_id, question, answer, sources, confidence,
                                    kind, handoff, reason, reaction, mood, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            &[
                conv.id.into(),
                t.question.clone().into(),
                t.answer.clone().into(),
                sources.into(),
                confidence.into(),
                t.kind.clone().into(),
                t.handoff.into(),
                t.reason.clone().into(),
                t.reaction.map(Reaction::as_str).into(),
                t.mood.as_str().into(),
                now.into(),
            ],
        )
        .await?;
    let cited = (t.kind == "answer" && !t.sources.is_empty()).then_some(now);
    let worst = mood_parse(&conv.mood)?.max(t.mood);
    let unhelpful = conv.unhelpful + i64::from(t.reaction == Some(Reaction::Unhelpful));
    let handed_over = conv.handed_over || t.handoff;
    let outcome = conv
        .outcome
        .or((t.reaction == Some(Reaction::Helped) && !conv.handed_over)
            .then_some(Resolved::Confirmed));
    let outcome_changed = outcome != conv.outcome;
    c.execute(
        "UPDATE bot_conversations SET active_at = $2, last_cited_at = $3, unhelpful = $4,
                mood = $5, handed_over = $6,
                handed_over_at = CASE WHEN $7 THEN $2 ELSE handed_over_at END,
                summary = COALESCE($8, summary),
                outcome = $9,
                outcome_at = CASE WHEN $10 THEN $2 ELSE outcome_at END
         WHERE id = $1",
        &[
            conv.id.into(),
            now.into(),
            cited.into(),
            unhelpful.into(),
            worst.as_str().into(),
            handed_over.into(),
            (t.handoff && !conv.handed_over).into(),
            summary.map(str::to_owned).into(),
            outcome.map(Resolved::as_str).into(),
            outcome_changed.into(),
        ],
    )
    .await?;
    row.int("id")
}

/// Links a conversation to a ticket (used by the tests; live chat starts its bot
/// conversation with `start_for_ticket`).
pub async fn link_ticket(c: &mut dyn Conn, id: i64, ticket_id: i64) -> Result<()> {
    let n = c
        .execute(
            "UPDATE bot_conversations SET ticket_id = $2 WHERE id = $1",
            &[id.into(), ticket_id.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("bot conversation"));
    }
    Ok(())
}

/// Marks a conversation handed over at the customer's request (no turn: a button), with
/// its `summary`; a cited answer no longer awaits a verdict.
pub async fn mark_handed_over(
    c: &mut dyn Conn,
    id: i64,
    summary: &str,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "UPDATE bot_conversations SET handed_over = $2, handed_over_at = $3, summary = $4,
                last_cited_at = NULL, active_at = $3
         WHERE id = $1",
        &[id.into(), true.into(), now.into(), summary.into()],
    )
    .await?;
    Ok(())
}

/// Records which chat message carried a turn's answer.
pub async fn set_turn_message(c: &mut dyn Conn, turn_id: i64, message_id: i64) -> Result<()> {
    c.execute(
        "UPDATE bot_turns SET message_id = $2 WHERE id = $1",
        &[turn_id.into(), message_id.into()],
    )
    .await?;
    Ok(())
}

/// Settles every conversation left quiet for [`IDLE_SECS`] after a cited answer (not
/// handed over, not resolved yet) as `left_after_answer`. Returns how many it settled.
/// Run before each report and safe to run anywhere, any number of times.
pub async fn settle_idle(c: &mut dyn Conn, now: Timestamp) -> Result<u64> {
    let before = Timestamp(now.micros().saturating_sub(IDLE_SECS * 1_000_000));
    c.execute(
        "UPDATE bot_conversations SET outcome = $1, outcome_at = $2
         WHERE outcome IS NULL AND handed_over = $3 AND last_cited_at IS NOT NULL
           AND last_cited_at <= $4",
        &[
            Resolved::LeftAfterAnswer.as_str().into(),
            now.into(),
            false.into(),
            before.into(),
        ],
    )
    .await
}

/// The bot's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Conversations.
    pub conversations: i64,
    /// Questions asked (messages the bot answered or handed over).
    pub asked: i64,
    /// Questions answered with a cited source.
    pub answered_with_source: i64,
    /// Conversations handed over to a person.
    pub handed_over: i64,
    /// Conversations the customer said were solved.
    pub resolved_confirmed: i64,
    /// Conversations the customer left after a cited answer without asking more.
    pub resolved_left_after_answer: i64,
}

/// The counts over every conversation of the help desk.
pub async fn report(c: &mut dyn Conn) -> Result<Report> {
    let t = c
        .one(
            "SELECT COUNT(*) AS asked,
                    COALESCE(SUM(CASE WHEN kind = 'answer' THEN 1 ELSE 0 END), 0) AS answered
             FROM bot_turns WHERE kind IN ('answer', 'handoff')",
            &[],
        )
        .await?;
    let v = c
        .one(
            "SELECT COUNT(*) AS conversations,
                    COALESCE(SUM(CASE WHEN handed_over THEN 1 ELSE 0 END), 0) AS handed_over,
                    COALESCE(SUM(CASE WHEN outcome = 'confirmed' THEN 1 ELSE 0 END), 0)
                        AS confirmed,
                    COALESCE(SUM(CASE WHEN outcome = 'left_after_answer' THEN 1 ELSE 0 END), 0)
                        AS left_after
             FROM bot_conversations",
            &[],
        )
        .await?;
    Ok(Report {
        conversations: v.int("conversations")?,
        asked: t.int("asked")?,
        answered_with_source: t.int("answered")?,
        handed_over: v.int("handed_over")?,
        resolved_confirmed: v.int("confirmed")?,
        resolved_left_after_answer: v.int("left_after")?,
    })
}
