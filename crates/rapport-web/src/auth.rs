//! Signing in and out. Passwords are checked with Argon2 off the async threads; a new
//! session token is made at every sign-in (the old one is dropped), and failures are
//! limited per address and per account.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::EmailAddress;
use rapport_store::op;
use rapport_store::people;
use rapport_store::secrets;
use rapport_store::secrets::{token_hash, verify_password};
use rapport_store::sessions;
use serde::Deserialize;

use rapport_http::AppState;

use crate::page::{error_page, page, store_error};
use crate::sessions::{CsrfForm, Me, NoFields, SESSION_COOKIE, cookie, same_secret, set_cookie};

const LOGIN_CSRF: &str = "rapport_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

/// `?next=` of the sign-in page.
#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Where to go after signing in: `next` when it is a path on this site, else the inbox.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| is_local_path(n))
        .map_or_else(|| "/inbox".to_owned(), str::to_owned)
}

/// Whether `next` can only lead to a page of this site: an absolute path that starts with
/// exactly one `/`, with no backslash and no control character (browsers drop tabs and
/// newlines, and read `\` as `/`, so `/\t/evil.example` or `/\\evil.example` would leave)
/// — as given and after every round of percent-decoding.
fn is_local_path(next: &str) -> bool {
    const ROUNDS: usize = 4;
    if next.len() > 2048 {
        return false;
    }
    let safe = |p: &str| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.contains('\\')
            && !p.chars().any(|c| c.is_control() || c == '\u{FEFF}')
    };
    let mut current = next.to_owned();
    for _ in 0..ROUNDS {
        if !safe(&current) {
            return false;
        }
        let decoded = percent_encoding::percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == current {
            return true;
        }
        current = decoded;
    }
    // Still decoding after several rounds: nothing legitimate looks like that.
    false
}

fn login_page(
    state: &AppState,
    next: String,
    email: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let csrf = secrets::random_hex(16);
    let mut r = page(&LoginPage {
        csrf: csrf.clone(),
        next,
        email,
        error,
    });
    *r.status_mut() = status;
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF, &csrf, 3600, "Strict", state.https),
    );
    r
}

/// The sign-in form.
pub async fn login_form(State(st): State<AppState>, Query(q): Query<Next>) -> Response {
    login_page(
        &st,
        safe_next(q.next.as_deref()),
        String::new(),
        None,
        StatusCode::OK,
    )
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

/// Checks the password and starts a session.
pub async fn login(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let form_ok = cookie(&headers, LOGIN_CSRF, st.https).is_some_and(|c| same_secret(c, &f.csrf));
    if !form_ok {
        return login_page(
            &st,
            next,
            f.email,
            Some("This form expired. Please try again.".into()),
            StatusCode::FORBIDDEN,
        );
    }
    let account = f.email.trim().to_lowercase();
    if st.auth_failures.is_blocked(addr.ip()) || st.login_failures.is_blocked(account.clone()) {
        return login_page(
            &st,
            next,
            f.email,
            Some("Too many failed attempts. Wait a few minutes and try again.".into()),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let wrong = |st: &AppState, email: String| {
        st.auth_failures.fail(addr.ip());
        st.login_failures.fail(account.clone());
        login_page(
            st,
            next.clone(),
            email,
            Some("Wrong email or password.".into()),
            StatusCode::UNAUTHORIZED,
        )
    };
    let Ok(email) = EmailAddress::parse(&f.email) else {
        return wrong(&st, f.email);
    };
    let found = st
        .db
        .read(op!(c => people::user_for_sign_in(c, &email).await))
        .await;
    let (user, hash) = match found {
        Ok(Some((u, Some(h)))) if u.active => (u, h),
        Ok(_) => return wrong(&st, f.email),
        Err(e) => return store_error(e),
    };
    let password = f.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        return wrong(&st, f.email);
    }
    // A fresh session every time: a token planted before sign-in is worth nothing after.
    let token = secrets::random_hex(32);
    let hash = token_hash(&token);
    let old = cookie(&headers, SESSION_COOKIE, st.https).map(token_hash);
    let max_secs = st.sessions.max_secs;
    let csrf = secrets::random_hex(16);
    let now = st.now();
    let uid = user.id;
    let saved = st
        .db
        .write(op!(c => {
            if let Some(old) = old {
                sessions::delete(c, &old).await?;
            }
            sessions::create(c, uid, &hash, &csrf, now, max_secs).await
        }))
        .await;
    if let Err(e) = saved {
        return store_error(e);
    }
    let mut r = Redirect::to(&next).into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, max_secs, "Lax", st.https),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF, "", 0, "Strict", st.https),
    );
    r
}

/// Ends the session.
pub async fn logout(
    State(st): State<AppState>,
    _me: Me,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE, st.https) {
        let hash = token_hash(token);
        if let Err(e) = st
            .db
            .write(op!(c => sessions::delete(c, &hash).await))
            .await
        {
            return store_error(e);
        }
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, "Lax", st.https),
    );
    r
}

/// The "forgot password" hook: until Rapport sends email, an admin resets passwords.
pub async fn forgot() -> Response {
    error_page(
        StatusCode::OK,
        "Forgot your password?",
        "Ask an admin of your help desk to set a new one for you. Reset links by email arrive with the email channel.",
    )
}
