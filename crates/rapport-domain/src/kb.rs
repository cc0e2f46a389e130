//! The knowledge base's vocabulary: an article's status and visibility, its slug and
//! language, and the sections (passages under a heading) that search, the help center's
//! table of contents and the assistant bot all cut an article into the same way.

use std::fmt;

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag as MdTag, TagEnd};
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::principal::Principal;

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    /// Being written: agents only, never public, never in search for customers.
    Draft,
    /// Live for its audience.
    Published,
    /// Kept for history; reachable by agents only.
    Archived,
}

impl ArticleStatus {
    /// Every status.
    pub const ALL: &'static [Self] = &[Self::Draft, Self::Published, Self::Archived];

    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
            Self::Archived => "archived",
        }
    }

    /// Parses the spelling, naming the field `status` when it is not one.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| FieldError::new("status", "must be draft, published or archived"))
    }
}

/// Who may read a published article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone, without signing in; in the sitemap.
    Public,
    /// Signed-in customers (and agents): the seeds' customer-only content.
    Customers,
    /// Agents only.
    Internal,
}

impl Visibility {
    /// Every visibility, widest audience first.
    pub const ALL: &'static [Self] = &[Self::Public, Self::Customers, Self::Internal];

    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Customers => "customers",
            Self::Internal => "internal",
        }
    }

    /// Parses the spelling, naming the field `visibility` when it is not one.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| FieldError::new("visibility", "must be public, customers or internal"))
    }

    /// The visibilities `who` may read (of published articles): an anonymous visitor
    /// public ones, a signed-in customer also customer-only ones, an agent (or the
    /// system) all three.
    pub fn readable_by(who: Option<&Principal>) -> &'static [Visibility] {
        match who {
            None => &[Visibility::Public],
            Some(Principal::Customer(_)) => &[Visibility::Public, Visibility::Customers],
            Some(Principal::Agent(_) | Principal::System) => Visibility::ALL,
        }
    }
}

/// A language tag for an article's text: `en`, `de`, `pt-br` (lower case, a primary
/// language of 2–3 letters and an optional region or script).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Locale(String);

impl Locale {
    /// Parses a language tag, naming the field `locale` when it is not one.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = s.split('-');
        let lang = parts.next().unwrap_or_default();
        let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
        let rest_ok = parts
            .all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if lang_ok && rest_ok && s.len() <= 20 {
            Ok(Self(s))
        } else {
            Err(FieldError::new(
                "locale",
                "must be a language tag such as en, de or pt-br",
            ))
        }
    }

    /// English, the default language of a help desk that names none.
    pub fn english() -> Self {
        Self("en".into())
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language (`pt` of `pt-br`).
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// The best of `available` for an `Accept-Language` header: exact tags first, then
    /// the same primary language, in the header's order of preference (`q` weights);
    /// `None` when nothing matches.
    pub fn negotiate<'a>(accept_language: &str, available: &'a [Locale]) -> Option<&'a Locale> {
        let mut wanted: Vec<(f32, usize, Locale)> = accept_language
            .split(',')
            .take(20)
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let tag = bits.next()?.trim();
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                let locale = Locale::parse(tag).ok()?;
                (q > 0.0).then_some((q, i, locale))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        wanted.iter().find_map(|(_, _, w)| {
            available
                .iter()
                .find(|a| *a == w)
                .or_else(|| available.iter().find(|a| a.language() == w.language()))
        })
    }
}

impl TryFrom<String> for Locale {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<Locale> for String {
    fn from(l: Locale) -> String {
        l.0
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The URL name of an article or category: lower-case ASCII letters, digits and single
/// dashes, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// The longest slug.
    pub const MAX: usize = 100;

    /// Checks a slug someone typed, naming the field `slug` when it is not one.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && s.len() <= Self::MAX
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                "slug",
                "must be 1 to 100 lower-case letters, digits and single dashes",
            ))
        }
    }

    /// A slug made from a title: letters folded to ASCII where they have an obvious
    /// spelling (`ä` → `a`, `ß` → `ss`), everything else a dash; `article` when nothing
    /// is left.
    pub fn from_title(title: &str) -> Self {
        let mut s = String::with_capacity(title.len());
        for c in title.chars().flat_map(char::to_lowercase) {
            let folded: &str = match c {
                'a'..='z' | '0'..='9' => {
                    s.push(c);
                    continue;
                }
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
                'æ' => "ae",
                'ç' => "c",
                'è' | 'é' | 'ê' | 'ë' => "e",
                'ì' | 'í' | 'î' | 'ï' => "i",
                'ñ' => "n",
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
                'œ' => "oe",
                'ù' | 'ú' | 'û' | 'ü' => "u",
                'ý' | 'ÿ' => "y",
                'ß' => "ss",
                _ => "-",
            };
            s.push_str(folded);
        }
        let mut out = String::with_capacity(s.len());
        for part in s.split('-').filter(|p| !p.is_empty()) {
            if out.len() + part.len() + 1 > Self::MAX {
                break;
            }
            if !out.is_empty() {
                out.push('-');
            }
            out.push_str(part);
        }
        if out.is_empty() {
            out.push_str("article");
        }
        Self(out)
    }

    /// This slug with `-n` on the end (for the n-th article that wanted the same one),
    /// still within [`Slug::MAX`].
    #[must_use]
    pub fn numbered(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let keep = Self::MAX.saturating_sub(suffix.len()).min(self.0.len());
        Self(format!("{}{suffix}", self.0[..keep].trim_end_matches('-')))
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, FieldError> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An article's title: 1–200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleTitle(String);

impl ArticleTitle {
    /// Parses a title, naming the field `title`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() || s.chars().count() > 200 {
            return Err(FieldError::new("title", "must be 1 to 200 characters"));
        }
        if crate::text::has_control(s) {
            return Err(FieldError::new(
                "title",
                "must not contain control characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An article's markdown: at most 256 KiB, no NUL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleBody(String);

impl ArticleBody {
    /// The largest body, in bytes.
    pub const MAX_BYTES: usize = 256 * 1024;

    /// Parses a body, naming the field `body`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.len() > Self::MAX_BYTES {
            return Err(FieldError::new("body", "is longer than 256 KiB"));
        }
        if raw.contains('\0') {
            return Err(FieldError::new("body", "must not contain NUL characters"));
        }
        Ok(Self(raw.trim_end().to_owned()))
    }

    /// The markdown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One passage of an article: the text under one heading (the text before the first
/// heading is the passage with no heading and an empty anchor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// The heading's id in the rendered page (`#anchor`), unique within the article;
    /// empty for the lead passage before any heading.
    pub anchor: String,
    /// The heading's text; empty for the lead passage.
    pub heading: String,
    /// 1–6 for a heading, 0 for the lead passage.
    pub level: u8,
    /// The passage as plain text (markup removed, paragraphs on their own lines).
    pub text: String,
}

/// The anchor for a heading's text: its slug (`How do I reset my password?` →
/// `how-do-i-reset-my-password`); `section` when nothing is left.
pub fn heading_anchor(heading: &str) -> String {
    let s = Slug::from_title(heading);
    if s.as_str() == "article" && !heading.to_ascii_lowercase().contains("article") {
        "section".into()
    } else {
        s.0
    }
}

/// The markdown dialect of articles (tables and strikethrough on top of CommonMark): the
/// help center renders with these options and [`sections`] cuts with them, so a heading
/// is a heading to both.
pub fn markdown_options() -> pulldown_cmark::Options {
    pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
}

/// Cuts markdown into its passages, in order, each heading's anchor made unique the way
/// the help center renders it (a repeated heading gets `-2`, `-3`, …). Search indexes
/// these passages, the help center's table of contents lists the headings, and the bot
/// cites `url#anchor` — all from this one function.
pub fn sections(markdown: &str) -> Vec<Section> {
    let mut out = vec![Section {
        anchor: String::new(),
        heading: String::new(),
        level: 0,
        text: String::new(),
    }];
    let mut seen: Vec<String> = Vec::new();
    let mut in_heading: Option<u8> = None;
    let mut heading = String::new();
    for ev in Parser::new_ext(markdown, markdown_options()) {
        match ev {
            Event::Start(MdTag::Heading { level, .. }) => {
                in_heading = Some(level_number(level));
                heading.clear();
            }
            Event::End(TagEnd::Heading(_)) => {
                let level = in_heading.take().unwrap_or(1);
                let text = heading.split_whitespace().collect::<Vec<_>>().join(" ");
                let base = heading_anchor(&text);
                let mut anchor = base.clone();
                let mut n = 1;
                while seen.contains(&anchor) {
                    n += 1;
                    anchor = format!("{base}-{n}");
                }
                seen.push(anchor.clone());
                out.push(Section {
                    anchor,
                    heading: text,
                    level,
                    text: String::new(),
                });
            }
            Event::Text(t) | Event::Code(t) => {
                if in_heading.is_some() {
                    heading.push_str(&t);
                } else if let Some(s) = out.last_mut() {
                    s.text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if in_heading.is_some() {
                    heading.push(' ');
                } else if let Some(s) = out.last_mut() {
                    s.text.push(' ');
                }
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableHead
                | TagEnd::TableRow,
            ) => {
                if let Some(s) = out.last_mut()
                    && !s.text.ends_with('\n')
                    && !s.text.is_empty()
                {
                    let kept = s.text.trim_end_matches(' ').len();
                    s.text.truncate(kept);
                    s.text.push('\n');
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(s) = out.last_mut() {
                    s.text.push(' ');
                }
            }
            _ => {}
        }
    }
    for s in &mut out {
        s.text = s.text.trim().to_owned();
    }
    if out.first().is_some_and(|lead| lead.text.is_empty()) && out.len() > 1 {
        out.remove(0);
    }
    out
}

fn level_number(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_titles() {
        assert_eq!(
            Slug::from_title("How do I reset my password?").as_str(),
            "how-do-i-reset-my-password"
        );
        assert_eq!(
            Slug::from_title("Rückgabe & Umtausch").as_str(),
            "ruckgabe-umtausch"
        );
        assert_eq!(Slug::from_title("Straße").as_str(), "strasse");
        assert_eq!(Slug::from_title("???").as_str(), "article");
        assert!(Slug::from_title(&"word ".repeat(100)).as_str().len() <= Slug::MAX);
        let long = Slug::from_title(&"x".repeat(150));
        assert!(long.as_str().len() <= Slug::MAX);
        assert!(long.numbered(12).as_str().len() <= Slug::MAX);
        assert!(long.numbered(12).as_str().ends_with("-12"));
        assert!(Slug::parse(long.numbered(12).as_str()).is_ok());
        assert!(Slug::parse("Bad Slug").is_err());
        assert!(Slug::parse("a--b").is_err());
        assert!(Slug::parse("-a").is_err());
    }

    #[test]
    fn locales_parse_and_negotiate() {
        let avail = [Locale::english(), Locale::parse("de").unwrap()];
        assert_eq!(
            Locale::negotiate("de-CH, de;q=0.9, en;q=0.8", &avail).map(Locale::as_str),
            Some("de")
        );
        assert_eq!(
            Locale::negotiate("fr, en;q=0.5", &avail).map(Locale::as_str),
            Some("en")
        );
        assert_eq!(
            Locale::negotiate("en;q=0.1, de", &avail).map(Locale::as_str),
            Some("de")
        );
        assert_eq!(Locale::negotiate("fr", &avail), None);
        assert_eq!(Locale::negotiate("", &avail), None);
        assert!(Locale::parse("pt_BR").is_ok_and(|l| l.as_str() == "pt-br"));
        assert!(Locale::parse("english").is_err());
        assert!(Locale::parse("../x").is_err());
    }

    #[test]
    fn sections_follow_headings() {
        let md = "Lead text.\n\n## Reset your password\n\nOpen **Settings**.\n\n- one\n- two\n\n## Reset your password\n\nAgain.\n\n### `Code` heading\n\ntext";
        let s = sections(md);
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].anchor, "");
        assert_eq!(s[0].text, "Lead text.");
        assert_eq!(s[1].anchor, "reset-your-password");
        assert_eq!(s[1].level, 2);
        assert_eq!(s[1].text, "Open Settings.\none\ntwo");
        assert_eq!(s[2].anchor, "reset-your-password-2");
        assert_eq!(s[3].heading, "Code heading");
        assert_eq!(s[3].anchor, "code-heading");
        let no_lead = sections("# Title\n\nBody");
        assert_eq!(no_lead.len(), 1);
        assert_eq!(no_lead[0].heading, "Title");
        assert_eq!(sections("").len(), 1);
        let table = sections(
            "## Prices\n\n| plan | cost |\n|---|---|\n| basic | 5 |\n\n## Next\n\n~~old~~ new",
        );
        assert_eq!(table.len(), 2);
        assert_eq!(table[0].text, "plan cost\nbasic 5", "tables read as text");
        assert_eq!(table[1].text, "old new");
    }

    #[test]
    fn who_reads_what() {
        assert_eq!(Visibility::readable_by(None), &[Visibility::Public]);
        assert!(
            Visibility::readable_by(Some(&Principal::Customer(1))).contains(&Visibility::Customers)
        );
        assert!(
            !Visibility::readable_by(Some(&Principal::Customer(1))).contains(&Visibility::Internal)
        );
    }
}
