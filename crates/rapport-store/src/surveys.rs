//! Surveys (`surveys`): one per solved ticket (CSAT, then CES, with a comment), NPS on a
//! schedule; who may get them (not a customer who opted out, nor an address that bounces
//! or belongs to a machine); the answers, which a customer may change; and the settings.
//! The figures over many surveys are the reports' (`reports`).

use rapport_domain::event::EventKind;
use rapport_domain::sentiment::Sentiment;
use rapport_domain::survey::{self, NpsGroup, Question, SurveyKind};
use rapport_domain::{Body, Channel, FieldError, Timestamp};
use serde::{Deserialize, Serialize};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};

/// A survey and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Survey {
    /// Database id.
    pub id: i64,
    /// After a ticket, or NPS.
    pub kind: SurveyKind,
    /// The ticket it asks about (NPS: the follow-up ticket of a detractor, if any).
    pub ticket_id: Option<i64>,
    /// Who was asked.
    pub customer_id: i64,
    /// The agent who had the ticket when it was solved.
    pub agent_id: Option<i64>,
    /// Their team.
    pub team_id: Option<i64>,
    /// Where it was offered: `email`, `web` (the portal) or `chat`.
    pub channel: String,
    /// The language it speaks.
    pub lang: String,
    /// When it was offered.
    pub sent_at: Timestamp,
    /// CSAT, 1–5.
    pub csat: Option<i64>,
    /// CES, 1–7.
    pub ces: Option<i64>,
    /// NPS, 0–10.
    pub nps: Option<i64>,
    /// The comment.
    pub comment: Option<String>,
    /// The comment's mood.
    pub comment_sentiment: Option<Sentiment>,
    /// When it was (last) answered.
    pub answered_at: Option<Timestamp>,
}

const COLS: &str = "id, kind, ticket_id, customer_id, agent_id, team_id, channel, lang, sent_at,
                    csat, ces, nps, comment, comment_sentiment, answered_at";

fn from_row(r: &crate::value::Row) -> Result<Survey> {
    let kind = r.text("kind")?;
    Ok(Survey {
        id: r.int("id")?,
        kind: SurveyKind::parse(&kind)
            .ok_or_else(|| StoreError::Db(format!("unknown survey kind {kind:?}")))?,
        ticket_id: r.opt_int("ticket_id")?,
        customer_id: r.int("customer_id")?,
        agent_id: r.opt_int("agent_id")?,
        team_id: r.opt_int("team_id")?,
        channel: r.text("channel")?,
        lang: r.text("lang")?,
        sent_at: Timestamp(r.int("sent_at")?),
        csat: r.opt_int("csat")?,
        ces: r.opt_int("ces")?,
        nps: r.opt_int("nps")?,
        comment: r.opt_text("comment")?,
        comment_sentiment: r
            .opt_int("comment_sentiment")?
            .map(|m| Sentiment::from_score(m as f64 / 1000.0)),
        answered_at: r.opt_int("answered_at")?.map(Timestamp),
    })
}

/// The label of the key survey links are signed with.
const LINK_KEY_LABEL: &str = "survey-links";

/// Hex digits of a link's signature.
const MAC_HEX: usize = 32;

fn link_mac(sealer: &crate::secrets::Sealer, id: i64) -> Option<hmac::Hmac<sha2::Sha256>> {
    use hmac::Mac;
    let key = sealer.derive_key(LINK_KEY_LABEL);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("survey:{id}").as_bytes());
    Some(mac)
}

/// The token in a survey's links: its id, signed with a key derived from the server's
/// (nothing to store; a link cannot be made up for another survey).
pub fn link_token(sealer: &crate::secrets::Sealer, id: i64) -> String {
    use hmac::Mac;
    let tag = link_mac(sealer, id)
        .map(|m| hex::encode(&m.finalize().into_bytes()[..MAC_HEX / 2]))
        .unwrap_or_default();
    format!("{id}-{tag}")
}

/// The survey a link's token names, if this server signed it.
pub fn token_survey(sealer: &crate::secrets::Sealer, token: &str) -> Option<i64> {
    use hmac::Mac;
    let (id, mac) = token.split_once('-')?;
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if mac.len() != MAC_HEX {
        return None;
    }
    let id: i64 = id.parse().ok()?;
    let tag = hex::decode(mac).ok()?;
    // Compared in constant time.
    link_mac(sealer, id)?.verify_truncated_left(&tag).ok()?;
    Some(id)
}

/// One survey.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Survey> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM surveys WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("survey"))?;
    from_row(&r)
}

/// The survey of a solved ticket, if it was offered one.
pub async fn for_ticket(c: &mut dyn Conn, ticket_id: i64) -> Result<Option<Survey>> {
    c.opt(
        &format!("SELECT {COLS} FROM surveys WHERE ticket_id = $1 AND kind = 'ticket'"),
        &[ticket_id.into()],
    )
    .await?
    .map(|r| from_row(&r))
    .transpose()
}

/// Whether surveys are sent, and how often NPS asks one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// CSAT and CES when a ticket is solved.
    pub after_solve: bool,
    /// NPS on a schedule (off until an admin switches it on: a help desk should not
    /// start emailing every customer the day it is installed).
    pub nps: bool,
    /// Days between two NPS surveys to one customer.
    pub nps_interval_days: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            after_solve: true,
            nps: false,
            nps_interval_days: survey::NPS_INTERVAL_DAYS,
        }
    }
}

impl Settings {
    /// Checks the NPS interval.
    pub fn check(self) -> std::result::Result<Self, FieldError> {
        let (lo, hi) = survey::NPS_INTERVAL_RANGE;
        if !(lo..=hi).contains(&self.nps_interval_days) {
            return Err(FieldError::new(
                "nps_interval_days",
                format!("must be from {lo} to {hi} days"),
            ));
        }
        Ok(self)
    }
}

const SETTINGS_KEY: &str = "surveys";

/// The survey settings (the defaults until an admin changes them).
pub async fn settings(c: &mut dyn Conn) -> Result<Settings> {
    Ok(c.opt(
        "SELECT value FROM settings WHERE key = $1",
        &[SETTINGS_KEY.into()],
    )
    .await?
    .map(|r| r.text("value"))
    .transpose()?
    .and_then(|v| serde_json::from_str(&v).ok())
    .unwrap_or_default())
}

/// Changes the survey settings.
pub async fn set_settings(c: &mut dyn Conn, s: Settings) -> Result<Settings> {
    let s = s.check()?;
    c.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[SETTINGS_KEY.into(), serde_json::to_string(&s)?.into()],
    )
    .await?;
    Ok(s)
}

/// Whether an address belongs to a machine that must never get a survey (`noreply@…`,
/// `mailer-daemon@…`, `postmaster@…`).
pub fn machine_address(email: &str) -> bool {
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let local = local.to_ascii_lowercase();
    // `noreply+tag@`, `no-reply-billing@`, `bounces+123@`…
    let squashed: String = local
        .split('+')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect();
    let machine = [
        "noreply",
        "donotreply",
        "mailerdaemon",
        "postmaster",
        "bounce",
        "notification",
        "notify",
        "alert",
        "automailer",
    ];
    machine.iter().any(|m| squashed.starts_with(m))
        // Addresses Rapport makes up (chat visitors, unknown senders) reach no one.
        || domain.to_ascii_lowercase().ends_with(".invalid")
        || domain.eq_ignore_ascii_case("invalid")
}

/// Who a survey would go to, and whether it may.
struct Recipient {
    customer_id: i64,
    lang: String,
    allowed: bool,
}

async fn recipient(c: &mut dyn Conn, customer_id: i64, by_email: bool) -> Result<Recipient> {
    let r = c
        .opt(
            "SELECT email, attributes, surveys_opt_out FROM customers WHERE id = $1",
            &[customer_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("customer"))?;
    let attrs: serde_json::Value = serde_json::from_str(&r.text("attributes")?).unwrap_or_default();
    let lang = ["language", "locale", "lang"]
        .iter()
        .find_map(|k| attrs[*k].as_str())
        .map(|l| survey::wording::wording(Some(l)).lang)
        .unwrap_or("en");
    let bouncing = attrs["email_bouncing"] == serde_json::Value::Bool(true);
    let email = r.text("email")?;
    let allowed =
        !r.bool("surveys_opt_out")? && !(by_email && (bouncing || machine_address(&email)));
    Ok(Recipient {
        customer_id,
        lang: lang.to_owned(),
        allowed,
    })
}

/// Offers the survey of a just-solved ticket through `channel`: one per ticket, ever (a
/// ticket solved again keeps its first survey, whose answer the customer may change).
/// Nothing when the customer opted out, or — by email — when their address bounces or
/// belongs to a machine, or when the ticket came from a machine's mail. Returns the survey
/// when this call created it.
pub async fn offer_for_ticket(
    c: &mut dyn Conn,
    ticket_id: i64,
    channel: Channel,
    now: Timestamp,
) -> Result<Option<Survey>> {
    let t = c
        .opt(
            "SELECT customer_id, assignee_id, team_id FROM tickets WHERE id = $1",
            &[ticket_id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("ticket"))?;
    let by_email = channel == Channel::Email;
    let who = recipient(c, t.int("customer_id")?, by_email).await?;
    if !who.allowed {
        return Ok(None);
    }
    let created = c
        .opt(
            "INSERT INTO surveys (kind, ticket_id, customer_id, agent_id, team_id, channel, lang,
                                  sent_at, updated_at)
             VALUES ('ticket', $1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (ticket_id) WHERE kind = 'ticket' DO NOTHING
             RETURNING id",
            &[
                ticket_id.into(),
                who.customer_id.into(),
                t.opt_int("assignee_id")?.into(),
                t.opt_int("team_id")?.into(),
                channel.as_str().into(),
                who.lang.into(),
                now.into(),
            ],
        )
        .await?;
    match created {
        Some(r) => {
            crate::reports::rollup::mark_ticket(c, ticket_id).await?;
            Ok(Some(get(c, r.int("id")?).await?))
        }
        None => Ok(None),
    }
}

/// Records on the ticket that its survey went out (`survey_offered`: the survey and the
/// channel) — once it really did: after the mail was queued, or at once for the portal
/// and the chat, whose sockets ask the visitor on this event.
pub async fn announce(c: &mut dyn Conn, s: &Survey, now: Timestamp) -> Result<()> {
    let Some(ticket) = s.ticket_id else {
        return Ok(());
    };
    events::record(
        c,
        ticket,
        Actor::System,
        EventKind::SurveyOffered,
        &serde_json::json!({"survey_id": s.id, "channel": s.channel}),
        now,
    )
    .await?;
    Ok(())
}

/// The customers due an NPS survey at `now`: active (a ticket of theirs changed in the
/// last `interval_days`), not opted out, their address neither bouncing nor a machine's,
/// and not asked within `interval_days`. Looks at `limit` candidates after customer id
/// `after` (a pass goes on where the last one stopped, so customers who are skipped never
/// hold the others back); returns the due ones and where to go on from (0: from the
/// start again).
pub async fn due_nps(
    c: &mut dyn Conn,
    interval_days: i64,
    limit: i64,
    after: i64,
    now: Timestamp,
) -> Result<(Vec<i64>, i64)> {
    let since = now.plus_secs(-interval_days.saturating_mul(86_400));
    let rows = c
        .query(
            "SELECT cu.id, cu.email, cu.attributes FROM customers cu
             WHERE cu.id > $3 AND cu.surveys_opt_out = FALSE
               AND EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = cu.id
                           AND t.updated_at >= $1)
               AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.customer_id = cu.id
                               AND s.kind = 'nps' AND s.sent_at >= $1)
             ORDER BY cu.id LIMIT $2",
            &[since.into(), limit.into(), after.into()],
        )
        .await?;
    let next = if (rows.len() as i64) < limit {
        0
    } else {
        rows.last().map(|r| r.int("id")).transpose()?.unwrap_or(0)
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let attrs: serde_json::Value =
            serde_json::from_str(&r.text("attributes")?).unwrap_or_default();
        if attrs["email_bouncing"] == serde_json::Value::Bool(true)
            || machine_address(&r.text("email")?)
        {
            continue;
        }
        out.push(r.int("id")?);
    }
    Ok((out, next))
}

const NPS_CURSOR_KEY: &str = "surveys.nps_cursor";

/// Where the next NPS pass goes on from (a customer id; 0 from the start).
pub async fn nps_cursor(c: &mut dyn Conn) -> Result<i64> {
    Ok(c.opt(
        "SELECT value FROM settings WHERE key = $1",
        &[NPS_CURSOR_KEY.into()],
    )
    .await?
    .map(|r| r.text("value"))
    .transpose()?
    .and_then(|v| v.parse().ok())
    .unwrap_or(0))
}

/// Sets where the next NPS pass goes on from.
pub async fn set_nps_cursor(c: &mut dyn Conn, after: i64) -> Result<()> {
    c.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[NPS_CURSOR_KEY.into(), after.to_string().into()],
    )
    .await?;
    Ok(())
}

/// Offers an NPS survey to a customer by email (`None` when they may not get one, or got
/// one within `interval_days`).
pub async fn offer_nps(
    c: &mut dyn Conn,
    customer_id: i64,
    interval_days: i64,
    now: Timestamp,
) -> Result<Option<Survey>> {
    let who = recipient(c, customer_id, true).await?;
    if !who.allowed {
        return Ok(None);
    }
    let since = now.plus_secs(-interval_days.saturating_mul(86_400));
    let recent = c
        .opt(
            "SELECT id FROM surveys WHERE customer_id = $1 AND kind = 'nps' AND sent_at >= $2",
            &[customer_id.into(), since.into()],
        )
        .await?;
    if recent.is_some() {
        return Ok(None);
    }
    let id = c
        .one(
            "INSERT INTO surveys (kind, customer_id, channel, lang, sent_at, updated_at)
             VALUES ('nps', $1, 'email', $2, $3, $3) RETURNING id",
            &[customer_id.into(), who.lang.into(), now.into()],
        )
        .await?
        .int("id")?;
    crate::reports::rollup::mark_survey(c, id).await?;
    Ok(Some(get(c, id).await?))
}

/// An answer to a survey: the ratings given (a rating left out keeps the one given
/// before) and the comment (blank clears it).
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// CSAT, 1–5 (ticket surveys).
    pub csat: Option<i64>,
    /// CES, 1–7 (ticket surveys).
    pub ces: Option<i64>,
    /// NPS, 0–10 (NPS surveys).
    pub nps: Option<i64>,
    /// The comment, if the form had one.
    pub comment: Option<String>,
}

impl Answer {
    /// Checks the answer against the survey's questions; errors name the field.
    pub fn check(self, kind: SurveyKind) -> std::result::Result<Self, FieldError> {
        let asked: &[Question] = match kind {
            SurveyKind::Ticket => &[Question::Csat, Question::Ces],
            SurveyKind::Nps => &[Question::Nps],
        };
        for (q, v) in [
            (Question::Csat, self.csat),
            (Question::Ces, self.ces),
            (Question::Nps, self.nps),
        ] {
            let Some(v) = v else { continue };
            if !asked.contains(&q) {
                return Err(FieldError::new(q.as_str(), "is not asked by this survey"));
            }
            q.rating(v, q.as_str())?;
        }
        let comment = match self.comment {
            Some(c) => Some(survey::comment(&c)?.unwrap_or_default()),
            None => None,
        };
        Ok(Self { comment, ..self })
    }
}

/// What an answer did.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The survey as it stands now.
    pub survey: Survey,
    /// The ticket a detractor's NPS answer opened for a follow-up, when this answer did.
    pub follow_up: Option<i64>,
}

/// Records (or changes) the answer to survey `id`: the survey's first question must be
/// answered, now or before. A ticket survey's answer is recorded on its ticket as a
/// `survey_answered` event (what automations react to: the shipped rule follows up a low
/// CSAT); an NPS detractor's first answer opens a follow-up ticket with their comment,
/// recorded the same way.
pub async fn answer(c: &mut dyn Conn, id: i64, a: Answer, now: Timestamp) -> Result<Answered> {
    let before = get(c, id).await?;
    let a = a.check(before.kind)?;
    let first = before.kind.first_question();
    let has_first = match first {
        Question::Nps => a.nps.or(before.nps).is_some(),
        _ => a.csat.or(before.csat).is_some(),
    };
    if !has_first {
        return Err(FieldError::new(first.as_str(), "is required").into());
    }
    let comment = match &a.comment {
        Some(t) if t.is_empty() => None,
        Some(t) => Some(t.clone()),
        None => before.comment.clone(),
    };
    let mood = comment.as_deref().map(rapport_domain::sentiment::read);
    c.execute(
        "UPDATE surveys SET csat = $1, ces = $2, nps = $3, comment = $4, comment_sentiment = $5,
                answered_at = $6, updated_at = $6 WHERE id = $7",
        &[
            a.csat.or(before.csat).into(),
            a.ces.or(before.ces).into(),
            a.nps.or(before.nps).into(),
            comment.clone().into(),
            mood.map(|m| (m.score * 1000.0).round() as i64).into(),
            now.into(),
            id.into(),
        ],
    )
    .await?;
    mark_for_reports(c, id).await?;
    let mut survey = get(c, id).await?;
    let mut follow_up = None;
    if survey.kind == SurveyKind::Nps
        && survey.ticket_id.is_none()
        && survey
            .nps
            .is_some_and(|n| NpsGroup::of(n) == NpsGroup::Detractor)
    {
        let t = nps_follow_up(c, &survey, now).await?;
        c.execute(
            "UPDATE surveys SET ticket_id = $1 WHERE id = $2",
            &[t.into(), id.into()],
        )
        .await?;
        survey.ticket_id = Some(t);
        follow_up = Some(t);
    }
    // Every first answer and every change of a rating is an event (what automations react
    // to); a comment edited alone is not, so posting the form again and again does not
    // reach supervisors again.
    let rated_anew = before.answered_at.is_none()
        || (before.csat, before.ces, before.nps) != (survey.csat, survey.ces, survey.nps);
    if let Some(t) = survey.ticket_id.filter(|_| rated_anew) {
        let data = serde_json::json!({
            "survey_id": survey.id,
            "kind": survey.kind.as_str(),
            "csat": survey.csat,
            "ces": survey.ces,
            "nps": survey.nps,
            "comment": survey.comment,
            "changed": before.answered_at.is_some(),
            "follow_up": survey::needs_follow_up(survey.csat, survey.nps),
        });
        events::record(
            c,
            t,
            Actor::Customer(survey.customer_id),
            EventKind::SurveyAnswered,
            &data,
            now,
        )
        .await?;
    }
    Ok(Answered { survey, follow_up })
}

/// The ticket a detractor's NPS answer opens: in their name, with their comment, tagged
/// `nps-detractor` and high priority, so a supervisor follows up.
async fn nps_follow_up(c: &mut dyn Conn, s: &Survey, now: Timestamp) -> Result<i64> {
    let n = s.nps.unwrap_or_default();
    let email = c
        .one(
            "SELECT email FROM customers WHERE id = $1",
            &[s.customer_id.into()],
        )
        .await?
        .text("email")?;
    // Whoever holds the survey's link answers it: the text is labelled as what it is.
    let body = match &s.comment {
        Some(text) => format!(
            "NPS survey answer (from the survey's link; not a verified request): {n} out of 10. The comment:\n\n{text}"
        ),
        None => format!(
            "NPS survey answer (from the survey's link; not a verified request): {n} out of 10, without a comment."
        ),
    };
    let t = crate::tickets::create(
        c,
        None,
        crate::tickets::NewTicket {
            subject: rapport_domain::Subject::parse(&format!("Your feedback: {n} out of 10"))?,
            body: Body::parse(&body)?,
            customer_email: rapport_domain::EmailAddress::parse(&email)?,
            customer_name: None,
            channel: Channel::Web,
            priority: rapport_domain::Priority::High,
            category: None,
            tags: vec![rapport_domain::Tag::parse("nps-detractor")?],
            custom_fields: serde_json::Map::new(),
            team_id: None,
            assignee_id: None,
            attachments: Vec::new(),
        },
        now,
    )
    .await?;
    Ok(t.id)
}

/// Takes back a survey that could not be sent (no mailbox, or the address's allowance of
/// automatic mail was used up): it was never offered.
pub async fn withdraw(c: &mut dyn Conn, id: i64) -> Result<()> {
    mark_for_reports(c, id).await?;
    c.execute(
        "DELETE FROM surveys WHERE id = $1 AND answered_at IS NULL",
        &[id.into()],
    )
    .await?;
    Ok(())
}

/// Stops every survey to a customer (their own request, from a survey's link or through
/// an agent), or allows them again.
pub async fn set_opt_out(c: &mut dyn Conn, customer_id: i64, out: bool) -> Result<()> {
    let n = c
        .execute(
            "UPDATE customers SET surveys_opt_out = $1 WHERE id = $2",
            &[out.into(), customer_id.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("customer"));
    }
    Ok(())
}

/// Whether a customer opted out of surveys.
pub async fn opted_out(c: &mut dyn Conn, customer_id: i64) -> Result<bool> {
    c.opt(
        "SELECT surveys_opt_out FROM customers WHERE id = $1",
        &[customer_id.into()],
    )
    .await?
    .ok_or(StoreError::NotFound("customer"))?
    .bool("surveys_opt_out")
}

/// Marks what a survey counts under for the reports' roll-ups: a ticket survey its
/// ticket, an NPS survey itself (even once it has a detractor's follow-up ticket).
async fn mark_for_reports(c: &mut dyn Conn, id: i64) -> Result<()> {
    let Some(r) = c
        .opt(
            "SELECT kind, ticket_id FROM surveys WHERE id = $1",
            &[id.into()],
        )
        .await?
    else {
        return Ok(());
    };
    match (r.text("kind")?.as_str(), r.opt_int("ticket_id")?) {
        ("ticket", Some(t)) => crate::reports::rollup::mark_ticket(c, t).await,
        _ => crate::reports::rollup::mark_survey(c, id).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_signed() {
        let sealer = crate::secrets::Sealer::ephemeral();
        let t = link_token(&sealer, 42);
        assert_eq!(token_survey(&sealer, &t), Some(42));
        assert_eq!(token_survey(&sealer, &t.replace("42-", "43-")), None);
        assert_eq!(token_survey(&crate::secrets::Sealer::ephemeral(), &t), None);
        for bad in ["", "42", "42-", "-abc", "x-0123", &format!("{t}0")] {
            assert_eq!(token_survey(&sealer, bad), None, "{bad}");
        }
    }

    #[test]
    fn machines_are_recognised() {
        assert!(machine_address("no-reply@shop.example"));
        assert!(machine_address("MAILER-DAEMON@x.example"));
        assert!(machine_address("do_not_reply@x.example"));
        assert!(machine_address("noreply+x@x.example"));
        assert!(machine_address("bounces+123@lists.example"));
        assert!(machine_address("no-reply-billing@x.example"));
        assert!(machine_address("visitor-1@chat.invalid"));
        assert!(!machine_address("nora@x.example"));
        assert!(!machine_address("bob@invalid-domain.example"));
    }
}
