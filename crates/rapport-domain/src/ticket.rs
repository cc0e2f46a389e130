//! What a ticket is made of: its status and the moves between them, its priority,
//! category, channel, tags, number, and the text of its messages.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Declares a closed set of values spelled one way on the wire and in the database.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire and database spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the wire spelling; the error names the field and lists what is allowed.
            pub fn parse(raw: &str) -> Result<Self, $crate::FieldError> {
                match raw.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::FieldError::new(
                        $field,
                        format!("must be one of: {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum!(
    /// Where a ticket stands. `New` until someone first touches it; `Closed` is final —
    /// a customer writing again about a closed ticket starts a follow-up.
    TicketStatus, "status" {
        /// Not yet looked at by an agent.
        New = "new",
        /// Waiting on the support team.
        Open = "open",
        /// Waiting on the customer.
        Pending = "pending",
        /// Waiting on a third party.
        OnHold = "on-hold",
        /// Answered; reopens if the customer writes back.
        Solved = "solved",
        /// Archived; never changes again.
        Closed = "closed",
    }
);

impl TicketStatus {
    /// Whether a ticket may move from `self` to `to`. Nothing leaves `Closed`, and nothing
    /// goes back to `New`: a ticket that was seen stays seen.
    pub fn can_become(self, to: TicketStatus) -> bool {
        if self == to {
            return true;
        }
        !matches!(self, TicketStatus::Closed) && to != TicketStatus::New
    }

    /// Checks a requested move, with an error for the `status` field when it is refused.
    pub fn transition(self, to: TicketStatus) -> Result<TicketStatus, FieldError> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(FieldError::new(
                "status",
                format!("a {self} ticket cannot become {to}"),
            ))
        }
    }

    /// Open work: counted in the backlog and shown in "open" views.
    pub fn is_unsolved(self) -> bool {
        matches!(
            self,
            TicketStatus::New | TicketStatus::Open | TicketStatus::Pending | TicketStatus::OnHold
        )
    }

    /// The status a ticket takes when the customer writes again.
    pub fn on_customer_reply(self) -> TicketStatus {
        match self {
            TicketStatus::Closed => TicketStatus::Closed,
            TicketStatus::New => TicketStatus::New,
            _ => TicketStatus::Open,
        }
    }
}

wire_enum!(
    /// How soon a ticket needs attention.
    Priority, "priority" {
        /// Whenever there is time.
        Low = "low",
        /// The default.
        Normal = "normal",
        /// Before normal work.
        High = "high",
        /// Drop everything.
        Urgent = "urgent",
    }
);

impl Priority {
    /// A number that sorts the way people expect (urgent first when descending).
    pub fn rank(self) -> i64 {
        match self {
            Priority::Low => 0,
            Priority::Normal => 1,
            Priority::High => 2,
            Priority::Urgent => 3,
        }
    }

    /// The inverse of [`Priority::rank`].
    pub fn from_rank(rank: i64) -> Option<Priority> {
        Priority::ALL.iter().copied().find(|p| p.rank() == rank)
    }
}

wire_enum!(
    /// The channel a conversation or message came through. Every channel lands in the
    /// same model; this only says where to answer.
    Channel, "channel" {
        /// Email, inbound and outbound.
        Email = "email",
        /// The live chat widget.
        Chat = "chat",
        /// The web form or customer portal.
        Web = "web",
        /// A phone call, logged by an agent or a telephony webhook.
        Phone = "phone",
        /// Created through the REST API.
        Api = "api",
        /// Text messages through the API channel.
        Sms = "sms",
        /// Social networks through the API channel.
        Social = "social",
    }
);

impl Channel {
    /// Whether an agent's public reply on a ticket of this channel goes out through the
    /// channel (email: yes). Elsewhere the customer reads it where they are (the portal,
    /// the API) or heard it already (a phone call).
    pub fn delivers_replies(self) -> bool {
        matches!(self, Channel::Email)
    }
}

/// A ticket category: one of the four built in (`technical`, `billing`,
/// `product-guidance`, `order-management`) or a custom one an admin created. Spelled as a
/// lower-case slug.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

impl Category {
    /// The categories every help desk starts with, with their display names.
    pub const BUILT_IN: &'static [(&'static str, &'static str)] = &[
        ("technical", "Technical"),
        ("billing", "Billing"),
        ("product-guidance", "Product guidance"),
        ("order-management", "Order management"),
    ];

    /// Parses a slug: 1–40 characters of `a-z`, `0-9` and `-`, starting with a letter.
    /// Whether a custom category exists is the store's question.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_ascii_lowercase();
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self(s))
        } else {
            Err(FieldError::new(
                "category",
                "must be a slug of letters, digits and dashes, like billing or order-management",
            ))
        }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is one of the four built-in categories.
    pub fn is_built_in(&self) -> bool {
        Self::BUILT_IN.iter().any(|(s, _)| *s == self.0)
    }
}

impl TryFrom<String> for Category {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Category> for String {
    fn from(c: Category) -> Self {
        c.0
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The human-readable number of a ticket (`#1042`), distinct from its database id so it
/// can be quoted in a subject line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TicketNumber(pub i64);

impl TicketNumber {
    /// Finds a `[#1042]` tag in an email subject, as mail clients keep it on replies.
    pub fn find_in_subject(subject: &str) -> Option<TicketNumber> {
        let start = subject.find("[#")?;
        let rest = &subject[start + 2..];
        let end = rest.find(']')?;
        rest[..end]
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(TicketNumber)
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A tag: lower case, 1–50 characters of letters, digits, `-`, `_`, `:` or `.`. Spaces
/// become dashes so `"Refund Request"` and `"refund-request"` are one tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    /// Parses and normalises one tag.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s: String = raw
            .trim()
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-");
        let ok = !s.is_empty()
            && s.chars().count() <= 50
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
        if ok {
            Ok(Self(s))
        } else {
            Err(FieldError::new(
                "tags",
                "each tag must be 1 to 50 letters, digits, dashes, underscores, colons or dots",
            ))
        }
    }

    /// Parses a list, dropping duplicates and keeping the first spelling's order.
    pub fn parse_list<S: AsRef<str>>(raw: &[S]) -> Result<Vec<Tag>, FieldError> {
        if raw.len() > 50 {
            return Err(FieldError::new("tags", "at most 50 tags per ticket"));
        }
        let mut out: Vec<Tag> = Vec::with_capacity(raw.len());
        for r in raw {
            let t = Tag::parse(r.as_ref())?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// The tag text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Tag> for String {
    fn from(t: Tag) -> Self {
        t.0
    }
}

/// A ticket subject: one line, 1–255 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject(String);

impl Subject {
    /// The longest subject kept, in characters.
    pub const MAX_CHARS: usize = 255;

    /// Parses a subject typed by a person (API, portal, workspace): trimmed, not blank,
    /// at most [`Subject::MAX_CHARS`] characters, and without control characters — NUL,
    /// line breaks and tabs are refused, naming `subject`. Runs of spaces fold to one.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new("subject", "is required"));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new("subject", "is longer than 255 characters"));
        }
        if crate::text::has_control(s) {
            return Err(FieldError::new(
                "subject",
                "must not contain control characters (line breaks, tabs, NUL)",
            ));
        }
        Ok(Self(s.split_whitespace().collect::<Vec<_>>().join(" ")))
    }

    /// The subject of a mail, which cannot be refused: control characters become spaces,
    /// white space is folded, the text is cut to [`Subject::MAX_CHARS`] characters, and a
    /// blank subject becomes `(no subject)`.
    pub fn from_mail(raw: &str) -> Self {
        let s: String = crate::text::fold_controls(raw)
            .chars()
            .take(Self::MAX_CHARS)
            .collect();
        match s.trim() {
            "" => Self("(no subject)".to_owned()),
            s => Self(s.to_owned()),
        }
    }

    /// The subject text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a message: not blank, at most [`Body::MAX_BYTES`]. Its
/// [`sentiment`](Body::sentiment) is read once, when first asked for — a caller that will
/// store a customer's message asks before its write transaction, so the reading costs no
/// time inside it.
#[derive(Debug, Clone)]
pub struct Body(String, std::sync::OnceLock<crate::sentiment::Sentiment>);

impl PartialEq for Body {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for Body {}

impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl Body {
    /// The longest message text accepted (256 KiB); attachments carry anything bigger.
    pub const MAX_BYTES: usize = 256 * 1024;

    /// Parses a message body, trimming trailing white space only (leading indentation
    /// can matter in a log excerpt).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim_end();
        if s.trim().is_empty() {
            return Err(FieldError::new("body", "is required"));
        }
        if s.len() > Self::MAX_BYTES {
            return Err(FieldError::new("body", "is longer than 256 KiB"));
        }
        if s.chars().any(|c| c == '\0') {
            return Err(FieldError::new("body", "must not contain NUL characters"));
        }
        Ok(Self(s.to_owned(), std::sync::OnceLock::new()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The mood of the text ([`crate::sentiment::read`]), read on first use and kept.
    pub fn sentiment(&self) -> crate::sentiment::Sentiment {
        *self.1.get_or_init(|| crate::sentiment::read(&self.0))
    }

    /// The first `max` characters on one line, for previews in lists.
    pub fn preview(&self, max: usize) -> String {
        preview(&self.0, max)
    }
}

/// The first `max` characters of `text` on one line, with an ellipsis when cut.
pub fn preview(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn statuses_round_trip_through_their_spelling() {
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()).unwrap(), *s);
        }
        assert_eq!(
            TicketStatus::parse("On-Hold").unwrap(),
            TicketStatus::OnHold
        );
        let e = TicketStatus::parse("done").unwrap_err();
        assert_eq!(e.field, "status");
        assert!(e.message.contains("on-hold"));
    }

    #[test]
    fn only_email_delivers_replies() {
        let delivering: Vec<Channel> = Channel::ALL
            .iter()
            .copied()
            .filter(|c| c.delivers_replies())
            .collect();
        assert_eq!(delivering, [Channel::Email]);
    }

    #[test]
    fn closed_is_final_and_new_is_only_initial() {
        assert!(TicketStatus::Open.can_become(TicketStatus::Solved));
        assert!(TicketStatus::Solved.can_become(TicketStatus::Open));
        assert!(TicketStatus::Solved.can_become(TicketStatus::Closed));
        assert!(!TicketStatus::Closed.can_become(TicketStatus::Open));
        assert!(!TicketStatus::Open.can_become(TicketStatus::New));
        assert!(TicketStatus::New.can_become(TicketStatus::New));
        assert!(TicketStatus::Closed.transition(TicketStatus::Open).is_err());
    }

    #[test]
    fn a_customer_reply_reopens_solved_but_not_closed() {
        assert_eq!(TicketStatus::Solved.on_customer_reply(), TicketStatus::Open);
        assert_eq!(
            TicketStatus::Pending.on_customer_reply(),
            TicketStatus::Open
        );
        assert_eq!(
            TicketStatus::Closed.on_customer_reply(),
            TicketStatus::Closed
        );
    }

    #[test]
    fn priority_rank_round_trips() {
        for p in Priority::ALL {
            assert_eq!(Priority::from_rank(p.rank()), Some(*p));
        }
        assert!(Priority::Urgent.rank() > Priority::Low.rank());
    }

    #[test]
    fn categories_are_slugs() {
        assert!(Category::parse("Billing").unwrap().is_built_in());
        assert!(!Category::parse("warranty-claims").unwrap().is_built_in());
        assert!(Category::parse("9lives").is_err());
        assert!(Category::parse("has space").is_err());
    }

    #[test]
    fn ticket_number_is_found_in_reply_subjects() {
        assert_eq!(
            TicketNumber::find_in_subject("Re: [#1042] Broken zipper"),
            Some(TicketNumber(1042))
        );
        assert_eq!(TicketNumber::find_in_subject("Re: [#abc] x"), None);
        assert_eq!(TicketNumber::find_in_subject("no tag"), None);
    }

    #[test]
    fn tags_normalise_and_dedupe() {
        let tags = Tag::parse_list(&["Refund Request", "refund-request", "vip"]).unwrap();
        let names: Vec<_> = tags.iter().map(Tag::as_str).collect();
        assert_eq!(names, ["refund-request", "vip"]);
        assert!(Tag::parse("").is_err());
        assert!(Tag::parse("no/slash").is_err());
    }

    #[test]
    fn subject_and_body_reject_blank() {
        assert_eq!(Subject::parse(" \n ").unwrap_err().field, "subject");
        assert_eq!(Subject::parse("a\r\n b").unwrap_err().field, "subject");
        assert_eq!(Subject::parse("a\0b").unwrap_err().field, "subject");
        assert_eq!(Subject::parse("  a  b ").unwrap().as_str(), "a b");
        assert_eq!(Subject::from_mail("a\r\n\t b\0c").as_str(), "a b c");
        assert_eq!(Subject::from_mail("\0 ").as_str(), "(no subject)");
        assert_eq!(
            Subject::from_mail(&"é".repeat(300))
                .as_str()
                .chars()
                .count(),
            255
        );
        assert_eq!(Body::parse("\n\t").unwrap_err().field, "body");
        assert!(Body::parse(&"x".repeat(Body::MAX_BYTES + 1)).is_err());
    }

    #[test]
    fn preview_cuts_on_characters_not_bytes() {
        assert_eq!(preview("héllo wörld", 5), "héll…");
        assert_eq!(preview("a\n\nb", 10), "a b");
    }

    proptest! {
        #[test]
        fn status_moves_never_leave_closed(from in 0usize..6, to in 0usize..6) {
            let (f, t) = (TicketStatus::ALL[from], TicketStatus::ALL[to]);
            if f == TicketStatus::Closed && t != f {
                prop_assert!(!f.can_become(t));
            }
            if t == TicketStatus::New && f != t {
                prop_assert!(!f.can_become(t));
            }
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,300}") {
            let _ = Subject::parse(&s);
            prop_assert!(Subject::parse(Subject::from_mail(&s).as_str()).is_ok());
            let _ = Body::parse(&s);
            let _ = Tag::parse(&s);
            let _ = Category::parse(&s);
            let _ = TicketStatus::parse(&s);
            let _ = TicketNumber::find_in_subject(&s);
            let _ = preview(&s, 10);
        }
    }
}
