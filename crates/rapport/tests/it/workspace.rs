//! Macros, time tracking and splitting, through the store on both backends.

use rapport_domain::{
    Body, Channel, Clock, Priority, Role, SystemClock, Tag, TicketStatus, Viewer,
};
use rapport_store::StoreError;
use rapport_store::fields;
use rapport_store::macros;
use rapport_store::macros::NewMacro;
use rapport_store::op;
use rapport_store::split;
use rapport_store::tickets;
use rapport_store::time_entries;
use rapport_store::views;
use serde_json::json;

use crate::both_backends;
use crate::harness::TestApp;

fn admin(app: &TestApp) -> Viewer {
    Viewer {
        user_id: app.admin.id,
        role: Role::Admin,
        team_ids: vec![],
    }
}

both_backends! {
    async fn macros_reply_and_change_fields(app) {
        let t = app.ticket("Refund please", "I want my money back", "m@example.com").await;
        let id = t["id"].as_i64().unwrap();
        let v = admin(&app);
        let now = SystemClock.now();
        let by = app.admin.id;
        let (with_reply, fields_only) = app
            .db
            .write(op!(c => {
                    let a = macros::create(c, by, NewMacro {
                        name: "Refund issued".into(),
                        body: "Your refund is on its way.".into(),
                        set_status: Some(TicketStatus::Solved),
                        set_priority: Some(Priority::Low),
                        add_tags: vec![Tag::parse("refund").unwrap()],
                    }, now).await?;
                    let b = macros::create(c, by, NewMacro {
                        name: "Escalate".into(),
                        body: String::new(),
                        set_status: Some(TicketStatus::OnHold),
                        set_priority: Some(Priority::Urgent),
                        add_tags: vec![],
                    }, now).await?;
                    Ok((a, b))
                }))
            .await
            .unwrap();
        let dup = app
            .db
            .write(op!(c => {
                macros::create(c, by, NewMacro { name: "Escalate".into(), body: "x".into(), set_status: None, set_priority: None, add_tags: vec![] }, now).await
            }))
            .await;
        assert!(matches!(dup, Err(StoreError::Invalid(f)) if f.field == "name"));
        let empty = app
            .db
            .write(op!(c => {
                macros::create(c, by, NewMacro { name: "Nothing".into(), body: " ".into(), set_status: None, set_priority: None, add_tags: vec![] }, now).await
            }))
            .await;
        assert!(matches!(empty, Err(StoreError::Invalid(f)) if f.field == "body"));

        let v2 = v.clone();
        let after = app
            .db
            .write(op!(c => macros::apply(c, &v2, id, with_reply.id, now).await))
            .await
            .unwrap();
        assert_eq!(after.status, TicketStatus::Solved);
        assert_eq!(after.priority, Priority::Low);
        assert_eq!(after.tags, vec!["refund".to_owned()]);
        assert_eq!(after.message_count, 2);
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        assert_eq!(msgs[1]["body"], "Your refund is on its way.");
        assert_eq!(msgs[1]["internal"], false);

        let t2 = app.ticket("Server down", "Nothing loads", "m2@example.com").await;
        let id2 = t2["id"].as_i64().unwrap();
        let after = app
            .db
            .write(op!(c => macros::apply(c, &v, id2, fields_only.id, now).await))
            .await
            .unwrap();
        assert_eq!(after.status, TicketStatus::OnHold);
        assert_eq!(after.priority, Priority::Urgent);
        assert_eq!(after.message_count, 1, "no reply from a macro without text");
        app.stop().await;
    }

    async fn time_is_logged_per_agent(app) {
        let t = app.ticket("Long one", "Complicated", "time@example.com").await;
        let id = t["id"].as_i64().unwrap();
        app.patch(&format!("/api/v1/tickets/{id}"), json!({"team_id": app.team_b})).await;
        let now = SystemClock.now();
        let (admin_id, agent_b) = (app.admin.id, app.agent_b.id);
        let (team_a, team_b) = (app.team_a, app.team_b);
        let spent = app
            .db
            .write(op!(c => {
                    let a = Viewer { user_id: admin_id, role: Role::Admin, team_ids: vec![] };
                    let b = Viewer { user_id: agent_b, role: Role::Agent, team_ids: vec![team_b] };
                    time_entries::log(c, &a, id, 1800, "research", now).await?;
                    time_entries::log(c, &a, id, 600, "", now).await?;
                    time_entries::log(c, &b, id, 300, "", now).await?;
                    time_entries::per_agent(c, id).await
                }))
            .await
            .unwrap();
        let totals: Vec<(i64, i64)> = spent.iter().map(|s| (s.user_id, s.seconds)).collect();
        assert!(totals.contains(&(admin_id, 2400)) && totals.contains(&(agent_b, 300)), "{totals:?}");
        let agent_a = app.agent.id;
        let refused = app
            .db
            .write(op!(c => {
                let a = Viewer { user_id: agent_a, role: Role::Agent, team_ids: vec![team_a] };
                time_entries::log(c, &a, id, 60, "", now).await
            }))
            .await;
        assert!(matches!(refused, Err(StoreError::Forbidden(_))));
        let zero = app
            .db
            .write(op!(c => {
                let a = Viewer { user_id: admin_id, role: Role::Admin, team_ids: vec![] };
                time_entries::log(c, &a, id, 0, "", now).await
            }))
            .await;
        assert!(matches!(zero, Err(StoreError::Invalid(f)) if f.field == "minutes"));
        let (_, events) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
        assert_eq!(events.as_array().unwrap().iter().filter(|e| e["kind"] == "time_logged").count(), 3);
        app.stop().await;
    }

    async fn a_customer_message_splits_into_its_own_ticket(app) {
        let t = app.ticket("Two problems", "My order is late.", "split@example.com").await;
        let id = t["id"].as_i64().unwrap();
        let now = SystemClock.now();
        let only = {
            let v = admin(&app);
            let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
            let first = msgs[0]["id"].as_i64().unwrap();
            app.db.write(op!(c => split::message(c, &v, first, now).await)).await
        };
        assert!(matches!(only, Err(StoreError::Conflict(_))), "the only message stays");
        let second = app
            .db
            .write(op!(c => {
                let body = Body::parse("Also, the invoice has the wrong address: flamingo street.").unwrap();
                tickets::customer_reply(c, &rapport_domain::Principal::System, id, &body, Channel::Email, vec![], now).await
            }))
            .await
            .unwrap();
        app.post(&format!("/api/v1/tickets/{id}/messages"), json!({"body": "Looking into it"})).await;
        let (_, msgs) = app.get(&format!("/api/v1/tickets/{id}/messages")).await;
        let agent_msg = msgs[2]["id"].as_i64().unwrap();
        let v = admin(&app);
        let refused = app.db.write(op!(c => split::message(c, &v, agent_msg, now).await)).await;
        assert!(matches!(refused, Err(StoreError::Invalid(f)) if f.field == "message_id"));
        let v = admin(&app);
        let new = app
            .db
            .write(op!(c => split::message(c, &v, second.id, now).await))
            .await
            .unwrap();
        assert_ne!(new.id, id);
        assert_eq!(new.customer.id, t["customer"]["id"].as_i64().unwrap());
        assert_eq!(new.message_count, 1);
        assert!(new.subject.contains(&format!("split from #{}", t["number"])));
        let (_, src) = app.get(&format!("/api/v1/tickets/{id}")).await;
        assert_eq!(src["message_count"], 2);
        let (_, moved) = app.get(&format!("/api/v1/tickets/{}/messages", new.id)).await;
        assert_eq!(moved[0]["id"], second.id);
        let (_, found) = app.get("/api/v1/search?q=flamingo").await;
        assert_eq!(found["hits"][0]["ticket_id"], new.id);
        let (_, events) = app.get(&format!("/api/v1/tickets/{id}/events")).await;
        assert!(events.as_array().unwrap().iter().any(|e| e["kind"] == "split_into"));
        app.stop().await;
    }

    async fn saved_views_and_custom_fields_validate(app) {
        let now = SystemClock.now();
        let uid = app.agent.id;
        let (a, b, views) = app
            .db
            .write(op!(c => {
                let a = views::save(c, uid, "Urgent", "priority=urgent", now).await?;
                let b = views::save(c, uid, "Urgent", "priority=high", now).await?;
                let views = views::list(c, uid).await?;
                Ok((a, b, views))
            }))
            .await
            .unwrap();
        assert_eq!(a.id, b.id, "saving under the same name replaces");
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].query, "priority=high");
        let bad = app.db.write(op!(c => views::save(c, uid, " ", "x=1", now).await)).await;
        assert!(matches!(bad, Err(StoreError::Invalid(f)) if f.field == "name"));
        let first = app.db.write(op!(c => fields::define(c, "order_id", "Order", now).await)).await;
        assert!(first.is_ok());
        let again = app.db.write(op!(c => fields::define(c, "order_id", "Order", now).await)).await;
        assert!(matches!(again, Err(StoreError::Invalid(f)) if f.field == "key"));
        let bad_key = app.db.write(op!(c => fields::define(c, "Order Id", "Order", now).await)).await;
        assert!(matches!(bad_key, Err(StoreError::Invalid(f)) if f.field == "key"));
        let defs = app.db.read(op!(c => fields::list(c).await)).await.unwrap();
        assert_eq!(defs.len(), 1);
        app.stop().await;
    }
}
