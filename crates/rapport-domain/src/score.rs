//! The priority score that orders queues: how urgently a ticket needs a person, from 0 to
//! 100, with the reasons in words ("high: first-response SLA breaches in 40 min; customer
//! upset").
//!
//! Two parts. The **standing** part comes from what the customer wrote and who they are —
//! urgency in the text ("urgent", "down", "can't log in", "charged twice"…), their mood,
//! their tier — and the ticket's priority field; it changes only when they write again or
//! the priority changes, so it is worked out then and stored ([`Signals`]). The **clock**
//! part comes from time — how near the SLA's next due time is and how long the customer has
//! waited — and is worked out when read ([`clock_points`]); the store's queue order computes
//! the same points in SQL, from the same constants.

use serde::{Deserialize, Serialize};

use crate::Priority;
use crate::bot::{Mood, fold, has, mood_of_words};
use crate::sla::glance::short_duration;
use crate::{Timestamp, ticket::TicketStatus};

/// Phrases that say a customer cannot work or is losing money, with their weight.
/// Folded (lower case, no accents or apostrophes), matched as whole words.
const URGENT_PHRASES: &[(&str, i64)] = &[
    ("urgent", 25),
    ("urgently", 25),
    ("emergency", 25),
    ("asap", 20),
    ("as soon as possible", 15),
    ("immediately", 15),
    ("right now", 10),
    ("is down", 25),
    ("are down", 25),
    ("went down", 25),
    ("outage", 25),
    ("not working", 15),
    ("doesnt work", 15),
    ("does not work", 15),
    ("stopped working", 20),
    ("broken", 10),
    ("cant log in", 25),
    ("cannot log in", 25),
    ("cant login", 25),
    ("cannot login", 25),
    ("cant sign in", 25),
    ("cannot sign in", 25),
    ("locked out", 25),
    ("charged twice", 25),
    ("double charged", 25),
    ("charged me twice", 25),
    ("overcharged", 20),
    ("fraud", 25),
    ("hacked", 25),
    ("security", 10),
    ("data loss", 25),
    ("lost all", 20),
    ("deadline", 10),
    ("today", 5),
    ("dringend", 25),
    ("sofort", 15),
    ("urgente", 25),
];

/// Tiers (from the customer's or their organisation's `tier` attribute) that weigh, with
/// their points.
const TIERS: &[(&str, i64)] = &[
    ("enterprise", 15),
    ("vip", 15),
    ("platinum", 15),
    ("premium", 10),
    ("gold", 10),
    ("business", 5),
    ("silver", 5),
];

/// Points when the SLA's next due time has passed, is within the hour, within four hours.
pub const SLA_POINTS: [i64; 3] = [35, 25, 10];
/// A point per this many seconds a customer has waited, up to [`WAIT_MAX_POINTS`].
pub const WAIT_SECS_PER_POINT: i64 = 3_600;
/// The most points waiting gives.
pub const WAIT_MAX_POINTS: i64 = 15;

/// What the customer wrote and who they are, as stored with the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Signals {
    /// The weightiest urgent phrase found, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phrase: Option<String>,
    /// Points for the urgency in the text.
    #[serde(default)]
    pub text_points: i64,
    /// The customer's worst mood in what they wrote (`calm`, `frustrated`, `upset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mood: Option<String>,
    /// Their tier, when it weighs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

impl Signals {
    /// Reads the customer's texts (subject and messages) and tier: urgent phrases, and
    /// the mood their words show. The mood a message's sentiment shows comes in with
    /// [`Signals::felt`] (read once, before the write that stores the message).
    pub fn read<S: AsRef<str>>(texts: &[S], tier: Option<&str>) -> Self {
        let mut best: Option<(&str, i64)> = None;
        let mut worst = Mood::Calm;
        for t in texts {
            let folded = fold(t.as_ref());
            for (p, w) in URGENT_PHRASES {
                if has(&folded, p) && best.is_none_or(|(_, b)| *w > b) {
                    best = Some((p, *w));
                }
            }
            let m = mood_of_words(t.as_ref());
            if rank(m) > rank(worst) {
                worst = m;
            }
        }
        let tier = tier
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| TIERS.iter().any(|(name, _)| name == t));
        Self {
            phrase: best.map(|(p, _)| shown(p)),
            text_points: best.map_or(0, |(_, w)| w),
            mood: match worst {
                Mood::Calm => None,
                Mood::Frustrated => Some("frustrated".into()),
                Mood::Upset => Some("upset".into()),
            },
            tier,
        }
    }

    /// These signals with the mood a message's sentiment shows, when it is worse than its
    /// words' (`bot::worse`).
    pub fn felt(mut self, s: crate::sentiment::Sentiment) -> Self {
        let now = match self.mood.as_deref() {
            Some("upset") => Mood::Upset,
            Some("frustrated") => Mood::Frustrated,
            _ => Mood::Calm,
        };
        self.mood = match crate::bot::worse(now, s) {
            Mood::Calm => None,
            Mood::Frustrated => Some("frustrated".into()),
            Mood::Upset => Some("upset".into()),
        };
        self
    }

    /// These signals joined with later ones: the weightier words, the worse mood, the
    /// later tier.
    pub fn with(self, later: &Signals) -> Signals {
        let mood = if later.mood_points() > self.mood_points() {
            later.mood.clone()
        } else {
            self.mood.clone()
        };
        let (phrase, text_points) = if later.text_points > self.text_points {
            (later.phrase.clone(), later.text_points)
        } else {
            (self.phrase, self.text_points)
        };
        Signals {
            phrase,
            text_points,
            mood,
            tier: later.tier.clone(),
        }
    }

    fn mood_points(&self) -> i64 {
        match self.mood.as_deref() {
            Some("upset") => 20,
            Some("frustrated") => 10,
            _ => 0,
        }
    }

    fn tier_points(&self) -> i64 {
        self.tier
            .as_deref()
            .and_then(|t| TIERS.iter().find(|(name, _)| *name == t))
            .map_or(0, |(_, p)| *p)
    }
}

/// A folded phrase as a person writes it ("cant log in" → "can't log in").
fn shown(folded: &str) -> String {
    folded
        .split(' ')
        .map(|w| match w {
            "cant" => "can't",
            "doesnt" => "doesn't",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn rank(m: Mood) -> u8 {
    match m {
        Mood::Calm => 0,
        Mood::Frustrated => 1,
        Mood::Upset => 2,
    }
}

/// Points for the ticket's priority field.
pub fn priority_points(p: Priority) -> i64 {
    match p {
        Priority::Low => -10,
        Priority::Normal => 0,
        Priority::High => 15,
        Priority::Urgent => 30,
    }
}

/// The standing part of the score: text, mood, tier and priority (what is stored).
pub fn standing(signals: &Signals, priority: Priority) -> i64 {
    signals.text_points + signals.mood_points() + signals.tier_points() + priority_points(priority)
}

/// The clock part of the score at `now`: the SLA's next due time and how long the customer
/// has waited (since `waiting_since`, when the ticket is theirs to wait on).
pub fn clock_points(
    sla_due: Option<Timestamp>,
    waiting_since: Option<Timestamp>,
    now: Timestamp,
) -> i64 {
    let sla = match sla_due {
        Some(due) if due <= now => SLA_POINTS[0],
        Some(due) if due.0 - now.0 <= 3_600_000_000 => SLA_POINTS[1],
        Some(due) if due.0 - now.0 <= 4 * 3_600_000_000 => SLA_POINTS[2],
        _ => 0,
    };
    let wait = waiting_since.map_or(0, |since| {
        ((now.0 - since.0) / 1_000_000 / WAIT_SECS_PER_POINT).clamp(0, WAIT_MAX_POINTS)
    });
    sla + wait
}

/// Since when the customer waits on the team: their last message, while the ticket is
/// new or open (pending and on-hold wait on someone else; solved and closed on nobody).
pub fn waiting_since(status: TicketStatus, last_message_at: Timestamp) -> Option<Timestamp> {
    matches!(status, TicketStatus::New | TicketStatus::Open).then_some(last_message_at)
}

/// A score's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Under 15.
    Low,
    /// 15 to 39.
    Normal,
    /// 40 to 64.
    High,
    /// 65 and over.
    Urgent,
}

impl Level {
    /// The level of a score.
    pub fn of(score: i64) -> Self {
        match score {
            s if s >= 65 => Level::Urgent,
            s if s >= 40 => Level::High,
            s if s >= 15 => Level::Normal,
            _ => Level::Low,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Normal => "normal",
            Level::High => "high",
            Level::Urgent => "urgent",
        }
    }
}

/// A ticket's score with its reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    /// 0–100.
    pub value: i64,
    /// Its level.
    pub level: Level,
    /// Why, most weighty first ("first-response SLA breaches in 40 min", "customer upset").
    pub reasons: Vec<String>,
}

impl Score {
    /// "high: first-response SLA breaches in 40 min; customer upset".
    pub fn explanation(&self) -> String {
        if self.reasons.is_empty() {
            format!("{}: nothing pressing", self.level.as_str())
        } else {
            format!("{}: {}", self.level.as_str(), self.reasons.join("; "))
        }
    }
}

/// Everything the score of one ticket is made of.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// What the customer wrote and who they are.
    pub signals: &'a Signals,
    /// The priority field.
    pub priority: Priority,
    /// The SLA's next due time and the name of the target it belongs to
    /// ("first-response", "next-response", "resolution").
    pub sla_due: Option<(Timestamp, &'a str)>,
    /// Since when the customer waits on the team.
    pub waiting_since: Option<Timestamp>,
}

/// Works out a ticket's score at `now`.
pub fn score(i: &Inputs<'_>, now: Timestamp) -> Score {
    let mut reasons: Vec<(i64, String)> = Vec::new();
    let sla_points = clock_points(i.sla_due.map(|(d, _)| d), None, now);
    if let Some((due, target)) = i.sla_due
        && sla_points > 0
    {
        let text = if due <= now {
            format!(
                "{target} SLA breached {} ago",
                short_duration((now.0 - due.0) / 1_000_000)
            )
        } else {
            format!(
                "{target} SLA breaches in {}",
                short_duration((due.0 - now.0) / 1_000_000)
            )
        };
        reasons.push((sla_points, text));
    }
    let p = priority_points(i.priority);
    if p > 0 {
        reasons.push((p, format!("priority {}", i.priority.as_str())));
    }
    if let Some(phrase) = &i.signals.phrase {
        reasons.push((i.signals.text_points, format!("says \"{phrase}\"")));
    }
    if let Some(m) = &i.signals.mood {
        reasons.push((i.signals.mood_points(), format!("customer {m}")));
    }
    if let Some(t) = &i.signals.tier {
        reasons.push((i.signals.tier_points(), format!("{t} customer")));
    }
    let wait = clock_points(None, i.waiting_since, now);
    if let Some(since) = i.waiting_since
        && wait > 0
    {
        reasons.push((
            wait,
            format!("waiting {}", short_duration((now.0 - since.0) / 1_000_000)),
        ));
    }
    if p < 0 {
        reasons.push((p, format!("priority {}", i.priority.as_str())));
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.0));
    let value = (standing(i.signals, i.priority)
        + clock_points(i.sla_due.map(|(d, _)| d), i.waiting_since, now))
    .clamp(0, 100);
    Score {
        value,
        level: Level::of(value),
        reasons: reasons.into_iter().map(|(_, r)| r).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn urgent_words_mood_and_tier_are_read() {
        let s = Signals::read(
            &[
                "Can't log in",
                "I CANNOT LOG IN AND I AM FURIOUS!! This is ridiculous",
            ],
            Some(" VIP "),
        );
        assert_eq!(s.phrase.as_deref(), Some("can't log in"));
        assert_eq!(s.text_points, 25);
        assert_eq!(s.mood.as_deref(), Some("upset"));
        assert_eq!(s.tier.as_deref(), Some("vip"));
        let calm = Signals::read(&["How do I change my address?"], Some("free"));
        assert_eq!(calm, Signals::default());
        // Whole words only: "download" is not "down", "outages" is not a phrase here.
        assert_eq!(
            Signals::read(&["Download link for the manual"], None).phrase,
            None
        );
        assert_eq!(
            Signals::read(&["You charged me twice for one order"], None)
                .phrase
                .as_deref(),
            Some("charged me twice")
        );
    }

    #[test]
    fn later_messages_add_to_what_was_said() {
        let first = Signals::read(&["The app is down"], None);
        let calm_later = Signals::read(&["Any news?"], Some("vip"));
        let joined = first.clone().with(&calm_later);
        assert_eq!(joined.phrase.as_deref(), Some("is down"));
        assert_eq!(joined.tier.as_deref(), Some("vip"));
        let angry = Signals::read(&["This is ridiculous!! Unacceptable, I am furious"], None);
        assert_eq!(first.with(&angry).mood.as_deref(), Some("upset"));
    }

    #[test]
    fn the_explanation_names_the_weightiest_reasons_first() {
        let now = Timestamp(1_000 * HOUR);
        let signals = Signals::read(&["Our shop is down!! Fix it, this is unacceptable"], None);
        let s = score(
            &Inputs {
                signals: &signals,
                priority: Priority::Normal,
                sla_due: Some((Timestamp(now.0 + 40 * 60_000_000), "first-response")),
                waiting_since: Some(Timestamp(now.0 - 20 * 60_000_000)),
            },
            now,
        );
        assert_eq!(s.level, Level::Urgent, "{s:?}");
        assert_eq!(
            s.explanation(),
            "urgent: first-response SLA breaches in 40 min; says \"is down\"; customer upset"
        );
        let quiet = score(
            &Inputs {
                signals: &Signals::default(),
                priority: Priority::Low,
                sla_due: None,
                waiting_since: None,
            },
            now,
        );
        assert_eq!((quiet.value, quiet.level), (0, Level::Low));
        assert_eq!(quiet.explanation(), "low: priority low");
    }

    #[test]
    fn time_raises_the_score_and_a_breach_most() {
        let now = Timestamp(1_000 * HOUR);
        let at = |due_in_hours: i64, waited_hours: i64| {
            score(
                &Inputs {
                    signals: &Signals::default(),
                    priority: Priority::Normal,
                    sla_due: Some((Timestamp(now.0 + due_in_hours * HOUR), "resolution")),
                    waiting_since: Some(Timestamp(now.0 - waited_hours * HOUR)),
                },
                now,
            )
            .value
        };
        assert!(at(10, 0) < at(3, 0));
        assert!(at(3, 0) < at(1, 0));
        assert!(at(1, 0) < at(-1, 0));
        assert!(at(10, 1) < at(10, 5));
        assert_eq!(at(10, 100), WAIT_MAX_POINTS, "waiting is capped");
        assert_eq!(
            waiting_since(TicketStatus::Pending, now),
            None,
            "a pending ticket waits on the customer"
        );
        assert_eq!(waiting_since(TicketStatus::Open, now), Some(now));
    }

    #[test]
    fn the_score_stays_between_0_and_100() {
        let s = Signals::read(
            &["URGENT!! WE ARE DOWN AND YOU CHARGED TWICE, RIDICULOUS SCAM"],
            Some("enterprise"),
        );
        let v = score(
            &Inputs {
                signals: &s,
                priority: Priority::Urgent,
                sla_due: Some((Timestamp(0), "resolution")),
                waiting_since: Some(Timestamp(0)),
            },
            Timestamp(1_000 * HOUR),
        );
        assert_eq!(v.value, 100);
    }
}
