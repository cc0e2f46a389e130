//! The self-service run (`--kb-articles N`): fills the knowledge base through the real API
//! (`POST /api/v1/kb/categories`, `POST /api/v1/kb/articles`, German translations with
//! `PATCH`) with `N` published public articles and some drafts, internal and
//! customers-only ones, then measures with concurrent clients what the public reads: the
//! help center's pages, its search page, the search and suggestion API and the sitemap.
//!
//! Every answer must be a 200, and every query made of words taken from a public article
//! must find something (an empty answer is fast and measures nothing); queries meant to
//! find nothing and misspellings are counted and reported.

mod corpus;
mod phrasing;
mod probe;
mod words;

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Report, stopwatch};
use corpus::{Corpus, GenArticle, Kind};
use phrasing::ABSENT;
use probe::{Expect, Probe, run_probes};
use words::CATEGORIES;

/// What the self-service run is asked to do.
pub struct KbArgs {
    /// Published public articles to create.
    pub articles: usize,
    /// Concurrent clients, for creating and for measuring.
    pub clients: usize,
    /// Requests per measurement.
    pub reads: usize,
}

/// An article the API created.
#[derive(Serialize, Deserialize)]
struct Created {
    slug: String,
    kind: Kind,
    /// Has a German translation besides its English text.
    translated: bool,
    words: Vec<String>,
    pairs: Vec<String>,
}

/// The knowledge base the fill made.
#[derive(Serialize, Deserialize)]
pub struct Filled {
    articles: Vec<Created>,
    vocabulary: HashSet<String>,
}

impl Filled {
    /// Writes it to `path` (to measure again on the same database with `--reuse`).
    pub fn save(&self, path: &std::path::Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_vec(self)?)
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Reads what [`Filled::save`] wrote.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Self> {
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_slice(&raw)?)
    }
}

/// Creates the categories and the articles through the API; reports the rate.
pub async fn fill(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    args: &KbArgs,
    report: &mut Report,
) -> anyhow::Result<Filled> {
    for (i, k) in CATEGORIES.iter().enumerate() {
        let r = http
            .post(format!("{base}/api/v1/kb/categories"))
            .bearer_auth(token)
            .json(
                &json!({"slug": k.slug, "name": k.name, "description": k.description,
                          "position": i}),
            )
            .send()
            .await?;
        if r.status().as_u16() != 201 {
            bail!("creating category {}: {}", k.slug, r.status());
        }
    }
    let n = args.articles;
    let mut corpus = Corpus::new(10, 2_000 + n);
    let vocabulary = corpus.vocabulary();
    let mut rng = StdRng::seed_from_u64(11);
    let mut kinds: Vec<Kind> = std::iter::repeat_n(Kind::Public, n)
        .chain(std::iter::repeat_n(Kind::Draft, n / 20))
        .chain(std::iter::repeat_n(Kind::Internal, n / 20))
        .chain(std::iter::repeat_n(Kind::Customers, n / 50))
        .collect();
    kinds.shuffle(&mut rng);
    let generated: Vec<GenArticle> = kinds
        .into_iter()
        .map(|k| {
            let german = rng.gen_bool(0.1);
            corpus.article(k, german)
        })
        .collect();
    let words_written: usize = generated
        .iter()
        .map(|a| a.body.split_whitespace().count())
        .sum();
    let total = generated.len();
    let started = stopwatch();
    let bodies = Arc::new(generated);
    let (created, hist) = create_all(http, base, token, &bodies, args.clients).await?;
    let secs = started.elapsed().as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    let rate = total as f64 / secs;
    report.add(
        &format!(
            "kb: articles created over the API ({} clients)",
            args.clients
        ),
        format!(
            "{total} articles ({n} public, the rest drafts, internal, customers-only; \
             {words_written} words, {} distinct generated words) in {secs:.1} s \
             ({rate:.0}/s, p50 {:.2} ms, p99 {:.2} ms)",
            vocabulary.len(),
            crate::ms(&hist, 0.5),
            crate::ms(&hist, 0.99)
        ),
    );
    // German translations of one English public article in twenty.
    let mut articles: Vec<Created> = Vec::with_capacity(total);
    let mut translated = 0;
    for (g, (id, slug)) in bodies.iter().zip(created) {
        let mut c = Created {
            slug,
            kind: g.kind,
            translated: false,
            words: g.words.clone(),
            pairs: g.pairs.clone(),
        };
        if g.kind == Kind::Public && g.locale == "en" && rng.gen_bool(0.05) {
            let de = corpus.article(Kind::Public, true);
            let r = http
                .patch(format!("{base}/api/v1/kb/articles/{id}"))
                .bearer_auth(token)
                .json(&json!({"locale": "de", "title": de.title, "body": de.body}))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("adding a German translation: {}", r.status());
            }
            c.translated = true;
            c.words.extend(de.words);
            c.pairs.extend(de.pairs);
            translated += 1;
        }
        articles.push(c);
    }
    report.add("kb: German translations added", format!("{translated}"));
    Ok(Filled {
        articles,
        vocabulary,
    })
}

/// POSTs every article with `clients` concurrent clients; `(id, slug)` of each, in order.
async fn create_all(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    articles: &Arc<Vec<GenArticle>>,
    clients: usize,
) -> anyhow::Result<(Vec<(i64, String)>, hdrhistogram::Histogram<u64>)> {
    let clients = clients.max(1);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url, token) = (
            http.clone(),
            format!("{base}/api/v1/kb/articles"),
            token.to_owned(),
        );
        let articles = Arc::clone(articles);
        tasks.push(tokio::spawn(async move {
            let mut h = hdrhistogram::Histogram::<u64>::new(3)?;
            let mut out = Vec::new();
            for i in (c..articles.len()).step_by(clients) {
                let a = &articles[i];
                let (status, visibility) = a.kind.api();
                let body = json!({
                    "title": a.title, "body": a.body, "status": status,
                    "visibility": visibility, "category": a.category, "section": a.section,
                    "tags": a.tags, "locale": a.locale,
                });
                let t = stopwatch();
                let r = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                let code = r.status();
                let v: serde_json::Value = r.json().await?;
                h.record(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX))?;
                if code.as_u16() != 201 {
                    bail!("creating an article: {code} {v}");
                }
                let id = v["id"].as_i64().context("article id")?;
                let slug = v["slug"].as_str().context("article slug")?.to_owned();
                out.push((i, id, slug));
            }
            Ok::<_, anyhow::Error>((out, h))
        }));
    }
    let mut all = Vec::with_capacity(articles.len());
    let mut hist = hdrhistogram::Histogram::<u64>::new(3)?;
    for t in tasks {
        let (out, h) = t.await??;
        all.extend(out);
        hist.add(h)?;
    }
    all.sort_by_key(|(i, _, _)| *i);
    Ok((
        all.into_iter().map(|(_, id, slug)| (id, slug)).collect(),
        hist,
    ))
}

/// A query and what it must find.
fn query_mix(filled: &Filled, n: usize, rng: &mut StdRng) -> Vec<(String, Expect)> {
    let public: Vec<&Created> = filled
        .articles
        .iter()
        .filter(|a| a.kind == Kind::Public && !a.words.is_empty())
        .collect();
    let mut out = Vec::with_capacity(n);
    while out.len() < n && !public.is_empty() {
        let a = public[rng.gen_range(0..public.len())];
        let word = |rng: &mut StdRng| a.words[rng.gen_range(0..a.words.len())].clone();
        let roll = rng.gen_range(0..100);
        let q = match roll {
            30..60 if !a.pairs.is_empty() => {
                let p = a.pairs[rng.gen_range(0..a.pairs.len())].clone();
                if roll < 50 {
                    (p, Expect::Hits)
                } else {
                    (format!("\"{p}\""), Expect::Hits)
                }
            }
            // Single words, and the phrase share when the article has no pairs.
            0..60 => (word(rng), Expect::Hits),
            60..70 => {
                let ws: Vec<String> = (0..3).map(|_| word(rng)).collect();
                (ws.join(" "), Expect::Hits)
            }
            70..85 => match misspell(&word(rng), &filled.vocabulary, rng) {
                Some(t) => (t, Expect::Typo),
                None => continue,
            },
            _ => (absent(rng), Expect::NoHits),
        };
        out.push(q);
    }
    out
}

/// `w` with one letter dropped or two swapped, if that is no word of the vocabulary.
fn misspell(w: &str, vocabulary: &HashSet<String>, rng: &mut StdRng) -> Option<String> {
    let mut cs: Vec<char> = w.chars().collect();
    if cs.len() < 6 {
        return None;
    }
    let i = rng.gen_range(1..cs.len() - 2);
    if rng.gen_bool(0.5) {
        cs.remove(i);
    } else {
        cs.swap(i, i + 1);
    }
    let t: String = cs.into_iter().collect();
    (t != w && !vocabulary.contains(&t)).then_some(t)
}

/// A query no article answers: real words the generator never writes, or letters it
/// never uses.
fn absent(rng: &mut StdRng) -> String {
    if rng.gen_bool(0.5) {
        let mut ws: Vec<&str> = ABSENT.choose_multiple(rng, 2).copied().collect();
        ws.truncate(rng.gen_range(1..=2));
        ws.join(" ")
    } else {
        let len = rng.gen_range(6..=9);
        (0..len)
            .map(|_| ['q', 'x', 'z', 'j'][rng.gen_range(0..4)])
            .collect()
    }
}

fn encode(q: &str) -> String {
    let mut s = String::new();
    for b in q.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// The measurements.
pub async fn measure(
    http: &reqwest::Client,
    base: &str,
    args: &KbArgs,
    filled: &Filled,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(12);
    let reads = args.reads.max(20);
    let public: Vec<&Created> = filled
        .articles
        .iter()
        .filter(|a| a.kind == Kind::Public)
        .collect();
    if public.is_empty() {
        bail!("no public article to read");
    }
    // Nothing unpublished or non-public is reachable by the public (checked, not timed).
    for a in filled
        .articles
        .iter()
        .filter(|a| a.kind != Kind::Public)
        .take(30)
    {
        let r = http
            .get(format!("{base}/help/articles/{}", a.slug))
            .send()
            .await?;
        let status = r.status().as_u16();
        // A customers-only article asks the anonymous reader to sign in, showing nothing.
        let ok = match a.kind {
            Kind::Customers => status == 200 || status == 403 || status == 401,
            _ => status == 404,
        };
        if !ok {
            bail!(
                "{:?} article {} answered {status} to the public",
                a.kind,
                a.slug
            );
        }
    }
    let mut help = hdrhistogram::Histogram::<u64>::new(3)?;
    let mut run = async |name: &str, probes: Vec<Probe>, pages: bool| -> anyhow::Result<()> {
        let o = run_probes(http, base, probes, args.clients).await?;
        if pages {
            help.add(&o.hist)?;
        }
        report.add(name, o.summary());
        Ok(())
    };
    run(
        "help: home page /help",
        (0..reads).map(|_| Probe::ok("/help".into())).collect(),
        true,
    )
    .await?;
    run(
        "help: category pages /help/categories/{slug}",
        (0..reads)
            .map(|_| {
                let k = CATEGORIES.choose(&mut rng).map_or("account", |k| k.slug);
                Probe::ok(format!("/help/categories/{k}"))
            })
            .collect(),
        true,
    )
    .await?;
    run(
        "help: article pages /help/articles/{slug} (random)",
        (0..reads)
            .map(|_| {
                let a = public[rng.gen_range(0..public.len())];
                let lang = if a.translated && rng.gen_bool(0.5) {
                    "?lang=de"
                } else {
                    ""
                };
                Probe::ok(format!("/help/articles/{}{lang}", a.slug))
            })
            .collect(),
        true,
    )
    .await?;
    let queries = query_mix(filled, reads, &mut rng);
    run(
        "help: search page /help/search?q=",
        queries
            .iter()
            .map(|(q, e)| Probe::new(format!("/help/search?q={}", encode(q)), e.html()))
            .collect(),
        false,
    )
    .await?;
    let mut queries = queries;
    queries.shuffle(&mut rng);
    run(
        "kb search API /api/v1/kb/search?q=",
        queries
            .iter()
            .map(|(q, e)| Probe::new(format!("/api/v1/kb/search?q={}", encode(q)), *e))
            .collect(),
        false,
    )
    .await?;
    // As-you-type: every prefix of a query (two characters or more) in turn, the complete
    // one last; only the complete one must find something.
    let mut typing = Vec::new();
    for (q, e) in &queries {
        if typing.len() >= reads {
            break;
        }
        if *e != Expect::Hits || q.starts_with('"') {
            continue;
        }
        let ends: Vec<usize> = q
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .filter(|&i| i >= 2 && !q[..i].ends_with(' '))
            .collect();
        for &end in &ends {
            let expect = if end == q.len() {
                Expect::Hits
            } else {
                Expect::Ok
            };
            typing.push(Probe::new(
                format!("/api/v1/kb/suggest?q={}", encode(&q[..end])),
                expect,
            ));
        }
    }
    run(
        "kb suggestions while typing /api/v1/kb/suggest?q=<prefix>",
        typing,
        false,
    )
    .await?;
    report.add(
        "help pages together (home, category, article)",
        format!(
            "p95 {:.2} ms, p99 {:.2} ms",
            crate::ms(&help, 0.95),
            crate::ms(&help, 0.99)
        ),
    );
    let size = sitemap_size(http, base, filled).await?;
    let o = run_probes(
        http,
        base,
        (0..(reads / 20).max(10))
            .map(|_| Probe::ok("/sitemap.xml".into()))
            .collect(),
        args.clients,
    )
    .await?;
    report.add(&format!("sitemap.xml ({} KB)", size / 1024), o.summary());
    Ok(())
}

/// The sitemap's size; it must list public articles and no draft.
async fn sitemap_size(
    http: &reqwest::Client,
    base: &str,
    filled: &Filled,
) -> anyhow::Result<usize> {
    let r = http.get(format!("{base}/sitemap.xml")).send().await?;
    if !r.status().is_success() {
        bail!("sitemap: {}", r.status());
    }
    let xml = r.text().await?;
    for a in filled.articles.iter().take(200) {
        let listed = xml.contains(&format!("/help/articles/{}<", a.slug))
            || xml.contains(&format!("/help/articles/{}?", a.slug));
        if listed != (a.kind == Kind::Public) {
            bail!("sitemap: {:?} article {} listed: {listed}", a.kind, a.slug);
        }
    }
    Ok(xml.len())
}
