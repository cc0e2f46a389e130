//! `/api/v1/bot/…`: the assistant bot for channels and integrators. `POST /ask` takes a
//! customer's message (and, for a follow-up, the `conversation_id` it answered before) and
//! answers from the published, public knowledge base — a brief reply quoting the best
//! passage with its article's link — or says it hands over (`handoff`). The rules are
//! `rapport_domain::bot`; retrieval is this node's in-memory index
//! (`AppState::kb_index`), public articles only whoever asks, since the answer goes to a
//! customer; every turn is recorded (`rapport_store::bot`) with its summary at handoff.
//! When a generator is configured ([`generator`]), a cited generated answer may replace
//! the template answer. `GET /report` counts what the bot did, for supervisors.
//!
//! An agent token is required: the bot is a tool of channels the help desk runs (the
//! chat widget, an integration), which ask on a customer's behalf. A conversation belongs
//! to the agent whose token started it; anyone else's `conversation_id` is refused as
//! unknown.

pub mod generator;

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_domain::bot::summary::{Exchange, summarize};
use rapport_domain::bot::{self, Context, HandoffReason, Mood, Outcome, Reaction, Reply, Source};
use rapport_domain::kb::{Locale, Visibility};
use rapport_index::kb::{KbHit, KbQuery};
use rapport_store::bot::{self as store, NewTurn, Turn, TurnSource};
use rapport_store::{StoreError, op};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, require};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;

/// The longest message, in characters.
pub const MAX_QUESTION_CHARS: usize = 2000;

/// Passages looked at per question.
const PASSAGES: usize = 5;

/// `POST /api/v1/bot/ask`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    /// What the customer wrote (1–2000 characters).
    pub question: String,
    /// The conversation this follows (from an earlier answer); absent: a new one.
    pub conversation_id: Option<i64>,
}

/// An article an answer quotes.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BotSource)]
pub struct BotSourceView {
    /// The article's title.
    pub title: String,
    /// Its help-center link, with the section's anchor.
    pub url: String,
}

/// The bot's reply.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BotAnswer)]
pub struct AskResponse {
    /// What to show the customer: a brief answer quoting the sources with their links and
    /// asking "Did that solve it?", or — on handoff — that a person will take over.
    pub answer: String,
    /// The articles the answer quotes (empty on handoff).
    pub sources: Vec<BotSourceView>,
    /// How well the best passage covers the question (0–1).
    pub confidence: f32,
    /// Whether the bot passes the conversation to a person (not confident enough, the
    /// customer asked for a person or is upset, or a second answer did not help).
    pub handoff: bool,
    /// The conversation, for follow-ups.
    pub conversation_id: i64,
}

/// The bot's counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = BotReport)]
pub struct BotReportView {
    /// Conversations.
    pub conversations: i64,
    /// Questions asked (messages the bot answered or handed over).
    pub asked: i64,
    /// Questions answered with a cited source.
    pub answered_with_source: i64,
    /// Conversations handed over to a person.
    pub handed_over: i64,
    /// Conversations the customer said were solved ("yes").
    pub resolved_confirmed: i64,
    /// Conversations the customer left, 30 minutes quiet after a cited answer.
    pub resolved_left_after_answer: i64,
}

impl From<store::Report> for BotReportView {
    fn from(r: store::Report) -> Self {
        Self {
            conversations: r.conversations,
            asked: r.asked,
            answered_with_source: r.answered_with_source,
            handed_over: r.handed_over,
            resolved_confirmed: r.resolved_confirmed,
            resolved_left_after_answer: r.resolved_left_after_answer,
        }
    }
}

fn source_of(h: KbHit) -> Source {
    Source {
        title: h.title,
        url: h.url,
        slug: h.slug,
        heading: h.heading,
        text: h.text,
        coverage: h.coverage,
        confident: h.confident,
    }
}

/// The passages of the published public articles for `text`, best first, each
/// article's passage in `locale` when it has that translation.
pub fn retrieve(st: &AppState, text: &str, locale: Option<&Locale>) -> Vec<Source> {
    st.kb_index
        .passages(&KbQuery {
            text,
            readable: &[Visibility::Public],
            locale,
            limit: PASSAGES,
            suggest: false,
        })
        .into_iter()
        .map(source_of)
        .collect()
}

/// What the rules need from the turns so far.
fn context(conv: Option<&store::Conversation>, turns: &[Turn]) -> Context {
    let Some(conv) = conv else {
        return Context::default();
    };
    let mut rejected = Vec::new();
    for pair in turns.windows(2) {
        if let [before, after] = pair
            && after.turn.reaction == Some(Reaction::Unhelpful)
        {
            rejected.extend(before.turn.sources.iter().map(|s| s.url.clone()));
        }
    }
    let awaiting_verdict = conv.last_cited_at.is_some();
    let last_answer = turns
        .last()
        .filter(|_| awaiting_verdict)
        .map(|t| t.turn.sources.iter().map(|s| s.url.clone()).collect())
        .unwrap_or_default();
    Context {
        awaiting_verdict,
        last_answer,
        unhelpful: u32::try_from(conv.unhelpful).unwrap_or(u32::MAX),
        rejected,
        handed_over: conv.handed_over,
    }
}

fn kind(o: &Outcome) -> (&'static str, Option<String>) {
    match o {
        Outcome::Answer { .. } => ("answer", None),
        Outcome::Handoff { reason } => ("handoff", Some(reason.as_str().to_owned())),
        Outcome::Confirmed => ("confirmed", None),
        Outcome::AskAgain => ("ask_again", None),
    }
}

/// The exchanges so far plus this one, as the handoff summary tells them: each answer's
/// sources with the verdict the next message gave.
fn exchanges(turns: &[Turn], reply: Option<&Reply>) -> Vec<Exchange> {
    let mut out: Vec<Exchange> = Vec::new();
    let mut verdicts = turns
        .iter()
        .skip(1)
        .map(|t| t.turn.reaction)
        .chain([reply.and_then(|r| r.reaction)]);
    for t in turns {
        let verdict = verdicts.next().flatten();
        let only_a_verdict = t.turn.reaction.is_some()
            && (t.turn.kind != "answer" && t.turn.kind != "handoff"
                || t.turn.reason.as_deref() == Some(HandoffReason::Unhelpful.as_str()));
        if only_a_verdict {
            continue;
        }
        out.push(Exchange {
            question: t.turn.question.clone(),
            tried: t
                .turn
                .sources
                .iter()
                .map(|s| Source {
                    title: s.title.clone(),
                    url: s.url.clone(),
                    slug: s.slug.clone(),
                    heading: String::new(),
                    text: String::new(),
                    coverage: 0.0,
                    confident: true,
                })
                .collect(),
            reaction: verdict,
        });
    }
    let Some(reply) = reply else {
        return out;
    };
    let asked = reply.reaction.is_none()
        || matches!(
            reply.outcome,
            Outcome::Answer { .. }
                | Outcome::Handoff {
                    reason: HandoffReason::NoConfidentAnswer
                }
        );
    if asked {
        out.push(Exchange {
            question: reply.question.clone(),
            tried: Vec::new(),
            reaction: None,
        });
    }
    out
}

/// The help desk's ticket categories, `(slug, name)`.
pub async fn categories(st: &AppState) -> ApiResult<Vec<(String, String)>> {
    Ok(st
        .db
        .read(op!(c => rapport_store::categories::list(c).await))
        .await?
        .into_iter()
        .map(|k| (k.slug, k.name))
        .collect())
}

/// The handoff summary of the conversation as plain text, for the person taking over:
/// the turns so far and this `reply` (none when the customer asked by a button), with
/// the customer's recent tickets and orders when the channel knows them.
pub async fn summary_text(
    st: &AppState,
    turns: &[Turn],
    reply: Option<&Reply>,
    recent_tickets: Vec<String>,
) -> ApiResult<String> {
    let categories = categories(st).await?;
    let worst = turns
        .iter()
        .map(|t| t.turn.mood)
        .chain(reply.map(|r| r.mood))
        .max()
        .unwrap_or(Mood::Calm);
    let ex = exchanges(turns, reply);
    // Orders live in the shop, which Rapport does not know yet: none known.
    Ok(summarize(&ex, worst, &categories, recent_tickets, Vec::new()).text())
}

/// One turn of the bot, decided but not yet recorded: the reply (a generated one when a
/// generator is configured and cites its passages) and the turn to record. Every channel
/// goes through this: `POST /ask` and the live chat.
pub async fn think(
    st: &AppState,
    question: &str,
    conv: Option<&store::Conversation>,
    turns: &[Turn],
) -> (Reply, NewTurn) {
    let ctx = context(conv, turns);
    // A message clearly in another language prefers that translation of each article.
    let locale = bot::language(question).and_then(|l| Locale::parse(l).ok());
    let mut reply = bot::respond(question, &ctx, &mut |t: &str| {
        retrieve(st, t, locale.as_ref())
    });
    if let (Some(g), Outcome::Answer { unanswered }) = (&st.bot_generator, &reply.outcome)
        && unanswered.is_empty()
    {
        let mut passages = reply.sources.clone();
        for s in &reply.considered {
            if !passages.iter().any(|p| p.url == s.url) {
                passages.push(s.clone());
            }
        }
        if let Some(generated) = g.answer(question, &passages).await {
            // The model cites by number; the customer gets each number's link.
            let mut text = generated.text;
            text.push_str("\n\nSources:");
            for s in &generated.cited {
                let n = passages.iter().position(|p| p.url == s.url).unwrap_or(0) + 1;
                text.push_str(&format!("\n[{n}] {} — {}", s.title, s.url));
            }
            text.push_str("\n\nDid that solve it?");
            reply.text = text;
            reply.sources = generated.cited;
        }
    }
    let (kind, reason) = kind(&reply.outcome);
    let turn = NewTurn {
        question: question.to_owned(),
        answer: reply.text.clone(),
        sources: reply
            .sources
            .iter()
            .map(|s| TurnSource {
                title: s.title.clone(),
                url: s.url.clone(),
                slug: s.slug.clone(),
            })
            .collect(),
        confidence: reply.confidence,
        kind: kind.to_owned(),
        handoff: reply.handoff(),
        reason,
        reaction: reply.reaction,
        mood: reply.mood,
    };
    (reply, turn)
}

/// Answers a customer's message from the knowledge base, or hands over.
#[utoipa::path(post, path = "/api/v1/bot/ask", tag = "bot",
    request_body = AskRequest,
    responses((status = 200, body = AskResponse), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn ask(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    JsonBody(req): JsonBody<AskRequest>,
) -> ApiResult<Json<AskResponse>> {
    require(&viewer, Permission::WorkTickets)?;
    let question = req.question.trim().to_owned();
    if question.is_empty() {
        return Err(ApiError::field("question", "is required"));
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(ApiError::field(
            "question",
            "is longer than 2000 characters",
        ));
    }
    let user_id = viewer.user_id;
    let unknown = |e: StoreError| match e {
        StoreError::NotFound(_) => {
            ApiError::field("conversation_id", "no conversation of yours has this id")
        }
        e => e.into(),
    };
    let (conv, turns) = match req.conversation_id {
        Some(id) => st
            .db
            .read(op!(c => {
                let conv = store::get(c, user_id, id).await?;
                let turns = store::turns(c, conv.id).await?;
                Ok((Some(conv), turns))
            }))
            .await
            .map_err(unknown)?,
        None => (None, Vec::new()),
    };
    let (reply, turn) = think(&st, &question, conv.as_ref(), &turns).await;
    let handed_over = conv.as_ref().is_some_and(|c| c.handed_over);
    let summary = if turn.handoff && !handed_over {
        Some(summary_text(&st, &turns, Some(&reply), Vec::new()).await?)
    } else {
        None
    };
    let now = st.now();
    let handoff = turn.handoff;
    let conversation_id = st
        .db
        .write(op!(c => {
            let conv = match req.conversation_id {
                Some(id) => store::get(c, user_id, id).await?,
                None => store::start(c, user_id, now).await?,
            };
            store::record(c, &conv, &turn, summary.as_deref(), now).await?;
            Ok(conv.id)
        }))
        .await
        .map_err(unknown)?;
    Ok(Json(AskResponse {
        answer: reply.text,
        sources: reply
            .sources
            .into_iter()
            .map(|s| BotSourceView {
                title: s.title,
                url: s.url,
            })
            .collect(),
        confidence: reply.confidence,
        handoff,
        conversation_id,
    }))
}

/// What the bot did: questions, cited answers, handoffs, and the two kinds of
/// resolution, apart (supervisors).
#[utoipa::path(get, path = "/api/v1/bot/report", tag = "bot",
    responses((status = 200, body = BotReportView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn report(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<Json<BotReportView>> {
    require(&viewer, Permission::ViewKbReports)?;
    let now = st.now();
    st.db
        .write(op!(c => store::settle_idle(c, now).await))
        .await?;
    let r = st.db.read(op!(c => store::report(c).await)).await?;
    Ok(Json(r.into()))
}
