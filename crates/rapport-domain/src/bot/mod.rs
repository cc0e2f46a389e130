//! The assistant bot's rules: given a customer's message, what it has already said in the
//! conversation, and the knowledge-base passages retrieval finds for a text, whether to
//! answer (a brief reply built by templates around a quoted passage, with the link to the
//! article's section) or to hand over to a person. No I/O: retrieval is a function the
//! caller passes in ([`respond`]), so the rules decide *what* to look up and the caller
//! how.
//!
//! The bot hands over when the best passage is not confident enough, when the customer
//! asks for a person ([`asks_for_person`]), when the customer is upset ([`mood`]), and
//! after the second unhelpful answer in one conversation. It never writes text of its
//! own beyond its fixed templates: every answer is a template plus text quoted from a
//! source. Summaries for the person who takes over are [`summary::Summary`].

mod mood;
mod phrases;
pub mod summary;
mod words;

use serde::Serialize;

use crate::Timestamp;

pub use mood::{Mood, mood, mood_of_words, worse};
pub use phrases::{Reaction, after_verdict, asks_for_person, questions, reaction};
pub use words::{fold, has, language};

/// The coverage from which the bot answers from a passage (see
/// `rapport_index::engine`: the share of the question's concepts the passage satisfies,
/// weighted by rarity). Lower than the search's own "confident" mark (0.75): customers'
/// messages carry words no article has ("this morning", "pls", "what's going on"), and
/// the bot still hands over below it. Calibrated on the judged set
/// `crates/rapport-demo/kb/bot_questions.tsv`, where no message due a handoff reaches
/// 0.47 and the answerable ones the bot misses lie between 0.29 and 0.49.
pub const ANSWER_COVERAGE: f32 = 0.5;

/// The longest quote from a passage, in characters.
pub const QUOTE_CHARS: usize = 320;

/// How long a conversation stays quiet after a cited answer before it counts as resolved
/// by the customer leaving ([`Resolved::LeftAfterAnswer`]), in seconds.
pub const IDLE_SECS: i64 = 30 * 60;

/// A "that didn't help" of at most this many words is only a verdict; a longer one also
/// asks again ("no, I meant the delivery address").
pub const REPHRASE_WORDS: usize = 5;

/// At most this many questions of one message are answered.
pub const MAX_PARTS: usize = 2;

/// A passage retrieval found, as the bot sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// The article's title.
    pub title: String,
    /// Where to read it (with the section's anchor).
    pub url: String,
    /// The article's slug.
    pub slug: String,
    /// The passage's section heading (empty: the article's lead).
    pub heading: String,
    /// The passage, plain text: what an answer quotes.
    pub text: String,
    /// The share of the question the passage covers (0–1).
    pub coverage: f32,
    /// Whether retrieval itself judged it an answer.
    pub confident: bool,
}

impl Source {
    /// Whether the bot may answer from it: it covers [`ANSWER_COVERAGE`] of the question
    /// and has text to quote.
    pub fn answers(&self) -> bool {
        self.coverage >= ANSWER_COVERAGE && !self.text.trim().is_empty()
    }
}

/// What the conversation holds so far, as far as the rules care.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    /// The bot's last turn was a cited answer, so a "yes"/"no" is a verdict on it.
    pub awaiting_verdict: bool,
    /// Unhelpful verdicts given so far in the conversation.
    pub unhelpful: u32,
    /// Links the customer already said did not help (not offered again).
    pub rejected: Vec<String>,
    /// The links of the answer awaiting a verdict: if this message says it did not help
    /// and asks again, they are not offered again.
    pub last_answer: Vec<String>,
    /// The conversation was already handed over: the bot stays quiet.
    pub handed_over: bool,
}

/// Why the bot hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// No passage answers the question confidently enough.
    NoConfidentAnswer,
    /// The customer asked for a person.
    AskedForPerson,
    /// The customer is upset.
    Upset,
    /// The customer said a second answer did not help.
    Unhelpful,
    /// A person already has the conversation.
    AlreadyHandedOver,
}

impl HandoffReason {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            HandoffReason::NoConfidentAnswer => "no_confident_answer",
            HandoffReason::AskedForPerson => "asked_for_person",
            HandoffReason::Upset => "upset",
            HandoffReason::Unhelpful => "unhelpful",
            HandoffReason::AlreadyHandedOver => "already_handed_over",
        }
    }
}

/// What the bot does with a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Answers from the sources (all of the question, or the parts it can — `unanswered`
    /// lists the others, and the reply says so).
    Answer {
        /// The parts left unanswered.
        unanswered: Vec<String>,
    },
    /// Hands over to a person.
    Handoff {
        /// Why.
        reason: HandoffReason,
    },
    /// The customer said the last answer solved it.
    Confirmed,
    /// The customer said it did not help (the first time): the bot asks for more.
    AskAgain,
}

/// The bot's reply to one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    /// What the customer reads.
    pub text: String,
    /// The passages the answer quotes (empty unless [`Outcome::Answer`]).
    pub sources: Vec<Source>,
    /// How sure the bot is: the best passage's coverage (0–1).
    pub confidence: f32,
    /// What it did.
    pub outcome: Outcome,
    /// The customer's verdict on the previous answer, if the message gave one.
    pub reaction: Option<Reaction>,
    /// The customer's mood in this message.
    pub mood: Mood,
    /// The question the bot looked up (the message without a leading verdict).
    pub question: String,
    /// Every passage looked at, best first per question (for the handoff summary and the
    /// pluggable generator).
    pub considered: Vec<Source>,
}

impl Reply {
    /// Whether a person should take over.
    pub fn handoff(&self) -> bool {
        matches!(self.outcome, Outcome::Handoff { .. })
    }
}

/// What the customer reads when a person takes over.
pub const HANDOFF_TEXT: &str = "I'll pass this to a person on our team — they will see \
everything you wrote here, so you won't need to repeat it. Someone will reply as soon as \
they can.";

/// What the customer reads after saying an answer solved it.
pub const CONFIRMED_TEXT: &str = "Glad that helped! If anything else comes up, just ask.";

/// What the customer reads after a first unhelpful answer.
pub const ASK_AGAIN_TEXT: &str = "Sorry that didn't help. Could you tell me a little more \
about what you need? Or say \"talk to a person\" and I'll pass you to our team.";

/// The bot's reply to `message`, in a conversation standing at `ctx`. `retrieve` returns
/// the passages for a text, best first (the caller's search over the published,
/// public knowledge base).
pub fn respond(
    message: &str,
    ctx: &Context,
    retrieve: &mut dyn FnMut(&str) -> Vec<Source>,
) -> Reply {
    let message = message.trim();
    let mood = mood(message);
    let reaction = if ctx.awaiting_verdict {
        reaction(message)
    } else {
        None
    };
    let mut reply = Reply {
        text: String::new(),
        sources: Vec::new(),
        confidence: 0.0,
        outcome: Outcome::Confirmed,
        reaction,
        mood,
        question: message.to_owned(),
        considered: Vec::new(),
    };
    let handoff = |mut r: Reply, reason: HandoffReason| {
        r.text = HANDOFF_TEXT.to_owned();
        r.outcome = Outcome::Handoff { reason };
        r
    };
    if ctx.handed_over {
        return handoff(reply, HandoffReason::AlreadyHandedOver);
    }
    if asks_for_person(message) {
        return handoff(reply, HandoffReason::AskedForPerson);
    }
    if mood == Mood::Upset {
        return handoff(reply, HandoffReason::Upset);
    }
    match reaction {
        Some(Reaction::Helped) => {
            reply.text = CONFIRMED_TEXT.to_owned();
            reply.outcome = Outcome::Confirmed;
            reply.confidence = 1.0;
            return reply;
        }
        Some(Reaction::Unhelpful) => {
            if ctx.unhelpful >= 1 {
                return handoff(reply, HandoffReason::Unhelpful);
            }
            // "No" alone: ask for more. "No, I meant …": look that up instead, without
            // the answer just rejected.
            if words::word_count(&fold(message)) <= REPHRASE_WORDS {
                reply.text = ASK_AGAIN_TEXT.to_owned();
                reply.outcome = Outcome::AskAgain;
                return reply;
            }
        }
        None => {}
    }
    let rejected: Vec<&String> = ctx
        .rejected
        .iter()
        .chain(if reaction.is_some() {
            ctx.last_answer.iter()
        } else {
            [].iter()
        })
        .collect();

    if reaction.is_some() {
        reply.question = after_verdict(message);
    }
    let parts = questions(&reply.question);
    let mut found: Vec<(String, Option<Source>)> = Vec::new();
    for part in parts.iter().take(MAX_PARTS + 1) {
        let hits: Vec<Source> = retrieve(part)
            .into_iter()
            .filter(|s| !rejected.contains(&&s.url))
            .collect();
        // A passage retrieval judged confident beats one it did not; among either, the
        // better-ranked one answers.
        let best = hits
            .iter()
            .find(|s| s.answers() && s.confident)
            .or_else(|| hits.iter().find(|s| s.answers()))
            .cloned();
        reply.considered.extend(hits.into_iter().take(3));
        found.push((part.clone(), best));
    }
    reply.confidence = reply
        .considered
        .iter()
        .map(|s| s.coverage)
        .fold(0.0, f32::max);
    let answered: Vec<&Source> = found.iter().filter_map(|(_, s)| s.as_ref()).collect();
    if answered.is_empty() {
        return handoff(reply, HandoffReason::NoConfidentAnswer);
    }
    let mut sources: Vec<Source> = Vec::new();
    for s in answered.into_iter().take(MAX_PARTS) {
        if !sources.iter().any(|k| k.url == s.url) {
            sources.push(s.clone());
        }
    }
    let unanswered: Vec<String> = found
        .iter()
        .filter(|(_, s)| s.is_none())
        .map(|(q, _)| q.clone())
        .collect();
    reply.confidence = sources.iter().map(|s| s.coverage).fold(0.0, f32::max);
    reply.text = answer_text(&sources, &unanswered);
    reply.sources = sources;
    reply.outcome = Outcome::Answer { unanswered };
    reply
}

/// The answer's text: each source's quote under its title and link, a note on what is
/// left unanswered, and "Did that solve it?". Nothing in it but these templates and
/// text quoted from the sources.
pub fn answer_text(sources: &[Source], unanswered: &[String]) -> String {
    let mut out = String::new();
    for (i, s) in sources.iter().enumerate() {
        if i == 0 {
            out.push_str("Here is what our help center says");
        } else {
            out.push_str("\n\nAnd");
        }
        out.push_str(&format!(
            " (\"{}\", {}):\n\n> {}",
            s.title,
            s.url,
            quote(&s.text)
        ));
    }
    if !unanswered.is_empty() {
        out.push_str(
            "\n\nI could only answer part of your message; for the rest, say \"talk to a \
             person\" and I'll pass it to our team.",
        );
    }
    out.push_str("\n\nDid that solve it?");
    out
}

/// The start of `text`, at most [`QUOTE_CHARS`] characters, cut after a sentence (or a
/// word) with "…" when cut; line breaks become spaces.
pub fn quote(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= QUOTE_CHARS {
        return flat;
    }
    let head: String = flat.chars().take(QUOTE_CHARS).collect();
    let sentence_end = head
        .char_indices()
        .rev()
        .find(|(i, c)| matches!(c, '.' | '!' | '?') && *i >= 60)
        .map(|(i, c)| i + c.len_utf8());
    match sentence_end {
        Some(end) => head.get(..end).unwrap_or(&head).to_owned(),
        None => {
            let cut = head.rfind(' ').unwrap_or(head.len());
            format!("{}…", head.get(..cut).unwrap_or(&head))
        }
    }
}

/// How a conversation resolved without a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolved {
    /// The customer said an answer solved it.
    Confirmed,
    /// The customer left after a cited answer without asking more (quiet for
    /// [`IDLE_SECS`]).
    LeftAfterAnswer,
}

impl Resolved {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Resolved::Confirmed => "confirmed",
            Resolved::LeftAfterAnswer => "left_after_answer",
        }
    }

    /// From its stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confirmed" => Some(Resolved::Confirmed),
            "left_after_answer" => Some(Resolved::LeftAfterAnswer),
            _ => None,
        }
    }
}

/// Whether a conversation whose last turn was a cited answer at `answered_at` (and not
/// handed over, nothing asked since) counts as left after the answer at `now`.
pub fn left_after_answer(answered_at: Timestamp, now: Timestamp) -> bool {
    now.micros().saturating_sub(answered_at.micros()) >= IDLE_SECS * 1_000_000
}

#[cfg(test)]
mod tests;
