//! Automation rules and their runs: the rules as written ([`create`], [`update`],
//! [`list`]…), a ticket as rules see it ([`ticket`]), the time rules' next tickets
//! ([`crossed`]: by index, from each rule's watermark), and the run log ([`record_run`],
//! shown on the ticket). The rules are `rapport_domain::automation`; what the actions do
//! is `rapport_jobs::automations`, through the store's ticket functions.

use std::collections::BTreeMap;

use rapport_domain::automation::{Action, Condition, Facts, Field, Rule, When};
use rapport_domain::{Channel, EventKind, Priority, TicketStatus, Timestamp};
use serde_json::{Value as Json, json};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::events::{self, Actor};
use crate::value::Row;

/// A rule as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Its id (rules run in id order).
    pub id: i64,
    /// The rule.
    pub rule: Rule,
    /// How many times it ran.
    pub runs: i64,
    /// When it last ran.
    pub last_run_at: Option<Timestamp>,
    /// When it was written.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

const COLS: &str = "id, name, enabled, kind, events, conditions, actions, runs, last_run_at,
                    created_at, updated_at";

fn from_row(r: &Row) -> Result<Stored> {
    let events: Vec<rapport_domain::automation::Trigger> =
        serde_json::from_str(&r.text("events")?)?;
    let when = if r.text("kind")? == "time" {
        When::Time
    } else {
        When::Events(events)
    };
    let conditions: Vec<Condition> = serde_json::from_str(&r.text("conditions")?)?;
    let actions: Vec<Action> = serde_json::from_str(&r.text("actions")?)?;
    Ok(Stored {
        id: r.int("id")?,
        rule: Rule {
            name: r.text("name")?,
            enabled: r.bool("enabled")?,
            when,
            conditions,
            actions,
        },
        runs: r.int("runs")?,
        last_run_at: r.opt_int("last_run_at")?.map(Timestamp),
        created_at: Timestamp(r.int("created_at")?),
        updated_at: Timestamp(r.int("updated_at")?),
    })
}

/// The column a time mark counts from.
fn mark_column(field: &Field) -> Option<&'static str> {
    match field {
        Field::HoursSinceCreated => Some("created_at"),
        Field::HoursSinceUpdated => Some("updated_at"),
        Field::HoursInStatus => Some("status_since"),
        Field::HoursSinceSolved => Some("solved_at"),
        _ => None,
    }
}

/// The columns a rule is kept in, as the parameters `$1`–`$9` of both the insert and the
/// update (name, enabled, kind, events, conditions, actions, mark field, mark hours, now),
/// with the watermark a time rule starts from now.
fn rule_params(rule: &Rule, now: Timestamp) -> Result<(Vec<crate::value::Value>, i64)> {
    let (kind, events) = match &rule.when {
        When::Events(e) => ("event", serde_json::to_string(e)?),
        When::Time => ("time", "[]".to_owned()),
    };
    let mark = rule.mark();
    let mark_hours = mark.as_ref().map(|(_, h)| *h);
    Ok((
        vec![
            rule.name.clone().into(),
            rule.enabled.into(),
            kind.into(),
            events.into(),
            serde_json::to_string(&rule.conditions)?.into(),
            serde_json::to_string(&rule.actions)?.into(),
            mark.map(|(f, _)| f.name()).into(),
            mark_hours.into(),
            now.into(),
        ],
        from_now_on(mark_hours, now),
    ))
}

/// Checks what the rule refers to exists: teams, agents, categories, webhooks.
async fn check_refs(c: &mut dyn Conn, rule: &Rule) -> Result<()> {
    for (i, a) in rule.actions.iter().enumerate() {
        let (field, sql, key, what): (&str, &str, crate::value::Value, &str) = match a {
            Action::SetTeam { team_id: Some(id) } => (
                "team_id",
                "SELECT id FROM teams WHERE id = $1",
                (*id).into(),
                "no such team",
            ),
            Action::Assign {
                assignee_id: Some(id),
            } => (
                "assignee_id",
                "SELECT id FROM users WHERE id = $1 AND active = TRUE",
                (*id).into(),
                "no such active agent",
            ),
            Action::SetCategory {
                category: Some(cat),
            } => (
                "category",
                "SELECT slug FROM categories WHERE slug = $1",
                cat.as_str().into(),
                "no such category",
            ),
            Action::Webhook { webhook_id } => (
                "webhook_id",
                "SELECT id FROM webhooks WHERE id = $1",
                (*webhook_id).into(),
                "no such webhook",
            ),
            _ => continue,
        };
        if c.opt(sql, &[key]).await?.is_none() {
            return Err(StoreError::Invalid(rapport_domain::FieldError::new(
                format!("actions[{i}].{field}"),
                what,
            )));
        }
    }
    Ok(())
}

/// Keeps a new rule (checked by the domain; what it refers to must exist). A time rule
/// acts on the tickets that cross its mark from now on.
pub async fn create(c: &mut dyn Conn, rule: Rule, now: Timestamp) -> Result<Stored> {
    let rule = rule.check()?;
    check_refs(c, &rule).await?;
    let (mut params, watermark) = rule_params(&rule, now)?;
    params.push(watermark.into());
    let id = c
        .one(
            "INSERT INTO automations (name, enabled, kind, events, conditions, actions,
                                      mark_field, mark_hours, watermark_at, created_at,
                                      updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9, $9) RETURNING id",
            &params,
        )
        .await?
        .int("id")?;
    get(c, id).await
}

/// A time rule's watermark when it starts (or starts over): the mark as it stands now, so
/// it acts on the tickets that cross it from now on — never a burst over the past.
fn from_now_on(mark_hours: Option<i64>, now: Timestamp) -> i64 {
    mark_hours.map_or(0, |h| now.0.saturating_sub(h.saturating_mul(3_600_000_000)))
}

/// Replaces a rule. A time rule whose mark changed, that was switched on again, or that
/// was an event rule before starts over from now on; one that only changed otherwise goes
/// on where it stood.
pub async fn update(c: &mut dyn Conn, id: i64, rule: Rule, now: Timestamp) -> Result<Stored> {
    let old = get(c, id).await?;
    let rule = rule.check()?;
    check_refs(c, &rule).await?;
    let mark_changed = old.rule.mark() != rule.mark()
        || (rule.enabled && !old.rule.enabled)
        || (rule.when == When::Time && old.rule.when != When::Time);
    let (mut params, watermark) = rule_params(&rule, now)?;
    params.extend([id.into(), mark_changed.into(), watermark.into()]);
    c.execute(
        "UPDATE automations SET name = $1, enabled = $2, kind = $3, events = $4,
                conditions = $5, actions = $6, mark_field = $7, mark_hours = $8,
                watermark_at = CASE WHEN $11 THEN $12 ELSE watermark_at END,
                watermark_id = CASE WHEN $11 THEN 0 ELSE watermark_id END, updated_at = $9
         WHERE id = $10",
        &params,
    )
    .await?;
    get(c, id).await
}

/// Switches a rule on or off (nothing else is checked: a rule whose agent left can still
/// be switched off). A time rule switched on acts from now on.
pub async fn set_enabled(c: &mut dyn Conn, id: i64, on: bool, now: Timestamp) -> Result<Stored> {
    let old = get(c, id).await?;
    let restart = on && !old.rule.enabled;
    let mark_hours = old.rule.mark().map(|(_, h)| h);
    c.execute(
        "UPDATE automations SET enabled = $1, updated_at = $2,
                watermark_at = CASE WHEN $3 THEN $4 ELSE watermark_at END,
                watermark_id = CASE WHEN $3 THEN 0 ELSE watermark_id END
         WHERE id = $5",
        &[
            on.into(),
            now.into(),
            restart.into(),
            from_now_on(mark_hours, now).into(),
            id.into(),
        ],
    )
    .await?;
    get(c, id).await
}

/// Starts every time rule over from `now` (after history was written in bulk — the demo,
/// an import — so no rule acts on the past).
pub async fn start_time_rules_from(c: &mut dyn Conn, now: Timestamp) -> Result<()> {
    for s in list(c).await? {
        if let Some((_, hours)) = s.rule.mark() {
            c.execute(
                "UPDATE automations SET watermark_at = $1, watermark_id = 0 WHERE id = $2",
                &[from_now_on(Some(hours), now).into(), s.id.into()],
            )
            .await?;
        }
    }
    Ok(())
}

/// One rule.
pub async fn get(c: &mut dyn Conn, id: i64) -> Result<Stored> {
    let r = c
        .opt(
            &format!("SELECT {COLS} FROM automations WHERE id = $1"),
            &[id.into()],
        )
        .await?
        .ok_or(StoreError::NotFound("automation rule"))?;
    from_row(&r)
}

/// Every rule, in the order they run.
pub async fn list(c: &mut dyn Conn) -> Result<Vec<Stored>> {
    c.query(&format!("SELECT {COLS} FROM automations ORDER BY id"), &[])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Deletes a rule (its runs stay in the log under its name).
pub async fn delete(c: &mut dyn Conn, id: i64) -> Result<()> {
    let n = c
        .execute("DELETE FROM automations WHERE id = $1", &[id.into()])
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("automation rule"));
    }
    Ok(())
}

/// The enabled rules of a kind, in the order they run. A rule this version cannot read (a
/// newer release's, during a rolling upgrade) is passed over with a warning: one rule never
/// stops the others.
async fn enabled(c: &mut dyn Conn, kind: &str) -> Result<Vec<Stored>> {
    Ok(c.query(
        &format!("SELECT {COLS} FROM automations WHERE enabled = $1 AND kind = $2 ORDER BY id"),
        &[true.into(), kind.into()],
    )
    .await?
    .iter()
    .filter_map(|r| match from_row(r) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "an automation rule does not read; passed over");
            None
        }
    })
    .collect())
}

/// The enabled event rules, in the order they run.
pub async fn event_rules(c: &mut dyn Conn) -> Result<Vec<Stored>> {
    enabled(c, "event").await
}

/// The enabled time rules, in the order they run.
pub async fn time_rules(c: &mut dyn Conn) -> Result<Vec<Stored>> {
    enabled(c, "time").await
}

/// A ticket as rules see it, with what templates fill in.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// What conditions read.
    pub facts: Facts,
    /// The ticket's number.
    pub number: i64,
    /// The customer's name (their address when they gave none).
    pub customer_name: String,
    /// The owner's name.
    pub assignee_name: Option<String>,
}

/// A ticket as rules see it (none for a ticket that does not exist or was merged away).
pub async fn ticket(c: &mut dyn Conn, id: i64) -> Result<Option<Seen>> {
    let Some(r) = c
        .opt(
            "SELECT t.number, t.subject, t.status, t.priority, t.category, t.channel, t.team_id,
                    t.assignee_id, t.tags, t.custom_fields, t.created_at, t.updated_at,
                    t.status_since, t.solved_at, t.merged_into_id, t.customer_id,
                    cu.email, cu.name AS customer_name, cu.organization_id, cu.check_ins,
                    u.name AS assignee_name,
                    s.csat AS survey_csat, s.ces AS survey_ces, s.nps AS survey_nps,
                    s.comment AS survey_comment
             FROM tickets t JOIN customers cu ON cu.id = t.customer_id
             LEFT JOIN users u ON u.id = t.assignee_id
             LEFT JOIN surveys s ON s.id = (
                 SELECT s2.id FROM surveys s2 WHERE s2.ticket_id = t.id
                 ORDER BY COALESCE(s2.answered_at, 0) DESC, s2.id DESC LIMIT 1)
             WHERE t.id = $1",
            &[id.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    if r.opt_int("merged_into_id")?.is_some() {
        return Ok(None);
    }
    let tags: Vec<String> = serde_json::from_str(&r.text("tags")?).unwrap_or_default();
    let custom: Json = serde_json::from_str(&r.text("custom_fields")?).unwrap_or(Json::Null);
    let custom: BTreeMap<String, String> = custom
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let text = match v {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    let updated_at = Timestamp(r.int("updated_at")?);
    let email = r.text("email")?;
    let name = r.text("customer_name")?;
    let facts = Facts {
        status: TicketStatus::parse(&r.text("status")?)?,
        priority: Priority::from_rank(r.int("priority")?).unwrap_or(Priority::Normal),
        category: r.opt_text("category")?,
        channel: Channel::parse(&r.text("channel")?)?,
        team_id: r.opt_int("team_id")?,
        assignee_id: r.opt_int("assignee_id")?,
        organization_id: r.opt_int("organization_id")?,
        tags,
        subject: r.text("subject")?,
        customer_email: Some(email.clone()),
        customer_tier: crate::score::tier(c, r.int("customer_id")?).await?,
        customer_check_ins: r.bool("check_ins")?,
        custom,
        created_at: Timestamp(r.int("created_at")?),
        updated_at,
        status_since: r.opt_int("status_since")?.map_or(updated_at, Timestamp),
        solved_at: r.opt_int("solved_at")?.map(Timestamp),
        survey: rapport_domain::automation::condition::SurveyFacts {
            csat: r.opt_int("survey_csat")?,
            ces: r.opt_int("survey_ces")?,
            nps: r.opt_int("survey_nps")?,
            comment: r.opt_text("survey_comment")?,
        },
    };
    Ok(Some(Seen {
        facts,
        number: r.int("number")?,
        customer_name: if name.trim().is_empty() { email } else { name },
        assignee_name: r.opt_text("assignee_name")?,
    }))
}

/// A time rule (read afresh and locked: on PostgreSQL a rule another node is running is
/// passed over, `None`) with the next tickets (at most `limit`) that crossed its mark since
/// its watermark, up to `now`: the mark column at or before `now - hours`, after the
/// watermark, in (mark time, id) order — one index range (a row-value comparison, which
/// both databases start the `(column, id)` index at), never a scan of every ticket. Each
/// ticket comes with its mark time.
pub async fn crossed(
    c: &mut dyn Conn,
    rule_id: i64,
    now: Timestamp,
    limit: i64,
) -> Result<Option<(Stored, Vec<(i64, Timestamp)>)>> {
    let lock = crate::dialect::skip_locked(c.backend());
    let Some(r) = c
        .opt(
            &format!(
                "SELECT {COLS}, mark_field, mark_hours, watermark_at, watermark_id
                 FROM automations WHERE id = $1 AND enabled = $2 AND kind = 'time' {lock}"
            ),
            &[rule_id.into(), true.into()],
        )
        .await?
    else {
        return Ok(None);
    };
    let stored = from_row(&r)?;
    let (Some(field), Some(hours)) = (r.opt_text("mark_field")?, r.opt_int("mark_hours")?) else {
        return Ok(None);
    };
    let Some(col) = Field::parse(&field).ok().as_ref().and_then(mark_column) else {
        return Ok(None);
    };
    let cutoff = now.0.saturating_sub(hours.saturating_mul(3_600_000_000));
    let rows = c
        .query(
            &format!(
                "SELECT id, {col} AS mark FROM tickets
                 WHERE ({col}, id) > ($2, $3) AND {col} <= $1
                 ORDER BY {col}, id LIMIT $4"
            ),
            &[
                cutoff.into(),
                r.int("watermark_at")?.into(),
                r.int("watermark_id")?.into(),
                limit.into(),
            ],
        )
        .await?;
    let crossed = rows
        .iter()
        .map(|r| Ok((r.int("id")?, Timestamp(r.int("mark")?))))
        .collect::<Result<_>>()?;
    Ok(Some((stored, crossed)))
}

/// Moves a time rule's watermark past a ticket it went through.
pub async fn advance(c: &mut dyn Conn, rule_id: i64, at: Timestamp, ticket_id: i64) -> Result<()> {
    c.execute(
        "UPDATE automations SET watermark_at = $1, watermark_id = $2 WHERE id = $3",
        &[at.into(), ticket_id.into(), rule_id.into()],
    )
    .await?;
    Ok(())
}

/// Whether a rule already ran on a ticket at or after `since` (a time rule runs once per
/// crossing of its mark, even when an edit or a restart goes over it again).
pub async fn ran_since(
    c: &mut dyn Conn,
    rule_id: i64,
    ticket_id: i64,
    since: Timestamp,
) -> Result<bool> {
    Ok(c.opt(
        "SELECT id FROM automation_runs
         WHERE rule_id = $1 AND ticket_id = $2 AND created_at >= $3",
        &[rule_id.into(), ticket_id.into(), since.into()],
    )
    .await?
    .is_some())
}

/// How many times a rule ran on a ticket since `since`.
pub async fn runs_since(
    c: &mut dyn Conn,
    rule_id: i64,
    ticket_id: i64,
    since: Timestamp,
) -> Result<i64> {
    c.one(
        "SELECT COUNT(*) AS n FROM automation_runs
         WHERE rule_id = $1 AND ticket_id = $2 AND created_at >= $3",
        &[rule_id.into(), ticket_id.into(), since.into()],
    )
    .await?
    .int("n")
}

/// The active supervisors and admins (who `notify … supervisors` reaches).
pub async fn supervisors(c: &mut dyn Conn) -> Result<Vec<i64>> {
    c.query(
        "SELECT id FROM users WHERE active = $1 AND role IN ('supervisor', 'admin') ORDER BY id",
        &[true.into()],
    )
    .await?
    .iter()
    .map(|r| r.int("id"))
    .collect()
}

/// Opens a savepoint, so a rule whose action fails takes back what it did before the
/// failure (and nothing of the rest of the transaction).
pub async fn savepoint(c: &mut dyn Conn) -> Result<()> {
    c.batch("SAVEPOINT automation_rule").await
}

/// Keeps what the rule did.
pub async fn release(c: &mut dyn Conn) -> Result<()> {
    c.batch("RELEASE SAVEPOINT automation_rule").await
}

/// Takes back what the rule did.
pub async fn roll_back(c: &mut dyn Conn) -> Result<()> {
    c.batch("ROLLBACK TO SAVEPOINT automation_rule; RELEASE SAVEPOINT automation_rule")
        .await
}

/// One run of a rule on a ticket, as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The log entry's id.
    pub id: i64,
    /// The rule (it may have been deleted since).
    pub rule_id: i64,
    /// The rule's name then.
    pub rule_name: String,
    /// The ticket.
    pub ticket_id: i64,
    /// The event that set it off (none for a time rule).
    pub event_id: Option<i64>,
    /// Whether every action was done (a failure takes all of them back).
    pub ok: bool,
    /// What it did, or why it failed.
    pub detail: Json,
    /// When.
    pub created_at: Timestamp,
}

/// Logs a run, counts it on the rule, and records it on the ticket's history
/// (`automation_ran`).
#[expect(
    clippy::too_many_arguments,
    reason = "one run's log entry, field by field"
)]
pub async fn record_run(
    c: &mut dyn Conn,
    rule_id: i64,
    rule_name: &str,
    ticket_id: i64,
    event_id: Option<i64>,
    ok: bool,
    detail: &Json,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "INSERT INTO automation_runs (rule_id, rule_name, ticket_id, event_id, ok, detail,
                                      created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            rule_id.into(),
            rule_name.into(),
            ticket_id.into(),
            event_id.into(),
            ok.into(),
            detail.to_string().into(),
            now.into(),
        ],
    )
    .await?;
    c.execute(
        "UPDATE automations SET runs = runs + 1, last_run_at = $1 WHERE id = $2",
        &[now.into(), rule_id.into()],
    )
    .await?;
    events::record(
        c,
        ticket_id,
        Actor::System,
        EventKind::AutomationRan,
        &json!({"rule_id": rule_id, "rule": rule_name, "ok": ok, "detail": detail}),
        now,
    )
    .await?;
    Ok(())
}

fn run_from_row(r: &Row) -> Result<Run> {
    Ok(Run {
        id: r.int("id")?,
        rule_id: r.int("rule_id")?,
        rule_name: r.text("rule_name")?,
        ticket_id: r.int("ticket_id")?,
        event_id: r.opt_int("event_id")?,
        ok: r.bool("ok")?,
        detail: serde_json::from_str(&r.text("detail")?).unwrap_or(Json::Null),
        created_at: Timestamp(r.int("created_at")?),
    })
}

/// The latest runs of a rule, newest first.
pub async fn runs_of_rule(c: &mut dyn Conn, rule_id: i64, limit: i64) -> Result<Vec<Run>> {
    c.query(
        "SELECT id, rule_id, rule_name, ticket_id, event_id, ok, detail, created_at
         FROM automation_runs WHERE rule_id = $1 ORDER BY id DESC LIMIT $2",
        &[rule_id.into(), limit.into()],
    )
    .await?
    .iter()
    .map(run_from_row)
    .collect()
}

/// The runs on a ticket the agent may see, oldest first (the latest 500).
pub async fn runs_on_ticket(
    c: &mut dyn Conn,
    viewer: &rapport_domain::Viewer,
    ticket_id: i64,
) -> Result<Vec<Run>> {
    crate::tickets::get_for_agent(c, viewer, ticket_id).await?;
    let mut runs: Vec<Run> = c
        .query(
            "SELECT id, rule_id, rule_name, ticket_id, event_id, ok, detail, created_at
         FROM automation_runs WHERE ticket_id = $1 ORDER BY id DESC LIMIT 500",
            &[ticket_id.into()],
        )
        .await?
        .iter()
        .map(run_from_row)
        .collect::<Result<_>>()?;
    runs.reverse();
    Ok(runs)
}

/// Turns a customer's check-in messages on or off (off on their request).
pub async fn set_check_ins(c: &mut dyn Conn, customer_id: i64, on: bool) -> Result<()> {
    let n = c
        .execute(
            "UPDATE customers SET check_ins = $1 WHERE id = $2",
            &[on.into(), customer_id.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound("customer"));
    }
    Ok(())
}

/// Whether a customer takes check-in messages.
pub async fn check_ins(c: &mut dyn Conn, customer_id: i64) -> Result<bool> {
    c.opt(
        "SELECT check_ins FROM customers WHERE id = $1",
        &[customer_id.into()],
    )
    .await?
    .ok_or(StoreError::NotFound("customer"))?
    .bool("check_ins")
}
