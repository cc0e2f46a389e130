//! Deflection, measured: the portal's suggestion beacons (under ids only the server
//! issues), the outcome rules (deflected after 30 minutes, submitted, abandoned), the
//! articles a ticket's customer read shown to the agent, the reports' numbers on a known
//! fixture, the content gaps with their best answer, drafting an article from a gap,
//! permissions and bad input.

use rapport_domain::kb::{ArticleBody, ArticleStatus, ArticleTitle, Visibility};
use rapport_domain::{Clock, Role, SystemClock, Timestamp, Viewer};
use rapport_store::kb::{self, NewArticle};
use rapport_store::op;
use reqwest::header;
use serde_json::{Value, json};

use crate::both_backends;
use crate::harness::{TestApp, assert_error};
use crate::web::{client, set_password, sign_in};

fn admin(app: &TestApp) -> Viewer {
    Viewer {
        user_id: app.admin.id,
        role: Role::Admin,
        team_ids: Vec::new(),
    }
}

/// An article with `title`, in `status` and `visibility`; returns (id, slug).
pub async fn article(
    app: &TestApp,
    title: &str,
    status: ArticleStatus,
    vis: Visibility,
) -> (i64, String) {
    let v = admin(app);
    let mut new = NewArticle::draft(
        ArticleTitle::parse(title).unwrap(),
        ArticleBody::parse(&format!("# {title}\n\nHow to {title}.")).unwrap(),
    );
    new.status = status;
    new.visibility = vis;
    let now = Timestamp(chrono_now());
    let a = app
        .db
        .write(op!(c => kb::create(c, &v, new, now).await))
        .await
        .unwrap();
    (a.id, a.slug)
}

/// Now, as the server's clock says (the harness runs it on the system clock).
pub fn chrono_now() -> i64 {
    SystemClock.now().micros()
}

/// A visit of the new-request form, as a browser makes it: the deflection id the server
/// issued, the visitor cookie it is bound to, and the form's CSRF cookie.
pub struct Visit {
    pub token: String,
    pub visitor: String,
    pub csrf: String,
}

fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

/// Opens /portal/new as a new visitor (the form sets the cookie) or as `visitor`.
pub async fn visit_as(app: &TestApp, visitor: Option<&str>) -> Visit {
    let mut req = client().get(app.url("/portal/new"));
    if let Some(v) = visitor {
        req = req.header(header::COOKIE, format!("rapport_visitor={v}"));
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csrf = set_cookie(&r, "rapport_portal_csrf").unwrap();
    let visitor = match visitor {
        Some(v) => {
            assert!(
                set_cookie(&r, "rapport_visitor").is_none(),
                "a known visitor keeps its cookie"
            );
            v.to_owned()
        }
        None => set_cookie(&r, "rapport_visitor").expect("the form gives a new visitor the cookie"),
    };
    let html = r.text().await.unwrap();
    assert!(
        html.contains("aria-live=\"polite\""),
        "suggestions are a live region"
    );
    let token = html
        .split("name=\"deflection\" value=\"")
        .nth(1)
        .expect("the form carries its deflection id")
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    Visit {
        token,
        visitor,
        csrf,
    }
}

pub async fn visit(app: &TestApp) -> Visit {
    visit_as(app, None).await
}

/// Sends a beacon of `v`'s form (with its visitor cookie).
pub async fn beacon(app: &TestApp, v: &Visit, what: &str, form: &[(&str, &str)]) -> u16 {
    beacon_with(app, &v.token, Some(&v.visitor), what, form).await
}

/// Sends a beacon naming `token`, with the visitor cookie `visitor`.
pub async fn beacon_with(
    app: &TestApp,
    token: &str,
    visitor: Option<&str>,
    what: &str,
    form: &[(&str, &str)],
) -> u16 {
    let mut req = client()
        .post(app.url(&format!("/portal/deflection/{token}/{what}")))
        .form(form);
    if let Some(v) = visitor {
        req = req.header(header::COOKIE, format!("rapport_visitor={v}"));
    }
    req.send().await.unwrap().status().as_u16()
}

pub async fn sup(app: &TestApp, path: &str) -> (u16, Value) {
    app.call("GET", path, Some(&app.supervisor.token), None)
        .await
}

pub fn iso(micros: i64) -> String {
    Timestamp(micros).to_datetime().to_rfc3339()
}

/// Submits `v`'s form (with its deflection id and visitor cookie); returns the ticket id.
pub async fn submit(app: &TestApp, v: &Visit, email: &str) -> i64 {
    let r = post_form(app, v, &v.csrf, email).await;
    assert_eq!(r.status(), 303);
    let link = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
    link.trim_start_matches("/portal/requests/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Posts `v`'s form while the browser holds the CSRF cookie `csrf_cookie`.
async fn post_form(app: &TestApp, v: &Visit, csrf_cookie: &str, email: &str) -> reqwest::Response {
    let http = client();
    let csrf = v.csrf.clone();
    let multipart = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("deflection", v.token.clone())
        .text("email", email.to_owned())
        .text("name", "Pat")
        .text("subject", "My refund did not arrive")
        .text(
            "message",
            "I read the article but it still has not arrived.",
        );
    let cookies = format!(
        "rapport_portal_csrf={csrf_cookie}; rapport_visitor={}",
        v.visitor
    );
    http.post(app.url("/portal/new"))
        .header(header::COOKIE, cookies)
        .multipart(multipart)
        .send()
        .await
        .unwrap()
}

pub async fn search_row(
    app: &TestApp,
    query: &str,
    confident: bool,
    customer: Option<i64>,
    visitor: Option<&str>,
    ago_secs: i64,
) {
    let (query, visitor) = (
        query.to_owned(),
        visitor.map(rapport_store::secrets::token_hash),
    );
    let at = chrono_now() - ago_secs * 1_000_000;
    app.db
        .write(op!(c => {
            rapport_store::testing::execute_in(
                c,
                "INSERT INTO kb_searches (query, normalized, source, hits, confident, customer_id, visitor, created_at)
                 VALUES ($1, $2, 'help', 0, $3, $4, $5, $6)",
                &[query.clone().into(), query.to_lowercase().into(), confident.into(), customer.into(), visitor.into(), at.into()],
            )
            .await
        }))
        .await
        .unwrap();
}

both_backends! {
    async fn an_opened_suggestion_without_a_ticket_is_deflected_after_30_minutes(app) {
        let (public, _) = article(&app, "Reset your password", ArticleStatus::Published, Visibility::Public).await;
        let (draft, _) = article(&app, "Unreleased plans", ArticleStatus::Draft, Visibility::Public).await;
        let (internal, _) = article(&app, "Internal escalation", ArticleStatus::Published, Visibility::Internal).await;
        // The portal's suggestions come from the public's view of the index: the follower
        // indexes the new articles within moments (a deadline, not a timing assertion).
        let ids_for = |q: &'static str| {
            let http = client();
            let url = app.url(&format!("/api/v1/kb/suggest?q={q}"));
            async move {
                let r: Value = http.get(url).send().await.unwrap().json().await.unwrap();
                r["hits"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect::<Vec<i64>>()
            }
        };
        let deadline = instant() + std::time::Duration::from_secs(20);
        while !ids_for("reset%20passw").await.contains(&public) {
            assert!(instant() < deadline, "the public article is suggested");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(!ids_for("unreleased%20plans").await.contains(&draft), "never a draft");
        assert!(!ids_for("internal%20escalation").await.contains(&internal), "never an internal article");
        let t = visit(&app).await;
        let ids = format!("{public},{draft},{internal}");
        assert_eq!(beacon(&app, &t, "shown", &[("articles", &ids)]).await, 204);
        // Only what the public may read was recorded: the others cannot be "opened".
        assert_eq!(beacon(&app, &t, "opened", &[("article", &draft.to_string())]).await, 404);
        assert_eq!(beacon(&app, &t, "opened", &[("article", &internal.to_string())]).await, 404);
        assert_eq!(beacon(&app, &t, "opened", &[("article", &public.to_string())]).await, 204);
        // Another visit: shown, nothing opened.
        assert_eq!(beacon(&app, &visit(&app).await, "shown", &[("articles", &public.to_string())]).await, 204);
        // An attempt that showed nothing, or a made-up id, opens nothing.
        assert_eq!(beacon(&app, &visit(&app).await, "opened", &[("article", &public.to_string())]).await, 404);
        assert_eq!(beacon_with(&app, "not-an-id", Some(&t.visitor), "shown", &[("articles", "1")]).await, 404);

        let now = chrono_now();
        let (s, r) = sup(&app, "/api/v1/kb/reports/deflection").await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["total"]["attempts"], 2);
        assert_eq!(r["total"]["pending"], 2, "within 30 minutes nothing is settled: {r}");
        let at = |secs: i64| format!("/api/v1/kb/reports/deflection?as_of={}", urlencode(&iso(now + secs * 1_000_000)));
        let (_, r) = sup(&app, &at(29 * 60)).await;
        assert_eq!(r["total"]["pending"], 2, "{r}");
        let (_, r) = sup(&app, &at(31 * 60)).await;
        assert_eq!(r["total"]["deflected"], 1, "{r}");
        assert_eq!(r["total"]["abandoned"], 1, "{r}");
        assert_eq!(r["total"]["submitted"], 0, "{r}");
        assert_eq!(r["total"]["rate"], 1.0, "{r}");
        let days = r["periods"].as_array().unwrap();
        assert!(days.len() >= 30, "every day of the range is listed: {}", days.len());
        assert_eq!(days.iter().map(|d| d["attempts"].as_i64().unwrap()).sum::<i64>(), 2);
        let (_, w) = sup(&app, &format!("{}&period=week", at(31 * 60))).await;
        assert_eq!(w["period"], "week");
        assert_eq!(w["total"]["deflected"], 1);
        // The articles report counts the suggestion and the open.
        let (_, a) = sup(&app, "/api/v1/kb/reports/articles").await;
        let row = a["articles"].as_array().unwrap().iter().find(|x| x["id"] == public).unwrap().clone();
        assert_eq!(row["suggested"], 2, "{row}");
        assert_eq!(row["opened_from_suggestion"], 1, "{row}");
        app.stop().await;
    }

    async fn a_submitted_request_shows_the_agent_what_the_customer_read(app) {
        let (read, read_slug) = article(&app, "Where is my refund", ArticleStatus::Published, Visibility::Public).await;
        let (shown, _) = article(&app, "Refund policy", ArticleStatus::Published, Visibility::Public).await;
        let t = visit(&app).await;
        assert_eq!(beacon(&app, &t, "shown", &[("articles", &format!("{read},{shown}"))]).await, 204);
        assert_eq!(beacon(&app, &t, "opened", &[("article", &read.to_string())]).await, 204);
        let ticket = submit(&app, &t, "reader@example.com").await;
        // Once submitted, the attempt takes no more beacons.
        assert_eq!(beacon(&app, &t, "opened", &[("article", &shown.to_string())]).await, 404);
        // A form whose script never showed anything records nothing.
        let plain = submit(&app, &visit(&app).await, "noscript@example.com").await;

        let later = urlencode(&iso(chrono_now() + 3600 * 1_000_000));
        let (_, r) = sup(&app, &format!("/api/v1/kb/reports/deflection?as_of={later}")).await;
        assert_eq!(r["total"]["attempts"], 1, "{r}");
        assert_eq!(r["total"]["submitted"], 1, "{r}");
        assert_eq!(r["total"]["deflected"], 0, "{r}");
        assert_eq!(r["total"]["rate"], 0.0, "{r}");

        set_password(&app, "agent.a@example.com", "a long password 1").await;
        let http = client();
        let (session, _) = sign_in(&app, &http, "agent.a@example.com", "a long password 1").await;
        let page = |id: i64| {
            let http = http.clone();
            let session = session.clone();
            let url = app.url(&format!("/tickets/{id}"));
            async move {
                let r = http.get(url).header(header::COOKIE, format!("rapport_session={session}")).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.text().await.unwrap()
            }
        };
        let html = page(ticket).await;
        let top = html.find("Before writing, the customer read").expect("the box is there");
        assert!(top < html.find("id=\"thread\"").unwrap(), "at the top, above the thread");
        assert!(html.contains(&format!("href=\"/help/articles/{read_slug}\"")), "{html}");
        assert!(html.contains("Where is my refund"));
        assert!(html.contains("Refund policy</a> <span class=\"muted\">(suggested, not opened)"), "{html}");
        assert!(!page(plain).await.contains("Before writing"));
        app.stop().await;
    }

    async fn reports_count_a_known_fixture(app) {
        let (a, _) = article(&app, "Track a parcel", ArticleStatus::Published, Visibility::Public).await;
        let (b, _) = article(&app, "Change your address", ArticleStatus::Published, Visibility::Public).await;
        let (draft, _) = article(&app, "Quiet draft", ArticleStatus::Draft, Visibility::Public).await;
        let today = Timestamp(chrono_now()).day();
        app.db
            .write(op!(c => {
                use rapport_store::kb::views::{DayViews, record};
                record(c, &[
                    DayViews { article_id: a, day: today, views: 7 },
                    DayViews { article_id: a, day: today - 1, views: 3 },
                    DayViews { article_id: b, day: today, views: 2 },
                    DayViews { article_id: a, day: today - 200, views: 1000 },
                ]).await
            }))
            .await
            .unwrap();
        let now = Timestamp(chrono_now());
        app.db
            .write(op!(c => {
                use rapport_store::kb::feedback::{Comment, NewVote, Voter, vote};
                let en = rapport_domain::kb::Locale::english();
                for (i, helpful, comment) in [(1, true, ""), (2, true, "Clear, thanks"), (3, false, "Missing the customs part")] {
                    vote(c, &NewVote {
                        article_id: a,
                        locale: en.clone(),
                        helpful,
                        comment: (!comment.is_empty()).then(|| Comment::parse(comment).unwrap()),
                        voter: Voter::Visitor(format!("v{i}")),
                    }, now).await?;
                }
                Ok(())
            }))
            .await
            .unwrap();
        let (s, r) = sup(&app, "/api/v1/kb/reports/articles").await;
        assert_eq!(s, 200, "{r}");
        let rows = r["articles"].as_array().unwrap();
        assert_eq!(rows[0]["id"], a, "most viewed first");
        assert_eq!(rows[0]["views"], 10, "the 200-day-old views are outside the range: {}", rows[0]);
        assert_eq!(rows[0]["helpful_yes"], 2);
        assert_eq!(rows[0]["helpful_no"], 1);
        assert!((rows[0]["helpful_ratio"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(rows[0]["comments"], 2);
        assert_eq!(rows[1]["id"], b);
        assert_eq!(rows[1]["helpful_ratio"], Value::Null);
        assert!(rows.iter().all(|x| x["id"] != draft), "an idle draft is not listed");
        // A range of one day.
        let yesterday = Timestamp((today - 1) * 86_400_000_000).to_datetime().format("%Y-%m-%d").to_string();
        let (_, one) = sup(&app, &format!("/api/v1/kb/reports/articles?from={yesterday}&to={yesterday}")).await;
        let first = one["articles"].as_array().unwrap().iter().find(|x| x["id"] == a).unwrap().clone();
        assert_eq!(first["views"], 3, "{first}");
        let (s, c) = sup(&app, &format!("/api/v1/kb/reports/articles/{a}/comments")).await;
        assert_eq!(s, 200);
        let texts: Vec<&str> = c["comments"].as_array().unwrap().iter().map(|x| x["comment"].as_str().unwrap()).collect();
        assert_eq!(texts.len(), 2);
        assert!(texts.contains(&"Missing the customs part") && texts.contains(&"Clear, thanks"));
        app.stop().await;
    }

    async fn gaps_group_what_was_asked_and_offer_the_best_answer(app) {
        // (a) No confident result, three spellings of one question (three visitors) and
        // one other.
        search_row(&app, "Refund my orders", false, None, Some("v1"), 600).await;
        search_row(&app, "orders refund", false, None, Some("v2"), 500).await;
        search_row(&app, "refund order?", false, None, Some("v3"), 400).await;
        search_row(&app, "gift wrapping", false, None, Some("v1"), 300).await;
        search_row(&app, "refund order", true, None, Some("v4"), 200).await;
        // (b) A signed-in customer's search, then their ticket, solved with an answer.
        let t1 = app.ticket("Customs fees", "Why do I pay customs?", "cust@example.com").await;
        let t1_id = t1["id"].as_i64().unwrap();
        let customer = t1["customer"]["id"].as_i64().unwrap();
        search_row(&app, "customs fees", false, Some(customer), None, 1200).await;
        search_row(&app, "Fees customs", true, Some(customer), None, 2 * 3600).await; // too early
        let (s, m) = app.post(&format!("/api/v1/tickets/{t1_id}/messages"), json!({"body": "Customs fees are charged by your country **on import**."})).await;
        assert_eq!(s, 201, "{m}");
        app.post(&format!("/api/v1/tickets/{t1_id}/messages"), json!({"body": "private: check the invoice", "internal": true})).await;
        let (s, _) = app.patch(&format!("/api/v1/tickets/{t1_id}"), json!({"status": "solved"})).await;
        assert_eq!(s, 200);
        // An anonymous visitor searched, then filed through the portal with the same cookie.
        search_row(&app, "customs fee", false, None, Some(VISITOR), 900).await;
        let t2 = submit(&app, &visit_as(&app, Some(VISITOR)).await, "anon@example.com").await;
        app.post(&format!("/api/v1/tickets/{t2}/messages"), json!({"body": "Pending answer on an open ticket."})).await;

        let (s, r) = sup(&app, "/api/v1/kb/reports/gaps").await;
        assert_eq!(s, 200, "{r}");
        let un = r["unanswered"].as_array().unwrap();
        assert_eq!(un[0]["key"], "order refund", "{r}");
        assert_eq!(un[0]["searches"], 3, "the confident one is not a gap: {r}");
        assert_eq!(un[0]["people"], 3, "{r}");
        assert!(un.iter().any(|g| g["key"] == "gift wrapping" && g["searches"] == 1 && g["people"] == 1));
        let fo = r["followed"].as_array().unwrap();
        assert_eq!(fo.len(), 1, "{r}");
        let g = &fo[0];
        assert_eq!(g["key"], "custom fee");
        assert_eq!(g["searches"], 2, "the customer's and the visitor's, not the one hours before: {g}");
        assert_eq!(g["people"], 2, "{g}");
        let mut tickets: Vec<i64> = g["ticket_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        tickets.sort_unstable();
        assert_eq!(tickets, { let mut v = vec![t1_id, t2]; v.sort_unstable(); v });
        assert_eq!(g["answer"]["ticket_id"], t1_id, "the solved ticket's answer first: {g}");
        assert_eq!(g["answer"]["solved"], true);
        assert!(g["answer"]["body"].as_str().unwrap().contains("on import"));
        let message_id = g["answer"]["message_id"].as_i64().unwrap();

        // Drafting from the gap: a draft, never public.
        let (s, d) = app.call("POST", "/api/v1/kb/reports/gaps/draft", Some(&app.supervisor.token),
            Some(json!({"query": g["query"], "message_id": message_id}))).await;
        assert_eq!(s, 201, "{d}");
        assert_eq!(d["status"], "draft");
        let id = d["id"].as_i64().unwrap();
        assert_eq!(d["edit_url"], format!("/kb/articles/{id}/edit"));
        let got = app.db.read(op!(c => kb::get(c, None, id).await)).await;
        assert!(got.is_err(), "the public cannot read the draft");
        let v = admin(&app);
        let a = app.db.read(op!(c => kb::get(c, Some(&rapport_domain::Principal::Agent(v)), id).await)).await.unwrap();
        assert_eq!(a.status, ArticleStatus::Draft);
        assert_eq!(a.source_ticket_id, Some(t1_id));
        assert!(a.default_translation().unwrap().body.contains("on import"));
        assert_eq!(a.title(), g["query"].as_str().unwrap());
        // An internal note is not an answer to draft from.
        let note: i64 = app.db.read(op!(c => rapport_store::testing::one_in(c,
            "SELECT MAX(id) FROM messages WHERE internal", &[]).await?.int(0))).await.unwrap();
        let (s, e) = app.call("POST", "/api/v1/kb/reports/gaps/draft", Some(&app.supervisor.token),
            Some(json!({"query": "customs", "message_id": note}))).await;
        assert_error(s, &e, 422, Some("message_id"));
        app.stop().await;
    }

    async fn reports_are_for_supervisors_and_refuse_bad_input(app) {
        for path in ["/api/v1/kb/reports/articles", "/api/v1/kb/reports/deflection", "/api/v1/kb/reports/gaps", "/api/v1/kb/reports/articles/1/comments"] {
            let (s, e) = app.call("GET", path, Some(&app.agent.token), None).await;
            assert_error(s, &e, 403, None);
            let (s, e) = app.call("GET", path, None, None).await;
            assert_error(s, &e, 401, None);
            let (s, _) = app.call("GET", path, Some(&app.admin.token), None).await;
            assert_eq!(s, 200, "{path}");
        }
        let (s, e) = app.call("POST", "/api/v1/kb/reports/gaps/draft", Some(&app.agent.token), Some(json!({"query": "x"}))).await;
        assert_error(s, &e, 403, None);
        let (s, e) = app.call("POST", "/api/v1/kb/reports/gaps/draft", None, Some(json!({"query": "x"}))).await;
        assert_error(s, &e, 401, None);
        // A customer's portal cookie is no agent.
        let r = client().get(app.url("/api/v1/kb/reports/gaps")).header(header::COOKIE, "rapport_portal=abc").send().await.unwrap();
        assert_eq!(r.status(), 401);
        let bad = [
            ("/api/v1/kb/reports/gaps?from=yesterday", "from"),
            (&*format!("/api/v1/kb/reports/gaps?from={}", "9".repeat(5000)), "from"),
            ("/api/v1/kb/reports/gaps?from=2026-01-10&to=2026-01-01", "to"),
            ("/api/v1/kb/reports/articles?from=2020-01-01&to=2026-01-01", "from"),
            ("/api/v1/kb/reports/deflection?period=month", "period"),
            ("/api/v1/kb/reports/deflection?as_of=soon", "as_of"),
            ("/api/v1/kb/reports/deflection?colour=red", "colour"),
        ];
        for (path, field) in bad {
            let (s, e) = sup(&app, path).await;
            assert_error(s, &e, 422, Some(field));
        }
        let (s, e) = app.call("POST", "/api/v1/kb/reports/gaps/draft", Some(&app.supervisor.token),
            Some(json!({"query": "q".repeat(10_000)}))).await;
        assert_error(s, &e, 422, Some("query"));
        let (s, e) = app.call("POST", "/api/v1/kb/reports/gaps/draft", Some(&app.supervisor.token),
            Some(json!({"query": "   "}))).await;
        assert_error(s, &e, 422, Some("query"));
        // The beacons refuse what is not ids, and too many.
        let t = visit(&app).await;
        assert_eq!(beacon(&app, &t, "shown", &[("articles", &"1,".repeat(200))]).await, 422);
        assert_eq!(beacon(&app, &t, "shown", &[("articles", "1,2,3,4,5,6,7,8,9,10,11")]).await, 422);
        assert_eq!(beacon(&app, &t, "shown", &[("articles", "one")]).await, 422);
        assert_eq!(beacon(&app, &t, "opened", &[("article", "x")]).await, 422);
        app.stop().await;
    }

    async fn reading_a_suggested_article_does_not_expire_the_form(app) {
        let (a, slug) = article(&app, "Where is my parcel", ArticleStatus::Published, Visibility::Public).await;
        let v = visit(&app).await;
        assert_eq!(beacon(&app, &v, "shown", &[("articles", &a.to_string())]).await, 204);
        // The suggestion opens the article in another tab of the same browser: its page
        // (with a feedback form of its own) keeps the browser's CSRF token.
        let r = client()
            .get(app.url(&format!("/help/articles/{slug}")))
            .header(header::COOKIE, format!("rapport_portal_csrf={}; rapport_visitor={}", v.csrf, v.visitor))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let jar = set_cookie(&r, "rapport_portal_csrf").unwrap_or_else(|| v.csrf.clone());
        assert_eq!(jar, v.csrf, "the article page keeps the token");
        assert!(r.text().await.unwrap().contains(&format!("value=\"{}\"", v.csrf)), "its form carries it");
        assert_eq!(beacon(&app, &v, "opened", &[("article", &a.to_string())]).await, 204);
        // Back in the first tab, the request goes through.
        let sent = post_form(&app, &v, &jar, "parcel@example.com").await;
        assert_eq!(sent.status(), 303, "{}", sent.text().await.unwrap());
        // A made-up token is still refused.
        let forged = post_form(&app, &v, "0123456789abcdef0123456789abcdef", "parcel@example.com").await;
        assert_eq!(forged.status(), 403);
        app.stop().await;
    }

    async fn beacons_count_only_ids_the_server_issued_and_each_once(app) {
        let (a, _) = article(&app, "Pair the headphones", ArticleStatus::Published, Visibility::Public).await;
        let (b, _) = article(&app, "Charge the headphones", ArticleStatus::Published, Visibility::Public).await;
        let ids = format!("{a},{b}");
        let v = visit(&app).await;
        assert_eq!(v.token.len(), 80, "{}", v.token);
        let hash = rapport_store::secrets::token_hash(&v.visitor);
        let now = Timestamp(chrono_now());
        // Ids the server did not issue to this visitor, now, are refused and count nothing:
        // made up in the right shape, the old 32-digit shape, one digit altered, the id
        // without its cookie or with another browser's, and one issued more than a day ago.
        let mut altered = v.token.clone().into_bytes();
        altered[79] = if altered[79] == b'0' { b'1' } else { b'0' };
        let altered = String::from_utf8(altered).unwrap();
        let other = visit(&app).await;
        let expired = kb::deflection::issue(&app.sealer, &hash, now.plus_secs(-(kb::deflection::TOKEN_TTL_SECS + 60)));
        let wrong_key = kb::deflection::issue(&rapport_store::secrets::Sealer::new([9; 32]), &hash, now);
        let refused: [(&str, &str, Option<&str>); 7] = [
            ("made up", &*"ab".repeat(40), Some(&v.visitor)),
            ("old shape", "0123456789abcdef0123456789abcdef", Some(&v.visitor)),
            ("altered", &altered, Some(&v.visitor)),
            ("no cookie", &v.token, None),
            ("another browser", &v.token, Some(&other.visitor)),
            ("expired", &expired, Some(&v.visitor)),
            ("another key", &wrong_key, Some(&v.visitor)),
        ];
        for (what, token, cookie) in refused {
            assert_eq!(beacon_with(&app, token, cookie, "shown", &[("articles", &ids)]).await, 404, "{what}");
            assert_eq!(beacon_with(&app, token, cookie, "opened", &[("article", &a.to_string())]).await, 404, "{what}");
            assert_eq!(beacon_with(&app, token, cookie, "searched", &[("q", "pair headphones")]).await, 404, "{what}");
        }
        let rows = rapport_store::testing::scalar(&app.db, "SELECT COUNT(*) FROM kb_deflections").await.unwrap();
        assert_eq!(rows, 0, "a refused beacon records nothing");
        // An id issued with the server's key to this visitor a moment ago is taken: the
        // refusals above were the ids' fault.
        let fresh = kb::deflection::issue(&app.sealer, &hash, now.plus_secs(-60));
        assert_eq!(beacon_with(&app, &fresh, Some(&v.visitor), "shown", &[("articles", &a.to_string())]).await, 204);

        // One id is one attempt, whatever it sends: shown again, both opened, reopened.
        for _ in 0..3 {
            assert_eq!(beacon(&app, &v, "shown", &[("articles", &ids)]).await, 204);
        }
        for id in [a, b, a] {
            assert_eq!(beacon(&app, &v, "opened", &[("article", &id.to_string())]).await, 204);
        }
        let later = urlencode(&iso(chrono_now() + 31 * 60 * 1_000_000));
        let (_, r) = sup(&app, &format!("/api/v1/kb/reports/deflection?as_of={later}")).await;
        assert_eq!(r["total"]["attempts"], 2, "{r}");
        assert_eq!(r["total"]["deflected"], 1, "one id, one deflection: {r}");
        assert_eq!(r["total"]["abandoned"], 1, "{r}");
        app.stop().await;
    }
}

#[expect(
    clippy::disallowed_methods,
    reason = "a test deadline for the index follower, not a timing assertion"
)]
pub fn instant() -> std::time::Instant {
    std::time::Instant::now()
}

/// A visitor cookie as `rapport_http::visitor` makes them (32 hex digits).
const VISITOR: &str = "0123456789abcdef0123456789abcdef";

pub fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
