use super::summary::{Exchange, intent, summarize};
use super::*;

fn source(slug: &str, coverage: f32, text: &str) -> Source {
    Source {
        title: format!("Title of {slug}"),
        url: format!("/help/articles/{slug}#section"),
        slug: slug.to_owned(),
        heading: "Section".to_owned(),
        text: text.to_owned(),
        coverage,
        confident: coverage >= 0.75,
    }
}

/// Retrieval over a fixed table: the first entry whose key the text contains.
fn table(entries: Vec<(&'static str, Source)>) -> impl FnMut(&str) -> Vec<Source> {
    move |q: &str| {
        let q = q.to_lowercase();
        entries
            .iter()
            .filter(|(k, _)| q.contains(k))
            .map(|(_, s)| s.clone())
            .collect()
    }
}

const RESET: &str = "Open the sign-in page and select Forgot password. We email you a link that works for one hour.";

#[test]
fn a_confident_passage_is_quoted_with_its_link() {
    let mut r = table(vec![(
        "password",
        source("reset-your-password", 0.9, RESET),
    )]);
    let reply = respond("how do i reset my password", &Context::default(), &mut r);
    assert_eq!(reply.outcome, Outcome::Answer { unanswered: vec![] });
    assert!(!reply.handoff());
    assert!(reply.text.contains(RESET), "{}", reply.text);
    assert!(
        reply
            .text
            .contains("/help/articles/reset-your-password#section")
    );
    assert!(reply.text.ends_with("Did that solve it?"));
    assert_eq!(reply.sources.len(), 1);
    assert!((reply.confidence - 0.9).abs() < 1e-6);
}

#[test]
fn below_the_threshold_it_hands_over() {
    let mut r = table(vec![(
        "password",
        source("reset-your-password", 0.45, RESET),
    )]);
    let reply = respond("password?", &Context::default(), &mut r);
    assert_eq!(
        reply.outcome,
        Outcome::Handoff {
            reason: HandoffReason::NoConfidentAnswer
        }
    );
    assert!(reply.sources.is_empty());
    assert_eq!(reply.text, HANDOFF_TEXT);
    let mut none = table(vec![]);
    assert!(
        respond(
            "what is the meaning of life",
            &Context::default(),
            &mut none
        )
        .handoff()
    );
}

#[test]
fn asking_for_a_person_or_being_upset_hands_over_even_when_answerable() {
    let mut r = table(vec![(
        "password",
        source("reset-your-password", 0.95, RESET),
    )]);
    let reply = respond(
        "password reset, or let me talk to a human",
        &Context::default(),
        &mut r,
    );
    assert_eq!(
        reply.outcome,
        Outcome::Handoff {
            reason: HandoffReason::AskedForPerson
        }
    );
    let reply = respond(
        "THIS IS RIDICULOUS, my password reset STILL doesn't work!!",
        &Context::default(),
        &mut r,
    );
    assert_eq!(
        reply.outcome,
        Outcome::Handoff {
            reason: HandoffReason::Upset
        }
    );
    assert_eq!(reply.mood, Mood::Upset);
}

#[test]
fn the_second_unhelpful_answer_hands_over() {
    let mut r = table(vec![(
        "password",
        source("reset-your-password", 0.9, RESET),
    )]);
    let mut ctx = Context {
        awaiting_verdict: true,
        ..Context::default()
    };
    let first = respond("no, that didn't help", &ctx, &mut r);
    assert_eq!(first.outcome, Outcome::AskAgain);
    assert_eq!(first.reaction, Some(Reaction::Unhelpful));
    ctx.unhelpful = 1;
    let second = respond("nope", &ctx, &mut r);
    assert_eq!(
        second.outcome,
        Outcome::Handoff {
            reason: HandoffReason::Unhelpful
        }
    );
    // Without an answer to judge, "no" is just a (too short) question.
    let plain = respond("no", &Context::default(), &mut r);
    assert_eq!(plain.reaction, None);
}

#[test]
fn no_with_a_new_question_looks_that_up_without_the_rejected_answer() {
    let mut r = table(vec![
        (
            "address",
            source("cancel-an-order", 0.8, "Cancel it in your account."),
        ),
        (
            "address",
            source("change-delivery-address", 0.8, "Change it before packing."),
        ),
    ]);
    let ctx = Context {
        awaiting_verdict: true,
        last_answer: vec!["/help/articles/cancel-an-order#section".into()],
        ..Context::default()
    };
    let reply = respond("no, I meant how to change the address", &ctx, &mut r);
    assert_eq!(reply.reaction, Some(Reaction::Unhelpful));
    assert_eq!(
        reply.sources[0].slug, "change-delivery-address",
        "{reply:?}"
    );
    // A new question without a verdict may get the same article again.
    let reply = respond("what about the address", &ctx, &mut r);
    assert_eq!(reply.sources[0].slug, "cancel-an-order");
}

#[test]
fn yes_confirms() {
    let mut r = table(vec![]);
    let ctx = Context {
        awaiting_verdict: true,
        ..Context::default()
    };
    let reply = respond("yes, thanks!", &ctx, &mut r);
    assert_eq!(reply.outcome, Outcome::Confirmed);
    assert_eq!(reply.text, CONFIRMED_TEXT);
}

#[test]
fn a_confident_passage_beats_a_better_ranked_unconfident_one() {
    let mut r = table(vec![
        (
            "address",
            source("cancel-an-order", 0.6, "Cancel it in your account."),
        ),
        (
            "address",
            source("change-delivery-address", 0.95, "Change it before packing."),
        ),
    ]);
    let reply = respond("wrong address on my order", &Context::default(), &mut r);
    assert_eq!(reply.sources[0].slug, "change-delivery-address");
    let mut r = table(vec![
        (
            "address",
            source("cancel-an-order", 0.6, "Cancel it in your account."),
        ),
        (
            "address",
            source("change-delivery-address", 0.7, "Change it before packing."),
        ),
    ]);
    let reply = respond("wrong address on my order", &Context::default(), &mut r);
    assert_eq!(
        reply.sources[0].slug, "cancel-an-order",
        "neither confident: rank decides"
    );
}

#[test]
fn rejected_links_are_not_offered_again() {
    let mut r = table(vec![(
        "password",
        source("reset-your-password", 0.9, RESET),
    )]);
    let ctx = Context {
        rejected: vec!["/help/articles/reset-your-password#section".into()],
        ..Context::default()
    };
    assert!(respond("reset my password", &ctx, &mut r).handoff());
}

#[test]
fn two_questions_answer_what_it_can_and_say_so() {
    let mut r = table(vec![(
        "password",
        source("reset-your-password", 0.9, RESET),
    )]);
    let reply = respond(
        "How do I reset my password? And can I pay with bitcoin?",
        &Context::default(),
        &mut r,
    );
    let Outcome::Answer { unanswered } = &reply.outcome else {
        panic!("{reply:?}");
    };
    assert_eq!(unanswered, &vec!["And can I pay with bitcoin?".to_owned()]);
    assert!(reply.text.contains("only answer part"), "{}", reply.text);
    let mut both = table(vec![
        ("password", source("reset-your-password", 0.9, RESET)),
        (
            "refund",
            source("refund-timing", 0.8, "Refunds take five days."),
        ),
    ]);
    let reply = respond(
        "How do I reset my password? And when do I get my refund?",
        &Context::default(),
        &mut both,
    );
    assert_eq!(reply.sources.len(), 2);
    assert!(reply.text.contains("Refunds take five days."));
}

#[test]
fn quotes_are_cut_at_a_sentence() {
    let long = "First sentence is here and is long enough to count as one. ".repeat(10);
    let q = quote(&long);
    assert!(q.chars().count() <= QUOTE_CHARS);
    assert!(q.ends_with('.'));
    assert!(long.contains(&q));
    let words = "word ".repeat(100);
    let q = quote(&words);
    assert!(q.ends_with('…'));
}

#[test]
fn every_answer_is_templates_and_quotes() {
    // Remove the quotes and the links from an answer: what remains is template text only.
    let s = source("reset-your-password", 0.9, RESET);
    let text = answer_text(std::slice::from_ref(&s), &["x y z".into()]);
    let rest = text
        .replace(&quote(&s.text), "")
        .replace(&s.url, "")
        .replace(&s.title, "");
    for allowed in [
        "Here is what our help center says",
        "(\"\", ):",
        "> ",
        "I could only answer part of your message; for the rest, say \"talk to a person\" and I'll pass it to our team.",
        "Did that solve it?",
    ] {
        assert!(
            text.contains(allowed) || rest.contains(allowed),
            "{allowed}"
        );
    }
    let stripped = [
        "Here is what our help center says",
        "(\"\", ):",
        "> ",
        "I could only answer part of your message; for the rest, say \"talk to a person\" and I'll pass it to our team.",
        "Did that solve it?",
    ]
    .iter()
    .fold(rest, |acc, t| acc.replace(t, ""));
    assert!(stripped.trim().is_empty(), "{stripped:?}");
}

#[test]
fn resolution_waits_thirty_minutes_after_a_cited_answer() {
    let t = Timestamp(1_000_000_000);
    assert!(!left_after_answer(
        t,
        Timestamp(t.0 + (IDLE_SECS - 1) * 1_000_000)
    ));
    assert!(left_after_answer(t, Timestamp(t.0 + IDLE_SECS * 1_000_000)));
    assert_eq!(
        Resolved::parse("left_after_answer"),
        Some(Resolved::LeftAfterAnswer)
    );
    assert_eq!(
        Resolved::parse(Resolved::Confirmed.as_str()),
        Some(Resolved::Confirmed)
    );
}

fn categories() -> Vec<(String, String)> {
    crate::Category::BUILT_IN
        .iter()
        .map(|(s, n)| ((*s).to_owned(), (*n).to_owned()))
        .collect()
}

#[test]
fn intent_comes_from_the_ticket_categories() {
    let c = categories();
    assert_eq!(intent("I was charged twice on my card", &c), "billing");
    assert_eq!(intent("my parcel never arrived", &c), "order-management");
    assert_eq!(intent("the app crashes on start", &c), "technical");
    assert_eq!(intent("xyzzy", &c), "unknown");
    let custom = vec![("warranty".to_owned(), "Warranty claims".to_owned())];
    assert_eq!(intent("a warranty question", &custom), "warranty");
}

#[test]
fn the_summary_tells_the_whole_story() {
    let s = source("reset-your-password", 0.9, RESET);
    let ex = vec![
        Exchange {
            question: "How do I reset\nmy password?".into(),
            tried: vec![s.clone()],
            reaction: Some(Reaction::Unhelpful),
        },
        Exchange {
            question: "I never get the email".into(),
            tried: vec![],
            reaction: None,
        },
    ];
    let sum = summarize(
        &ex,
        Mood::Frustrated,
        &categories(),
        vec!["#12 Password email missing".into()],
        vec![],
    );
    assert_eq!(sum.question, "How do I reset my password?");
    assert_eq!(sum.intent, "technical");
    assert_eq!(sum.tried.len(), 1);
    assert_eq!(sum.tried[0].reaction, "unhelpful");
    assert_eq!(sum.mood, "frustrated");
    let text = sum.text();
    assert!(text.contains("Question: How do I reset my password?"));
    assert!(text.contains(&s.url));
    assert!(text.contains("Recent tickets: #12 Password email missing"));
    assert!(text.contains("Recent orders: none known"));
}

mod properties {
    use proptest::prelude::*;

    use super::super::*;

    proptest! {
        /// Whatever a stranger types, the rules answer without panicking, and an answer
        /// quotes its source word for word.
        #[test]
        fn any_message_gets_a_reply(msg in "\\PC{0,300}", text in "\\PC{0,600}") {
            let s = Source {
                title: "T".into(),
                url: "/help/articles/t".into(),
                slug: "t".into(),
                heading: String::new(),
                text: text.clone(),
                coverage: 0.9,
                confident: true,
            };
            let ctx = Context { awaiting_verdict: true, ..Context::default() };
            let reply = respond(&msg, &ctx, &mut |_| vec![s.clone()]);
            if let Outcome::Answer { .. } = reply.outcome {
                let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
                let q = quote(&text);
                prop_assert!(flat.contains(q.trim_end_matches('…')));
                prop_assert!(reply.text.contains(&q));
            }
            let _ = questions(&msg);
            let _ = mood(&msg);
        }
    }
}
