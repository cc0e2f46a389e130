//! Secrets at rest. Passwords are hashed with Argon2id (slow on purpose — do it outside
//! any transaction). API tokens are long random strings stored as a SHA-256 hash: they
//! carry 256 bits of randomness, so a fast hash is safe and costs each API request
//! microseconds instead of the tens of milliseconds a password hash would.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix of every API token, so a leaked one is recognisable in a scan.
pub const TOKEN_PREFIX: &str = "rpt_";

/// A random hex string of `bytes` bytes, for tokens and keys.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches a stored Argon2 hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A real Argon2id hash of a random password nobody knows, made once with the parameters
/// every stored hash has, so checking a password against it costs what checking a real one
/// does.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash_password(&random_hex(16)).unwrap_or_default());
    &DUMMY
}

/// Checks a sign-in password against an account's stored hash. With no hash — the
/// account does not exist, is inactive or has no password — the password is still
/// checked, against a dummy hash, and refused: a wrong address costs as long as a wrong
/// password, so timing does not reveal which addresses are agents.
pub fn verify_sign_in(password: &str, stored: Option<&str>) -> bool {
    verify_sign_in_with(password, stored, verify_password)
}

/// [`verify_sign_in`] with the verifier as a parameter: the seam its tests use to see
/// that the verifier runs whether or not the account exists.
pub fn verify_sign_in_with(
    password: &str,
    stored: Option<&str>,
    verify: impl FnOnce(&str, &str) -> bool,
) -> bool {
    match stored {
        Some(hash) => verify(password, hash),
        None => {
            let _ = verify(password, dummy_hash());
            false
        }
    }
}

/// A fresh API token: the prefix and 32 random bytes in hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// A fresh webhook signing secret: 32 random bytes.
pub fn new_webhook_secret() -> rapport_domain::webhook::WebhookSecret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    rapport_domain::webhook::WebhookSecret::from_random(bytes)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn sign_in_runs_the_verifier_whether_or_not_the_account_exists() {
        let real = hash_password("correct horse").unwrap();
        let mut seen = Vec::new();
        let mut check = |stored: Option<&str>, password: &str| {
            verify_sign_in_with(password, stored, |p, h| {
                seen.push(h.to_owned());
                verify_password(p, h)
            })
        };
        assert!(check(Some(&real), "correct horse"));
        assert!(!check(Some(&real), "wrong horse"));
        assert!(!check(None, "correct horse"), "no account: always refused");
        assert_eq!(
            seen.len(),
            3,
            "the verifier ran for the missing account too"
        );
        assert!(
            seen[2].starts_with("$argon2id$") && seen[2] != real,
            "a missing account is checked against a real Argon2id hash of the same cost"
        );
        let params = |h: &str| h.split('$').nth(3).unwrap().to_owned();
        assert_eq!(
            params(&seen[2]),
            params(&real),
            "same parameters, same cost"
        );
        assert!(!verify_sign_in("", None));
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(token_hash(&a).len(), 64);
    }
}

/// Seals secrets Rapport must be able to read back (an IMAP password) with
/// ChaCha20-Poly1305 under a key kept outside the database (`RAPPORT_SECRET_KEY`, or a
/// key file in the data directory): a copy of the database alone does not reveal them.
#[derive(Clone)]
pub struct Sealer {
    key: chacha20poly1305::Key,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// The prefix of a sealed value, naming the scheme so it can change later.
const SEALED_PREFIX: &str = "v1:";

impl Sealer {
    /// A sealer from 32 key bytes.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key: key.into() }
    }

    /// A sealer with a random key that lives only as long as the process.
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self::new(key)
    }

    /// A fresh random 32-byte key, hex-encoded, for a new installation.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        hex::encode(key)
    }

    /// A sealer from a 64-hex-digit key.
    pub fn from_hex(hex_key: &str) -> Result<Self, String> {
        let bytes = hex::decode(hex_key.trim()).map_err(|_| "the key must be hex".to_owned())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the key must be 32 bytes (64 hex digits)".to_owned())?;
        Ok(Self::new(key))
    }

    /// A key for one purpose, derived from the secret key and `label` (HMAC-SHA-256 of
    /// the label under the key): never stored, the same on every node that shares the
    /// secret key, and different for every label — one purpose's key does not reveal
    /// another's, nor the secret key.
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(self.key.as_slice()) else {
            // HMAC takes keys of any length.
            return [0; 32];
        };
        mac.update(b"rapport derived key:");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Encrypts `plain`; every call uses a fresh nonce.
    pub fn seal(&self, plain: &str) -> String {
        use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&self.key);
        let nonce = chacha20poly1305::ChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce cannot fail; an empty output is never
        // accepted by `open`.
        let sealed = cipher.encrypt(&nonce, plain.as_bytes()).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{SEALED_PREFIX}{}", hex::encode(out))
    }

    /// Decrypts what [`Sealer::seal`] produced with the same key.
    pub fn open(&self, sealed: &str) -> Result<String, String> {
        use chacha20poly1305::aead::{Aead, KeyInit};
        let bad = || "the secret cannot be read with this key (was RAPPORT_SECRET_KEY changed?)";
        let bytes = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|h| hex::decode(h).ok())
            .filter(|b| b.len() > 12 + 16)
            .ok_or_else(bad)?;
        let (nonce, data) = bytes.split_at(12);
        let cipher = chacha20poly1305::ChaCha20Poly1305::new(&self.key);
        let plain = cipher
            .decrypt(chacha20poly1305::Nonce::from_slice(nonce), data)
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad().to_owned())
    }
}

#[cfg(test)]
mod sealer_tests {
    use super::*;

    #[test]
    fn derived_keys_depend_on_the_key_and_the_label() {
        let a = Sealer::from_hex(&Sealer::generate_key()).unwrap();
        let b = Sealer::from_hex(&Sealer::generate_key()).unwrap();
        assert_eq!(a.derive_key("portal"), a.clone().derive_key("portal"));
        assert_ne!(a.derive_key("portal"), a.derive_key("other"));
        assert_ne!(a.derive_key("portal"), b.derive_key("portal"));
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let a = Sealer::from_hex(&Sealer::generate_key()).unwrap();
        let b = Sealer::from_hex(&Sealer::generate_key()).unwrap();
        let sealed = a.seal("hunter2");
        assert!(!sealed.contains("hunter2"));
        assert_ne!(sealed, a.seal("hunter2"), "fresh nonce each time");
        assert_eq!(a.open(&sealed).unwrap(), "hunter2");
        assert!(b.open(&sealed).is_err());
        assert!(a.open("v1:00").is_err());
        assert!(a.open("hunter2").is_err());
        assert!(Sealer::from_hex("abcd").is_err());
    }
}
