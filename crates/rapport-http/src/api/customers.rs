//! Customers and their history.

use axum::Json;
use axum::extract::State;
use rapport_domain::{Permission, Timestamp};
use rapport_store::customers;
use rapport_store::op;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::tickets::TicketView;
use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// A customer with the fields an agent needs at a glance.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Customer)]
pub struct CustomerView {
    /// Database id.
    pub id: i64,
    /// Their address (unique).
    pub email: String,
    /// Their name as they gave it (may be empty).
    pub name: String,
    /// Phone number, if known.
    pub phone: Option<String>,
    /// Their organisation, if any.
    pub organization_id: Option<i64>,
    /// Custom attributes.
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    /// Their birthday: `YYYY-MM-DD`, or `--MM-DD` without the year.
    pub birthday: Option<String>,
    /// Their tier (`vip`), if any.
    pub tier: Option<String>,
    /// Other addresses that find them (kept when a duplicate was merged into them).
    pub other_emails: Vec<String>,
    /// When their personal data was erased, if it was.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub erased_at: Option<Timestamp>,
    /// First seen.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<customers::Customer> for CustomerView {
    fn from(c: customers::Customer) -> Self {
        Self {
            id: c.id,
            email: c.email,
            name: c.name,
            phone: c.phone,
            organization_id: c.organization_id,
            attributes: c.attributes,
            birthday: c.birthday,
            tier: c.tier,
            other_emails: c.other_emails,
            erased_at: c.erased_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A customer with every ticket they ever opened, newest first: the agent never has to
/// ask them to explain again.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CustomerWithTickets)]
pub struct CustomerWithTicketsView {
    /// The customer.
    #[serde(flatten)]
    pub customer: CustomerView,
    /// Their tickets, newest first.
    pub tickets: Vec<TicketView>,
}

impl CustomerWithTicketsView {
    fn new(c: customers::CustomerWithTickets, now: Timestamp) -> Self {
        Self {
            customer: c.customer.into(),
            tickets: c
                .tickets
                .into_iter()
                .map(|t| TicketView::new(t, now))
                .collect(),
        }
    }
}

/// A customer with every ticket they opened, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CustomerWithTicketsView), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_customer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CustomerWithTicketsView>> {
    require(&viewer, Permission::ReadCustomers)?;
    let c = st
        .db
        .read(op!(c => customers::get_with_tickets(c, &viewer, id).await))
        .await?;
    Ok(Json(CustomerWithTicketsView::new(c, st.now())))
}
