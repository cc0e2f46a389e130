//! Customers and their history.

use axum::Json;
use axum::extract::State;
use rapport_domain::Permission;
use rapport_store::customers::{self, CustomerWithTickets};

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// A customer with every ticket they opened, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, body = CustomerWithTickets), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_customer(
    State(st): State<AppState>,
    Auth(viewer): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CustomerWithTickets>> {
    require(&viewer, Permission::ReadCustomers)?;
    let c = st
        .db
        .read(move |c| Box::pin(async move { customers::get_with_tickets(c, &viewer, id).await }))
        .await?;
    Ok(Json(c))
}
