//! A customer's timeline: every interaction, newest first — tickets opened (email, chat,
//! phone, portal, API), the public messages on them, orders, survey answers, points and
//! vouchers — read a page at a time with a cursor, so the thousandth item costs what the
//! first does (each page runs the whole union for the customer and sorts it: cheap for
//! thousands). Returns are there too, when requested (their state as it now stands).
//! Tickets, their messages, and whatever was given or answered on a ticket
//! appear only where the viewer may see the ticket (a ticketless item always does).

use std::fmt;
use std::str::FromStr;

use rapport_domain::{Permission, Timestamp, Viewer};

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::value::Value;

/// One interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `ticket`, `message`, `order`, `survey`, `points`, `voucher` or `return`.
    pub kind: String,
    /// When it happened.
    pub at: Timestamp,
    /// The id of the ticket, message, order, survey, ledger entry or voucher.
    pub id: i64,
    /// The ticket it belongs to, if any.
    pub ticket_id: Option<i64>,
    /// A ticket's or message's subject; an order's id in the shop; a survey's kind; a
    /// voucher's code; why points moved.
    pub title: String,
    /// A ticket's channel; a message's author (`customer`/`agent`) and channel; an
    /// order's status; a voucher's reason.
    pub detail: String,
    /// The start of a message's text (up to 200 characters).
    pub excerpt: Option<String>,
    /// An order's total (minor units), a survey's first rating, points moved.
    pub number: Option<i64>,
}

/// Where a page ends: the next page starts after this item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    at: i64,
    ord: i64,
    id: i64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.at, self.ord, self.id)
    }
}

impl FromStr for Cursor {
    type Err = rapport_domain::FieldError;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let bad = || rapport_domain::FieldError::new("cursor", "is not a cursor this API gave");
        let mut parts = s.split('.').map(|p| p.parse::<i64>());
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(at)), Some(Ok(ord)), Some(Ok(id)), None)
                if (0..KINDS.len() as i64).contains(&ord) =>
            {
                Ok(Self { at, ord, id })
            }
            _ => Err(bad()),
        }
    }
}

/// The kinds, in the order that breaks ties at one instant (then the id).
const KINDS: [&str; 7] = [
    "ticket", "message", "order", "survey", "points", "voucher", "return",
];

/// The most items one page holds.
pub const MAX_PAGE: i64 = 200;

/// The condition (` AND …`, on a tickets alias `t`, possibly a left join's NULL) that keeps
/// only what `viewer` may see: tickets of other teams stay hidden from agents not in them.
/// The team ids are integers from the database, written into the SQL as digits.
pub(crate) fn team_filter(viewer: &Viewer) -> String {
    if viewer.can(Permission::SeeAllTeams) {
        return String::new();
    }
    let mut teams = String::from(" AND (t.team_id IS NULL");
    if !viewer.team_ids.is_empty() {
        let ids: Vec<String> = viewer.team_ids.iter().map(i64::to_string).collect();
        teams.push_str(&format!(" OR t.team_id IN ({})", ids.join(", ")));
    }
    teams.push(')');
    teams
}

/// One page of `customer_id`'s timeline, newest first, after `after` (from the start when
/// `None`); with the cursor of the next page when there is more.
pub async fn page(
    c: &mut dyn Conn,
    viewer: &Viewer,
    customer_id: i64,
    after: Option<Cursor>,
    limit: i64,
) -> Result<(Vec<Item>, Option<Cursor>)> {
    read(c, viewer, customer_id, after, limit, None).await
}

/// The newest `limit` items of `customer_id`'s timeline that do not belong to ticket
/// `except`: the customer card beside a ticket leaves out what the ticket page shows.
pub async fn recent_besides(
    c: &mut dyn Conn,
    viewer: &Viewer,
    customer_id: i64,
    except: i64,
    limit: i64,
) -> Result<Vec<Item>> {
    Ok(read(c, viewer, customer_id, None, limit, Some(except))
        .await?
        .0)
}

async fn read(
    c: &mut dyn Conn,
    viewer: &Viewer,
    customer_id: i64,
    after: Option<Cursor>,
    limit: i64,
    except: Option<i64>,
) -> Result<(Vec<Item>, Option<Cursor>)> {
    crate::customers::get(c, customer_id).await?;
    let limit = limit.clamp(1, MAX_PAGE);
    let mut p: Vec<Value> = vec![customer_id.into()];
    let seen = team_filter(viewer);
    let mut cursor = match after {
        Some(k) => {
            p.extend([k.at.into(), k.ord.into(), k.id.into()]);
            "WHERE (at < $2 OR (at = $2 AND (ord < $3 OR (ord = $3 AND id < $4))))".to_string()
        }
        None => String::new(),
    };
    if let Some(t) = except {
        p.push(t.into());
        let word = if cursor.is_empty() { "WHERE" } else { " AND" };
        cursor.push_str(&format!(
            "{word} (ticket_id IS NULL OR ticket_id <> ${})",
            p.len()
        ));
    }
    p.push((limit + 1).into());
    let lim = p.len();
    let sql = format!(
        "SELECT kind, ord, at, id, ticket_id, title, detail, excerpt, num FROM (
           SELECT 'ticket' AS kind, 0 AS ord, t.created_at AS at, t.id AS id,
                  t.id AS ticket_id, t.subject AS title, t.channel AS detail,
                  CAST(NULL AS TEXT) AS excerpt, CAST(NULL AS BIGINT) AS num
           FROM tickets t WHERE t.customer_id = $1{seen}
           UNION ALL
           SELECT 'message', 1, m.created_at, m.id, m.ticket_id, t.subject,
                  m.author_kind || ' ' || m.channel, SUBSTR(m.body, 1, 200), CAST(NULL AS BIGINT)
           FROM tickets t JOIN messages m ON m.ticket_id = t.id
           WHERE t.customer_id = $1 AND m.internal = FALSE{seen}
           UNION ALL
           SELECT 'order', 2, o.placed_at, o.id, CAST(NULL AS BIGINT), o.external_id,
                  o.status || ' ' || o.currency, CAST(NULL AS TEXT), o.total
           FROM orders o WHERE o.customer_id = $1
           UNION ALL
           SELECT 'survey', 3, s.answered_at, s.id, s.ticket_id, s.kind, s.channel,
                  s.comment, COALESCE(s.csat, s.nps, s.ces)
           FROM surveys s LEFT JOIN tickets t ON t.id = s.ticket_id
           WHERE s.customer_id = $1 AND s.answered_at IS NOT NULL{seen}
           UNION ALL
           SELECT 'points', 4, l.created_at, l.id, l.ticket_id, l.reason, l.kind,
                  CAST(NULL AS TEXT), l.delta
           FROM points_ledger l LEFT JOIN tickets t ON t.id = l.ticket_id
           WHERE l.customer_id = $1{seen}
           UNION ALL
           SELECT 'voucher', 5, v.created_at, v.id, v.ticket_id, v.code,
                  COALESCE(v.currency, 'percent') || ' ' || v.reason,
                  CAST(NULL AS TEXT), COALESCE(v.amount, v.percent)
           FROM vouchers v LEFT JOIN tickets t ON t.id = v.ticket_id
           WHERE v.customer_id = $1{seen}
           UNION ALL
           SELECT 'return', 6, r.created_at, r.id, r.ticket_id, o.external_id, r.state,
                  r.reason, r.refund_amount
           FROM returns r JOIN orders o ON o.id = r.order_id
           LEFT JOIN tickets t ON t.id = r.ticket_id
           WHERE r.customer_id = $1{seen}
         ) x {cursor}
         ORDER BY at DESC, ord DESC, id DESC LIMIT ${lim}"
    );
    let rows = c.query(&sql, &p).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    for r in rows.iter().take(usize::try_from(limit).unwrap_or(0)) {
        let item = Item {
            kind: r.text("kind")?,
            at: Timestamp(r.int("at")?),
            id: r.int("id")?,
            ticket_id: r.opt_int("ticket_id")?,
            title: r.text("title")?,
            detail: r.opt_text("detail")?.unwrap_or_default(),
            excerpt: r.opt_text("excerpt")?,
            number: r.opt_int("num")?,
        };
        last = Some(Cursor {
            at: item.at.0,
            ord: r.int("ord")?,
            id: item.id,
        });
        items.push(item);
    }
    let more = rows.len() as i64 > limit;
    if items.iter().any(|i| !KINDS.contains(&i.kind.as_str())) {
        return Err(StoreError::Db("unknown timeline kind".into()));
    }
    Ok((items, if more { last } else { None }))
}
