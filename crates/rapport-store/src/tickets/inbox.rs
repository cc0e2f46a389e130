//! Inbox listings: filters, keyset-paginated pages and counts.

use std::collections::BTreeSet;

use base64::Engine;
use rapport_domain::{Category, Channel, FieldError, Priority, Tag, TicketStatus, Viewer};
use serde::Serialize;

use super::{TICKET_COLS, TICKET_FROM, Ticket, ticket_from};
use crate::db::Conn;
use crate::error::Result;
use crate::value::Value;

/// Which column an inbox listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// Last change (the default: what moved most recently).
    #[default]
    UpdatedAt,
    /// Creation time.
    CreatedAt,
    /// Priority, ties by id.
    Priority,
    /// Ticket number.
    Number,
    /// The soonest SLA due time (`tickets.sla_due_at`, kept with the clocks). Tickets with
    /// no running clock count as due at the end of time: last in ascending order (the way
    /// to read this sort), first in descending.
    SlaDue,
    /// The priority score at the page's `now` (descending: most pressing first): the
    /// stored standing part plus the SLA and waiting points (`crate::score::order_sql`).
    /// Computed per row, so it reads every ticket the filter lets through — meant for
    /// queues (a team's, an agent's, the unassigned), not for the whole history.
    Score,
}

impl SortField {
    /// Parses `updated_at`, `created_at`, `priority`, `number`, `sla_due` or `score`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "updated_at" => Ok(Self::UpdatedAt),
            "created_at" => Ok(Self::CreatedAt),
            "priority" => Ok(Self::Priority),
            "number" => Ok(Self::Number),
            "sla_due" => Ok(Self::SlaDue),
            "score" => Ok(Self::Score),
            _ => Err(FieldError::new(
                "sort",
                "must be one of: updated_at, created_at, priority, number, sla_due, score",
            )),
        }
    }

    /// The sort expression (on tickets `t`); `now` is the placeholder of the page's time.
    fn column(self, now: &str) -> String {
        match self {
            Self::UpdatedAt => "t.updated_at".into(),
            Self::CreatedAt => "t.created_at".into(),
            Self::Priority => "t.priority".into(),
            Self::Number => "t.number".into(),
            Self::SlaDue => "t.sla_due_at".into(),
            Self::Score => crate::score::order_sql(now),
        }
    }
}

/// Filters of an inbox view. Empty means "everything the viewer may see".
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    /// Any of these statuses: a set, so a status asked for twice reads its index range
    /// once (and a list repeated 600 times cannot build a query past SQLite's limits).
    pub statuses: BTreeSet<TicketStatus>,
    /// This priority.
    pub priority: Option<Priority>,
    /// This category.
    pub category: Option<Category>,
    /// This channel.
    pub channel: Option<Channel>,
    /// This team (`Some(None)`: no team).
    pub team_id: Option<Option<i64>>,
    /// This assignee (`Some(None)`: unassigned).
    pub assignee_id: Option<Option<i64>>,
    /// This customer.
    pub customer_id: Option<i64>,
    /// Carrying this tag.
    pub tag: Option<Tag>,
}

/// Where a page starts and how it is ordered.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Sort column.
    pub sort: SortField,
    /// Ascending instead of descending.
    pub ascending: bool,
    /// Up to this many (1–200).
    pub limit: usize,
    /// The cursor from the previous page.
    pub cursor: Option<String>,
    /// The time a time-dependent sort (`score`) is computed at; a cursor carries the first
    /// page's, so later pages continue the same order.
    pub now: i64,
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize)]
pub struct TicketPage {
    /// The tickets on this page.
    pub items: Vec<Ticket>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn encode_cursor(v: i64, id: i64, now: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{v}:{id}:{now}"))
}

/// A cursor's sort value, id and time (a cursor of an older server has no time: now).
fn decode_cursor(s: &str, now: i64) -> Result<(i64, i64, i64), FieldError> {
    let bad = || FieldError::new("cursor", "is not a cursor this server gave out");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = text.split(':');
    let mut num =
        || -> Result<i64, FieldError> { parts.next().ok_or_else(bad)?.parse().map_err(|_| bad()) };
    let (v, id) = (num()?, num()?);
    let at = match parts.next() {
        Some(t) => t.parse().map_err(|_| bad())?,
        None => now,
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((v, id, at))
}

/// Adds a parameter and returns its placeholder.
fn bind(v: Value, params: &mut Vec<Value>) -> String {
    params.push(v);
    format!("${}", params.len())
}

/// The WHERE conditions of a filter other than status, with the viewer's team scope.
fn conditions(viewer: &Viewer, f: &TicketFilter, params: &mut Vec<Value>) -> Vec<String> {
    let p = bind;
    let mut wh = Vec::new();
    if let Some(pr) = f.priority {
        wh.push(format!("t.priority = {}", p(pr.rank().into(), params)));
    }
    if let Some(cat) = &f.category {
        wh.push(format!("t.category = {}", p(cat.as_str().into(), params)));
    }
    if let Some(ch) = f.channel {
        wh.push(format!("t.channel = {}", p(ch.as_str().into(), params)));
    }
    match f.team_id {
        Some(Some(team)) => wh.push(format!("t.team_id = {}", p(team.into(), params))),
        Some(None) => wh.push("t.team_id IS NULL".into()),
        None => {}
    }
    match f.assignee_id {
        Some(Some(a)) => wh.push(format!("t.assignee_id = {}", p(a.into(), params))),
        Some(None) => wh.push("t.assignee_id IS NULL".into()),
        None => {}
    }
    if let Some(cu) = f.customer_id {
        wh.push(format!("t.customer_id = {}", p(cu.into(), params)));
    }
    if let Some(tag) = &f.tag {
        wh.push(format!(
            "EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = t.id AND tt.tag = {})",
            p(tag.as_str().into(), params)
        ));
    }
    if let Some(teams) = viewer.team_scope() {
        let list: Vec<String> = teams.iter().map(|t| p((*t).into(), params)).collect();
        if list.is_empty() {
            wh.push("t.team_id IS NULL".into());
        } else {
            wh.push(format!(
                "(t.team_id IS NULL OR t.team_id IN ({}))",
                list.join(", ")
            ));
        }
    }
    wh
}

/// How many tickets a view holds (for the counts beside each inbox view).
pub async fn count(c: &mut dyn Conn, viewer: &Viewer, f: &TicketFilter) -> Result<i64> {
    let mut params = Vec::new();
    let mut wh = conditions(viewer, f, &mut params);
    if !f.statuses.is_empty() {
        let list: Vec<String> = f
            .statuses
            .iter()
            .map(|s| bind(s.as_str().into(), &mut params))
            .collect();
        wh.push(format!("t.status IN ({})", list.join(", ")));
    }
    let where_sql = if wh.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", wh.join(" AND "))
    };
    c.one(
        &format!("SELECT COUNT(*) AS n FROM tickets t {where_sql}"),
        &params,
    )
    .await?
    .int("n")
}

/// Lists tickets for an inbox view: filtered, sorted, one page at a time. Keyset
/// pagination (sort value, id) keeps every page as fast as the first.
pub async fn list(
    c: &mut dyn Conn,
    viewer: &Viewer,
    f: &TicketFilter,
    page: &PageRequest,
) -> Result<TicketPage> {
    let mut params: Vec<Value> = Vec::new();
    let mut wh = conditions(viewer, f, &mut params);
    let p = bind;
    let cursor = page
        .cursor
        .as_deref()
        .map(|c| decode_cursor(c, page.now))
        .transpose()?;
    let now = cursor.map_or(page.now, |(_, _, at)| at);
    // A score cursor's time is the first page's: recent, never ahead (a forged one could
    // overflow the score's arithmetic).
    if page.sort == SortField::Score
        && cursor.is_some()
        && !(page.now.saturating_sub(86_400_000_000)..=page.now.saturating_add(60_000_000))
            .contains(&now)
    {
        return Err(FieldError::new("cursor", "has expired; start from the first page").into());
    }
    let col = if page.sort == SortField::Score {
        let pnow = p(now.into(), &mut params);
        page.sort.column(&pnow)
    } else {
        page.sort.column("")
    };
    let (cmp, dir) = if page.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some((v, id, _)) = cursor {
        let pv = p(v.into(), &mut params);
        let pid = p(id.into(), &mut params);
        wh.push(format!("({col}, t.id) {cmp} ({pv}, {pid})"));
    }
    let limit = page.limit.clamp(1, 200);
    let order = format!("ORDER BY {col} {dir}, t.id {dir} LIMIT {}", limit + 1);
    let where_sql = |extra: Option<String>| {
        let all: Vec<&str> = extra
            .as_deref()
            .into_iter()
            .chain(wh.iter().map(String::as_str))
            .collect();
        if all.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", all.join(" AND "))
        }
    };
    let sql = if f.statuses.len() > 1 {
        // One index range per status, each already sorted and cut to a page, then merged:
        // an inbox of open work stays as fast with a million solved tickets behind it.
        let arms: Vec<String> = f
            .statuses
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let ps = p(s.as_str().into(), &mut params);
                format!(
                    "SELECT * FROM (SELECT t.id FROM tickets t {} {order}) AS a{i}",
                    where_sql(Some(format!("t.status = {ps}")))
                )
            })
            .collect();
        format!(
            "SELECT {TICKET_COLS}, {col} AS sort_value {TICKET_FROM} WHERE t.id IN ({}) {order}",
            arms.join(" UNION ALL ")
        )
    } else {
        let status = f
            .statuses
            .first()
            .map(|s| format!("t.status = {}", p(s.as_str().into(), &mut params)));
        format!(
            "SELECT {TICKET_COLS}, {col} AS sort_value {TICKET_FROM} {} {order}",
            where_sql(status)
        )
    };
    let rows = c.query(&sql, &params).await?;
    let mut items = rows.iter().map(ticket_from).collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        let last = rows
            .get(limit - 1)
            .map(|r| r.int("sort_value"))
            .transpose()?;
        last.zip(items.last())
            .map(|(v, t)| encode_cursor(v, t.id, now))
    } else {
        None
    };
    Ok(TicketPage { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = encode_cursor(-5, 42, 7);
        assert_eq!(decode_cursor(&c, 9).unwrap(), (-5, 42, 7));
        let old = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("3:4");
        assert_eq!(decode_cursor(&old, 9).unwrap(), (3, 4, 9));
        assert_eq!(decode_cursor("!!!", 9).unwrap_err().field, "cursor");
        let long = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1:2:3:4");
        assert_eq!(decode_cursor(&long, 9).unwrap_err().field, "cursor");
    }
}
