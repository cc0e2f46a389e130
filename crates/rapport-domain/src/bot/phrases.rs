//! What a customer's message asks of the bot besides a question: a person, or a verdict
//! on the last answer ("yes, thanks" / "no, that didn't help"), and where one message
//! holds two questions.

use serde::Serialize;

use super::words::{fold, has_any, word_count};

/// Ways of asking for a person, in several languages (folded: see [`fold`]).
const PERSON: &[&str] = &[
    // English
    "human",
    "humans",
    "a person",
    "real person",
    "actual person",
    "live person",
    "to a person",
    "with a person",
    "to someone",
    "with someone",
    "someone real",
    "agent",
    "live agent",
    "representative",
    "rep",
    "operator",
    "staff member",
    "customer service",
    "customer support",
    "support team",
    "call me",
    "phone call",
    "not a bot",
    "no bot",
    "stop the bot",
    // German
    "mensch",
    "menschen",
    "mitarbeiter",
    "mitarbeiterin",
    "berater",
    "echte person",
    "mit jemandem",
    "kundenservice",
    // French
    "humain",
    "une personne",
    "un conseiller",
    "une conseillere",
    "un agent",
    "quelqu un",
    // Spanish, Italian, Dutch
    "humano",
    "una persona",
    "un agente",
    "hablar con alguien",
    "operatore",
    "medewerker",
    "een mens",
];

/// Whether the customer asks to talk to a person.
pub fn asks_for_person(text: &str) -> bool {
    has_any(&fold(text), PERSON)
}

/// The customer's verdict on the bot's last answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    /// "Yes, that solved it."
    Helped,
    /// "No, that didn't help."
    Unhelpful,
}

impl Reaction {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Reaction::Helped => "helped",
            Reaction::Unhelpful => "unhelpful",
        }
    }

    /// From its stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "helped" => Some(Reaction::Helped),
            "unhelpful" => Some(Reaction::Unhelpful),
            _ => None,
        }
    }
}

const HELPED: &[&str] = &[
    "yes",
    "yep",
    "yeah",
    "yup",
    "ok thanks",
    "thanks",
    "thank you",
    "thx",
    "cheers",
    "perfect",
    "great",
    "solved",
    "that solved it",
    "it worked",
    "that worked",
    "works now",
    "that helped",
    "got it",
    "ja",
    "danke",
    "oui",
    "merci",
    "si",
    "gracias",
];

const UNHELPFUL: &[&str] = &[
    "no",
    "nope",
    "nah",
    "not really",
    "didnt help",
    "did not help",
    "doesnt help",
    "does not help",
    "not helpful",
    "unhelpful",
    "didnt work",
    "did not work",
    "doesnt work",
    "still doesnt work",
    "not what i asked",
    "not my question",
    "thats not it",
    "that is not it",
    "wrong answer",
    "doesnt answer",
    "does not answer",
    "useless",
    "nein",
    "hilft nicht",
    "non",
    "ca ne marche pas",
];

/// The customer's verdict on the last answer, when the message gives one: a short message
/// that says "no" or "that didn't help" is [`Reaction::Unhelpful`] (checked first: "no,
/// thanks" is not a yes); a short message that says "yes" or "thanks" with no question in
/// it is [`Reaction::Helped`]. Anything else (a new question) is no verdict.
pub fn reaction(text: &str) -> Option<Reaction> {
    let folded = fold(text);
    let words = word_count(&folded);
    if words <= 12 && has_any(&folded, UNHELPFUL) {
        return Some(Reaction::Unhelpful);
    }
    if words <= 8 && !text.contains('?') && has_any(&folded, HELPED) {
        return Some(Reaction::Helped);
    }
    None
}

/// What a verdict may begin with, before the customer says what they meant (folded).
const VERDICT_LEADS: &[&str] = &[
    "no that didnt help",
    "that didnt help",
    "didnt help",
    "that did not help",
    "did not help",
    "not helpful",
    "thats not it",
    "that is not it",
    "not what i asked",
    "not my question",
    "wrong answer",
    "not really",
    "nope",
    "nah",
    "no",
    "sorry",
    "but",
    "actually",
    "i meant",
    "i mean",
    "what i meant is",
    "what i meant was",
];

/// The message without a leading verdict ("no, I meant how do I change my address" →
/// "how do I change my address"): what to look up when a "that didn't help" also asks
/// again. The message itself when nothing leads it.
pub fn after_verdict(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let folded: Vec<String> = words.iter().map(|w| fold(w).trim().to_owned()).collect();
    let mut at = 0;
    'strip: loop {
        for lead in VERDICT_LEADS {
            let lead: Vec<&str> = lead.split(' ').collect();
            let end = at + lead.len();
            if end < folded.len()
                && folded
                    .get(at..end)
                    .is_some_and(|w| w.iter().zip(&lead).all(|(a, b)| a == b))
            {
                at = end;
                continue 'strip;
            }
        }
        break;
    }
    words.get(at..).unwrap_or_default().join(" ")
}

/// Words that begin a second question inside one sentence ("…, and also how do I …").
const JOINERS: &[&str] = &[
    " and also ",
    " also, ",
    ". also ",
    " plus ",
    " and another thing",
    " and how ",
    " and what ",
    " and where ",
    " and when ",
    " and why ",
    " and can ",
    " and do ",
    " and is ",
];

/// The questions in one message: split after each `?` and at joiners like "and also",
/// keeping the pieces of at least three words (a lone "hello?" is not a question). One
/// question comes back as itself.
pub fn questions(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for part in text.split_inclusive(['?', '\n']) {
        let mut rest = part.to_owned();
        loop {
            let lower = rest.to_lowercase();
            let Some((at, len)) = JOINERS
                .iter()
                .filter_map(|j| lower.find(j).map(|i| (i, j.len())))
                .filter(|(i, _)| *i > 0)
                .min()
            else {
                break;
            };
            let (head, tail) = rest.split_at(at);
            pieces.push(head.to_owned());
            rest = tail.get(len..).unwrap_or_default().to_owned();
        }
        pieces.push(rest);
    }
    let kept: Vec<String> = pieces
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| word_count(&fold(p)) >= 3)
        .collect();
    if kept.len() < 2 {
        return vec![text.trim().to_owned()];
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_for_a_person_in_several_languages() {
        for t in [
            "talk to a human please",
            "Can I speak to an agent?",
            "I want a REAL PERSON",
            "representative",
            "Ich möchte mit einem Mitarbeiter sprechen",
            "je veux parler à un conseiller",
            "quiero hablar con un humano",
        ] {
            assert!(asks_for_person(t), "{t}");
        }
        for t in ["how do I reset my password", "the person at the door left"] {
            assert!(!asks_for_person(t), "{t}");
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(reaction("yes thanks!"), Some(Reaction::Helped));
        assert_eq!(reaction("That worked, cheers"), Some(Reaction::Helped));
        assert_eq!(reaction("no"), Some(Reaction::Unhelpful));
        assert_eq!(reaction("no thanks"), Some(Reaction::Unhelpful));
        assert_eq!(reaction("that didn't help"), Some(Reaction::Unhelpful));
        assert_eq!(reaction("thanks, but how do I cancel my order?"), None);
        assert_eq!(reaction("how do I change my delivery address"), None);
    }

    #[test]
    fn what_follows_a_verdict() {
        assert_eq!(
            after_verdict("no, I meant how do I cancel my subscription"),
            "how do I cancel my subscription"
        );
        assert_eq!(
            after_verdict("That didn't help. Actually my parcel is late"),
            "my parcel is late"
        );
        assert_eq!(after_verdict("no"), "no");
        assert_eq!(after_verdict("where is my order"), "where is my order");
    }

    #[test]
    fn two_questions_in_one_message() {
        assert_eq!(
            questions("How do I reset my password? And where is my order?"),
            vec!["How do I reset my password?", "And where is my order?"]
        );
        assert_eq!(
            questions("how do i cancel my subscription and also how do I get an invoice"),
            vec!["how do i cancel my subscription", "how do I get an invoice"]
        );
        assert_eq!(
            questions("Hello? How do I pair my headphones?"),
            vec!["Hello? How do I pair my headphones?"]
        );
    }
}
