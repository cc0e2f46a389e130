//! Prometheus metrics: the job queue and IMAP fetching health.

use axum::extract::State;
use rapport_domain::Permission;

use crate::auth::{Auth, require};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use rapport_store::op;

/// Prometheus text metrics (supervisors and admins, with a token): the job queue by
/// state, and per IMAP mailbox the seconds since its last fetch, whether it is stalled
/// and how many messages were set aside — so a silently stalled mailbox pages someone.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, body = String, content_type = "text/plain"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn metrics(
    State(st): State<AppState>,
    Auth(viewer): Auth,
) -> ApiResult<([(axum::http::header::HeaderName, &'static str); 1], String)> {
    use std::fmt::Write;
    require(&viewer, Permission::ViewJobs)?;
    let now = st.now();
    let (jobs, health) = st
        .db
        .read(op!(c => {
            let jobs = rapport_store::jobs::count_by_state(c).await?;
            Ok((jobs, rapport_store::imap::health(c, now).await?))
        }))
        .await?;
    let label = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP rapport_jobs Jobs in the durable queue by state."
    );
    let _ = writeln!(out, "# TYPE rapport_jobs gauge");
    for (state, n) in &jobs {
        let _ = writeln!(out, "rapport_jobs{{state=\"{}\"}} {n}", label(state));
    }
    let _ = writeln!(
        out,
        "# HELP rapport_mailbox_fetch_age_seconds Seconds since an IMAP mailbox last fetched."
    );
    let _ = writeln!(out, "# TYPE rapport_mailbox_fetch_age_seconds gauge");
    for h in &health {
        let _ = writeln!(
            out,
            "rapport_mailbox_fetch_age_seconds{{mailbox=\"{}\"}} {}",
            label(&h.address),
            h.silent_for_secs
        );
    }
    let _ = writeln!(
        out,
        "# HELP rapport_mailbox_stalled 1 when an IMAP mailbox has not fetched for longer than allowed."
    );
    let _ = writeln!(out, "# TYPE rapport_mailbox_stalled gauge");
    for h in &health {
        let _ = writeln!(
            out,
            "rapport_mailbox_stalled{{mailbox=\"{}\"}} {}",
            label(&h.address),
            u8::from(h.stalled)
        );
    }
    let _ = writeln!(
        out,
        "# HELP rapport_mailbox_set_aside Messages an IMAP mailbox set aside (too large or refused)."
    );
    let _ = writeln!(out, "# TYPE rapport_mailbox_set_aside gauge");
    for h in &health {
        let _ = writeln!(
            out,
            "rapport_mailbox_set_aside{{mailbox=\"{}\"}} {}",
            label(&h.address),
            h.set_aside
        );
    }
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        out,
    ))
}
