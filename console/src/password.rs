//! Passwords: argon2id hashes in the PHC string format (the `argon2` crate's defaults, the
//! parameters OWASP recommends), and the rules a new password must meet.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted (argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// A password that cannot be used, and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("a password needs {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    Length,
    #[error("a password may not contain control characters")]
    ControlCharacters,
    #[error("the password could not be hashed: {0}")]
    Hash(String),
}

/// The argon2id hash of `password`, after checking its rules.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(PasswordError::Length);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordError::ControlCharacters);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches `hash`; a hash that does not parse matches nothing.
pub fn verify(password: &str, hash: &str) -> bool {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the time a verification takes, for a sign-in name nobody has: an unknown name and a
/// wrong password then look alike from outside.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(dummy) = DUMMY.get_or_init(|| hash("no user has this password").ok()) {
        let _ = verify(password, dummy);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_hash_is_argon2id_and_verifies_only_its_password() {
        let h = hash("正确的马电池订书钉子们").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("正确的马电池订书钉子们", &h));
        assert!(!verify("正确的马电池订书钉子", &h));
        assert_ne!(hash("正确的马电池订书钉子们").unwrap(), h, "salted");
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn short_or_control_passwords_are_refused() {
        assert_eq!(hash("short"), Err(PasswordError::Length));
        assert_eq!(
            hash("long enough\u{7}pass"),
            Err(PasswordError::ControlCharacters)
        );
        assert_eq!(hash(&"x".repeat(257)), Err(PasswordError::Length));
    }
}
