//! The assistant bot inside live chat and the handoff to a person, on both databases: the
//! bot's answer is stored on the ticket (author `bot`) and pushed with its knowledge-base
//! link; "yes" counts a resolution and solves the ticket; a handoff (the visitor's frame,
//! or the bot's own when it has no confident answer) puts the summary on the ticket, routes
//! it to the team named like the detected category, and assigns an online agent under
//! their limit — also when many chats arrive at once; a transfer needs a note; a socket
//! never hands over a conversation it has not authenticated for.

use rapport_domain::{AuthorKind, Principal};
use rapport_store::chat::handoff;
use rapport_store::op;
use serde_json::{Value, json};

use crate::both_backends;
use crate::chat::{Visitor, start_ok};
use crate::harness::{TestApp, assert_error, count, settle};

async fn status(app: &TestApp, token: &str, user: i64, body: Value) -> Value {
    crate::chat::at_work(app, user).await;
    let (s, v) = app
        .call(
            "PUT",
            &format!("/api/v1/chat/agents/{user}"),
            Some(token),
            Some(body),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

async fn ticket(app: &TestApp, id: i64) -> Value {
    let (s, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(s, 200, "{t}");
    t
}

/// A team named like the built-in "Billing" category, with agent A in it.
async fn billing_team(app: &TestApp) -> i64 {
    let (agent, now) = (
        app.agent.id,
        rapport_domain::Clock::now(&rapport_domain::SystemClock),
    );
    app.db
        .write(op!(c => {
            let t = rapport_store::people::create_team(c, "Billing", now).await?.id;
            rapport_store::people::add_member(c, t, agent).await?;
            Ok(t)
        }))
        .await
        .unwrap()
}

async fn top(app: &TestApp, ticket: i64) -> handoff::Top {
    app.db
        .read(op!(c => handoff::top(c, ticket).await))
        .await
        .unwrap()
}

/// The frames a fresh socket gets for the whole conversation, up to the bot's `n`th message.
async fn bot_messages(v: &mut Visitor, n: usize) -> Vec<Value> {
    v.send(json!({"type": "resume", "after": 0})).await;
    let mut out = Vec::new();
    while out.len() < n {
        let f = v.next_of("message").await;
        if f["author"] == "bot" {
            out.push(f);
        }
    }
    out
}

both_backends! {
    async fn the_bot_answers_in_chat_with_its_source_and_yes_solves_it(app) {
        crate::bot::demo(&app).await;
        let (id, token) = start_ok(&app, json!({"body": "How do I reset my password?"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        let answer = bot_messages(&mut v, 1).await.remove(0);
        let url = answer["sources"][0]["url"].as_str().unwrap();
        assert!(url.starts_with("/help/articles/reset-your-password"), "{answer}");
        assert!(!answer["sources"][0]["title"].as_str().unwrap().is_empty());
        assert_eq!(answer["asks_verdict"], true, "{answer}");
        assert!(answer["body"].as_str().unwrap().contains("Did that solve it?"), "{answer}");
        // Stored on the ticket as the bot's public message, in the agents' history.
        let msgs = app
            .db
            .read(op!(c => rapport_store::messages::for_ticket(c, &Principal::System, id).await))
            .await
            .unwrap();
        let bot = msgs.iter().find(|m| m.author.kind == AuthorKind::Bot).expect("a bot message");
        assert!(!bot.internal);
        assert_eq!(bot.id, answer["id"].as_i64().unwrap());
        // A bot-only chat waits on the visitor, not on agents; nobody has it.
        let t = ticket(&app, id).await;
        assert_eq!(t["status"], "pending", "{t}");
        assert!(t["assignee_id"].is_null());
        assert!(top(&app, id).await.with_bot);
        // "Yes" counts a confirmed resolution and solves the ticket.
        v.say("yes-1", "Yes, that solved it, thanks").await;
        let thanks = loop {
            let f = v.next_of("message").await;
            if f["author"] == "bot" {
                break f;
            }
        };
        assert!(thanks["sources"].as_array().is_none_or(|s| s.is_empty()), "{thanks}");
        assert_eq!(ticket(&app, id).await["status"], "solved");
        let (s, r) = app.call("GET", "/api/v1/bot/report", Some(&app.admin.token), None).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["resolved_confirmed"], 1, "{r}");
        assert_eq!(r["handed_over"], 0, "{r}");
    }

    async fn talk_to_a_person_hands_over_with_the_summary_to_an_online_agent_of_the_team(app) {
        crate::bot::demo(&app).await;
        let billing = billing_team(&app).await;
        let (id, token) = start_ok(&app, json!({"body": "How do I reset my password?"})).await;
        // A socket that has not authenticated cannot hand anything over.
        let mut stranger = Visitor::open(&app.base, None).await.unwrap();
        stranger.send(json!({"type": "handoff"})).await;
        let f = stranger.next().await;
        assert_eq!(f["code"], "unauthorized", "{f}");
        assert_eq!(stranger.closed().await, Some(4003));
        assert!(top(&app, id).await.with_bot, "still the bot's");
        // Agent A (in Billing) goes online; agent B stays offline.
        let a = status(&app, &app.agent.token, app.agent.id, json!({"status": "online"})).await;
        assert_eq!(a["status"], "online");
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        bot_messages(&mut v, 1).await;
        v.say("m-2", "No. I was charged twice on my invoice and want a refund").await;
        v.send(json!({"type": "handoff"})).await;
        let h = v.next_of("handoff").await;
        assert_eq!(h["assigned"], true, "{h}");
        assert!(!h["expected_reply"].as_str().unwrap().is_empty());
        let coming = loop {
            let f = v.next_of("message").await;
            if f["author"] == "bot" && f["body"].as_str().unwrap().contains("person") {
                break f;
            }
        };
        assert!(coming["body"].as_str().unwrap().contains(h["expected_reply"].as_str().unwrap()));
        let t = ticket(&app, id).await;
        assert_eq!(t["team_id"], billing, "{t}");
        assert_eq!(t["assignee_id"], app.agent.id, "{t}");
        assert_eq!(t["category"], "billing", "{t}");
        assert_eq!(t["status"], "open", "{t}");
        let top = top(&app, id).await;
        let summary = top.summary.expect("a summary");
        assert!(summary.contains("Question: How do I reset my password?"), "{summary}");
        assert!(summary.contains("Tried:\n- "), "what the bot tried: {summary}");
        assert!(!top.with_bot && !top.waiting);
        assert_eq!(
            count(&app.db, "SELECT COUNT(*) AS n FROM events WHERE kind = 'handed_over'").await,
            1
        );
        // Asking again changes nothing; the bot says nothing more after the handoff.
        let bots_sql = "SELECT COUNT(*) AS n FROM messages WHERE author_kind = 'bot'";
        let bots = count(&app.db, bots_sql).await;
        v.send(json!({"type": "handoff"})).await;
        v.next_of("handoff").await;
        v.say("m-3", "hello?").await;
        assert_eq!(
            count(&app.db, "SELECT COUNT(*) AS n FROM events WHERE kind = 'handed_over'").await,
            1
        );
        assert_eq!(count(&app.db, bots_sql).await, bots, "the bot is quiet once a person has it");
        // The summary is at the top of the ticket page for agents.
        crate::web::set_password(&app, "agent.a@example.com", "a long enough password").await;
        let http = crate::web::client();
        let (session, _) = crate::web::sign_in(&app, &http, "agent.a@example.com", "a long enough password").await;
        let page = http
            .get(app.url(&format!("/tickets/{id}")))
            .header(reqwest::header::COOKIE, format!("rapport_session={session}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("The assistant bot&#x27;s summary") || page.contains("The assistant bot's summary"), "{page}");
        assert!(page.contains("Handed over by the assistant bot."));
    }

    async fn no_confident_answer_hands_over_and_many_chats_respect_the_limit(app) {
        // No knowledge base: the bot knows nothing, so every chat goes to a person.
        let billing = billing_team(&app).await;
        status(&app, &app.agent.token, app.agent.id, json!({"status": "online", "chat_limit": 2})).await;
        let starts = (0..5).map(|i| {
            let app = &app;
            async move {
                start_ok(app, json!({"body": format!("My invoice {i} has a wrong charge, refund please")})).await
            }
        });
        let chats = futures::future::join_all(starts).await;
        for (id, _) in &chats {
            let t = ticket(&app, *id).await;
            assert_eq!(t["team_id"], billing, "{t}");
            assert_eq!(t["category"], "billing", "{t}");
        }
        let mine = "SELECT COUNT(*) AS n FROM tickets WHERE channel = 'chat' AND assignee_id IS NOT NULL";
        let waiting = "SELECT COUNT(*) AS n FROM chat_conversations WHERE waiting = TRUE";
        assert_eq!(count(&app.db, mine).await, 2, "never over the limit");
        assert_eq!(count(&app.db, waiting).await, 3);
        // The visitor was told, with the expected reply time.
        let (mut v, _) = Visitor::connect(&app.base, &chats[4].1).await;
        let said = bot_messages(&mut v, 1).await.remove(0);
        assert!(said["body"].as_str().unwrap().contains("person"), "{said}");
        assert!(said["sources"].as_array().is_none_or(|s| s.is_empty()));
        // Away: keeps the chats, takes no new one even when one ends.
        status(&app, &app.agent.token, app.agent.id, json!({"status": "away"})).await;
        let mut assigned = Vec::new();
        for (id, _) in &chats {
            if !ticket(&app, *id).await["assignee_id"].is_null() {
                assigned.push(*id);
            }
        }
        let (s, t) = app.patch(&format!("/api/v1/tickets/{}", assigned[0]), json!({"status": "solved"})).await;
        assert_eq!(s, 200, "{t}");
        settle(&app.db).await;
        assert_eq!(count(&app.db, waiting).await, 3);
        // Online again: the freed place is taken at once, still within the limit.
        status(&app, &app.agent.token, app.agent.id, json!({"status": "online"})).await;
        assert_eq!(count(&app.db, waiting).await, 2);
        // A larger limit takes more; a solved chat frees a place for the next (subscriber).
        status(&app, &app.agent.token, app.agent.id, json!({"chat_limit": 3})).await;
        assert_eq!(count(&app.db, waiting).await, 1);
        let (s, _) = app.patch(&format!("/api/v1/tickets/{}", assigned[1]), json!({"status": "solved"})).await;
        assert_eq!(s, 200);
        settle(&app.db).await;
        assert_eq!(count(&app.db, waiting).await, 0);
        let open_mine = "SELECT COUNT(*) AS n FROM tickets WHERE channel = 'chat' AND assignee_id IS NOT NULL AND status NOT IN ('solved', 'closed')";
        assert_eq!(count(&app.db, open_mine).await, 3);
        // Bad input names the field; another agent's status is not yours to set.
        let (s, e) = app.call("PUT", &format!("/api/v1/chat/agents/{}", app.agent.id), Some(&app.agent.token), Some(json!({"status": "busy"}))).await;
        assert_error(s, &e, 422, Some("status"));
        let (s, e) = app.call("PUT", &format!("/api/v1/chat/agents/{}", app.agent.id), Some(&app.agent.token), Some(json!({"chat_limit": 51}))).await;
        assert_error(s, &e, 422, Some("chat_limit"));
        let (s, e) = app.call("PUT", &format!("/api/v1/chat/agents/{}", app.agent.id), Some(&app.agent_b.token), Some(json!({"status": "offline"}))).await;
        assert_error(s, &e, 403, None);
    }

    async fn a_transfer_needs_a_note_and_shows_it_to_the_new_owner(app) {
        billing_team(&app).await;
        status(&app, &app.agent.token, app.agent.id, json!({"status": "online"})).await;
        status(&app, &app.agent_b.token, app.agent_b.id, json!({"status": "online"})).await;
        let (id, _) = start_ok(&app, json!({"body": "My invoice shows a wrong charge"})).await;
        assert_eq!(ticket(&app, id).await["assignee_id"], app.agent.id);
        let path = format!("/api/v1/chat/conversations/{id}/transfer");
        let (s, e) = app.call("POST", &path, Some(&app.agent.token), Some(json!({"team_id": app.team_b, "note": "  "}))).await;
        assert_error(s, &e, 422, Some("note"));
        let (s, e) = app.call("POST", &path, Some(&app.agent.token), Some(json!({"team_id": app.team_b}))).await;
        assert_error(s, &e, 422, Some("note"));
        let (s, e) = app.call("POST", &path, Some(&app.agent.token), Some(json!({"note": "x"}))).await;
        assert_error(s, &e, 422, Some("assignee_id"));
        assert_eq!(ticket(&app, id).await["assignee_id"], app.agent.id, "nothing moved");
        let note = "Refund over the limit I may grant; customer is polite";
        let (s, p) = app.call("POST", &path, Some(&app.agent.token), Some(json!({"team_id": app.team_b, "note": note}))).await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["assignee_id"], app.agent_b.id, "{p}");
        let t = ticket(&app, id).await;
        assert_eq!((t["team_id"].as_i64(), t["assignee_id"].as_i64()), (Some(app.team_b), Some(app.agent_b.id)));
        assert_eq!(top(&app, id).await.transfer_note.as_deref(), Some(note));
        assert_eq!(count(&app.db, "SELECT COUNT(*) AS n FROM events WHERE kind = 'transferred'").await, 1);
        // From the workspace: the ticket page's form, a note required, back to agent A.
        crate::web::set_password(&app, "agent.b@example.com", "a long enough password").await;
        let http = crate::web::client();
        let (session, csrf) = crate::web::sign_in(&app, &http, "agent.b@example.com", "a long enough password").await;
        let page = http.get(app.url(&format!("/tickets/{id}")))
            .header(reqwest::header::COOKIE, format!("rapport_session={session}"))
            .send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Transferred to you with a note") && page.contains("Refund over the limit"), "{page}");
        assert!(page.contains("Transfer chat"));
        let form = |note: &'static str| {
            let (http, url) = (http.clone(), app.url(&format!("/tickets/{id}/transfer")));
            let (session, csrf) = (session.clone(), csrf.clone());
            let to = format!("agent:{}", app.agent.id);
            async move {
                http.post(url)
                    .header(reqwest::header::COOKIE, format!("rapport_session={session}"))
                    .form(&[("csrf", csrf.as_str()), ("to", to.as_str()), ("note", note)])
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(form("").await, 422);
        assert_eq!(ticket(&app, id).await["assignee_id"], app.agent_b.id);
        assert_eq!(form("Back to you, A").await, 303);
        assert_eq!(ticket(&app, id).await["assignee_id"], app.agent.id);
        assert_eq!(top(&app, id).await.transfer_note.as_deref(), Some("Back to you, A"));
        // Agent B is not in team A: the chat is not theirs to move any more.
        let (s, e) = app.call("POST", &path, Some(&app.agent_b.token), Some(json!({"assignee_id": app.agent_b.id, "note": "mine"}))).await;
        assert_error(s, &e, 403, None);
    }

    async fn with_the_bot_off_nothing_answers_and_chats_go_to_people_at_once(app) {
        let (s, v) = app.call("PUT", "/api/v1/chat/settings", Some(&app.admin.token), Some(json!({"bot_enabled": false}))).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["bot_enabled"], false);
        // Nobody online: the chat waits in the queue of the team its words point to.
        let team = billing_team(&app).await;
        let (id, token) = start_ok(&app, json!({"body": "I was charged twice on my invoice"})).await;
        let (mut v, _) = Visitor::connect(&app.base, &token).await;
        v.say("m-2", "still there?").await;
        assert_eq!(count(&app.db, "SELECT COUNT(*) AS n FROM messages WHERE author_kind = 'bot'").await, 0);
        let t = ticket(&app, id).await;
        assert_eq!(t["team_id"], team, "{t}");
        assert!(t["assignee_id"].is_null());
        assert!(top(&app, id).await.waiting);
        // "Talk to a person" says the same: it is already waiting for one.
        v.send(json!({"type": "handoff"})).await;
        assert_eq!(v.next_of("handoff").await["assigned"], false);
        // An agent of the team online and at work: the next chat is theirs at once, up to
        // their limit (the waiting one first, when they came online).
        status(&app, &app.agent.token, app.agent.id, json!({"status": "online", "chat_limit": 2})).await;
        assert_eq!(ticket(&app, id).await["assignee_id"], app.agent.id, "the waiting chat");
        let (second, _) = start_ok(&app, json!({"body": "my invoice is wrong"})).await;
        assert_eq!(ticket(&app, second).await["assignee_id"], app.agent.id);
        let (third, _) = start_ok(&app, json!({"body": "invoice refund please"})).await;
        let t = ticket(&app, third).await;
        assert!(t["assignee_id"].is_null(), "over the limit of 2: {t}");
        assert!(top(&app, third).await.waiting);
        assert_eq!(count(&app.db, "SELECT COUNT(*) AS n FROM messages WHERE author_kind = 'bot'").await, 0);
    }

    async fn a_message_a_crash_left_unanswered_gets_the_bots_answer_once(app) {
        use rapport_domain::{Body, Clock, SystemClock, chat::ClientId};
        use std::sync::Arc;
        crate::bot::demo(&app).await;
        let (id, _) = start_ok(&app, json!({"body": "How do I reset my password?"})).await;
        let bots = || count(&app.db, "SELECT COUNT(*) AS n FROM messages WHERE author_kind = 'bot'");
        assert_eq!(bots().await, 1);
        // A message acknowledged a minute ago whose answer the crash took with it.
        let past = SystemClock.now().plus_secs(-60);
        app.db
            .write(op!(c => {
                let conv = rapport_store::chat::current(c, id).await?;
                let body = Body::parse("And how do I change my email address?")?;
                rapport_store::chat::messages::post(c, &conv, &ClientId::parse("lost-1")?, &body, past).await?;
                Ok(())
            }))
            .await
            .unwrap();
        // What the server's minute sweep runs, on a node's state over the same database.
        let mut st = rapport_http::AppState::new(app.db.clone(), Arc::new(SystemClock), app.base.clone());
        st.kb_index = rapport_index::kb::KbIndex::load(&app.db).await.unwrap();
        let sweep = || rapport_http::api::chat::assistant::answer_unanswered(&st);
        assert_eq!(sweep().await.unwrap(), 1);
        assert_eq!(bots().await, 2, "the bot answered the message the crash left");
        // Once: the newest message is now the bot's.
        assert_eq!(sweep().await.unwrap(), 0);
        assert_eq!(bots().await, 2);
        // A message of the last 30 seconds is left to the live answer.
        app.db
            .write(op!(c => {
                let conv = rapport_store::chat::current(c, id).await?;
                let body = Body::parse("one more thing")?;
                rapport_store::chat::messages::post(c, &conv, &ClientId::parse("fresh-1")?, &body, SystemClock.now()).await?;
                Ok(())
            }))
            .await
            .unwrap();
        assert_eq!(sweep().await.unwrap(), 0);
    }

    async fn agents_set_their_chat_status_in_the_workspace(app) {
        crate::web::set_password(&app, "agent.a@example.com", "a long enough password").await;
        let http = crate::web::client();
        let (session, csrf) = crate::web::sign_in(&app, &http, "agent.a@example.com", "a long enough password").await;
        let cookie = format!("rapport_session={session}");
        let page = http.get(app.url("/preferences")).header(reqwest::header::COOKIE, &cookie)
            .send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Chat status") && page.contains("Most chats at once"), "{page}");
        let post = |status: &'static str, limit: &'static str| {
            let (http, url, cookie, csrf) = (http.clone(), app.url("/chat/status"), cookie.clone(), csrf.clone());
            async move {
                http.post(url)
                    .header(reqwest::header::COOKIE, cookie)
                    .form(&[("csrf", csrf.as_str()), ("status", status), ("chat_limit", limit)])
                    .send().await.unwrap().status().as_u16()
            }
        };
        assert_eq!(post("online", "5").await, 303);
        let (s, a) = app.call("GET", &format!("/api/v1/chat/agents/{}", app.agent.id), Some(&app.agent.token), None).await;
        assert_eq!(s, 200, "{a}");
        assert_eq!((a["status"].as_str(), a["chat_limit"].as_i64()), (Some("online"), Some(5)));
        assert_eq!(post("busy", "5").await, 422);
        assert_eq!(post("away", "500").await, 422);
        let (_, a) = app.call("GET", &format!("/api/v1/chat/agents/{}", app.agent.id), Some(&app.agent.token), None).await;
        assert_eq!(a["status"], "online", "a refused form changes nothing");
        // Another agent's availability is an admin's to read.
        let (s, e) = app.call("GET", &format!("/api/v1/chat/agents/{}", app.agent.id), Some(&app.agent_b.token), None).await;
        assert_error(s, &e, 403, None);
    }
}
