//! Signing in and out. Passwords are checked with Argon2 off the async threads; a new
//! session token is made at every sign-in (the old one is dropped), and failures slow
//! down one account from one client address, never the account everywhere.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_domain::EmailAddress;
use rapport_store::op;
use rapport_store::people;
use rapport_store::secrets;
use rapport_store::secrets::token_hash;
use rapport_store::sessions;
use serde::Deserialize;

use rapport_http::AppState;
use rapport_http::client::ClientIp;
use rapport_http::password_check::{ACCOUNT_KEY_MAX, Verdict, account_key, check};

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
    next.filter(|n| crate::next::is_local_path(n))
        .map_or_else(|| "/inbox".to_owned(), str::to_owned)
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

/// Checks the password and starts a session. Failures slow down the (account, client
/// address) pair that made them (`rapport_http::password_check`, the one counter of the
/// account that every password check shares); an unknown, inactive or password-less
/// account is checked against a dummy hash, so it takes as long as a wrong password.
pub async fn login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(mut f): Form<LoginForm>,
) -> Response {
    // No address is longer; the page echoes what was typed, so never a huge field.
    if f.email.chars().count() > ACCOUNT_KEY_MAX {
        f.email = f.email.chars().take(ACCOUNT_KEY_MAX).collect();
    }
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
    let account = account_key(&f.email);
    let found = match EmailAddress::parse(&f.email) {
        Ok(email) => {
            st.db
                .read(op!(c => people::user_for_sign_in(c, &email).await))
                .await
        }
        Err(_) => Ok(None),
    };
    let (user, hash) = match found {
        Ok(Some((u, hash))) if u.active => (Some(u), hash),
        Ok(_) => (None, None),
        Err(e) => return store_error(e),
    };
    // Always one Argon2 verification, against a dummy hash when there is no account.
    let user = match (check(&st, &account, ip, f.password, hash).await, user) {
        (Verdict::Right, Some(u)) => u,
        (Verdict::Wait(wait), _) => {
            let secs = wait.as_secs().max(1);
            let mut r = login_page(
                &st,
                next,
                f.email,
                Some(format!(
                    "Too many failed attempts from here. Try again in {secs} seconds."
                )),
                StatusCode::TOO_MANY_REQUESTS,
            );
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        _ => {
            return login_page(
                &st,
                next,
                f.email,
                Some("Wrong email or password.".into()),
                StatusCode::UNAUTHORIZED,
            );
        }
    };
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
