//! Mood on every customer message (issue 13): read as the message arrives, carried by the
//! messages API, marked on the ticket page, and a customer's trend over their history —
//! in the API and on their profile, to agents who may see those tickets only.

use rapport_domain::{Body, Channel, Clock, Principal, SystemClock};
use rapport_store::{op, tickets};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::on_both;
use crate::sessions_trust::PASSWORD;
use crate::web::{client, set_password, sign_in};

on_both!(every_customer_message_carries_its_mood);

async fn customer_says(app: &TestApp, ticket: i64, text: &str) {
    let body = Body::parse(text).unwrap();
    let now = SystemClock.now();
    app.db
        .write(op!(c => {
            tickets::customer_reply(c, &Principal::System, ticket, &body, Channel::Email, Vec::new(), now)
                .await
                .map(|_| ())
        }))
        .await
        .unwrap();
}

async fn every_customer_message_carries_its_mood(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        std::sync::Arc::new(rapport_domain::SystemClock),
        |_| {},
    )
    .await;
    // A calm question, then the customer's patience runs out — without a single word
    // VADER's list would call negative in the worst of it.
    let t = app
        .ticket(
            "Invoice copy",
            "Could you send me a copy of my March invoice? Thanks!",
            "mood@example.com",
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let customer = t["customer"]["id"].as_i64().unwrap();
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{id}/messages"),
            json!({"body": "Sure, I'll look into it."}),
        )
        .await;
    assert_eq!(s, 201);
    for text in [
        "Any news on this?",
        "Still waiting for the invoice.",
        "This is the third time I'm asking. It's been two weeks.",
        "I've waited three weeks and nobody answers.",
        "I want to cancel my subscription. I'm done with this company.",
    ] {
        customer_says(&app, id, text).await;
    }
    let (s, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
    assert_eq!(s, 200, "{msgs}");
    let msgs = msgs.as_array().unwrap().clone();
    assert_eq!(msgs.len(), 7);
    let mood = |m: &Value| m["sentiment"].clone();
    // The opening question: neutral, its "Thanks!" notwithstanding.
    assert_eq!(mood(&msgs[0])["label"], "neutral", "{}", msgs[0]);
    // The agent's reply has none.
    assert!(mood(&msgs[1]).is_null(), "{}", msgs[1]);
    // Every score is within −1…1 and agrees with its label.
    for m in msgs.iter().filter(|m| m["author"]["kind"] == "customer") {
        let score = mood(m)["score"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&score), "{m}");
        let label = match score {
            s if s >= 0.05 => "positive",
            s if s <= -0.05 => "negative",
            _ => "neutral",
        };
        assert_eq!(mood(m)["label"], label, "{m}");
    }
    let last = &msgs[6];
    assert_eq!(mood(last)["label"], "negative", "{last}");
    assert_eq!(mood(last)["upset"], true, "{last}");
    let waited = &msgs[5];
    assert_eq!(mood(waited)["label"], "negative", "{waited}");

    // The customer's trend: getting worse, from the messages above.
    let (s, trend) = app.get(&format!("/api/v1/customers/{customer}/mood")).await;
    assert_eq!(s, 200, "{trend}");
    assert_eq!(trend["messages"], 6, "{trend}");
    assert_eq!(trend["direction"], "worsening", "{trend}");
    let points = trend["points"].as_array().unwrap();
    let scores: Vec<f64> = points
        .iter()
        .map(|p| p["sentiment"]["score"].as_f64().unwrap())
        .collect();
    let recent: f64 = scores[1..].iter().sum::<f64>() / 5.0;
    assert!(
        (trend["recent"].as_f64().unwrap() - recent).abs() < 0.002,
        "{trend}"
    );
    assert_eq!(trend["earlier"].as_f64().unwrap(), scores[0]);
    assert_eq!(
        trend["upset"].as_u64().unwrap() as usize,
        points
            .iter()
            .filter(|p| p["sentiment"]["upset"] == true)
            .count()
    );
    // Unknown customers are 404; a customer has no business here.
    let (s, _) = app.get("/api/v1/customers/999999/mood").await;
    assert_eq!(s, 404);
    let (s, _) = app
        .call(
            "GET",
            &format!("/api/v1/customers/{customer}/mood"),
            None,
            None,
        )
        .await;
    assert_eq!(s, 401);

    // An agent of another team sees none of the moods of this team's tickets.
    let (s, _) = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            json!({"team_id": app.team_b}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, theirs) = app
        .call(
            "GET",
            &format!("/api/v1/customers/{customer}/mood"),
            Some(app.agent.token.as_str()),
            None,
        )
        .await;
    assert_eq!(s, 200, "{theirs}");
    assert_eq!(theirs["messages"], 0, "{theirs}");
    let (s, back) = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            json!({"team_id": app.team_a}),
        )
        .await;
    assert_eq!(s, 200, "{back}");

    // In the workspace: a marker in words on each customer message, the trend on the
    // customer's profile.
    set_password(&app, "admin@example.com", PASSWORD).await;
    let http = client();
    let (session, _) = sign_in(&app, &http, "admin@example.com", PASSWORD).await;
    let page = |path: String| {
        let http = http.clone();
        let url = app.url(&path);
        let session = session.clone();
        async move {
            let r = http
                .get(url)
                .header(
                    reqwest::header::COOKIE,
                    format!("rapport_session={session}"),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let html = page(format!("/tickets/{id}")).await;
    assert!(html.contains("Mood: neutral"), "no neutral marker");
    assert!(html.contains("Mood: upset −"), "no upset marker");
    assert_eq!(html.matches("class=\"mood mood-").count(), 6);
    let html = page(format!("/customers/{customer}")).await;
    assert!(html.contains("<h2>Mood</h2>"));
    assert!(html.contains("Getting worse: average of the latest five"));
    assert!(html.contains("role=\"img\""));
    assert_eq!(html.matches("<td><span class=\"mood mood-").count(), 6);
    app.stop().await;
}
