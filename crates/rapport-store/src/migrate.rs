//! Schema migrations: plain SQL files, one directory per backend, applied in order and
//! recorded in `schema_migrations`. Migrations are expand/contract: a node running the
//! previous release must keep working on the new schema during a rolling deploy.

use crate::db::{Conn, Db};
use crate::dialect;
use crate::error::Result;

/// One migration: its version and its SQL for each backend.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        sqlite: include_str!("../migrations/sqlite/0001_core.sql"),
        postgres: include_str!("../migrations/postgres/0001_core.sql"),
    },
    Migration {
        version: 2,
        name: "web",
        sqlite: include_str!("../migrations/sqlite/0002_web.sql"),
        postgres: include_str!("../migrations/postgres/0002_web.sql"),
    },
    Migration {
        version: 3,
        name: "workspace",
        sqlite: include_str!("../migrations/sqlite/0003_workspace.sql"),
        postgres: include_str!("../migrations/postgres/0003_workspace.sql"),
    },
    Migration {
        version: 4,
        name: "email",
        sqlite: include_str!("../migrations/sqlite/0004_email.sql"),
        postgres: include_str!("../migrations/postgres/0004_email.sql"),
    },
    Migration {
        version: 5,
        name: "imap",
        sqlite: include_str!("../migrations/sqlite/0005_imap.sql"),
        postgres: include_str!("../migrations/postgres/0005_imap.sql"),
    },
    Migration {
        version: 6,
        name: "notices",
        sqlite: include_str!("../migrations/sqlite/0006_notices.sql"),
        postgres: include_str!("../migrations/postgres/0006_notices.sql"),
    },
    Migration {
        version: 7,
        name: "mail_html",
        sqlite: include_str!("../migrations/sqlite/0007_mail_html.sql"),
        postgres: include_str!("../migrations/postgres/0007_mail_html.sql"),
    },
    Migration {
        version: 8,
        name: "notify_pref",
        sqlite: include_str!("../migrations/sqlite/0008_notify_pref.sql"),
        postgres: include_str!("../migrations/postgres/0008_notify_pref.sql"),
    },
    Migration {
        version: 9,
        name: "schema_parity",
        sqlite: include_str!("../migrations/sqlite/0009_schema_parity.sql"),
        postgres: include_str!("../migrations/postgres/0009_schema_parity.sql"),
    },
    Migration {
        version: 10,
        name: "event_stream",
        sqlite: include_str!("../migrations/sqlite/0010_event_stream.sql"),
        postgres: include_str!("../migrations/postgres/0010_event_stream.sql"),
    },
    Migration {
        version: 11,
        name: "time_zone",
        sqlite: include_str!("../migrations/sqlite/0011_time_zone.sql"),
        postgres: include_str!("../migrations/postgres/0011_time_zone.sql"),
    },
    Migration {
        version: 12,
        name: "mail_identity",
        sqlite: include_str!("../migrations/sqlite/0012_mail_identity.sql"),
        postgres: include_str!("../migrations/postgres/0012_mail_identity.sql"),
    },
    Migration {
        version: 14,
        name: "credentials",
        sqlite: include_str!("../migrations/sqlite/0014_credentials.sql"),
        postgres: include_str!("../migrations/postgres/0014_credentials.sql"),
    },
    Migration {
        version: 15,
        name: "sessions_trust",
        sqlite: include_str!("../migrations/sqlite/0015_sessions_trust.sql"),
        postgres: include_str!("../migrations/postgres/0015_sessions_trust.sql"),
    },
    Migration {
        version: 16,
        name: "kb",
        sqlite: include_str!("../migrations/sqlite/0016_kb.sql"),
        postgres: include_str!("../migrations/postgres/0016_kb.sql"),
    },
    Migration {
        version: 17,
        name: "kb_search",
        sqlite: include_str!("../migrations/sqlite/0017_kb_search.sql"),
        postgres: include_str!("../migrations/postgres/0017_kb_search.sql"),
    },
    Migration {
        version: 18,
        name: "help",
        sqlite: include_str!("../migrations/sqlite/0018_help.sql"),
        postgres: include_str!("../migrations/postgres/0018_help.sql"),
    },
    Migration {
        version: 19,
        name: "deflection",
        sqlite: include_str!("../migrations/sqlite/0019_deflection.sql"),
        postgres: include_str!("../migrations/postgres/0019_deflection.sql"),
    },
    Migration {
        version: 20,
        name: "community",
        sqlite: include_str!("../migrations/sqlite/0020_community.sql"),
        postgres: include_str!("../migrations/postgres/0020_community.sql"),
    },
    Migration {
        version: 21,
        name: "kb_slug_history",
        sqlite: include_str!("../migrations/sqlite/0021_kb_slug_history.sql"),
        postgres: include_str!("../migrations/postgres/0021_kb_slug_history.sql"),
    },
    Migration {
        version: 22,
        name: "search_pending",
        sqlite: include_str!("../migrations/sqlite/0022_search_pending.sql"),
        postgres: include_str!("../migrations/postgres/0022_search_pending.sql"),
    },
    Migration {
        version: 23,
        name: "kb_list_indexes",
        sqlite: include_str!("../migrations/sqlite/0023_kb_list_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0023_kb_list_indexes.sql"),
    },
    Migration {
        version: 24,
        name: "bot",
        sqlite: include_str!("../migrations/sqlite/0024_bot.sql"),
        postgres: include_str!("../migrations/postgres/0024_bot.sql"),
    },
    Migration {
        version: 25,
        name: "chat",
        sqlite: include_str!("../migrations/sqlite/0025_chat.sql"),
        postgres: include_str!("../migrations/postgres/0025_chat.sql"),
    },
    Migration {
        version: 26,
        name: "events_notify",
        sqlite: include_str!("../migrations/sqlite/0026_events_notify.sql"),
        postgres: include_str!("../migrations/postgres/0026_events_notify.sql"),
    },
    Migration {
        version: 27,
        name: "chat_draft",
        sqlite: include_str!("../migrations/sqlite/0027_chat_draft.sql"),
        postgres: include_str!("../migrations/postgres/0027_chat_draft.sql"),
    },
    Migration {
        version: 28,
        name: "chat_handoff",
        sqlite: include_str!("../migrations/sqlite/0028_chat_handoff.sql"),
        postgres: include_str!("../migrations/postgres/0028_chat_handoff.sql"),
    },
    Migration {
        version: 29,
        name: "search_direct",
        sqlite: include_str!("../migrations/sqlite/0029_search_direct.sql"),
        postgres: include_str!("../migrations/postgres/0029_search_direct.sql"),
    },
    Migration {
        version: 30,
        name: "search_recent",
        sqlite: include_str!("../migrations/sqlite/0030_search_recent.sql"),
        postgres: include_str!("../migrations/postgres/0030_search_recent.sql"),
    },
    Migration {
        version: 31,
        name: "sla",
        sqlite: include_str!("../migrations/sqlite/0031_sla.sql"),
        postgres: include_str!("../migrations/postgres/0031_sla.sql"),
    },
    Migration {
        version: 32,
        name: "webhooks",
        sqlite: include_str!("../migrations/sqlite/0032_webhooks.sql"),
        postgres: include_str!("../migrations/postgres/0032_webhooks.sql"),
    },
    Migration {
        version: 33,
        name: "sla_alerts",
        sqlite: include_str!("../migrations/sqlite/0033_sla_alerts.sql"),
        postgres: include_str!("../migrations/postgres/0033_sla_alerts.sql"),
    },
    Migration {
        version: 34,
        name: "promises",
        sqlite: include_str!("../migrations/sqlite/0034_promises.sql"),
        postgres: include_str!("../migrations/postgres/0034_promises.sql"),
    },
    Migration {
        version: 35,
        name: "routing",
        sqlite: include_str!("../migrations/sqlite/0035_routing.sql"),
        postgres: include_str!("../migrations/postgres/0035_routing.sql"),
    },
    Migration {
        version: 36,
        name: "score",
        sqlite: include_str!("../migrations/sqlite/0036_score.sql"),
        postgres: include_str!("../migrations/postgres/0036_score.sql"),
    },
    Migration {
        version: 37,
        name: "classify",
        sqlite: include_str!("../migrations/sqlite/0037_classify.sql"),
        postgres: include_str!("../migrations/postgres/0037_classify.sql"),
    },
    Migration {
        version: 38,
        name: "snooze",
        sqlite: include_str!("../migrations/sqlite/0038_snooze.sql"),
        postgres: include_str!("../migrations/postgres/0038_snooze.sql"),
    },
    Migration {
        version: 39,
        name: "webhook_stripe",
        sqlite: include_str!("../migrations/sqlite/0039_webhook_stripe.sql"),
        postgres: include_str!("../migrations/postgres/0039_webhook_stripe.sql"),
    },
    Migration {
        version: 40,
        name: "automations",
        sqlite: include_str!("../migrations/sqlite/0040_automations.sql"),
        postgres: include_str!("../migrations/postgres/0040_automations.sql"),
    },
    Migration {
        version: 41,
        name: "sentiment",
        sqlite: include_str!("../migrations/sqlite/0041_sentiment.sql"),
        postgres: include_str!("../migrations/postgres/0041_sentiment.sql"),
    },
    Migration {
        version: 42,
        name: "surveys",
        sqlite: include_str!("../migrations/sqlite/0042_surveys.sql"),
        postgres: include_str!("../migrations/postgres/0042_surveys.sql"),
    },
    Migration {
        version: 43,
        name: "report_rollup",
        sqlite: include_str!("../migrations/sqlite/0043_report_rollup.sql"),
        postgres: include_str!("../migrations/postgres/0043_report_rollup.sql"),
    },
    Migration {
        version: 44,
        name: "report_grain",
        sqlite: include_str!("../migrations/sqlite/0044_report_grain.sql"),
        postgres: include_str!("../migrations/postgres/0044_report_grain.sql"),
    },
    Migration {
        version: 45,
        name: "orders",
        sqlite: include_str!("../migrations/sqlite/0045_orders.sql"),
        postgres: include_str!("../migrations/postgres/0045_orders.sql"),
    },
    Migration {
        version: 46,
        name: "loyalty",
        sqlite: include_str!("../migrations/sqlite/0046_loyalty.sql"),
        postgres: include_str!("../migrations/postgres/0046_loyalty.sql"),
    },
    Migration {
        version: 47,
        name: "returns",
        sqlite: include_str!("../migrations/sqlite/0047_returns.sql"),
        postgres: include_str!("../migrations/postgres/0047_returns.sql"),
    },
    Migration {
        version: 48,
        name: "crm",
        sqlite: include_str!("../migrations/sqlite/0048_crm.sql"),
        postgres: include_str!("../migrations/postgres/0048_crm.sql"),
    },
    Migration {
        version: 49,
        name: "billing",
        sqlite: include_str!("../migrations/sqlite/0049_billing.sql"),
        postgres: include_str!("../migrations/postgres/0049_billing.sql"),
    },
    Migration {
        version: 50,
        name: "points_rules",
        sqlite: include_str!("../migrations/sqlite/0050_points_rules.sql"),
        postgres: include_str!("../migrations/postgres/0050_points_rules.sql"),
    },
    Migration {
        version: 51,
        name: "segments",
        sqlite: include_str!("../migrations/sqlite/0051_segments.sql"),
        postgres: include_str!("../migrations/postgres/0051_segments.sql"),
    },
    Migration {
        version: 52,
        name: "customer_indexes",
        sqlite: include_str!("../migrations/sqlite/0052_customer_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0052_customer_indexes.sql"),
    },
    Migration {
        version: 53,
        name: "classifier_example_text",
        sqlite: include_str!("../migrations/sqlite/0053_classifier_example_text.sql"),
        postgres: include_str!("../migrations/postgres/0053_classifier_example_text.sql"),
    },
    Migration {
        version: 54,
        name: "search_pending",
        sqlite: include_str!("../migrations/sqlite/0054_search_pending.sql"),
        postgres: include_str!("../migrations/postgres/0054_search_pending.sql"),
    },
];

/// Applies every migration the database has not seen yet and returns how many ran. Safe
/// to call from several nodes at once: PostgreSQL takes an advisory lock, SQLite's single
/// writer serialises.
pub async fn run(db: &Db, now: rapport_domain::Timestamp) -> Result<usize> {
    db.write(crate::op!(c => apply(c, now).await)).await
}

async fn apply(c: &mut dyn Conn, now: rapport_domain::Timestamp) -> Result<usize> {
    apply_up_to(c, now, i64::MAX).await
}

/// Applies the migrations up to version `last`.
async fn apply_up_to(c: &mut dyn Conn, now: rapport_domain::Timestamp, last: i64) -> Result<usize> {
    if let Some(lock) = dialect::migration_lock(c.backend()) {
        c.batch(lock).await?;
    }
    c.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .await?;
    let applied: Vec<i64> = c
        .query("SELECT version FROM schema_migrations", &[])
        .await?
        .iter()
        .map(|r| r.int("version"))
        .collect::<Result<_>>()?;
    let mut ran = 0;
    for m in MIGRATIONS {
        if applied.contains(&m.version) || m.version > last {
            continue;
        }
        c.batch(dialect::pick(c.backend(), m.sqlite, m.postgres))
            .await?;
        c.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[m.version.into(), m.name.into(), now.into()],
        )
        .await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        ran += 1;
    }
    for (slug, name) in rapport_domain::Category::BUILT_IN {
        c.execute(
            "INSERT INTO categories (slug, name, built_in, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (slug) DO NOTHING",
            &[(*slug).into(), (*name).into(), true.into(), now.into()],
        )
        .await?;
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DbConfig;
    use crate::op;
    use rapport_domain::Timestamp;

    /// 0009 redeclares SQLite's booleans by copying each column: every value survives.
    #[tokio::test]
    async fn schema_parity_keeps_every_boolean() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&DbConfig::Sqlite(dir.path().join("t.db")))
            .await
            .unwrap();
        let now = Timestamp(1);
        db.write(op!(c => {
            apply_up_to(c, now, 8).await?;
            c.batch(
                "INSERT INTO users (id, email, name, role, active, created_at, email_notifications)
                     VALUES (1, 'a@x', 'A', 'agent', 0, 1, 0), (2, 'b@x', 'B', 'agent', 1, 1, 1);
                 INSERT INTO customers (id, email, created_at, updated_at) VALUES (1, 'c@x', 1, 1);
                 INSERT INTO tickets (id, number, subject, status, priority, channel, customer_id,
                                      last_message_at, created_at, updated_at)
                     VALUES (1, 1, 's', 'new', 1, 'email', 1, 1, 1, 1);
                 INSERT INTO messages (id, ticket_id, author_kind, internal, channel, body, created_at)
                     VALUES (1, 1, 'agent', 1, 'email', 'x', 1), (2, 1, 'agent', 0, 'email', 'y', 1);
                 INSERT INTO presence (ticket_id, user_id, typing, seen_at) VALUES (1, 1, 1, 1);
                 INSERT INTO mailboxes (id, address, name, created_at, imap_tls, acknowledge)
                     VALUES (1, 'h@x', 'H', 1, 0, 1);",
            )
            .await
        }))
        .await
        .unwrap();
        let ran = db.write(op!(c => apply_up_to(c, now, 9).await)).await;
        assert_eq!(ran.unwrap(), 1, "only 0009 was left");
        let got = db
            .read(op!(c => {
                let mut out = Vec::new();
                for (sql, col) in [
                    ("SELECT active AS v FROM users ORDER BY id", "v"),
                    ("SELECT email_notifications AS v FROM users ORDER BY id", "v"),
                    ("SELECT internal AS v FROM messages ORDER BY id", "v"),
                    ("SELECT typing AS v FROM presence", "v"),
                    ("SELECT imap_tls AS v FROM mailboxes", "v"),
                    ("SELECT acknowledge AS v FROM mailboxes", "v"),
                    ("SELECT built_in AS v FROM categories ORDER BY slug LIMIT 1", "v"),
                ] {
                    for r in c.query(sql, &[]).await? {
                        out.push(r.bool(col)?);
                    }
                }
                let types = c
                    .query(
                        "SELECT p.type AS ty FROM pragma_table_info('users') p
                         WHERE p.name IN ('active', 'email_notifications')",
                        &[],
                    )
                    .await?;
                for t in types {
                    assert_eq!(t.text("ty")?, "BOOLEAN");
                }
                Ok(out)
            }))
            .await
            .unwrap();
        assert_eq!(
            got,
            [
                false, true, false, true, true, false, true, false, true, true
            ]
        );
    }

    /// 0012 keeps the Message-IDs Rapport sent under the old predictable scheme (those that
    /// name the ticket they thread to) as sent, and drops every other claim in its namespace.
    #[tokio::test]
    async fn mail_identity_moves_sent_ids_and_drops_squats() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&DbConfig::Sqlite(dir.path().join("t.db")))
            .await
            .unwrap();
        let now = Timestamp(1);
        db.write(op!(c => {
            apply_up_to(c, now, 11).await?;
            c.batch(
                "INSERT INTO customers (id, email, created_at, updated_at) VALUES (1, 'c@x', 1, 1);
                 INSERT INTO tickets (id, number, subject, status, priority, channel, customer_id,
                                      last_message_at, created_at, updated_at)
                     VALUES (1, 1, 's', 'new', 1, 'email', 1, 1, 1, 1),
                            (2, 2, 't', 'new', 1, 'email', 1, 1, 1, 1);
                 INSERT INTO mail_threads (message_id, ticket_id, created_at) VALUES
                     ('rapport.1.5@shop.example', 1, 1), ('rapport.ack.2@shop.example', 2, 1),
                     ('rapport.1.7@shop.example', 2, 1), ('c1@customer.example', 1, 1);",
            )
            .await
        }))
        .await
        .unwrap();
        assert_eq!(
            db.write(op!(c => apply_up_to(c, now, 12).await))
                .await
                .unwrap(),
            1
        );
        let ids = |sql: &'static str| {
            let db = db.clone();
            async move {
                db.read(op!(c => {
                    c.query(sql, &[]).await?.iter()
                        .map(|r| Ok(format!("{}>{}", r.text("message_id")?, r.int("ticket_id")?)))
                        .collect::<Result<Vec<String>>>()
                }))
                .await
                .unwrap()
            }
        };
        assert_eq!(
            ids("SELECT message_id, ticket_id FROM mail_sent ORDER BY message_id").await,
            ["rapport.1.5@shop.example>1", "rapport.ack.2@shop.example>2"]
        );
        assert_eq!(
            ids("SELECT message_id, ticket_id FROM mail_threads ORDER BY message_id").await,
            ["c1@customer.example>1"]
        );
    }
}
