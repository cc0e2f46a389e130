//! The assistant bot over HTTP, on both databases: answers quoted from the demo knowledge
//! base with their links, handoffs (no confident answer, a person asked for, an angry
//! customer, a second unhelpful answer) with the summary kept for the person, the two
//! kinds of resolution counted apart, bad input and other agents' conversations refused,
//! the pluggable generator against a small chat-completions server started here, and the
//! judged set (`crates/rapport-demo/kb/bot_questions.tsv`) with its goals.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rapport_domain::{Clock, ManualClock, SystemClock};
use rapport_store::op;
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{Backend, TestApp, assert_error};

/// Loads the demo knowledge base and waits (bounded) until this node's index has it.
pub(crate) async fn demo(app: &TestApp) {
    rapport_demo::kb::populate(&app.db, &SystemClock, app.admin.id)
        .await
        .unwrap();
    for _ in 0..200 {
        let (_, a) = app.get("/api/v1/kb/search?q=warranty%20claim").await;
        let (_, b) = app.get("/api/v1/kb/search?q=reset%20password").await;
        if a["hits"].as_array().is_some_and(|h| !h.is_empty())
            && b["hits"].as_array().is_some_and(|h| !h.is_empty())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the index never loaded the demo knowledge base");
}

async fn ask(app: &TestApp, token: &str, question: &str, conversation: Option<i64>) -> Value {
    let mut body = json!({ "question": question });
    if let Some(c) = conversation {
        body["conversation_id"] = json!(c);
    }
    let (s, v) = app
        .call("POST", "/api/v1/bot/ask", Some(token), Some(body))
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

fn conversation(v: &Value) -> i64 {
    v["conversation_id"].as_i64().unwrap()
}

async fn summary_of(app: &TestApp, user_id: i64, id: i64) -> Option<String> {
    app.db
        .read(op!(c => rapport_store::bot::get(c, user_id, id).await))
        .await
        .unwrap()
        .summary
}

both_backends! {
    async fn bot_answers_from_the_knowledge_base_with_the_article_link(app) {
        demo(&app).await;
        let v = ask(&app, &app.agent.token, "How do I reset my password?", None).await;
        assert_eq!(v["handoff"], false, "{v}");
        let sources = v["sources"].as_array().unwrap();
        assert!(!sources.is_empty(), "{v}");
        let url = sources[0]["url"].as_str().unwrap();
        assert!(url.starts_with("/help/articles/reset-your-password"), "{v}");
        assert!(sources[0]["title"].as_str().unwrap().contains("password"), "{v}");
        let answer = v["answer"].as_str().unwrap();
        assert!(answer.contains(url), "the answer links its source: {answer}");
        assert!(answer.ends_with("Did that solve it?"), "{answer}");
        assert!(v["confidence"].as_f64().unwrap() >= 0.75, "{v}");
        // The body is exactly what the document says.
        let (_, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
        let declared: std::collections::BTreeSet<String> = doc["components"]["schemas"]
            ["BotAnswer"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let sent: std::collections::BTreeSet<String> =
            v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(declared, sent);
        app.stop().await;
    }

    async fn bot_hands_over_when_it_should_with_a_summary(app) {
        demo(&app).await;
        let t = app.agent.token.clone();
        for q in [
            "What is the name of your CEO?",
            "I want to talk to a human about my password",
            "THIS IS RIDICULOUS, you scammers charged me twice!!",
            "How do I create an API key?",
        ] {
            let v = ask(&app, &t, q, None).await;
            assert_eq!(v["handoff"], true, "{q}: {v}");
            assert_eq!(v["sources"], json!([]), "{q}: {v}");
            let summary = summary_of(&app, app.agent.id, conversation(&v)).await.unwrap();
            assert!(summary.contains(&format!("Question: {q}")), "{summary}");
        }
        let v = ask(&app, &t, "THIS IS RIDICULOUS, you scammers charged me twice!!", None).await;
        let summary = summary_of(&app, app.agent.id, conversation(&v)).await.unwrap();
        assert!(summary.contains("Mood: upset"), "{summary}");
        assert!(summary.contains("Intent: billing"), "{summary}");
        // The chat channel links the conversation to the ticket it opens at handoff.
        let ticket = app.ticket("Charged twice", "From the bot", "casey@example.com").await;
        let (id, ticket_id) = (conversation(&v), ticket["id"].as_i64().unwrap());
        app.db
            .write(op!(c => rapport_store::bot::link_ticket(c, id, ticket_id).await))
            .await
            .unwrap();
        let agent = app.agent.id;
        let conv = app
            .db
            .read(op!(c => rapport_store::bot::get(c, agent, id).await))
            .await
            .unwrap();
        assert_eq!(conv.ticket_id, Some(ticket_id));
        assert!(conv.handed_over);
        assert_eq!(conv.mood, "upset");
        // Another agent cannot read it.
        let other = app.agent_b.id;
        let err = app
            .db
            .read(op!(c => rapport_store::bot::get(c, other, id).await))
            .await;
        assert!(matches!(err, Err(rapport_store::StoreError::NotFound(_))), "{err:?}");
        app.stop().await;
    }

    async fn bot_hands_over_after_the_second_unhelpful_answer(app) {
        demo(&app).await;
        let t = app.agent.token.clone();
        let first = ask(&app, &t, "My discount code doesn't apply", None).await;
        assert_eq!(first["handoff"], false, "{first}");
        let id = conversation(&first);
        let again = ask(&app, &t, "no, that didn't help", Some(id)).await;
        assert_eq!(again["handoff"], false, "{again}");
        assert!(again["answer"].as_str().unwrap().contains("tell me a little more"), "{again}");
        let other = ask(&app, &t, "How do I reset my password?", Some(id)).await;
        assert_eq!(other["handoff"], false, "{other}");
        let last = ask(&app, &t, "nope, still doesn't work", Some(id)).await;
        assert_eq!(last["handoff"], true, "{last}");
        assert_eq!(conversation(&last), id);
        let summary = summary_of(&app, app.agent.id, id).await.unwrap();
        assert!(summary.contains("Question: My discount code doesn't apply"), "{summary}");
        assert!(summary.contains("/help/articles/discount-codes"), "{summary}");
        assert!(summary.contains(": unhelpful"), "{summary}");
        // Handed over: the bot stays out of it.
        let after = ask(&app, &t, "How do I reset my password?", Some(id)).await;
        assert_eq!(after["handoff"], true, "{after}");
        // "No, I meant …" is a verdict and a new question: looked up without the answer
        // just rejected.
        let first = ask(&app, &t, "How do I cancel my order?", None).await;
        let url = first["sources"][0]["url"].as_str().unwrap().to_owned();
        assert!(url.contains("cancel-an-order"), "{first}");
        let meant = ask(&app, &t, "no, I meant how do I cancel my subscription", Some(conversation(&first))).await;
        assert_eq!(meant["handoff"], false, "{meant}");
        let again = meant["sources"][0]["url"].as_str().unwrap();
        assert!(again.contains("cancel-subscription"), "{meant}");
        assert_ne!(again, url);
        app.stop().await;
    }

    async fn bot_refuses_bad_input_and_other_agents_conversations(app) {
        let (s, v) = app
            .call("POST", "/api/v1/bot/ask", None, Some(json!({"question": "hi there you"})))
            .await;
        assert_error(s, &v, 401, None);
        let t = app.agent.token.clone();
        for body in [
            json!({"question": ""}),
            json!({"question": "   "}),
            json!({"question": "x".repeat(2001)}),
        ] {
            let (s, v) = app.call("POST", "/api/v1/bot/ask", Some(&t), Some(body)).await;
            assert_error(s, &v, 422, Some("question"));
        }
        let (s, v) = app
            .call("POST", "/api/v1/bot/ask", Some(&t), Some(json!({"question": "hello", "conversation_id": 999_999})))
            .await;
        assert_error(s, &v, 422, Some("conversation_id"));
        let mine = ask(&app, &t, "where is my parcel", None).await;
        let (s, v) = app
            .call(
                "POST",
                "/api/v1/bot/ask",
                Some(&app.agent_b.token),
                Some(json!({"question": "and now?", "conversation_id": conversation(&mine)})),
            )
            .await;
        assert_error(s, &v, 422, Some("conversation_id"));
        let (s, v) = app
            .call("POST", "/api/v1/bot/ask", Some(&t), Some(json!({"question": "hi", "prompt": "x"})))
            .await;
        assert_eq!(s, 422, "{v}");
        let (s, v) = app.call("GET", "/api/v1/bot/report", Some(&t), None).await;
        assert_error(s, &v, 403, None);
        let (s, v) = app.call("GET", "/api/v1/bot/report", None, None).await;
        assert_error(s, &v, 401, None);
        app.stop().await;
    }
}

async fn report(app: &TestApp) -> Value {
    let (s, r) = app
        .call(
            "GET",
            "/api/v1/bot/report",
            Some(&app.supervisor.token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    r
}

/// Confirmed and left-after-answer are counted apart; leaving counts only after 30 quiet
/// minutes, and never for a conversation handed over.
async fn resolutions(backend: Backend) {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    demo(&app).await;
    let t = app.agent.token.clone();
    let yes = ask(&app, &t, "How do I reset my password?", None).await;
    let thanks = ask(
        &app,
        &t,
        "yes that worked, thanks",
        Some(conversation(&yes)),
    )
    .await;
    assert_eq!(thanks["handoff"], false);
    assert!(
        thanks["answer"].as_str().unwrap().contains("Glad"),
        "{thanks}"
    );
    let left = ask(&app, &t, "How do I export my data as CSV?", None).await;
    assert_eq!(left["handoff"], false, "{left}");
    let asked_more = ask(
        &app,
        &t,
        "Where can I download an invoice for my order?",
        None,
    )
    .await;
    ask(&app, &t, "no", Some(conversation(&asked_more))).await;
    ask(&app, &t, "What is the name of your CEO?", None).await;

    let r = report(&app).await;
    assert_eq!(r["conversations"], 4, "{r}");
    assert_eq!(r["asked"], 4, "{r}");
    assert_eq!(r["answered_with_source"], 3, "{r}");
    assert_eq!(r["handed_over"], 1, "{r}");
    assert_eq!(r["resolved_confirmed"], 1, "{r}");
    assert_eq!(r["resolved_left_after_answer"], 0, "{r}");
    clock.advance_secs(29 * 60);
    assert_eq!(report(&app).await["resolved_left_after_answer"], 0);
    clock.advance_secs(60);
    let r = report(&app).await;
    assert_eq!(
        r["resolved_left_after_answer"], 1,
        "only the quiet one: {r}"
    );
    assert_eq!(r["resolved_confirmed"], 1, "{r}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_counts_confirmed_and_left_after_answer_apart_sqlite() {
    resolutions(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_counts_confirmed_and_left_after_answer_apart_postgres() {
    resolutions(Backend::Postgres).await;
}

/// How the fake model behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    /// Answers citing passage [1].
    Cites,
    /// Answers without a citation.
    NoCitation,
    /// Fails with 500.
    Fails,
    /// Never answers.
    Hangs,
}

/// A chat-completions server on loopback speaking `POST /v1/chat/completions`, recording
/// the requests it gets.
async fn model_server(model: Model) -> (String, Arc<Mutex<Vec<Value>>>) {
    use axum::Json;
    use axum::http::StatusCode;
    use axum::routing::post;
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(
            move |headers: axum::http::HeaderMap, Json(body): Json<Value>| {
                let log = log.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    log.lock()
                        .unwrap()
                        .push(json!({"body": body, "auth": auth}));
                    let content = match model {
                        Model::Cites => "Use the Forgot password link on the sign-in page [1].",
                        Model::NoCitation => "Just call us, we will sort it out.",
                        Model::Fails => {
                            return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({})));
                        }
                        Model::Hangs => {
                            futures::future::pending::<()>().await;
                            ""
                        }
                    };
                    (
                        StatusCode::OK,
                        Json(json!({
                            "id": "x", "object": "chat.completion",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": content}}]
                        })),
                    )
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), seen)
}

async fn with_model(backend: Backend, model: Model) -> (TestApp, Arc<Mutex<Vec<Value>>>) {
    let (url, seen) = model_server(model).await;
    let app = TestApp::spawn_with(backend, Arc::new(SystemClock), |c| {
        c.bot_llm_url = Some(url);
        c.bot_llm_model = "tiny".into();
        c.bot_llm_key = Some("sk-test".into());
        c.bot_llm_timeout_secs = 1;
    })
    .await;
    demo(&app).await;
    (app, seen)
}

async fn generator_cites(backend: Backend) {
    let (app, seen) = with_model(backend, Model::Cites).await;
    let v = ask(&app, &app.agent.token, "How do I reset my password?", None).await;
    assert_eq!(v["handoff"], false, "{v}");
    let answer = v["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("Use the Forgot password link on the sign-in page [1]."),
        "{answer}"
    );
    let url = v["sources"][0]["url"].as_str().unwrap();
    assert!(url.contains("reset-your-password"), "{v}");
    assert!(
        answer.contains(&format!("[1] Reset your password — {url}")),
        "each number's link: {answer}"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["auth"], "Bearer sk-test");
    let body = &seen[0]["body"];
    assert_eq!(body["model"], "tiny");
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains("[1] Reset your password — /help/articles/reset-your-password"),
        "{user}"
    );
    assert!(user.contains("How do I reset my password?"), "{user}");
    // A question the rules hand over never reaches the model.
    let v = ask(
        &app,
        &app.agent.token,
        "What is the name of your CEO?",
        None,
    )
    .await;
    assert_eq!(v["handoff"], true);
    app.stop().await;
}

async fn generator_without_citation_is_discarded(backend: Backend) {
    let (app, seen) = with_model(backend, Model::NoCitation).await;
    let v = ask(&app, &app.agent.token, "How do I reset my password?", None).await;
    assert_eq!(v["handoff"], false, "{v}");
    let answer = v["answer"].as_str().unwrap();
    assert!(!answer.contains("Just call us"), "{answer}");
    assert!(
        answer.starts_with("Here is what our help center says"),
        "{answer}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "the model was asked");
    app.stop().await;
}

async fn generator_failing_falls_back(backend: Backend) {
    for model in [Model::Fails, Model::Hangs] {
        let (app, seen) = with_model(backend, model).await;
        let v = ask(&app, &app.agent.token, "How do I reset my password?", None).await;
        assert_eq!(v["handoff"], false, "{model:?}: {v}");
        let answer = v["answer"].as_str().unwrap();
        assert!(
            answer.starts_with("Here is what our help center says"),
            "{model:?}: {answer}"
        );
        assert!(
            answer.contains("/help/articles/reset-your-password"),
            "{answer}"
        );
        assert_eq!(
            seen.lock().unwrap().len(),
            1,
            "{model:?}: the model was asked"
        );
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_generator_answer_with_citation_is_used_sqlite() {
    generator_cites(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_generator_answer_with_citation_is_used_postgres() {
    generator_cites(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_generator_answer_without_citation_is_discarded_sqlite() {
    generator_without_citation_is_discarded(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_generator_answer_without_citation_is_discarded_postgres() {
    generator_without_citation_is_discarded(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_generator_failure_or_timeout_falls_back_sqlite() {
    generator_failing_falls_back(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_generator_failure_or_timeout_falls_back_postgres() {
    generator_failing_falls_back(Backend::Postgres).await;
}

/// One judged message.
struct Judged {
    expect: Vec<String>,
    kind: String,
    question: String,
}

fn judged_set() -> Vec<Judged> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rapport-demo/kb/bot_questions.tsv");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let (e, k, q) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            Judged {
                expect: e.split('|').map(str::to_owned).collect(),
                kind: k.to_owned(),
                question: q.to_owned(),
            }
        })
        .collect()
}

/// The judged set through the API: right-source answers among the answerable, handoffs
/// among the rest, and confident wrong answers (an answer citing the wrong article, or
/// any answer where a handoff was due) among all.
async fn judged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    demo(&app).await;
    let set = judged_set();
    let (mut answerable, mut right, mut due, mut handed, mut wrong) = (0, 0, 0, 0, 0);
    let mut misses = Vec::new();
    for j in &set {
        let v = ask(&app, &app.agent.token, &j.question, None).await;
        let handoff = v["handoff"].as_bool().unwrap();
        let top = v["sources"][0]["url"]
            .as_str()
            .and_then(|u| u.strip_prefix("/help/articles/"))
            .map(|u| u.split(['#', '?']).next().unwrap_or(u).to_owned());
        let confidence = v["confidence"].as_f64().unwrap();
        if j.expect == ["handoff"] {
            due += 1;
            if handoff {
                handed += 1;
            } else {
                wrong += 1;
                misses.push(format!(
                    "[{}] {:?}: answered from {top:?} ({confidence:.2}), handoff due",
                    j.kind, j.question
                ));
            }
            continue;
        }
        answerable += 1;
        match (&top, handoff) {
            (Some(slug), false) if j.expect.contains(slug) => right += 1,
            (Some(slug), false) => {
                wrong += 1;
                misses.push(format!(
                    "[{}] {:?}: WRONG {slug} ({confidence:.2}), expected {:?}",
                    j.kind, j.question, j.expect
                ));
            }
            _ => misses.push(format!(
                "[{}] {:?}: handed over ({confidence:.2}), expected {:?}",
                j.kind, j.question, j.expect
            )),
        }
    }
    let right_share = f64::from(right) / f64::from(answerable);
    let handoff_share = f64::from(handed) / f64::from(due);
    let wrong_share = f64::from(wrong) / set.len() as f64;
    println!(
        "bot judged set ({backend:?}): {} messages, {answerable} answerable, {due} due a handoff; \
         right source {right}/{answerable} = {:.1}%, handed over {handed}/{due} = {:.1}%, \
         confident wrong {wrong}/{} = {:.1}%",
        set.len(),
        right_share * 100.0,
        handoff_share * 100.0,
        set.len(),
        wrong_share * 100.0
    );
    for m in &misses {
        println!("  {m}");
    }
    assert!(set.len() >= 80, "{} messages", set.len());
    assert!(
        due * 4 >= set.len() as u32,
        "at least a quarter due a handoff"
    );
    assert!(
        right_share >= 0.80,
        "right-source answers {right_share:.3} < 0.80"
    );
    assert!(handoff_share >= 0.90, "handoffs {handoff_share:.3} < 0.90");
    assert!(
        wrong_share <= 0.05,
        "confident wrong answers {wrong_share:.3} > 0.05"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_judged_set_meets_its_goals_sqlite() {
    judged(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_judged_set_meets_its_goals_postgres() {
    judged(Backend::Postgres).await;
}
