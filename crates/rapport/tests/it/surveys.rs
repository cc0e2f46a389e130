//! Surveys (issue 13): a solved email ticket sends its customer a survey whose links
//! record a rating only when the customer confirms it on the page (a mail scanner that
//! opens every link records nothing); the answer may change; a low rating reaches a
//! supervisor through the automation engine; opting out holds; machines and bouncing
//! addresses get nothing; NPS goes out on a schedule in the customer's language, and a
//! detractor's answer opens a follow-up.

use rapport_mail::transport::Relay;
use rapport_store::op;
use serde_json::{Value, json};

use crate::both_backends;
use crate::email::{mail, run_jobs_via, send};
use crate::harness::{TestApp, assert_error, settle};
use crate::peers::{SinkOptions, SmtpSink};

/// An email ticket from `from`, as the customer writes it (what is queued goes out
/// through `relay`).
async fn email_ticket(
    app: &TestApp,
    relay: Option<Relay>,
    from: &str,
    subject: &str,
    mid: &str,
) -> i64 {
    let raw = mail(
        from,
        subject,
        mid,
        "",
        "Something is not right, please help.",
    );
    assert_eq!(
        send(app, json!([[from, ["help@shop.example"], raw]])).await,
        vec!["ok"]
    );
    run_jobs_via(app, relay).await;
    let (_, page) = app.get("/api/v1/tickets?channel=email&limit=100").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["subject"] == subject)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// Solves a ticket with a reply.
async fn solve(app: &TestApp, id: i64) {
    let (s, r) = app
        .post(
            &format!("/api/v1/tickets/{id}/messages"),
            json!({"body": "That is fixed now.", "status": "solved"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
}

/// The survey mails the sink holds, as (recipient, subject, text).
fn survey_mails(sink: &SmtpSink) -> Vec<(String, String, String, Vec<u8>)> {
    sink.messages()
        .into_iter()
        .filter_map(|(raw, meta)| {
            let p = rapport_mail::parse::parse(&raw);
            p.text.contains("/survey/").then(|| {
                (
                    meta["rcpt_tos"][0].as_str().unwrap().to_owned(),
                    p.subject.clone(),
                    p.text.clone(),
                    raw,
                )
            })
        })
        .collect()
}

/// The links of a survey mail, by the rating they stand for.
fn links(text: &str) -> Vec<(i64, String)> {
    text.split_whitespace()
        .filter(|w| w.contains("/survey/") && w.contains('='))
        .map(|w| {
            let path = w[w.find("/survey/").unwrap()..].to_owned();
            let n: i64 = path.rsplit('=').next().unwrap().parse().unwrap();
            (n, path)
        })
        .collect()
}

/// A browser: opens a page (keeping the public forms' CSRF cookie) and sends its form.
struct Person {
    http: reqwest::Client,
    csrf: Option<String>,
}

impl Person {
    fn new() -> Self {
        Self {
            http: crate::web::client(),
            csrf: None,
        }
    }

    async fn open(&mut self, app: &TestApp, path: &str) -> (u16, String) {
        let r = self.http.get(app.url(path)).send().await.unwrap();
        if let Some(c) = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with("rapport_portal_csrf="))
        {
            self.csrf =
                Some(c.split(';').next().unwrap()["rapport_portal_csrf=".len()..].to_owned());
        }
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn send(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let csrf = self.csrf.clone().unwrap_or_default();
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        let r = self
            .http
            .post(app.url(path))
            .header("cookie", format!("rapport_portal_csrf={csrf}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (
            status,
            if status == 303 {
                location
            } else {
                r.text().await.unwrap()
            },
        )
    }
}

async fn survey_of(app: &TestApp, ticket: i64) -> (u16, Value) {
    app.get(&format!("/api/v1/tickets/{ticket}/survey")).await
}

both_backends! {
    async fn a_solved_email_ticket_sends_a_survey_that_records_what_the_customer_confirms(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        let relay = || Some(Relay::plain("127.0.0.1", sink.port));
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        let id = email_ticket(&app, relay(), "Rosa Diaz <rosa@customer.example>", "Blender arrived broken", "s1@customer.example").await;
        let (s, _) = app.patch(&format!("/api/v1/tickets/{id}"), json!({"assignee_id": app.agent.id, "team_id": app.team_a})).await;
        assert_eq!(s, 200);
        run_jobs_via(&app, relay()).await;
        assert!(survey_mails(&sink).is_empty(), "no survey before the ticket is solved");
        let (s, _) = survey_of(&app, id).await;
        assert_eq!(s, 404);

        solve(&app, id).await;
        run_jobs_via(&app, relay()).await;
        let mails = survey_mails(&sink);
        assert_eq!(mails.len(), 1, "one survey mail");
        let (to, subject, text, raw) = &mails[0];
        assert_eq!(to, "rosa@customer.example");
        let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(subject, &format!("How did we do? [#{}]", t["number"]));
        assert!(!subject.contains("Blender"), "nothing the sender wrote goes back out");
        let head = String::from_utf8_lossy(raw);
        assert!(head.contains("Auto-Submitted: auto-generated"), "{head}");
        let ratings = links(text);
        assert_eq!(ratings.iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
        assert!(text.contains("/opt-out"));

        // A mail scanner opens every link: nothing is recorded.
        for (_, path) in &ratings {
            let r = crate::web::client().get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
        let (s, survey) = survey_of(&app, id).await;
        assert_eq!(s, 200, "{survey}");
        assert!(survey["csat"].is_null() && survey["answered_at"].is_null(), "{survey}");
        assert_eq!(survey["agent_id"], app.agent.id);
        assert_eq!(survey["team_id"], app.team_a);
        assert_eq!(survey["channel"], "email");

        // The customer opens "4": it is chosen on the page; they add CES and a comment,
        // and send.
        let mut rosa = Person::new();
        let four = &ratings[3].1;
        let (s, page) = rosa.open(&app, four).await;
        assert_eq!(s, 200);
        assert!(page.contains("value=\"4\" checked"), "{page}");
        assert!(page.contains("How easy was it to get your issue resolved?"));
        let form_path = four.split('?').next().unwrap().to_owned();
        let (s, to) = rosa.send(&app, &form_path, &[("csat", "4"), ("ces", "6"), ("comment", "Quick and kind, thank you so much!")]).await;
        assert_eq!(s, 303, "{to}");
        let (s, done) = rosa.open(&app, &to).await;
        assert_eq!(s, 200);
        assert!(done.contains("your answer is recorded"), "{done}");
        let (_, survey) = survey_of(&app, id).await;
        assert_eq!(survey["csat"], 4);
        assert_eq!(survey["ces"], 6);
        assert_eq!(survey["comment"], "Quick and kind, thank you so much!");
        assert_eq!(survey["comment_sentiment"]["label"], "positive", "{survey}");
        let (_, events) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
        assert!(events.to_string().contains("survey_answered"), "{events}");

        // Bad input is refused with the field named; a forged link is not found; a post
        // without the form's token is refused; nothing changes.
        let (s, page) = rosa.send(&app, &form_path, &[("csat", "9")]).await;
        assert_eq!(s, 422);
        assert!(page.contains("csat"), "{page}");
        let (s, _) = rosa.send(&app, &form_path, &[("csat", "x")]).await;
        assert_eq!(s, 422);
        let forged = form_path.replace(&form_path[form_path.len() - 4..], "0000");
        assert_eq!(rosa.open(&app, &forged).await.0, 404);
        assert_eq!(rosa.send(&app, &forged, &[("csat", "1")]).await.0, 404);
        let r = crate::web::client().post(app.url(&form_path)).form(&[("csrf", "nope"), ("csat", "1")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(survey_of(&app, id).await.1["csat"], 4);

        // She changes her mind: a low rating reaches the supervisors through the shipped
        // automation (a tag, a note with her comment, an email).
        let (s, _) = rosa.send(&app, &form_path, &[("csat", "2"), ("comment", "It broke again the next day.")]).await;
        assert_eq!(s, 303);
        assert_eq!(survey_of(&app, id).await.1["csat"], 2);
        for _ in 0..3 { settle(&app.db).await; }
        let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert!(t["tags"].as_array().unwrap().iter().any(|g| g == "low-csat"), "{t}");
        let (_, runs) = app.get(&format!("/api/v1/tickets/{id}/automation-runs")).await;
        let low: Vec<&Value> = runs.as_array().unwrap().iter().filter(|r| r["rule_name"] == "Follow up a low CSAT").collect();
        assert_eq!(low.len(), 1, "{runs}");
        let (_, thread) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        assert!(thread.to_string().contains("It broke again the next day."), "{thread}");
        run_jobs_via(&app, relay()).await;
        let to_sup = sink.messages().into_iter().any(|(raw, meta)| {
            meta["rcpt_tos"][0] == "sup@example.com" && String::from_utf8_lossy(&raw).contains("CSAT 2")
        });
        assert!(to_sup, "the supervisor is told");

        // Solved again later: no second survey.
        app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Reopening", "status": "open"})).await;
        solve(&app, id).await;
        run_jobs_via(&app, relay()).await;
        assert_eq!(survey_mails(&sink).len(), 1);

        // She opts out from the link; her next solved ticket gets no survey, and the
        // opt-out shows to agents.
        let opt = format!("{form_path}/opt-out");
        let (s, page) = rosa.open(&app, &opt).await;
        assert_eq!(s, 200, "{page}");
        let (s, page) = rosa.send(&app, &opt, &[]).await;
        assert_eq!(s, 200);
        assert!(page.contains("send you surveys any more"), "{page}");
        let customer = t["customer"]["id"].as_i64().unwrap();
        let (_, o) = app.get(&format!("/api/v1/customers/{customer}/surveys")).await;
        assert_eq!(o["opt_out"], true);
        let second = email_ticket(&app, relay(), "rosa@customer.example", "Another thing", "s2@customer.example").await;
        solve(&app, second).await;
        run_jobs_via(&app, relay()).await;
        assert_eq!(survey_mails(&sink).len(), 1);
        assert_eq!(survey_of(&app, second).await.0, 404);

        // A machine's address and a bouncing one get none.
        let robot = email_ticket(&app, relay(), "no-reply@vendor.example", "Your invoice", "s3@vendor.example").await;
        solve(&app, robot).await;
        let bouncing = email_ticket(&app, relay(), "gone@customer.example", "Help", "s4@customer.example").await;
        app.db.write(op!(c => rapport_store::testing::execute_in(c,
            "UPDATE customers SET attributes = $1 WHERE email = $2",
            &["{\"email_bouncing\": true}".into(), "gone@customer.example".into()]).await)).await.unwrap();
        solve(&app, bouncing).await;
        run_jobs_via(&app, relay()).await;
        assert_eq!(survey_mails(&sink).len(), 1);

        // In German for a customer whose language is known.
        let german = email_ticket(&app, relay(), "jonas@kunde.example", "Frage", "s5@kunde.example").await;
        app.db.write(op!(c => rapport_store::testing::execute_in(c,
            "UPDATE customers SET attributes = $1 WHERE email = $2",
            &["{\"language\": \"de-DE\"}".into(), "jonas@kunde.example".into()]).await)).await.unwrap();
        solve(&app, german).await;
        run_jobs_via(&app, relay()).await;
        let mails = survey_mails(&sink);
        assert_eq!(mails.len(), 2);
        assert!(mails[1].1.starts_with("Wie war unsere Hilfe?"), "{}", mails[1].1);
        let (_, page) = Person::new().open(&app, &links(&mails[1].2)[0].1).await;
        assert!(page.contains("<html lang=\"de\">"), "{page}");
        app.stop().await;
    }

    async fn nps_goes_out_on_a_schedule_and_a_detractor_gets_a_follow_up(app) {
        let sink = SmtpSink::start(SinkOptions::default()).await;
        let relay = || Some(Relay::plain("127.0.0.1", sink.port));
        app.post("/api/v1/mailboxes", json!({"address": "help@shop.example", "name": "Shop Help"})).await;
        // Off until switched on; supervisors set it, agents may not; the interval is
        // checked.
        let sup = Some(app.supervisor.token.as_str());
        let (s, set) = app.call("GET", "/api/v1/surveys/settings", sup, None).await;
        assert_eq!(s, 200);
        assert_eq!(set["nps"], false);
        assert_eq!(set["after_solve"], true);
        let on = json!({"after_solve": true, "nps": true, "nps_interval_days": 90});
        let (s, e) = app.call("PUT", "/api/v1/surveys/settings", Some(&app.agent.token), Some(on.clone())).await;
        assert_error(s, &e, 403, None);
        let (s, e) = app.call("PUT", "/api/v1/surveys/settings", sup, Some(json!({"after_solve": true, "nps": true, "nps_interval_days": 7}))).await;
        assert_error(s, &e, 422, Some("nps_interval_days"));
        let (s, _) = app.call("PUT", "/api/v1/surveys/settings", sup, Some(on)).await;
        assert_eq!(s, 200);

        app.ticket("Question", "How do I export?", "omar@customer.example").await;
        let now = rapport_domain::Clock::now(&rapport_domain::SystemClock);
        let sent = rapport_jobs::surveys::send_nps(&app.db, now).await.unwrap();
        assert_eq!(sent, 1);
        assert_eq!(rapport_jobs::surveys::send_nps(&app.db, now).await.unwrap(), 0, "once per interval");
        run_jobs_via(&app, relay()).await;
        let mails = survey_mails(&sink);
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].0, "omar@customer.example");
        let ratings = links(&mails[0].2);
        assert_eq!(ratings.first().unwrap().0, 0);
        assert_eq!(ratings.last().unwrap().0, 10);

        let mut omar = Person::new();
        let (_, page) = omar.open(&app, &ratings[3].1).await;
        assert!(page.contains("How likely are you to recommend"), "{page}");
        let path = ratings[3].1.split('?').next().unwrap().to_owned();
        let (s, e) = omar.send(&app, &path, &[("csat", "3")]).await;
        assert_eq!(s, 422, "{e}");
        let (s, _) = omar.send(&app, &path, &[("nps", "3"), ("comment", "Too expensive for what it does.")]).await;
        assert_eq!(s, 303);
        for _ in 0..3 { settle(&app.db).await; }
        let (_, page) = app.get("/api/v1/tickets?limit=100").await;
        let follow = page["items"].as_array().unwrap().iter()
            .find(|t| t["tags"].as_array().unwrap().iter().any(|g| g == "nps-detractor"))
            .cloned()
            .expect("a follow-up ticket");
        assert_eq!(follow["customer"]["email"], "omar@customer.example");
        assert_eq!(follow["priority"], "high");
        let fid = follow["id"].as_i64().unwrap();
        let (_, thread) = app.get(&format!("/api/v1/tickets/{fid}/messages")).await;
        let thread = thread.to_string();
        assert!(thread.contains("Too expensive for what it does."), "{thread}");
        assert!(thread.contains("A detractor: NPS 3 of 10"), "{thread}");
        // Changing the answer opens no second follow-up.
        omar.send(&app, &path, &[("nps", "2")]).await;
        let n = crate::harness::count(&app.db, "SELECT COUNT(*) FROM tickets WHERE tags LIKE '%nps-detractor%'").await;
        assert_eq!(n, 1);
        app.stop().await;
    }

    async fn a_solved_chat_asks_the_visitor_for_a_rating_in_the_widget(app) {
        let (id, token) =
            crate::chat::start_ok(&app, json!({"body": "My order has not arrived"})).await;
        let (mut v, _) = crate::chat::Visitor::connect(&app.base, &token).await;
        v.send(json!({"type": "resume", "after": 0})).await;
        v.next_of("message").await;
        solve(&app, id).await;
        for _ in 0..3 {
            settle(&app.db).await;
        }
        // The offer is an event on the ticket; the socket hears it and asks.
        let f = v.next_of("survey").await;
        let url = f["url"].as_str().unwrap();
        let path = &url[url.find("/survey/").expect("a survey page")..];
        let (_, survey) = survey_of(&app, id).await;
        assert_eq!(survey["channel"], "chat", "{survey}");
        let (_, events) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
        assert!(events.to_string().contains("survey_offered"), "{events}");
        // The widget's "5" opens the page with 5 chosen; nothing is recorded until sent.
        let mut visitor = Person::new();
        let (s, page) = visitor.open(&app, &format!("{path}?csat=5")).await;
        assert_eq!(s, 200);
        assert!(page.contains("value=\"5\" checked"), "{page}");
        assert!(survey_of(&app, id).await.1["csat"].is_null());
        // A chat's link rates that chat only: whoever held the chat may have typed somebody
        // else's address, so it cannot stop that customer's surveys.
        assert!(!page.contains("/opt-out"), "{page}");
        assert_eq!(visitor.open(&app, &format!("{path}/opt-out")).await.0, 403);
        assert_eq!(visitor.send(&app, &format!("{path}/opt-out"), &[]).await.0, 403);
        let (s, _) = visitor.send(&app, path, &[("csat", "5"), ("comment", "Lovely chat")]).await;
        assert_eq!(s, 303);
        assert_eq!(survey_of(&app, id).await.1["csat"], 5);
        // A socket opened now is not asked again: the survey is answered.
        let (mut again, _) = crate::chat::Visitor::connect(&app.base, &token).await;
        again.send(json!({"type": "resume", "after": 0})).await;
        again.send(json!({"type": "ping"})).await;
        loop {
            let f = again.next().await;
            assert_ne!(f["type"], "survey", "asked again: {f}");
            if f["type"] == "pong" {
                break;
            }
        }
    }
}
