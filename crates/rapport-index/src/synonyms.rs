//! Synonym groups: words (or short phrases) search treats as one. A query that contains a
//! member of a group also looks for the other members, a little below the words typed.
//! Groups are edited by admins (`kb_synonyms`) and expanded at query time, so a change
//! needs no re-indexing.

use crate::analyzer::words;

/// The synonym groups in force.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    /// Each group's members, each member as its folded words.
    groups: Vec<Vec<Vec<String>>>,
}

impl Synonyms {
    /// Groups from their stored spelling: each a comma-separated list (`invoice, bill`).
    /// Members with no words, and groups with fewer than two members, are ignored.
    pub fn parse<'a>(groups: impl IntoIterator<Item = &'a str>) -> Self {
        let groups = groups
            .into_iter()
            .map(|g| {
                let mut members: Vec<Vec<String>> = g
                    .split(',')
                    .map(words)
                    .filter(|w| !w.is_empty() && w.len() <= 6)
                    .collect();
                members.dedup();
                members
            })
            .filter(|m| m.len() >= 2)
            .collect();
        Self { groups }
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// For query words already reduced to comparable forms (`norm`: the same function
    /// on both sides, e.g. the stem in the query's language), each place a group member
    /// occurs: `(start, length, the other members)`. Longer members are matched first and
    /// matches do not overlap.
    pub fn matches(
        &self,
        query: &[Option<String>],
        norm: &mut dyn FnMut(&str) -> Option<String>,
    ) -> Vec<(usize, usize, Vec<Vec<String>>)> {
        let mut found: Vec<(usize, usize, usize, usize)> = Vec::new(); // start, len, group, member
        for (g, members) in self.groups.iter().enumerate() {
            for (m, member) in members.iter().enumerate() {
                let normed: Vec<Option<String>> = member.iter().map(|w| norm(w)).collect();
                let normed: Vec<String> = normed.into_iter().flatten().collect();
                if normed.is_empty() || normed.len() > query.len() {
                    continue;
                }
                // Compare against the query's non-stop words, in order.
                let content: Vec<(usize, &String)> = query
                    .iter()
                    .enumerate()
                    .filter_map(|(i, w)| w.as_ref().map(|w| (i, w)))
                    .collect();
                for win in content.windows(normed.len()) {
                    if win.iter().zip(&normed).all(|((_, q), n)| *q == n) {
                        let start = win[0].0;
                        let end = win[win.len() - 1].0;
                        found.push((start, end + 1 - start, g, m));
                    }
                }
            }
        }
        // Longest first, then leftmost; no overlaps.
        found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut taken = vec![false; query.len()];
        let mut out = Vec::new();
        for (start, len, g, m) in found {
            if taken[start..start + len].iter().any(|t| *t) {
                continue;
            }
            taken[start..start + len].iter_mut().for_each(|t| *t = true);
            let others = self.groups[g]
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != m)
                .map(|(_, w)| w.clone())
                .collect();
            out.push((start, len, others));
        }
        out.sort_by_key(|(s, _, _)| *s);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(w: &str) -> Option<String> {
        (w != "my").then(|| w.trim_end_matches('s').to_owned())
    }

    #[test]
    fn finds_members_and_offers_the_others() {
        let s = Synonyms::parse(["invoice, bill", "refund, money back", "x", ", ,"]);
        let q: Vec<Option<String>> = ["where", "my", "bills"].iter().map(|w| plain(w)).collect();
        let m = s.matches(&q, &mut plain);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].0, m[0].1), (2, 1));
        assert_eq!(m[0].2, vec![vec!["invoice".to_owned()]]);

        let q: Vec<Option<String>> = ["want", "my", "money", "back"]
            .iter()
            .map(|w| plain(w))
            .collect();
        let m = s.matches(&q, &mut plain);
        assert_eq!((m[0].0, m[0].1), (2, 2));
        assert_eq!(m[0].2, vec![vec!["refund".to_owned()]]);
    }
}
