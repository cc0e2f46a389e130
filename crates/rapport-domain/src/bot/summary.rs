//! The summary a person sees at the top of a conversation the bot hands over: the question
//! in one line, the detected intent (a ticket category), what the bot tried and how the
//! customer reacted, the customer's mood, and — when the caller knows them — the
//! customer's recent tickets and orders. The agent never has to ask what was already said.

use serde::Serialize;

use super::words::{fold, has_any};
use super::{Mood, Reaction, Source};

/// The longest one-line question, in characters.
pub const QUESTION_CHARS: usize = 200;

/// One exchange of the conversation, as the summary tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// What the customer wrote.
    pub question: String,
    /// What the bot answered from (empty: it answered nothing).
    pub tried: Vec<Source>,
    /// The customer's verdict on that answer, given in the next message.
    pub reaction: Option<Reaction>,
}

/// A link the bot offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tried {
    /// The article's title.
    pub title: String,
    /// Its link.
    pub url: String,
    /// What the customer said of it: `helped`, `unhelpful`, or `no reply`.
    pub reaction: String,
}

/// The handoff summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The customer's first question, on one line.
    pub question: String,
    /// The ticket category detected from the text (its slug), or `unknown`.
    pub intent: String,
    /// What the bot tried, in order, with the customer's reactions.
    pub tried: Vec<Tried>,
    /// The customer's mood (the worst seen in the conversation).
    pub mood: String,
    /// The customer's recent tickets (as the caller describes them), newest first.
    pub recent_tickets: Vec<String>,
    /// The customer's recent orders (as the caller describes them), newest first.
    pub recent_orders: Vec<String>,
}

/// Keywords for the categories every help desk starts with (folded words).
const BUILT_IN_KEYWORDS: &[(&str, &[&str])] = &[
    (
        "billing",
        &[
            "invoice",
            "bill",
            "billed",
            "charge",
            "charged",
            "refund",
            "payment",
            "pay",
            "card",
            "price",
            "vat",
            "receipt",
            "subscription",
            "plan",
            "discount",
            "coupon",
            "money",
        ],
    ),
    (
        "order-management",
        &[
            "order",
            "orders",
            "delivery",
            "delivered",
            "parcel",
            "package",
            "shipping",
            "shipped",
            "tracking",
            "track",
            "return",
            "exchange",
            "address",
            "courier",
            "arrived",
            "missing",
            "damaged",
        ],
    ),
    (
        "technical",
        &[
            "error",
            "crash",
            "crashes",
            "bug",
            "broken",
            "wifi",
            "bluetooth",
            "sync",
            "firmware",
            "update",
            "reset",
            "password",
            "login",
            "sign in",
            "app",
            "not working",
            "battery",
            "api",
        ],
    ),
    (
        "product-guidance",
        &[
            "how to",
            "how do i",
            "set up",
            "setup",
            "use",
            "feature",
            "compatible",
            "difference",
            "which",
            "recommend",
        ],
    ),
];

/// The category of `text`: among `categories` (`(slug, name)`, the help desk's ticket
/// categories), the one with the most keyword matches — its name's words, and for the
/// built-in ones a small keyword list. `unknown` when nothing matches.
pub fn intent(text: &str, categories: &[(String, String)]) -> String {
    let folded = fold(text);
    let mut best: Option<(usize, &str)> = None;
    for (slug, name) in categories {
        let mut words: Vec<String> = fold(name)
            .split_whitespace()
            .filter(|w| w.len() >= 4)
            .map(str::to_owned)
            .collect();
        if let Some((_, kw)) = BUILT_IN_KEYWORDS.iter().find(|(s, _)| s == slug) {
            words.extend(kw.iter().map(|w| (*w).to_owned()));
        }
        let n = words
            .iter()
            .filter(|w| has_any(&folded, &[w.as_str()]))
            .count();
        if n > 0 && best.is_none_or(|(b, _)| n > b) {
            best = Some((n, slug));
        }
    }
    best.map_or_else(|| "unknown".to_owned(), |(_, s)| s.to_owned())
}

/// The summary of a conversation of `exchanges` (oldest first), with the customer's worst
/// `mood`, the help desk's `categories` (`(slug, name)`), and the customer's recent tickets
/// and orders when the caller knows them.
pub fn summarize(
    exchanges: &[Exchange],
    mood: Mood,
    categories: &[(String, String)],
    recent_tickets: Vec<String>,
    recent_orders: Vec<String>,
) -> Summary {
    let first = exchanges
        .iter()
        .map(|e| e.question.trim())
        .find(|q| !q.is_empty())
        .unwrap_or_default();
    let one_line = first.split_whitespace().collect::<Vec<_>>().join(" ");
    let question = if one_line.chars().count() > QUESTION_CHARS {
        let head: String = one_line.chars().take(QUESTION_CHARS - 1).collect();
        format!("{head}…")
    } else {
        one_line
    };
    let everything: String = exchanges
        .iter()
        .map(|e| e.question.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let tried = exchanges
        .iter()
        .flat_map(|e| {
            e.tried.iter().map(move |s| Tried {
                title: s.title.clone(),
                url: s.url.clone(),
                reaction: e.reaction.map_or("no reply", Reaction::as_str).to_owned(),
            })
        })
        .collect();
    Summary {
        question,
        intent: intent(&everything, categories),
        tried,
        mood: mood.as_str().to_owned(),
        recent_tickets,
        recent_orders,
    }
}

impl Summary {
    /// The summary as the note at the top of the ticket (plain text, one fact a line).
    pub fn text(&self) -> String {
        let mut out = format!(
            "Handed over by the assistant bot.\nQuestion: {}\nIntent: {}\nMood: {}\n",
            self.question, self.intent, self.mood
        );
        if self.tried.is_empty() {
            out.push_str("Tried: nothing (no confident answer)\n");
        } else {
            out.push_str("Tried:\n");
            for t in &self.tried {
                out.push_str(&format!("- {} ({}): {}\n", t.title, t.url, t.reaction));
            }
        }
        for (label, list) in [
            ("Recent tickets", &self.recent_tickets),
            ("Recent orders", &self.recent_orders),
        ] {
            if list.is_empty() {
                out.push_str(&format!("{label}: none known\n"));
            } else {
                out.push_str(&format!("{label}: {}\n", list.join("; ")));
            }
        }
        out
    }
}
