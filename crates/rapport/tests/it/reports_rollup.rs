//! The reports' roll-ups equal a fresh aggregation: after the tests that build known
//! data (reports.rs, reports_dashboard.rs) and after a day of churn — tickets moved between
//! teams, agents and categories after they were solved, reopened, surveys answered and
//! changed, an NPS detractor's follow-up, promises — every figure of the summary and the
//! dashboard, under every filter and pair of filters, is the same read from the cells as
//! aggregated afresh; and a rebuild from the tables gives the very same cells.

use std::sync::Arc;

use rapport_domain::reports::Period;
use rapport_domain::{Channel, Clock, ManualClock, Timestamp};
use rapport_store::reports::{self, Filter, dashboard, rollup};
use rapport_store::surveys::{self, Answer};
use rapport_store::{op, testing};
use serde_json::json;

use crate::harness::{Backend, TestApp, settle};
use crate::on_both;

on_both!(
    roll_ups_follow_a_day_of_churn,
    a_write_racing_a_drain_is_not_lost,
);

fn at(rfc3339: &str) -> Timestamp {
    serde_json::from_value(json!(rfc3339)).unwrap()
}

/// Every cell, in order (to compare a rebuild with the cells kept along the way).
async fn all_cells(app: &TestApp) -> Vec<(String, String, i64, i64, i64, Vec<u8>)> {
    testing::rows(
        &app.db,
        "SELECT channel, category, team_id, agent_id, day, m FROM report_cells
         ORDER BY channel, category, team_id, agent_id, day",
        vec![],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.text("channel").unwrap(),
            r.text("category").unwrap(),
            r.int("team_id").unwrap(),
            r.int("agent_id").unwrap(),
            r.int("day").unwrap(),
            r.blob("m").unwrap(),
        )
    })
    .collect()
}

async fn ids(app: &TestApp, sql: &str) -> Vec<i64> {
    testing::rows(&app.db, sql, vec![])
        .await
        .unwrap()
        .iter()
        .map(|r| r.int(0).unwrap())
        .collect()
}

/// The filters to try: none; each team, agent, channel and category there is; and pairs
/// and a triple of them.
async fn filters(app: &TestApp) -> Vec<Filter> {
    let teams = ids(app, "SELECT id FROM teams ORDER BY id").await;
    let agents = ids(app, "SELECT id FROM users ORDER BY id").await;
    let cats: Vec<String> = testing::rows(&app.db, "SELECT slug FROM categories", vec![])
        .await
        .unwrap()
        .iter()
        .map(|r| r.text("slug").unwrap())
        .collect();
    let channels = [Channel::Email, Channel::Web, Channel::Chat, Channel::Phone];
    // Ids the cells keep for "nobody" and "any" find nothing, as they do fresh.
    let mut out = vec![
        Filter::default(),
        Filter {
            team_id: Some(-1),
            ..Filter::default()
        },
        Filter {
            agent_id: Some(0),
            ..Filter::default()
        },
    ];
    for t in &teams {
        out.push(Filter {
            team_id: Some(*t),
            ..Filter::default()
        });
        for c in channels {
            out.push(Filter {
                team_id: Some(*t),
                channel: Some(c),
                ..Filter::default()
            });
        }
    }
    for a in &agents {
        out.push(Filter {
            agent_id: Some(*a),
            ..Filter::default()
        });
        if let Some(t) = teams.first() {
            out.push(Filter {
                agent_id: Some(*a),
                team_id: Some(*t),
                ..Filter::default()
            });
        }
    }
    for c in channels {
        out.push(Filter {
            channel: Some(c),
            ..Filter::default()
        });
    }
    for k in &cats {
        out.push(Filter {
            category: Some(k.clone()),
            ..Filter::default()
        });
        out.push(Filter {
            category: Some(k.clone()),
            channel: Some(Channel::Email),
            agent_id: agents.first().copied(),
            ..Filter::default()
        });
    }
    out
}

/// Every figure read from the roll-ups equals the fresh aggregation, for each of
/// `periods` under every filter, as of `now`; and a rebuild gives the same cells.
pub(crate) async fn assert_rollups_equal_fresh(
    app: &TestApp,
    periods: &[(&str, &str)],
    now: Timestamp,
) {
    for _ in 0..3 {
        settle(&app.db).await;
    }
    rollup::catch_up(&app.db).await.unwrap();
    // The server built the (empty) roll-ups at start.
    for _ in 0..100 {
        if app.db.read(op!(c => rollup::ready(c).await)).await.unwrap() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(app.db.read(op!(c => rollup::ready(c).await)).await.unwrap());
    let filters = filters(app).await;
    let mut compared = 0;
    for (from, to) in periods {
        let period = Period::parse(from, to).unwrap();
        for f in &filters {
            let g = f.clone();
            let (rolled, fresh, rolled_d, fresh_d) = app
                .db
                .read(op!(c => Ok((
                    reports::summary(c, &period, &g, now).await?,
                    reports::summary_fresh(c, &period, &g, now).await?,
                    dashboard::dashboard(c, &period, &g, now).await?,
                    dashboard::dashboard_fresh(c, &period, &g, now).await?,
                ))))
                .await
                .unwrap();
            assert_eq!(rolled, fresh, "summary of {from}–{to} under {f:?}");
            assert_eq!(rolled_d, fresh_d, "dashboard of {from}–{to} under {f:?}");
            compared += 1;
        }
    }
    assert!(compared > periods.len() * 10, "{compared}");
    // Built again from the tables: the very same cells.
    let kept = all_cells(app).await;
    assert!(!kept.is_empty());
    app.db
        .write(op!(c => rollup::reset(c).await))
        .await
        .unwrap();
    assert!(all_cells(app).await.is_empty());
    assert!(!app.db.read(op!(c => rollup::ready(c).await)).await.unwrap());
    rollup::build(&app.db).await.unwrap();
    assert_eq!(all_cells(app).await, kept);
}

async fn roll_ups_follow_a_day_of_churn(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-02T09:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let sup = Some(app.supervisor.token.as_str());
    let (s, cats) = app.call("GET", "/api/v1/categories", sup, None).await;
    assert_eq!(s, 200, "{cats}");
    let cat = |i: usize| cats[i]["slug"].as_str().unwrap().to_owned();
    let mut tickets = Vec::new();
    for i in 0..12i64 {
        clock.set(Timestamp(at("2026-11-02T09:00:00Z").0 + i * 3_700_000_000));
        let mut body = json!({"subject": format!("Churn {i}"), "body": "It broke again",
            "customer": {"email": format!("churn{}@example.com", i % 5)}});
        if i % 3 != 0 {
            body["assignee_id"] = json!(if i % 2 == 0 {
                app.agent.id
            } else {
                app.agent_b.id
            });
            body["team_id"] = json!(if i % 2 == 0 { app.team_a } else { app.team_b });
        }
        if i % 4 != 1 {
            body["category"] = json!(cat(i as usize % 2));
        }
        let (s, t) = app.post("/api/v1/tickets", body).await;
        assert_eq!(s, 201, "{t}");
        tickets.push(t["id"].as_i64().unwrap());
    }
    // Answered and solved over the next two days; some moved afterwards.
    for (i, id) in tickets.iter().enumerate() {
        clock.set(Timestamp(
            at("2026-11-03T08:00:00Z").0 + i as i64 * 1_900_000_000,
        ));
        if i % 5 == 4 {
            continue;
        }
        let status = if i % 3 == 1 {
            json!("pending")
        } else {
            json!("solved")
        };
        let (s, r) = app
            .post(
                &format!("/api/v1/tickets/{id}/messages"),
                json!({"body": "Fixed it", "status": status}),
            )
            .await;
        assert_eq!(s, 201, "{r}");
    }
    settle(&app.db).await;
    clock.set(at("2026-11-04T10:00:00Z"));
    // Solved tickets move to the other team and agent, and to another category.
    for id in tickets.iter().step_by(4) {
        let (s, r) = app
            .patch(
                &format!("/api/v1/tickets/{id}"),
                json!({"team_id": app.team_b, "assignee_id": app.agent_b.id, "category": cat(2)}),
            )
            .await;
        assert_eq!(s, 200, "{r}");
    }
    // One reopened by the agent and solved again the next day.
    let (s, r) = app
        .patch(
            &format!("/api/v1/tickets/{}", tickets[2]),
            json!({"status": "open"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    clock.set(at("2026-11-05T10:00:00Z"));
    let (s, r) = app
        .patch(
            &format!("/api/v1/tickets/{}", tickets[2]),
            json!({"status": "solved"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    // Surveys: answered, one changed a day later; an NPS detractor and a promoter.
    let now = clock.now();
    let (t0, t3) = (tickets[0], tickets[3]);
    app.db
        .write(op!(c => {
            for (t, csat) in [(t0, 2), (t3, 5)] {
                if let Some(s) = surveys::offer_for_ticket(c, t, Channel::Email, now).await? {
                    surveys::answer(c, s.id, Answer { csat: Some(csat), ces: Some(6), ..Answer::default() }, now).await?;
                }
            }
            for (email, nps) in [("churn1@example.com", 2), ("churn2@example.com", 10)] {
                let id = testing::one_in(c, "SELECT id FROM customers WHERE email = $1", &[email.into()]).await?.int(0)?;
                if let Some(s) = surveys::offer_nps(c, id, 90, now).await? {
                    surveys::answer(c, s.id, Answer { nps: Some(nps), ..Answer::default() }, now).await?;
                }
            }
            Ok(())
        }))
        .await
        .unwrap();
    clock.set(at("2026-11-06T10:00:00Z"));
    let now = clock.now();
    app.db
        .write(op!(c => {
            let s = surveys::for_ticket(c, t0).await?.unwrap();
            surveys::answer(c, s.id, Answer { csat: Some(4), ..Answer::default() }, now).await?;
            Ok(())
        }))
        .await
        .unwrap();
    // A promise made and broken.
    let (s, p) = app
        .call(
            "POST",
            &format!("/api/v1/tickets/{}/promises", tickets[4]),
            Some(&app.agent_b.token),
            Some(json!({"text": "Call back", "due_at": "2026-11-06T12:00:00Z"})),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    clock.set(at("2026-11-07T10:00:00Z"));
    let now = clock.now();
    app.db
        .write(op!(c => rapport_store::promises::settle_due(c, now, 100).await))
        .await
        .unwrap();
    assert_rollups_equal_fresh(
        &app,
        &[
            ("2026-11-01", "2026-11-30"),
            ("2026-11-03", "2026-11-03"),
            ("2026-11-04", "2026-11-06"),
        ],
        now,
    )
    .await;
}

/// A write that marks a subject while a drain runs is never lost: the drain takes only
/// marks no write in flight holds, so the write's mark outlives it and the change is
/// rolled up after the write commits. (On PostgreSQL the two run at once; SQLite's single
/// writer runs them in turn.)
async fn a_write_racing_a_drain_is_not_lost(backend: Backend) {
    let clock = Arc::new(ManualClock::new(at("2026-11-10T09:00:00Z")));
    let app = TestApp::spawn_with(backend, clock.clone(), |_| {}).await;
    let t = app.ticket("Racing", "It broke", "racer@example.com").await;
    let id = t["id"].as_i64().unwrap();
    settle(&app.db).await;
    rollup::catch_up(&app.db).await.unwrap();
    // The ticket is marked already (say, by its SLA clock) when the write comes.
    app.db
        .write(op!(c => rollup::mark_ticket(c, id).await))
        .await
        .unwrap();
    let db = app.db.clone();
    let write = tokio::spawn(async move {
        db.write(op!(c => {
            testing::execute_in(c, "UPDATE tickets SET category = 'billing' WHERE id = $1", &[id.into()]).await?;
            rollup::mark_ticket(c, id).await?;
            // Held open on PostgreSQL while the drain runs. (SQLite's single writer runs
            // the two in turn: there the test shows the plain order.)
            if matches!(backend, Backend::Postgres) {
                tokio::time::sleep(std::time::Duration::from_millis(600)).await;
            }
            Ok(())
        }))
        .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    // The drain takes nothing the write holds, and does not wait for it.
    app.db
        .write(op!(c => rollup::drain(c).await))
        .await
        .unwrap();
    write.await.unwrap().unwrap();
    settle(&app.db).await;
    rollup::catch_up(&app.db).await.unwrap();
    let billing = Filter {
        category: Some("billing".to_owned()),
        ..Filter::default()
    };
    let period = Period::parse("2026-11-10", "2026-11-10").unwrap();
    let now = clock.now();
    let s = app
        .db
        .read(op!(c => reports::summary(c, &period, &billing, now).await))
        .await
        .unwrap();
    assert_eq!(s.volume, 1, "the write's change was rolled up");
    assert_rollups_equal_fresh(&app, &[("2026-11-10", "2026-11-10")], now).await;
}
