//! Live chat's rules: what a stranger's input may be (a visitor's message, its client id,
//! a signed-in site user's id, the sites allowed to embed the widget) and how chats reach
//! people (agent status and limit, transfer notes, the team for a category, the agent for
//! a chat). A chat is a ticket of channel `chat`.

use crate::text::has_control;
use crate::{Body, FieldError};

/// The longest chat message accepted, in bytes (a chat is not a letter; files travel as
/// attachments).
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// A chat message's text: a [`Body`] of at most [`MAX_MESSAGE_BYTES`].
pub fn message_body(raw: &str) -> Result<Body, FieldError> {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(FieldError::new(
            "body",
            format!("is longer than {MAX_MESSAGE_BYTES} bytes"),
        ));
    }
    Body::parse(raw)
}

/// The id a visitor's browser gives each message it sends, so that sending it again after
/// a reconnect stores it once: 1–64 letters, digits, `-` or `_` (a UUID fits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// Parses a client id.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "client_id",
                "must be 1 to 64 letters, digits, dashes or underscores (a UUID)",
            ))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id a site gives its signed-in user (what the site signs for a verified identity):
/// 1–200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    /// Parses a site's user id; errors name `identity.customer_id`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.is_empty() || raw.chars().count() > 200 || has_control(raw) {
            return Err(FieldError::new(
                "identity.customer_id",
                "must be 1 to 200 characters without control characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The sites allowed to embed the widget, as origins (`https://shop.example.com`,
/// `http://localhost:8080`). Empty: any site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// At most this many origins.
    pub const MAX: usize = 100;

    /// Parses a list of origins: each `http` or `https`, a host and an optional port, no
    /// path; stored lower-case without a trailing slash. Errors name `allowed_origins`.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, FieldError> {
        if raw.len() > Self::MAX {
            return Err(FieldError::new(
                "allowed_origins",
                format!("at most {} origins", Self::MAX),
            ));
        }
        let mut out = Vec::with_capacity(raw.len());
        for r in raw {
            let o = r.as_ref().trim().trim_end_matches('/').to_ascii_lowercase();
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"));
            let ok = rest.is_some_and(|host| {
                !host.is_empty()
                    && host.len() <= 253
                    && host.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
                    })
            });
            if !ok {
                return Err(FieldError::new(
                    "allowed_origins",
                    format!(
                        "{:?} is not an origin like https://shop.example.com",
                        r.as_ref()
                    ),
                ));
            }
            if !out.contains(&o) {
                out.push(o);
            }
        }
        Ok(Self(out))
    }

    /// The origins (empty: any).
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether a request whose `Origin` header is `origin` may use the chat. With no
    /// list every site may; with one, a request must name a listed origin (a request with
    /// no `Origin` at all is not from an allowed page).
    pub fn allows(&self, origin: Option<&str>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        origin.is_some_and(|o| {
            let o = o.trim().trim_end_matches('/').to_ascii_lowercase();
            self.0.contains(&o)
        })
    }
}

/// An agent's chat status, which the agent sets in the workspace. Only `online` agents
/// are assigned chats; `away` keeps the chats an agent has; `offline` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AgentStatus {
    /// Taking chats.
    Online,
    /// Keeps their chats, takes no new ones.
    Away,
    /// Not there (the default).
    #[default]
    Offline,
}

impl AgentStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Online => "online",
            AgentStatus::Away => "away",
            AgentStatus::Offline => "offline",
        }
    }

    /// Parses `online`, `away` or `offline`; errors name `status`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "online" => Ok(AgentStatus::Online),
            "away" => Ok(AgentStatus::Away),
            "offline" => Ok(AgentStatus::Offline),
            _ => Err(FieldError::new("status", "must be online, away or offline")),
        }
    }
}

/// The most chats an agent may be limited to.
pub const MAX_CHAT_LIMIT: i64 = 50;

/// Parses a per-agent limit of concurrent chats (0–50; 0 takes no chats); errors name
/// `chat_limit`.
pub fn chat_limit(raw: i64) -> Result<i64, FieldError> {
    if (0..=MAX_CHAT_LIMIT).contains(&raw) {
        Ok(raw)
    } else {
        Err(FieldError::new(
            "chat_limit",
            format!("must be 0 to {MAX_CHAT_LIMIT}"),
        ))
    }
}

/// The longest transfer note, in characters.
pub const MAX_TRANSFER_NOTE_CHARS: usize = 500;

/// A transfer's note to the new owner: required, 1–500 characters, one paragraph of
/// plain text (no control characters but newlines); errors name `note`.
pub fn transfer_note(raw: &str) -> Result<String, FieldError> {
    // A browser's textarea sends line breaks as CR LF.
    let unified = raw.replace("\r\n", "\n").replace('\r', "\n");
    let note = unified.trim();
    if note.is_empty() {
        return Err(FieldError::new(
            "note",
            "is required: say why, for the person who takes it",
        ));
    }
    if note.chars().count() > MAX_TRANSFER_NOTE_CHARS {
        return Err(FieldError::new(
            "note",
            format!("is longer than {MAX_TRANSFER_NOTE_CHARS} characters"),
        ));
    }
    if note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new("note", "contains control characters"));
    }
    Ok(note.to_owned())
}

/// The team a chat of category `category` (`(slug, name)`) goes to: the team named like
/// the category — its name or slug, or its name's first word in either's plural or
/// singular ("Orders" for "Order management"), compared without case. `None`: no team
/// fits, the chat waits in the general queue.
pub fn team_for_category(category: (&str, &str), teams: &[(i64, String)]) -> Option<i64> {
    let norm = |s: &str| s.trim().to_lowercase().replace(['-', '_'], " ");
    let first = |s: &str| {
        let w = norm(s)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        w.strip_suffix('s').map(str::to_owned).unwrap_or(w)
    };
    let (slug, name) = category;
    let exact = teams
        .iter()
        .find(|(_, t)| norm(t) == norm(name) || norm(t) == norm(slug));
    exact
        .or_else(|| {
            teams
                .iter()
                .find(|(_, t)| !first(t).is_empty() && first(t) == first(name))
        })
        .map(|(id, _)| *id)
}

/// The agent a chat goes to: among `candidates` (`(user id, open chats, limit)`, all of
/// them online members of the team), the one with the fewest open chats below their
/// limit (ties: the lowest id). `None`: everybody is at their limit.
pub fn pick_agent(candidates: &[(i64, i64, i64)]) -> Option<i64> {
    candidates
        .iter()
        .filter(|(_, open, limit)| open < limit)
        .min_by_key(|(id, open, _)| (*open, *id))
        .map(|(id, _, _)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_short_and_plain() {
        assert!(ClientId::parse("0b6f3c1e-0c1a-4a57-9b43-6a5e0f6b9d10").is_ok());
        assert_eq!(ClientId::parse("").unwrap_err().field, "client_id");
        assert!(ClientId::parse(&"a".repeat(65)).is_err());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse("<script>").is_err());
    }

    #[test]
    fn chat_messages_are_short() {
        assert!(message_body("hello").is_ok());
        assert_eq!(message_body("   ").unwrap_err().field, "body");
        let long = "x".repeat(MAX_MESSAGE_BYTES + 1);
        assert_eq!(message_body(&long).unwrap_err().field, "body");
        assert!(message_body(&"x".repeat(MAX_MESSAGE_BYTES)).is_ok());
    }

    #[test]
    fn origins_are_checked_exactly() {
        let any = AllowedOrigins::default();
        assert!(any.allows(None));
        assert!(any.allows(Some("https://evil.example")));
        let list =
            AllowedOrigins::parse(&["https://Shop.example.com/", "http://localhost:8080"]).unwrap();
        assert_eq!(list.as_slice()[0], "https://shop.example.com");
        assert!(list.allows(Some("https://shop.example.com")));
        assert!(list.allows(Some("http://localhost:8080")));
        assert!(!list.allows(Some("https://shop.example.com.evil.example")));
        assert!(!list.allows(Some("http://shop.example.com")));
        assert!(!list.allows(None));
        assert!(!list.allows(Some("null")));
        for bad in ["shop.example.com", "ftp://x", "https://x/path", "https://"] {
            let e = AllowedOrigins::parse(&[bad]).unwrap_err();
            assert_eq!(e.field, "allowed_origins", "{bad}");
        }
    }

    #[test]
    fn external_ids_refuse_control_characters() {
        assert!(ExternalId::parse("user-42").is_ok());
        assert!(ExternalId::parse("").is_err());
        assert!(ExternalId::parse("a\nb").is_err());
        assert_eq!(
            ExternalId::parse(&"x".repeat(201)).unwrap_err().field,
            "identity.customer_id"
        );
    }

    #[test]
    fn agent_status_and_limits_parse() {
        for st in [AgentStatus::Online, AgentStatus::Away, AgentStatus::Offline] {
            assert_eq!(AgentStatus::parse(st.as_str()), Ok(st));
        }
        assert_eq!(AgentStatus::parse("busy").unwrap_err().field, "status");
        assert_eq!(chat_limit(0), Ok(0));
        assert_eq!(chat_limit(MAX_CHAT_LIMIT), Ok(MAX_CHAT_LIMIT));
        assert_eq!(chat_limit(-1).unwrap_err().field, "chat_limit");
        assert_eq!(
            chat_limit(MAX_CHAT_LIMIT + 1).unwrap_err().field,
            "chat_limit"
        );
    }

    #[test]
    fn a_transfer_needs_a_note() {
        assert_eq!(transfer_note("  ").unwrap_err().field, "note");
        assert_eq!(transfer_note(&"x".repeat(501)).unwrap_err().field, "note");
        assert_eq!(transfer_note("a\u{7}b").unwrap_err().field, "note");
        assert_eq!(
            transfer_note(" Refund over 100 EUR\nsee order ").unwrap(),
            "Refund over 100 EUR\nsee order"
        );
    }

    #[test]
    fn chats_go_to_the_team_named_like_their_category() {
        let teams = vec![
            (1, "Tier 1".to_owned()),
            (2, "Billing".to_owned()),
            (3, "Technical".to_owned()),
            (4, "Orders".to_owned()),
        ];
        assert_eq!(team_for_category(("billing", "Billing"), &teams), Some(2));
        assert_eq!(
            team_for_category(("technical", "Technical"), &teams),
            Some(3)
        );
        assert_eq!(
            team_for_category(("order-management", "Order management"), &teams),
            Some(4)
        );
        assert_eq!(
            team_for_category(("product-guidance", "Product guidance"), &teams),
            None
        );
        assert_eq!(team_for_category(("billing", "Billing"), &[]), None);
    }

    #[test]
    fn the_least_busy_agent_under_their_limit_gets_the_chat() {
        assert_eq!(pick_agent(&[(1, 2, 3), (2, 1, 3), (3, 1, 3)]), Some(2));
        assert_eq!(pick_agent(&[(1, 3, 3), (2, 0, 0)]), None);
        assert_eq!(pick_agent(&[]), None);
        assert_eq!(pick_agent(&[(5, 4, 3), (6, 2, 3)]), Some(6));
    }
}
