//! `--sentiment N`: how long reading a customer message's mood takes (issue 13's budget:
//! at most 0.2 ms a message), over Rapport's labelled support messages read `N` times
//! each, beside plain VADER. No database, no server.

use hdrhistogram::Histogram;
use rapport_domain::sentiment;

use crate::{Report, stopwatch};

const SETS: [&str; 2] = [
    include_str!("../../rapport-domain/tests/data/support_mood.txt"),
    include_str!("../../rapport-domain/tests/data/support_mood_holdout.txt"),
];

/// The texts of the labelled sets.
fn texts() -> Vec<&'static str> {
    SETS.iter()
        .flat_map(|s| s.lines())
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(" | ").map(|(_, t)| t))
        .collect()
}

/// Times `read` over every text, `rounds` times; nanoseconds.
fn time(
    texts: &[&str],
    rounds: usize,
    read: fn(&str) -> sentiment::Sentiment,
) -> anyhow::Result<Histogram<u64>> {
    let mut h = Histogram::<u64>::new(3)?;
    for t in texts {
        std::hint::black_box(read(t));
    }
    for _ in 0..rounds {
        for t in texts {
            let started = stopwatch();
            std::hint::black_box(read(std::hint::black_box(t)));
            h.record(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX))?;
        }
    }
    Ok(h)
}

fn us(h: &Histogram<u64>, q: f64) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "latencies in nanoseconds")]
    let v = h.value_at_quantile(q) as f64;
    v / 1000.0
}

/// Runs the measurement.
pub fn run(rounds: usize, report: &mut Report) -> anyhow::Result<()> {
    let texts = texts();
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    report.add(
        "sentiment texts",
        format!(
            "{} support messages, {} characters on average, each read {rounds} times",
            texts.len(),
            chars / texts.len().max(1)
        ),
    );
    let long = "I have been waiting for three weeks now and nobody answers my emails. ".repeat(20);
    for (name, read) in [
        (
            "Rapport (VADER + support lexicon)",
            sentiment::read as fn(&str) -> sentiment::Sentiment,
        ),
        ("plain VADER", sentiment::vader),
    ] {
        let h = time(&texts, rounds, read)?;
        report.add(
            &format!("sentiment, {name}"),
            format!(
                "p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs per message",
                us(&h, 0.5),
                us(&h, 0.99),
                us(&h, 1.0)
            ),
        );
        let h = time(&[long.as_str()], rounds.max(100), read)?;
        report.add(
            &format!("sentiment, {name}, a 1,400-character message"),
            format!("p50 {:.1} µs, p99 {:.1} µs", us(&h, 0.5), us(&h, 0.99)),
        );
    }
    Ok(())
}
