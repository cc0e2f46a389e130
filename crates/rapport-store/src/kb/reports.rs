//! Reports for supervisors on the knowledge base: how each article is read and rated,
//! how often the portal's suggestions deflect a request, and the content gaps — what
//! people asked that the knowledge base did not answer.
//!
//! Ranges are `[from, to)` in microseconds. Counting happens in Rust over the rows of the
//! range, so both databases give the same numbers with the same SQL.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use rapport_domain::kb::{ArticleBody, ArticleTitle};
use rapport_domain::{FieldError, Principal, Timestamp, Viewer};

use crate::db::Conn;
use crate::error::Result;
use crate::kb::deflection::Outcome;
use crate::kb::{Article, NewArticle, articles};
use crate::tickets;

const DAY_MICROS: i64 = 86_400_000_000;
const HOUR_MICROS: i64 = 3_600_000_000;

/// The most searches a gap report reads (the newest of the range).
pub const MAX_SEARCHES: i64 = 20_000;
/// The most groups a gap list returns.
pub const MAX_GROUPS: usize = 100;

/// How one article did over a range.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleStats {
    /// The article.
    pub article_id: i64,
    /// Its slug.
    pub slug: String,
    /// Its title in its default language.
    pub title: String,
    /// `draft`, `published`, `archived`.
    pub status: String,
    /// Help-center views in the range.
    pub views: i64,
    /// "Was this helpful?" yes votes given (or changed) in the range.
    pub helpful_yes: i64,
    /// … and no votes.
    pub helpful_no: i64,
    /// yes / (yes + no), when anyone voted.
    pub helpful_ratio: Option<f64>,
    /// Votes with a comment.
    pub comments: i64,
    /// Times the portal suggested it.
    pub suggested: i64,
    /// Times it was opened from a suggestion.
    pub opened_from_suggestion: i64,
}

/// Every article with any activity in the range (and every published one), most viewed
/// first.
pub async fn articles(
    c: &mut dyn Conn,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ArticleStats>> {
    let rows = c
        .query(
            "SELECT a.id, a.slug, a.status, t.title,
               (SELECT CAST(COALESCE(SUM(v.views), 0) AS BIGINT) FROM kb_article_views v
                 WHERE v.article_id = a.id AND v.day >= $1 AND v.day <= $2) AS views,
               (SELECT COUNT(*) FROM kb_feedback f WHERE f.article_id = a.id AND f.helpful
                 AND f.updated_at >= $3 AND f.updated_at < $4) AS yes,
               (SELECT COUNT(*) FROM kb_feedback f WHERE f.article_id = a.id AND NOT f.helpful
                 AND f.updated_at >= $3 AND f.updated_at < $4) AS no,
               (SELECT COUNT(*) FROM kb_feedback f WHERE f.article_id = a.id AND f.comment <> ''
                 AND f.updated_at >= $3 AND f.updated_at < $4) AS comments,
               (SELECT COUNT(*) FROM kb_deflection_articles d WHERE d.article_id = a.id
                 AND d.shown_at >= $3 AND d.shown_at < $4) AS suggested,
               (SELECT COUNT(*) FROM kb_deflection_articles d WHERE d.article_id = a.id
                 AND d.opened_at >= $3 AND d.opened_at < $4) AS opened
             FROM kb_articles a
             JOIN kb_translations t ON t.article_id = a.id AND t.locale = a.default_locale
             ORDER BY a.id",
            &[
                from.day().into(),
                Timestamp(to.micros() - 1).day().into(),
                from.into(),
                to.into(),
            ],
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let (yes, no) = (r.int("yes")?, r.int("no")?);
        let s = ArticleStats {
            article_id: r.int("id")?,
            slug: r.text("slug")?,
            title: r.text("title")?,
            status: r.text("status")?,
            views: r.int("views")?,
            helpful_yes: yes,
            helpful_no: no,
            helpful_ratio: ratio(yes, yes + no),
            comments: r.int("comments")?,
            suggested: r.int("suggested")?,
            opened_from_suggestion: r.int("opened")?,
        };
        let active = s.views + yes + no + s.suggested > 0;
        if active || s.status == "published" {
            out.push(s);
        }
    }
    out.sort_by(|a, b| b.views.cmp(&a.views).then(a.article_id.cmp(&b.article_id)));
    Ok(out)
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// A reader's comment on an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Whether they found it helpful.
    pub helpful: bool,
    /// The language they read.
    pub locale: String,
    /// What they wrote (plain text; escape it when showing it).
    pub comment: String,
    /// When.
    pub at: Timestamp,
}

/// The comments on one article in the range, newest first (at most 500).
pub async fn comments(
    c: &mut dyn Conn,
    article_id: i64,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Comment>> {
    c.query(
        "SELECT helpful, locale, comment, updated_at FROM kb_feedback
         WHERE article_id = $1 AND comment <> '' AND updated_at >= $2 AND updated_at < $3
         ORDER BY updated_at DESC, id DESC LIMIT 500",
        &[article_id.into(), from.into(), to.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Comment {
            helpful: r.bool("helpful")?,
            locale: r.text("locale")?,
            comment: r.text("comment")?,
            at: Timestamp(r.int("updated_at")?),
        })
    })
    .collect()
}

/// How deflection attempts are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// UTC days.
    Day,
    /// Weeks from Monday, UTC.
    Week,
}

impl Period {
    /// The first instant of the period holding `t`.
    pub fn start(self, t: Timestamp) -> Timestamp {
        let day = t.micros().div_euclid(DAY_MICROS);
        let first = match self {
            Period::Day => day,
            // Day 0 (1970-01-01) was a Thursday: Monday is three days before.
            Period::Week => day - (day + 3).rem_euclid(7),
        };
        Timestamp(first * DAY_MICROS)
    }
}

/// Deflection over one period (or the whole range).
#[derive(Debug, Clone, PartialEq)]
pub struct DeflectionStats {
    /// The period's first instant (the range's `from` for the total).
    pub start: Timestamp,
    /// Visits of the new-request form that were shown suggestions.
    pub attempts: i64,
    /// Opened an article, no ticket within 30 minutes.
    pub deflected: i64,
    /// Submitted a ticket anyway.
    pub submitted: i64,
    /// Shown suggestions, opened none, no ticket (counted apart).
    pub abandoned: i64,
    /// Still within the 30 minutes.
    pub pending: i64,
    /// deflected / (deflected + submitted), when either happened.
    pub rate: Option<f64>,
}

impl DeflectionStats {
    fn empty(start: Timestamp) -> Self {
        Self {
            start,
            attempts: 0,
            deflected: 0,
            submitted: 0,
            abandoned: 0,
            pending: 0,
            rate: None,
        }
    }

    fn add(&mut self, o: Outcome) {
        self.attempts += 1;
        match o {
            Outcome::Submitted => self.submitted += 1,
            Outcome::Deflected => self.deflected += 1,
            Outcome::Abandoned => self.abandoned += 1,
            Outcome::Pending => self.pending += 1,
        }
        self.rate = ratio(self.deflected, self.deflected + self.submitted);
    }
}

/// Deflection per period for attempts first shown in `[from, to)`, outcomes as of `now`;
/// every period of the range is listed (empty ones with zeros), and the total.
pub async fn deflection(
    c: &mut dyn Conn,
    from: Timestamp,
    to: Timestamp,
    period: Period,
    now: Timestamp,
) -> Result<(Vec<DeflectionStats>, DeflectionStats)> {
    let rows = c
        .query(
            "SELECT shown_at, active_at, opened_at, submitted_at FROM kb_deflections
             WHERE shown_at >= $1 AND shown_at < $2",
            &[from.into(), to.into()],
        )
        .await?;
    let mut by: BTreeMap<i64, DeflectionStats> = BTreeMap::new();
    let mut p = period.start(from);
    while p.micros() < to.micros() && by.len() < 1000 {
        by.insert(p.micros(), DeflectionStats::empty(p));
        p = match period {
            Period::Day => Timestamp(p.micros() + DAY_MICROS),
            Period::Week => Timestamp(p.micros() + 7 * DAY_MICROS),
        };
    }
    let mut total = DeflectionStats::empty(from);
    for r in &rows {
        let shown = Timestamp(r.int("shown_at")?);
        let o = Outcome::of(
            r.opt_int("submitted_at")?.is_some(),
            r.opt_int("opened_at")?.is_some(),
            Timestamp(r.int("active_at")?),
            now,
        );
        let start = period.start(shown);
        by.entry(start.micros())
            .or_insert_with(|| DeflectionStats::empty(start))
            .add(o);
        total.add(o);
    }
    Ok((by.into_values().collect(), total))
}

/// Words a gap's key leaves out: they change nothing about what was asked.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "can", "do", "does", "for", "how", "i", "in", "is", "it", "my", "of",
    "on", "or", "the", "to", "what", "why", "with", "you", "your",
];

/// What a query asked, as a key to group searches by: lower-cased words (letters and
/// digits), without stop words, a plural `s` dropped from words of four letters or more,
/// each word once, sorted — so "Refund my orders", "orders refund" and "refund order?"
/// are one gap. Empty when nothing is left.
pub fn gap_key(query: &str) -> String {
    let words: BTreeSet<String> = query
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| {
            if w.chars().count() >= 4 && w.ends_with('s') && !w.ends_with("ss") {
                w[..w.len() - 1].to_owned()
            } else {
                w
            }
        })
        .collect();
    words.into_iter().collect::<Vec<_>>().join(" ")
}

/// Searches with no confident result, grouped by what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnansweredGroup {
    /// The group's key ([`gap_key`]).
    pub key: String,
    /// The most frequent spelling of the query.
    pub query: String,
    /// How many different people asked (signed-in customers and visitors by their
    /// cookie): what groups are ranked by.
    pub people: i64,
    /// How many searches, words typed on the way to a longer search left out.
    pub searches: i64,
    /// The newest.
    pub last_at: Timestamp,
}

#[derive(Default)]
struct Spellings {
    count: i64,
    last: i64,
    spellings: HashMap<String, i64>,
    people: HashSet<String>,
}

impl Spellings {
    fn add(&mut self, query: &str, at: i64, who: &str) {
        self.count += 1;
        self.last = self.last.max(at);
        *self.spellings.entry(query.trim().to_owned()).or_default() += 1;
        if !self.people.contains(who) {
            self.people.insert(who.to_owned());
        }
    }

    fn people(&self) -> i64 {
        i64::try_from(self.people.len()).unwrap_or(i64::MAX)
    }

    fn best(&self) -> String {
        let mut s: Vec<_> = self.spellings.iter().collect();
        s.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        s.first().map(|(q, _)| (*q).clone()).unwrap_or_default()
    }
}

/// How long after a search the same person's longer search makes it a step of their
/// typing rather than a question of its own.
pub const TYPING_WINDOW_MICROS: i64 = 10 * 60 * 1_000_000;

/// Who made a search, for counting people: the signed-in customer, else the visitor's
/// hashed cookie; `None` for a search by nobody we can tell apart (an agent's, a client
/// without the cookie), which counts for no one.
fn asker(customer_id: Option<i64>, visitor: Option<String>) -> Option<String> {
    match (customer_id, visitor) {
        (Some(id), _) => Some(format!("c:{id}")),
        (None, Some(v)) => Some(format!("v:{v}")),
        (None, None) => None,
    }
}

/// A search of the range, with who made it.
struct Logged {
    id: i64,
    query: String,
    normalized: String,
    confident: bool,
    who: String,
    at: i64,
}

/// The searches in `[from, to)` of people we can tell apart (the newest
/// [`MAX_SEARCHES`]), oldest first.
async fn logged(c: &mut dyn Conn, from: Timestamp, to: Timestamp) -> Result<Vec<Logged>> {
    let rows = c
        .query(
            "SELECT id, query, normalized, confident, customer_id, visitor, created_at
             FROM kb_searches
             WHERE created_at >= $1 AND created_at < $2
               AND (customer_id IS NOT NULL OR visitor IS NOT NULL)
             ORDER BY created_at DESC, id DESC LIMIT $3",
            &[from.into(), to.into(), MAX_SEARCHES.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows.iter().rev() {
        let Some(who) = asker(r.opt_int("customer_id")?, r.opt_text("visitor")?) else {
            continue;
        };
        out.push(Logged {
            id: r.int("id")?,
            query: r.text("query")?,
            normalized: r.text("normalized")?,
            confident: r.bool("confident")?,
            who,
            at: r.int("created_at")?,
        });
    }
    Ok(out)
}

/// The searches that were steps of typing: the same person searched, within
/// [`TYPING_WINDOW_MICROS`], for words that begin with these (`refu`, `refund`, `refund
/// ord` before `refund order`; the same words again count once). `searches` is oldest
/// first.
fn typing_steps(searches: &[Logged]) -> HashSet<i64> {
    let mut by_person: HashMap<&str, Vec<&Logged>> = HashMap::new();
    for s in searches {
        by_person.entry(&s.who).or_default().push(s);
    }
    let mut steps = HashSet::new();
    for list in by_person.values() {
        for (i, s) in list.iter().enumerate() {
            let led_on = list[i + 1..]
                .iter()
                .take_while(|later| later.at - s.at <= TYPING_WINDOW_MICROS)
                .any(|later| later.normalized.starts_with(s.normalized.as_str()));
            if led_on {
                steps.insert(s.id);
            }
        }
    }
    steps
}

/// Searches in `[from, to)` without a confident result, grouped by [`gap_key`], the
/// groups most people asked first. Only searches of people we can tell apart count, each
/// person once per group, and a search the same person went on typing past is left out
/// (one visitor typing ten prefixes of a question asked it once).
pub async fn unanswered(
    c: &mut dyn Conn,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<UnansweredGroup>> {
    let searches = logged(c, from, to).await?;
    let steps = typing_steps(&searches);
    let mut groups: HashMap<String, Spellings> = HashMap::new();
    for s in &searches {
        if s.confident || steps.contains(&s.id) {
            continue;
        }
        let key = gap_key(&s.query);
        if key.is_empty() {
            continue;
        }
        groups.entry(key).or_default().add(&s.query, s.at, &s.who);
    }
    let mut out: Vec<UnansweredGroup> = groups
        .into_iter()
        .map(|(key, g)| UnansweredGroup {
            query: g.best(),
            people: g.people(),
            searches: g.count,
            last_at: Timestamp(g.last),
            key,
        })
        .collect();
    out.sort_by(|a, b| {
        b.people
            .cmp(&a.people)
            .then(b.searches.cmp(&a.searches))
            .then(b.last_at.cmp(&a.last_at))
            .then(a.key.cmp(&b.key))
    });
    out.truncate(MAX_GROUPS);
    Ok(out)
}

/// The agent answer a gap's article could start from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The ticket.
    pub ticket_id: i64,
    /// Its number.
    pub ticket_number: i64,
    /// The public agent reply.
    pub message_id: i64,
    /// Its text (markdown as the agent wrote it).
    pub body: String,
    /// Whether the ticket was solved (or closed) — such answers come first.
    pub solved: bool,
}

/// Searches followed within the hour by a ticket from the same customer or visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowedGroup {
    /// The group's key ([`gap_key`]).
    pub key: String,
    /// The most frequent spelling of the query.
    pub query: String,
    /// How many different people searched and then wrote (ranked by).
    pub people: i64,
    /// How many searches, words typed on the way to a longer search left out.
    pub searches: i64,
    /// The tickets that followed (ids, newest first, at most 20).
    pub ticket_ids: Vec<i64>,
    /// The best agent answer from those tickets: the newest public agent reply on a
    /// solved ticket, else the newest public agent reply.
    pub answer: Option<Answer>,
}

/// Searches in `[from, to)` followed within the hour by a ticket from the same signed-in
/// customer or the same anonymous visitor, grouped by [`gap_key`], the groups most people
/// asked first (counted as for [`unanswered`]), each with the best agent answer from the
/// tickets.
pub async fn followed(
    c: &mut dyn Conn,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<FollowedGroup>> {
    let steps = typing_steps(&logged(c, from, to).await?);
    let params = [
        from.into(),
        to.into(),
        HOUR_MICROS.into(),
        MAX_SEARCHES.into(),
    ];
    let by_customer = c
        .query(
            "SELECT s.id, s.query, s.created_at, s.customer_id, s.visitor, t.id AS ticket_id
             FROM kb_searches s
             JOIN tickets t ON t.customer_id = s.customer_id
                AND t.created_at >= s.created_at AND t.created_at <= s.created_at + $3
             WHERE s.customer_id IS NOT NULL AND s.created_at >= $1 AND s.created_at < $2
             ORDER BY s.created_at DESC LIMIT $4",
            &params,
        )
        .await?;
    let by_visitor = c
        .query(
            "SELECT s.id, s.query, s.created_at, s.customer_id, s.visitor, v.ticket_id
             FROM kb_searches s
             JOIN ticket_visitors v ON v.visitor = s.visitor
                AND v.created_at >= s.created_at AND v.created_at <= s.created_at + $3
             WHERE s.visitor IS NOT NULL AND s.created_at >= $1 AND s.created_at < $2
             ORDER BY s.created_at DESC LIMIT $4",
            &params,
        )
        .await?;
    // One search counts once however many tickets followed it.
    let mut searches: HashMap<i64, (String, i64, String, BTreeSet<i64>)> = HashMap::new();
    for r in by_customer.iter().chain(by_visitor.iter()) {
        let id = r.int("id")?;
        let Some(who) = asker(r.opt_int("customer_id")?, r.opt_text("visitor")?) else {
            continue;
        };
        if steps.contains(&id) {
            continue;
        }
        let e = searches
            .entry(id)
            .or_insert_with(|| (String::new(), 0, String::new(), BTreeSet::new()));
        e.0 = r.text("query")?;
        e.1 = r.int("created_at")?;
        e.2 = who;
        e.3.insert(r.int("ticket_id")?);
    }
    let mut groups: HashMap<String, (Spellings, BTreeSet<i64>)> = HashMap::new();
    for (query, at, who, tickets) in searches.into_values() {
        let key = gap_key(&query);
        if key.is_empty() {
            continue;
        }
        let g = groups.entry(key).or_default();
        g.0.add(&query, at, &who);
        g.1.extend(tickets);
    }
    let mut out: Vec<(FollowedGroup, i64)> = groups
        .into_iter()
        .map(|(key, (s, t))| {
            (
                FollowedGroup {
                    query: s.best(),
                    people: s.people(),
                    searches: s.count,
                    ticket_ids: t.into_iter().rev().take(20).collect(),
                    answer: None,
                    key,
                },
                s.last,
            )
        })
        .collect();
    out.sort_by(|a, b| {
        b.0.people
            .cmp(&a.0.people)
            .then(b.0.searches.cmp(&a.0.searches))
            .then(b.1.cmp(&a.1))
            .then(a.0.key.cmp(&b.0.key))
    });
    out.truncate(MAX_GROUPS);
    let mut groups: Vec<FollowedGroup> = out.into_iter().map(|(g, _)| g).collect();
    for g in &mut groups {
        g.answer = best_answer(c, &g.ticket_ids).await?;
    }
    Ok(groups)
}

/// The best agent answer among `tickets`: the newest public agent reply on a solved or
/// closed ticket, else the newest public agent reply.
pub async fn best_answer(c: &mut dyn Conn, tickets: &[i64]) -> Result<Option<Answer>> {
    let mut best: Option<(Answer, i64)> = None;
    for &id in tickets {
        let Some(r) = c
            .opt(
                "SELECT m.id, m.body, m.created_at, t.number, t.status
                 FROM messages m JOIN tickets t ON t.id = m.ticket_id
                 WHERE m.ticket_id = $1 AND m.author_kind = 'agent' AND NOT m.internal
                 ORDER BY m.id DESC LIMIT 1",
                &[id.into()],
            )
            .await?
        else {
            continue;
        };
        let status = r.text("status")?;
        let a = Answer {
            ticket_id: id,
            ticket_number: r.int("number")?,
            message_id: r.int("id")?,
            body: r.text("body")?,
            solved: status == "solved" || status == "closed",
        };
        let at = r.int("created_at")?;
        let better = match &best {
            None => true,
            Some((b, b_at)) => (a.solved, at) > (b.solved, *b_at),
        };
        if better {
            best = Some((a, at));
        }
    }
    Ok(best.map(|(a, _)| a))
}

/// Starts a draft article from a content gap: the query (as asked) as its title, and the
/// agent's public reply `message_id` — on a ticket `viewer` may see — as its body (else a
/// line to write the answer under), the reply's ticket as its source. Drafts are never
/// public; the author reviews it in the editor.
pub async fn draft_from_gap(
    c: &mut dyn Conn,
    viewer: &Viewer,
    query: &str,
    message_id: Option<i64>,
    now: Timestamp,
) -> Result<Article> {
    let title = ArticleTitle::parse(query).map_err(|e| FieldError::new("query", e.message))?;
    let (body, source) = match message_id {
        Some(id) => {
            let r = c
                .opt(
                    "SELECT body, ticket_id FROM messages
                     WHERE id = $1 AND author_kind = 'agent' AND NOT internal",
                    &[id.into()],
                )
                .await?
                .ok_or_else(|| FieldError::new("message_id", "is not an agent's public reply"))?;
            let ticket = r.int("ticket_id")?;
            // The reply is read only on a ticket the agent may open.
            tickets::get(c, &Principal::Agent(viewer.clone()), ticket)
                .await
                .map_err(|_| FieldError::new("message_id", "is not an agent's public reply"))?;
            (r.text("body")?, Some(ticket))
        }
        None => (
            format!("Write the answer to \"{}\" here.", query.trim()),
            None,
        ),
    };
    let body = ArticleBody::parse(&body).map_err(|e| FieldError::new("message_id", e.message))?;
    let mut new = NewArticle::draft(title, body);
    new.source_ticket_id = source;
    articles::create(c, viewer, new, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_keys_group_what_was_asked() {
        assert_eq!(gap_key("Refund my orders"), "order refund");
        assert_eq!(gap_key("orders refund"), "order refund");
        assert_eq!(gap_key("  refund ORDER? "), "order refund");
        assert_eq!(gap_key("How do I reset the password"), "password reset");
        assert_eq!(gap_key("the of a"), "");
        assert_eq!(gap_key("access"), "access");
        assert_eq!(
            gap_key("Rückerstattung Bestellungen"),
            "bestellungen rückerstattung"
        );
    }

    fn typed(id: i64, normalized: &str, who: &str, secs: i64) -> Logged {
        Logged {
            id,
            query: normalized.to_owned(),
            normalized: normalized.to_owned(),
            confident: false,
            who: who.to_owned(),
            at: secs * 1_000_000,
        }
    }

    #[test]
    fn typing_steps_are_one_question() {
        let searches = [
            typed(1, "ref", "v:a", 0),
            typed(2, "refu", "v:a", 1),
            typed(3, "ref", "v:b", 2),
            typed(4, "refund order", "v:a", 3),
            typed(5, "refund", "v:b", 4),
            typed(6, "refund", "v:b", 5),
            // Much later, the same words again: a question of its own.
            typed(7, "refund", "v:b", 3600),
            typed(8, "refund orders", "v:b", 3600 + 11 * 60),
            // Not a prefix: another question.
            typed(9, "shipping", "v:a", 10),
        ];
        let steps = typing_steps(&searches);
        let mut steps: Vec<i64> = steps.into_iter().collect();
        steps.sort_unstable();
        assert_eq!(steps, [1, 2, 3, 5]);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-26 is a Thursday; its week starts on Monday 2026-11-23.
        let thu = Timestamp(20_783 * DAY_MICROS + 5 * HOUR_MICROS);
        assert_eq!(Period::Week.start(thu), Timestamp(20_780 * DAY_MICROS));
        assert_eq!(Period::Day.start(thu), Timestamp(20_783 * DAY_MICROS));
        let mon = Timestamp(20_780 * DAY_MICROS);
        assert_eq!(Period::Week.start(mon), mon);
    }
}
