//! A customer's mood over their history: the average of their latest messages against
//! the ones before.

use serde::Serialize;

/// How many of the latest messages make "now".
pub const RECENT: usize = 5;

/// A change of average smaller than this is steady.
pub const STEADY: f64 = 0.15;

/// Which way a customer's mood is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Better than before.
    Improving,
    /// About the same.
    Steady,
    /// Worse than before.
    Worsening,
    /// Too few messages to say (fewer than [`RECENT`] + 1).
    Unknown,
}

impl Direction {
    /// As shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Improving => "improving",
            Self::Steady => "steady",
            Self::Worsening => "worsening",
            Self::Unknown => "unknown",
        }
    }
}

/// A trend over scores in time order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// Mean of all the scores (`None` without any).
    pub average: Option<f64>,
    /// Mean of the latest [`RECENT`].
    pub recent: Option<f64>,
    /// Mean of those before them.
    pub earlier: Option<f64>,
    /// Which way it goes.
    pub direction: Direction,
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| (xs.iter().sum::<f64>() / xs.len() as f64 * 1000.0).round() / 1000.0)
}

impl Trend {
    /// The trend of `scores`, oldest first.
    pub fn of(scores: &[f64]) -> Self {
        let split = scores.len().saturating_sub(RECENT);
        let (earlier, recent) = scores.split_at(split);
        let (e, r) = (mean(earlier), mean(recent));
        let direction = match (e, r) {
            (Some(e), Some(r)) if r - e >= STEADY => Direction::Improving,
            (Some(e), Some(r)) if e - r >= STEADY => Direction::Worsening,
            (Some(_), Some(_)) => Direction::Steady,
            _ => Direction::Unknown,
        };
        Self {
            average: mean(scores),
            recent: r,
            earlier: e,
            direction,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_messages_against_the_ones_before() {
        let worse = [0.5, 0.4, 0.6, -0.5, -0.6, -0.4, -0.7, -0.2];
        let t = Trend::of(&worse);
        assert_eq!(t.direction, Direction::Worsening);
        assert_eq!(t.earlier, Some(0.5));
        assert_eq!(t.recent, Some(-0.48));
        assert!((t.average.unwrap() + 0.1125).abs() < 0.001, "{t:?}");
        let better: Vec<f64> = worse.iter().rev().copied().collect();
        assert_eq!(Trend::of(&better).direction, Direction::Improving);
        assert_eq!(Trend::of(&[0.1; 8]).direction, Direction::Steady);
        let few = Trend::of(&[0.1, -0.9]);
        assert_eq!(few.direction, Direction::Unknown);
        assert_eq!(few.earlier, None);
        assert_eq!(Trend::of(&[]).average, None);
    }
}
