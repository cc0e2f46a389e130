//! The page side's request plumbing, end to end through the router: [`crate::CsrfForm`]
//! (session, form, token — in that order) and [`crate::page::require`].

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use rapport_domain::{EmailAddress, Role, SystemClock};
use rapport_http::AppState;
use rapport_store::op;
use rapport_store::people::{self, NewUser};
use rapport_store::secrets::token_hash;
use rapport_store::sessions;
use rapport_store::{Db, DbConfig, migrate};
use tower::ServiceExt;

const CSRF: &str = "0123456789abcdef";

struct Setup {
    app: axum::Router,
    _dir: tempfile::TempDir,
}

/// A server over a fresh SQLite file with one signed-in agent of `role`, whose session
/// cookie is `rapport_session=<role>-token` and whose CSRF token is [`CSRF`].
async fn setup(role: Role) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&DbConfig::Sqlite(dir.path().join("t.db")))
        .await
        .unwrap();
    let state = AppState::new(db.clone(), Arc::new(SystemClock), "http://x".into());
    let now = state.now();
    migrate::run(&db, now).await.unwrap();
    let hash = token_hash(&format!("{}-token", role.as_str()));
    db.write(op!(c => {
        let u = people::create_user(
            c,
            NewUser {
                email: EmailAddress::parse("agent@example.com")?,
                name: "Agent".into(),
                role,
                password_hash: None,
            },
            now,
        )
        .await?;
        sessions::create(c, u.id, &hash, CSRF, now, 3600).await
    }))
    .await
    .unwrap();
    let app = rapport_http::serve(rapport_http::api_router().merge(crate::routes()), state);
    Setup { app, _dir: dir }
}

async fn post(
    s: &Setup,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> (StatusCode, String, String) {
    let mut req =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let resp = s
        .app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn csrf_form_checks_session_then_form_then_token() {
    let s = setup(Role::Agent).await;
    let me = Some("rapport_session=agent-token");
    let good = format!("csrf={CSRF}&email_notifications=on");

    // No session: to the sign-in page, wherever the form was going.
    let (status, to, _) = post(&s, "/preferences", None, &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, "/login?next=%2Fpreferences");

    // A form without its token: the form is malformed (axum's 422).
    let (status, _, body) = post(&s, "/preferences", me, "email_notifications=on").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("csrf"), "{body}");

    // Another session's token: the form has expired.
    let (status, _, body) = post(&s, "/preferences", me, "csrf=fedcba9876543210").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Form expired"), "{body}");

    // The right token: saved.
    let (status, to, _) = post(&s, "/preferences", me, &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to, "/preferences?saved=1");

    // Repeated fields (the bulk form's `ids`) come through as pairs.
    let (status, to, _) = post(
        &s,
        "/inbox/bulk",
        me,
        &format!("csrf={CSRF}&action=status-open&back=%2Finbox%3Fview%3Dmine"),
    )
    .await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/inbox?view=mine")
    );
}

#[tokio::test]
async fn pages_refuse_roles_through_the_api_check() {
    let agent = setup(Role::Agent).await;
    let me = Some("rapport_session=agent-token");
    let (status, _, body) =
        post(&agent, "/admin/teams", me, &format!("csrf={CSRF}&name=Ops")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Not allowed"), "{body}");
    // The token is checked first, as before: a stale form is "expired", not "not allowed".
    let (status, _, body) = post(&agent, "/admin/teams", me, "csrf=stale&name=Ops").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Form expired"), "{body}");

    let supervisor = setup(Role::Supervisor).await;
    let me = Some("rapport_session=supervisor-token");
    let (status, to, _) = post(
        &supervisor,
        "/admin/teams",
        me,
        &format!("csrf={CSRF}&name=Ops"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/admin?done="), "{to}");
}

#[tokio::test]
async fn store_errors_answer_with_the_api_status_as_a_page() {
    let s = setup(Role::Agent).await;
    let me = Some("rapport_session=agent-token");
    let (status, _, body) =
        post(&s, "/tickets/999/note", me, &format!("csrf={CSRF}&body=hi")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("That ticket does not exist."), "{body}");
    let (status, _, body) = post(
        &s,
        "/tickets/999/time",
        me,
        &format!("csrf={CSRF}&minutes=x"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Please check your input"), "{body}");
}
