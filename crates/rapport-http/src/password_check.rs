//! Every check of an agent's password goes through here: the sign-in page, the
//! re-authentication prompt, the preferences page's password form and
//! `POST /api/v1/me/password`. They all count wrong passwords in the one
//! [`SignInThrottle`](crate::throttle::SignInThrottle) under the one key of the account
//! ([`account_key`], its lower-cased sign-in address), so one account has one counter per
//! client address whichever door is knocked on.

use std::net::IpAddr;
use std::time::Duration;

use rapport_domain::NewPassword;
use rapport_domain::password::worth_checking;
use rapport_store::{StoreError, op, secrets, sessions};

use crate::state::AppState;

/// The longest account key kept: an email address has at most 254 characters, so a longer
/// "address" cannot be an account, and a stranger's 40 MiB form field never becomes a key
/// held in memory.
pub const ACCOUNT_KEY_MAX: usize = 254;

/// The throttle key of an account: its sign-in address, trimmed, cut to
/// [`ACCOUNT_KEY_MAX`] characters and lower-cased.
pub fn account_key(email: &str) -> String {
    email
        .trim()
        .chars()
        .take(ACCOUNT_KEY_MAX)
        .collect::<String>()
        .to_lowercase()
}

/// What a password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password is right; the account's counter for this address starts afresh.
    Right,
    /// Wrong (or no such account): counted.
    Wrong,
    /// Too many wrong passwords of this account from this address: not checked; try
    /// again after this long.
    Wait(Duration),
}

/// Checks `typed` against `hash` (`None`: no usable account, checked against a dummy
/// hash so it takes as long), counted under `account` from `ip`. A password longer than
/// any accepted is wrong without being hashed.
pub async fn check(
    st: &AppState,
    account: &str,
    ip: IpAddr,
    typed: String,
    hash: Option<String>,
) -> Verdict {
    if let Some(wait) = st.sign_in.wait(account, ip) {
        return Verdict::Wait(wait);
    }
    let ok = worth_checking(&typed)
        && tokio::task::spawn_blocking(move || secrets::verify_sign_in(&typed, hash.as_deref()))
            .await
            .unwrap_or(false);
    if ok {
        st.sign_in.succeed(account, ip);
        Verdict::Right
    } else {
        st.sign_in.fail(account, ip);
        Verdict::Wrong
    }
}

/// Checks the password of signed-in agent `user_id` (an active agent; otherwise wrong),
/// counted under their [`account_key`] like their sign-ins.
pub async fn check_own(
    st: &AppState,
    user_id: i64,
    ip: IpAddr,
    typed: String,
) -> Result<Verdict, StoreError> {
    let found = st
        .db
        .read(op!(c => sessions::password_of(c, user_id).await))
        .await?;
    let (account, hash) = match found {
        Some((email, hash)) => (account_key(&email), hash),
        None => (format!("user:{user_id}"), None),
    };
    Ok(check(st, &account, ip, typed, hash).await)
}

/// Parses a new password by the one rule ([`NewPassword`]; a refusal names `field`) and
/// hashes it off the async threads. The API, the admin pages and the preferences page
/// set passwords through this.
pub async fn hash_new_password(field: &str, password: String) -> Result<String, StoreError> {
    hash(NewPassword::parse(field, password)?).await
}

/// Hashes a password that met the rule, off the async threads.
pub async fn hash(password: NewPassword) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || secrets::hash_password(password.expose()))
        .await
        .map_err(|_| StoreError::Db("hashing failed".into()))?
        .map_err(|e| StoreError::Db(format!("hashing failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_key_is_never_longer_than_an_address() {
        assert_eq!(account_key("  Ana@Example.COM "), "ana@example.com");
        let huge = "a".repeat(8_000_000);
        assert_eq!(account_key(&huge).chars().count(), ACCOUNT_KEY_MAX);
    }
}
