//! The customer card in the workspace, beside every ticket and on the customer's page:
//! their tier and organisation, what they are worth, how they rated us, the churn-risk
//! signal in words, and their latest interactions on every channel (the timeline).

use rapport_domain::commerce::format_minor as money_text;
use rapport_domain::crm::RiskLevel;
use rapport_domain::{Timestamp, Viewer, Zone};
use rapport_store::Result;
use rapport_store::crm::{card, organizations, timeline};
use rapport_store::db::Conn;

/// How many interactions the card lists.
pub const RECENT: i64 = 8;

/// One interaction, in words.
pub struct Interaction {
    /// "Order", "Ticket", …
    pub kind: &'static str,
    /// Local time, and the instant for `<time>`.
    pub at: (String, String),
    /// What it was.
    pub text: String,
    /// A link, when it leads somewhere here.
    pub href: Option<String>,
}

/// The card.
pub struct Card {
    /// Their tier (`vip`), if any.
    pub tier: Option<String>,
    /// Their organisation's name, if any.
    pub organization: Option<String>,
    /// Their birthday as stored, if known.
    pub birthday: Option<String>,
    /// Other addresses that find them.
    pub other_emails: Vec<String>,
    /// Lifetime value, one line per currency ("EUR 120.50 over 2 orders").
    pub value: Vec<String>,
    /// `low`, `medium` or `high`.
    pub risk: &'static str,
    /// The reasons in words.
    pub risk_text: String,
    /// Their latest ratings ("CSAT 2", "NPS 9"), newest first.
    pub ratings: Vec<String>,
    /// Their latest interactions, newest first.
    pub recent: Vec<Interaction>,
}

fn kind_words(kind: &str) -> &'static str {
    match kind {
        "ticket" => "Ticket",
        "message" => "Message",
        "order" => "Order",
        "survey" => "Survey",
        "points" => "Points",
        "voucher" => "Voucher",
        "return" => "Return",
        _ => "Other",
    }
}

fn interaction(i: timeline::Item, zone: &Zone) -> Interaction {
    let href = match (i.kind.as_str(), i.ticket_id) {
        (_, Some(t)) => Some(format!("/tickets/{t}")),
        _ => None,
    };
    let text = match i.kind.as_str() {
        "message" => i.excerpt.clone().unwrap_or_default(),
        "order" => {
            let (status, currency) = i.detail.split_once(' ').unwrap_or((&i.detail, ""));
            format!(
                "{} — {status}, {} {currency}",
                i.title,
                money_text(i.number.unwrap_or(0), currency)
            )
        }
        "survey" => format!("{} answered: {}", i.title, i.number.unwrap_or(0)),
        "points" => format!("{:+} points — {}", i.number.unwrap_or(0), i.title),
        "voucher" => format!(
            "voucher {} — {}",
            rapport_domain::loyalty::voucher::masked(&i.title),
            i.detail
        ),
        "return" => format!("return of order {} — {}", i.title, i.detail),
        _ => i.title.clone(),
    };
    Interaction {
        kind: kind_words(&i.kind),
        at: crate::render::when(i.at, zone),
        text,
        href,
    }
}

/// Reads the card of a customer as `viewer` may see it. Beside a ticket (`beside`), its
/// interactions leave out that ticket's own, which the page already shows.
pub async fn load(
    c: &mut dyn Conn,
    viewer: &Viewer,
    customer: i64,
    beside: Option<i64>,
    now: Timestamp,
    zone: &Zone,
) -> Result<Card> {
    let cu = rapport_store::customers::get(c, customer).await?;
    let organization = match cu.organization_id {
        Some(o) => Some(organizations::get(c, o).await?.name),
        None => None,
    };
    let value = card::value(c, customer)
        .await?
        .into_iter()
        .map(|v| {
            format!(
                "{} {} over {} order{}",
                v.currency,
                money_text(v.total, &v.currency),
                v.orders,
                if v.orders == 1 { "" } else { "s" }
            )
        })
        .collect();
    let ratings = card::ratings(c, viewer, customer, 3)
        .await?
        .into_iter()
        .map(|r| {
            [("CSAT", r.csat), ("CES", r.ces), ("NPS", r.nps)]
                .iter()
                .filter_map(|(n, v)| v.map(|v| format!("{n} {v}")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|s| !s.is_empty())
        .collect();
    let risk = card::signals(c, viewer, customer, now).await?.risk();
    let items = match beside {
        Some(t) => timeline::recent_besides(c, viewer, customer, t, RECENT).await?,
        None => timeline::page(c, viewer, customer, None, RECENT).await?.0,
    };
    Ok(Card {
        tier: cu.tier,
        organization,
        birthday: cu.birthday,
        other_emails: cu.other_emails,
        value,
        risk: match risk.level {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        },
        risk_text: risk.explained(),
        ratings,
        recent: items.into_iter().map(|i| interaction(i, zone)).collect(),
    })
}
