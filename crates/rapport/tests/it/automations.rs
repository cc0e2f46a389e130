//! Automations (issue 12): event rules with conditions and actions, loop safety, runs
//! logged on the ticket, all-or-none actions, time rules ("pending more than 3 days →
//! remind; 7 days → solve") and the check-in after a solved ticket, with a clock the test
//! moves. On both backends.

use std::sync::Arc;

use rapport_domain::{Clock, ManualClock, Timestamp};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error, count, settle};
use crate::on_both;

on_both!(rules_are_checked_and_kept_by_supervisors);
on_both!(event_rules_act_log_and_never_loop);
on_both!(time_rules_run_once_per_crossing_and_check_in_after_solving);
on_both!(an_sla_breach_raises_the_priority_and_tells_people);
on_both!(the_demo_history_gets_no_burst_of_check_ins);

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(json!(rfc3339)).unwrap()
}

async fn settle_all(app: &TestApp) {
    // Rules' changes set off other subscribers (and rules): until nothing moves.
    for _ in 0..6 {
        if settle(&app.db).await == 0 {
            return;
        }
    }
}

async fn runs(app: &TestApp, ticket: i64) -> Vec<Value> {
    let (s, r) = app
        .get(&format!("/api/v1/tickets/{ticket}/automation-runs"))
        .await;
    assert_eq!(s, 200, "{r}");
    r.as_array().unwrap().clone()
}

async fn ticket(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/v1/tickets/{id}")).await.1
}

async fn messages(app: &TestApp, id: i64) -> Vec<Value> {
    let (_, m) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
    m.as_array()
        .or_else(|| m["messages"].as_array())
        .or_else(|| m["items"].as_array())
        .unwrap_or_else(|| panic!("{m}"))
        .clone()
}

async fn rules_are_checked_and_kept_by_supervisors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sup = Some(app.supervisor.token.as_str());
    let good = json!({
        "name": "Urgent words", "trigger": "event", "events": ["ticket.created"],
        "conditions": [{"field": "subject", "op": "contains", "value": "down"}],
        "actions": [{"type": "set_priority", "priority": "urgent"}]
    });
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("name", json!(" ")), "name"),
        (with("trigger", json!("sometimes")), "trigger"),
        (with("events", json!([])), "events"),
        (with("events", json!(["ticket.deleted"])), "events[0]"),
        (
            with(
                "conditions",
                json!([{"field": "colour", "op": "is", "value": "red"}]),
            ),
            "conditions[0].field",
        ),
        (
            with(
                "conditions",
                json!([{"field": "status", "op": "contains", "value": "open"}]),
            ),
            "conditions[0].op",
        ),
        (
            with(
                "conditions",
                json!([{"field": "status", "op": "is", "value": "lost"}]),
            ),
            "conditions[0].value",
        ),
        (with("actions", json!([])), "actions"),
        (
            with("actions", json!([{"type": "explode"}])),
            "actions[0].type",
        ),
        (
            // (The message names the bad value and the allowed ones.)
            with(
                "actions",
                json!([{"type": "set_priority", "priority": "asap"}]),
            ),
            "actions[0]",
        ),
        (
            with(
                "actions",
                json!([{"type": "reply", "text": "Hi {{customer.password}}"}]),
            ),
            "actions[0].text",
        ),
        (
            with("actions", json!([{"type": "set_team", "team_id": 999_999}])),
            "actions[0].team_id",
        ),
        (
            with(
                "actions",
                json!([{"type": "notify", "to": [], "text": "x"}]),
            ),
            "actions[0].to",
        ),
        // A time rule needs its mark.
        (
            json!({"name": "t", "trigger": "time",
                   "conditions": [{"field": "status", "op": "is", "value": "pending"}],
                   "actions": [{"type": "set_status", "status": "solved"}]}),
            "conditions",
        ),
    ] {
        let (s, e) = app
            .call("POST", "/api/v1/automations", sup, Some(body.clone()))
            .await;
        assert_error(s, &e, 422, Some(field));
    }
    // Agents may not write rules.
    let (s, e) = app
        .call(
            "POST",
            "/api/v1/automations",
            Some(&app.agent.token),
            Some(good.clone()),
        )
        .await;
    assert_error(s, &e, 403, None);
    let (s, r) = app
        .call("POST", "/api/v1/automations", sup, Some(good.clone()))
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["events"], json!(["ticket.created"]));
    assert_eq!(r["actions"][0]["type"], "set_priority");
    let id = r["id"].as_i64().unwrap();
    // The list holds the shipped check-in rule and this one.
    let (_, all) = app.call("GET", "/api/v1/automations", sup, None).await;
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Check in after a ticket is solved",
            "Warn the owner before an SLA breach",
            "Tell the owner and supervisors about an SLA breach",
            "Follow up a low CSAT",
            "Follow up an NPS detractor",
            "Urgent words"
        ]
    );
    let (s, r) = app
        .call(
            "PUT",
            &format!("/api/v1/automations/{id}"),
            sup,
            Some(with("enabled", json!(false))),
        )
        .await;
    assert_eq!((s, r["enabled"].as_bool()), (200, Some(false)), "{r}");
    let (s, _) = app
        .call("DELETE", &format!("/api/v1/automations/{id}"), sup, None)
        .await;
    assert_eq!(s, 204);
    let (s, e) = app
        .call("GET", &format!("/api/v1/automations/{id}"), sup, None)
        .await;
    assert_error(s, &e, 404, None);
    app.stop().await;
}

async fn event_rules_act_log_and_never_loop(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sup = Some(app.supervisor.token.as_str());
    let make = |body: Value| {
        let app = &app;
        async move {
            let (s, r) = app
                .call("POST", "/api/v1/automations", sup, Some(body))
                .await;
            assert_eq!(s, 201, "{r}");
            r["id"].as_i64().unwrap()
        }
    };
    let (s, hook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example.com/rules", "events": ["sla.breached"]}),
        )
        .await;
    assert_eq!(s, 201, "{hook}");
    let escalate = make(json!({
        "name": "Charged twice", "trigger": "event", "events": ["ticket.created"],
        "conditions": [{"field": "subject", "op": "contains", "value": "charged twice"},
                       {"field": "priority", "op": "at_most", "value": "normal"}],
        "actions": [{"type": "set_priority", "priority": "urgent"},
                    {"type": "add_tags", "tags": ["double-charge"]},
                    {"type": "set_team", "team_id": app.team_a},
                    {"type": "note", "text": "{{rule.name}}: #{{ticket.number}} from {{customer.name}}"},
                    {"type": "webhook", "webhook_id": hook["id"]}]
    }))
    .await;
    let (_, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "I was charged twice", "body": "Two payments for one order",
                   "customer": {"email": "ana@example.com", "name": "Ana"}}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let (_, calm) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Question about sizes", "body": "Do you have XL?",
                   "customer": {"email": "bo@example.com"}}),
        )
        .await;
    let calm = calm["id"].as_i64().unwrap();
    settle_all(&app).await;
    let got = ticket(&app, id).await;
    assert_eq!(got["priority"], "urgent", "{got}");
    assert_eq!(got["tags"], json!(["double-charge"]));
    assert_eq!(got["team_id"], app.team_a);
    let notes: Vec<Value> = messages(&app, id)
        .await
        .into_iter()
        .filter(|m| m["internal"] == true)
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        notes[0]["body"],
        format!("Charged twice: #{} from Ana", got["number"])
    );
    let r = runs(&app, id).await;
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        (r[0]["rule_id"].as_i64(), r[0]["ok"].as_bool()),
        (Some(escalate), Some(true))
    );
    assert_eq!(r[0]["detail"]["done"][0], "set priority to urgent");
    // The webhook action queued one signed delivery of `automation.fired`.
    let queued = count(
        &app.db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook.deliver' AND payload LIKE '%automation.fired%'",
    )
    .await;
    assert_eq!(queued, 1);
    assert!(runs(&app, calm).await.is_empty(), "conditions did not hold");
    assert_eq!(ticket(&app, calm).await["priority"], "normal");
    // The history says which rule did it.
    let (_, evs) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
    let evs = evs.as_array().unwrap();
    assert!(evs.iter().any(|e| e["kind"] == "automation_ran"));
    let changed = evs
        .iter()
        .find(|e| e["kind"] == "fields_changed" && e["data"]["priority"]["to"] == "urgent")
        .unwrap();
    assert_eq!(changed["data"]["automation"]["rule_id"], escalate);
    assert_eq!(changed["actor_user_id"], Value::Null);

    // Two rules that undo each other stop at once: each runs once on the agent's change.
    let high_to_low = make(json!({
        "name": "Lower", "trigger": "event", "events": ["ticket.updated"],
        "conditions": [{"field": "priority", "op": "is", "value": "high"}],
        "actions": [{"type": "set_priority", "priority": "low"}]
    }))
    .await;
    let low_to_high = make(json!({
        "name": "Raise", "trigger": "event", "events": ["ticket.updated"],
        "conditions": [{"field": "priority", "op": "is", "value": "low"}],
        "actions": [{"type": "set_priority", "priority": "high"}]
    }))
    .await;
    let (s, _) = app
        .patch(
            &format!("/api/v1/tickets/{calm}"),
            json!({"priority": "high"}),
        )
        .await;
    assert_eq!(s, 200);
    settle_all(&app).await;
    settle_all(&app).await;
    let r = runs(&app, calm).await;
    let ids: Vec<i64> = r.iter().map(|r| r["rule_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [high_to_low, low_to_high], "{r:?}");
    assert_eq!(ticket(&app, calm).await["priority"], "high");

    // All or none: a rule whose reply cannot go out (the ticket is closed) tags nothing,
    // and its failure is logged.
    make(json!({
        "name": "Closed goodbye", "trigger": "event", "events": ["ticket.updated"],
        "conditions": [{"field": "status", "op": "is", "value": "closed"}],
        "actions": [{"type": "add_tags", "tags": ["said-goodbye"]},
                    {"type": "reply", "text": "Goodbye {{customer.name}}"}]
    }))
    .await;
    let (s, _) = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(s, 200);
    settle_all(&app).await;
    let r = runs(&app, id).await;
    let last = r.last().unwrap();
    assert_eq!(last["rule_name"], "Closed goodbye");
    assert_eq!(last["ok"], false);
    assert!(
        last["detail"]["error"]
            .as_str()
            .unwrap()
            .starts_with("reply:"),
        "{last}"
    );
    assert_eq!(ticket(&app, id).await["tags"], json!(["double-charge"]));
    // Another team's agent cannot read a ticket's runs.
    let (s, e) = app
        .call(
            "GET",
            &format!("/api/v1/tickets/{id}/automation-runs"),
            Some(&app.agent_b.token),
            None,
        )
        .await;
    assert_error(s, &e, 403, None);
    app.stop().await;
}

async fn time_rules_run_once_per_crossing_and_check_in_after_solving(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-02T09:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let sup = Some(app.supervisor.token.as_str());
    for body in [
        json!({"name": "Remind after 3 days", "trigger": "time",
               "conditions": [{"field": "status", "op": "is", "value": "pending"},
                              {"field": "hours_in_status", "op": "at_least", "value": 72}],
               "actions": [{"type": "reply", "text": "Hi {{customer.name}}, do you still need help with #{{ticket.number}}?"}]}),
        json!({"name": "Solve after 7 days", "trigger": "time",
               "conditions": [{"field": "status", "op": "is", "value": "pending"},
                              {"field": "hours_in_status", "op": "at_least", "value": 168}],
               "actions": [{"type": "set_status", "status": "solved"}]}),
    ] {
        let (s, r) = app
            .call("POST", "/api/v1/automations", sup, Some(body))
            .await;
        assert_eq!(s, 201, "{r}");
    }
    let pass = || {
        let db = app.db.clone();
        let now = clock.now();
        async move {
            rapport_jobs::automations::run_time_rules(&db, now)
                .await
                .unwrap()
        }
    };
    let open = |email: &'static str| {
        let app = &app;
        async move {
            let (s, t) = app
                .post(
                    "/api/v1/tickets",
                    json!({"subject": "Return label", "body": "Where is my label?",
                           "channel": "email",
                           "customer": {"email": email, "name": "Cleo"}}),
                )
                .await;
            assert_eq!(s, 201, "{t}");
            let id = t["id"].as_i64().unwrap();
            let (s, m) = app
                .post(
                    &format!("/api/v1/tickets/{id}/messages"),
                    json!({"body": "Could you send the order number?"}),
                )
                .await;
            assert_eq!(s, 201, "{m}");
            id
        }
    };
    let id = open("cleo@example.com").await;
    let quiet = open("quiet@example.com").await;
    let customer_of = |v: &Value| v["customer"]["id"].as_i64().unwrap();
    let quiet_customer = customer_of(&ticket(&app, quiet).await);
    let (s, r) = app
        .call(
            "PUT",
            &format!("/api/v1/customers/{quiet_customer}/check-ins"),
            Some(&app.agent.token),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!((s, r["enabled"].as_bool()), (200, Some(false)), "{r}");
    assert_eq!(ticket(&app, id).await["status"], "pending");
    assert_eq!(pass().await, 0);

    // Three days and a minute later: one reminder each, once.
    clock.advance_secs(72 * 3_600 + 60);
    assert_eq!(pass().await, 2);
    assert_eq!(pass().await, 0, "once per crossing");
    let replies: Vec<Value> = messages(&app, id)
        .await
        .into_iter()
        .filter(|m| m["internal"] == false && m["author"]["kind"] == "system")
        .collect();
    assert_eq!(replies.len(), 1, "{replies:?}");
    let number = ticket(&app, id).await["number"].clone();
    assert_eq!(
        replies[0]["body"],
        format!("Hi Cleo, do you still need help with #{number}?")
    );
    // The reminder did not restart the time in status: four days later it is solved.
    assert_eq!(ticket(&app, id).await["status"], "pending");
    clock.advance_secs(96 * 3_600);
    assert_eq!(pass().await, 2);
    assert_eq!(ticket(&app, id).await["status"], "solved");
    assert_eq!(ticket(&app, quiet).await["status"], "solved");

    // Three days after solving, the shipped check-in writes to the customer — not to the
    // one who asked for none.
    clock.advance_secs(72 * 3_600 + 60);
    assert_eq!(pass().await, 1);
    let last = messages(&app, id).await.last().unwrap().clone();
    assert!(
        last["body"]
            .as_str()
            .unwrap()
            .starts_with("Hi Cleo,\n\nA few days ago we solved your request"),
        "{last}"
    );
    assert_eq!(
        ticket(&app, id).await["status"],
        "solved",
        "a check-in reopens nothing"
    );
    assert!(
        runs(&app, quiet)
            .await
            .iter()
            .all(|r| r["rule_name"] != "Check in after a ticket is solved")
    );
    let logged = count(
        &app.db,
        "SELECT COUNT(*) AS n FROM automation_runs WHERE rule_name = 'Check in after a ticket is solved'",
    )
    .await;
    assert_eq!(logged, 1);
    // A ticket solved while the passes did not run for fifteen days is past the check-in's
    // two weeks when they run again: left alone.
    let late = open("late@example.com").await;
    let (s, _) = app
        .patch(
            &format!("/api/v1/tickets/{late}"),
            json!({"status": "solved"}),
        )
        .await;
    assert_eq!(s, 200);
    clock.advance_secs(15 * 86_400);
    assert_eq!(pass().await, 0);
    assert!(runs(&app, late).await.is_empty());
    // The same rule a day after solving would have written: proof the pass can.
    let prompt = open("prompt@example.com").await;
    app.patch(
        &format!("/api/v1/tickets/{prompt}"),
        json!({"status": "solved"}),
    )
    .await;
    clock.advance_secs(73 * 3_600);
    assert_eq!(pass().await, 1);
    assert_eq!(runs(&app, prompt).await.len(), 1);
    app.stop().await;
}

async fn an_sla_breach_raises_the_priority_and_tells_people(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-02T09:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let (s, m) = app
        .post(
            "/api/v1/mailboxes",
            json!({"address": "help@example.com", "name": "Help"}),
        )
        .await;
    assert_eq!(s, 201, "{m}");
    let (s, r) = app
        .call(
            "POST",
            "/api/v1/automations",
            Some(&app.supervisor.token),
            Some(
                json!({"name": "Breach: urgent", "trigger": "event", "events": ["sla.breached"],
                        "actions": [{"type": "set_priority", "priority": "urgent"},
                                    {"type": "add_tags", "tags": ["sla-breached"]}]}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let (_, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Parcel lost", "body": "It never came", "team_id": app.team_a,
                   "assignee_id": app.agent.id, "customer": {"email": "dan@example.com"}}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    settle_all(&app).await;
    let announce = || {
        let db = app.db.clone();
        let now = clock.now();
        async move {
            db.write(rapport_store::op!(c => rapport_store::sla::clocks::announce_due(c, now, 100).await))
                .await
                .unwrap()
        }
    };
    // The shipped 24-hour first response: a warning within the hour, then the breach.
    clock.advance_secs(23 * 3_600 + 30 * 60);
    assert_eq!(announce().await, 1);
    settle_all(&app).await;
    clock.advance_secs(3_600);
    assert_eq!(announce().await, 1);
    settle_all(&app).await;
    let got = ticket(&app, id).await;
    assert_eq!(got["priority"], "urgent", "{got}");
    assert_eq!(got["tags"], json!(["sla-breached"]));
    let r = runs(&app, id).await;
    let names: Vec<&str> = r.iter().map(|r| r["rule_name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Warn the owner before an SLA breach",
            "Tell the owner and supervisors about an SLA breach",
            "Breach: urgent"
        ]
    );
    // The owner was warned, then the owner, the supervisor and the admin were told.
    assert_eq!(r[0]["detail"]["done"], json!(["notified 1 agent(s)"]));
    assert_eq!(r[1]["detail"]["done"], json!(["notified 3 agent(s)"]));
    let queued = count(
        &app.db,
        "SELECT COUNT(*) FROM jobs WHERE kind = 'mail.notify' AND payload LIKE '%breached%'",
    )
    .await;
    assert_eq!(queued, 3);
    app.stop().await;
}

async fn the_demo_history_gets_no_burst_of_check_ins(backend: Backend) {
    // The demo's solved tickets are history: the shipped check-in acts on what is solved
    // from now on, not on them.
    let (_scratch, db) = crate::migrations::migrated(backend).await;
    let size = rapport_demo::DemoSize {
        tickets: 60,
        customers: 10,
        seed: 7,
    };
    let clock = rapport_domain::SystemClock;
    rapport_demo::populate(&db, &clock, &size).await.unwrap();
    let solved = count(
        &db,
        "SELECT COUNT(*) FROM tickets WHERE status = 'solved' AND solved_at IS NOT NULL",
    )
    .await;
    assert!(solved > 0, "the demo has solved tickets");
    let later = Timestamp(clock.now().0 + 4 * 86_400_000_000);
    assert_eq!(
        rapport_jobs::automations::run_time_rules(&db, later)
            .await
            .unwrap(),
        0
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM automation_runs").await, 0);
}
