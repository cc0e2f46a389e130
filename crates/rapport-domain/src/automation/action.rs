//! What a rule does: set fields, assign or hand to routing, tag, write a note, reply to
//! the customer or notify agents from a [`Template`], or call a webhook.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::{Category, Priority, Tag, TicketStatus};

/// The longest template, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 5_000;

/// The placeholders a template may use, with what they stand for.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("ticket.number", "the ticket's number"),
    ("ticket.subject", "the ticket's subject"),
    ("customer.name", "the customer's name"),
    ("agent.name", "the ticket's owner, or the support team"),
    ("rule.name", "the rule's name"),
    ("survey.csat", "the latest survey's CSAT (1–5)"),
    ("survey.ces", "its CES (1–7)"),
    ("survey.nps", "its NPS (0–10)"),
    ("survey.comment", "its comment"),
];

/// A text with placeholders (`{{customer.name}}`), checked to use only known ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template(String);

impl Template {
    /// Checks a template: 1–5,000 characters, no NUL, only [`PLACEHOLDERS`]; errors name
    /// `text`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let t = raw.trim();
        if t.is_empty() || t.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(FieldError::new(
                "text",
                format!("write 1 to {MAX_TEMPLATE_CHARS} characters"),
            ));
        }
        if t.contains('\0') {
            return Err(FieldError::new("text", "must not contain NUL characters"));
        }
        let mut rest = t;
        while let Some(open) = rest.find("{{") {
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(FieldError::new("text", "a {{ placeholder is not closed"));
            };
            let name = after[..close].trim();
            if !PLACEHOLDERS.iter().any(|(p, _)| *p == name) {
                let known: Vec<String> = PLACEHOLDERS
                    .iter()
                    .map(|(p, _)| format!("{{{{{p}}}}}"))
                    .collect();
                return Err(FieldError::new(
                    "text",
                    format!(
                        "unknown placeholder {{{{{name}}}}}; use {}",
                        known.join(", ")
                    ),
                ));
            }
            rest = &after[close + 2..];
        }
        Ok(Self(t.to_owned()))
    }

    /// The text with each placeholder replaced by `value(name)`.
    pub fn render(&self, value: impl Fn(&str) -> String) -> String {
        let mut out = String::with_capacity(self.0.len());
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            match after.find("}}") {
                Some(close) => {
                    out.push_str(&value(after[..close].trim()));
                    rest = &after[close + 2..];
                }
                None => {
                    out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Template {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Template::parse(&s)
    }
}

impl From<Template> for String {
    fn from(t: Template) -> String {
        t.0
    }
}

/// A value from outside (a subject, a customer's name) made safe to put into a
/// template's markdown: the characters that make links, images and HTML (`[`, `]`, `<`,
/// `>`, and `\` itself) are escaped, so `[Verify](https://evil)` in a subject stays text,
/// not a link in Rapport's name. Nothing else is touched: the email's text part carries
/// the body as written, so only a subject with brackets shows a backslash there.
pub fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        if "\\[]<>".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Who a notification goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The ticket's owner (none when unassigned).
    Assignee,
    /// Every supervisor and admin.
    Supervisors,
}

/// One thing a rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Sets the status.
    SetStatus {
        /// The new status.
        status: TicketStatus,
    },
    /// Sets the priority.
    SetPriority {
        /// The new priority.
        priority: Priority,
    },
    /// Sets (or clears) the category.
    SetCategory {
        /// The category slug, or null.
        category: Option<Category>,
    },
    /// Hands the ticket to a team (or none).
    SetTeam {
        /// The team, or null.
        team_id: Option<i64>,
    },
    /// Gives the ticket to an agent (or unassigns it).
    Assign {
        /// The agent, or null.
        assignee_id: Option<i64>,
    },
    /// Hands the ticket to its team's routing (round robin or least loaded).
    Route,
    /// Adds tags.
    AddTags {
        /// The tags.
        tags: Vec<Tag>,
    },
    /// Removes tags.
    RemoveTags {
        /// The tags.
        tags: Vec<Tag>,
    },
    /// Writes an internal note.
    Note {
        /// The note.
        text: Template,
    },
    /// Replies to the customer through the ticket's channel.
    Reply {
        /// The reply.
        text: Template,
    },
    /// Emails agents about the ticket.
    Notify {
        /// Who.
        to: Vec<Recipient>,
        /// What.
        text: Template,
    },
    /// Sends the ticket to a webhook (as `automation.fired`, signed like every delivery).
    Webhook {
        /// The webhook.
        webhook_id: i64,
    },
}

impl Action {
    /// Checks what types alone cannot: tags to add or remove (1–20), someone to notify.
    pub fn check(&self) -> Result<(), FieldError> {
        match self {
            Action::AddTags { tags } | Action::RemoveTags { tags }
                if tags.is_empty() || tags.len() > 20 =>
            {
                Err(FieldError::new("tags", "give 1 to 20 tags"))
            }
            Action::Notify { to, .. } if to.is_empty() => Err(FieldError::new(
                "to",
                "say who to notify: assignee, supervisors or both",
            )),
            _ => Ok(()),
        }
    }

    /// Its type's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::SetStatus { .. } => "set_status",
            Action::SetPriority { .. } => "set_priority",
            Action::SetCategory { .. } => "set_category",
            Action::SetTeam { .. } => "set_team",
            Action::Assign { .. } => "assign",
            Action::Route => "route",
            Action::AddTags { .. } => "add_tags",
            Action::RemoveTags { .. } => "remove_tags",
            Action::Note { .. } => "note",
            Action::Reply { .. } => "reply",
            Action::Notify { .. } => "notify",
            Action::Webhook { .. } => "webhook",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_known_placeholders_and_refuse_others() {
        let t =
            Template::parse("Hi {{ customer.name }}, about #{{ticket.number}}: {{x").unwrap_err();
        assert_eq!(t.field, "text");
        let t = Template::parse("Hi {{customer.name}}, about #{{ ticket.number }}.").unwrap();
        let out = t.render(|p| match p {
            "customer.name" => "Ana".into(),
            "ticket.number" => "42".into(),
            _ => String::new(),
        });
        assert_eq!(out, "Hi Ana, about #42.");
        assert!(Template::parse("{{customer.password}}").is_err());
        assert_eq!(
            literal("[Verify](https://evil.example) *now* Mary_Ann"),
            "\\[Verify\\](https://evil.example) *now* Mary_Ann"
        );
        assert!(Template::parse("  ").is_err());
    }
}
