//! The activity log's sentences: what each event on a ticket says to an agent
//! ("Routing gave it to Ana (round-robin)", "The snooze ended (its time came)").

use rapport_domain::EventKind;
use rapport_store::events::Event;

pub(crate) fn describe(e: &Event, name: &dyn Fn(Option<i64>) -> String) -> String {
    let who = if e.actor_customer_id.is_some() {
        "The customer".to_owned()
    } else if e.actor_user_id.is_none() {
        // Rapport itself: a job, routing, the classifier.
        "Rapport".to_owned()
    } else {
        name(e.actor_user_id)
    };
    match e.kind {
        EventKind::TicketCreated => format!("{who} opened the ticket"),
        EventKind::ReplyAdded => format!("{who} replied{}", by_rule(&e.data)),
        EventKind::NoteAdded => format!("{who} added a note{}", by_rule(&e.data)),
        EventKind::MergedInto => {
            format!("{who} merged this ticket into #{}", e.data["into_number"])
        }
        EventKind::MergedFrom => {
            format!("{who} merged #{} into this ticket", e.data["from_number"])
        }
        EventKind::FollowUpOf => format!(
            "Follow-up of #{}, written after it was closed",
            e.data["number"]
        ),
        EventKind::SplitInto => {
            format!("{who} split a message off into #{}", e.data["into_number"])
        }
        EventKind::SplitFrom => format!("{who} split this ticket off #{}", e.data["from_number"]),
        EventKind::TimeLogged => format!(
            "{who} logged {} minutes",
            e.data["seconds"].as_i64().unwrap_or(0) / 60
        ),
        EventKind::FieldsChanged => {
            let parts: Vec<String> = e
                .data
                .as_object()
                .map(|m| {
                    // `automation`: the rule that made the change (said below).
                    m.iter()
                        .filter(|(k, _)| k.as_str() != "automation")
                        .map(|(k, v)| {
                            let show = |x: &serde_json::Value| match x {
                                serde_json::Value::Null => "none".to_owned(),
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            let (from, to) = match k.as_str() {
                                "assignee_id" => (name(v["from"].as_i64()), name(v["to"].as_i64())),
                                _ => (show(&v["from"]), show(&v["to"])),
                            };
                            format!("{} from {from} to {to}", k.trim_end_matches("_id"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!("{who} changed {}{}", parts.join(", "), by_rule(&e.data))
        }
        EventKind::ArticleChanged => format!("{who} changed a knowledge-base article"),
        EventKind::TopicChanged => format!("{who} changed a community topic"),
        EventKind::HandedOver => format!(
            "The assistant bot handed the chat to {} ({})",
            e.data["assignee_id"]
                .as_i64()
                .map_or_else(|| "the team's queue".to_owned(), |a| name(Some(a))),
            e.data["reason"].as_str().unwrap_or("asked")
        ),
        EventKind::Transferred => format!(
            "{who} transferred it to {}: {}",
            e.data["assignee_id"]
                .as_i64()
                .map_or_else(|| "the team's queue".to_owned(), |a| name(Some(a))),
            e.data["note"].as_str().unwrap_or_default()
        ),
        EventKind::Snoozed => {
            let until = e.data["until"]
                .as_str()
                .map(|t| format!("until {} UTC", t.get(..16).unwrap_or(t).replace('T', " ")));
            let when = match (until, e.data["until_reply"].as_bool() == Some(true)) {
                (Some(u), true) => format!("{u} or the customer's reply"),
                (Some(u), false) => u,
                (None, _) => "until the customer replies".to_owned(),
            };
            let note = e.data["note"].as_str().unwrap_or_default();
            if note.is_empty() {
                format!("{who} snoozed it {when}")
            } else {
                format!("{who} snoozed it {when}: {note}")
            }
        }
        EventKind::SnoozeEnded => {
            let why = match e.data["reason"].as_str() {
                Some("time") => "its time came",
                Some("reply") => "the customer replied",
                _ => "woken by hand",
            };
            let note = e.data["note"].as_str().unwrap_or_default();
            if note.is_empty() {
                format!("The snooze ended ({why})")
            } else {
                format!("The snooze ended ({why}). Reminder: {note}")
            }
        }
        EventKind::Routed => format!(
            "Routing gave it to {} ({})",
            name(e.data["assignee_id"].as_i64()),
            match e.data["reason"].as_str() {
                Some("sticky") => "the customer's last agent",
                Some("round_robin") => "round-robin",
                _ => "least-loaded",
            }
        ),
        EventKind::SlaWarning => format!(
            "SLA: {} due within the hour",
            sla_targets(&e.data["targets"])
        ),
        EventKind::SlaBreached => format!("SLA breached: {}", sla_targets(&e.data["targets"])),
        EventKind::PromiseMade => format!(
            "{who} promised: {}",
            e.data["text"].as_str().unwrap_or_default()
        ),
        EventKind::PromiseDue => format!(
            "Promise due soon: {}",
            e.data["text"].as_str().unwrap_or_default()
        ),
        EventKind::PromiseKept => format!(
            "{who} kept the promise: {}",
            e.data["text"].as_str().unwrap_or_default()
        ),
        EventKind::PromiseBroken => format!(
            "Promise broken: {}",
            e.data["text"].as_str().unwrap_or_default()
        ),
        EventKind::AutomationRan => {
            let rule = e.data["rule"].as_str().unwrap_or("a rule");
            if e.data["ok"] == true {
                let done: Vec<&str> = e.data["detail"]["done"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|d| d.as_str()).collect())
                    .unwrap_or_default();
                format!("Automation \u{201c}{rule}\u{201d} ran: {}", done.join("; "))
            } else {
                format!(
                    "Automation \u{201c}{rule}\u{201d} failed and changed nothing: {}",
                    e.data["detail"]["error"]
                        .as_str()
                        .unwrap_or("unknown error")
                )
            }
        }
        EventKind::OrderChanged => format!(
            "Order {} {} ({})",
            e.data["external_id"].as_str().unwrap_or("?"),
            if e.data["created"] == true {
                "placed"
            } else {
                "updated"
            },
            e.data["status"].as_str().unwrap_or("?")
        ),
        EventKind::VoucherIssued => {
            match (e.data["percent"].as_i64(), e.data["amount_minor"].as_i64()) {
                (Some(p), _) => format!("{who} gave a voucher for {p}% off"),
                _ => format!(
                    "{who} gave a voucher worth {}",
                    money_text(e.data["amount_minor"].as_i64(), e.data["currency"].as_str())
                ),
            }
        }
        EventKind::ReturnChanged => format!(
            "{who}: return {} of order {} — {} ({})",
            e.data["return_id"],
            e.data["order_id"],
            e.data["action"].as_str().unwrap_or("?"),
            e.data["state"].as_str().unwrap_or("?")
        ),
        EventKind::RefundIssued => format!(
            "{who} recorded a refund of {} on order {}",
            money_text(e.data["amount_minor"].as_i64(), e.data["currency"].as_str()),
            e.data["order_id"]
        ),
        EventKind::RefundDone => format!(
            "The shop paid back refund {} ({})",
            e.data["refund_id"],
            money_text(e.data["amount_minor"].as_i64(), e.data["currency"].as_str())
        ),
        EventKind::CustomerChanged => format!("{who} changed the customer's details"),
        EventKind::CustomersMerged => format!("{who} merged a duplicate customer into this one"),
        EventKind::CustomerExported => format!("{who} exported the customer's data"),
        EventKind::CustomerErased => format!("{who} erased the customer's personal data"),
        EventKind::OrganizationChanged => format!("{who} changed the customer's organisation"),
        EventKind::VoucherRedeemed => format!(
            "The shop redeemed voucher {}",
            e.data["code"].as_str().unwrap_or("?")
        ),
        EventKind::PointsGiven => format!(
            "{who} gave {} reward points (balance {})",
            e.data["points"], e.data["balance"]
        ),
        EventKind::ApprovalRequested => format!("{who} asked a supervisor to approve a gift"),
        EventKind::ApprovalDecided => format!(
            "{who} {} the gift",
            if e.data["state"] == "approved" {
                "approved"
            } else {
                "declined"
            }
        ),
        EventKind::SurveyOffered => format!(
            "The customer was asked how it went ({})",
            match e.data["channel"].as_str() {
                Some("email") => "by email",
                Some("chat") => "in the chat",
                _ => "in the portal",
            }
        ),
        EventKind::SurveyAnswered => {
            let mut parts = Vec::new();
            for (q, name, of) in [("csat", "CSAT", 5), ("ces", "CES", 7), ("nps", "NPS", 10)] {
                if let Some(n) = e.data[q].as_i64() {
                    parts.push(format!("{name} {n} of {of}"));
                }
            }
            let verb = if e.data["changed"] == true {
                "changed their survey answer to"
            } else {
                "answered the survey:"
            };
            let mut s = format!("{who} {verb} {}", parts.join(", "));
            if let Some(c) = e.data["comment"].as_str() {
                s.push_str(&format!(" \u{2014} \u{201c}{c}\u{201d}"));
            }
            s
        }
    }
}

/// " (automation “Escalate breaches”)" for a change a rule made.
fn by_rule(data: &serde_json::Value) -> String {
    match data["automation"]["rule"].as_str() {
        Some(rule) => format!(" (automation \u{201c}{rule}\u{201d})"),
        None => String::new(),
    }
}

/// "first response and resolution" from an SLA event's target names.
fn sla_targets(v: &serde_json::Value) -> String {
    let names: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str())
                .map(|t| t.replace('_', " "))
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        "a target".to_owned()
    } else {
        names.join(" and ")
    }
}

/// An amount in minor units as decimal text with its currency ("12.50 EUR").
fn money_text(minor: Option<i64>, currency: Option<&str>) -> String {
    use rapport_domain::commerce::{Currency, Money};
    match (minor, currency.map(|c| Currency::parse("currency", c))) {
        (Some(m), Some(Ok(cur))) => format!("{} {}", Money::new(m, cur), cur.code()),
        _ => "?".to_owned(),
    }
}
