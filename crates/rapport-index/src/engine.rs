//! The generic engine: passages in a tantivy index held in memory, searched with the
//! forgiving queries of [`crate::query`], grouped by what they belong to (an article, a
//! forum topic), and each hit marked confident or not.
//!
//! A [`Passage`] is one searchable piece — a section of an article under its heading, or
//! a topic's question — with the `key` of what it belongs to, its language, and the
//! `audience` allowed to see it (a query names the audiences its reader belongs to, and
//! nothing else is ever returned). The knowledge base ([`crate::kb::KbIndex`]) and the
//! community's topic index are both an `Engine`.
//!
//! **Confidence.** BM25 scores are not comparable between queries, so whether the best hit
//! really answers is judged by **coverage**: the share of the query's concepts the hit's
//! text satisfies, each concept weighted by its rarity (IDF; a word the index has never
//! seen weighs the most). A hit is confident when its coverage reaches
//! [`CONFIDENT_COVERAGE`] (calibrated on the judged set in `crates/rapport-demo/kb`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use rapport_domain::kb::Locale;
use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::IndexError;
use crate::analyzer::{Lang, analyzer, terms};
use crate::query::{Concept, LangConcept, LangFields, Parsed, TermSet, build};
use crate::synonyms::Synonyms;

/// The coverage from which a hit is confident (see the module's documentation).
pub const CONFIDENT_COVERAGE: f32 = 0.75;

/// The longest snippet, in characters.
pub const SNIPPET_CHARS: usize = 180;

/// One searchable piece of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage {
    /// What it belongs to (an article's or a topic's id); search groups by it.
    pub key: i64,
    /// The owner's name for that (an article's slug).
    pub label: String,
    /// Where a reader finds this passage (`/help/articles/slug#anchor`).
    pub link: String,
    /// The language of its text.
    pub locale: Locale,
    /// Who may see it (an article's visibility, `public` for a visible topic).
    pub audience: String,
    /// The title of what it belongs to.
    pub title: String,
    /// The heading it stands under (empty for the lead).
    pub heading: String,
    /// The heading's anchor (empty for the lead).
    pub anchor: String,
    /// Its text, plain.
    pub text: String,
    /// Tags of what it belongs to.
    pub tags: Vec<String>,
}

/// What to look for, and for whom.
#[derive(Debug, Clone)]
pub struct SearchQuery<'a> {
    /// As typed.
    pub text: &'a str,
    /// The audiences the reader belongs to; passages of others are never returned.
    pub audiences: &'a [&'a str],
    /// The reader's language: a hit's passage is taken in it when there is one.
    pub locale: Option<&'a Locale>,
    /// At most this many hits.
    pub limit: usize,
    /// As-you-type: the last word also matches the terms it begins.
    pub suggest: bool,
}

/// One hit: the best passage of what matched (or, from [`Engine::passages`], one passage).
#[derive(Debug, Clone)]
pub struct Hit {
    /// The passage.
    pub passage: Arc<Passage>,
    /// BM25 relevance (higher is better; comparable within one query only).
    pub score: f32,
    /// The share of the query's concepts it satisfies, weighted by rarity (0–1).
    pub coverage: f32,
    /// Whether this hit answers the query ([`CONFIDENT_COVERAGE`]).
    pub confident: bool,
    /// A plain-text excerpt around the words found.
    pub snippet: String,
    /// The same excerpt, HTML-escaped, the words found in `<mark>`.
    pub snippet_html: String,
}

/// A passage in the index, with its analysed terms (as [`Terms`] ids, sorted), so judging
/// a hit's coverage and marking its snippet need no analysis at search time.
struct Entry {
    passage: Arc<Passage>,
    /// The terms of its heading and text.
    own: Box<[u32]>,
    /// The terms of its title and tags.
    meta: Box<[u32]>,
}

/// Every analysed term the index has held, each stored once and named by a number.
#[derive(Default)]
struct Terms {
    ids: HashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl Terms {
    fn intern(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.ids.get(term) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(term.into());
        self.ids.insert(term.into(), id);
        id
    }

    /// The sorted, distinct ids of `terms`.
    fn interned(&mut self, terms: impl IntoIterator<Item = String>) -> Box<[u32]> {
        let mut ids: Vec<u32> = terms.into_iter().map(|t| self.intern(&t)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_boxed_slice()
    }

    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }
}

/// Some interned terms, as a query's concepts ask about them.
struct Held<'a> {
    ids: &'a HashSet<u32>,
    terms: &'a Terms,
}

impl TermSet for Held<'_> {
    fn contains(&self, term: &str) -> bool {
        self.terms
            .ids
            .get(term)
            .is_some_and(|id| self.ids.contains(id))
    }

    fn any(&self, f: &mut dyn FnMut(&str) -> bool) -> bool {
        self.ids.iter().any(|&id| f(self.terms.name(id)))
    }
}

#[derive(Default)]
struct State {
    passages: HashMap<u64, Entry>,
    by_key: HashMap<i64, Vec<u64>>,
    next_pid: u64,
    langs: BTreeSet<Lang>,
    terms: Terms,
}

struct Inner {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    key: Field,
    pid: Field,
    audience: Field,
    locale: Field,
    fields: [LangFields; 8],
    analyzers: [TextAnalyzer; 8],
    state: RwLock<State>,
    synonyms: RwLock<Arc<Synonyms>>,
    /// Commits made (each one writes a segment: the costly part of indexing).
    commits: std::sync::atomic::AtomicU64,
}

/// An in-memory passage index. Cheap to clone (shared); safe to search from many threads
/// while one writes.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("passages", &self.len())
            .finish_non_exhaustive()
    }
}

/// The heap tantivy's writer may use before it flushes a segment.
const WRITER_HEAP: usize = 40_000_000;

impl Engine {
    /// An empty index.
    pub fn new() -> Result<Self, IndexError> {
        let mut sb = Schema::builder();
        let key = sb.add_i64_field("key", INDEXED | FAST);
        let pid = sb.add_u64_field("pid", FAST);
        let audience = sb.add_text_field("audience", STRING);
        let locale = sb.add_text_field("locale", STRING);
        let fields = Lang::ALL.map(|l| {
            let opts = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(&l.tokenizer_name())
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            );
            LangFields {
                title: sb.add_text_field(&format!("title_{}", l.code()), opts.clone()),
                tags: sb.add_text_field(&format!("tags_{}", l.code()), opts.clone()),
                heading: sb.add_text_field(&format!("heading_{}", l.code()), opts.clone()),
                text: sb.add_text_field(&format!("text_{}", l.code()), opts),
            }
        });
        let index = Index::create_in_ram(sb.build());
        for l in Lang::ALL {
            index
                .tokenizers()
                .register(&l.tokenizer_name(), analyzer(l));
        }
        let writer = index.writer_with_num_threads(1, WRITER_HEAP)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            inner: Arc::new(Inner {
                reader,
                writer: Mutex::new(writer),
                key,
                pid,
                audience,
                locale,
                fields,
                analyzers: Lang::ALL.map(analyzer),
                state: RwLock::new(State::default()),
                synonyms: RwLock::new(Arc::new(Synonyms::default())),
                commits: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    /// How many passages the index holds.
    pub fn len(&self) -> usize {
        self.inner
            .state
            .read()
            .map(|s| s.passages.len())
            .unwrap_or(0)
    }

    /// Whether the index holds no passage.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many commits the index has made since it was created.
    pub fn commits(&self) -> u64 {
        self.inner
            .commits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many distinct keys (articles, topics) the index holds.
    pub fn keys(&self) -> usize {
        self.inner.state.read().map(|s| s.by_key.len()).unwrap_or(0)
    }

    /// Uses these synonym groups from the next query on.
    pub fn set_synonyms(&self, synonyms: Synonyms) {
        if let Ok(mut s) = self.inner.synonyms.write() {
            *s = Arc::new(synonyms);
        }
    }

    /// Replaces every passage of each key named in `keys` by `passages` (which may hold
    /// several keys, or none: a key with no passages left is removed), in one commit.
    /// Searches see the old passages until the new ones are all there.
    pub fn replace(&self, keys: &[i64], passages: Vec<Passage>) -> Result<(), IndexError> {
        let inner = &self.inner;
        let mut writer = inner.writer.lock().map_err(|_| IndexError::Poisoned)?;
        for k in keys {
            writer.delete_term(Term::from_field_i64(inner.key, *k));
        }
        // Each passage's terms, analysed once here rather than at every search.
        let analysed: Vec<(Passage, Vec<String>, Vec<String>)> = passages
            .into_iter()
            .map(|p| {
                let mut an = inner.analyzers[Lang::of(&p.locale).index()].clone();
                let mut of = |text: &str| terms(&mut an, text).into_iter().map(|(_, t)| t);
                let own: Vec<String> = of(&p.heading).chain(of(&p.text)).collect();
                let meta: Vec<String> = of(&p.title).chain(of(&p.tags.join(" "))).collect();
                (p, own, meta)
            })
            .collect();
        let mut added: Vec<(u64, Entry)> = Vec::with_capacity(analysed.len());
        {
            let mut st = inner.state.write().map_err(|_| IndexError::Poisoned)?;
            for (p, own, meta) in analysed {
                let pid = st.next_pid;
                st.next_pid += 1;
                let lang = Lang::of(&p.locale);
                st.langs.insert(lang);
                let f = inner.fields[lang.index()];
                let mut d = TantivyDocument::default();
                d.add_i64(inner.key, p.key);
                d.add_u64(inner.pid, pid);
                d.add_text(inner.audience, &p.audience);
                d.add_text(inner.locale, p.locale.as_str());
                d.add_text(f.title, &p.title);
                d.add_text(f.tags, p.tags.join(" "));
                d.add_text(f.heading, &p.heading);
                d.add_text(f.text, &p.text);
                writer.add_document(d)?;
                let entry = Entry {
                    own: st.terms.interned(own),
                    meta: st.terms.interned(meta),
                    passage: Arc::new(p),
                };
                added.push((pid, entry));
            }
        }
        writer.commit()?;
        inner
            .commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut old = Vec::new();
        {
            let mut st = inner.state.write().map_err(|_| IndexError::Poisoned)?;
            for k in keys {
                old.extend(st.by_key.remove(k).unwrap_or_default());
            }
            for (pid, e) in added {
                st.by_key.entry(e.passage.key).or_default().push(pid);
                st.passages.insert(pid, e);
            }
        }
        inner.reader.reload()?;
        if let Ok(mut st) = inner.state.write() {
            for pid in old {
                st.passages.remove(&pid);
            }
        }
        Ok(())
    }

    /// Removes every passage of `key`.
    pub fn remove(&self, key: i64) -> Result<(), IndexError> {
        self.replace(&[key], Vec::new())
    }

    /// The best passage of each matching key, best first.
    pub fn search(&self, q: &SearchQuery<'_>) -> Vec<Hit> {
        self.run(q, true)
    }

    /// The best passages, several per key allowed, best first (what an assistant quotes).
    pub fn passages(&self, q: &SearchQuery<'_>) -> Vec<Hit> {
        self.run(q, false)
    }

    fn run(&self, q: &SearchQuery<'_>, group: bool) -> Vec<Hit> {
        if q.limit == 0 || q.audiences.is_empty() {
            return Vec::new();
        }
        let inner = &self.inner;
        let synonyms = inner
            .synonyms
            .read()
            .map(|s| Arc::clone(&s))
            .unwrap_or_default();
        let langs: Vec<Lang> = inner
            .state
            .read()
            .map(|s| s.langs.iter().copied().collect())
            .unwrap_or_default();
        if langs.is_empty() {
            return Vec::new();
        }
        let primary = q.locale.map_or(Lang::En, Lang::of);
        let parsed = Parsed::parse(q.text, &synonyms, primary, q.suggest);
        let searcher = inner.reader.searcher();
        let n = searcher.num_docs() as f32;
        let doc_freq = |l: Lang, t: &str| -> u64 {
            let f = inner.fields[l.index()];
            [f.title, f.text, f.heading, f.tags]
                .iter()
                .map(|field| {
                    searcher
                        .doc_freq(&Term::from_field_text(*field, t))
                        .unwrap_or(0)
                })
                .max()
                .unwrap_or(0)
        };
        // Each concept in each language, and its weight.
        let mut concepts: Vec<(Concept, Vec<(Lang, LangConcept)>)> = Vec::new();
        let mut weights: Vec<f32> = Vec::new();
        for c in parsed.concepts {
            let mut per_lang = Vec::new();
            let mut df: u64 = 0;
            for &l in &langs {
                let mut an = inner.analyzers[l.index()].clone();
                if let Some(lc) = c.in_lang(&mut an, &mut |t| doc_freq(l, t)) {
                    for (alt, _) in &lc.alts {
                        let alt_df = alt.iter().map(|(_, t)| doc_freq(l, t)).min().unwrap_or(0);
                        df = df.max(alt_df);
                    }
                    per_lang.push((l, lc));
                }
            }
            if per_lang.is_empty() {
                continue;
            }
            let df = df as f32;
            weights.push((1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.05));
            concepts.push((c, per_lang));
        }
        let fields = |l: Lang| inner.fields[l.index()];
        let Some(query) = build(&concepts, &fields) else {
            return Vec::new();
        };
        let audience: Vec<(Occur, Box<dyn Query>)> = q
            .audiences
            .iter()
            .map(|a| {
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(inner.audience, a),
                        IndexRecordOption::Basic,
                    )) as Box<dyn Query>,
                )
            })
            .collect();
        let full = BooleanQuery::new(vec![
            (Occur::Must, query),
            (Occur::Must, Box::new(BooleanQuery::new(audience))),
        ]);
        let wanted = if group {
            (q.limit * 10).clamp(100, 2000)
        } else {
            q.limit
        };
        let top = match searcher.search(&full, &TopDocs::with_limit(wanted)) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "search failed");
                return Vec::new();
            }
        };
        let mut columns: HashMap<u32, Option<Column<u64>>> = HashMap::new();
        let mut pid_of = |addr: DocAddress| -> Option<u64> {
            columns
                .entry(addr.segment_ord)
                .or_insert_with(|| {
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .u64("pid")
                        .ok()
                })
                .as_ref()?
                .first(addr.doc_id)
        };
        let st = match inner.state.read() {
            Ok(s) => s,
            Err(_) => return Vec::new(),
        };
        // (score, passage): the best per key, preferring the reader's language.
        let mut picked: Vec<(f32, &Entry)> = Vec::new();
        let mut slot: HashMap<i64, usize> = HashMap::new();
        for (score, addr) in top {
            let Some(e) = pid_of(addr).and_then(|pid| st.passages.get(&pid)) else {
                continue;
            };
            if !group {
                picked.push((score, e));
                continue;
            }
            let p = &e.passage;
            match slot.get(&p.key) {
                None => {
                    slot.insert(p.key, picked.len());
                    picked.push((score, e));
                }
                Some(&i) => {
                    let prefer = q
                        .locale
                        .is_some_and(|l| &p.locale == l && &picked[i].1.passage.locale != l);
                    if prefer {
                        picked[i].1 = e;
                    }
                }
            }
        }
        picked.truncate(q.limit);
        picked
            .into_iter()
            .map(|(score, e)| {
                let context: Vec<&Entry> = if group {
                    st.by_key
                        .get(&e.passage.key)
                        .into_iter()
                        .flatten()
                        .filter_map(|pid| st.passages.get(pid))
                        .filter(|o| o.passage.locale == e.passage.locale)
                        .collect()
                } else {
                    vec![e]
                };
                self.hit(&st.terms, e, score, &context, &concepts, &weights)
            })
            .collect()
    }

    fn hit(
        &self,
        all: &Terms,
        e: &Entry,
        score: f32,
        context: &[&Entry],
        concepts: &[(Concept, Vec<(Lang, LangConcept)>)],
        weights: &[f32],
    ) -> Hit {
        let p = Arc::clone(&e.passage);
        let lang = Lang::of(&p.locale);
        let an = self.inner.analyzers[lang.index()].clone();
        // What the whole article (in this language) holds, and what this passage holds.
        let mut held_ids: HashSet<u32> = e.meta.iter().copied().collect();
        for c in context {
            held_ids.extend(c.own.iter().copied());
        }
        let own_ids: HashSet<u32> = e.own.iter().copied().collect();
        let held = Held {
            ids: &held_ids,
            terms: all,
        };
        let own = Held {
            ids: &own_ids,
            terms: all,
        };
        let (mut got, mut total) = (0.0f32, 0.0f32);
        let mut marks: BTreeMap<String, f32> = BTreeMap::new();
        for ((_, per_lang), w) in concepts.iter().zip(weights) {
            let Some((_, lc)) = per_lang.iter().find(|(l, _)| *l == lang) else {
                continue;
            };
            total += w;
            got += w * lc.satisfied_by(&held);
            for t in lc.highlights(&own) {
                marks.insert(t, 1.0);
            }
        }
        let coverage = if total > 0.0 { got / total } else { 0.0 };
        let body = if p.text.is_empty() {
            &p.heading
        } else {
            &p.text
        };
        let (snippet, snippet_html) =
            snippet(body, marks, an, self.inner.fields[lang.index()].text);
        Hit {
            confident: coverage >= CONFIDENT_COVERAGE,
            passage: p,
            score,
            coverage,
            snippet,
            snippet_html,
        }
    }
}

/// An excerpt of `text` around the terms in `marks`, plain and as escaped HTML with the
/// terms in `<mark>`; the beginning of the text when nothing is marked.
fn snippet(
    text: &str,
    marks: BTreeMap<String, f32>,
    an: TextAnalyzer,
    field: Field,
) -> (String, String) {
    let generated = SnippetGenerator::new(marks, an, field, SNIPPET_CHARS).snippet(text);
    let fragment = generated.fragment();
    if fragment.is_empty() {
        let cut: String = text.chars().take(SNIPPET_CHARS).collect();
        let cut = if cut.len() < text.len() {
            format!("{}…", cut.trim_end())
        } else {
            cut
        };
        let html = escape(&cut);
        return (cut, html);
    }
    let mut html = String::with_capacity(fragment.len() + 32);
    let mut at = 0;
    for r in generated.highlighted() {
        let (s, e) = (r.start.min(fragment.len()), r.end.min(fragment.len()));
        if s < at || !fragment.is_char_boundary(s) || !fragment.is_char_boundary(e) {
            continue;
        }
        html.push_str(&escape(&fragment[at..s]));
        html.push_str("<mark>");
        html.push_str(&escape(&fragment[s..e]));
        html.push_str("</mark>");
        at = e;
    }
    html.push_str(&escape(&fragment[at..]));
    (fragment.to_owned(), html)
}

/// Escapes text for HTML (element content and quoted attributes).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
