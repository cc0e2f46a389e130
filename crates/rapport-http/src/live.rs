//! Live updates. One task per process tails the event log (the same table on every node,
//! so this works across many nodes on PostgreSQL) and broadcasts each new event to the
//! browsers connected to `/live`, which re-fetch what changed.

use std::time::Duration;

use rapport_store::Db;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

/// One change, as a browser learns of it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveEvent {
    /// Event id (increasing).
    pub id: i64,
    /// The ticket that changed.
    pub ticket_id: Option<i64>,
    /// Its team, so each browser only hears of tickets its agent may see.
    #[serde(skip)]
    pub team_id: Option<i64>,
    /// What happened.
    pub kind: String,
}

/// The fan-out of new events to connected browsers.
#[derive(Debug)]
pub struct Live {
    tx: broadcast::Sender<LiveEvent>,
}

impl Default for Live {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { tx }
    }
}

impl Live {
    /// Subscribes a browser.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// Tails the event log until `stop`, broadcasting each new event.
    pub async fn tail(&self, db: Db, mut stop: watch::Receiver<bool>) {
        let mut last: i64 = db
            .read(|c| {
                Box::pin(async move {
                    c.one("SELECT COALESCE(MAX(id), 0) FROM events", &[])
                        .await?
                        .int(0)
                })
            })
            .await
            .unwrap_or(0);
        while !*stop.borrow() {
            let after = last;
            let batch = db
                .read(move |c| {
                    Box::pin(async move {
                        let rows = c
                            .query(
                                "SELECT e.id, e.ticket_id, t.team_id, e.kind FROM events e
                                 LEFT JOIN tickets t ON t.id = e.ticket_id
                                 WHERE e.id > $1 ORDER BY e.id LIMIT 500",
                                &[after.into()],
                            )
                            .await?;
                        rows.iter()
                            .map(|r| {
                                Ok(LiveEvent {
                                    id: r.int(0)?,
                                    ticket_id: r.opt_int(1)?,
                                    team_id: r.opt_int(2)?,
                                    kind: r.text(3)?,
                                })
                            })
                            .collect::<rapport_store::Result<Vec<_>>>()
                    })
                })
                .await;
            match batch {
                Ok(events) => {
                    for e in events {
                        last = e.id;
                        // No subscribers is fine.
                        let _ = self.tx.send(e);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "live updates could not read the event log"),
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
