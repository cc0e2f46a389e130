//! How well the sentiment reader does (issue 13): three-class accuracy on Rapport's own
//! labelled support messages (`tests/data/support_mood.txt`) and on VADER's human-rated
//! Amazon review snippets, fetched at test time from the `vaderSentiment` source package
//! on PyPI (not kept in this repository), beside plain VADER's accuracy on the same sets.
//! The figures are printed (`--nocapture`) for docs/BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::path::PathBuf;
use std::process::Command;

use rapport_domain::sentiment::{self, Label, Sentiment};

/// Rapport's labelled support messages: (label, text).
fn support_set() -> Vec<(Label, String)> {
    labelled(include_str!("data/support_mood.txt"))
}

/// The held-out messages, written after the lexicon and never used to change it.
fn holdout_set() -> Vec<(Label, String)> {
    labelled(include_str!("data/support_mood_holdout.txt"))
}

fn labelled(raw: &str) -> Vec<(Label, String)> {
    raw.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (label, text) = l.split_once(" | ").expect("label | text");
            (Label::parse(label).expect("a label"), text.to_owned())
        })
        .collect()
}

/// Where the review snippets are kept between runs.
fn cache() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/vader-data")
}

/// VADER's Amazon review snippets with their mean human rating (−4…4), from the
/// `vaderSentiment==3.3.2` source package: downloaded with pip and unpacked with tar when
/// not cached yet.
fn review_set() -> Vec<(f64, String)> {
    let dir = cache();
    let file = dir.join("hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt");
    if !file.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
            ])
            .args(["vaderSentiment==3.3.2", "-d"])
            .arg(&dir)
            .status()
            .expect("python3 runs");
        assert!(ok.success(), "pip download of vaderSentiment failed");
        let sdist = dir.join("vaderSentiment-3.3.2.tar.gz");
        let ok = Command::new("tar")
            .arg("xzf")
            .arg(&sdist)
            .arg("-C")
            .arg(&dir)
            .arg("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz")
            .status()
            .unwrap();
        assert!(ok.success());
        let ok = Command::new("tar")
            .arg("xzf")
            .arg(dir.join("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"))
            .arg("-C")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(ok.success() && file.exists());
    }
    let raw = std::fs::read(&file).unwrap();
    // The file is Latin-1 with CRLF line ends.
    let text: String = raw.iter().map(|&b| b as char).collect();
    text.lines()
        .filter_map(|l| {
            let mut parts = l.trim_end_matches('\r').splitn(3, '\t');
            let _id = parts.next()?;
            let mean: f64 = parts.next()?.parse().ok()?;
            Some((mean, parts.next()?.to_owned()))
        })
        .collect()
}

/// A review's class from its mean rating on VADER's −4…4 scale: within ±0.5 neutral.
fn rated(mean: f64) -> Label {
    if mean > 0.5 {
        Label::Positive
    } else if mean < -0.5 {
        Label::Negative
    } else {
        Label::Neutral
    }
}

fn accuracy(set: &[(Label, String)], read: fn(&str) -> Sentiment) -> f64 {
    let right = set.iter().filter(|(l, t)| read(t).label == *l).count();
    right as f64 / set.len() as f64
}

#[test]
fn the_support_lexicon_beats_plain_vader_on_support_messages() {
    let set = support_set();
    assert!(set.len() >= 150, "{} messages", set.len());
    for label in [Label::Negative, Label::Neutral, Label::Positive] {
        assert!(set.iter().filter(|(l, _)| *l == label).count() >= 30);
    }
    let ours = accuracy(&set, sentiment::read);
    let plain = accuracy(&set, sentiment::vader);
    println!(
        "support messages ({}): Rapport {:.1}%, plain VADER {:.1}%",
        set.len(),
        ours * 100.0,
        plain * 100.0
    );
    assert!(ours >= plain + 0.15, "ours {ours:.3}, VADER {plain:.3}");
    // Negative messages are the ones that matter most: few are missed.
    let negatives: Vec<_> = set.iter().filter(|(l, _)| *l == Label::Negative).collect();
    let caught = negatives
        .iter()
        .filter(|(_, t)| sentiment::read(t).label == Label::Negative)
        .count();
    println!(
        "negative support messages caught: {caught} of {}",
        negatives.len()
    );
    assert!(caught * 10 >= negatives.len() * 8);
}

#[test]
fn the_support_lexicon_beats_plain_vader_on_messages_it_was_not_written_against() {
    let set = holdout_set();
    assert!(set.len() >= 60, "{} messages", set.len());
    let ours = accuracy(&set, sentiment::read);
    let plain = accuracy(&set, sentiment::vader);
    println!(
        "held-out support messages ({}): Rapport {:.1}%, plain VADER {:.1}%",
        set.len(),
        ours * 100.0,
        plain * 100.0
    );
    assert!(ours > plain, "ours {ours:.3}, VADER {plain:.3}");
}

#[test]
fn the_support_lexicon_keeps_vaders_accuracy_on_its_own_review_set() {
    let set: Vec<(Label, String)> = review_set()
        .into_iter()
        .map(|(mean, text)| (rated(mean), text))
        .collect();
    assert!(set.len() > 3_000, "{} snippets", set.len());
    let ours = accuracy(&set, sentiment::read);
    let plain = accuracy(&set, sentiment::vader);
    println!(
        "VADER's Amazon review snippets ({}): Rapport {:.1}%, plain VADER {:.1}%",
        set.len(),
        ours * 100.0,
        plain * 100.0
    );
    // Plain VADER's own figure on its own data, as the Python package computes it.
    assert!((0.55..0.65).contains(&plain), "{plain}");
    assert!(ours >= plain - 0.01, "ours {ours:.3}, VADER {plain:.3}");
}
