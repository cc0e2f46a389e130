//! The demo knowledge base as the binary carries it: the article files under
//! `crates/rapport-demo/kb/articles` (embedded by `build.rs`), the judged queries the
//! search is measured with, the default synonym groups and the community seed threads.
//! Everything here is parsed and checked by the domain's rules before it is written.

use rapport_domain::Tag;
use rapport_domain::kb::{ArticleBody, ArticleStatus, ArticleTitle, Locale, Slug, Visibility};
use serde::Deserialize;

include!(concat!(env!("OUT_DIR"), "/kb_articles.rs"));

const JUDGED: &str = include_str!("../../kb/judged.json");
const SYNONYMS: &str = include_str!("../../kb/synonyms.txt");
const COMMUNITY: &str = include_str!("../../kb/community.json");

/// The knowledge-base categories of the demo: (slug, name, description). The slugs are
/// the demo's ticket categories, so an article and the tickets it answers share one.
pub const CATEGORIES: &[(&str, &str, &str)] = &[
    (
        "technical",
        "Technical help",
        "Signing in, the app, connecting and updating your devices.",
    ),
    (
        "billing",
        "Billing and payments",
        "Payments, refunds, invoices, VAT and Northwind Plus.",
    ),
    (
        "product-guidance",
        "Using the product",
        "Choosing, setting up and caring for your products, and your account.",
    ),
    (
        "order-management",
        "Orders, shipping and returns",
        "Tracking, delivery, returns, exchanges and problems with an order.",
    ),
];

/// One text of an article in one language.
#[derive(Debug, Clone)]
pub struct DemoText {
    /// Its language.
    pub locale: Locale,
    /// Its title.
    pub title: ArticleTitle,
    /// Its markdown.
    pub body: ArticleBody,
}

/// One demo article with every language it is written in.
#[derive(Debug, Clone)]
pub struct DemoArticle {
    /// Its URL name.
    pub slug: Slug,
    /// One of [`CATEGORIES`]' slugs.
    pub category: String,
    /// The section within the category.
    pub section: String,
    /// Its tags.
    pub tags: Vec<Tag>,
    /// Who may read it.
    pub visibility: Visibility,
    /// Draft or published.
    pub status: ArticleStatus,
    /// The text in the default language (English).
    pub text: DemoText,
    /// The other languages.
    pub translations: Vec<DemoText>,
}

/// A demo file that breaks the rules: which file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFile {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for BadFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "demo knowledge base file {}: {}",
            self.file, self.problem
        )
    }
}

impl std::error::Error for BadFile {}

fn bad(file: &str, problem: impl Into<String>) -> BadFile {
    BadFile {
        file: file.to_owned(),
        problem: problem.into(),
    }
}

/// A file's front matter (TOML between `+++` lines) and its markdown body.
struct Parsed {
    front: toml_edit::DocumentMut,
    body: String,
}

fn split(file: &str, text: &str) -> Result<Parsed, BadFile> {
    let rest = text
        .strip_prefix("+++\n")
        .ok_or_else(|| bad(file, "must start with a +++ line"))?;
    let end = rest
        .find("\n+++\n")
        .ok_or_else(|| bad(file, "front matter has no closing +++ line"))?;
    let front = rest[..end]
        .parse::<toml_edit::DocumentMut>()
        .map_err(|e| bad(file, format!("front matter: {e}")))?;
    Ok(Parsed {
        front,
        body: rest[end + 5..].trim().to_owned(),
    })
}

fn text_field<'a>(file: &str, p: &'a Parsed, key: &str) -> Result<&'a str, BadFile> {
    p.front
        .get(key)
        .and_then(toml_edit::Item::as_str)
        .ok_or_else(|| bad(file, format!("front matter needs `{key}` (a string)")))
}

fn demo_text(file: &str, p: &Parsed) -> Result<DemoText, BadFile> {
    fn field<T>(file: &str, r: Result<T, rapport_domain::FieldError>) -> Result<T, BadFile> {
        r.map_err(|e| bad(file, e.to_string()))
    }
    Ok(DemoText {
        locale: field(file, Locale::parse(text_field(file, p, "locale")?))?,
        title: field(file, ArticleTitle::parse(text_field(file, p, "title")?))?,
        body: field(file, ArticleBody::parse(&p.body))?,
    })
}

/// Every demo article, translations attached to their article, in file-name order.
///
/// # Errors
/// The first file that breaks a rule (front matter, slug, category, a translation with
/// no English article…) — a test keeps the shipped files free of them.
pub fn articles() -> Result<Vec<DemoArticle>, BadFile> {
    let mut out: Vec<DemoArticle> = Vec::new();
    let mut translations = Vec::new();
    for (file, text) in KB_ARTICLE_FILES {
        let p = split(file, text)?;
        let slug =
            Slug::parse(text_field(file, &p, "slug")?).map_err(|e| bad(file, e.to_string()))?;
        let stem = file.trim_end_matches(".md");
        let (name, lang) = stem.split_once('.').unwrap_or((stem, ""));
        if name != slug.as_str() {
            return Err(bad(file, "the file name must be the slug"));
        }
        let t = demo_text(file, &p)?;
        if !lang.is_empty() {
            if lang != t.locale.as_str() {
                return Err(bad(file, "the file name's language must be its locale"));
            }
            translations.push((file, slug, t));
            continue;
        }
        let category = text_field(file, &p, "category")?;
        if !CATEGORIES.iter().any(|(c, _, _)| *c == category) {
            return Err(bad(file, format!("unknown category {category:?}")));
        }
        let tags = match p.front.get("tags") {
            None => Vec::new(),
            Some(item) => item
                .as_array()
                .ok_or_else(|| bad(file, "`tags` must be a list of strings"))?
                .iter()
                .map(|v| {
                    let t = v
                        .as_str()
                        .ok_or_else(|| bad(file, "`tags` must be a list of strings"))?;
                    Tag::parse(t).map_err(|e| bad(file, e.to_string()))
                })
                .collect::<Result<_, _>>()?,
        };
        out.push(DemoArticle {
            slug,
            category: category.to_owned(),
            section: text_field(file, &p, "section")?.to_owned(),
            tags,
            visibility: Visibility::parse(text_field(file, &p, "visibility")?)
                .map_err(|e| bad(file, e.to_string()))?,
            status: ArticleStatus::parse(text_field(file, &p, "status")?)
                .map_err(|e| bad(file, e.to_string()))?,
            text: t,
            translations: Vec::new(),
        });
    }
    for (file, slug, t) in translations {
        let article = out
            .iter_mut()
            .find(|a| a.slug == slug)
            .ok_or_else(|| bad(file, "a translation of an article that is not there"))?;
        if article.text.locale == t.locale
            || article.translations.iter().any(|x| x.locale == t.locale)
        {
            return Err(bad(file, "a second text in the same language"));
        }
        article.translations.push(t);
    }
    Ok(out)
}

/// What the judged set calls a query.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JudgedKind {
    /// The article's own words.
    Exact,
    /// A typo.
    Misspelling,
    /// Another word for the same thing.
    Synonym,
    /// A customer's sentence.
    Question,
    /// A quoted phrase.
    Phrase,
    /// In German.
    German,
    /// Nothing in the knowledge base answers it.
    NoAnswer,
}

/// One judged query: what was asked and the article a good agent would link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgedQuery {
    /// The query as typed.
    pub q: String,
    /// The right articles' slugs, best first; any of them counts. Empty: nothing answers
    /// it, and a confident hit is wrong.
    pub expect: Vec<String>,
    /// What sort of query it is.
    pub kind: JudgedKind,
    /// The language the asker reads, when not English.
    #[serde(default)]
    pub locale: Option<String>,
}

/// The judged set the search is measured with, read by the benchmark and the tests; every
/// expected article is public and published, so it is evaluated as an anonymous visitor.
///
/// # Errors
/// When `kb/judged.json` is not a list of judged queries (a test keeps it one).
pub fn judged() -> Result<Vec<JudgedQuery>, serde_json::Error> {
    serde_json::from_str(JUDGED)
}

/// The demo's default synonym groups: one group per line, terms comma-separated.
pub fn synonym_groups() -> Vec<Vec<String>> {
    SYNONYMS
        .lines()
        .map(|l| {
            l.split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|g| g.len() > 1)
        .collect()
}

/// Who wrote a seed post: a customer (name and address) or one of the demo's agents.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SeedAuthor {
    /// A demo agent, by address.
    Agent {
        /// The agent's address (one of the demo's agents).
        agent: String,
    },
    /// A customer.
    Customer {
        /// Display name.
        name: String,
        /// Address.
        email: String,
    },
}

/// An answer in a seed thread.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAnswer {
    /// Who answered.
    pub author: SeedAuthor,
    /// Markdown.
    pub body: String,
    /// Hours after the question.
    pub hours_after: u32,
    /// How many customers voted for it.
    pub votes: u32,
    /// The accepted answer of its topic.
    pub accepted: bool,
}

/// A seed community topic: a customer's question and its answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTopic {
    /// The asker.
    pub author: SeedAuthor,
    /// Days before the demo's "now" it was asked.
    pub days_ago: u32,
    /// The question's title.
    pub title: String,
    /// The question, markdown.
    pub body: String,
    /// Answers, oldest first.
    pub answers: Vec<SeedAnswer>,
}

/// The community seed threads.
///
/// # Errors
/// When `kb/community.json` is not a list of topics (a test keeps it one).
pub fn community_topics() -> Result<Vec<SeedTopic>, serde_json::Error> {
    serde_json::from_str(COMMUNITY)
}
