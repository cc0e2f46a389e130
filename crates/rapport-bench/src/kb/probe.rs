//! Requests with what their answers must hold, run by concurrent clients, and their
//! latencies (measured at the client: HTTP both ways and the whole body read).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::bail;
use hdrhistogram::Histogram;

use crate::{ms, stopwatch};

/// What an answer must hold (every answer must be a 200).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Nothing more.
    Ok,
    /// JSON search hits, at least one: the query's words are in a public article.
    Hits,
    /// JSON search hits for a misspelling: counted.
    Typo,
    /// JSON search hits for words no article holds: counted when any.
    NoHits,
    /// The help center's results page with results.
    Results,
    /// The results page for a misspelling: counted.
    TypoPage,
    /// The results page for words no article holds: counted when it shows any.
    NoResults,
}

impl Expect {
    /// The same expectation of the HTML results page.
    pub fn html(self) -> Self {
        match self {
            Expect::Hits => Expect::Results,
            Expect::Typo => Expect::TypoPage,
            Expect::NoHits => Expect::NoResults,
            other => other,
        }
    }
}

/// One request.
#[derive(Debug, Clone)]
pub struct Probe {
    path: String,
    expect: Expect,
}

impl Probe {
    /// A GET of `path` (with its query string).
    pub fn new(path: String, expect: Expect) -> Self {
        Self { path, expect }
    }

    /// A GET of `path` that must answer 200.
    pub fn ok(path: String) -> Self {
        Self::new(path, Expect::Ok)
    }
}

/// Latencies of a run, and what the answers held.
pub struct Outcome {
    /// Microseconds.
    pub hist: Histogram<u64>,
    /// Requests per second over the run.
    pub rate: f64,
    /// Misspellings asked, and how many found something.
    pub typos: (usize, usize),
    /// Queries meant to find nothing, and how many found something all the same.
    pub absent: (usize, usize),
}

impl Outcome {
    /// One line for the report.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.0} req/s ({} requests)",
            ms(&self.hist, 0.5),
            ms(&self.hist, 0.95),
            ms(&self.hist, 0.99),
            ms(&self.hist, 1.0),
            self.rate,
            self.hist.len()
        );
        if self.typos.0 > 0 {
            s.push_str(&format!(
                "; misspellings found something {}/{}",
                self.typos.1, self.typos.0
            ));
        }
        if self.absent.0 > 0 {
            s.push_str(&format!(
                "; no-answer queries that found something {}/{}",
                self.absent.1, self.absent.0
            ));
        }
        s
    }
}

#[derive(Default)]
struct Counts {
    typos: AtomicUsize,
    typos_found: AtomicUsize,
    absent: AtomicUsize,
    absent_found: AtomicUsize,
}

/// Runs every probe once, `clients` at a time (client `c` takes probes `c`, `c + clients`,
/// …), after a warm-up of the first twenty (not measured).
pub async fn run_probes(
    http: &reqwest::Client,
    base: &str,
    probes: Vec<Probe>,
    clients: usize,
) -> anyhow::Result<Outcome> {
    let counts = Arc::new(Counts::default());
    for p in probes.iter().take(20) {
        check(http, base, p, &Counts::default()).await?;
    }
    let probes = Arc::new(probes);
    let clients = clients.max(1);
    let started = stopwatch();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, probes, counts) = (
            http.clone(),
            base.to_owned(),
            Arc::clone(&probes),
            Arc::clone(&counts),
        );
        tasks.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new(3)?;
            for p in probes.iter().skip(c).step_by(clients) {
                let micros = check(&http, &base, p, &counts).await?;
                h.record(micros)?;
            }
            Ok::<_, anyhow::Error>(h)
        }));
    }
    let mut hist = Histogram::<u64>::new(3)?;
    for t in tasks {
        hist.add(t.await??)?;
    }
    let secs = started.elapsed().as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    let rate = probes.len() as f64 / secs;
    let get = |a: &AtomicUsize| a.load(Ordering::Relaxed);
    Ok(Outcome {
        hist,
        rate,
        typos: (get(&counts.typos), get(&counts.typos_found)),
        absent: (get(&counts.absent), get(&counts.absent_found)),
    })
}

/// One request: its latency in microseconds, once its answer is checked.
async fn check(
    http: &reqwest::Client,
    base: &str,
    p: &Probe,
    counts: &Counts,
) -> anyhow::Result<u64> {
    let t = stopwatch();
    let r = http.get(format!("{base}{}", p.path)).send().await?;
    let status = r.status();
    let body = r.bytes().await?;
    let micros = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
    if status.as_u16() != 200 {
        bail!("GET {} answered {status}", p.path);
    }
    let hits = || -> anyhow::Result<usize> {
        let v: serde_json::Value = serde_json::from_slice(&body)?;
        Ok(v["hits"].as_array().map_or(0, Vec::len))
    };
    let needle = b"class=\"results\"".as_slice();
    let results = || body.windows(needle.len()).any(|w| w == needle);
    let tally = |asked: &AtomicUsize, found: &AtomicUsize, any: bool| {
        asked.fetch_add(1, Ordering::Relaxed);
        if any {
            found.fetch_add(1, Ordering::Relaxed);
        }
    };
    match p.expect {
        Expect::Ok => {}
        Expect::Hits => {
            if hits()? == 0 {
                bail!(
                    "GET {} found nothing, but its words are in a public article",
                    p.path
                );
            }
        }
        Expect::Results => {
            if !results() {
                bail!(
                    "GET {} showed no results, but its words are in a public article",
                    p.path
                );
            }
        }
        Expect::Typo => tally(&counts.typos, &counts.typos_found, hits()? > 0),
        Expect::TypoPage => tally(&counts.typos, &counts.typos_found, results()),
        Expect::NoHits => tally(&counts.absent, &counts.absent_found, hits()? > 0),
        Expect::NoResults => tally(&counts.absent, &counts.absent_found, results()),
    }
    Ok(micros)
}
