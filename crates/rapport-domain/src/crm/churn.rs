//! The churn-risk signal on a customer's card: recent low ratings, negative mood,
//! repeated contacts and lapsed orders, each a reason given in words ("3 contacts in 7
//! days, last CSAT 2, no order in 90 days") so the agent knows why, not just how much.

use serde::Serialize;

/// What the signal reads, gathered by the store for one customer at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChurnSignals {
    /// Tickets they opened in the last 7 days.
    pub contacts_7d: u32,
    /// Their latest CSAT answer (1–5) in the last 90 days.
    pub last_csat: Option<i64>,
    /// Their latest NPS answer (0–10) in the last 180 days.
    pub last_nps: Option<i64>,
    /// Their latest CES answer (1–7, 7 easiest) in the last 90 days.
    pub last_ces: Option<i64>,
    /// Their messages of the last 30 days, and how many of them read as negative.
    pub messages_30d: u32,
    /// Of those, the negative ones.
    pub negative_30d: u32,
    /// Orders they ever placed.
    pub orders: u32,
    /// Days since their latest order, when they have one.
    pub days_since_order: Option<i64>,
}

/// How likely they are to leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Nothing points to it.
    Low,
    /// A sign or two: worth a kind word.
    Medium,
    /// Several signs: worth a call.
    High,
}

/// The signal: a level, the points it sums, and each reason in words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChurnRisk {
    /// The level.
    pub level: RiskLevel,
    /// The sum of the reasons' weights (0 is no sign at all).
    pub score: u32,
    /// Each reason, in words, heaviest first.
    pub reasons: Vec<String>,
}

/// Orders older than this are "lapsed".
pub const LAPSED_DAYS: i64 = 90;

impl ChurnSignals {
    /// Weighs the signals.
    pub fn risk(&self) -> ChurnRisk {
        let mut reasons: Vec<(u32, String)> = Vec::new();
        if self.contacts_7d >= 2 {
            let w = if self.contacts_7d >= 3 { 2 } else { 1 };
            reasons.push((w, format!("{} contacts in 7 days", self.contacts_7d)));
        }
        if let Some(c) = self.last_csat.filter(|c| *c <= 3) {
            reasons.push((if c <= 2 { 2 } else { 1 }, format!("last CSAT {c}")));
        }
        if let Some(n) = self.last_nps.filter(|n| *n <= 6) {
            reasons.push((2, format!("last NPS {n} (a detractor)")));
        }
        if let Some(e) = self.last_ces.filter(|e| *e <= 3) {
            reasons.push((1, format!("last effort score {e} of 7")));
        }
        if self.messages_30d > 0 && self.negative_30d > 0 {
            let share = f64::from(self.negative_30d) / f64::from(self.messages_30d);
            if share >= 0.5 {
                let w = if self.negative_30d >= 3 { 2 } else { 1 };
                reasons.push((
                    w,
                    format!(
                        "{} of {} messages in 30 days upset",
                        self.negative_30d, self.messages_30d
                    ),
                ));
            }
        }
        if self.orders > 0
            && let Some(d) = self.days_since_order.filter(|d| *d >= LAPSED_DAYS)
        {
            let w = if d >= 2 * LAPSED_DAYS { 2 } else { 1 };
            let shown = if d >= 2 * LAPSED_DAYS {
                2 * LAPSED_DAYS
            } else {
                LAPSED_DAYS
            };
            reasons.push((w, format!("no order in {shown} days")));
        }
        // Heaviest first; equal weights keep the order above.
        reasons.sort_by_key(|r| std::cmp::Reverse(r.0));
        let score = reasons.iter().map(|r| r.0).sum();
        let level = match score {
            0..=1 => RiskLevel::Low,
            2..=3 => RiskLevel::Medium,
            _ => RiskLevel::High,
        };
        ChurnRisk {
            level,
            score,
            reasons: reasons.into_iter().map(|r| r.1).collect(),
        }
    }
}

impl ChurnRisk {
    /// The reasons as one sentence ("no sign of leaving" when there is none).
    pub fn explained(&self) -> String {
        if self.reasons.is_empty() {
            "no sign of leaving".to_owned()
        } else {
            self.reasons.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example_is_high_and_explained() {
        let s = ChurnSignals {
            contacts_7d: 3,
            last_csat: Some(2),
            orders: 4,
            days_since_order: Some(95),
            ..ChurnSignals::default()
        };
        let r = s.risk();
        assert_eq!(r.level, RiskLevel::High);
        assert_eq!(r.score, 5);
        assert_eq!(
            r.explained(),
            "3 contacts in 7 days, last CSAT 2, no order in 90 days"
        );
    }

    #[test]
    fn a_content_customer_is_low() {
        let s = ChurnSignals {
            contacts_7d: 1,
            last_csat: Some(5),
            last_nps: Some(9),
            last_ces: Some(6),
            messages_30d: 4,
            negative_30d: 1,
            orders: 2,
            days_since_order: Some(10),
        };
        let r = s.risk();
        assert_eq!(r.level, RiskLevel::Low);
        assert_eq!(r.explained(), "no sign of leaving");
    }

    #[test]
    fn each_sign_counts_and_levels_rise() {
        let base = ChurnSignals::default();
        assert_eq!(base.risk().score, 0);
        let nps = ChurnSignals {
            last_nps: Some(3),
            ..base.clone()
        };
        assert_eq!(nps.risk().level, RiskLevel::Medium);
        let mood = ChurnSignals {
            messages_30d: 4,
            negative_30d: 3,
            ..nps.clone()
        };
        assert_eq!(mood.risk().level, RiskLevel::High);
        assert!(
            mood.risk()
                .reasons
                .contains(&"3 of 4 messages in 30 days upset".to_owned())
        );
        // Never having ordered is not a lapse.
        let none = ChurnSignals {
            orders: 0,
            days_since_order: None,
            ..base
        };
        assert!(none.risk().reasons.is_empty());
    }
}
