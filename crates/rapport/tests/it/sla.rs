//! SLAs on business hours (issue 12): the default first-response target on every new
//! ticket, policies chosen by conditions, clocks measured in a calendar's business hours,
//! paused while the ticket waits on the customer and resumed when they answer — with a
//! clock the test moves.

use std::sync::Arc;

use rapport_domain::{Body, Channel, Clock, ManualClock, Principal, Timestamp};
use rapport_store::{op, tickets};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp, assert_error, settle};
use crate::on_both;

on_both!(
    a_new_ticket_gets_the_default_first_response_target,
    business_hours_policies_pause_while_waiting_on_the_customer,
    policies_and_calendars_are_checked_and_kept_to_supervisors,
    a_note_that_sets_pending_pauses_the_clocks,
    views_sort_by_the_soonest_due_time,
    warnings_and_breaches_are_announced_once,
    the_demo_help_desk_has_sla_clocks,
    a_raised_priority_moves_the_clocks_under_its_policy,
    new_tickets_handled_together_store_their_due_times,
    a_guessed_due_time_no_policy_gives_is_taken_off,
);

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(json!(rfc3339)).unwrap()
}

fn time(v: &Value) -> Timestamp {
    at(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
}

async fn with_clock(backend: Backend, start: &str) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at(start)));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    (app, clock)
}

async fn a_new_ticket_gets_the_default_first_response_target(backend: Backend) {
    let (app, clock) = with_clock(backend, "2026-11-27T16:00:00Z").await;
    let t = app
        .ticket("Printer on fire", "It smokes", "sla1@example.com")
        .await;
    let id = t["id"].as_i64().unwrap();
    // In the creation's answer already, and the same when read back before and after the
    // subscriber stored it: 24 calendar hours.
    let due = at("2026-11-28T16:00:00Z");
    assert_eq!(time(&t["sla"]["first_response_due_at"]), due, "{t}");
    assert_eq!(t["sla"]["breached"], false);
    assert_eq!(t["sla"]["first_response"]["state"], "running");
    assert_eq!(t["sla"]["resolution"]["state"], "off");
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(time(&read["sla"]["first_response_due_at"]), due);
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(time(&read["sla"]["first_response_due_at"]), due);
    // In lists too.
    let (_, list) = app.get("/api/v1/tickets?status=unsolved").await;
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap();
    assert_eq!(time(&row["sla"]["next_due_at"]), due);
    // A second past the due time it is breached; the late reply meets it, breached.
    clock.advance_secs(24 * 3_600 + 1);
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(read["sla"]["breached"], true, "{read}");
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{id}/messages"),
            json!({"body": "On it"}),
        )
        .await;
    assert_eq!(s, 201);
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    let first = &read["sla"]["first_response"];
    assert_eq!(first["state"], "met", "{read}");
    assert_eq!(time(&first["met_at"]), at("2026-11-28T16:00:01Z"));
    assert_eq!(first["breached"], true);
    assert!(read["sla"]["first_response_due_at"].is_null());
    // A reply in time is not breached.
    let t = app.ticket("Second", "Quick one", "sla1@example.com").await;
    let id = t["id"].as_i64().unwrap();
    clock.advance_secs(600);
    app.post(
        &format!("/api/v1/tickets/{id}/messages"),
        json!({"body": "Done"}),
    )
    .await;
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(read["sla"]["first_response"]["state"], "met");
    assert_eq!(read["sla"]["breached"], false);
    app.stop().await;
}

async fn business_hours_policies_pause_while_waiting_on_the_customer(backend: Backend) {
    // Friday 27 November 2026, 16:30 in Berlin (15:30 UTC).
    let (app, clock) = with_clock(backend, "2026-11-27T15:30:00Z").await;
    let sup = Some(app.supervisor.token.as_str());
    let (s, cal) = app
        .call(
            "POST",
            "/api/v1/sla/calendars",
            sup,
            Some(json!({
                "name": "Berlin office",
                "time_zone": "Europe/Berlin",
                "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
                          "thu": ["09:00-17:00"], "fri": ["09:00-17:00"]},
                "holidays": ["2026-12-25"]
            })),
        )
        .await;
    assert_eq!(s, 201, "{cal}");
    let (s, policy) = app
        .call(
            "POST",
            "/api/v1/sla/policies",
            sup,
            Some(json!({
                "name": "Urgent",
                "position": 10,
                "conditions": {"priorities": ["urgent"]},
                "targets": {"first_response_minutes": 60, "next_response_minutes": 120,
                            "resolution_minutes": 480},
                "calendar_id": cal["id"]
            })),
        )
        .await;
    assert_eq!(s, 201, "{policy}");
    let (_, t) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Site down", "body": "Nothing loads", "priority": "urgent",
                   "customer": {"email": "sla2@example.com"}}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["sla"]["policy_id"], policy["id"]);
    // Half an hour left on Friday: the first response is due Monday 09:30, the resolution
    // (8 business hours) Monday 16:30, Berlin time.
    assert_eq!(
        time(&t["sla"]["first_response_due_at"]),
        at("2026-11-30T08:30:00Z")
    );
    assert_eq!(
        time(&t["sla"]["resolution_due_at"]),
        at("2026-11-30T15:30:00Z")
    );
    // A normal ticket still gets the default policy.
    let other = app.ticket("Question", "How?", "sla3@example.com").await;
    assert_ne!(other["sla"]["policy_id"], policy["id"]);
    settle(&app.db).await;
    // Monday 09:10: the agent answers and waits on the customer. The resolution clock
    // stops with 7 h 20 min left.
    clock.advance_secs(at("2026-11-30T08:10:00Z").0 / 1_000_000 - clock.now().0 / 1_000_000);
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{id}/messages"),
            json!({"body": "Which page?", "status": "pending"}),
        )
        .await;
    assert_eq!(s, 201);
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    let sla = &read["sla"];
    assert_eq!(sla["first_response"]["state"], "met", "{read}");
    assert_eq!(sla["first_response"]["breached"], false);
    assert_eq!(sla["paused"], true);
    assert_eq!(sla["resolution"]["state"], "paused");
    assert_eq!(sla["resolution"]["left_secs"], 7 * 3_600 + 20 * 60);
    assert!(sla["next_due_at"].is_null());
    // A day later nothing has breached: the clock was stopped.
    clock.advance_secs(24 * 3_600);
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(read["sla"]["breached"], false, "{read}");
    // Tuesday 10:00 the customer answers: the resolution resumes (7 h from 10:00 to the
    // close, 20 min on Wednesday) and the next response is due in 2 business hours.
    clock.advance_secs(at("2026-12-01T09:00:00Z").0 / 1_000_000 - clock.now().0 / 1_000_000);
    let now = clock.now();
    app.db
        .write(op!(c => {
            let body = Body::parse("The checkout page").unwrap();
            tickets::customer_reply(c, &Principal::System, id, &body, Channel::Email, vec![], now).await
        }))
        .await
        .unwrap();
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    let sla = &read["sla"];
    assert_eq!(read["status"], "open");
    assert_eq!(sla["paused"], false, "{read}");
    assert_eq!(time(&sla["resolution_due_at"]), at("2026-12-02T08:20:00Z"));
    assert_eq!(
        time(&sla["next_response_due_at"]),
        at("2026-12-01T11:00:00Z")
    );
    assert_eq!(time(&sla["next_due_at"]), at("2026-12-01T11:00:00Z"));
    // Solved in time: every clock met.
    clock.advance_secs(3_600);
    app.patch(
        &format!("/api/v1/tickets/{id}"),
        json!({"status": "solved"}),
    )
    .await;
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(read["sla"]["resolution"]["state"], "met", "{read}");
    assert_eq!(read["sla"]["breached"], false);
    assert!(read["sla"]["next_due_at"].is_null());
    app.stop().await;
}

async fn policies_and_calendars_are_checked_and_kept_to_supervisors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sup = Some(app.supervisor.token.as_str());
    let agent = Some(app.agent.token.as_str());
    // The default policy ships enabled: a first response within 24 hours.
    let (s, list) = app.call("GET", "/api/v1/sla/policies", agent, None).await;
    assert_eq!(s, 200);
    assert_eq!(list[0]["name"], "Default");
    assert_eq!(list[0]["targets"]["first_response_minutes"], 1440);
    let good = json!({"name": "VIP", "targets": {"first_response_minutes": 30},
                      "conditions": {"tiers": ["vip"]}});
    let (s, e) = app
        .call("POST", "/api/v1/sla/policies", agent, Some(good.clone()))
        .await;
    assert_error(s, &e, 403, None);
    for (body, field) in [
        (json!({"name": "x", "targets": {}}), "targets"),
        (
            json!({"name": "x", "targets": {"first_response_minutes": 0}}),
            "targets.first_response_minutes",
        ),
        (
            json!({"name": "", "targets": {"first_response_minutes": 5}}),
            "name",
        ),
        (
            json!({"name": "x", "targets": {"resolution_minutes": 5}, "calendar_id": 999}),
            "calendar_id",
        ),
        (
            json!({"name": "x", "targets": {"resolution_minutes": 5},
                "conditions": {"priorities": ["asap"]}}),
            "conditions.priorities",
        ),
        (
            json!({"name": "x", "targets": {"resolution_minutes": 5},
                "conditions": {"categories": ["no-such"]}}),
            "conditions.categories",
        ),
        (
            json!({"name": "Default", "targets": {"resolution_minutes": 5}}),
            "name",
        ),
    ] {
        let (s, e) = app
            .call("POST", "/api/v1/sla/policies", sup, Some(body.clone()))
            .await;
        assert_error(s, &e, 422, Some(field));
    }
    let (s, vip) = app
        .call("POST", "/api/v1/sla/policies", sup, Some(good))
        .await;
    assert_eq!(s, 201, "{vip}");
    let vip_id = vip["id"].as_i64().unwrap();
    let (s, e) = app
        .call(
            "PUT",
            &format!("/api/v1/sla/policies/{vip_id}"),
            sup,
            Some(
                json!({"name": "VIP", "enabled": false, "targets": {"first_response_minutes": 15}}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["enabled"], false);
    for (body, field) in [
        (
            json!({"name": "c", "time_zone": "Mars/Base", "hours": {"mon": ["09:00-17:00"]}}),
            "time_zone",
        ),
        (
            json!({"name": "c", "time_zone": "UTC", "hours": {"mon": ["17:00-09:00"]}}),
            "hours.mon",
        ),
        (
            json!({"name": "c", "time_zone": "UTC", "hours": {}}),
            "hours",
        ),
        (
            json!({"name": "c", "time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]},
                "holidays": ["tomorrow"]}),
            "holidays",
        ),
    ] {
        let (s, e) = app
            .call("POST", "/api/v1/sla/calendars", sup, Some(body.clone()))
            .await;
        assert_error(s, &e, 422, Some(field));
    }
    let (s, cal) = app
        .call(
            "POST",
            "/api/v1/sla/calendars",
            sup,
            Some(json!({"name": "c", "time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]}})),
        )
        .await;
    assert_eq!(s, 201, "{cal}");
    let cal_id = cal["id"].as_i64().unwrap();
    let (s, _) = app
        .call("PUT", &format!("/api/v1/sla/policies/{vip_id}"), sup,
              Some(json!({"name": "VIP", "targets": {"first_response_minutes": 15}, "calendar_id": cal_id})))
        .await;
    assert_eq!(s, 200);
    // A target the calendar is never open long enough for is refused: one minute a week
    // is about 157 minutes in three years.
    let (s, tiny) = app
        .call(
            "POST",
            "/api/v1/sla/calendars",
            sup,
            Some(json!({"name": "tiny", "time_zone": "UTC", "hours": {"mon": ["09:00-09:01"]}})),
        )
        .await;
    assert_eq!(s, 201, "{tiny}");
    let (s, e) = app
        .call("POST", "/api/v1/sla/policies", sup,
              Some(json!({"name": "Slow", "targets": {"resolution_minutes": 1000}, "calendar_id": tiny["id"]})))
        .await;
    assert_error(s, &e, 422, Some("targets.resolution_minutes"));
    // A calendar in use cannot go; once free it can.
    let (s, e) = app
        .call(
            "DELETE",
            &format!("/api/v1/sla/calendars/{cal_id}"),
            sup,
            None,
        )
        .await;
    assert_error(s, &e, 409, None);
    let (s, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/sla/policies/{vip_id}"),
            sup,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app
        .call(
            "DELETE",
            &format!("/api/v1/sla/calendars/{cal_id}"),
            sup,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = app
        .call(
            "GET",
            &format!("/api/v1/sla/calendars/{cal_id}"),
            agent,
            None,
        )
        .await;
    assert_error(s, &e, 404, None);
    // A ticket the subscriber gave no clocks (no policy applied) does not get made-up ones
    // when a policy applies later.
    let default_id = list[0]["id"].as_i64().unwrap();
    let off = json!({"name": "Default", "position": 1000, "enabled": false,
                     "targets": {"first_response_minutes": 1440}});
    let (s, _) = app
        .call(
            "PUT",
            &format!("/api/v1/sla/policies/{default_id}"),
            sup,
            Some(off),
        )
        .await;
    assert_eq!(s, 200);
    let t = app
        .ticket("No policy", "Hello", "nopolicy@example.com")
        .await;
    assert!(t["sla"].is_null(), "{t}");
    settle(&app.db).await;
    let on =
        json!({"name": "Default", "position": 1000, "targets": {"first_response_minutes": 1440}});
    let (s, _) = app
        .call(
            "PUT",
            &format!("/api/v1/sla/policies/{default_id}"),
            sup,
            Some(on),
        )
        .await;
    assert_eq!(s, 200);
    let (_, read) = app.get(&format!("/api/v1/tickets/{}", t["id"])).await;
    assert!(read["sla"].is_null(), "{read}");
    app.stop().await;
}

async fn a_note_that_sets_pending_pauses_the_clocks(backend: Backend) {
    let (app, clock) = with_clock(backend, "2026-11-27T10:00:00Z").await;
    let t = app.ticket("Waiting", "Hello", "sla4@example.com").await;
    let id = t["id"].as_i64().unwrap();
    settle(&app.db).await;
    clock.advance_secs(3_600);
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{id}/messages"),
            json!({"body": "Asked the customer by phone", "internal": true, "status": "pending"}),
        )
        .await;
    assert_eq!(s, 201);
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    // A note is no response: the first response is still awaited, its clock stopped with
    // 23 hours left.
    assert_eq!(read["sla"]["first_response"]["state"], "paused", "{read}");
    assert_eq!(read["sla"]["first_response"]["left_secs"], 23 * 3_600);
    clock.advance_secs(48 * 3_600);
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(read["sla"]["breached"], false, "{read}");
    app.stop().await;
}

async fn views_sort_by_the_soonest_due_time(backend: Backend) {
    let (app, clock) = with_clock(backend, "2026-11-27T10:00:00Z").await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let t = app
            .ticket(&format!("T{i}"), "Hello", &format!("due{i}@example.com"))
            .await;
        ids.push(t["id"].as_i64().unwrap());
        clock.advance_secs(60);
    }
    // The oldest is answered: no clock runs on it any more.
    app.post(
        &format!("/api/v1/tickets/{}/messages", ids[0]),
        json!({"body": "Hi"}),
    )
    .await;
    // The newest gets a tighter policy: due in 10 minutes, before all the others.
    let sup = Some(app.supervisor.token.as_str());
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/sla/policies",
            sup,
            Some(
                json!({"name": "Fast", "position": 1, "conditions": {"priorities": ["urgent"]},
                          "targets": {"first_response_minutes": 10}}),
            ),
        )
        .await;
    assert_eq!(s, 201);
    let (_, urgent) = app
        .post(
            "/api/v1/tickets",
            json!({"subject": "Now", "body": "Quick", "priority": "urgent",
                                         "customer": {"email": "due9@example.com"}}),
        )
        .await;
    settle(&app.db).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/tickets?status=unsolved&sort=sla_due&order=asc&limit=2".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (s, page) = app.get(&path).await;
        assert_eq!(s, 200, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec![
            urgent["id"].as_i64().unwrap(),
            ids[1],
            ids[2],
            ids[3],
            ids[0]
        ]
    );
    app.stop().await;
}

async fn warnings_and_breaches_are_announced_once(backend: Backend) {
    let (app, clock) = with_clock(backend, "2026-11-27T10:00:00Z").await;
    let t = app.ticket("Clocked", "Hello", "alerts@example.com").await;
    let id = t["id"].as_i64().unwrap();
    settle(&app.db).await;
    let announce = |now: Timestamp| {
        let db = app.db.clone();
        async move {
            db.write(op!(c => rapport_store::sla::clocks::announce_due(c, now, 100).await))
                .await
                .unwrap()
        }
    };
    let kinds = || async {
        let (_, evs) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
        evs.as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .filter(|k| k.starts_with("sla_"))
            .collect::<Vec<_>>()
    };
    // Nothing is due yet.
    assert_eq!(announce(clock.now()).await, 0);
    // 23 h 30 min later: within the hour, warned once.
    clock.advance_secs(23 * 3_600 + 1_800);
    assert_eq!(announce(clock.now()).await, 1);
    assert_eq!(announce(clock.now()).await, 0);
    assert_eq!(kinds().await, ["sla_warning"]);
    // Past the due time: breached once.
    clock.advance_secs(3_600);
    assert_eq!(announce(clock.now()).await, 1);
    assert_eq!(announce(clock.now()).await, 0);
    assert_eq!(kinds().await, ["sla_warning", "sla_breached"]);
    let (_, evs) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
    let breach = evs
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "sla_breached")
        .cloned()
        .unwrap();
    assert_eq!(
        breach["data"]["targets"],
        json!(["first_response"]),
        "{breach}"
    );
    assert_eq!(time(&breach["data"]["due_at"]), at("2026-11-28T10:00:00Z"));
    // The reply meets it: nothing more to announce.
    app.post(
        &format!("/api/v1/tickets/{id}/messages"),
        json!({"body": "Sorry"}),
    )
    .await;
    settle(&app.db).await;
    clock.advance_secs(7 * 24 * 3_600);
    assert_eq!(
        announce(clock.now()).await,
        0,
        "a met target is not announced"
    );
    app.stop().await;
}

async fn the_demo_help_desk_has_sla_clocks(backend: Backend) {
    // A new demo's seeded conversations get clocks once the subscriber runs, each from
    // its own events' times.
    let (_scratch, db) = crate::migrations::migrated(backend).await;
    let size = rapport_demo::DemoSize {
        tickets: 20,
        customers: 5,
        seed: 3,
    };
    let clock = rapport_domain::SystemClock;
    let summary = rapport_demo::populate(&db, &clock, &size).await.unwrap();
    assert!(summary.created);
    settle(&db).await;
    let clocks = crate::harness::count(&db, "SELECT COUNT(*) FROM ticket_sla").await;
    let tickets = crate::harness::count(&db, "SELECT COUNT(*) FROM tickets").await;
    assert_eq!(clocks, tickets);
    assert!(tickets >= 20);
}

async fn a_raised_priority_moves_the_clocks_under_its_policy(backend: Backend) {
    let (app, clock) = with_clock(backend, "2026-11-27T10:00:00Z").await;
    let (s, p) = app
        .call(
            "POST",
            "/api/v1/sla/policies",
            Some(&app.supervisor.token),
            Some(json!({"name": "Urgent", "position": 10,
                        "conditions": {"priorities": ["urgent"]},
                        "targets": {"first_response_minutes": 120, "resolution_minutes": 480}})),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let t = app
        .ticket("Checkout broken", "Nobody can pay", "sla-raise@example.com")
        .await;
    let id = t["id"].as_i64().unwrap();
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(
        time(&read["sla"]["first_response_due_at"]),
        at("2026-11-28T10:00:00Z"),
        "the default 24 hours first"
    );
    // Raised to urgent half an hour in: the urgent policy's targets, counted from the
    // ticket's creation.
    clock.advance_secs(1_800);
    let (s, _) = app
        .patch(
            &format!("/api/v1/tickets/{id}"),
            json!({"priority": "urgent"}),
        )
        .await;
    assert_eq!(s, 200);
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{id}")).await;
    assert_eq!(read["sla"]["policy_id"], p["id"], "{read}");
    assert_eq!(
        time(&read["sla"]["first_response_due_at"]),
        at("2026-11-27T12:00:00Z")
    );
    assert_eq!(
        time(&read["sla"]["resolution_due_at"]),
        at("2026-11-27T18:00:00Z")
    );
    // A ticket that waited on the customer: the wait is not counted under the new policy
    // either (its history is replayed under it).
    let t2 = app
        .ticket("Refund", "Where is my refund?", "sla-wait@example.com")
        .await;
    let id2 = t2["id"].as_i64().unwrap();
    settle(&app.db).await;
    clock.advance_secs(600); // 10:40: the agent answers; waiting on the customer.
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{id2}/messages"),
            json!({"body": "Which order is it?"}),
        )
        .await;
    assert_eq!(s, 201);
    clock.advance_secs(3 * 3_600); // 13:40: the customer writes again.
    let now = clock.now();
    app.db
        .write(op!(c => tickets::customer_reply(
            c,
            &Principal::System,
            id2,
            &Body::parse("Order 55").unwrap(),
            Channel::Email,
            Vec::new(),
            now,
        ).await))
        .await
        .unwrap();
    clock.advance_secs(1_200); // 14:00: raised to urgent.
    let (s, _) = app
        .patch(
            &format!("/api/v1/tickets/{id2}"),
            json!({"priority": "urgent"}),
        )
        .await;
    assert_eq!(s, 200);
    settle(&app.db).await;
    let (_, r2) = app.get(&format!("/api/v1/tickets/{id2}")).await;
    assert_eq!(r2["sla"]["policy_id"], p["id"], "{r2}");
    assert_eq!(r2["sla"]["first_response"]["state"], "met");
    assert_eq!(r2["sla"]["first_response"]["breached"], false);
    // Eight hours from 10:30, less the three hours waiting: 21:30.
    assert_eq!(
        time(&r2["sla"]["resolution_due_at"]),
        at("2026-11-27T21:30:00Z")
    );

    // A change that picks the same policy changes nothing.
    let (s, _) = app
        .patch(&format!("/api/v1/tickets/{id}"), json!({"tags": ["vip"]}))
        .await;
    assert_eq!(s, 200);
    settle(&app.db).await;
    let (_, again) = app.get(&format!("/api/v1/tickets/{id}")).await;
    for k in ["policy_id", "first_response_due_at", "resolution_due_at"] {
        assert_eq!(again["sla"][k], read["sla"][k], "{k}");
    }
    app.stop().await;
}

/// The subscriber starts a batch's new tickets together and moves their clocks in memory
/// for what happens to them in the same batch; the due time the views sort by is right
/// whether the creator worked it out (the API, from its copy of the policies), could not
/// (a policy that depends on the customer's tier) or did not (the portal).
async fn new_tickets_handled_together_store_their_due_times(backend: Backend) {
    let (app, clock) = with_clock(backend, "2026-11-27T10:00:00Z").await;
    let sup = Some(app.supervisor.token.as_str());
    // A VIP customer known before the policy that depends on it exists.
    app.ticket("Earlier", "Hello", "vip-batch@example.com")
        .await;
    app.db
        .write(op!(c => rapport_store::testing::execute_in(
            c,
            "UPDATE customers SET attributes = $1 WHERE email = $2",
            &["{\"tier\": \"vip\"}".into(), "vip-batch@example.com".into()],
        ).await))
        .await
        .unwrap();
    settle(&app.db).await;
    let (s, _) = app
        .call(
            "POST",
            "/api/v1/sla/policies",
            sup,
            Some(
                json!({"name": "VIP", "position": 1, "conditions": {"tiers": ["vip"]},
                        "targets": {"first_response_minutes": 30}}),
            ),
        )
        .await;
    assert_eq!(s, 201);
    clock.advance_secs(60);
    // All of these are handled in one batch: an ordinary ticket (due in 24 hours), one
    // answered and one solved before the subscriber ran (no clock runs), the VIP's (30
    // minutes), and one whose priority went up before the subscriber ran (still the
    // default policy: 24 hours).
    let id = |t: &Value| t["id"].as_i64().unwrap();
    let plain = id(&app
        .ticket("Plain", "Hello", "plain-batch@example.com")
        .await);
    let answered = id(&app
        .ticket("Answered", "Hello", "ans-batch@example.com")
        .await);
    let solved = id(&app
        .ticket("Solved", "Hello", "solved-batch@example.com")
        .await);
    let vip = id(&app.ticket("VIP", "Hello", "vip-batch@example.com").await);
    let raised = id(&app
        .ticket("Raised", "Hello", "raised-batch@example.com")
        .await);
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{answered}/messages"),
            json!({"body": "Hi"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .post(
            &format!("/api/v1/tickets/{solved}/messages"),
            json!({"body": "Done", "status": "solved"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .patch(
            &format!("/api/v1/tickets/{raised}"),
            json!({"priority": "high"}),
        )
        .await;
    assert_eq!(s, 200);
    settle(&app.db).await;
    let due = |id: i64| {
        let app = &app;
        async move {
            let (_, t) = app.get(&format!("/api/v1/tickets/{id}")).await;
            t["sla"]["first_response_due_at"].as_str().map(at)
        }
    };
    let start = at("2026-11-27T10:01:00Z");
    assert_eq!(due(plain).await, Some(start.plus_secs(86_400)));
    assert_eq!(due(answered).await, None);
    assert_eq!(due(solved).await, None);
    assert_eq!(due(vip).await, Some(start.plus_secs(1_800)));
    assert_eq!(due(raised).await, Some(start.plus_secs(86_400)));
    // The views sort by the stored due time: the VIP's first, the ones with no clock last.
    let (s, page) = app
        .get("/api/v1/tickets?status=unsolved&sort=sla_due&order=asc&limit=50")
        .await;
    assert_eq!(s, 200, "{page}");
    let order: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .filter(|t| [plain, answered, vip, raised].contains(t))
        .collect();
    assert_eq!(order, vec![vip, plain, raised, answered]);
    app.stop().await;
}

/// A ticket the API wrote with a due time no policy gives it by the time the subscriber
/// starts its clocks (every policy was switched off meanwhile) has the due time taken off
/// again: it sorts with the tickets that have no clock.
async fn a_guessed_due_time_no_policy_gives_is_taken_off(backend: Backend) {
    let (app, clock) = with_clock(backend, "2026-11-27T10:00:00Z").await;
    let sup = Some(app.supervisor.token.as_str());
    let guessed = app.ticket("Guessed", "Hello", "guess@example.com").await;
    let guessed = guessed["id"].as_i64().unwrap();
    let (_, policies) = app.call("GET", "/api/v1/sla/policies", sup, None).await;
    for p in policies.as_array().unwrap() {
        let mut body = p.clone();
        for k in ["id", "created_at", "updated_at"] {
            body.as_object_mut().unwrap().remove(k);
        }
        body["enabled"] = json!(false);
        let (s, r) = app
            .call(
                "PUT",
                &format!("/api/v1/sla/policies/{}", p["id"]),
                sup,
                Some(body),
            )
            .await;
        assert_eq!(s, 200, "{r}");
    }
    settle(&app.db).await;
    let (_, read) = app.get(&format!("/api/v1/tickets/{guessed}")).await;
    assert!(read["sla"].is_null(), "{read}");
    // A ticket with a clock sorts before it.
    let (s, p) = app
        .call(
            "POST",
            "/api/v1/sla/policies",
            sup,
            Some(json!({"name": "Later", "position": 1,
            "targets": {"first_response_minutes": 2880}})),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    clock.advance_secs(60);
    let timed = app.ticket("Timed", "Hello", "timed@example.com").await;
    let timed = timed["id"].as_i64().unwrap();
    settle(&app.db).await;
    let (_, page) = app
        .get("/api/v1/tickets?status=unsolved&sort=sla_due&order=asc&limit=50")
        .await;
    let order: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, vec![timed, guessed], "{page}");
    app.stop().await;
}
