//! A generated knowledge base: articles in markdown (a lead, sections under headings, step
//! lists), in eight categories, most in English and some in German, written from the
//! category word lists of [`super::words`] and a made-up vocabulary of product, feature
//! and setting names large enough that the index holds a realistic number of distinct
//! terms (a real help center has thousands; a few hundred words would make every posting
//! list long and every query alike). Words are drawn with a Zipf-like skew, so some are
//! everywhere and most are rare, as in real text. Seeded: the same size gives the same
//! articles.
//!
//! Each article also keeps the words and adjacent word pairs it contains, from which the
//! benchmark makes queries that must find something.

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::phrasing::{
    CODAS, DE_HEADINGS, DE_SENTENCES, DE_TITLES, EN_HEADINGS, EN_SENTENCES, EN_TITLES, NUCLEI,
    ONSETS,
};
use super::words::{CATEGORIES, CategorySpec, Words};

/// Who may read a generated article, and whether it is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    /// Published, public: what the measured pages and searches show.
    Public,
    /// A draft (public once published).
    Draft,
    /// Published for agents only.
    Internal,
    /// Published for signed-in customers only.
    Customers,
}

impl Kind {
    /// `(status, visibility)` as the API spells them.
    pub fn api(self) -> (&'static str, &'static str) {
        match self {
            Kind::Public => ("published", "public"),
            Kind::Draft => ("draft", "public"),
            Kind::Internal => ("published", "internal"),
            Kind::Customers => ("published", "customers"),
        }
    }
}

/// One generated article.
#[derive(Debug, Clone)]
pub struct GenArticle {
    /// Its category's slug.
    pub category: &'static str,
    /// The section of the category.
    pub section: &'static str,
    /// Tags.
    pub tags: Vec<String>,
    /// `en` or `de`.
    pub locale: &'static str,
    /// The title.
    pub title: String,
    /// The markdown.
    pub body: String,
    /// Status and visibility.
    pub kind: Kind,
    /// Words of four letters or more it contains (slot words, not glue).
    pub words: Vec<String>,
    /// Two such words standing next to each other in its text.
    pub pairs: Vec<String>,
}

/// The generator.
pub struct Corpus {
    rng: StdRng,
    /// Made-up terms: settings, features.
    terms: Vec<String>,
    /// Made-up product names.
    products: Vec<String>,
}

/// One made-up word of two or three syllables.
fn made_up(rng: &mut StdRng) -> String {
    let n = rng.gen_range(2..=3);
    let mut w = String::new();
    for _ in 0..n {
        w.push_str(ONSETS.choose(rng).copied().unwrap_or("b"));
        w.push_str(NUCLEI.choose(rng).copied().unwrap_or("a"));
        w.push_str(CODAS.choose(rng).copied().unwrap_or(""));
    }
    w
}

/// An item of `items` with a Zipf-like skew: rank `k` (from 1) is drawn with probability
/// about `1 / (k ln n)`, so the first items are common and the tail is rare.
fn skewed<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    #[expect(clippy::cast_precision_loss, reason = "a few thousand items")]
    let n = items.len() as f64;
    let r: f64 = rng.r#gen();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a rank between 1 and n"
    )]
    let k = n.powf(r).floor() as usize;
    &items[k.saturating_sub(1).min(items.len() - 1)]
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// Glue words of four letters or more that search ignores (stop words): never a query
/// word of its own.
const GLUE: &[&str] = &[
    "from", "with", "that", "this", "your", "when", "then", "they", "have", "what", "which",
    "while", "other", "more", "most", "only", "same", "some", "into", "over", "under", "once",
    "both", "each", "very", "just", "been", "there", "here", "those", "about", "than", "also",
    "after", "before", "does", "should", "would", "could", "help", "want", "need", "thing",
];

/// Words of `text` a query can use: four letters or more, no glue.
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .filter(|w| !GLUE.contains(&w.as_str()))
}

impl Corpus {
    /// A generator whose made-up vocabulary holds `terms` words.
    pub fn new(seed: u64, terms: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut seen = HashSet::new();
        let mut list = Vec::with_capacity(terms);
        while list.len() < terms {
            let w = made_up(&mut rng);
            if w.len() >= 4 && seen.insert(w.clone()) {
                list.push(w);
            }
        }
        let suffixes = ["", "", " Pro", " Mini", " 2", " Max", " Go", " Plus"];
        let mut products = Vec::new();
        while products.len() < 400 {
            let w = made_up(&mut rng);
            if w.len() >= 4 && seen.insert(w.clone()) {
                let s = suffixes.choose(&mut rng).copied().unwrap_or("");
                products.push(format!("{}{s}", capital(&w)));
            }
        }
        Self {
            rng,
            terms: list,
            products,
        }
    }

    /// Every word the generator may write, lower-cased (to check a query is not one).
    pub fn vocabulary(&self) -> HashSet<String> {
        let mut v: HashSet<String> = self.terms.iter().cloned().collect();
        for p in &self.products {
            v.extend(tokens(p));
        }
        for k in CATEGORIES {
            for w in [&k.en, &k.de] {
                for list in [w.nouns, w.verbs, w.adjectives] {
                    for x in list {
                        v.extend(tokens(x));
                    }
                }
            }
        }
        v
    }

    /// The next article.
    pub fn article(&mut self, kind: Kind, german: bool) -> GenArticle {
        let k: &'static CategorySpec = &CATEGORIES[self.rng.gen_range(0..CATEGORIES.len())];
        let (words, sentences, titles, headings, locale) = if german {
            (&k.de, DE_SENTENCES, DE_TITLES, DE_HEADINGS, "de")
        } else {
            (&k.en, EN_SENTENCES, EN_TITLES, EN_HEADINGS, "en")
        };
        // What this article is about: a product and a few made-up terms it keeps using.
        let product = skewed(&mut self.rng, &self.products).clone();
        let own: Vec<String> = (0..3)
            .map(|_| skewed(&mut self.rng, &self.terms).clone())
            .collect();
        let mut fill = Filler {
            rng: &mut self.rng,
            words,
            product: &product,
            own: &own,
            terms: &self.terms,
            slots: Vec::new(),
        };
        let t = fill.pick(titles);
        let title = fill.fill(t);
        let mut body = String::new();
        body.push_str(&fill.paragraph(sentences, 2, 4));
        let sections = fill.rng.gen_range(3..=6);
        for s in 0..sections {
            let h = fill.pick(headings);
            let heading = fill.fill(h);
            body.push_str(&format!("\n\n## {heading}\n\n"));
            if s == 1 {
                for step in 1..=fill.rng.gen_range(3..=6) {
                    let t = fill.pick(sentences);
                    let line = fill.fill(t);
                    body.push_str(&format!("{step}. {line}\n"));
                }
            } else {
                let paragraphs = fill.rng.gen_range(1..=3);
                for p in 0..paragraphs {
                    if p > 0 {
                        body.push_str("\n\n");
                    }
                    body.push_str(&fill.paragraph(sentences, 2, 5));
                }
            }
        }
        let slots = std::mem::take(&mut fill.slots);
        let mut tags: Vec<String> = k
            .tags
            .choose_multiple(&mut self.rng, 2)
            .map(|t| (*t).to_owned())
            .collect();
        tags.push(product.to_lowercase().replace(' ', "-"));
        let section = k.sections.choose(&mut self.rng).copied().unwrap_or("");
        let (words, pairs) = query_words(&title, &body, &slots);
        GenArticle {
            category: k.slug,
            section,
            tags,
            locale,
            title,
            body,
            kind,
            words,
            pairs,
        }
    }
}

/// The words and adjacent pairs of an article a query may use: only slot words (glue
/// words may be stop words, which search rightly ignores).
fn query_words(title: &str, body: &str, slots: &[String]) -> (Vec<String>, Vec<String>) {
    let allowed: HashSet<String> = slots.iter().flat_map(|s| tokens(s)).collect();
    let mut words: Vec<String> = Vec::new();
    let mut pairs: Vec<String> = Vec::new();
    for text in [title, body] {
        // Pairs only inside a run of words with nothing but a space between them.
        for run in text.split(|c: char| !(c.is_alphanumeric() || c == ' ' || c == '-')) {
            let ws: Vec<&str> = run.split(' ').filter(|w| !w.is_empty()).collect();
            for w in &ws {
                let l = w.to_lowercase();
                if allowed.contains(&l) && !words.contains(&l) {
                    words.push(l);
                }
            }
            for pair in ws.windows(2) {
                let (a, b) = (pair[0].to_lowercase(), pair[1].to_lowercase());
                if allowed.contains(&a) && allowed.contains(&b) && a != b {
                    let p = format!("{a} {b}");
                    if !pairs.contains(&p) {
                        pairs.push(p);
                    }
                }
            }
        }
    }
    (words, pairs)
}

/// Fills templates for one article.
struct Filler<'a> {
    rng: &'a mut StdRng,
    words: &'a Words,
    product: &'a str,
    own: &'a [String],
    terms: &'a [String],
    /// Everything put in a slot so far.
    slots: Vec<String>,
}

impl Filler<'_> {
    fn pick(&mut self, templates: &[&'static str]) -> &'static str {
        templates.choose(self.rng).copied().unwrap_or("{N}")
    }

    fn paragraph(&mut self, sentences: &[&'static str], min: usize, max: usize) -> String {
        let n = self.rng.gen_range(min..=max);
        (0..n)
            .map(|_| {
                let t = self.pick(sentences);
                self.fill(t)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn term(&mut self) -> String {
        // Mostly the article's own terms; sometimes any other.
        if self.rng.gen_bool(0.7) {
            self.own.choose(self.rng).cloned().unwrap_or_default()
        } else {
            skewed(self.rng, self.terms).clone()
        }
    }

    fn fill(&mut self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 40);
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            let slot = &rest[start + 1..start + end];
            let w = &self.words;
            let value = match slot {
                "n" | "n2" => skewed(self.rng, w.nouns).to_string(),
                "N" => capital(skewed::<&str>(self.rng, w.nouns)),
                "v" => skewed(self.rng, w.verbs).to_string(),
                "V" => capital(skewed::<&str>(self.rng, w.verbs)),
                "a" | "a2" => skewed(self.rng, w.adjectives).to_string(),
                "p" => self.product.to_owned(),
                "r" | "r2" => self.term(),
                "num" => self.rng.gen_range(2..=90).to_string(),
                "code" => format!("E-{}", self.rng.gen_range(1000..=9999)),
                other => other.to_owned(),
            };
            if !matches!(slot, "num" | "code") {
                self.slots.push(value.clone());
            }
            out.push_str(&value);
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn articles_have_sections_words_and_a_large_vocabulary() {
        let mut c = Corpus::new(7, 3_000);
        assert!(c.vocabulary().len() > 3_000);
        let a = c.article(Kind::Public, false);
        assert_eq!(a.locale, "en");
        assert!(a.body.matches("\n## ").count() >= 3, "{}", a.body);
        assert!(!a.words.is_empty() && !a.pairs.is_empty());
        for w in &a.words {
            assert!(a.body.to_lowercase().contains(w) || a.title.to_lowercase().contains(w));
        }
        for p in &a.pairs {
            assert!(
                a.body.to_lowercase().contains(p) || a.title.to_lowercase().contains(p),
                "{p}"
            );
        }
        let d = c.article(Kind::Draft, true);
        assert_eq!(d.locale, "de");
        assert_eq!(d.kind.api(), ("draft", "public"));
    }

    #[test]
    fn made_up_words_avoid_the_letters_of_no_hit_queries() {
        let c = Corpus::new(1, 2_000);
        for w in c.vocabulary() {
            if c.terms.contains(&w) {
                assert!(!w.contains(['q', 'x', 'z', 'j']), "{w}");
            }
        }
    }
}
