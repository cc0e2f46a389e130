//! Events as the API returns them: a ticket's history (served under
//! `/api/v1/tickets/{id}/events`).

use rapport_domain::Timestamp;
use rapport_store::events;
use serde::Serialize;
use utoipa::ToSchema;

/// One entry of a ticket's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventView {
    /// Database id; increases with time.
    pub id: i64,
    /// The ticket it is about.
    pub ticket_id: Option<i64>,
    /// The agent who did it, if an agent did.
    pub actor_user_id: Option<i64>,
    /// The customer who did it, if a customer did.
    pub actor_customer_id: Option<i64>,
    /// What happened (`ticket_created`, `fields_changed`, …).
    pub kind: String,
    /// The details: for `fields_changed`, each field with `from` and `to`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<events::Event> for EventView {
    fn from(e: events::Event) -> Self {
        Self {
            id: e.id,
            ticket_id: e.ticket_id,
            actor_user_id: e.actor_user_id,
            actor_customer_id: e.actor_customer_id,
            kind: e.kind.as_str().to_owned(),
            data: e.data,
            created_at: e.created_at,
        }
    }
}
