//! The assistant bot's rules over the engine alone, on the demo knowledge base and the
//! bot's judged set (`crates/rapport-demo/kb/bot_questions.tsv`): the same measures as
//! `crates/rapport/tests/it/bot.rs` (which goes through the API on both databases), in a
//! second, printing every miss and each message's best coverage, for tuning.

#![expect(
    clippy::expect_used,
    reason = "a test over the demo files: a missing or malformed one should fail loudly"
)]

mod common;

use common::{demo_index, kb_dir};
use rapport_domain::bot::{self, Context, Source};
use rapport_domain::kb::{Locale, Visibility};
use rapport_index::kb::{KbHit, KbQuery};

fn source(h: KbHit) -> Source {
    Source {
        title: h.title,
        url: h.url,
        slug: h.slug,
        heading: h.heading,
        text: h.text,
        coverage: h.coverage,
        confident: h.confident,
    }
}

#[test]
fn bot_judged_set() {
    let kb = demo_index();
    let raw = std::fs::read_to_string(kb_dir().join("bot_questions.tsv")).expect("the set");
    let (mut answerable, mut right, mut due, mut handed, mut wrong, mut all) = (0, 0, 0, 0, 0, 0);
    for line in raw.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let mut f = line.splitn(3, '\t');
        let (expect, kind, q) = (
            f.next().expect("expect"),
            f.next().expect("kind"),
            f.next().expect("question"),
        );
        all += 1;
        let expect: Vec<&str> = expect.split('|').collect();
        let locale = bot::language(q).map(|l| Locale::parse(l).expect("a locale"));
        let reply = bot::respond(q, &Context::default(), &mut |t: &str| {
            kb.passages(&KbQuery {
                text: t,
                readable: &[Visibility::Public],
                locale: locale.as_ref(),
                limit: 5,
                suggest: false,
            })
            .into_iter()
            .map(source)
            .collect()
        });
        let top = reply.sources.first().map(|s| s.slug.as_str());
        let best: Vec<String> = reply
            .considered
            .iter()
            .take(2)
            .map(|s| {
                format!(
                    "{}:{:.2}{}",
                    s.slug,
                    s.coverage,
                    if s.confident { "*" } else { "" }
                )
            })
            .collect();
        let verdict = if expect == ["handoff"] {
            due += 1;
            if reply.handoff() {
                handed += 1;
                "ok"
            } else {
                wrong += 1;
                "WRONG (answered)"
            }
        } else {
            answerable += 1;
            match top {
                Some(s) if !reply.handoff() && expect.contains(&s) => {
                    right += 1;
                    "ok"
                }
                Some(_) if !reply.handoff() => {
                    wrong += 1;
                    "WRONG"
                }
                _ => "handed over",
            }
        };
        println!("{verdict:>16} [{kind}] {q:?} → {top:?} {best:?} expected {expect:?}");
    }
    let right_share = f64::from(right) / f64::from(answerable);
    let handoff_share = f64::from(handed) / f64::from(due);
    let wrong_share = f64::from(wrong) / f64::from(all);
    println!(
        "bot: right {right}/{answerable} = {right_share:.3}, handed over {handed}/{due} = \
         {handoff_share:.3}, confident wrong {wrong}/{all} = {wrong_share:.3}"
    );
    assert!(right_share >= 0.80, "right-source answers {right_share:.3}");
    assert!(handoff_share >= 0.90, "handoffs {handoff_share:.3}");
    assert!(
        wrong_share <= 0.05,
        "confident wrong answers {wrong_share:.3}"
    );
}
