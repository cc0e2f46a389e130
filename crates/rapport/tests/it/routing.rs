//! Routing (issue 12): a team hands out new tickets round-robin or least-loaded to its
//! online agents, never past an agent's capacity — not even when 200 tickets arrive at
//! once while the waiting-queue pass runs beside them —, by skills, back to the
//! customer's last agent, and transfers carry a note to the new owner.

use rapport_domain::Clock;
use rapport_domain::{Role, SystemClock};
use rapport_store::op;
use serde_json::{Value, json};

use crate::harness::{Agent, Backend, TestApp, add_agent, assert_error, settle};
use crate::on_both;

on_both!(
    no_agent_goes_over_capacity_when_200_tickets_arrive_at_once,
    tickets_go_round_robin_by_skill_and_back_to_the_last_agent,
    transfers_need_a_note_and_show_it_to_the_new_owner,
);

/// A new agent in `team`, online (set with their own token), with this capacity.
async fn online_agent(app: &TestApp, email: &str, team: i64, limit: i64) -> Agent {
    let a = add_agent(&app.db, email, Role::Agent).await;
    let (s, v) = app
        .post(
            &format!("/api/v1/teams/{team}/members"),
            json!({"user_id": a.id}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    set_status(app, &a, "online").await;
    let (s, v) = app
        .call(
            "PATCH",
            &format!("/api/v1/agents/{}/routing", a.id),
            Some(&app.supervisor.token),
            Some(json!({"ticket_limit": limit})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ticket_limit"], limit);
    a
}

async fn set_status(app: &TestApp, a: &Agent, status: &str) {
    let (s, v) = app
        .call(
            "PUT",
            &format!("/api/v1/chat/agents/{}", a.id),
            Some(&a.token),
            Some(json!({"status": status})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

async fn set_routing(app: &TestApp, team: i64, method: &str) {
    let (s, v) = app
        .call(
            "PUT",
            &format!("/api/v1/teams/{team}/routing"),
            Some(&app.supervisor.token),
            Some(json!({"routing": method})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["routing"], method);
}

async fn open_tickets(app: &TestApp, a: &Agent) -> i64 {
    let (s, v) = app.get(&format!("/api/v1/agents/{}/routing", a.id)).await;
    assert_eq!(s, 200, "{v}");
    v["open_tickets"].as_i64().unwrap()
}

async fn new_ticket(app: &TestApp, team: i64, email: &str, subject: &str, body: &str) -> i64 {
    let (s, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": subject, "body": body, "team_id": team,
                   "customer": {"email": email}}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t["id"].as_i64().unwrap()
}

async fn assignee(app: &TestApp, id: i64) -> Option<i64> {
    settle(&app.db).await;
    let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
    t["assignee_id"].as_i64()
}

async fn route_waiting(app: &TestApp) -> usize {
    let now = SystemClock.now();
    app.db
        .write(op!(c => rapport_store::routing::route_waiting(c, 500, now).await))
        .await
        .unwrap()
}

async fn no_agent_goes_over_capacity_when_200_tickets_arrive_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Team A's own agent is offline: routing passes them over.
    let limits = [30, 50, 70];
    let mut agents = Vec::new();
    for (i, limit) in limits.iter().enumerate() {
        agents.push(online_agent(&app, &format!("burst{i}@example.com"), app.team_a, *limit).await);
    }
    set_routing(&app, app.team_a, "least_loaded").await;
    // 200 tickets at once, while four waiting-queue passes (other nodes' minute loops)
    // run beside them and beside the routing subscriber.
    let creating = futures::future::join_all((0..200).map(|i| {
        let app = &app;
        async move {
            new_ticket(
                app,
                app.team_a,
                &format!("burst{i}@customer.example"),
                "Order missing",
                "Where is my parcel?",
            )
            .await
        }
    }));
    let passes = futures::future::join_all((0..4).map(|_| async {
        for _ in 0..15 {
            route_waiting(&app).await;
            tokio::task::yield_now().await;
        }
    }));
    let (ids, _) = tokio::join!(creating, passes);
    assert_eq!(ids.len(), 200);
    settle(&app.db).await;
    route_waiting(&app).await;
    let mut total = 0;
    for (a, limit) in agents.iter().zip(limits) {
        let open = open_tickets(&app, a).await;
        assert_eq!(open, limit, "agent {} has {open} of {limit}", a.id);
        total += open;
    }
    assert_eq!(open_tickets(&app, &app.agent).await, 0, "offline: none");
    assert_eq!(total, 150);
    // The other 50 wait in the team's queue; a larger capacity hands out ten more.
    let (s, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/agents/{}/routing", agents[0].id),
            Some(&app.supervisor.token),
            Some(json!({"ticket_limit": 40})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(route_waiting(&app).await, 10);
    assert_eq!(open_tickets(&app, &agents[0]).await, 40);
    assert_eq!(route_waiting(&app).await, 0, "everyone is full");
    // Solving a ticket frees a place, which the queue fills at once.
    let mine: Vec<&i64> = {
        let mut v = Vec::new();
        for id in &ids {
            if assignee(&app, *id).await == Some(agents[1].id) {
                v.push(id);
                break;
            }
        }
        v
    };
    let (s, v) = app
        .patch(
            &format!("/api/v1/tickets/{}", mine[0]),
            json!({"status": "solved"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    settle(&app.db).await;
    assert_eq!(open_tickets(&app, &agents[1]).await, 50, "refilled");
    app.stop().await;
}

async fn tickets_go_round_robin_by_skill_and_back_to_the_last_agent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let team = app.team_b;
    let a1 = online_agent(&app, "rr1@example.com", team, 10).await;
    let a2 = online_agent(&app, "rr2@example.com", team, 10).await;
    // Team B's own agent is away: passed over.
    set_status(&app, &app.agent_b, "away").await;
    // Manual: nobody is chosen.
    let t = new_ticket(&app, team, "m@example.com", "Hello", "A question").await;
    assert_eq!(assignee(&app, t).await, None);
    set_routing(&app, team, "round_robin").await;
    // The waiting one is handed out by the queue pass.
    assert_eq!(route_waiting(&app).await, 1);
    let first = assignee(&app, t).await.unwrap();
    assert!(first == a1.id || first == a2.id);
    // Then in turn.
    let mut got = Vec::new();
    for i in 0..4 {
        let id = new_ticket(
            &app,
            team,
            &format!("rr{i}@customer.example"),
            "Hi",
            "A question",
        )
        .await;
        got.push(assignee(&app, id).await.unwrap());
    }
    assert_ne!(got[0], first);
    assert_eq!(got[0], got[2]);
    assert_eq!(got[1], got[3]);
    assert_ne!(got[0], got[1]);
    // The customer writes again: back to their last agent, whoever's turn it is.
    let again = new_ticket(
        &app,
        team,
        "rr1@customer.example",
        "Again",
        "Still a question",
    )
    .await;
    assert_eq!(assignee(&app, again).await, Some(got[1]));
    // Skills: a German speaker; a German ticket goes to them only.
    let (s, v) = app
        .call(
            "PATCH",
            &format!("/api/v1/agents/{}/routing", a2.id),
            Some(&app.supervisor.token),
            Some(json!({"skills": {"categories": [], "languages": ["de"]}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["skills"]["languages"], json!(["de"]));
    let (s, v) = app
        .call(
            "PATCH",
            &format!("/api/v1/agents/{}/routing", a1.id),
            Some(&app.supervisor.token),
            Some(json!({"skills": {"categories": ["billing"], "languages": ["fr"]}})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for _ in 0..3 {
        let id = new_ticket(
            &app,
            team,
            &format!("de{}@customer.example", rand_suffix()),
            "Frage",
            "Ich habe eine Frage zu meiner Rechnung, die ist nicht richtig und ich verstehe das nicht",
        )
        .await;
        assert_eq!(assignee(&app, id).await, Some(a2.id));
    }
    // Nobody speaks Spanish here: it waits in the queue.
    let es = new_ticket(
        &app,
        team,
        "es@customer.example",
        "Pregunta",
        "Hola, tengo una pregunta sobre mi pedido y no lo entiendo, por favor",
    )
    .await;
    assert_eq!(assignee(&app, es).await, None);
    // Bad settings name their field; agents cannot change routing.
    for (body, field) in [
        (json!({"ticket_limit": -1}), "ticket_limit"),
        (
            json!({"skills": {"categories": ["nope"], "languages": []}}),
            "skills.categories",
        ),
        (
            json!({"skills": {"categories": [], "languages": ["german"]}}),
            "skills.languages",
        ),
    ] {
        let (s, e) = app
            .call(
                "PATCH",
                &format!("/api/v1/agents/{}/routing", a1.id),
                Some(&app.supervisor.token),
                Some(body),
            )
            .await;
        assert_error(s, &e, 422, Some(field));
    }
    let (s, e) = app
        .call(
            "PUT",
            &format!("/api/v1/teams/{team}/routing"),
            Some(&app.supervisor.token),
            Some(json!({"routing": "random"})),
        )
        .await;
    assert_error(s, &e, 422, Some("routing"));
    let (s, e) = app
        .call(
            "PUT",
            &format!("/api/v1/teams/{team}/routing"),
            Some(&app.agent_b.token),
            Some(json!({"routing": "manual"})),
        )
        .await;
    assert_error(s, &e, 403, None);
    // Least-loaded: the one with fewer open tickets gets the next (skills cleared).
    for a in [&a1, &a2] {
        let (s, _) = app
            .call(
                "PATCH",
                &format!("/api/v1/agents/{}/routing", a.id),
                Some(&app.supervisor.token),
                Some(json!({"skills": {"categories": [], "languages": []}})),
            )
            .await;
        assert_eq!(s, 200);
    }
    set_routing(&app, team, "least_loaded").await;
    let (l1, l2) = (open_tickets(&app, &a1).await, open_tickets(&app, &a2).await);
    assert_ne!(l1, l2, "the loads differ after the German tickets");
    let lighter = if l1 < l2 { a1.id } else { a2.id };
    let id = new_ticket(&app, team, "ll@customer.example", "Hi", "A question").await;
    assert_eq!(assignee(&app, id).await, Some(lighter));
    // A ticket handed back to the queue goes to someone else, never straight back.
    let (s, _) = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            json!({"assignee_id": null}),
        )
        .await;
    assert_eq!(s, 200);
    let other = if lighter == a1.id { a2.id } else { a1.id };
    assert_eq!(assignee(&app, id).await, Some(other));
    // The history says why.
    let (_, evs) = app.get(&format!("/api/v1/tickets/{again}/events")).await;
    let routed: Vec<&Value> = evs
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "routed")
        .collect();
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0]["data"]["reason"], "sticky");
    app.stop().await;
}

fn rand_suffix() -> String {
    rapport_store::secrets::new_token()[..12].to_owned()
}

async fn transfers_need_a_note_and_show_it_to_the_new_owner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let colleague = online_agent(&app, "colleague@example.com", app.team_a, 10).await;
    let t = new_ticket(&app, app.team_a, "tr@example.com", "Refund", "Where is it?").await;
    let path = format!("/api/v1/tickets/{t}/transfer");
    let me = Some(app.agent.token.as_str());
    for (body, field) in [
        (json!({"assignee_id": colleague.id, "note": "  "}), "note"),
        (json!({"assignee_id": colleague.id}), "note"),
        (json!({"note": "Over to you"}), "assignee_id"),
        (
            json!({"assignee_id": 999_999, "note": "Over to you"}),
            "assignee_id",
        ),
        // Not in team A.
        (
            json!({"assignee_id": app.agent_b.id, "note": "Over to you"}),
            "assignee_id",
        ),
        (
            json!({"team_id": 999_999, "note": "Over to you"}),
            "team_id",
        ),
    ] {
        let (s, e) = app.call("POST", &path, me, Some(body)).await;
        assert_error(s, &e, 422, Some(field));
    }
    // Another team's agent cannot move it.
    let (s, e) = app
        .call(
            "POST",
            &path,
            Some(&app.agent_b.token),
            Some(json!({"assignee_id": app.agent_b.id, "note": "mine"})),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (_, none) = app.call("GET", &path, me, None).await;
    assert_eq!(none["error"]["code"], "not_found");
    let (s, tr) = app
        .call(
            "POST",
            &path,
            me,
            Some(json!({"assignee_id": colleague.id,
                        "note": "Refund approved; <b>waiting</b> on the bank's reference."})),
        )
        .await;
    assert_eq!(s, 200, "{tr}");
    assert_eq!(tr["to_assignee_id"], colleague.id);
    assert_eq!(tr["by_user_id"], app.agent.id);
    let (_, ticket) = app.get(&format!("/api/v1/tickets/{t}")).await;
    assert_eq!(ticket["assignee_id"], colleague.id);
    let (_, last) = app.call("GET", &path, me, None).await;
    assert_eq!(last["note"], tr["note"]);
    // The new owner sees it at the top of the ticket page, escaped.
    let page = workspace_page(&app, "colleague@example.com", &format!("/tickets/{t}")).await;
    assert!(page.contains("Transferred to you with a note"), "{page}");
    assert!(
        page.contains("Refund approved; &#60;b&#62;waiting&#60;/b&#62;"),
        "{page}"
    );
    // To a team alone: the team's routing picks its owner.
    set_routing(&app, app.team_b, "least_loaded").await;
    set_status(&app, &app.agent_b, "online").await;
    let (s, tr) = app
        .call(
            "POST",
            &path,
            Some(&app.admin.token),
            Some(json!({"team_id": app.team_b, "note": "Billing question, really"})),
        )
        .await;
    assert_eq!(s, 200, "{tr}");
    assert_eq!(tr["to_team_id"], app.team_b);
    assert_eq!(assignee(&app, t).await, Some(app.agent_b.id));
    app.stop().await;
}

/// A workspace page as this agent sees it (signed in with a password set here).
async fn workspace_page(app: &TestApp, email: &str, path: &str) -> String {
    crate::web::set_password(app, email, "a long enough password").await;
    let http = crate::web::client();
    let (session, _) = crate::web::sign_in(app, &http, email, "a long enough password").await;
    http.get(app.url(path))
        .header(
            reqwest::header::COOKIE,
            format!("rapport_session={session}"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
