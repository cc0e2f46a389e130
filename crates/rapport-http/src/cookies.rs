//! Reading and setting cookies, for the API's own cookies (the anonymous visitor's) and
//! for recognising the pages' sessions (an agent's, a portal customer's) on the public
//! endpoints they share. Same names and attributes as rapport-web's `sessions`: over TLS a
//! `__Host-` name, `Secure`, `Path=/`, no `Domain`.

use axum::http::{HeaderMap, HeaderValue, header};

/// A cookie's name as sent: with the `__Host-` prefix over TLS.
pub fn name(name: &str, https: bool) -> String {
    if https {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// Reads one cookie by its plain name.
pub fn read<'a>(headers: &'a HeaderMap, plain: &str, https: bool) -> Option<&'a str> {
    let name = name(plain, https);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, `SameSite=Lax`, `Path=/`; over TLS `Secure`.
pub fn set(plain: &str, value: &str, max_age: i64, https: bool) -> Option<HeaderValue> {
    let secure = if https { "; Secure" } else { "" };
    let name = name(plain, https);
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok()
}
