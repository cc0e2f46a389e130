//! A customer's mood on their profile: which way it is going, a line of their latest
//! messages' moods (SVG drawn here, numbers only) and the same as a table.

use rapport_domain::Zone;
use rapport_domain::sentiment::trend::{Direction, Trend};
use rapport_store::sentiment::Point;

use crate::render::{mood_marker, when};

/// One message's mood, as the table shows it.
pub struct MoodRow {
    /// Its ticket.
    pub ticket_id: i64,
    /// When it came (shown, ISO).
    pub at: (String, String),
    /// The marker (class, words).
    pub marker: (&'static str, String),
}

/// The mood section of a customer's profile.
pub struct MoodSection {
    /// "Getting worse: …" and the like.
    pub summary: String,
    /// The line, an inline SVG (no text from anyone in it).
    pub svg: String,
    /// The same as rows, oldest first.
    pub rows: Vec<MoodRow>,
}

/// Width and height of the line, in CSS pixels.
const W: f64 = 240.0;
const H: f64 = 48.0;

/// The section for a customer's latest messages (`None` without any).
pub fn section(points: &[Point], zone: &Zone) -> Option<MoodSection> {
    if points.is_empty() {
        return None;
    }
    let scores: Vec<f64> = points.iter().map(|p| p.sentiment.score).collect();
    let t = Trend::of(&scores);
    let avg = |x: Option<f64>| x.map_or("—".to_owned(), |v| format!("{v:.2}").replace('-', "−"));
    let summary = match t.direction {
        Direction::Unknown => format!(
            "Average mood {} over {} message{}",
            avg(t.average),
            points.len(),
            if points.len() == 1 { "" } else { "s" }
        ),
        d => format!(
            "{}: average of the latest five {} against {} before ({} messages)",
            match d {
                Direction::Improving => "Improving",
                Direction::Worsening => "Getting worse",
                _ => "Steady",
            },
            avg(t.recent),
            avg(t.earlier),
            points.len()
        ),
    };
    let step = if points.len() > 1 {
        W / (points.len() - 1) as f64
    } else {
        0.0
    };
    let y = |s: f64| (1.0 - s) / 2.0 * H;
    let line: Vec<String> = scores
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{:.1},{:.1}", i as f64 * step, y(*s)))
        .collect();
    let svg = format!(
        r#"<svg class="mood-line" viewBox="-4 -4 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{summary}"><line x1="0" y1="{mid:.1}" x2="{W}" y2="{mid:.1}" class="axis"/><polyline points="{pts}" fill="none"/></svg>"#,
        w = W + 8.0,
        h = H + 8.0,
        mid = y(0.0),
        pts = line.join(" "),
    );
    let rows = points
        .iter()
        .map(|p| MoodRow {
            ticket_id: p.ticket_id,
            at: when(p.at, zone),
            marker: mood_marker(&p.sentiment),
        })
        .collect();
    Some(MoodSection { summary, svg, rows })
}
